// Why this file exists: the jury page in a real browser, on a test clock. Three teams submit while the
// development phase is open; after the last phase has ended, a jury member disqualifies the leading team
// through the page (the reason is required: first tried without), sees the ranks move, is refused
// publication with 409 phase_open while the final phase is open again, publishes once it has ended,
// downloads the signed ranking, signature and key, and the signature checks with openssl.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { run, assert, apiClient, eventually, say, loginTo, waitScored, assertShown } from './lib.mjs';

const SLUG = 'visiomel-demo';
const DURING = '2026-06-01T12:00:00Z'; // development phase open
const FINAL_OPEN = '2030-07-15T12:00:00Z'; // the last phase is open
const AFTER = '2030-08-02T00:00:00Z'; // every phase has ended

// A prediction file predicting `p` for every test patient: different constants give different scores.
function constant(source, p) {
  const lines = fs.readFileSync(path.join(source, `challenges/${SLUG}/data/sample_submission.csv`), 'utf8').trim().split('\n');
  return `${lines[0]}\n${lines.slice(1).map((l) => `${l.split(',')[0]},${p}`).join('\n')}\n`;
}

await run(
  'jury',
  async ({ url, page, shot, source, out, setClock, staff }) => {
    const api = apiClient(url);
    const teams = {};
    for (const [name, p] of [['ann_jury', 0.2], ['ben_jury', 0.35], ['cat_jury', 0.6]]) {
      const user = await api.participant(name);
      const sub = await api.submit(user.token, constant(source, p), `constant ${p}`);
      assert(sub.status === 201, `${name} submits → ${sub.status} ${JSON.stringify(sub.data)}`);
      teams[name] = { ...user, id: sub.data.id };
    }
    for (const t of Object.values(teams)) await waitScored(api, t.id, t.token);
    setClock(AFTER);
    const judy = staff('judy_jury', 'jury');

    await loginTo(page, judy, `jury.html?slug=${SLUG}`);
    // the intervals follow the scores once the queue is idle (docs/api.md): wait for them, then draw the page again
    const reviewUrl = `/api/v1/challenges/${SLUG}/review`;
    await eventually(async () => (await page.evaluate(async (u) => (await fetch(u)).json(), reviewUrl)).rows.every((r) => r.ci), 60000, 'the jury\'s intervals');
    await page.reload();
    const rows = page.locator('#review-body tbody tr');
    await eventually(async () => (await rows.count()) === 3, 10000, 'three review rows');
    await assertShown(page.locator('.main-nav a', { hasText: 'Jury' }), 'the nav links the jury page');
    assert((await page.locator('.main-nav a', { hasText: 'Organizer' }).count()) === 0, 'no organizer link for the jury');
    assert((await page.locator('#review-body svg.ci-bar').count()) === 3, 'every row has an error bar');
    const order = async () => page.locator('#review-body tbody tr .team').allTextContents();
    const ranks = async () => page.locator('#review-body tbody tr td.rank').allTextContents();
    const before = await order();
    say('ranking before:', before.join(', '));
    assert(JSON.stringify(await ranks()) === '["1","2","3"]', `ranks 1, 2, 3 (got ${await ranks()})`);
    // the stability analysis: the page draws what the API computed
    await page.locator('#stability-body svg.stability-plot').waitFor({ timeout: 60000 });
    const st = await page.evaluate(async (u) => (await fetch(u)).json(), `/api/v1/challenges/${SLUG}/review/stability`);
    assert(st.teams.length === 3 && st.pairs.length === 6, `the analysis covers the three teams: ${JSON.stringify(st).slice(0, 300)}`);
    assert((await page.locator('#stability-body svg.stability-plot circle.blob-full').count()) === 3, 'one ring per team in the blob plot');
    assert((await page.locator('#stability-body svg.stability-map rect.sig').count()) === 6, 'a cell per ordered pair in the map');
    const shown = await page.locator('#stability-body ol.tie-groups > li').allTextContents();
    assert(JSON.stringify(shown) === JSON.stringify(st.groups.map((g) => g.join(', '))), `the groups shown are the API's (${shown} vs ${JSON.stringify(st.groups)})`);
    assert(shown[0].startsWith(before[0]), `the first group holds the leader (${shown[0]} vs ${before[0]})`);
    const significant = st.pairs.filter((p) => p.p_holm < 0.05).length;
    assert((await page.locator('#stability-body svg.stability-map rect.sig:not(.sig-0)').count()) === significant, 'the map colours the significant pairs');
    say('stability groups:', JSON.stringify(st.groups), 'significant pairs:', significant);
    // the ranking method: rank-then-aggregate beside the official ranking, one row per team, as the API says
    assert(st.rank_then_aggregate && typeof st.rank_then_aggregate.kendall_tau === 'number', `rank_then_aggregate: ${JSON.stringify(st.rank_then_aggregate)}`);
    const methodRows = await page.locator('#stability-body table.methods tbody tr').allTextContents();
    assert(methodRows.length === 3, `a row per team in the method table: ${JSON.stringify(methodRows)}`);
    for (const tm of st.teams) {
      assert(methodRows.some((row) => row.startsWith(tm.team) && row.includes(String(tm.rank_then_aggregate))), `${tm.team}'s rank-then-aggregate shown`);
    }
    await page.locator('#stability').scrollIntoViewIfNeeded();
    await shot('stability');
    await page.emulateMedia({ media: 'print' });
    await shot('stability-print');
    await page.emulateMedia({ media: 'screen' });
    await shot('review');

    // Disqualify the leading team: refused without a reason, done with one.
    const leader = before[0];
    const row = page.locator('#review-body tbody tr', { has: page.locator('.team', { hasText: leader }) });
    await row.getByRole('button', { name: /^Disqualify team/ }).click();
    const dialog = page.locator('dialog.reason-dialog');
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Disqualify' }).click();
    await dialog.locator('[role=alert]', { hasText: 'is required' }).waitFor();
    assert((await dialog.getByLabel('Reason').getAttribute('aria-invalid')) === 'true', 'the empty reason is marked invalid');
    await shot('reason-required');
    await dialog.getByLabel('Reason').fill('shared accounts with another team');
    await dialog.getByRole('button', { name: 'Disqualify' }).click();
    await page.locator('#action-status', { hasText: `Disqualified team ${leader}` }).waitFor();
    assert((await dialog.count()) === 0, 'the dialog is closed');
    const afterDq = await order();
    assert(afterDq[2] === leader && JSON.stringify(afterDq.slice(0, 2)) === JSON.stringify(before.slice(1)), `the disqualified team is last and the others move up (got ${afterDq})`);
    assert(JSON.stringify(await ranks()) === '["1","2","—"]', `ranks 1, 2 and none (got ${await ranks()})`);
    await page.locator('#notes-body', { hasText: 'shared accounts with another team' }).waitFor();
    await shot('disqualified');

    // A note on a team is listed.
    const second = page.locator('#review-body tbody tr').nth(1);
    await second.getByRole('button', { name: /^Note/ }).click();
    await dialog.getByLabel('Note').fill('checked the code: fine');
    await dialog.getByRole('button', { name: 'Add the note' }).click();
    await page.locator('#notes-body li', { hasText: 'checked the code: fine' }).waitFor();

    // Publishing while the last phase is open: 409 phase_open, shown in the dialog.
    setClock(FINAL_OPEN);
    await page.reload();
    await page.locator('#publication-body', { hasText: 'still open' }).waitFor();
    await page.getByRole('button', { name: 'Publish the final ranking…' }).click();
    await dialog.getByLabel('Reason').fill('review finished');
    await dialog.getByRole('button', { name: 'Publish' }).click();
    await dialog.locator('[role=alert] .err-code', { hasText: 'phase_open' }).waitFor();
    await shot('phase-open');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // After the end: publish, then the signed ranking.
    setClock(AFTER);
    await page.reload();
    await page.getByRole('button', { name: 'Publish the final ranking…' }).click();
    await dialog.getByLabel('Reason').fill('review finished');
    await dialog.getByRole('button', { name: 'Publish' }).click();
    await page.locator('#ranking-links').waitFor();
    assert((await page.locator('#review-body button', { hasText: 'Disqualify' }).count()) === 0, 'no more actions once published');
    const dir = path.join(out, 'signed');
    fs.mkdirSync(dir, { recursive: true });
    const saved = {};
    for (const name of ['Signed ranking (JSON)', 'Signature', 'Public key (PEM)']) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#ranking-links').getByRole('link', { name }).click()]);
      const file = path.join(dir, download.suggestedFilename());
      await download.saveAs(file);
      saved[name] = file;
    }
    await shot('published');
    const lines = await page.locator('#verify-lines').textContent();
    assert(lines.includes('openssl pkeyutl -verify -pubin -inkey concours-signing-key.pem -rawin'), 'the page shows the openssl command');

    const ranking = JSON.parse(fs.readFileSync(saved['Signed ranking (JSON)'], 'utf8'));
    assert(ranking.challenge === SLUG && ranking.rows.length === 2 && !ranking.rows.some((r) => r.team === leader), `the signed ranking leaves the disqualified team out (${JSON.stringify(ranking.rows)})`);
    const sigBin = path.join(dir, 'ranking.sig.bin');
    fs.writeFileSync(sigBin, Buffer.from(fs.readFileSync(saved.Signature, 'utf8').trim(), 'base64'));
    const verified = execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', saved['Public key (PEM)'], '-rawin', '-in', saved['Signed ranking (JSON)'], '-sigfile', sigBin], { encoding: 'utf8' });
    assert(/Signature Verified Successfully/.test(verified), `openssl verifies the signature (${verified.trim()})`);
    say('openssl:', verified.trim());

    // A tampered copy does not verify.
    const tampered = path.join(dir, 'tampered.json');
    fs.writeFileSync(tampered, fs.readFileSync(saved['Signed ranking (JSON)'], 'utf8').replace(before[1], 'someone_else'));
    let refused = false;
    try {
      execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', saved['Public key (PEM)'], '-rawin', '-in', tampered, '-sigfile', sigBin], { stdio: 'pipe' });
    } catch {
      refused = true;
    }
    assert(refused, 'a tampered ranking does not verify');

    // After publication, "My submissions" shows the private score and which submission was ranked, at what rank.
    const runnerUp = teams[before[1]];
    await page.context().clearCookies();
    await loginTo(page, runnerUp, `challenge.html?slug=${SLUG}`);
    const mine = page.locator(`#mine tbody tr[data-id="${runnerUp.id}"]`);
    await mine.waitFor();
    const privateCell = await mine.locator('td.private').textContent();
    const apiSub = await api.call('GET', `/submissions/${runnerUp.id}`, { token: runnerUp.token });
    const ranked = ranking.rows.find((r) => r.submission_id === runnerUp.id);
    assert(privateCell.includes(apiSub.data.private_score.toFixed(4)), `the private score shows (${privateCell} vs ${apiSub.data.private_score})`);
    assert(privateCell.includes(`ranked #${ranked.rank}`), `the final rank shows (${privateCell})`);
    assert((await page.locator('#mine thead th', { hasText: 'Private score' }).count()) === 1, 'a Private score column');
    await shot('mine-after-publication');
  },
  { testClock: DURING },
);
