// Why this file exists: the pages in French (issue 16). A browser whose language is French gets every page in
// French: the static text, the text the scripts build, the API's error messages and the scorer's message about a
// bad prediction file, with no key missing from the catalogue (i18n.js records any it was asked for and lacks) and
// no action off a 360 px screen with the longer French texts. The switch in the header changes the language and
// keeps it (and, logged in, sets the language of the account's mails); an English browser gets English and the
// switch to French.
import fs from 'node:fs';
import path from 'node:path';
import { run, assert, apiClient, loginTo, waitScored, say, offScreen, eventually, assertShown } from './lib.mjs';

const SLUG = 'visiomel-demo';

// What the page shows in its language: lang, the keys it lacked, and its visible text.
async function look(page) {
  return page.evaluate(() => ({
    lang: document.documentElement.lang,
    missing: [...(window.concoursI18nMissing || [])],
    text: document.body.innerText,
    title: document.title,
  }));
}

await run('i18n', async ({ url, browser, shot, staff, source }) => {
  const api = apiClient(url);
  const pia = await api.participant('pia_fr');
  const sample = fs.readFileSync(path.join(source, 'challenges', SLUG, 'data', 'sample_submission.csv'), 'utf8');
  const good = await api.submit(pia.token, sample, 'un modèle');
  assert(good.status === 201, `submit → ${good.status}`);
  await waitScored(api, good.data.id, pia.token);
  const bad = await api.submit(pia.token, sample.replace(/,0\.\d+/, ',1.7'), 'trop sûr');
  assert(bad.status === 201, `bad submit → ${bad.status}`);
  await eventually(async () => (await api.call('GET', `/submissions/${bad.data.id}`, { token: pia.token })).data.status === 'failed', 45000, 'the bad file to fail');
  const olga = staff('olga_fr', 'organizer');
  const judy = staff('judy_fr', 'jury');
  // [who, address, name, French text the page must show, English texts it must not]
  const pages = [
    [null, '/', 'home', 'Challenges de données', ['Data challenges', 'Open now', 'Log in']],
    [null, '/login.html', 'login', 'Mot de passe oublié ?', ['Forgot your password?', 'Username']],
    [null, '/register.html', 'register', 'Créer un compte', ['Create an account', 'Password again']],
    [null, '/reset.html', 'reset', 'Réinitialiser votre mot de passe', ['Reset your password', 'Send the link']],
    [pia, `/challenge.html?slug=${SLUG}`, 'challenge', 'Soumettre des prédictions',
      ['Submit predictions', 'My submissions', 'Log out', 'is not a probability', 'Public score']],
    [pia, '/tokens.html', 'tokens', 'Vos jetons', ['Your tokens', 'Create token']],
    [pia, '/account.html', 'account', 'Votre compte', ['Your account', 'Change the password', 'Member since']],
    [olga, `/organizer.html?slug=${SLUG}`, 'organizer', 'File de notation', ['Scoring queue', 'Import a challenge bundle', 'Download CSV']],
    [judy, `/jury.html?slug=${SLUG}`, 'jury', 'Revue du jury', ['Jury review', 'Final ranking under review', 'Groups not shown apart', 'Rank range']],
  ];
  const problems = [];
  for (const width of [360, 1280]) {
    for (const [who, where, name, french, english] of pages) {
      const context = await browser.newContext({ baseURL: url, viewport: { width, height: 800 }, locale: 'fr-FR' });
      const page = await context.newPage();
      if (who) await loginTo(page, who, where.slice(1));
      else await page.goto(where);
      await page.waitForLoadState('networkidle');
      await page.getByText(french, { exact: false }).first().waitFor();
      await page.waitForTimeout(300); // the last renders after the data came
      const seen = await look(page);
      if (seen.lang !== 'fr') problems.push(`${name}: <html lang="${seen.lang}">`);
      for (const key of seen.missing) problems.push(`${name}: no French for ${JSON.stringify(key)}`);
      for (const word of english) if (seen.text.includes(word)) problems.push(`${name} at ${width} px still shows "${word}"`);
      if (name === 'challenge') {
        for (const want of ['n’est pas une probabilité', 'en échec', 'notée', 'Mes soumissions']) {
          if (!seen.text.includes(want)) problems.push(`challenge: "${want}" not shown`);
        }
      }
      for (const b of await offScreen(page, width)) problems.push(`${name} at ${width} px: ${b.what} (${b.left}..${b.right})`);
      await shot(`${name}-fr-${width}`, page);
      await context.close();
    }
  }
  assert(problems.length === 0, `French pages:\n${problems.join('\n')}`);
  say(`${pages.length} pages in French at 360 and 1280 px, no key missing`);

  // an API error shown by a page comes in French too (a wrong password)
  const context = await browser.newContext({ baseURL: url, locale: 'fr-FR' });
  const page = await context.newPage();
  await page.goto('/login.html');
  await page.locator('#username').fill(pia.username);
  await page.locator('#password').fill('not the password at all');
  await page.locator('#login-form button[type=submit]').click();
  await page.getByText('nom d’utilisateur ou mot de passe erroné').waitFor();
  await assertShown(page.getByText('Échec de la connexion'), 'the error box is titled in French');

  // the switch: English, kept across pages, then French again
  await page.goto('/');
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Data challenges' }).waitFor();
  await page.goto('/login.html');
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  let seen = await look(page);
  assert(seen.lang === 'en' && seen.missing.length === 0, `after the switch: ${JSON.stringify({ lang: seen.lang, missing: seen.missing })}`);
  const answer = await page.evaluate(async () => (await fetch('/api/v1/challenges/nope', { headers: { 'Accept-Language': document.documentElement.lang } })).json());
  assert(answer.error.message === 'no such challenge', `the API in English: ${JSON.stringify(answer)}`);
  await page.getByRole('button', { name: 'Français' }).click();
  await page.getByRole('heading', { name: 'Se connecter' }).waitFor();
  seen = await look(page);
  assert(seen.lang === 'fr', 'back to French');
  await shot('switched-back', page);
  await context.close();

  // an English browser: English, and the switch offers French
  const en = await browser.newContext({ baseURL: url, locale: 'en-US' });
  const enPage = await en.newPage();
  await enPage.goto('/');
  await enPage.getByRole('heading', { name: 'Data challenges' }).waitFor();
  seen = await look(enPage);
  assert(seen.lang === 'en' && seen.missing.length === 0, `English: ${JSON.stringify({ lang: seen.lang, missing: seen.missing })}`);
  await assertShown(enPage.getByRole('button', { name: 'Français' }), 'the switch to French');
  // logged in, the switch also sets the language of the account's mails (PUT /me/language)
  await loginTo(enPage, pia, 'account.html');
  await enPage.locator('#mail-language').getByText('English').waitFor();
  await enPage.getByRole('button', { name: 'Français' }).click();
  await enPage.getByRole('heading', { name: 'Votre compte' }).waitFor();
  await enPage.locator('#mail-language').getByText('Français').waitFor();
  const me = await api.call('GET', '/me', { token: pia.token });
  assert(me.data.language === 'fr', `the account's language after the switch: ${JSON.stringify(me.data)}`);
  await en.close();
});
