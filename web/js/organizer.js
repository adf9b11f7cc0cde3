// Why this file exists: the organizer page — import a bundle (raw body, progress bar, the problems of a
// bad one), and per challenge: edit phase dates and quotas with a reason, watch the scoring queue, read a
// submission's scorer log, re-score, and download the exports (docs/api.md, "Organizers").
import { api, apiWithHeaders, upload, errorBox } from './api.js';
import { h, replace, $, timeEl, fmtScore, scrollBox, parseTime, progressReporter } from './dom.js';
import { initNav } from './nav.js';
import { ORGANIZER_ROLES, allowed, challengeTable, challengePath, downloadLink, reasonDialog, slugParam, note } from './staff.js';
import { lang, t } from './i18n.js';

const QUEUE_MS = 4000;
const SHOWN = 100; // submissions listed on the page; the exports hold them all
const slug = slugParam();
const base = challengePath(slug);
let challenge = null;
let queueTimer = null;
let lastCounts = '';
let submissionsAsked = 0; // the latest read of the submissions table: an older answer never replaces a newer one

const manageHref = (s) => `organizer.html?slug=${encodeURIComponent(s)}#phases`;

function listChallenges() {
  return challengeTable($('#challenge-list'), slug, (c) => ({ href: manageHref(c.slug), text: t('Manage') }));
}

// ---- import ----

function problemsBox(err) {
  const box = errorBox(err, { what: t('The bundle was not imported') });
  const problems = err && Array.isArray(err.problems) ? err.problems : [];
  if (problems.length) {
    box.append(h('ul', { class: 'problems' }, problems.map((p) => h('li', {}, h('code', { text: p })))));
    if (err.more > 0) box.append(h('p', { text: t('…and {n} more.', { n: err.more }) }));
  }
  return box;
}

function changeList(changes) {
  return h('ul', { class: 'problems changes' }, changes.map((c) => h('li', {}, h('code', { text: c }))));
}

// A CodaLab competition made into several challenges (tracks, phases scored apart), each listed with its state.
function partList(parts) {
  const states = { new: t('imported'), unchanged: t('up to date'), updated: t('updated'), changed: t('changed, not applied') };
  return h('div', { class: 'parts' }, [
    h('p', { text: t('This competition became {n} challenges (its tracks, and the phases it scored apart), each with its own leaderboard:', { n: parts.length }) }),
    h('ul', { class: 'part-list' }, parts.map((tr) => h('li', {}, [
      h('a', { href: manageHref(tr.slug) }, h('code', { text: tr.slug })), ': ', states[tr.state] || tr.state,
    ]))),
  ]);
}

function initImport() {
  const form = $('#import-form');
  const input = $('#bundle');
  const status = $('#import-status');
  const bar = $('#import-bar');
  const text = $('#import-text');
  const cancel = $('#import-cancel');
  let sending = null;
  cancel.addEventListener('click', () => sending && sending.abort());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = input.files && input.files[0];
    if (!file || file.size === 0) {
      input.setAttribute('aria-invalid', 'true');
      replace(status, h('p', { class: 'alert alert-error', role: 'alert', text: file ? t('This file is empty.') : t('Choose a bundle archive first.') }));
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    replace(status);
    const button = $('#import-button');
    button.disabled = true;
    cancel.hidden = false;
    const onProgress = progressReporter(bar, text, t('Uploaded; checking the bundle…'));
    onProgress(0, file.size);
    $('#import-progress').hidden = false;
    // query: '' for a first import; '?apply=1' (and '&rescore=1') once the organizer saw the changes
    const send = async (query) => {
      sending = upload('/challenges' + query, file, { onProgress });
      const done = await sending.promise;
      const made = done && done.slug;
      const links = [h('a', { href: manageHref(made), text: t('Manage it') }), ' · ', h('a', { href: `challenge.html?slug=${encodeURIComponent(made)}`, text: t('its public page') })];
      if (done.state === 'unchanged') {
        note(status, [h('code', { text: made }), t(' is already up to date with this bundle: nothing changed. '), ...links]);
      } else if (done.state === 'updated') {
        note(status, [t('Updated '), h('code', { text: made }), done.rescored > 0 ? t(' ({n} submissions queued for scoring again)', { n: done.rescored }) : '', '. ', ...links]);
        status.append(changeList(done.changes || []));
      } else {
        note(status, [t('Imported '), h('code', { text: made }), '. ', ...links]);
      }
      if (done.challenges) status.append(partList(done.challenges));
      form.reset();
      await listChallenges();
    };
    try {
      await send('');
    } catch (err) {
      if (err.code !== 'bundle_changed' || !err.changes) {
        replace(status, problemsBox(err));
        return;
      }
      // An existing challenge: show what would change; apply only when the organizer says so.
      const rescore = h('input', { type: 'checkbox', id: 'import-rescore' });
      const apply = h('button', { type: 'button', class: 'button primary', id: 'import-apply', text: t('Apply these changes') });
      replace(status, h('div', { class: 'alert alert-warn', role: 'alert' }, [
        h('p', { text: t('This challenge exists, and the bundle differs from its last import. Nothing was changed yet:') }),
        changeList(err.changes),
        h('p', { class: 'check-line' }, [rescore, h('label', { for: 'import-rescore', text: t('Re-score every submission now if the ground truth changed, even while a phase is open') })]),
        apply,
      ]));
      apply.addEventListener('click', async () => {
        apply.disabled = true;
        $('#import-progress').hidden = false;
        try {
          await send(rescore.checked ? '?apply=1&rescore=1' : '?apply=1');
        } catch (err2) {
          replace(status, problemsBox(err2));
        } finally {
          apply.disabled = false;
          sending = null;
          $('#import-progress').hidden = true;
        }
      });
    } finally {
      sending = null;
      button.disabled = false;
      cancel.hidden = true;
      $('#import-progress').hidden = true;
    }
  });
}

// ---- phases ----

// "2026-01-01T00:00:00Z" ⇄ the value of a datetime-local input read as UTC.
// Whole minutes show as "YYYY-MM-DDTHH:MM", so the field needs no seconds (and stays narrow).
function toInput(iso) {
  const d = parseTime(iso);
  if (!d) return '';
  const full = d.toISOString().slice(0, 19);
  return full.endsWith(':00') ? full.slice(0, 16) : full;
}

function fromInput(value) {
  if (!value) return null;
  const full = value.length === 16 ? `${value}:00` : value.slice(0, 19);
  return `${full}Z`;
}

function phaseForm(p) {
  const id = (k) => `ph-${p.name}-${k}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const field = (key, label, attrs) => [h('label', { for: id(key), text: label }), h('input', { id: id(key), name: key, ...attrs })];
  const form = h('form', { class: 'phase-form', novalidate: true, dataset: { phase: p.name } },
    h('fieldset', {},
      h('legend', {}, h('bdi', { text: p.name }), p.final_selection > 0 ? h('span', { class: 'muted', text: t(' · {n} final picks', { n: p.final_selection }) }) : null),
      h('div', { class: 'fields' },
        h('div', { class: 'stack' }, field('start', t('Opens (UTC)'), { type: 'datetime-local', value: toInput(p.start), required: true })),
        h('div', { class: 'stack' }, field('end', t('Closes (UTC)'), { type: 'datetime-local', value: toInput(p.end), required: true })),
        h('div', { class: 'stack' }, field('max_per_day', t('Per day'), { type: 'number', min: 0, step: 1, value: p.max_per_day ?? 0, inputmode: 'numeric' })),
        h('div', { class: 'stack' }, field('max_total', t('In total'), { type: 'number', min: 0, step: 1, value: p.max_total ?? 0, inputmode: 'numeric' }))),
      h('p', { class: 'check-line' }, [h('input', { id: id('closed'), name: 'closed', type: 'checkbox', checked: !!p.closed }), h('label', { for: id('closed'), text: t('Closed: accepts no submission') })]),
      h('p', { class: 'check-line' }, [h('input', { id: id('hide_results'), name: 'hide_results', type: 'checkbox', checked: !!p.hide_results }), h('label', { for: id('hide_results'), text: t('Hide the results from participants until the final ranking is published') })]),
      h('div', { class: 'stack' }, field('reason', t('Reason for the change'), { type: 'text', maxlength: 1000, autocomplete: 'off', required: true })),
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'button primary small', text: t('Save {phase}', { phase: p.name }) })),
      h('div', { class: 'phase-error', 'aria-live': 'assertive' })));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    savePhase(form, p);
  });
  return form;
}

async function savePhase(form, p) {
  const get = (name) => form.elements.namedItem(name);
  const errorBoxEl = $('.phase-error', form);
  const reason = get('reason').value.trim();
  const change = {};
  const start = fromInput(get('start').value);
  const end = fromInput(get('end').value);
  if (start && start !== fromInput(toInput(p.start))) change.start = start;
  if (end && end !== fromInput(toInput(p.end))) change.end = end;
  for (const key of ['max_per_day', 'max_total']) {
    const n = Number(get(key).value);
    if (get(key).value !== '' && Number.isInteger(n) && n >= 0 && n !== (p[key] ?? 0)) change[key] = n;
  }
  for (const key of ['closed', 'hide_results']) {
    if (get(key).checked !== !!p[key]) change[key] = get(key).checked;
  }
  replace(errorBoxEl);
  if (!Object.keys(change).length) {
    replace(errorBoxEl, h('p', { class: 'alert alert-info', role: 'status', text: t('Nothing changed.') }));
    return;
  }
  if (!reason) {
    get('reason').setAttribute('aria-invalid', 'true');
    replace(errorBoxEl, h('p', { class: 'alert alert-error', role: 'alert', text: t('A reason is required: it goes to the audit log.') }));
    get('reason').focus();
    return;
  }
  get('reason').removeAttribute('aria-invalid');
  const button = $('button[type=submit]', form);
  button.disabled = true;
  try {
    challenge = await api('PATCH', `${base}/phases/${encodeURIComponent(p.name)}`, { json: { ...change, reason } });
    renderPhases();
    note($('#phase-status'), [t('Saved the {phase} phase (', { phase: p.name }), Object.keys(change).join(', '), ').']);
  } catch (err) {
    replace(errorBoxEl, errorBox(err, { what: t('Could not save the {phase} phase', { phase: p.name }) }));
    button.disabled = false;
  }
}

function renderPhases() {
  replace($('#phase-forms'), (challenge.phases || []).map(phaseForm));
}

// ---- queue, submissions, logs ----

function count(label, n, cls) {
  return h('li', { class: cls || null }, h('strong', { class: 'num', text: String(n ?? 0) }), ` ${t(label)}`);
}

async function refreshQueue() {
  let q;
  try {
    q = await api('GET', `${base}/queue`);
  } catch (err) {
    replace($('#queue-body'), errorBox(err, { what: t('Could not read the queue') }));
    return;
  }
  const failures = Array.isArray(q.recent_failures) ? q.recent_failures : [];
  // remote workers (docs/workers.md): who was seen last, and which node runs what
  const workers = (q.workers && Array.isArray(q.workers.workers)) ? q.workers.workers : [];
  const runs = (q.workers && Array.isArray(q.workers.runs)) ? q.workers.runs : [];
  const workersView = workers.length || runs.some((x) => x.node)
    ? [h('h3', { text: t('Workers') }), scrollBox(h('table', { class: 'workers' },
      h('thead', {}, h('tr', {}, [t('Node'), t('Token'), t('Queue'), t('Last seen'), t('Running')].map((head) => h('th', { scope: 'col', text: head })))),
      h('tbody', {}, workers.map((w) => h('tr', {},
        h('td', {}, h('bdi', { text: w.node })),
        h('td', {}, h('bdi', { text: w.name })),
        h('td', {}, h('bdi', { text: w.queue })),
        h('td', {}, timeEl(w.last_seen_at, { relative: true })),
        h('td', { text: runs.filter((x) => x.node === w.node).map((x) => `#${x.id} (${t(x.stage)})`).join(', ') || '—' }))))))]
    : null;
  replace($('#queue-body'),
    h('ul', { class: 'counts' }, count('queued', q.queued), count('running', q.running), count('scored', q.scored), count('failed', q.failed, q.failed ? 'has-failed' : ''), count('cancelled', q.cancelled)),
    q.oldest_queued_at ? h('p', {}, t('Oldest queued since '), timeEl(q.oldest_queued_at, { relative: true }), '.') : null,
    failures.length
      ? [h('h3', { text: t('Recent failures') }), scrollBox(h('table', { class: 'failures' },
        h('thead', {}, h('tr', {}, [t('Submission'), t('Team'), t('Error'), t('Sent')].map((head) => h('th', { scope: 'col', text: head })))),
        h('tbody', {}, failures.map((f) => h('tr', {},
          h('td', {}, logButton(f.id)),
          h('td', {}, h('bdi', { text: f.team ?? '' })),
          h('td', {}, errorText(f.error)),
          h('td', {}, timeEl(f.created_at)))))))]
      : null,
    workersView);
  $('#queue-updated').textContent = t('Updated {time}; refreshes every {n} s.', { time: new Date().toLocaleTimeString(lang), n: QUEUE_MS / 1000 });
  const counts = JSON.stringify([q.queued, q.running, q.scored, q.failed, q.cancelled]);
  if (counts !== lastCounts) {
    lastCounts = counts;
    refreshSubmissions();
  }
}

function errorText(e) {
  if (!e) return '';
  if (typeof e === 'string') return h('code', { text: e });
  return [h('code', { text: e.code || '' }), e.message ? ` ${e.message}` : ''];
}

function pollQueue() {
  clearTimeout(queueTimer);
  queueTimer = setTimeout(async () => {
    if (!document.hidden) await refreshQueue();
    pollQueue();
  }, QUEUE_MS);
}

function logButton(id) {
  const b = h('button', { type: 'button', class: 'link-button', dataset: { log: id }, text: `#${id}` }, h('span', { class: 'visually-hidden', text: t(': show the scorer log') }));
  b.addEventListener('click', () => {
    $('#log-id').value = String(id);
    showLog(id);
  });
  return b;
}

async function showLog(id) {
  const box = $('#log-body');
  replace(box, h('p', { class: 'muted', text: t('Loading the log of #{id}…', { id }) }));
  try {
    const answer = await api('GET', `/submissions/${encodeURIComponent(id)}/log`);
    replace(box, h('p', {}, t('Scorer output of submission #{id}:', { id })), h('pre', { class: 'code-block log', tabindex: '0', text: (answer && answer.log) || t('(empty)') }));
  } catch (err) {
    replace(box, errorBox(err, { what: t('No log for #{id}', { id }) }));
  }
  $('#log-h').scrollIntoView({ block: 'start' });
}

// Cancels a queued or running submission of any team (a run in progress stops, here or on its worker);
// the reason goes to the audit log.
function stopButton(id) {
  const b = h('button', { type: 'button', class: 'button small danger', text: t('Cancel'), 'aria-label': t('Cancel submission #{id}', { id }) });
  b.addEventListener('click', async () => {
    const done = await reasonDialog({
      title: t('Cancel submission #{id}', { id }),
      text: t('Its run stops at once (on a worker, at its next heartbeat). It costs the team no quota.'),
      confirm: t('Cancel the submission'),
      danger: true,
      action: (reason) => api('POST', `/submissions/${encodeURIComponent(id)}/cancel`, { json: { reason } }),
    });
    if (done) {
      refreshQueue();
      refreshSubmissions();
    }
  });
  return b;
}

async function refreshSubmissions() {
  const box = $('#submissions-body');
  const asked = ++submissionsAsked;
  let page = null;
  let failure = null;
  try { // the newest SHOWN only, and how many there are: the page stays light at a million submissions
    page = await apiWithHeaders('GET', `${base}/export?format=json&limit=${SHOWN}`);
  } catch (err) {
    failure = err;
  }
  if (asked !== submissionsAsked) return; // a newer read is under way: its answer is the one shown
  if (failure) {
    lastCounts = ''; // read again at the next poll, even if the counts stay the same
    return replace(box, errorBox(failure, { what: t('Could not list the submissions') }));
  }
  const rows = Array.isArray(page.data) ? page.data : [];
  const total = Number(page.headers.get('X-Total-Count')) || rows.length;
  if (!rows.length) return replace(box, h('p', { class: 'muted', text: t('No submission yet.') }));
  const precision = challenge && challenge.leaderboard ? challenge.leaderboard.precision : undefined;
  const score = (v) => fmtScore(v, precision);
  replace(box,
    h('p', { class: 'help', text: total > rows.length ? t('The newest {n} of {total}; the exports below hold them all.', { n: rows.length, total }) : t('{n} submission(s), newest first.', { n: rows.length }) }),
    scrollBox(h('table', { class: 'org-submissions' },
      h('thead', {}, h('tr', {}, [t('Log'), t('Team'), t('User'), t('Phase'), t('Status'), t('Public'), t('Private'), t('Sent'), t('Description')].map((head, k) => h('th', { scope: 'col', class: k === 5 || k === 6 ? 'num' : null, text: head })))),
      h('tbody', {}, rows.map((r) => h('tr', { dataset: { id: r.id }, class: r.disqualified ? 'disqualified' : null },
        h('td', {}, logButton(r.id)),
        h('td', {}, h('bdi', { text: r.team ?? '' })),
        h('td', {}, h('bdi', { text: r.user ?? '' })),
        h('td', { text: r.phase ?? '' }),
        h('td', {}, h('span', { class: `badge status-${r.status}`, text: t(r.status) }), r.disqualified ? h('span', { class: 'badge badge-dq', text: t('disqualified') }) : null,
          r.status === 'queued' || r.status === 'running' ? stopButton(r.id) : null),
        h('td', { class: 'num score', text: score(r.public_score) }),
        h('td', { class: 'num score', text: score(r.private_score) }),
        h('td', {}, timeEl(r.created_at)),
        h('td', { class: 'desc', text: r.description ?? '' })))))));
}

// ---- anonymity reports ----

const FIXES = { drop: () => t('drop the column'), pseudonymize: () => t('pseudonymize'), redact: () => t('redact the text'), band: () => t('band it'), strip: () => t('strip it'), rename: () => t('rename the file') };

function anonymityReport(name, report) {
  if (!report) return h('div', { class: 'anon-file' }, h('h3', {}, h('code', { text: name })), h('p', { class: 'muted', text: t('Not checked at import.') }));
  const findings = Array.isArray(report.direct_identifiers) ? report.direct_identifiers : [];
  const warnings = Array.isArray(report.warnings) ? report.warnings : [];
  const failures = Array.isArray(report.failures) ? report.failures : [];
  return h('div', { class: 'anon-file', dataset: { file: name } },
    h('h3', {}, h('code', { text: name }), ' ', h('span', { class: `badge ${report.passed ? 'status-scored' : 'status-failed'}`, text: report.passed ? t('passed') : t('failed') }), ' ', h('span', { class: 'muted', text: report.format || 'csv' })),
    findings.length ? scrollBox(h('table', { class: 'anon-findings' },
      h('thead', {}, h('tr', {}, [t('Where'), t('Rule'), t('Values'), t('First rows'), t('Fix')].map((head, k) => h('th', { scope: 'col', class: k === 2 ? 'num' : null, text: head })))),
      h('tbody', {}, findings.map((f) => h('tr', {},
        h('td', {}, h('bdi', { text: f.column ?? '' })),
        h('td', {}, h('code', { text: f.rule ?? '' })),
        h('td', { class: 'num', text: String(f.count ?? '') }),
        h('td', { text: Array.isArray(f.rows) ? f.rows.join(', ') : '' }),
        h('td', { text: FIXES[f.fix] ? FIXES[f.fix]() : (f.fix ?? '') })))))) : null,
    failures.length ? h('ul', { class: 'problems' }, failures.map((f) => h('li', { text: f }))) : null,
    warnings.length ? h('ul', { class: 'anon-warnings' }, warnings.map((w) => h('li', { class: 'muted', text: w }))) : null);
}

async function refreshAnonymity() {
  const box = $('#anonymity-body');
  let files;
  try {
    files = await api('GET', `${base}/anonymity`);
  } catch (err) {
    replace(box, errorBox(err, { what: t('Could not read the anonymity reports') }));
    return;
  }
  if (!Array.isArray(files) || !files.length) return replace(box, h('p', { class: 'muted', text: t('No data file.') }));
  replace(box, files.map((f) => anonymityReport(f.name, f.report)));
}

// ---- state ----

function renderState() {
  const now = $('#state-now');
  now.textContent = t(challenge.state || 'open');
  now.className = `badge badge-${challenge.state || 'open'}`;
  $('#state-select').value = challenge.state || 'open';
}

function initState() {
  renderState();
  $('#state-button').addEventListener('click', async () => {
    const to = $('#state-select').value;
    if (to === challenge.state) {
      note($('#state-status'), t('{slug} is already {state}.', { slug, state: t(to) }));
      return;
    }
    const result = await reasonDialog({
      title: t('Make {slug} {state}', { slug, state: t(to) }),
      text: to === 'draft' ? t('Participants will no longer see this challenge.') : to === 'archived' ? t('The challenge stays readable; nobody can join it, submit or change a team.') : t('Everyone will see this challenge.'),
      confirm: t('Change the state'),
      action: (reason) => api('PUT', `${base}/state`, { json: { state: to, reason } }),
    });
    if (result) {
      challenge.state = result.state;
      renderState();
      note($('#state-status'), t('{slug} is now {state}.', { slug, state: t(result.state) }));
      await listChallenges();
    }
  });
}

// ---- re-score and exports ----

function initRescore() {
  $('#rescore-all').addEventListener('click', async () => {
    const select = h('select', { id: 'rescore-phase' }, h('option', { value: '', text: t('all phases') }), (challenge.phases || []).map((p) => h('option', { value: p.name, text: p.name })));
    const result = await reasonDialog({
      title: t('Re-score submissions of {slug}', { slug }),
      text: [t('Every scored or failed submission goes back to the queue. '), h('label', { for: 'rescore-phase', text: t('Phase: ') }), select],
      confirm: t('Re-score'),
      action: (reason) => api('POST', `${base}/rescore`, { json: select.value ? { phase: select.value, reason } : { reason } }),
    });
    if (result) {
      note($('#rescore-status'), t('{n} submission(s) queued again.', { n: result.queued }));
      refreshQueue();
    }
  });
}

function renderExports() {
  replace($('#export-links'),
    downloadLink(`${base}/export?format=csv`, `${slug}-submissions.csv`, t('Download CSV')),
    downloadLink(`${base}/export?format=json`, `${slug}-submissions.json`, t('Download JSON')),
    h('a', { href: `jury.html?slug=${encodeURIComponent(slug)}`, text: t('Read the review') }));
}

async function main() {
  const me = await initNav();
  const status = $('#page-status');
  if (!allowed(status, me, ORGANIZER_ROLES, t('an organizer'))) return;
  replace(status);
  $('#organizer').hidden = false;
  initImport();
  $('#log-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = Number($('#log-id').value);
    if (Number.isInteger(id) && id > 0) showLog(id);
    else replace($('#log-body'), h('p', { class: 'alert alert-error', role: 'alert', text: t('Give a submission id (a whole number).') }));
  });
  await listChallenges();
  if (!slug) return;
  try {
    challenge = await api('GET', base);
  } catch (err) {
    replace(status, errorBox(err, { what: t('Challenge {slug}', { slug }) }));
    return;
  }
  document.title = `${slug} · ${t('Organizer')} · concours`;
  $('#manage-slug').textContent = slug;
  $('#manage').hidden = false;
  renderPhases();
  initState();
  renderExports();
  initRescore();
  refreshAnonymity();
  await refreshQueue();
  pollQueue();
  if (window.location.hash) document.getElementById(window.location.hash.slice(1))?.scrollIntoView();
}

main();
