// Why this file exists: method descriptions in the browser (issue 14, docs/factsheets.md). A participant sends a
// Markdown file with a link from the challenge page and sees it pending; the jury sees it in the review's Method
// column, refuses it with a reason; the participant reads the reason and sends a PDF instead; the jury accepts it
// and the publication box no longer names the team. Screenshots of each step.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, assert, apiClient, loginTo, waitScored, offScreen } from './lib.mjs';

const SLUG = 'visiomel-demo';

await run('factsheets', async ({ url, browser, shot, staff, source, watch }) => {
  const api = apiClient(url);
  const pia = await api.participant('pia_method');
  const sample = fs.readFileSync(path.join(source, 'challenges', SLUG, 'data', 'sample_submission.csv'), 'utf8');
  const sub = await api.submit(pia.token, sample, 'baseline');
  assert(sub.status === 201, `submit → ${sub.status}`);
  await waitScored(api, sub.data.id, pia.token);
  const judy = staff('judy_method', 'jury');
  const files = fs.mkdtempSync(path.join(os.tmpdir(), 'concours-method-'));
  const md = path.join(files, 'method.md');
  const pdf = path.join(files, 'method.pdf');
  fs.writeFileSync(md, '# Method\n\nA logistic regression on the metadata.\n');
  fs.writeFileSync(pdf, '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n');

  // the participant sends a Markdown file with a link
  const ctx = await browser.newContext({ baseURL: url, viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  watch(page);
  await loginTo(page, pia, `challenge.html?slug=${SLUG}#method`);
  await page.getByRole('heading', { name: 'Method description' }).waitFor();
  await page.getByText('Yours is not sent yet').waitFor();
  await page.locator('#fact-sheet-file').setInputFiles(md);
  await page.locator('#fact-sheet-link').fill('https://example.org/code');
  await page.getByRole('button', { name: 'Send the method description' }).click();
  await page.locator('#fact-sheet-current').getByText('pending').waitFor();
  assert(await page.locator('#fact-sheet-current a[href="https://example.org/code"]').count() === 1, 'the link is shown');
  await shot('participant-sent');

  // the jury refuses it with a reason
  const jctx = await browser.newContext({ baseURL: url, viewport: { width: 1280, height: 900 } });
  const jury = await jctx.newPage();
  watch(jury);
  await loginTo(jury, judy, `jury.html?slug=${SLUG}`);
  const row = jury.locator('table.review tbody tr', { hasText: 'pia_method' });
  await row.locator('td.fact-sheet').getByText('pending').waitFor();
  assert(await jury.locator('#fact-sheet-gate').getByText('pia_method').count() === 1, 'the publication box names the team');
  await row.getByRole('button', { name: /Refuse method/ }).click();
  const dialog = jury.locator('dialog.reason-dialog');
  await dialog.getByLabel('Reason').fill('say how you validated it');
  await dialog.getByRole('button', { name: 'Refuse' }).click();
  await row.locator('td.fact-sheet').getByText('refused').waitFor();
  await shot('jury-refused', jury);
  const clipped = await offScreen(jury, 1280); // the Method column fits beside the actions on a laptop
  assert(clipped.length === 0, `off the screen or clipped: ${JSON.stringify(clipped)}`);

  // the participant reads why and sends a PDF; the jury accepts it
  await page.reload();
  await page.locator('#fact-sheet-current').getByText('say how you validated it').waitFor();
  await page.locator('#fact-sheet-file').setInputFiles(pdf);
  await page.getByRole('button', { name: 'Send the method description' }).click();
  await page.locator('#fact-sheet-current').getByText('pending').waitFor();
  await jury.reload();
  await row.locator('td.fact-sheet').getByText('PDF').waitFor();
  await row.getByRole('button', { name: /Accept method/ }).click();
  await dialog.getByLabel('Reason').fill('clear');
  await dialog.getByRole('button', { name: 'Accept' }).click();
  await row.locator('td.fact-sheet').getByText('accepted').waitFor();
  await jury.locator('#fact-sheet-gate').getByText('Every ranked team has an accepted method description.').waitFor();
  await shot('jury-accepted', jury);
  await page.reload();
  await page.locator('#fact-sheet-current').getByText('accepted').waitFor();
  fs.rmSync(files, { recursive: true, force: true });
}, {
  editBundle(dir) {
    const spec = JSON.parse(fs.readFileSync(path.join(dir, 'challenge.json'), 'utf8'));
    for (const p of spec.phases) p.fact_sheet = 'required';
    fs.writeFileSync(path.join(dir, 'challenge.json'), JSON.stringify(spec, null, 2));
  },
});
