// Why this file exists: account care in a real browser (issue 16, docs/mail.md). A participant who forgot the
// password asks for a link from the login page, finds it in the mail (the server writes each mail as a file here),
// sets a new password on the page the link opens, and logs in with it; then turns the result mails off on the
// token page.
import fs from 'node:fs';
import path from 'node:path';
import { run, assert, apiClient, eventually, say } from './lib.mjs';

await run('account', async ({ url, page, shot, mailDir }) => {
  const api = apiClient(url);
  const user = await api.participant('forgetful');
  await page.goto('/login.html');
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByLabel('Username or e-mail').fill(user.username);
  await page.getByRole('button', { name: 'Send the link' }).click();
  await page.locator('#reset-status .alert-ok', { hasText: 'If an account has this username' }).waitFor();
  await shot('link-asked');
  const mails = () => (fs.existsSync(mailDir) ? fs.readdirSync(mailDir).filter((f) => f.endsWith('.eml')) : []);
  await eventually(async () => mails().length === 1, 30000, 'the reset mail');
  const text = fs.readFileSync(path.join(mailDir, mails()[0]), 'utf8');
  const token = /reset\.html#token=(\S+)/.exec(text);
  assert(token, `the mail holds the link: ${text}`);
  say('mail subject:', /Subject: (.*)/.exec(text)[1]);

  await page.goto(`/reset.html#token=${token[1]}`);
  await page.getByLabel('New password').fill('a-new-and-long-passphrase');
  await page.getByRole('button', { name: 'Set the password' }).click();
  await page.locator('#reset-status .alert-ok', { hasText: 'Your password is set' }).waitFor();
  assert(!page.url().includes('token='), 'the used token leaves the address bar');
  await shot('password-set');

  await page.goto('/login.html');
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill('a-new-and-long-passphrase');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#account', { hasText: user.username }).waitFor();

  // the account page: result mails (on by default) turned off, a new address, a new password, then deletion. The
  // settings' answer is held back a second: the boxes must not show (unchecked, without their handlers) before it
  // comes, as they did when the page showed its body first
  const slow = async (route) => {
    if (route.request().method() === 'GET') await new Promise((done) => setTimeout(done, 1000));
    await route.continue();
  };
  await page.route('**/api/v1/me/notifications', slow);
  await page.locator('#account a[href="account.html"]').click();
  const box = page.getByLabel('Mail me when one of my submissions is scored or fails');
  await box.waitFor();
  assert(await box.isChecked(), 'result mails are on by default, and shown so from the start');
  await page.unroute('**/api/v1/me/notifications', slow);
  await box.uncheck();
  await page.locator('#mail-settings-status .alert-ok').waitFor();
  const news = page.getByLabel(/Mail me the news of my challenges/);
  assert(await news.isChecked(), 'news mails are on by default');
  await news.uncheck();
  await page.locator('#mail-settings-status .alert-ok', { hasText: 'No more news' }).waitFor();
  const saved = await page.evaluate(async () => (await fetch('/api/v1/me/notifications')).json());
  assert(saved.submissions === false && saved.news === false, `the settings are saved (${JSON.stringify(saved)})`);
  await page.getByLabel('New e-mail address').fill('new-address@example.org');
  await page.getByLabel('Your password').first().fill('wrong password here');
  await page.getByRole('button', { name: 'Change the address' }).click();
  await page.locator('#email-status [role=alert]').waitFor(); // refused without the right password
  await page.getByLabel('Your password').first().fill('a-new-and-long-passphrase');
  await page.getByRole('button', { name: 'Change the address' }).click();
  await page.locator('#current-email', { hasText: 'new-address@example.org' }).waitFor();
  await page.getByLabel('Current password').fill('a-new-and-long-passphrase');
  await page.getByLabel('New password').fill('yet-another-passphrase');
  await page.getByRole('button', { name: 'Change the password' }).click();
  await page.locator('#password-status .alert-ok').waitFor();
  await shot('account');
  page.once('dialog', (d) => d.accept());
  await page.locator('#delete-password').fill('yet-another-passphrase');
  await page.getByRole('button', { name: 'Delete my account' }).click();
  await page.waitForURL(/index\.html/);
  const gone = await api.call('POST', '/sessions', { json: { username: user.username, password: 'yet-another-passphrase' } });
  assert(gone.status === 401, `the deleted account cannot log in (${gone.status})`);
});
