// Why this file exists: SECURITY.md §23 in a real browser. Hostile text reaches the pages from a
// participant (a submission description with an <img onerror>) and from an organizer (Markdown with raw
// HTML, javascript: and data: links, an image with an attribute break-out, a bidi override). Nothing may
// execute, every payload must show as literal text, no unsafe href may exist, and every page must carry
// the Content-Security-Policy header.
import fs from 'node:fs';
import path from 'node:path';
import { run, assert, apiClient, eventually, say, loginThroughPage, loginTo } from './lib.mjs';

const DESCRIPTION = '<img src=x onerror=window.__xss=1>';
const TEAM = '<img src=x onerror=window.__xss=10>';
const NOTE = '<script>window.__xss=11</script><img src=x onerror=window.__xss=12>';
const SUMMARY = 'Summary <img src=x onerror=window.__xss=7> ends here';
const HOSTILE_MD = `

## Hostile section

<img src=x onerror=window.__xss=2>

<script>window.__xss=3</script>

[click me](javascript:window.__xss=4) and [data link](data:text/html,<script>window.__xss=5</script>)
and [spaced](  JaVaScRiPt:window.__xss=6 ) and ![picture](x"onerror="window.__xss=8) and [ok link](https://example.org/a?b=1).

Bidi: invoice\u202Etxt.exe

| cell | <b onmouseover=window.__xss=9>bold?</b> |
|---|---|
| \`<script>\` | **<i>x</i>** |
`;

await run(
  'xss',
  async ({ url, page, browser, shot, source, staff, watch }) => {
    const api = apiClient(url);
    const eve = await api.participant('eve_hostile');
    const auth = { token: eve.token };

    // Eve's team carries the payload as its name: the leaderboard, the jury and the organizer pages show it.
    await api.acceptTerms(eve.token);
    const team = await api.call('POST', '/challenges/visiomel-demo/teams', { ...auth, json: { name: TEAM } });
    assert(team.status === 201 && team.data.name === TEAM, `a team named ${TEAM} → ${team.status} ${JSON.stringify(team.data)}`);

    const sample = fs.readFileSync(path.join(source, 'challenges/visiomel-demo/data/sample_submission.csv'));
    const sub = await api.submit(eve.token, sample, DESCRIPTION);
    assert(sub.status === 201, `upload with a token → ${sub.status} ${JSON.stringify(sub.data)}`);
    const stored = await api.call('GET', `/submissions/${sub.data.id}`, auth);
    assert(stored.data.description === DESCRIPTION, `the server keeps the description as sent (got ${JSON.stringify(stored.data.description)})`);

    // Every page is served with a CSP.
    for (const p of ['/', '/index.html', '/challenge.html', '/login.html', '/register.html', '/tokens.html', '/organizer.html', '/jury.html', '/style.css', '/js/api.js']) {
      const res = await fetch(url + p);
      const csp = res.headers.get('content-security-policy') || '';
      assert(res.status === 200, `${p} → ${res.status}`);
      assert(/script-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), `${p} carries a strict Content-Security-Policy (got "${csp}")`);
      assert(res.headers.get('x-content-type-options') === 'nosniff', `${p} carries X-Content-Type-Options: nosniff`);
    }

    // Log in through the page, as Eve would.
    await loginThroughPage(page, eve);
    const row = page.locator(`#mine tr[data-id="${sub.data.id}"]`);
    await row.waitFor();
    await page.locator('#overview-body h4', { hasText: 'Hostile section' }).waitFor();

    // The description shows literally, as text.
    assert((await row.locator('td.desc').textContent()) === DESCRIPTION, 'the description is shown literally');
    assert((await row.locator('img').count()) === 0, 'no <img> was created from the description');
    assert((await page.locator('#summary').textContent()) === SUMMARY, 'the summary is shown literally');

    // The Markdown: raw HTML as text, no unsafe links, no images or scripts created.
    const overview = page.locator('#overview-body');
    const text = await overview.textContent();
    for (const literal of ['<img src=x onerror=window.__xss=2>', '<script>window.__xss=3</script>', '<b onmouseover=window.__xss=9>bold?</b>', '<i>x</i>']) {
      assert(text.includes(literal), `the overview shows ${literal} literally`);
    }
    assert((await overview.locator('img, script, b, i, iframe, object').count()) === 0, 'no element was created from raw HTML in the Markdown');
    assert(text.includes('invoice<U+202E>txt.exe'), 'the bidi override is shown as a visible escape');
    assert((await overview.locator('a', { hasText: 'click me' }).count()) === 0, 'the javascript: link is not a link');
    assert((await overview.locator('a', { hasText: 'data link' }).count()) === 0, 'the data: link is not a link');
    assert((await overview.locator('a', { hasText: 'spaced' }).count()) === 0, 'the mixed-case javascript: link is not a link');
    assert((await overview.locator('a[href="https://example.org/a?b=1"]', { hasText: 'ok link' }).count()) === 1, 'an https link is kept');
    const hrefs = await page.evaluate(() => Array.from(document.querySelectorAll('a[href], area[href]'), (a) => a.getAttribute('href')));
    const bad = hrefs.filter((href) => !/^(https?:\/\/|mailto:|[a-z][a-z0-9-]*\.html|\/api\/v1\/|#|\/?$)/i.test(href));
    assert(bad.length === 0, `every href is http(s), mailto or relative (bad: ${JSON.stringify(bad)})`);

    // Hover and click everything that could carry a handler, then check that nothing ran.
    await overview.locator('th', { hasText: 'bold?' }).hover();
    await overview.locator('span.md-unsafe-link', { hasText: 'click me' }).click();
    await page.waitForTimeout(300);
    await page.locator('#overview').scrollIntoViewIfNeeded();
    await shot('challenge-hostile');
    assert((await page.evaluate(() => typeof window.__xss)) === 'undefined', 'no payload executed on the challenge page');

    // The home page shows the hostile summary literally too.
    await page.goto('/');
    const card = page.locator('.card', { hasText: 'Predict melanoma relapse' });
    await card.waitFor();
    assert((await card.locator('p').first().textContent()) === SUMMARY, 'the summary is literal on the home page');
    await shot('home-hostile');
    assert((await page.evaluate(() => typeof window.__xss)) === 'undefined', 'no payload executed on the home page');

    // Wait for scoring so the leaderboard and plot are drawn with the hostile submission present.
    await page.goto('/challenge.html?slug=visiomel-demo#leaderboard');
    await eventually(async () => ['scored', 'failed'].includes(await page.locator(`#mine tr[data-id="${sub.data.id}"]`).getAttribute('data-status')), 120000, 'scoring');
    await page.locator('#leaderboard-body svg.plot').waitFor();
    await shot('leaderboard-hostile');
    assert((await page.evaluate(() => typeof window.__xss)) === 'undefined', 'no payload executed after scoring');
    assert((await page.locator('#leaderboard-body tr.mine bdi').textContent()) === TEAM, 'the team name is literal on the leaderboard');

    // The jury and the organizer see the team name (and the description) literally too.
    for (const [role, who, pagePath, cell] of [
      ['jury', 'jules_hostile', 'jury.html?slug=visiomel-demo', '#review-body tbody tr .team'],
      ['organizer', 'orla_hostile', 'organizer.html?slug=visiomel-demo', `#submissions-body tr[data-id="${sub.data.id}"] td:nth-child(2) bdi`],
    ]) {
      const context = await browser.newContext({ baseURL: url });
      const staffPage = await context.newPage();
      watch(staffPage);
      await loginTo(staffPage, staff(who, role), pagePath);
      const name = staffPage.locator(cell).first();
      await name.waitFor();
      assert((await name.textContent()) === TEAM, `the team name is literal on the ${role} page`);
      assert((await staffPage.locator('main img').count()) === 0, `no <img> on the ${role} page`);
      if (role === 'organizer') {
        assert((await staffPage.locator(`#submissions-body tr[data-id="${sub.data.id}"] td.desc`).textContent()) === DESCRIPTION, 'the description is literal on the organizer page');
      } else {
        await staffPage.locator('#review-body tbody tr').first().getByRole('button', { name: /^Note/ }).click();
        await staffPage.locator('dialog.reason-dialog h2', { hasText: TEAM }).waitFor();
        await staffPage.locator('dialog.reason-dialog').getByLabel('Note').fill(NOTE);
        await staffPage.locator('dialog.reason-dialog').getByRole('button', { name: 'Add the note' }).click();
        const listed = staffPage.locator('#notes-body .note-text', { hasText: 'onerror' });
        await listed.waitFor();
        assert((await listed.textContent()) === NOTE, 'a hostile note is literal');
      }
      await staffPage.waitForTimeout(300);
      await shot(`${role}-hostile`, staffPage);
      assert((await staffPage.evaluate(() => typeof window.__xss)) === 'undefined', `no payload executed on the ${role} page`);
      await context.close();
    }
    say('nothing executed');
  },
  {
    editBundle(dir) {
      fs.appendFileSync(path.join(dir, 'overview.md'), HOSTILE_MD);
      const spec = JSON.parse(fs.readFileSync(path.join(dir, 'challenge.json'), 'utf8'));
      spec.summary = SUMMARY;
      fs.writeFileSync(path.join(dir, 'challenge.json'), JSON.stringify(spec, null, 2));
    },
  },
);
