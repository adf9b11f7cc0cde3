// Why this file exists: the upload form's unhappy paths in a real browser — an empty file stopped before
// sending, an invalid CSV that fails scoring with a participant-safe message (and costs no quota), a quota
// used up elsewhere (429 quota_exceeded shown clearly), the form replaced by a notice when no submission
// is left today, and a description that survives the query string intact.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, assert, apiClient, eventually, say, loginThroughPage } from './lib.mjs';


await run('uploads', async ({ url, page, shot, source, out }) => {
  const api = apiClient(url);
  const zoe = await api.participant('zoe_uploads');
  await api.acceptTerms(zoe.token);
  const sample = fs.readFileSync(path.join(source, 'challenges/visiomel-demo/data/sample_submission.csv'));
  const files = fs.mkdtempSync(path.join(os.tmpdir(), 'concours-web-uploads-'));
  const empty = path.join(files, 'empty.csv');
  const bad = path.join(files, 'bad.csv');
  const good = path.join(files, 'good.csv');
  fs.writeFileSync(empty, '');
  fs.writeFileSync(bad, 'wrong,header\nslide_1.tif,0.5\n');
  fs.writeFileSync(good, sample);

  try {
    await loginThroughPage(page, zoe, '#submit');
    const quota = page.locator('#quota');
    await quota.locator('text=5 left today').waitFor();
    const status = page.locator('#upload-status');

    // An empty file never leaves the browser.
    await page.locator('#file').setInputFiles(empty);
    await page.getByRole('button', { name: 'Upload and score' }).click();
    await status.locator('[role=alert]', { hasText: 'empty' }).waitFor();
    assert((await page.locator('#mine tbody tr').count()) === 0, 'nothing was submitted');

    // An invalid CSV: accepted, then failed with the scorer's message; the quota is unchanged.
    const description = 'bad & "quoted" / ünïcödé ?x=1#frag';
    await page.locator('#file').setInputFiles(bad);
    await page.getByLabel(/Description/).fill(description);
    await page.getByRole('button', { name: 'Upload and score' }).click();
    await status.locator('.alert-ok').waitFor();
    const row = page.locator('#mine tbody tr').first();
    await eventually(async () => (await row.getAttribute('data-status')) === 'failed', 60000, 'the bad file to fail');
    const detail = (await row.locator('td.detail').textContent()).trim();
    assert(detail.length > 5 && !/stderr|Traceback|\/tmp\//.test(detail), `a participant-safe error is shown: ${detail}`);
    assert((await row.locator('td.desc').textContent()) === description, 'the description survives the query string');
    await quota.locator('text=5 left today').waitFor();
    say('failed with:', detail);
    await shot('failed-submission');

    // Use four of the five daily submissions from a script; the page, reloaded, shows 1 left.
    for (let k = 0; k < 4; k++) {
      const res = await api.submit(zoe.token, sample);
      assert(res.status === 201, `script upload ${k} → ${res.status}`);
    }
    await page.reload();
    await quota.locator('text=1 left today').waitFor();
    // The last one goes elsewhere while this page still offers the form: the refusal is shown clearly.
    const last = await api.submit(zoe.token, sample);
    assert(last.status === 201, `the fifth upload → ${last.status}`);
    await page.locator('#file').setInputFiles(good);
    await page.getByRole('button', { name: 'Upload and score' }).click();
    const refusal = status.locator('[role=alert]');
    await refusal.waitFor();
    const text = await refusal.textContent();
    assert(text.includes('quota_exceeded'), `the 429 is shown with its code: ${text}`);
    await shot('quota-exceeded');
    // After the refusal the page refreshes: no form, a notice instead.
    await page.locator('#submit-gate', { hasText: 'used today' }).waitFor();
    assert(await page.locator('#submit-form').isHidden(), 'the form is hidden when no submission is left today');
    await quota.locator('text=0 left today').waitFor();
    // Submissions sent from the script and seen already scored still refresh the leaderboard.
    await eventually(async () => (await page.locator('#leaderboard-body tr.mine td').nth(3).textContent()) === '5', 30000, 'the leaderboard to count 5 entries');
  } finally {
    fs.rmSync(files, { recursive: true, force: true });
  }
});
