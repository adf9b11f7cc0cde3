// Why this file exists: every page at 360 px (a small phone) and 1280 px (a laptop), as a participant, an organizer
// and a jury member see them with data in them: no page scrolls sideways, and every action (button, link styled as
// a button, form field) lies within the screen. On the phone a wide table may scroll inside its own box; on the
// laptop nothing is clipped by its box (the jury's Actions column was). Screenshots at both widths.
import fs from 'node:fs';
import path from 'node:path';
import { run, assert, apiClient, loginTo, waitScored, say } from './lib.mjs';

const SLUG = 'visiomel-demo';

// The actions of the page that stick out of the screen: [{what, left, right}] (inside a scrolling box is fine).
async function outside(page, width) {
  return page.evaluate((w) => {
    const bad = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > w + 1) bad.push({ what: `the page is ${doc.scrollWidth} px wide`, left: 0, right: doc.scrollWidth });
    for (const el of document.querySelectorAll('button, a.button, input, select, textarea, [role=button]')) {
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      if (style.visibility === 'hidden' || style.display === 'none' || box.width === 0 || box.height === 0) continue;
      if (el.closest('dialog:not([open]), [hidden]')) continue;
      let scroller = el.parentElement;
      while (scroller && !['auto', 'scroll'].includes(getComputedStyle(scroller).overflowX)) scroller = scroller.parentElement;
      const limit = scroller && scroller !== doc && scroller !== document.body ? scroller.getBoundingClientRect() : null;
      // on a phone a wide table may scroll inside its box; on a laptop every action shows without scrolling
      if (limit && limit.left >= -1 && limit.right <= w + 1) {
        if (w < 600 || (box.left >= limit.left - 1 && box.right <= limit.right + 1)) continue;
        bad.push({ what: `${el.outerHTML.slice(0, 100)} (clipped by its box)`, left: Math.round(box.left), right: Math.round(box.right) });
        continue;
      }
      if (box.left < -1 || box.right > w + 1) bad.push({ what: el.outerHTML.slice(0, 120), left: Math.round(box.left), right: Math.round(box.right) });
    }
    return bad;
  }, width);
}

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
      const bad = await outside(page, width);
      for (const b of bad) problems.push(`${name} at ${width} px: ${b.what} (${b.left}..${b.right})`);
      await shot(`${name}-${width}`, page);
      await context.close();
    }
  }
  say(`${pages.length} pages at 360 and 1280 px`);
  assert(problems.length === 0, `actions off the screen:\n${problems.join('\n')}`);
});
