// Why this file exists: the participant's whole journey in a real browser — register, log in, accept the
// terms, see and download the data files, upload data/sample_submission.csv through the form (raw body,
// progress bar), watch it go queued → scored without reloading, and find it on the leaderboard. Then the
// leaderboard tools (search, sort, my row), the API token page, a phone-sized screenshot and logout.
import fs from 'node:fs';
import path from 'node:path';
import { run, assert, eventually, say, assertShown } from './lib.mjs';

const USER = 'ada_lovelace';
const PASSWORD = 'analytical-engine-1843';

await run('journey', async ({ page, context, shot, source }) => {
  // Home page: the example challenge is open.
  await page.goto('/');
  const card = page.locator('#open .card a', { hasText: 'Predict melanoma relapse' });
  await card.waitFor();
  await shot('home-anonymous');
  await assertShown(page.locator('#account a', { hasText: 'Log in' }), 'logged-out header shows "Log in"');

  // Register (which logs in and comes back to the home page).
  await page.locator('#account a', { hasText: 'Register' }).click();
  await page.waitForURL(/register\.html/);
  await page.getByLabel('Username').fill(USER);
  await page.getByLabel('Email').fill('ada@example.org');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByLabel('Password again').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.locator('#form-status .alert-error', { hasText: 'at least 10' }).waitFor();
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Password again').fill(PASSWORD);
  await shot('register');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/index\.html$/);
  await page.locator('#account .who', { hasText: USER }).waitFor();

  // Log out and log in again through the login page, with one wrong password first.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#account a', { hasText: 'Log in' }).waitFor();
  await page.locator('#account a', { hasText: 'Log in' }).click();
  await page.getByLabel('Username').fill(USER);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  const loginError = page.locator('#form-status [role=alert]');
  await loginError.waitFor();
  assert(/invalid_credentials/.test(await loginError.textContent()), 'a failed login shows the error code');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/index\.html$/);
  await page.locator('#account .who', { hasText: USER }).waitFor();

  // The challenge page: overview rendered from Markdown, terms not yet accepted, no files.
  await page.locator('#open .card a', { hasText: 'Predict melanoma relapse' }).click();
  await page.waitForURL(/challenge\.html\?slug=visiomel-demo/);
  await page.locator('#overview-body h4', { hasText: 'The question' }).waitFor();
  assert((await page.locator('#overview-body :is(h2, h3, h4)', { hasText: 'Predict melanoma relapse' }).count()) === 0, 'the overview does not repeat the title');
  assert((await page.locator('#overview-body table').count()) >= 2, 'the overview tables are rendered as tables');
  assert((await page.locator('#overview-body pre').count()) >= 2, 'the overview code blocks are rendered');
  await page.locator('#data-body', { hasText: 'Accept the terms' }).waitFor();
  assert(await page.locator('#submit-form').isHidden(), 'no submission form before accepting the terms');
  await shot('challenge-before-terms');

  await page.locator('#accept-terms').click();
  await page.locator('#terms-action .alert-ok').waitFor();

  // Data files with size, SHA-256 and a working download.
  const fileRow = page.locator('#data-body tr', { hasText: 'sample_submission.csv' });
  await fileRow.waitFor();
  const sample = path.join(source, 'challenges', 'visiomel-demo', 'data', 'sample_submission.csv');
  const sampleBytes = fs.readFileSync(sample);
  const { createHash } = await import('node:crypto');
  const sha = createHash('sha256').update(sampleBytes).digest('hex');
  assert((await fileRow.locator('code.hash').textContent()) === sha, 'the listed SHA-256 matches the file');
  assert((await page.locator('#data-body tbody tr').count()) === 3, 'three data files are listed');
  const [download] = await Promise.all([page.waitForEvent('download'), fileRow.getByRole('link', { name: /Download/ }).click()]);
  const downloaded = fs.readFileSync(await download.path());
  assert(downloaded.equals(sampleBytes), 'the downloaded file has the same bytes');
  say('download ok:', download.suggestedFilename());

  // Quota before the upload.
  const quota = page.locator('#quota');
  await quota.locator('text=5 left today').waitFor();

  // Upload through the form; the progress bar reaches 100 %.
  await page.locator('#file').setInputFiles(sample);
  await page.getByLabel(/Description/).fill('base rate, from the sample');
  await page.getByRole('button', { name: 'Upload and score' }).click();
  await page.locator('#upload-status .alert-ok').waitFor();
  assert((await page.locator('#progress-bar').evaluate((e) => e.value)) === 100, 'the progress bar reached 100');
  const row = page.locator('#mine tbody tr').first();
  await row.waitFor();
  say('submission status right after upload:', await row.getAttribute('data-status'));
  await shot('uploaded');

  // Live status without reloading: the row becomes "scored" with a score.
  await eventually(async () => (await row.getAttribute('data-status')) === 'scored' || (await row.getAttribute('data-status')) === 'failed', 120000, 'the submission to be scored');
  const status = await row.getAttribute('data-status');
  assert(status === 'scored', `the submission is scored (got ${status}: ${await row.textContent()})`);
  const score = (await row.locator('td.score').textContent()).trim();
  assert(/^\d+(\.\d+)?$/.test(score), `a numeric public score is shown (${score})`);
  say('scored:', score);
  assert((await row.locator('td.desc').textContent()) === 'base rate, from the sample', 'the description is shown');
  await quota.locator('text=4 left today').waitFor();

  // The leaderboard shows my row, highlighted, with the same score.
  const mine = page.locator('#leaderboard-body tr.mine');
  await mine.waitFor();
  assert((await mine.locator('td.score').textContent()).trim() === score, 'the leaderboard score equals my submission score');
  assert((await mine.textContent()).includes(USER), 'my name is on the leaderboard');
  await page.locator('#leaderboard-body svg.plot circle').first().waitFor();
  await page.locator('#leaderboard').scrollIntoViewIfNeeded();
  await shot('scored-and-ranked');

  // Search and sort.
  await page.getByLabel('Search').fill('nobody-has-this-name');
  assert((await page.locator('#leaderboard-body tbody tr').count()) === 0, 'search hides rows that do not match');
  await page.getByLabel('Search').fill(USER.slice(0, 4).toUpperCase());
  assert((await page.locator('#leaderboard-body tbody tr').count()) === 1, 'search is case-insensitive');
  await page.locator('#leaderboard-body th[data-key=score] button').click();
  assert((await page.locator('#leaderboard-body th[data-key=score]').getAttribute('aria-sort')) === 'ascending', 'sorting by score sets aria-sort');

  // Reload: the session and the CSRF token survive (sessionStorage), the state is the same.
  await page.reload();
  await page.locator('#mine tbody tr[data-status=scored]').waitFor();
  await page.locator('#terms-action .alert-ok').waitFor();

  // A phone-sized view of the same page.
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(page.url());
  await phone.locator('#mine tbody tr').first().waitFor();
  // A new tab has the cookie but not the tab's CSRF token, unless GET /me hands one out.
  const meHasCsrf = await phone.evaluate(async () => typeof (await (await fetch('/api/v1/me')).json()).csrf_token === 'string');
  assert((await phone.locator('.csrf-notice').count()) === (meHasCsrf ? 0 : 1), 'a new tab without a CSRF token is told to log in again');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 1, `no horizontal scrolling of the whole page on a phone (overflow ${overflow}px)`);
  await shot('phone-challenge', phone);
  await phone.close();

  // The API token page: a token shown once, and curl lines that carry it.
  await page.goto('/tokens.html?slug=visiomel-demo');
  await page.getByLabel('Token name').fill('laptop');
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.locator('#token-result').waitFor();
  const token = (await page.locator('#token-value').textContent()).trim();
  assert(token.length >= 16, 'a token is shown');
  const curl = await page.locator('#curl-lines').textContent();
  assert(curl.includes(token) && curl.includes('/api/v1/challenges/visiomel-demo/submissions'), 'the curl lines carry the token and the challenge');
  await shot('token');
  const me = await fetch(new URL('/api/v1/me', page.url()), { headers: { Authorization: `Bearer ${token}` } });
  assert(me.status === 200 && (await me.json()).username === USER, 'the new token authenticates as the user');
  // the token is listed (used just now), and revoking it stops it at once
  const tokenRow = page.locator('#token-list-body tbody tr', { hasText: 'laptop' });
  await tokenRow.waitFor();
  await page.reload();
  await eventually(async () => !(await tokenRow.textContent()).includes('never'), 30000, 'the token to show it was used');
  page.once('dialog', (d) => d.accept());
  await tokenRow.getByRole('button', { name: 'Revoke the token laptop' }).click();
  await page.locator('#token-list-status .alert-ok').waitFor();
  await eventually(async () => (await tokenRow.count()) === 0, 30000, 'the revoked token to leave the list'); // reloaded after the note
  const gone = await fetch(new URL('/api/v1/me', page.url()), { headers: { Authorization: `Bearer ${token}` } });
  assert(gone.status === 401, `a revoked token gets 401 (got ${gone.status})`);

  // Logout ends the session on the server.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#account a', { hasText: 'Log in' }).waitFor();
  const after = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
  assert(after === 401, `after logout /me is 401 (got ${after})`);
});
