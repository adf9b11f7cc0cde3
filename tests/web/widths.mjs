// Why this file exists: every page at 360 px (a small phone) and 1280 px (a laptop), as a participant, an organizer
// and a jury member see them with data in them: no page scrolls sideways, and every action (button, link styled as
// a button, form field) lies within the screen. On the phone a wide table may scroll inside its own box; on the
// laptop nothing is clipped by its box (the jury's Actions column was). Screenshots at both widths.
import fs from 'node:fs';
import path from 'node:path';
import { run, assert, apiClient, loginTo, waitScored, say, offScreen } from './lib.mjs';

const SLUG = 'visiomel-demo';

await run('widths', async ({ url, browser, shot, staff, source }) => {
  const api = apiClient(url);
  const pia = await api.participant('pia_wide');
  const sample = fs.readFileSync(path.join(source, 'challenges', SLUG, 'data', 'sample_submission.csv'), 'utf8');
  const sub = await api.submit(pia.token, sample, 'a rather long description of the model that was used here');
  assert(sub.status === 201, `submit → ${sub.status}`);
  await waitScored(api, sub.data.id, pia.token);
  const olga = staff('olga_wide', 'organizer');
  const judy = staff('judy_wide', 'jury');
  const pages = [
    [null, '/', 'home'],
    [null, '/login.html', 'login'],
    [null, '/register.html', 'register'],
    [null, '/reset.html', 'reset'],
    [pia, `/challenge.html?slug=${SLUG}`, 'challenge'],
    [pia, '/tokens.html', 'tokens'],
    [pia, '/account.html', 'account'],
    [olga, `/organizer.html?slug=${SLUG}`, 'organizer'],
    [judy, `/jury.html?slug=${SLUG}`, 'jury'],
  ];
  const problems = [];
  for (const width of [360, 1280]) {
    for (const [who, where, name] of pages) {
      const context = await browser.newContext({ baseURL: url, viewport: { width, height: 800 } });
      const page = await context.newPage();
      if (who) await loginTo(page, who, where.slice(1));
      else await page.goto(where);
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(300); // the last renders after the data came
      // every text the page asked for is in the English catalogue too (tests/web/i18n.mjs: the French one)
      for (const key of await page.evaluate(() => [...(window.concoursI18nMissing || [])])) problems.push(`${name}: no English for ${JSON.stringify(key)}`);
      const bad = await offScreen(page, width);
      for (const b of bad) problems.push(`${name} at ${width} px: ${b.what} (${b.left}..${b.right})`);
      await shot(`${name}-${width}`, page);
      await context.close();
    }
  }
  say(`${pages.length} pages at 360 and 1280 px`);
  assert(problems.length === 0, `actions off the screen:\n${problems.join('\n')}`);
});
