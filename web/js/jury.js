// Why this file exists: the jury page — the review table (ranks, scores, the 95 % intervals drawn as error
// bars, rank ranges, disqualified entries last), the jury's actions with a required reason (disqualify or
// reinstate a submission or a team, re-score, note), publication, and the signed ranking to download
// with the command that verifies it (docs/api.md, "Jury" and "Publication"). Organizers may read it.
import { api, errorBox, ApiError } from './api.js';
import { h, s, replace, $, timeEl, fmtScore, scrollBox } from './dom.js';
import { initNav } from './nav.js';
import { REVIEW_ROLES, JURY_ROLES, allowed, challengeTable, challengePath, downloadLink, reasonDialog, slugParam, note } from './staff.js';

const slug = slugParam();
const base = challengePath(slug);
let canAct = false;
let challenge = null;
let review = null;

const score = (v) => fmtScore(v, challenge && challenge.leaderboard ? challenge.leaderboard.precision : undefined);

// ---- the error bar ----

const BAR_W = 180;
const BAR_H = 26;
const PAD = 8;

// The common scale of every row's interval (and score), so that the bars can be compared by eye.
function barScale(rows) {
  const values = [];
  for (const r of rows) {
    if (Array.isArray(r.ci)) values.push(...r.ci.filter(Number.isFinite));
    if (Number.isFinite(r.private_score)) values.push(r.private_score);
  }
  if (!values.length) return null;
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  return { lo, hi, x: (v) => PAD + ((v - lo) / (hi - lo)) * (BAR_W - 2 * PAD) };
}

function errorBar(r, scale) {
  const ci = Array.isArray(r.ci) && r.ci.length === 2 && r.ci.every(Number.isFinite) ? r.ci : null;
  if (!scale || !ci) return h('span', { class: 'muted', text: '—' });
  const [a, b] = [scale.x(ci[0]), scale.x(ci[1])];
  const mid = BAR_H / 2;
  const label = `95 % interval ${score(ci[0])} to ${score(ci[1])}${Number.isFinite(r.private_score) ? `, private score ${score(r.private_score)}` : ''}`;
  const svg = s('svg', { class: 'ci-bar', viewBox: `0 0 ${BAR_W} ${BAR_H}`, width: BAR_W, height: BAR_H, role: 'img', 'aria-label': label },
    s('title', { text: label }),
    s('line', { class: 'ci-axis', x1: PAD, x2: BAR_W - PAD, y1: mid, y2: mid }),
    s('line', { class: 'ci-range', x1: a, x2: b, y1: mid, y2: mid }),
    s('line', { class: 'ci-cap', x1: a, x2: a, y1: mid - 6, y2: mid + 6 }),
    s('line', { class: 'ci-cap', x1: b, x2: b, y1: mid - 6, y2: mid + 6 }),
    Number.isFinite(r.private_score) ? s('circle', { class: 'ci-point', cx: scale.x(r.private_score), cy: mid, r: 4 }) : null);
  return h('span', { class: 'ci-cell' }, svg, h('span', { class: 'ci-text', text: `${score(ci[0])} – ${score(ci[1])}` }));
}

// ---- the review table ----

// Which disqualification applies to a row: the list `disqualified` says whether the team or the entry.
function dqKinds(r) {
  const list = Array.isArray(review.disqualified) ? review.disqualified : null;
  if (!list) return { team: !!r.disqualified, submission: !!r.disqualified };
  return {
    team: list.some((d) => d.kind === 'team' && d.id === r.team_id),
    submission: list.some((d) => d.kind === 'submission' && d.id === r.submission_id),
  };
}

function actionButton(text, who, run) {
  const b = h('button', { type: 'button', class: 'button small', text }, h('span', { class: 'visually-hidden', text: ` (${who})` }));
  b.addEventListener('click', run);
  return b;
}

function rowActions(r) {
  const dq = dqKinds(r);
  const team = `team ${r.team}`;
  const entry = `submission #${r.submission_id} of ${r.team}`;
  const sub = `/submissions/${encodeURIComponent(r.submission_id)}`;
  const teamPath = `${base}/teams/${encodeURIComponent(r.team_id)}`;
  return h('div', { class: 'actions' },
    dq.submission
      ? actionButton('Reinstate entry', entry, () => act({ title: `Reinstate ${entry}`, confirm: 'Reinstate', path: `${sub}/reinstate`, done: `Reinstated ${entry}.` }))
      : actionButton('Disqualify entry', entry, () => act({ title: `Disqualify ${entry}`, text: 'The team is then ranked on its other entries, if any.', confirm: 'Disqualify', danger: true, path: `${sub}/disqualify`, done: `Disqualified ${entry}.` })),
    dq.team
      ? actionButton('Reinstate team', team, () => act({ title: `Reinstate ${team}`, confirm: 'Reinstate', path: `${teamPath}/reinstate`, done: `Reinstated ${team}.` }))
      : actionButton('Disqualify team', team, () => act({ title: `Disqualify ${team}`, text: 'All its entries leave the ranking.', confirm: 'Disqualify', danger: true, path: `${teamPath}/disqualify`, done: `Disqualified ${team}.` })),
    actionButton('Re-score', entry, () => act({ title: `Re-score ${entry}`, text: 'It goes back to the scoring queue.', confirm: 'Re-score', path: `${sub}/rescore`, done: `${entry} is queued for scoring again.` })),
    actionButton('Note', team, () => act({ title: `Add a note on ${team}`, label: 'Note', help: 'Required. Kept with the review and written to the audit log.', confirm: 'Add the note', path: `${base}/notes`, extra: { team_id: r.team_id, submission_id: r.submission_id }, done: `Note added on ${team}.` })),
  );
}

// Runs one jury action after asking for its reason, then reloads the review.
async function act({ title, text, confirm, danger, path, extra = {}, done, label, help }) {
  const result = await reasonDialog({ title, text, confirm, danger, label, help, action: (reason) => api('POST', path, { json: { ...extra, reason } }) });
  if (result === null) return;
  note($('#action-status'), done);
  await loadReview();
}

function renderTable() {
  const rows = (Array.isArray(review.rows) ? review.rows : []).slice();
  // The server lists disqualified rows last already; keep that order whatever it sends.
  rows.sort((a, b) => Number(!!a.disqualified) - Number(!!b.disqualified));
  const box = $('#review-body');
  if (!rows.length) return replace(box, h('p', { class: 'muted', text: 'No scored submission to review yet.' }));
  const scale = barScale(rows);
  const higher = review.higher_is_better ?? (challenge && challenge.metric ? challenge.metric.higher_is_better : undefined);
  const head = ['Rank', 'Team', 'Submission', 'Selected', 'Public score', 'Private score'];
  const acting = canAct && !review.published;
  replace(box,
    scrollBox(h('table', { class: 'review' },
      h('caption', { class: 'visually-hidden', text: 'Review of the final ranking' }),
      h('thead', {}, h('tr', {},
        head.map((t, k) => h('th', { scope: 'col', class: k === 1 || k === 3 ? null : 'num', text: t })),
        h('th', { scope: 'col' }, '95 % interval', scale ? h('span', { class: 'scale', text: ` (scale ${score(scale.lo)} – ${score(scale.hi)}${higher === undefined ? '' : higher ? ', higher is better' : ', lower is better'})` }) : null),
        h('th', { scope: 'col', text: 'Rank range' }),
        acting ? h('th', { scope: 'col', text: 'Actions' }) : null)),
      h('tbody', {}, rows.map((r) => h('tr', { class: r.disqualified ? 'disqualified' : null, dataset: { teamId: r.team_id, submissionId: r.submission_id } },
        h('td', { class: 'num rank', text: r.rank ?? '—' }),
        h('th', { scope: 'row' }, h('bdi', { class: 'team', text: r.team ?? '' }), r.disqualified ? h('span', { class: 'badge badge-dq', text: 'disqualified' }) : null),
        h('td', { class: 'num', title: r.created_at ? `sent ${r.created_at}` : null, text: `#${r.submission_id}` }),
        h('td', { text: r.selected ? 'yes' : 'no' }),
        h('td', { class: 'num score', text: score(r.public_score) }),
        h('td', { class: 'num score', text: score(r.private_score) }),
        h('td', {}, errorBar(r, scale)),
        h('td', { class: 'range', text: Array.isArray(r.rank_range) ? (r.rank_range[0] === r.rank_range[1] ? String(r.rank_range[0]) : `${r.rank_range[0]}–${r.rank_range[1]}`) : '—' }),
        acting ? h('td', {}, rowActions(r)) : null))))));
}

// ---- notes ----

function renderNotes() {
  const teams = new Map((review.rows || []).map((r) => [r.team_id, r.team]));
  const notes = Array.isArray(review.notes) ? review.notes : [];
  const dqs = Array.isArray(review.disqualified) ? review.disqualified : [];
  const target = (n) => [
    n.team_id != null ? ['team ', h('bdi', { text: teams.get(n.team_id) ?? `#${n.team_id}` })] : null,
    n.submission_id != null ? ` submission #${n.submission_id}` : null,
  ];
  replace($('#notes-body'),
    dqs.length
      ? [h('h3', { text: 'Disqualifications' }), h('ul', { class: 'notes' }, dqs.map((d) => h('li', {},
        h('strong', {}, d.kind === 'team' ? 'Team ' : `Submission #${d.id} of `, h('bdi', { text: d.team ?? '' })), ' · ', timeEl(d.at), h('p', { class: 'note-text', text: d.reason ?? '' }))))]
      : null,
    h('h3', { text: 'Notes' }),
    notes.length
      ? h('ul', { class: 'notes' }, notes.map((n) => h('li', {},
        h('strong', {}, h('bdi', { text: n.author ?? '' })), ' · ', timeEl(n.created_at), (n.team_id != null || n.submission_id != null) ? [' · on ', target(n)] : null,
        h('p', { class: 'note-text', text: n.text ?? n.reason ?? '' }))))
      : h('p', { class: 'muted', text: 'No note yet.' }));
  const add = $('#add-note');
  add.hidden = !canAct || !!review.published;
}

// ---- publication ----

function lastEnd() {
  return (challenge && challenge.phases ? challenge.phases : []).map((p) => p.end).filter(Boolean).sort().pop() || null;
}

function publish() {
  return act({
    title: `Publish the final ranking of ${slug}`,
    text: 'The ranking is then signed and frozen: no more disqualification, note or re-score. Everyone can read the private leaderboard.',
    confirm: 'Publish',
    danger: true,
    path: `${base}/publish`,
    done: 'The ranking is published and signed.',
  }).catch(() => {});
}

function verifyLines(files) {
  return [
    `base64 -d ${files.sig} > ${files.sig}.bin`,
    `openssl pkeyutl -verify -pubin -inkey ${files.key} -rawin -in ${files.ranking} -sigfile ${files.sig}.bin`,
    '# prints "Signature Verified Successfully"',
  ].join('\n');
}

function renderPublication() {
  const box = $('#publication-body');
  const files = { ranking: `${slug}-ranking.json`, sig: `${slug}-ranking.sig`, key: 'concours-signing-key.pem' };
  if (review.published) {
    const at = typeof review.published === 'string' ? review.published : review.published_at;
    replace(box,
      h('p', { class: 'alert alert-ok', id: 'published-note' }, 'Published', at ? [' ', timeEl(at)] : null, '. The ranking below is signed with the server\'s Ed25519 key.'),
      h('div', { class: 'row', id: 'ranking-links' },
        downloadLink(`${base}/ranking`, files.ranking, 'Signed ranking (JSON)'),
        downloadLink(`${base}/ranking.sig`, files.sig, 'Signature'),
        downloadLink('/signing-key', files.key, 'Public key (PEM)')),
      h('p', {}, 'To check the three downloads in a folder:'),
      h('pre', { class: 'code-block', id: 'verify-lines', tabindex: '0', text: verifyLines(files) }),
      h('p', { class: 'help' }, 'or ', h('code', { text: `concours verify ${files.ranking} ${files.sig} ${files.key}` }), '.'));
    return;
  }
  const end = lastEnd();
  const parts = [];
  if (review.phase_open) {
    parts.push(h('p', { class: 'alert alert-warn' }, 'The last phase is still open', end ? [' (it closes ', timeEl(end, { relative: true }), ')'] : null, ': the ranking can be published once it has ended.'));
  } else {
    parts.push(h('p', { text: 'Every phase has ended. Once the review is done, publish the ranking: it is signed and frozen.' }));
  }
  if (canAct) {
    const b = h('button', { type: 'button', id: 'publish', class: 'button primary', text: 'Publish the final ranking…' });
    b.addEventListener('click', publish);
    parts.push(h('div', { class: 'row' }, b));
  } else {
    parts.push(h('p', { class: 'muted', text: 'Only the jury publishes.' }));
  }
  replace(box, parts);
}

function renderState() {
  const el = $('#review-state');
  const rows = Array.isArray(review.rows) ? review.rows : [];
  const ranked = rows.filter((r) => !r.disqualified).length;
  replace(el,
    review.published ? h('span', { class: 'badge badge-finished', text: 'published' }) : review.phase_open ? h('span', { class: 'badge badge-open', text: 'phase open' }) : h('span', { class: 'badge badge-upcoming', text: 'ready to publish' }),
    ` ${ranked} ranked, ${rows.length - ranked} disqualified. Metric `,
    h('strong', { text: review.metric || (challenge && challenge.metric ? challenge.metric.name : '?') }),
    canAct ? '' : ' · read only: the jury acts.');
}

async function loadReview() {
  try {
    review = await api('GET', `${base}/review`);
  } catch (err) {
    replace($('#review-body'), errorBox(err, { what: 'Could not load the review' }));
    return;
  }
  renderState();
  renderTable();
  renderNotes();
  renderPublication();
}

async function main() {
  const me = await initNav();
  const status = $('#page-status');
  if (!allowed(status, me, REVIEW_ROLES, 'a jury or organizer')) return;
  canAct = JURY_ROLES.includes(me.role);
  replace(status);
  if (!slug) {
    $('#pick').hidden = false;
    await challengeTable($('#challenge-list'), slug, (c) => ({ href: `jury.html?slug=${encodeURIComponent(c.slug)}`, text: 'Review' }));
    return;
  }
  try {
    challenge = await api('GET', base);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) replace(status, h('p', { class: 'alert alert-error', role: 'alert' }, 'No challenge ', h('code', { text: slug }), '. ', h('a', { href: 'jury.html', text: 'All challenges' })));
    else replace(status, errorBox(err, { what: `Challenge ${slug}` }));
    return;
  }
  document.title = `Review of ${challenge.title || slug} · concours`;
  replace($('#jury-title'), 'Jury review: ', h('bdi', { text: challenge.title || slug }));
  $('#review').hidden = false;
  $('#add-note').addEventListener('click', () =>
    act({ title: `Add a note on ${slug}`, label: 'Note', help: 'Required. Kept with the review and written to the audit log.', confirm: 'Add the note', path: `${base}/notes`, done: 'Note added.' }));
  replace($('#export-links'),
    downloadLink(`${base}/review/export?format=csv`, `${slug}-review.csv`, 'Download CSV'),
    downloadLink(`${base}/review/export?format=json`, `${slug}-review.json`, 'Download JSON'));
  await loadReview();
}

main();
