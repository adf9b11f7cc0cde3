// Why this file exists: the challenge page — overview (Markdown), terms to accept, data files, the upload
// form (raw body, progress bar), my submissions with live status, quota, and the leaderboard.
import { api, upload, errorBox, loginHref, ApiError } from './api.js';
import { h, replace, $, timeEl, fmtBytes, fmtRelative, randomKey, fmtScore, scrollBox, here, progressReporter } from './dom.js';
import { initNav } from './nav.js';
import { renderMarkdown } from './markdown.js';
import { leaderboardView, rankingRule } from './leaderboard.js';
import { teamView } from './team.js';
import { factSheetView } from './factsheet.js';
import { t } from './i18n.js';

const POLL_MS = 2000;
const slug = new URLSearchParams(window.location.search).get('slug') || '';
const base = `/challenges/${encodeURIComponent(slug)}`;
let me = null;
let challenge = null;
let board = null;
let submissions = [];
let pollTimer = null;
let team = null; // my team in this challenge (GET …/team), or null
let teamUi = null;
const known = new Map(); // submission id → last status seen, to announce changes

function score(v) {
  return fmtScore(v, challenge && challenge.leaderboard ? challenge.leaderboard.precision : undefined);
}

function section(msg, cls = 'muted') {
  return h('p', { class: cls }, ...[msg].flat());
}

// A challenge made from a CodaLab / Codabench competition with others (its tracks, its phases scored apart, each with
// its own leaderboard): links to them all, this one marked as the current page.
function competitionFact(comp) {
  if (!comp || !Array.isArray(comp.challenges) || comp.challenges.length < 2) return null;
  const items = comp.challenges.flatMap((c, i) => [i ? ' · ' : '', c.slug === slug
    ? h('strong', { 'aria-current': 'page', text: c.title })
    : h('a', { href: `challenge.html?slug=${encodeURIComponent(c.slug)}`, text: c.title })]);
  return h('li', { id: 'competition' }, t('One of the challenges made from {title}, each with its own leaderboard: ', { title: comp.title }), ...items);
}

function renderHead() {
  document.title = `${challenge.title || slug} · concours`;
  $('#title').textContent = challenge.title || slug;
  $('#summary').textContent = challenge.summary || '';
  const metric = challenge.metric || {};
  const facts = [
    h('li', {}, t('Metric '), h('strong', { text: metric.name || '?' }), metric.higher_is_better ? t(' (higher is better)') : t(' (lower is better)')),
    // several metrics: the others, and the rule that ranks, told from the start
    Array.isArray(challenge.metrics) && challenge.metrics.length > 1
      ? h('li', { id: 'ranking-rule' }, t('Also shown: '), challenge.metrics.filter((m) => !m.primary).map((m) => m.label).join(', '), '. ',
        challenge.ranking && challenge.ranking.rule === 'mean_rank' ? rankingRule(challenge.metrics, challenge.ranking) : t('The first metric alone ranks.'))
      : null,
    challenge.phase
      ? h('li', {}, h('span', { class: 'badge badge-open', text: t('open') }), t(' {phase} phase, closes ', { phase: challenge.phase }), challenge.ends_at ? timeEl(challenge.ends_at, { relative: true }) : t('never'))
      : h('li', {}, h('span', { class: 'badge badge-finished', text: t('closed') }), t(' No phase is open now.')),
    competitionFact(challenge.competition),
    challenge.state === 'archived' ? h('li', {}, h('span', { class: 'badge badge-archived', text: t('archived') }), t(' Read-only: the data and the leaderboard stay here; nobody can join, submit or change teams.')) : null,
    challenge.state === 'draft' ? h('li', {}, h('span', { class: 'badge badge-draft', text: t('draft') }), t(' Only the staff of this challenge see it.')) : null,
  ].filter(Boolean);
  replace($('#facts'), facts);
}

// The overview, the phases and the terms text change only with a new bundle: rendered once per page load.
function renderOverview() {
  // The overview often starts with the title as "# …": the page already shows it as its <h1>.
  const overview = String(challenge.overview || t('_No overview._')).replace(/^\s*#\s+(.*)\n/, (line, text) =>
    text.trim() === String(challenge.title || '').trim() ? '' : line);
  replace($('#overview-body'), renderMarkdown(overview, { headingOffset: 2 }));
  const quota = (n, p) => (p.closed ? t('closed') : n ? String(n) : t('unlimited'));
  replace(
    $('#phases tbody'),
    (challenge.phases || []).map((p) =>
      h('tr', { class: p.name === challenge.phase ? 'current' : null },
        h('th', { scope: 'row', text: p.name }), h('td', {}, timeEl(p.start)), h('td', {}, timeEl(p.end)),
        h('td', { text: quota(p.max_per_day, p) }), h('td', { text: quota(p.max_total, p) }), h('td', { text: p.final_selection > 0 ? String(p.final_selection) : '—' })),
    ),
  );
  $('#terms-version').textContent = String(challenge.terms_version ?? '');
  replace($('#terms-body'), renderMarkdown(challenge.terms || t('_No terms._'), { headingOffset: 2 }));
}

function renderTerms() {
  const box = $('#terms-action');
  if (!me) {
    $('#terms-details').open = true;
    replace(box, section([h('a', { href: loginHref(), text: t('Log in') }), t(' or '), h('a', { href: `register.html?next=${encodeURIComponent(here())}`, text: t('register') }), t(' to accept the terms and take part.')]));
  } else if (challenge.terms_accepted) {
    replace(box, h('p', { class: 'alert alert-ok', text: t('You accepted version {v} of the terms.', { v: challenge.terms_version }) }));
  } else {
    $('#terms-details').open = true;
    const button = h('button', { type: 'button', id: 'accept-terms', class: 'button primary', text: t('I accept the terms (version {v})', { v: challenge.terms_version }) });
    const status = h('div');
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await api('POST', `${base}/terms`, { json: { version: challenge.terms_version } });
        await refresh();
        $('#data-h').scrollIntoView({ block: 'start' });
      } catch (err) {
        replace(status, errorBox(err, { what: t('Could not record your acceptance') }));
        button.disabled = false;
      }
    });
    replace(box, h('p', { text: t('You must accept these terms before you can download the data or submit.') }), button, status);
  }
}

function fileHref(name) {
  return `/api/v1${base}/files/${String(name).split('/').map(encodeURIComponent).join('/')}`;
}

async function renderData() {
  const box = $('#data-body');
  if (!me) return replace(box, section([h('a', { href: loginHref(), text: t('Log in') }), t(' and accept the terms to see the data files.')]));
  if (!challenge.terms_accepted) return replace(box, section(t('Accept the terms above to see the data files.')));
  let files;
  try {
    files = await api('GET', `${base}/files`);
  } catch (err) {
    return replace(box, errorBox(err, { what: t('Could not list the files') }));
  }
  if (!Array.isArray(files) || !files.length) return replace(box, section(t('This challenge has no data files.')));
  const rows = files.map((f) =>
    h('tr', {},
      h('th', { scope: 'row' }, h('bdi', { text: f.name })),
      h('td', { class: 'num', text: fmtBytes(f.size) }),
      h('td', {}, h('code', { class: 'hash', title: 'SHA-256', text: f.sha256 })),
      h('td', {}, h('a', { class: 'button small', href: fileHref(f.name), download: String(f.name).split('/').pop(), text: t('Download') }, h('span', { class: 'visually-hidden', text: ` ${f.name}` })))),
  );
  replace(box, scrollBox(h('table', { class: 'files' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('File') }), h('th', { scope: 'col', class: 'num', text: t('Size') }), h('th', { scope: 'col', text: 'SHA-256' }), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: t('Download') })))),
    h('tbody', {}, rows))),
  h('p', { class: 'help' }, t('Check a download with '), h('code', { text: 'sha256sum FILE' }), '.'));
}

function left(n, text) {
  return n === null || n === undefined ? t('unlimited') : text;
}

function renderQuota() {
  const q = challenge.quota;
  const box = $('#quota');
  if (!me || !challenge.phase || !q) return replace(box);
  replace(box, h('p', { class: 'quota' },
    h('strong', { text: left(q.left_today, t('{n} left today', { n: q.left_today })) }), t(' ({n} used) · ', { n: q.used_today ?? 0 }),
    h('strong', { text: left(q.left_total, t('{n} left in total', { n: q.left_total })) }), t(' ({n} used)', { n: q.used_total ?? 0 }),
    q.resets_at ? [t(' · daily quota resets '), timeEl(q.resets_at), ` (${fmtRelative(q.resets_at)})`] : null));
}

function renderSubmitGate() {
  const gate = $('#submit-gate');
  const form = $('#submit-form');
  let msg = null;
  if (!me) msg = [h('a', { href: loginHref(), text: t('Log in') }), t(' to submit predictions.')];
  else if (challenge.state === 'archived') msg = t('This challenge is archived: submissions are closed for good.');
  else if (!challenge.terms_accepted) msg = t('Accept the terms to submit predictions.');
  else if (!challenge.phase) msg = t('Submissions are closed: no phase is open now.');
  else if (challenge.quota && challenge.quota.left_total === 0) msg = t('You have used all your submissions for this phase.');
  else if (challenge.quota && challenge.quota.left_today === 0) msg = t('You have used today’s submissions. Come back after the reset.');
  if (!uploading) form.hidden = msg !== null;
  replace(gate, msg ? section(msg, 'alert alert-info') : null);
}

let uploading = null;

function isCode() {
  return !!(challenge && challenge.submission && challenge.submission.kind === 'code');
}

// A code-execution challenge takes an archive of code, and offers smoke runs (docs/code.md).
function renderSubmitKind() {
  if (!isCode()) return;
  $('#submit-h').textContent = t('Submit code');
  $('#submit-button').textContent = t('Upload and run');
  const fileLabel = document.querySelector('label[for="file"]');
  if (fileLabel) fileLabel.textContent = t('Code archive');
  $('#file').setAttribute('accept', '.zip,.tar,.tgz,.gz,application/zip,application/gzip');
  const max = challenge.submission.max_bytes;
  if (challenge.submission.ingestion) {
    // CodaLab's code submissions: the organizers' ingestion program runs the code; without metadata, result files
    $('#file-help').textContent = t('A zip of your code with its metadata file, as the challenge explains (at most {max}): the organizers\' program runs it on the hidden test inputs and its output is scored. A zip without a metadata file is scored as result files.', { max: fmtBytes(max || 0) });
  } else {
    $('#file-help').textContent = max
      ? t('A zip or tar.gz of your code with main.py at its root (at most {max}). It runs on the hidden test inputs; the file it writes is scored.', { max: fmtBytes(max) })
      : t('A zip or tar.gz of your code with main.py at its root. It runs on the hidden test inputs; the file it writes is scored.');
  }
  const smoke = !!challenge.submission.smoke;
  $('#smoke-button').hidden = !smoke;
  $('#smoke-help').hidden = !smoke;
  if (smoke) $('#smoke-help').textContent = t('A smoke test runs your code on the public sample, shows its whole log and costs no submission ({n} a day).', { n: challenge.submission.smoke_per_day });
}

let logTimer = null;
let logFor = null;

// Shows the log of code run ID, following it while it runs (?offset= asks only for what is new).
async function showLog(id) {
  clearTimeout(logTimer);
  logFor = id;
  const panel = $('#run-log');
  const body = $('#run-log-body');
  const state = $('#run-log-state');
  panel.hidden = false;
  $('#run-log-h').textContent = t('Log of #{id}', { id });
  body.textContent = '';
  let length = 0;
  const step = async () => {
    if (logFor !== id) return;
    let got;
    try {
      got = await api('GET', `/submissions/${encodeURIComponent(id)}/log?offset=${length}`);
    } catch (err) {
      body.hidden = true;
      replace(state, errorBox(err, { what: t('No log to show') }));
      return;
    }
    body.hidden = false;
    if (logFor !== id) return;
    if (got.log) body.append(document.createTextNode(got.log));
    length = got.length;
    state.textContent = got.running ? t('Running… the log updates by itself.') : t('{size} of log.', { size: fmtBytes(length) });
    if (got.running) logTimer = setTimeout(step, 1000);
  };
  await step();
}

function setupForm() {
  const form = $('#submit-form');
  const fileInput = $('#file');
  const bar = $('#progress-bar');
  const text = $('#progress-text');
  const status = $('#upload-status');
  const cancel = $('#cancel-upload');
  const submitButton = $('#submit-button');
  // One Idempotency-Key per chosen file: a retry after a lost answer cannot create a second submission.
  let key = null;
  fileInput.addEventListener('change', () => {
    key = null;
  });
  cancel.addEventListener('click', () => uploading && uploading.abort());
  const smokeButton = $('#smoke-button');
  smokeButton.addEventListener('click', () => send('smoke'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    send(null);
  });
  async function send(mode) {
    const file = fileInput.files && fileInput.files[0];
    if (!file) {
      replace(status, h('div', { class: 'alert alert-error', role: 'alert', text: isCode() ? t('Choose a code archive first.') : t('Choose a prediction file first.') }));
      fileInput.focus();
      return;
    }
    if (file.size === 0) {
      replace(status, h('div', { class: 'alert alert-error', role: 'alert', text: t('This file is empty.') }));
      return;
    }
    const description = $('#description').value.trim();
    const params = [];
    if (description) params.push(`description=${encodeURIComponent(description)}`);
    if (mode) params.push(`mode=${mode}`);
    const query = params.length ? `?${params.join('&')}` : '';
    submitButton.disabled = true;
    smokeButton.disabled = true;
    cancel.hidden = false;
    $('#upload-progress').hidden = false;
    const onProgress = progressReporter(bar, text);
    onProgress(0, file.size);
    replace(status, section(t('Uploading {name}…', { name: file.name })));
    uploading = upload(`${base}/submissions${query}`, file, { headers: { 'Idempotency-Key': (key = key || randomKey()) }, onProgress });
    try {
      const created = await uploading.promise;
      bar.value = 100;
      replace(status, h('p', { class: 'alert alert-ok', role: 'status' }, mode === 'smoke'
        ? t('Received: smoke run #{id} is {status}. Its status updates below.', { id: created.id, status: t(created.status) })
        : t('Received: submission #{id} is {status}. Its status updates below.', { id: created.id, status: t(created.status) })));
      form.reset();
      key = null;
      if (created && created.id !== undefined) known.set(created.id, created.status);
      if (mode === 'smoke' && created && created.id !== undefined) showLog(created.id);
      await refresh();
    } catch (err) {
      replace(status, errorBox(err, { what: t('Upload refused') }));
      if (err instanceof ApiError && err.status !== 0) refresh();
    } finally {
      uploading = null;
      submitButton.disabled = false;
      smokeButton.disabled = false;
      cancel.hidden = true;
      setTimeout(() => {
        if (!uploading) $('#upload-progress').hidden = true;
      }, 1500);
    }
  }
}

function statusBadge(st) {
  return h('span', { class: `badge status-${/^[a-z]+$/.test(st) ? st : 'unknown'}`, text: t(st) });
}

// The final selection of the open phase ({phase, max, submission_ids}), when that phase has one.
let selection = null;

async function loadSelection() {
  const phase = (challenge.phases || []).find((p) => p.name === challenge.phase);
  selection = null;
  if (!me || !phase || !(phase.final_selection > 0) || !challenge.terms_accepted) return;
  try {
    selection = await api('GET', `${base}/selection`);
  } catch {
    selection = null; // no selection endpoint (yet): the column stays away
  }
}

function selectable(x) {
  return selection && x.status === 'scored' && x.mode !== 'smoke' && (x.phase === undefined || x.phase === selection.phase);
}

async function saveSelection(ids, box) {
  try {
    const saved = await api('PUT', `${base}/selection`, { json: { submission_ids: ids } });
    selection.submission_ids = (saved && saved.submission_ids) || ids;
    $('#mine-status').textContent = t('Final selection saved: {ids}.', { ids: selection.submission_ids.map((id) => `#${id}`).join(', ') || t('none') });
  } catch (err) {
    replace($('#selection-status'), errorBox(err, { what: t('Could not save your final selection') }));
  }
  renderMine();
  box && document.getElementById(box.id)?.focus();
}

function selectBox(x) {
  const picked = selection.submission_ids || [];
  const on = picked.includes(x.id);
  const box = h('input', { type: 'checkbox', id: `pick-${x.id}`, checked: on, disabled: !on && picked.length >= selection.max, 'aria-label': t('Select submission #{id} for the final ranking', { id: x.id }) });
  box.addEventListener('change', () => saveSelection(box.checked ? [...picked, x.id] : picked.filter((id) => id !== x.id), box));
  return box;
}

function cancelButton(x) {
  const button = h('button', { type: 'button', class: 'button small', text: t('Cancel'), 'aria-label': t('Cancel submission #{id}', { id: x.id }) });
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await api('DELETE', `/submissions/${encodeURIComponent(x.id)}`);
    } catch (err) {
      replace($('#upload-status'), errorBox(err, { what: t('Could not cancel #{id}', { id: x.id }) }));
    }
    refresh();
  });
  return button;
}

function logButton(x) {
  const button = h('button', { type: 'button', class: 'button small', text: t('Log'), 'aria-label': t('Log of submission #{id}', { id: x.id }) });
  button.addEventListener('click', () => showLog(x.id).then(() => $('#run-log').scrollIntoView()));
  return button;
}

function renderMine() {
  const box = $('#mine');
  if (!me) return replace(box, section(t('Log in to see your submissions.')));
  if (!submissions.length) return replace(box, section(t('No submission yet.')));
  // once the jury has published: each submission's private score, and the one that was ranked, with its rank
  const published = Boolean(challenge && challenge.published) && submissions.some((x) => x.private_score !== undefined);
  const heads = ['#', t('Submitted'), t('Description'), t('Status'), t('Public score'), published ? t('Private score') : null, t('Details'), selection ? t('Final') : null, ''];
  const rows = submissions.map((x) =>
    h('tr', { dataset: { id: x.id, status: x.status } },
      h('td', { class: 'num', text: `#${x.id}` }),
      h('td', {}, timeEl(x.created_at)),
      h('td', { class: 'desc' }, x.description ? h('bdi', { text: x.description }) : h('span', { class: 'muted', text: '—' })),
      h('td', {}, statusBadge(x.status), x.mode === 'smoke' ? h('span', { class: 'badge badge-smoke', text: t('smoke') }) : null,
        pending(x) && x.stage && x.stage !== x.status ? h('span', { class: 'muted', text: ` ${t(x.stage)}` }) : null),
      h('td', { class: 'num score', text: x.mode === 'smoke' ? (x.smoke_score === undefined || x.smoke_score === null ? '—' : t('sample: {score}', { score: score(x.smoke_score) })) : x.results_hidden ? t('hidden') : score(x.public_score) }),
      published ? h('td', { class: 'num score private' }, x.private_score === null || x.private_score === undefined ? '—' : score(x.private_score),
        finalRanks && finalRanks.has(x.id) ? h('span', { class: 'badge badge-final', text: t('ranked #{rank}', { rank: finalRanks.get(x.id) }) }) : null) : null,
      h('td', { class: 'detail' }, x.error ? h('span', { class: 'error-text', text: x.error.message || x.error.code }) : x.scored_at ? timeEl(x.scored_at) : null,
        x.wall_seconds !== undefined ? h('span', { class: 'muted run-usage', text: ` ${x.wall_seconds.toFixed(1)} s, ${Math.round(x.peak_memory_mb)} MB` }) : null),
      selection ? h('td', { class: 'pick' }, selectable(x) ? selectBox(x) : null) : null,
      h('td', {}, x.status === 'queued' || x.status === 'running' ? cancelButton(x) : null, x.kind === 'code' ? logButton(x) : null)),
  );
  const note = selection
    ? h('p', { class: 'help', id: 'selection-note' },
      t('Final ranking: tick up to {max} scored submissions of the {phase} phase ({n} ticked). With none ticked, your best public one counts.', { max: selection.max, phase: selection.phase, n: (selection.submission_ids || []).length }))
    : null;
  replace(box, note, h('div', { id: 'selection-status' }), scrollBox(h('table', { class: 'submissions' },
    h('thead', {}, h('tr', {}, heads.filter((x) => x !== null).map((head) => h('th', { scope: 'col' }, head || h('span', { class: 'visually-hidden', text: t('Actions') }))))),
    h('tbody', {}, rows))));
}

// Announces status changes to screen readers and reports whether any submission finished since the last
// look (including one sent from elsewhere, e.g. a script, and first seen already scored).
function announce() {
  const news = [];
  let finished = false;
  const firstLook = known.size === 0;
  for (const x of submissions) {
    const before = known.get(x.id);
    const done = x.status === 'scored' || x.status === 'failed';
    if (before !== undefined && before !== x.status) {
      news.push(x.status === 'scored' ? t('Submission #{id} is scored: {score}.', { id: x.id, score: x.results_hidden ? t('hidden') : score(x.public_score) }) : t('Submission #{id} is {status}.', { id: x.id, status: t(x.status) }));
      if (done) finished = true;
    } else if (before === undefined && done && !firstLook) finished = true;
    known.set(x.id, x.status);
  }
  if (news.length) $('#mine-status').textContent = news.join(' ');
  return finished;
}

let finalRanks = null; // after publication: submission id → its rank in the signed ranking

async function loadFinalRanks() {
  if (!challenge || !challenge.published || finalRanks) return;
  try {
    const ranking = await api('GET', `${base}/ranking`);
    finalRanks = new Map((ranking.rows || []).map((r) => [r.submission_id, r.rank]));
  } catch {
    finalRanks = new Map(); // the private scores still show
  }
}

async function loadSubmissions() {
  if (!me) return;
  try {
    const list = await api('GET', `${base}/submissions`);
    submissions = Array.isArray(list) ? list : [];
    await loadFinalRanks();
  } catch (err) {
    replace($('#mine'), errorBox(err, { what: t('Could not load your submissions') }));
    if (submissions.some(pending)) pollTimer = setTimeout(loadSubmissions, POLL_MS * 3); // keep trying
    return;
  }
  const finished = announce();
  renderMine();
  if (finished) {
    await Promise.all([loadChallenge().then(() => { renderQuota(); renderSubmitGate(); }), loadBoard()]);
  }
  schedulePoll();
}

function pending(x) {
  return x.status === 'queued' || x.status === 'running';
}

function schedulePoll() {
  clearTimeout(pollTimer);
  if (submissions.some(pending)) {
    pollTimer = setTimeout(loadSubmissions, POLL_MS);
  }
}

let lbView = null;
let split = null; // null: the server's default (public); 'private' or 'public' once published

// Leaderboard rows are named after teams (a solo team after its member).
function isMine(name) {
  return !!me && (name === me.username || (team !== null && name === team.name));
}

// The method description block (docs/factsheets.md): shown when a phase asks for one, to a participant who
// accepted the terms.
async function loadFactSheet() {
  const on = !!me && challenge.terms_accepted && challenge.fact_sheets && challenge.fact_sheets !== 'none';
  $('#method').hidden = !on;
  $('#tab-method').hidden = !on;
  // once shown it refreshes itself (a refresh of the page's data must not reset a half-filled form)
  if (on && !$('#method-body').hasChildNodes()) await factSheetView($('#method-body'), { base, challenge }).load();
}

async function loadTeam() {
  const show = (on) => {
    $('#team').hidden = !on;
    $('#tab-team').hidden = !on;
  };
  if (!me || !challenge.terms_accepted) {
    team = null;
    return show(false);
  }
  if (!teamUi) teamUi = teamView($('#team-body'), { base, onChange: () => refresh() });
  team = await teamUi.load();
  show(team !== null);
}

// The leaderboard's rows are asked for one page at a time (LB_PAGE, the server's largest): a board that fits in
// one page is sorted and searched here; a larger one is paged and searched by the server (docs/web.md).
const LB_PAGE = 1000;
let lbPage = { offset: 0, q: '' };

async function loadBoard() {
  if (split === null && challenge.published) split = 'private'; // the final ranking first
  const query = new URLSearchParams({ limit: String(LB_PAGE), offset: String(lbPage.offset) });
  if (split) query.set('split', split);
  if (lbPage.q) query.set('q', lbPage.q);
  try {
    board = await api('GET', `${base}/leaderboard?${query}`);
  } catch (err) {
    replace($('#leaderboard-body'), errorBox(err, { what: t('Could not load the leaderboard') }));
    lbView = null;
    return;
  }
  if (board.results_hidden) { // a phase hides its results until the jury publishes (hide_results)
    replace($('#leaderboard-body'), h('p', { class: 'alert alert-info', text: t('The results are hidden until the jury publishes the final ranking.') }));
    lbView = null;
    return;
  }
  if (!lbView) {
    lbView = leaderboardView($('#leaderboard-body'), {
      isMine,
      precision: challenge.leaderboard && challenge.leaderboard.precision,
      metrics: Array.isArray(challenge.metrics) ? challenge.metrics : [],
      ranking: challenge.ranking || null,
      pageSize: LB_PAGE,
      onSplit(which) {
        split = which;
        lbPage = { offset: 0, q: '' };
        loadBoard();
      },
      onPage(offset, q) { // a board larger than a page: another page, or the server's search
        lbPage = { offset, q };
        loadBoard();
      },
    });
  }
  lbView.update(board, submissions, { published: !!challenge.published });
}

async function loadChallenge() {
  challenge = await api('GET', base);
}

async function refresh() {
  await loadChallenge();
  renderHead();
  renderTerms();
  renderQuota();
  renderSubmitGate();
  await Promise.all([renderData(), loadSelection().then(loadSubmissions), loadTeam(), loadFactSheet()]);
  if (lbView && board) lbView.update(board, submissions, { published: !!challenge.published });
}

async function main() {
  const status = $('#page-status');
  const navReady = initNav();
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(slug)) {
    replace(status, h('div', { class: 'alert alert-error', role: 'alert' }, t('No such challenge. '), h('a', { href: 'index.html', text: t('See all challenges') })));
    return;
  }
  me = await navReady;
  try {
    await loadChallenge();
  } catch (err) {
    replace(status, errorBox(err, { what: t('Could not load the challenge') }), h('p', {}, h('a', { href: 'index.html', text: t('All challenges') })));
    return;
  }
  replace(status);
  $('#challenge').hidden = false;
  setupForm();
  renderSubmitKind();
  renderOverview();
  renderHead();
  renderTerms();
  renderQuota();
  renderSubmitGate();
  await Promise.all([renderData(), loadSelection().then(loadSubmissions), loadTeam(), loadFactSheet()]);
  await loadBoard(); // after the team, whose name marks my row
  if (window.location.hash) document.getElementById(window.location.hash.slice(1))?.scrollIntoView();
}

main();
