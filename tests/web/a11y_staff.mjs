// Why this file exists: the axe-core audit (WCAG 2.1 A and AA, tests/web/axe.mjs) of the organizer and jury
// pages with data in them — a scored submission, its scorer log open, the review table with its error
// bars, and the reason dialog showing its "required" error — in the light and dark themes and on a phone.
import fs from 'node:fs';
import path from 'node:path';
import { run, assert, apiClient, loginTo, waitScored } from './lib.mjs';
import { VIEWS, viewPage, auditor } from './axe.mjs';

await run('a11y_staff', async ({ url, browser, source, out, watch, staff }) => {
  const api = apiClient(url);
  const ann = await api.participant('ann_a11y_staff');
  const sample = fs.readFileSync(path.join(source, 'challenges/visiomel-demo/data/sample_submission.csv'));
  const sub = await api.submit(ann.token, sample, 'first');
  assert(sub.status === 201, `upload → ${sub.status}`);
  await waitScored(api, sub.data.id, ann.token);
  const olga = staff('olga_a11y', 'organizer');
  const judy = staff('judy_a11y', 'jury');

  const violations = [];
  const audit = auditor(out, violations);
  for (const view of VIEWS) {
    const { context, page } = await viewPage(browser, url, view, watch);
    await loginTo(page, olga, 'organizer.html?slug=visiomel-demo');
    await page.locator('#submissions-body tbody tr').first().waitFor();
    await page.locator('#submissions-body button[data-log]').first().click();
    await page.locator('#log-body pre.log').waitFor();
    await audit(page, `${view.tag}-organizer`);

    await context.clearCookies();
    await loginTo(page, judy, 'jury.html?slug=visiomel-demo');
    await page.locator('#review-body svg.ci-bar').first().waitFor();
    await audit(page, `${view.tag}-jury`);
    await page.getByRole('button', { name: 'Add a note…' }).click();
    await page.locator('dialog.reason-dialog').getByRole('button', { name: 'Add the note' }).click();
    await page.locator('dialog.reason-dialog [role=alert]').waitFor();
    await audit(page, `${view.tag}-jury-dialog`);
    await context.close();
  }
  assert(violations.length === 0, `${violations.length} accessibility violation(s):\n  ${violations.join('\n  ')}`);
});
