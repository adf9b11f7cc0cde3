// Why this file exists: address confirmation in a real browser (serve --verify-email, docs/mail.md). A new
// participant's account page says the address is not confirmed; the link mailed at registration opens the page
// that confirms it; then the account page says nothing more and the terms can be accepted.
import fs from 'node:fs';
import path from 'node:path';
import { run, assert, apiClient, eventually, loginTo } from './lib.mjs';

await run('verify', async ({ url, page, shot, mailDir }) => {
  const api = apiClient(url);
  const user = { username: 'newcomer', password: 'correct horse battery' };
  const reg = await api.call('POST', '/users', { json: { ...user, email: 'newcomer@example.org' } });
  assert(reg.status === 201, `register → ${reg.status}`);
  await loginTo(page, user, 'account.html');
  await page.locator('#current-email .badge', { hasText: 'not confirmed' }).waitFor();
  await shot('not-confirmed');
  const mails = () => (fs.existsSync(mailDir) ? fs.readdirSync(mailDir).filter((f) => f.endsWith('.eml')) : []);
  await eventually(async () => mails().length === 1, 30000, 'the confirmation mail');
  const text = fs.readFileSync(path.join(mailDir, mails()[0]), 'utf8');
  const token = /verify\.html#token=(\S+)/.exec(text);
  assert(token, `the mail holds the link: ${text}`);
  await page.goto(`/verify.html#token=${token[1]}`);
  await page.locator('#verify-status .alert-ok', { hasText: 'Your address is confirmed' }).waitFor();
  await shot('confirmed');
  await page.goto('/account.html');
  await page.locator('#current-email', { hasText: 'newcomer@example.org' }).waitFor();
  assert((await page.locator('#current-email .badge').count()) === 0, 'no badge once confirmed');
  const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
  assert(me.email_verified === true, 'the API says confirmed');
}, { serverArgs: ['--verify-email'] });
