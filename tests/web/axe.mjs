// Why this file exists: the accessibility audit shared by web_a11y (participant pages) and web_a11y_staff
// (organizer and jury pages): axe-core (WCAG 2.1 A and AA) injected into the page, a screenshot per audit,
// and the three ways every page is looked at (light, dark, a phone). axe is injected, so the contexts made
// here bypass the CSP; the CSP itself is covered by web_xss and by every other test.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { say } from './lib.mjs';

const require = createRequire(import.meta.url);
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// The light theme on a desktop and on a phone, and the dark theme on a desktop.
export const VIEWS = [
  { tag: 'light', colorScheme: 'light', viewport: { width: 1280, height: 900 } },
  { tag: 'light-phone', colorScheme: 'light', viewport: { width: 390, height: 844 } },
  { tag: 'dark', colorScheme: 'dark', viewport: { width: 1280, height: 900 } },
];

// A fresh context and page for one view, watched for page errors.
export async function viewPage(browser, url, view, watch) {
  const context = await browser.newContext({ baseURL: url, bypassCSP: true, colorScheme: view.colorScheme, viewport: view.viewport });
  context.setDefaultTimeout(60000); // an upper bound for waits on a loaded machine, not a timing assertion
  const page = await context.newPage();
  watch(page);
  return { context, page };
}

// Returns audit(page, label): runs axe, saves a screenshot under `out`, and adds every violation to
// `violations` as a readable line.
export function auditor(out, violations) {
  return async (page, label) => {
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
}
