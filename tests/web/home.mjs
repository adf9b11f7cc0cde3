// Why this file exists: the states a visitor meets before taking part — the home page sorting challenges
// into open, upcoming and finished with their dates; a challenge page seen anonymously (log-in prompts,
// no files, leaderboard visible); a finished challenge (submissions closed) and an upcoming one; an
// unknown slug; and the keyboard path to the login form.
import fs from 'node:fs';
import path from 'node:path';
import { run, assert } from './lib.mjs';

// A sibling bundle with the same data under another slug and other phase dates.
function variant(dir, slug, title, phases) {
  const to = path.join(path.dirname(dir), slug);
  fs.cpSync(dir, to, { recursive: true });
  const spec = JSON.parse(fs.readFileSync(path.join(to, 'challenge.json'), 'utf8'));
  Object.assign(spec, { slug, title, phases });
  fs.writeFileSync(path.join(to, 'challenge.json'), JSON.stringify(spec, null, 2));
}

await run(
  'home',
  async ({ page, shot }) => {
    await page.goto('/');
    await page.locator('#open .card').first().waitFor();
    await page.locator('#finished .card').first().waitFor();
    const titles = async (group) => page.locator(`#${group} .card h3`).allTextContents();
    assert(JSON.stringify(await titles('open')) === JSON.stringify(['Predict melanoma relapse']), `open: ${await titles('open')}`);
    assert(JSON.stringify(await titles('upcoming')) === JSON.stringify(['Future relapse']), `upcoming: ${await titles('upcoming')}`);
    assert(JSON.stringify(await titles('finished')) === JSON.stringify(['Past relapse']), `finished: ${await titles('finished')}`);
    assert((await page.locator('#upcoming .card time').getAttribute('datetime')) === '2031-01-01T00:00:00.000Z', 'the upcoming card shows its opening time');
    assert((await page.locator('#finished .card time').getAttribute('datetime')) === '2025-02-01T00:00:00.000Z', 'the finished card shows its closing time');
    await shot('home-three-groups');

    // Anonymous on the open challenge: prompts to log in, no files, no form, the leaderboard is public.
    await page.locator('#open .card a').click();
    await page.locator('#terms-action a', { hasText: 'Log in' }).waitFor();
    assert((await page.locator('#data-body a', { hasText: 'Log in' }).count()) === 1, 'the data section asks to log in');
    assert(await page.locator('#submit-form').isHidden(), 'no upload form for anonymous visitors');
    await page.locator('#leaderboard-body', { hasText: 'No scored submission yet' }).waitFor();
    assert((await page.locator('#terms-action a', { hasText: 'Log in' }).getAttribute('href')) === 'login.html?next=challenge.html%3Fslug%3Dvisiomel-demo', 'the login link comes back here');
    await shot('challenge-anonymous');

    // The finished challenge says it is closed.
    await page.goto('/challenge.html?slug=visiomel-past');
    await page.locator('#facts', { hasText: 'No phase is open now' }).waitFor();
    await page.locator('#phases tbody tr').first().waitFor();

    // An unknown and a malformed slug: a clear error, not a blank page.
    await page.goto('/challenge.html?slug=no-such-thing');
    await page.locator('#page-status [role=alert]', { hasText: 'not_found' }).waitFor();
    await page.goto('/challenge.html?slug=%3Cscript%3E');
    await page.locator('#page-status [role=alert]', { hasText: 'No such challenge' }).waitFor();
    await shot('unknown-challenge');

    // Keyboard only: skip link first, then the header links, to the login form.
    await page.goto('/');
    await page.locator('#account a').first().waitFor();
    await page.keyboard.press('Tab');
    assert((await page.evaluate(() => document.activeElement.textContent)) === 'Skip to content', 'the first Tab reaches the skip link');
    let guard = 0;
    while ((await page.evaluate(() => document.activeElement.textContent)) !== 'Log in' && guard++ < 10) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(/login\.html/);
    await page.getByLabel('Username').waitFor();
  },
  {
    editBundle(dir) {
      variant(dir, 'visiomel-past', 'Past relapse', [{ name: 'only', start: '2025-01-01T00:00:00Z', end: '2025-02-01T00:00:00Z', max_per_day: 5, max_total: 10 }]);
      variant(dir, 'visiomel-future', 'Future relapse', [{ name: 'later', start: '2031-01-01T00:00:00Z', end: '2031-02-01T00:00:00Z', max_per_day: 5, max_total: 10 }]);
    },
  },
);
