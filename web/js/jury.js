// Why this file exists: the jury page — the review table (ranks, scores, the 95 % intervals drawn as error
// bars, rank ranges, disqualified entries last), the jury's actions with a required reason (disqualify or
// reinstate a submission or a team, re-score, note), publication, and the signed ranking to download
// with the command that verifies it (docs/api.md, "Jury" and "Publication"). Organizers may read it.
import { api, errorBox, ApiError } from './api.js';
import { h, s, replace, $, timeEl, fmtScore, scrollBox } from './dom.js';
import { initNav } from './nav.js';
import { REVIEW_ROLES, JURY_ROLES, allowed, challengeTable, challengePath, downloadLink, reasonDialog, slugParam, note } from './staff.js';
import { t } from './i18n.js';

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
  const label = Number.isFinite(r.private_score)
    ? t('95 % interval {lo} to {hi}, private score {score}', { lo: score(ci[0]), hi: score(ci[1]), score: score(r.private_score) })
    : t('95 % interval {lo} to {hi}', { lo: score(ci[0]), hi: score(ci[1]) });
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
  const team = t('team {name}', { name: r.team });
  const entry = t('submission #{id} of {team}', { id: r.submission_id, team: r.team });
  const sub = `/submissions/${encodeURIComponent(r.submission_id)}`;
  const teamPath = `${base}/teams/${encodeURIComponent(r.team_id)}`;
  return h('div', { class: 'actions' },
    dq.submission
      ? actionButton(t('Reinstate entry'), entry, () => act({ title: t('Reinstate {what}', { what: entry }), confirm: t('Reinstate'), path: `${sub}/reinstate`, done: t('Reinstated {what}.', { what: entry }) }))
      : actionButton(t('Disqualify entry'), entry, () => act({ title: t('Disqualify {what}', { what: entry }), text: t('The team is then ranked on its other entries, if any.'), confirm: t('Disqualify'), danger: true, path: `${sub}/disqualify`, done: t('Disqualified {what}.', { what: entry }) })),
    dq.team
      ? actionButton(t('Reinstate team'), team, () => act({ title: t('Reinstate {what}', { what: team }), confirm: t('Reinstate'), path: `${teamPath}/reinstate`, done: t('Reinstated {what}.', { what: team }) }))
      : actionButton(t('Disqualify team'), team, () => act({ title: t('Disqualify {what}', { what: team }), text: t('All its entries leave the ranking.'), confirm: t('Disqualify'), danger: true, path: `${teamPath}/disqualify`, done: t('Disqualified {what}.', { what: team }) })),
    actionButton(t('Re-score'), entry, () => act({ title: t('Re-score {what}', { what: entry }), text: t('It goes back to the scoring queue.'), confirm: t('Re-score'), path: `${sub}/rescore`, done: t('{what} is queued for scoring again.', { what: entry }) })),
    actionButton(t('Note'), team, () => act({ title: t('Add a note on {what}', { what: team }), label: t('Note'), help: t('Required. Kept with the review and written to the audit log.'), confirm: t('Add the note'), path: `${base}/notes`, extra: { team_id: r.team_id, submission_id: r.submission_id }, done: t('Note added on {what}.', { what: team }) })),
    // the method description (docs/factsheets.md): accepted or refused with a reason the team reads
    r.fact_sheet && r.fact_sheet.status !== 'accepted'
      ? actionButton(t('Accept method'), team, () => act({ title: t('Accept the method description of {what}', { what: team }), confirm: t('Accept'), path: `${teamPath}/fact-sheet/accept`, done: t('Method description of {what} accepted.', { what: team }) }))
      : null,
    r.fact_sheet && r.fact_sheet.status !== 'refused'
      ? actionButton(t('Refuse method'), team, () => act({ title: t('Refuse the method description of {what}', { what: team }), text: t('The team reads your reason and may send a new one.'), confirm: t('Refuse'), danger: true, path: `${teamPath}/fact-sheet/refuse`, done: t('Method description of {what} refused.', { what: team }) }))
      : null,
  );
}

// Several metrics (docs/bundle.md): each metric's ranking of the teams beside the official one, with Kendall's tau.
function metricsTable(rv) {
  const m = rv.methods;
  const list = rv.metrics && Array.isArray(rv.metrics.metrics) ? rv.metrics.metrics : [];
  if (!m || !Array.isArray(m.teams) || list.length < 2) return null;
  return h('div', { id: 'metric-ranks' },
    h('h3', { text: t('Ranking by each metric') }),
    h('p', { class: 'help', text: t('The official rank beside the rank each metric alone would give, with the team\'s private value in brackets (Kendall\'s tau with the official ranking in the header).') }),
    scrollBox(h('table', { class: 'methods' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('Team') }), h('th', { scope: 'col', class: 'num', text: t('Official rank') }),
        list.map((x) => h('th', { scope: 'col', class: 'num', text: `${x.label} (τ ${Number(m.kendall_tau[x.key]).toFixed(2)})` })))),
      h('tbody', {}, m.teams.map((tm) => {
        const row = (rv.rows || []).find((r) => r.team === tm.team) || {};
        // each metric's rank, and the team's value on the private split at the metric's precision
        const value = (x) => fmtScore(x.primary ? row.private_score : (row.metrics || {})[x.key], x.precision);
        return h('tr', {},
          h('th', { scope: 'row' }, h('bdi', { text: tm.team })),
          h('td', { class: 'num', text: tm.rank }),
          list.map((x) => h('td', { class: 'num' }, String(tm.by[x.key]), h('span', { class: 'muted', text: ` (${value(x)})` }))));
      })))));
}

const SHEET_BADGE = { pending: 'badge-upcoming', accepted: 'badge-open', refused: 'badge-dq' };

// The method description cell of row R: its status, a download and its link, or that there is none.
function factSheetCell(r) {
  const f = r.fact_sheet;
  if (!f) return h('td', { class: 'fact-sheet' }, h('span', { class: review.fact_sheets === 'required' ? 'badge badge-warn' : 'muted', text: t('none') }));
  return h('td', { class: 'fact-sheet' },
    h('span', { class: `badge ${SHEET_BADGE[f.status] || ''}`, text: t(f.status) }), ' ',
    h('a', { href: `/api/v1${base}/teams/${encodeURIComponent(r.team_id)}/fact-sheet/file`, download: '', text: f.kind === 'pdf' ? 'PDF' : 'Markdown' },
      h('span', { class: 'visually-hidden', text: ` (${r.team})` })),
    f.link ? [' · ', h('a', { href: f.link, rel: 'noopener noreferrer', text: t('link') })] : null,
    f.status === 'refused' && f.reason ? h('p', { class: 'help', text: f.reason }) : null);
}

// Runs one jury action after asking for its reason, then reloads the review. The status says it is done once the
// table shows it (what a reader, or a test, sees next is the new order), then the stability analysis follows.
async function act({ title, text, confirm, danger, path, extra = {}, done, label, help }) {
  const result = await reasonDialog({ title, text, confirm, danger, label, help, action: (reason) => api('POST', path, { json: { ...extra, reason } }) });
  if (result === null) return;
  await loadReview();
  note($('#action-status'), done);
  await loadStability();
}

function renderTable() {
  const rows = (Array.isArray(review.rows) ? review.rows : []).slice();
  // The server lists disqualified rows last already; keep that order whatever it sends.
  rows.sort((a, b) => Number(!!a.disqualified) - Number(!!b.disqualified));
  const box = $('#review-body');
  if (!rows.length) return replace(box, h('p', { class: 'muted', text: t('No scored submission to review yet.') }));
  const scale = barScale(rows);
  const higher = review.higher_is_better ?? (challenge && challenge.metric ? challenge.metric.higher_is_better : undefined);
  const head = [t('Rank'), t('Team'), t('Submission'), t('Selected'), t('Public score'), t('Private score')];
  const acting = canAct && !review.published;
  const sheets = review.fact_sheets && review.fact_sheets !== 'none';
  replace(box,
    scrollBox(h('table', { class: 'review' },
      h('caption', { class: 'visually-hidden', text: t('Review of the final ranking') }),
      h('thead', {}, h('tr', {},
        head.map((text, k) => h('th', { scope: 'col', class: k === 1 || k === 3 ? null : 'num', text })),
        h('th', { scope: 'col' }, t('95 % interval'), scale ? h('span', { class: 'scale', text: t(' (scale {lo} – {hi}{better})', { lo: score(scale.lo), hi: score(scale.hi), better: higher === undefined ? '' : higher ? t(', higher is better') : t(', lower is better') }) }) : null),
        h('th', { scope: 'col', text: t('Rank range') }),
        sheets ? h('th', { scope: 'col', text: t('Method') }) : null,
        acting ? h('th', { scope: 'col', text: t('Actions') }) : null)),
      h('tbody', {}, rows.map((r) => h('tr', { class: r.disqualified ? 'disqualified' : null, dataset: { teamId: r.team_id, submissionId: r.submission_id } },
        h('td', { class: 'num rank', text: r.rank ?? '—' }),
        h('th', { scope: 'row' }, h('bdi', { class: 'team', text: r.team ?? '' }), r.disqualified ? h('span', { class: 'badge badge-dq', text: t('disqualified') }) : null),
        h('td', { class: 'num', title: r.created_at ? t('sent {time}', { time: r.created_at }) : null, text: `#${r.submission_id}` }),
        h('td', { text: r.selected ? t('yes') : t('no') }),
        h('td', { class: 'num score', text: score(r.public_score) }),
        h('td', { class: 'num score', text: score(r.private_score) }),
        h('td', {}, errorBar(r, scale)),
        h('td', { class: 'range', text: Array.isArray(r.rank_range) ? (r.rank_range[0] === r.rank_range[1] ? String(r.rank_range[0]) : `${r.rank_range[0]}–${r.rank_range[1]}`) : '—' }),
        sheets ? factSheetCell(r) : null,
        acting ? h('td', {}, rowActions(r)) : null))))),
    metricsTable(review));
}

// ---- notes ----

function renderNotes() {
  const teams = new Map((review.rows || []).map((r) => [r.team_id, r.team]));
  const notes = Array.isArray(review.notes) ? review.notes : [];
  const dqs = Array.isArray(review.disqualified) ? review.disqualified : [];
  const target = (n) => [
    n.team_id != null ? [t('team '), h('bdi', { text: teams.get(n.team_id) ?? `#${n.team_id}` })] : null,
    n.submission_id != null ? t(' submission #{id}', { id: n.submission_id }) : null,
  ];
  replace($('#notes-body'),
    dqs.length
      ? [h('h3', { text: t('Disqualifications') }), h('ul', { class: 'notes' }, dqs.map((d) => h('li', {},
        h('strong', {}, d.kind === 'team' ? t('Team ') : t('Submission #{id} of ', { id: d.id }), h('bdi', { text: d.team ?? '' })), ' · ', timeEl(d.at), h('p', { class: 'note-text', text: d.reason ?? '' }))))]
      : null,
    h('h3', { text: t('Notes') }),
    notes.length
      ? h('ul', { class: 'notes' }, notes.map((n) => h('li', {},
        h('strong', {}, h('bdi', { text: n.author ?? '' })), ' · ', timeEl(n.created_at), (n.team_id != null || n.submission_id != null) ? [t(' · on '), target(n)] : null,
        h('p', { class: 'note-text', text: n.text ?? n.reason ?? '' }))))
      : h('p', { class: 'muted', text: t('No note yet.') }));
  const add = $('#add-note');
  add.hidden = !canAct || !!review.published;
}

// ---- publication ----

function lastEnd() {
  return (challenge && challenge.phases ? challenge.phases : []).map((p) => p.end).filter(Boolean).sort().pop() || null;
}

function publish() {
  return act({
    title: t('Publish the final ranking of {slug}', { slug }),
    text: t('The ranking is then signed and frozen: no more disqualification, note or re-score. Everyone can read the private leaderboard.'),
    confirm: t('Publish'),
    danger: true,
    path: `${base}/publish`,
    done: t('The ranking is published and signed.'),
  }).catch(() => {});
}

function verifyLines(files) {
  return [
    `base64 -d ${files.sig} > ${files.sig}.bin`,
    `openssl pkeyutl -verify -pubin -inkey ${files.key} -rawin -in ${files.ranking} -sigfile ${files.sig}.bin`,
    t('# prints "Signature Verified Successfully"'),
  ].join('\n');
}

function renderPublication() {
  const box = $('#publication-body');
  const files = { ranking: `${slug}-ranking.json`, sig: `${slug}-ranking.sig`, key: 'concours-signing-key.pem' };
  if (review.published) {
    const at = typeof review.published === 'string' ? review.published : review.published_at;
    replace(box,
      h('p', { class: 'alert alert-ok', id: 'published-note' }, t('Published'), at ? [' ', timeEl(at)] : null, t('. The ranking below is signed with the server\'s Ed25519 key.')),
      h('div', { class: 'row', id: 'ranking-links' },
        downloadLink(`${base}/ranking`, files.ranking, t('Signed ranking (JSON)')),
        downloadLink(`${base}/ranking.sig`, files.sig, t('Signature')),
        downloadLink('/signing-key', files.key, t('Public key (PEM)'))),
      h('p', {}, t('To check the three downloads in a folder:')),
      h('pre', { class: 'code-block', id: 'verify-lines', tabindex: '0', text: verifyLines(files) }),
      h('p', { class: 'help' }, t('or '), h('code', { text: `concours verify ${files.ranking} ${files.sig} ${files.key}` }), '.'));
    return;
  }
  const end = lastEnd();
  const parts = [];
  if (review.phase_open) {
    parts.push(h('p', { class: 'alert alert-warn' }, t('The last phase is still open'), end ? [t(' (it closes '), timeEl(end, { relative: true }), ')'] : null, t(': the ranking can be published once it has ended.')));
  } else {
    parts.push(h('p', { text: t('Every phase has ended. Once the review is done, publish the ranking: it is signed and frozen.') }));
  }
  if (review.fact_sheets === 'required') {
    const missing = (review.rows || []).filter((r) => !r.disqualified && !(r.fact_sheet && r.fact_sheet.status === 'accepted'));
    parts.push(h('p', { class: missing.length ? 'alert alert-warn' : 'help', id: 'fact-sheet-gate' },
      missing.length
        ? t('Every ranked team needs an accepted method description before publication; {n} still lack one: {teams}.', { n: missing.length, teams: missing.map((r) => r.team).join(', ') })
        : t('Every ranked team has an accepted method description.')));
  }
  if (canAct) {
    const b = h('button', { type: 'button', id: 'publish', class: 'button primary', text: t('Publish the final ranking…') });
    b.addEventListener('click', publish);
    parts.push(h('div', { class: 'row' }, b));
  } else {
    parts.push(h('p', { class: 'muted', text: t('Only the jury publishes.') }));
  }
  replace(box, parts);
}

function renderState() {
  const el = $('#review-state');
  const rows = Array.isArray(review.rows) ? review.rows : [];
  const ranked = rows.filter((r) => !r.disqualified).length;
  replace(el,
    review.published ? h('span', { class: 'badge badge-finished', text: t('published') }) : review.phase_open ? h('span', { class: 'badge badge-open', text: t('phase open') }) : h('span', { class: 'badge badge-upcoming', text: t('ready to publish') }),
    t(' {ranked} ranked, {dq} disqualified. Metric ', { ranked, dq: rows.length - ranked }),
    h('strong', { text: review.metric || (challenge && challenge.metric ? challenge.metric.name : '?') }),
    canAct ? '' : t(' · read only: the jury acts.'));
}

// ---- stability (API.md section 6) ----

// The side of one team's cell: large for a few teams, down to 14 px for a hundred; room for the longest name.
const cellFor = (n) => Math.max(14, Math.min(48, Math.floor(480 / Math.max(1, n))));
const nameRoom = (names) => 16 + 7 * Math.min(24, Math.max(4, ...names.map((n) => n.length)));

// Rank frequencies as blobs (area proportional to the share of samples), the 95 % rank interval as a bar and the
// full ranking's rank as a ring: one column per team, rank 1 at the top.
function blobPlot(st) {
  const teams = st.teams;
  const nt = teams.length;
  const CELL = cellFor(nt);
  const left = 36;
  const top = 12;
  const room = nameRoom(teams.map((tm) => tm.team));
  const w = left + nt * CELL + room / 2;
  const hgt = top + nt * CELL + room;
  const y = (rank) => top + (rank - 0.5) * CELL;
  const x = (k) => left + (k + 0.5) * CELL;
  const label = t('Blob plot: {teams}', { teams: teams.map((tm) => t('{team} rank {rank}, 95 % rank interval {lo} to {hi}', { team: tm.team, rank: tm.rank, lo: tm.rank_ci[0], hi: tm.rank_ci[1] })).join('; ') });
  const kids = [s('title', { text: label })];
  for (let r = 1; r <= nt; r++) {
    kids.push(s('line', { class: 'blob-grid', x1: left, x2: left + nt * CELL, y1: y(r), y2: y(r) }),
      s('text', { class: 'blob-label', x: left - 6, y: y(r) + 4, 'text-anchor': 'end', text: String(r) }));
  }
  teams.forEach((tm, k) => {
    kids.push(s('line', { class: 'blob-ci', x1: x(k), x2: x(k), y1: y(tm.rank_ci[0]), y2: y(tm.rank_ci[1]) }));
    (tm.rank_freq || []).forEach((f, r) => {
      if (f > 0) kids.push(s('circle', { class: 'blob', cx: x(k), cy: y(r + 1), r: Math.max(1.5, Math.sqrt(f) * (CELL / 2 - 1)) }, s('title', { text: t('{team}: rank {rank} in {share} % of samples', { team: tm.team, rank: r + 1, share: (f * 100).toFixed(1) }) })));
    });
    kids.push(s('circle', { class: 'blob-full', cx: x(k), cy: y(tm.rank), r: CELL / 2 - 2 }),
      s('text', { class: 'blob-label', transform: `translate(${x(k) - 4},${top + nt * CELL + 8}) rotate(60)`, text: tm.team }));
  });
  return s('svg', { class: 'stability-plot', viewBox: `0 0 ${w} ${hgt}`, width: w, height: hgt, role: 'img', 'aria-label': label }, ...kids);
}

function pBin(p) {
  return p < 0.001 ? 'sig-3' : p < 0.01 ? 'sig-2' : p < 0.05 ? 'sig-1' : 'sig-0';
}

// Team x team: the cell of row a and column b is coloured by the adjusted p-value of "a better than b".
function significanceMap(st) {
  const names = st.teams.map((tm) => tm.team);
  const nt = names.length;
  const CELL = cellFor(nt);
  const byPair = new Map(st.pairs.map((p) => [`${p.a}\u0000${p.b}`, p]));
  const left = nameRoom(names);
  const top = nameRoom(names);
  const w = left + nt * CELL + 8;
  const hgt = top + nt * CELL + 8;
  const kids = [s('title', { text: t('Significance map: adjusted p-value of "row team better than column team"') })];
  names.forEach((a, i) => {
    kids.push(s('text', { class: 'blob-label', x: left - 6, y: top + i * CELL + CELL / 2 + 4, 'text-anchor': 'end', text: a }),
      s('text', { class: 'blob-label', transform: `translate(${left + i * CELL + CELL / 2 + 4},${top - 6}) rotate(-60)`, text: a }));
    names.forEach((b, j) => {
      if (i === j) return;
      const p = byPair.get(`${a}\u0000${b}`);
      if (!p) return;
      kids.push(s('rect', { class: `sig ${pBin(p.p_holm)}`, x: left + j * CELL, y: top + i * CELL, width: CELL - 1, height: CELL - 1 },
        s('title', { text: t('{a} better than {b}: p = {p}, Holm-adjusted {holm}', { a, b, p: p.p.toPrecision(3), holm: p.p_holm.toPrecision(3) }) })));
    });
  });
  return s('svg', { class: 'stability-map', viewBox: `0 0 ${w} ${hgt}`, width: w, height: hgt, role: 'img', 'aria-label': t('Significance map of the paired tests') }, ...kids);
}

// The official ranking (the metric over every case, then ranked) beside challengeR's rank-then-aggregate one (the
// teams ranked on each case, the mean of those ranks, then ranked): metrics that are a mean over cases only.
function methodTable(st) {
  const rta = st.rank_then_aggregate;
  if (!rta) return null;
  return [
    h('h3', { text: t('Ranking method') }),
    h('p', { id: 'method-robustness' }, t('Ranked case by case, then by the mean of those ranks (rank-then-aggregate), instead of by the metric over every case: Kendall\'s tau {tau} with the official ranking, {n} team(s) move.', { tau: Number(rta.kendall_tau).toFixed(3), n: rta.teams_moved })),
    scrollBox(h('table', { class: 'methods' },
      h('thead', {}, h('tr', {}, [t('Team'), t('Official rank'), t('Rank then aggregate'), t('Mean case rank')].map((head, k) => h('th', { scope: 'col', class: k ? 'num' : null, text: head })))),
      h('tbody', {}, st.teams.map((tm) => h('tr', { class: tm.rank_then_aggregate !== tm.rank ? 'moved' : null },
        h('th', { scope: 'row' }, h('bdi', { text: tm.team })),
        h('td', { class: 'num', text: tm.rank }),
        h('td', { class: 'num', text: tm.rank_then_aggregate }),
        h('td', { class: 'num', text: Number(tm.mean_case_rank).toFixed(2) })))))),
  ];
}

function legend() {
  return h('ul', { class: 'sig-legend' }, [['sig-3', 'p < 0.001'], ['sig-2', 'p < 0.01'], ['sig-1', 'p < 0.05'], ['sig-0', t('not shown better')]].map(([c, text]) =>
    h('li', {}, s('svg', { width: 14, height: 14, 'aria-hidden': 'true' }, s('rect', { class: `sig ${c}`, width: 14, height: 14 })), ` ${text}`)));
}

async function loadStability() {
  const box = $('#stability-body');
  let st;
  try {
    st = await api('GET', `${base}/review/stability`);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'stability_unavailable') return replace(box, h('p', { class: 'muted', text: t('No stability analysis: {why}', { why: err.message }) }));
    return replace(box, errorBox(err, { what: t('Could not analyse the ranking') }));
  }
  const groups = Array.isArray(st.groups) ? st.groups : [];
  const tau = st.kendall_tau || {};
  replace(box,
    h('p', {}, t('{b} bootstrap samples of {cases} private cases (seed {seed}). Kendall\'s tau between the full ranking and a sample\'s: median {median}, 5 % quantile {q05}. ', { b: st.bootstrap, cases: st.cases, seed: st.seed, median: Number(tau.median).toFixed(3), q05: Number(tau.q05).toFixed(3) }),
      st.test === 'wilcoxon' ? t('Pairs compared with paired Wilcoxon signed-rank tests.') : t('The metric is not a mean over cases: a pair\'s p is the share of samples in which the first team does not beat the second.')),
    h('h3', { text: t('Groups not shown apart') }),
    h('ol', { class: 'tie-groups' }, groups.map((g) => h('li', {}, g.map((name, k) => [k ? ', ' : '', h('bdi', { text: name })])))),
    st.missing && st.missing.length ? h('p', { class: 'muted', text: t('Left out (no per-case scores): {teams}.', { teams: st.missing.join(', ') }) }) : null,
    methodTable(st),
    h('div', { class: 'stability-figures' },
      h('figure', {}, blobPlot(st), h('figcaption', { text: t('Rank frequencies over the bootstrap samples (ring: the full ranking).') })),
      h('figure', {}, significanceMap(st), legend(), h('figcaption', { text: t('Row better than column, Holm-adjusted.') }))));
}

async function loadReview() {
  try {
    review = await api('GET', `${base}/review`);
  } catch (err) {
    replace($('#review-body'), errorBox(err, { what: t('Could not load the review') }));
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
  if (!allowed(status, me, REVIEW_ROLES, t('a jury or organizer'))) return;
  canAct = JURY_ROLES.includes(me.role);
  replace(status);
  if (!slug) {
    $('#pick').hidden = false;
    await challengeTable($('#challenge-list'), slug, (c) => ({ href: `jury.html?slug=${encodeURIComponent(c.slug)}`, text: t('Review') }));
    return;
  }
  try {
    challenge = await api('GET', base);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) replace(status, h('p', { class: 'alert alert-error', role: 'alert' }, t('No challenge '), h('code', { text: slug }), '. ', h('a', { href: 'jury.html', text: t('All challenges') })));
    else replace(status, errorBox(err, { what: t('Challenge {slug}', { slug }) }));
    return;
  }
  document.title = t('Review of {title} · concours', { title: challenge.title || slug });
  replace($('#jury-title'), t('Jury review: '), h('bdi', { text: challenge.title || slug }));
  $('#review').hidden = false;
  $('#add-note').addEventListener('click', () =>
    act({ title: t('Add a note on {what}', { what: slug }), label: t('Note'), help: t('Required. Kept with the review and written to the audit log.'), confirm: t('Add the note'), path: `${base}/notes`, done: t('Note added.') }));
  replace($('#export-links'),
    downloadLink(`${base}/review/export?format=csv`, `${slug}-review.csv`, t('Download CSV')),
    downloadLink(`${base}/review/export?format=json`, `${slug}-review.json`, t('Download JSON')));
  await loadReview();
  await loadStability();
}

main();
