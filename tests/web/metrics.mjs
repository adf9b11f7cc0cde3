// Why this file exists: several metrics in the browser (issue 14, docs/bundle.md "Several metrics"). A challenge with
// two secondary metrics ranked by the weighted mean rank: the challenge page tells the rule from the start, the
// leaderboard has a column per secondary metric (rounded to its precision, sortable), and the jury page shows each
// metric's ranking beside the official one.
import fs from 'node:fs';
import path from 'node:path';
import { run, assert, apiClient, loginTo, waitScored, offScreen } from './lib.mjs';

const SLUG = 'visiomel-demo';

await run('metrics', async ({ url, page, shot, staff, source }) => {
  const api = apiClient(url);
  const sample = fs.readFileSync(path.join(source, 'challenges', SLUG, 'data', 'sample_submission.csv'), 'utf8');
  const ids = [];
  for (const name of ['mia_metrics', 'max_metrics']) {
    const who = await api.participant(name);
    const body = name === 'mia_metrics' ? sample : sample.replace(/,0\.(\d)/g, (all, d) => `,0.${(Number(d) + 3) % 10}`);
    const sub = await api.submit(who.token, body, name);
    assert(sub.status === 201, `submit → ${sub.status} ${JSON.stringify(sub.data)}`);
    await waitScored(api, sub.data.id, who.token);
    ids.push(sub.data.id);
  }
  const board = (await api.call('GET', `/challenges/${SLUG}/leaderboard`)).data;
  assert(board.rows.every((r) => typeof r.metrics.roc_auc === 'number'), `metrics on each row: ${JSON.stringify(board.rows)}`);

  await page.goto(`/challenge.html?slug=${SLUG}#leaderboard`);
  await page.locator('#ranking-rule').getByText('Ranked by the mean of each team\'s ranks on log_loss, AUC × 3, brier').waitFor();
  const head = page.locator('table.leaderboard thead th');
  await head.filter({ hasText: 'AUC' }).waitFor();
  const cells = await page.locator('table.leaderboard tbody td.metric').allTextContents();
  assert(cells.length === 4, `two metric cells per row: ${JSON.stringify(cells)}`);
  const auc = board.rows[0].metrics.roc_auc.toFixed(3);
  assert(cells.includes(auc), `AUC shown with 3 decimals (${auc}) in ${JSON.stringify(cells)}`);
  await head.filter({ hasText: 'AUC' }).getByRole('button').click(); // sortable like the others
  await shot('leaderboard-metrics');

  const judy = staff('judy_metrics', 'jury');
  await loginTo(page, judy, `jury.html?slug=${SLUG}`);
  const table = page.locator('#metric-ranks table');
  await table.waitFor();
  const heads = await table.locator('thead th').allTextContents();
  assert(heads.some((x) => x.startsWith('AUC (τ')), `a column per metric with its tau: ${JSON.stringify(heads)}`);
  assert((await table.locator('tbody tr').count()) === 2, 'a row per team');
  const clipped = await offScreen(page, 1280);
  assert(clipped.length === 0, `off the screen or clipped: ${JSON.stringify(clipped)}`);
  await shot('jury-metrics');
}, {
  editBundle(dir) {
    const spec = JSON.parse(fs.readFileSync(path.join(dir, 'challenge.json'), 'utf8'));
    spec.secondary_metrics = [{ name: 'roc_auc', label: 'AUC', precision: 3 }, { name: 'brier' }];
    spec.ranking = { rule: 'mean_rank', weights: { roc_auc: 3 } };
    fs.writeFileSync(path.join(dir, 'challenge.json'), JSON.stringify(spec, null, 2));
  },
});
