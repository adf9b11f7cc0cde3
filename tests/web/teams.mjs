// Why this file exists: the team block and the final selection on the challenge page, in a real browser.
// Ada competes alone, creates a team (its name shown literally), Bob joins it with the invite code through
// the API, Ada sees him; after a submission the team is locked (no more moves offered); the
// leaderboard row carries the team's name as "you"; and in a phase with a final selection, ticking a
// submission is saved and survives a reload.
import fs from 'node:fs';
import path from 'node:path';
import { run, assert, apiClient, eventually, loginThroughPage, assertShown } from './lib.mjs';

const TEAM = 'Les <b>Chercheurs</b> & co';

await run(
  'teams',
  async ({ url, page, shot, source }) => {
    const api = apiClient(url);
    const ada = await api.participant('ada_team');
    const bob = await api.participant('bob_team');
    await api.acceptTerms(ada.token);
    await api.acceptTerms(bob.token);

    await loginThroughPage(page, ada, '#team');
    const block = page.locator('#team-body');
    await block.locator('text=You compete alone').waitFor();
    await assertShown(page.locator('#tab-team'), 'the Team tab is shown');

    await page.getByLabel('Team name').fill(TEAM);
    await page.getByRole('button', { name: 'Create a team' }).click();
    await block.locator('text=Your team:').waitFor();
    assert((await block.locator('strong bdi').textContent()) === TEAM, 'the team name is shown literally');
    const code = (await page.locator('#team-invite').textContent()).trim();
    assert(code.length >= 4, 'an invite code is shown to members');

    const join = await api.call('POST', '/challenges/visiomel-demo/teams/join', { token: bob.token, json: { invite_code: code } });
    assert(join.status === 200, `Bob joins with the code → ${join.status} ${JSON.stringify(join.data)}`);
    await page.reload();
    await block.locator('.members li', { hasText: 'bob_team' }).waitFor();
    await shot('team-of-two');

    // A submission locks the team: leaving is refused with a clear error.
    const sample = fs.readFileSync(path.join(source, 'challenges/visiomel-demo/data/sample_submission.csv'));
    const sub = await api.submit(bob.token, sample, 'from Bob');
    assert(sub.status === 201, `Bob submits → ${sub.status}`);
    await page.reload();
    const row = page.locator(`#mine tr[data-id="${sub.data.id}"]`);
    await row.waitFor();
    await block.locator('#team-locked').waitFor();
    assert((await page.locator('#team-leave').count()) === 0, 'a locked team offers no "Leave" button');

    // The leaderboard row is the team's, marked as mine.
    await eventually(async () => (await row.getAttribute('data-status')) === 'scored', 60000, 'scoring');
    const mine = page.locator('#leaderboard-body tr.mine');
    await mine.waitFor();
    assert((await mine.locator('bdi').textContent()) === TEAM, 'my leaderboard row carries the team name');

    // Final selection: tick the scored submission, reload, still ticked.
    const pick = page.locator(`#pick-${sub.data.id}`);
    await pick.waitFor();
    await pick.check();
    await page.locator('#mine-status', { hasText: 'Final selection saved' }).waitFor({ state: 'attached' });
    const saved = await api.call('GET', '/challenges/visiomel-demo/selection', { token: ada.token });
    assert(JSON.stringify(saved.data.submission_ids) === JSON.stringify([sub.data.id]), `the selection is saved (${JSON.stringify(saved.data)})`);
    await page.reload();
    await page.locator(`#pick-${sub.data.id}`).waitFor();
    assert(await page.locator(`#pick-${sub.data.id}`).isChecked(), 'the tick survives a reload');
    await page.locator('#team').scrollIntoViewIfNeeded();
    await shot('team-locked-and-selection');
  },
  {
    editBundle(dir) {
      const spec = JSON.parse(fs.readFileSync(path.join(dir, 'challenge.json'), 'utf8'));
      spec.phases[0].final_selection = 2;
      fs.writeFileSync(path.join(dir, 'challenge.json'), JSON.stringify(spec, null, 2));
    },
  },
);
