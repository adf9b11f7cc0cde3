// Why this file exists: a leaderboard larger than one page (issue 18, item 1), in a real browser. The challenge page
// asks the server for one page of rows at a time (limit=1000), shows where it is ("1–1000 of 1200"), pages with
// Previous / Next, and sends a search to the server, which finds a team on any page; a board of one page keeps
// its sorting and search in the page (the other browser tests).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { run, assert, apiClient, eventually, waitScored } from './lib.mjs';

const EXTRA = 1199; // with the real team: 1200 rows, a page of 1000 and one of 200

// Adds N teams with a best row each (worse than the real one, in order) to the running server's database (WAL).
const ADD_TEAMS = `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
sid, n = int(sys.argv[2]), int(sys.argv[3])
cid, score = db.execute("SELECT challenge_id, public_score FROM submissions WHERE id=?", (sid,)).fetchone()
for k in range(n):
    tid = db.execute("INSERT INTO teams(challenge_id,name,solo,invite_code,created_at) VALUES(?,?,0,?,0) RETURNING id",
                     (cid, "bulk team %04d" % k, "bulk-invite-%04d" % k)).fetchone()[0]
    db.execute("INSERT INTO leaderboard_best(challenge_id,team_id,submission_id,score,best_created_at,n_scored,last_at) "
               "VALUES(?,?,?,?,?,1,?)", (cid, tid, sid, score + (k + 1) * 1e-3, 1700000000 + k, 1700000000 + k))
db.commit()
`;

await run('bigboard', async ({ url, page, tmp, source, shot }) => {
  const api = apiClient(url);
  const ann = await api.participant('ann_big');
  const sample = fs.readFileSync(path.join(source, 'challenges/visiomel-demo/data/sample_submission.csv'));
  const sub = await api.submit(ann.token, sample, 'the real one');
  assert(sub.status === 201, `a participant submits → ${sub.status}`);
  await waitScored(api, sub.data.id, ann.token);
  execFileSync('python3', ['-c', ADD_TEAMS, path.join(tmp, 'data', 'concours.db'), String(sub.data.id), String(EXTRA)]);

  const asked = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/challenges/visiomel-demo/leaderboard')) asked.push(new URL(r.url()).searchParams);
  });
  await page.goto('/challenge.html?slug=visiomel-demo#leaderboard');
  const rows = page.locator('#leaderboard-body tbody tr');
  const count = page.locator('#leaderboard-body .lb-tools .muted');
  await eventually(async () => (await rows.count()) === 1000, 60000, 'the first page of 1000 rows');
  assert((await count.textContent()) === '1–1000 of 1200 (1200 ranked)', `where the page is: ${await count.textContent()}`);
  assert(asked.length > 0 && asked.every((q) => q.get('limit') === '1000'), 'every request asks for one page');
  assert(await page.getByRole('button', { name: 'Previous page' }).isDisabled(), 'no page before the first');
  assert((await page.locator('#leaderboard-body th button.sort').count()) === 0, 'a page of a larger board stays in rank order');

  await page.getByRole('button', { name: 'Next page' }).click();
  await eventually(async () => (await rows.count()) === 200, 60000, 'the second page');
  assert((await rows.first().locator('td').first().textContent()) === '1001', 'the second page starts at rank 1001');
  assert((await count.textContent()) === '1001–1200 of 1200 (1200 ranked)', `where the page is: ${await count.textContent()}`);
  assert(await page.getByRole('button', { name: 'Next page' }).isDisabled(), 'no page after the last');
  assert(asked.some((q) => q.get('offset') === '1000'), 'the second page was asked for');

  // a search goes to the server and finds a team whatever its page
  await page.locator('#lb-search').fill('bulk team 0777');
  await eventually(async () => (await rows.count()) === 1, 60000, 'the server\'s search');
  assert((await rows.first().locator('td').first().textContent()) === '779', 'the team keeps its rank');
  assert(asked.some((q) => q.get('q') === 'bulk team 0777' && q.get('offset') === '0'), 'the search was the server\'s');
  assert((await count.textContent()) === '1–1 of 1 (1200 ranked)', `the search's count: ${await count.textContent()}`);
  await shot('big-board-search');
});
