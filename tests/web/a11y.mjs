// Why this file exists: an automated accessibility audit (axe-core, WCAG 2.1 A and AA: labels, names,
// contrast, landmarks, ARIA use) of every page in the states a participant sees them, in the light and the
// dark theme and on a phone. axe is injected into the page, so these contexts bypass the CSP; the CSP
// itself is covered by web_xss and by every other test.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { run, assert, apiClient, eventually, say, loginThroughPage } from './lib.mjs';

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

await run('a11y', async ({ url, browser, source, out, watch }) => {
  const api = apiClient(url);
  const ann = await api.participant('ann_a11y');
  const auth = { token: ann.token };
  const sample = fs.readFileSync(path.join(source, 'challenges/visiomel-demo/data/sample_submission.csv'));
  const sub = await api.submit(ann.token, sample, 'first');
  assert(sub.status === 201, `upload → ${sub.status}`);
  await eventually(async () => (await api.call('GET', `/submissions/${sub.data.id}`, auth)).data.status === 'scored', 60000, 'scoring');

  const violations = [];
  const audit = async (page, label) => {
    await page.addScriptTag({ content: AXE });
    const result = await page.evaluate(async () =>
      // eslint-disable-next-line no-undef
      (await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] })).violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')}: ${n.failureSummary.split('\n').slice(1, 2).join(' ').trim()}`),
      })),
    );
    await page.screenshot({ path: path.join(out, `${label}.png`), fullPage: true });
    say(`${label}: ${result.length} violation(s)`);
    for (const v of result) violations.push(`${label}: [${v.impact}] ${v.id} — ${v.help}\n      ${v.nodes.join('\n      ')}`);
  };

  for (const scheme of ['light', 'dark']) {
    for (const phone of [false, true]) {
      if (phone && scheme === 'dark') continue;
      const tag = `${scheme}${phone ? '-phone' : ''}`;
      const context = await browser.newContext({
        baseURL: url,
        bypassCSP: true,
        colorScheme: scheme,
        viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 900 },
      });
      context.setDefaultTimeout(15000);
      const page = await context.newPage();
      watch(page);

      await page.goto('/');
      await page.locator('#open .card').first().waitFor();
      await audit(page, `${tag}-home-anonymous`);
      await page.goto('/challenge.html?slug=visiomel-demo');
      await page.locator('#leaderboard-body table').waitFor();
      await audit(page, `${tag}-challenge-anonymous`);
      await page.goto('/register.html');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.locator('#form-status [role=alert]').waitFor();
      await audit(page, `${tag}-register-error`);

      await loginThroughPage(page, ann);
      await page.locator('#mine tbody tr[data-status=scored]').waitFor();
      await page.locator('#leaderboard-body tr.mine').waitFor();
      await page.locator('#data-body table').waitFor();
      await audit(page, `${tag}-challenge-participant`);

      await page.goto('/tokens.html?slug=visiomel-demo');
      await page.getByLabel('Token name').fill('a11y');
      await page.getByRole('button', { name: 'Create token' }).click();
      await page.locator('#token-result').waitFor();
      await audit(page, `${tag}-tokens`);
      await context.close();
    }
  }
  assert(violations.length === 0, `${violations.length} accessibility violation(s):\n  ${violations.join('\n  ')}`);
});
