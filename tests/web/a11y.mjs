// Why this file exists: an automated accessibility audit (axe-core, WCAG 2.1 A and AA: labels, names,
// contrast, landmarks, ARIA use) of every page in the states a participant sees them, in the light and the
// dark theme and on a phone (tests/web/axe.mjs; web_a11y_staff does the organizer and jury pages).
import fs from 'node:fs';
import path from 'node:path';
import { run, assert, apiClient, eventually, loginThroughPage } from './lib.mjs';
import { VIEWS, viewPage, auditor } from './axe.mjs';

await run('a11y', async ({ url, browser, source, out, watch }) => {
  const api = apiClient(url);
  const ann = await api.participant('ann_a11y');
  const auth = { token: ann.token };
  const sample = fs.readFileSync(path.join(source, 'challenges/visiomel-demo/data/sample_submission.csv'));
  const sub = await api.submit(ann.token, sample, 'first');
  assert(sub.status === 201, `upload → ${sub.status}`);
  await eventually(async () => (await api.call('GET', `/submissions/${sub.data.id}`, auth)).data.status === 'scored', 60000, 'scoring');

  const violations = [];
  const audit = auditor(out, violations);
  for (const view of VIEWS) {
    const tag = view.tag;
    const { context, page } = await viewPage(browser, url, view, watch);

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
  assert(violations.length === 0, `${violations.length} accessibility violation(s):\n  ${violations.join('\n  ')}`);
});
