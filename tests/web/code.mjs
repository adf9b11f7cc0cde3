// Why this file exists: a code-execution challenge in a real browser (docs/code.md): the page says it takes
// code, a smoke test uploads the archive and shows the run's log live (its stdout and stderr) and its score on
// the sample, the smoke run is marked and costs no submission, and a full run shows its stage, then its wall
// time and peak memory, without its log. A converted CodaLab competition with code submissions says how to send code
// or result files.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, assert, apiClient, eventually, say, loginTo } from './lib.mjs';

const SLUG = 'tissuenet-code-demo';
const execFileAsync = promisify(execFile); // rejects, with the output, when the command fails

// A zip of {name: text}, written by Python's zipfile (the standard library: no npm package for zips).
function zipOf(file, files) {
  const script = 'import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1],"w")\nfor k,v in json.loads(sys.argv[2]).items(): z.writestr(k,v)\nz.close()';
  execFileSync('python3', ['-c', script, file, JSON.stringify(files)]);
  return file;
}

await run('code', async ({ url, page, shot, source, tmp, staff, concours }) => {
  const api = apiClient(url);
  const kim = await api.participant('kim_code');
  const terms = await api.call('POST', `/challenges/${SLUG}/terms`, { token: kim.token, json: { version: 1 } });
  assert(terms.status === 204, `terms → ${terms.status}`);
  const files = fs.mkdtempSync(path.join(os.tmpdir(), 'concours-web-code-'));
  const baseline = fs.readFileSync(path.join(source, 'challenges', SLUG, 'baseline', 'main.py'), 'utf8');
  const marked = baseline.replace('def main():', 'def main():\n    print("LOG-MARKER from the smoke run", file=sys.stderr, flush=True)');
  const smokeZip = zipOf(path.join(files, 'smoke.zip'), { 'main.py': marked });
  try {
    await loginTo(page, kim, `challenge.html?slug=${SLUG}#submit`);
    await page.getByRole('heading', { name: 'Submit code' }).waitFor();
    await page.locator('#quota').locator('text=5 left today').waitFor();
    await page.getByLabel('Code archive').setInputFiles(smokeZip);
    await page.getByRole('button', { name: 'Smoke test' }).click();
    await page.locator('#upload-status .alert-ok', { hasText: 'smoke run' }).waitFor();
    const log = page.locator('#run-log-body');
    await eventually(async () => (await log.textContent()).includes('LOG-MARKER'), 90000, 'the smoke log to show the marker');
    await eventually(async () => (await log.textContent()).includes('wrote 8 predictions'), 90000, 'the smoke run to finish');
    const row = page.locator('#mine tbody tr').first();
    await eventually(async () => (await row.getAttribute('data-status')) === 'scored', 90000, 'the smoke run to be scored');
    assert((await row.locator('.badge-smoke').count()) === 1, 'the smoke run is marked');
    assert(/sample: \d/.test(await row.locator('td.score').textContent()), 'its score on the sample is shown');
    assert(/\d+\.\d s, \d+ MB/.test(await row.locator('td.detail').textContent()), 'wall time and peak memory are shown');
    await page.locator('#quota').locator('text=5 left today').waitFor(); // no submission spent
    say('smoke run row:', (await row.textContent()).replace(/\s+/g, ' '));
    await shot('smoke-run-log');

    // A full run: counted, with a stage while it runs, and no log for the participant.
    const fullZip = zipOf(path.join(files, 'full.zip'), { 'main.py': baseline });
    await page.getByLabel('Code archive').setInputFiles(fullZip);
    await page.getByRole('button', { name: 'Upload and run' }).click();
    await page.locator('#upload-status .alert-ok', { hasText: 'submission' }).waitFor();
    const full = page.locator('#mine tbody tr').first();
    await eventually(async () => (await full.getAttribute('data-status')) === 'scored', 90000, 'the full run to be scored');
    await page.locator('#quota').locator('text=4 left today').waitFor();
    await full.getByRole('button', { name: /Log of submission/ }).click();
    await page.locator('#run-log-state', { hasText: 'organizers only' }).waitFor();
    await shot('full-run');

    // A remote worker that called in shows on the organizer's queue view (docs/workers.md).
    const made = spawnSync(concours, ['worker-token', 'add', 'web-site', '--data', path.join(tmp, 'data')], { encoding: 'utf8' });
    assert(made.status === 0, `worker-token add → ${made.status}: ${made.stderr}`);
    const claim = await fetch(`${url}/api/v1/worker/claim`, {
      method: 'POST',
      headers: { Authorization: `Worker ${made.stdout.trim()}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ node: 'web-node-7', wait: 0 }),
    });
    assert(claim.status === 204, `an idle claim → ${claim.status}`);
    // a run that would go on for ten minutes, which the organizer cancels from the submissions table
    const sleeper = fs.readFileSync(zipOf(path.join(files, 'sleeper.zip'), { 'main.py': 'import time\ntime.sleep(600)\n' }));
    const sent = await api.call('POST', `/challenges/${SLUG}/submissions?mode=smoke`, { token: kim.token, body: sleeper, headers: { 'Content-Type': 'application/zip' } });
    assert(sent.status === 201, `the sleeper → ${sent.status}`);
    const olga = staff('olga_code', 'organizer');
    await page.context().clearCookies();
    await loginTo(page, olga, `organizer.html?slug=${SLUG}#queue`);
    const workerRow = page.locator('#queue-body table.workers tbody tr', { hasText: 'web-node-7' });
    await workerRow.waitFor();
    assert((await workerRow.textContent()).includes('web-site'), 'the worker row names its token');
    await shot('organizer-workers');
    const sleeperRow = page.locator(`table.org-submissions tbody tr[data-id="${sent.data.id}"]`);
    const stop = sleeperRow.getByRole('button', { name: `Cancel submission #${sent.data.id}` });
    try {
      await stop.waitFor({ timeout: 90000 });
    } catch (err) { // say what the row and the submission were, not only that no button came
      const now = await api.call('GET', `/submissions/${sent.data.id}`, { token: kim.token });
      throw new Error(`no Cancel button for #${sent.data.id} (${err.message.split('\n')[0]}): the submission is ${JSON.stringify(now.data)}; `
        + `the list says: ${await page.locator('#submissions-body').textContent()}`);
    }
    await stop.click();
    const dialog = page.locator('dialog.reason-dialog');
    await dialog.getByLabel('Reason').fill('runs far too long');
    await dialog.getByRole('button', { name: 'Cancel the submission' }).click();
    await eventually(async () => (await sleeperRow.locator('.badge').first().textContent()) === 'cancelled', 60000, 'the row to say cancelled');
    const after = await api.call('GET', `/submissions/${sent.data.id}`, { token: kim.token });
    assert(after.data.status === 'cancelled', `the sleeper is ${after.data.status}`);

    // A converted CodaLab competition with code submissions (docs/code.md, "ingestion program"): the page says to
    // send code with its metadata file, and that a zip without one is scored as result files.
    // (run without blocking the event loop: a blocked loop misses the server closing an idle keep-alive socket,
    // and the next request would be written to it)
    const made2 = await execFileAsync('python3', ['-c', 'import sys; sys.path[:0] = [sys.argv[2] + "/tests/sandbox", sys.argv[2] + "/tests/http"]\n'
      + 'from test_codalab_code import make_competition\nprint(make_competition(sys.argv[1]))', files, source]);
    await execFileAsync(concours, ['challenge', 'import', made2.stdout.trim(), '--data', path.join(tmp, 'data')]);
    const codalab = 'sort-numbers-with-code';
    const terms2 = await api.call('POST', `/challenges/${codalab}/terms`, { token: kim.token, json: { version: 1 } });
    assert(terms2.status === 204, `terms → ${terms2.status}`);
    await page.context().clearCookies();
    await loginTo(page, kim, `challenge.html?slug=${codalab}#submit`);
    await page.getByRole('heading', { name: 'Submit code' }).waitFor();
    await page.locator('#facts strong', { hasText: 'accuracy' }).first().waitFor(); // the program's score key names the metric
    const help = await page.locator('#file-help').textContent();
    assert(help.includes('with its metadata file') && help.includes('scored as result files'), `the hint says: ${help}`);
    await shot('ingestion-hint');
  } finally {
    fs.rmSync(files, { recursive: true, force: true });
  }
}, { extraBundles: [SLUG] });
