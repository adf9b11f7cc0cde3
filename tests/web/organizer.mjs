// Why this file exists: the organizer page in a real browser. An organizer imports a bundle archive through
// the page (a .zip of a copy of the example with a new slug) and sees it listed; a bad bundle shows every
// problem the server found; a CodaLab competition with two tracks lists both challenges; a phase change is
// refused without a reason and saved with one; the queue view catches up with a submission by itself, its scorer
// log opens, and the CSV export downloads.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { run, assert, apiClient, eventually, say, loginTo, assertShown } from './lib.mjs';

// Zips a copy of the example bundle whose challenge.json went through `edit(spec)`; returns the archive.
function bundleZip(source, tmp, slug, edit) {
  const dir = path.join(tmp, 'zips', slug);
  fs.cpSync(path.join(source, 'challenges', 'visiomel-demo'), dir, { recursive: true });
  const file = path.join(dir, 'challenge.json');
  const spec = JSON.parse(fs.readFileSync(file, 'utf8'));
  spec.slug = slug;
  edit(spec);
  fs.writeFileSync(file, JSON.stringify(spec, null, 2));
  const zip = path.join(tmp, `${slug}.zip`);
  execFileSync('python3', ['-m', 'zipfile', '-c', zip, slug], { cwd: path.dirname(dir) });
  return zip;
}

// Zips a CodaLab v1 competition whose two phases start together (two tracks, A and B); returns the archive.
function tracksZip(tmp) {
  const dir = path.join(tmp, 'zips', 'tracks');
  fs.mkdirSync(path.join(dir, 'prog'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'ref'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'prog', 'metadata'), 'command: python $program/score.py $input $output\n');
  fs.writeFileSync(path.join(dir, 'prog', 'score.py'), 'import sys\nopen(sys.argv[2] + "/scores.txt", "w").write("accuracy: 1\\n")\n');
  fs.writeFileSync(path.join(dir, 'ref', 'truth.txt'), 'anything\n');
  const zip = (name, files, cwd) => execFileSync('python3', ['-m', 'zipfile', '-c', path.join(dir, name), ...files], { cwd });
  zip('scoring_program.zip', ['metadata', 'score.py'], path.join(dir, 'prog'));
  zip('reference_data.zip', ['truth.txt'], path.join(dir, 'ref'));
  const phase = (n, label) => `  ${n}:\n    phasenumber: ${n}\n    label: "${label}"\n    start_date: 2026-01-01\n` +
    '    scoring_program: scoring_program.zip\n    reference_data: reference_data.zip\n';
  fs.writeFileSync(path.join(dir, 'competition.yaml'), 'title: Tracked Widgets\ndescription: Two tracks.\nphases:\n' +
    phase(1, 'Subtask A') + phase(2, 'Subtask B') + 'leaderboard:\n  columns:\n    accuracy:\n      label: Accuracy\n      rank: 1\n');
  const out = path.join(tmp, 'tracks.zip');
  execFileSync('python3', ['-m', 'zipfile', '-c', out, 'competition.yaml', 'scoring_program.zip', 'reference_data.zip'], { cwd: dir });
  return out;
}

await run('organizer', async ({ url, page, shot, source, tmp, staff, problems: pageProblems }) => {
  const api = apiClient(url);
  const olga = staff('olga_org', 'organizer');
  const good = bundleZip(source, tmp, 'imported-demo', (spec) => {
    spec.title = 'Imported through the page';
  });
  const bad = bundleZip(source, tmp, 'broken-demo', (spec) => {
    spec.metric = { name: 'no_such_metric' };
    delete spec.phases;
  });

  // A participant's scored submission for the queue and log views.
  const pam = await api.participant('pam_org');
  const sample = fs.readFileSync(path.join(source, 'challenges/visiomel-demo/data/sample_submission.csv'));

  await loginTo(page, olga, 'organizer.html');
  await page.locator('#challenge-list tr[data-slug="visiomel-demo"]').waitFor();
  await assertShown(page.locator('.main-nav a', { hasText: 'Organizer' }), 'the nav links the organizer page');

  // A good bundle: progress, then listed.
  await page.getByLabel('Bundle archive').setInputFiles(good);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.locator('#import-status', { hasText: 'Imported imported-demo' }).waitFor();
  await page.locator('#challenge-list tr[data-slug="imported-demo"]').waitFor();
  assert((await page.locator('#import-bar').evaluate((e) => e.value)) === 100, 'the progress bar reached 100');
  const listed = await api.call('GET', '/challenges/imported-demo');
  assert(listed.status === 200 && listed.data.title === 'Imported through the page', `the server has the new challenge (${listed.status})`);
  await shot('imported');

  // The same bundle again: nothing changes. A changed one: the changes are listed, applied only on request.
  await page.getByLabel('Bundle archive').setInputFiles(good);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.locator('#import-status', { hasText: 'already up to date' }).waitFor();
  const changed = bundleZip(source, path.join(tmp, 'again'), 'imported-demo', (spec) => {
    spec.title = 'Retitled through the page';
  });
  await page.getByLabel('Bundle archive').setInputFiles(changed);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.locator('#import-status .changes li', { hasText: '"title" changed' }).waitFor();
  let before = await api.call('GET', '/challenges/imported-demo');
  assert(before.data.title === 'Imported through the page', 'nothing is applied before the organizer says so');
  await shot('import-changes');
  await page.getByRole('button', { name: 'Apply these changes' }).click();
  await page.locator('#import-status', { hasText: 'Updated imported-demo' }).waitFor();
  before = await api.call('GET', '/challenges/imported-demo');
  assert(before.data.title === 'Retitled through the page', `the change is applied (${before.data.title})`);

  // A bad bundle: every problem is listed.
  await page.getByLabel('Bundle archive').setInputFiles(bad);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const problems = page.locator('#import-status [role=alert] .problems li');
  await problems.first().waitFor();
  const texts = await problems.allTextContents();
  assert(texts.length >= 2, `both problems are listed (got ${JSON.stringify(texts)})`);
  assert(texts.some((t) => t.includes('metric.name')) && texts.some((t) => t.includes('phases')), `the problems name their fields (got ${JSON.stringify(texts)})`);
  assert((await page.locator('#import-status .err-code').textContent()) === 'invalid_bundle', 'the error code is shown');
  assert((await page.locator('#challenge-list tr[data-slug="broken-demo"]').count()) === 0, 'the bad bundle is not listed');
  await shot('bad-bundle');

  // A CodaLab competition with two tracks (issue 13): two challenges, each listed with a link to manage it.
  await page.getByLabel('Bundle archive').setInputFiles(tracksZip(tmp));
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.locator('#import-status .parts', { hasText: 'This competition became 2 challenges' }).waitFor();
  const tracks = await page.locator('#import-status .part-list li').allTextContents();
  assert(JSON.stringify(tracks) === JSON.stringify(['tracked-widgets-subtask-a: imported', 'tracked-widgets-subtask-b: imported']), `both tracks are listed (${JSON.stringify(tracks)})`);
  for (const slug of ['tracked-widgets-subtask-a', 'tracked-widgets-subtask-b']) {
    await page.locator(`#challenge-list tr[data-slug="${slug}"]`).waitFor();
    const one = await api.call('GET', `/challenges/${slug}`);
    assert(one.status === 200 && one.data.phases.length === 1, `${slug} has its own phase (${JSON.stringify(one.data.phases)})`);
  }
  // Each track's page links the other (issue 13): the competition's challenges, this one marked.
  const ctx4 = await page.context().browser().newContext({ baseURL: url });
  const p4 = await ctx4.newPage();
  await p4.goto('/challenge.html?slug=tracked-widgets-subtask-b');
  await p4.locator('#competition a', { hasText: 'Tracked Widgets — Subtask A' }).waitFor();
  assert((await p4.locator('#competition [aria-current=page]').textContent()) === 'Tracked Widgets — Subtask B', 'the page marks its own track');
  await p4.locator('#competition a').click();
  await p4.waitForURL(/slug=tracked-widgets-subtask-a/);
  await p4.locator('#title', { hasText: 'Tracked Widgets — Subtask A' }).waitFor();
  await ctx4.close();
  await shot('tracks');

  // Edit a phase of the imported challenge: no reason → refused in the page; with one → saved.
  await page.locator('#challenge-list tr[data-slug="imported-demo"] a', { hasText: 'Manage' }).click();
  await page.waitForURL(/organizer\.html\?slug=imported-demo/);
  const form = page.locator('form.phase-form[data-phase="development"]');
  await form.waitFor();
  await form.getByLabel('Per day').fill('9');
  await form.getByLabel('Closes (UTC)').fill('2030-06-15T12:00');
  await form.getByLabel('Hide the results from participants until the final ranking is published').check();
  await form.getByRole('button', { name: 'Save development' }).click();
  await form.locator('[role=alert]', { hasText: 'reason is required' }).waitFor();
  assert((await form.getByLabel('Reason for the change').getAttribute('aria-invalid')) === 'true', 'the empty reason is marked invalid');
  let after = await api.call('GET', '/challenges/imported-demo');
  assert(after.data.phases[0].max_per_day === 5, 'nothing was saved without a reason');
  await form.getByLabel('Reason for the change').fill('more tries for the test');
  await form.getByRole('button', { name: 'Save development' }).click();
  await page.locator('#phase-status', { hasText: 'Saved the development phase' }).waitFor();
  after = await api.call('GET', '/challenges/imported-demo');
  assert(after.data.phases[0].max_per_day === 9 && after.data.phases[0].end === '2030-06-15T12:00:00Z', `the phase is saved (${JSON.stringify(after.data.phases[0])})`);
  assert(after.data.phases[0].hide_results === true && after.data.phases[0].closed === false, `hide_results is saved, closed untouched (${JSON.stringify(after.data.phases[0])})`);
  assert(await page.locator('form.phase-form[data-phase="development"]').getByLabel('Hide the results from participants until the final ranking is published').isChecked(), 'the form shows the saved box');
  assert((await page.locator('form.phase-form[data-phase="development"]').getByLabel('Per day').inputValue()) === '9', 'the form shows the saved value');
  await shot('phase-saved');

  // The state: draft hides the challenge from everyone but its staff; the list shows the badge.
  await page.locator('#state-select').selectOption('draft');
  await page.getByRole('button', { name: 'Change the state…' }).click();
  const stateDialog = page.locator('dialog.reason-dialog');
  await stateDialog.getByLabel('Reason').fill('not ready for the public');
  await stateDialog.getByRole('button', { name: 'Change the state' }).click();
  await page.locator('#state-status', { hasText: 'imported-demo is now draft' }).waitFor();
  await page.locator('#challenge-list tr[data-slug="imported-demo"] .badge-draft').waitFor();
  const hidden = await api.call('GET', '/challenges/imported-demo');
  assert(hidden.status === 404, `a draft does not exist for the public (${hidden.status})`);
  await shot('draft');
  await page.locator('#state-select').selectOption('open');
  await page.getByRole('button', { name: 'Change the state…' }).click();
  await stateDialog.getByLabel('Reason').fill('ready');
  await stateDialog.getByRole('button', { name: 'Change the state' }).click();
  await page.locator('#state-status', { hasText: 'imported-demo is now open' }).waitFor();
  assert((await api.call('GET', '/challenges/imported-demo')).status === 200, 'open again');
  // hide_results (issue 13): the public board hides its rows until publication, and the page says why
  const board = await api.call('GET', '/challenges/imported-demo/leaderboard');
  assert(board.status === 200 && board.data.results_hidden === true && board.data.rows.length === 0, `the board is hidden (${JSON.stringify(board.data)})`);
  const ctx3 = await page.context().browser().newContext({ baseURL: url });
  const p3 = await ctx3.newPage();
  await p3.goto('/challenge.html?slug=imported-demo');
  await p3.locator('#leaderboard-body .alert-info', { hasText: 'The results are hidden until the jury publishes the final ranking.' }).waitFor();
  await ctx3.close();

  // The queue of visiomel-demo refreshes by itself after a submission; its log opens.
  await page.goto('/organizer.html?slug=visiomel-demo#queue');
  await page.locator('#queue-body .counts').waitFor();
  // The anonymity report of every data file is shown (issue 15): file, verdict and format.
  await page.locator('#anonymity-body .anon-file').first().waitFor();
  const anonFiles = await page.locator('#anonymity-body .anon-file').evaluateAll((els) => els.map((e) => [e.dataset.file, e.querySelector('.badge').textContent]));
  assert(anonFiles.length === 3 && anonFiles.every(([, verdict]) => verdict === 'passed'), `each data file's report is listed (${JSON.stringify(anonFiles)})`);
  assert(anonFiles.some(([file]) => file === 'train_metadata.csv' || file === 'data/train_metadata.csv'), `files are named (${JSON.stringify(anonFiles)})`);
  const sub = await api.submit(pam.token, sample, 'for the organizer');
  assert(sub.status === 201, `a participant submits → ${sub.status}`);
  await eventually(async () => /1\s*scored/.test(await page.locator('#queue-body .counts').textContent()), 30000, 'the queue view to count the scored submission');
  const row = page.locator(`#submissions-body tr[data-id="${sub.data.id}"]`);
  await row.waitFor();
  assert((await row.locator('td.desc').textContent()) === 'for the organizer', 'the submission is listed with its description');
  // the page asks for the newest 100 only; the count comes from the reply's X-Total-Count
  assert(/^1 submission\(s\), newest first\.$/.test((await page.locator('#submissions-body p.help').textContent()).trim()), 'the count of all submissions');
  await row.locator('button[data-log]').click();
  await page.locator('#log-body pre.log', { hasText: 'concours-score' }).waitFor();
  await shot('queue-and-log');
  // A failed read of the submissions table is read again at the next poll of the queue, though the counts stay
  // the same (once, the list stayed an error until a count changed).
  const exportPage = '**/export?format=json&limit=*';
  let exportReads = 0;
  await page.route(exportPage, (route) => (exportReads++ === 0
    ? route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'unavailable', message: 'busy' } }) })
    : route.continue()));
  await page.reload();
  await page.locator('#submissions-body .alert-error', { hasText: 'Could not list the submissions' }).waitFor();
  await row.waitFor({ timeout: 60000 });
  assert(exportReads >= 2, `the list was read again (${exportReads} reads)`);
  await page.unroute(exportPage);
  // the one 503 provoked here is logged by chromium; any other problem still fails the test
  const provoked = pageProblems.findIndex((p) => p.includes('status of 503'));
  assert(provoked >= 0, 'the provoked 503 was seen');
  pageProblems.splice(provoked, 1);

  // Re-scoring the challenge needs a reason, then queues the scored submission again.
  await page.getByRole('button', { name: 'Re-score submissions…' }).click();
  const dialog = page.locator('dialog.reason-dialog');
  await dialog.getByLabel('Phase:').selectOption('development');
  await dialog.getByRole('button', { name: 'Re-score' }).click();
  await dialog.locator('[role=alert]', { hasText: 'is required' }).waitFor();
  await dialog.getByLabel('Reason').fill('metric parameters fixed');
  await dialog.getByRole('button', { name: 'Re-score' }).click();
  await page.locator('#rescore-status', { hasText: '1 submission(s) queued again' }).waitFor();

  // The CSV export downloads with the session.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  assert(download.suggestedFilename() === 'visiomel-demo-submissions.csv', `the export is named (${download.suggestedFilename()})`);
  assert(csv.startsWith('"id","team"') && csv.includes('for the organizer'), 'the CSV export holds the submission');

  // On a phone.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/organizer.html?slug=imported-demo');
  await page.locator('form.phase-form').first().waitFor();
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  assert(!wide, 'no page-wide horizontal scrolling on a phone');
  await shot('phone');

  // A participant has no organizer link and the page says so.
  const ctx2 = await page.context().browser().newContext({ baseURL: url });
  const p2 = await ctx2.newPage();
  await loginTo(p2, pam, 'organizer.html');
  await p2.locator('#page-status [role=alert]', { hasText: 'for an organizer' }).waitFor();
  assert((await p2.locator('.main-nav a', { hasText: 'Organizer' }).count()) === 0, 'no organizer link for a participant');
  await ctx2.close();
  say('organizer page ok');
});
