// Why this file exists: the leaderboard block of the challenge page — a table that can be sorted and
// searched, with the viewer's row highlighted, and a plot of scores over time.
import { h, replace, timeEl, parseTime, fmtScore, scrollBox } from './dom.js';
import { scorePlot } from './plot.js';
import { t } from './i18n.js';

const COLUMNS = [
  { key: 'rank', label: t('Rank'), num: true },
  { key: 'name', label: t('Team') },
  { key: 'score', label: t('Score'), num: true },
  { key: 'submissions', label: t('Entries'), num: true },
  { key: 'last_at', label: t('Last scored') },
];

// How the teams are ranked under the rule "mean_rank" (docs/bundle.md, "Several metrics"), in words.
export function rankingRule(metrics, ranking) {
  const w = ranking.weights || {};
  const parts = metrics.map((m) => (w[m.key] && w[m.key] !== 1 ? `${m.label} × ${w[m.key]}` : m.label));
  return t('Ranked by the mean of each team\'s ranks on {metrics}; {primary} breaks ties.', { metrics: parts.join(', '), primary: (metrics.find((m) => m.primary) || {}).label || '' });
}

// Renders the leaderboard into `root` and returns {update(board, mySubmissions)}.
// `onSplit(split)` is called when the reader picks the public or the private split (offered once the final
// ranking is published, when the private leaderboard is open to everyone).
// METRICS: the challenge's metrics ({key,label,higher_is_better,precision,primary}); each secondary one is a column.
// RANKING: the challenge's rule ({rule, weights}).
// PAGESIZE and onPage(offset, query): a board of more than PAGESIZE teams comes one page at a time; the view then
// shows the server's page (rank order), offers the previous and next pages and sends searches to the server.
export function leaderboardView(root, { isMine, precision, onSplit, metrics = [], ranking = null, pageSize = Infinity, onPage = null }) {
  const score = (v) => fmtScore(v, Number.isInteger(state.board.precision) ? state.board.precision : precision);
  const secondary = metrics.filter((m) => !m.primary);
  const columns = [...COLUMNS.slice(0, 3),
    ...secondary.map((m) => ({ key: `metric:${m.key}`, label: m.label, num: true, metric: m })),
    ...COLUMNS.slice(3)];
  const value = (row, col) => (col.metric ? (row.metrics || {})[col.metric.key] : row[col.key]);
  const state = { board: null, mine: [], sort: 'rank', dir: 1, query: '' };
  const search = h('input', { type: 'search', id: 'lb-search', placeholder: t('Filter by name'), autocomplete: 'off' });
  const count = h('span', { class: 'muted', 'aria-live': 'polite' });
  const jump = h('button', { type: 'button', class: 'button small', hidden: true, text: t('Show my row') });
  const tools = h('div', { class: 'row lb-tools' }, h('label', { for: 'lb-search', text: t('Search') }), search, jump, count);
  const prev = h('button', { type: 'button', class: 'button small', text: t('Previous page') });
  const next = h('button', { type: 'button', class: 'button small', text: t('Next page') });
  const pager = h('div', { class: 'row lb-pager', hidden: true }, prev, next);
  const paged = () => onPage !== null && Number(state.board.total) > pageSize;
  prev.addEventListener('click', () => onPage(Math.max(0, state.board.offset - pageSize), state.query));
  next.addEventListener('click', () => onPage(state.board.offset + pageSize, state.query));
  let searchTimer = null;
  const splits = h('div', { class: 'row splits', role: 'group', 'aria-label': t('Split'), hidden: true });
  for (const [split, label] of [['private', t('Final ranking (private split)')], ['public', t('Public leaderboard')]]) {
    const b = h('button', { type: 'button', class: 'button small', dataset: { split }, 'aria-pressed': 'false', text: label });
    b.addEventListener('click', () => onSplit && onSplit(split));
    splits.append(b);
  }
  const tableWrap = scrollBox();
  const plotWrap = h('div', { class: 'lb-plot' });
  const head = h('p', { class: 'muted lb-meta' });
  replace(root, splits, head, tools, tableWrap, pager, plotWrap);

  search.addEventListener('input', () => {
    state.query = search.value.trim().toLowerCase();
    if (!paged()) return renderTable();
    clearTimeout(searchTimer); // the server searches a paged board: once the typing pauses
    searchTimer = setTimeout(() => onPage(0, state.query), 300);
  });
  jump.addEventListener('click', () => {
    const row = tableWrap.querySelector('tr.mine');
    if (row) {
      row.scrollIntoView({ block: 'center' });
      row.focus();
    }
  });


  function sorted() {
    if (paged()) return (state.board.rows || []).slice(); // the server's page, searched and in rank order
    const rows = (state.board.rows || []).filter((r) => !state.query || String(r.name).toLowerCase().includes(state.query));
    const col = columns.find((c) => c.key === state.sort);
    return rows.sort((a, b) => {
      const va = value(a, col);
      const vb = value(b, col);
      const cmp = col.num ? Number(va) - Number(vb) : String(va ?? '').localeCompare(String(vb ?? ''));
      return cmp * state.dir || a.rank - b.rank;
    });
  }

  function headerCell(col) {
    if (paged()) { // a page of a larger board: in rank order only
      return h('th', { scope: 'col', class: col.num ? 'num' : null, dataset: { key: col.key }, 'aria-sort': col.key === 'rank' ? 'ascending' : null, text: col.label });
    }
    const active = state.sort === col.key;
    const button = h('button', { type: 'button', class: 'sort', text: col.label },
      h('span', { class: 'sort-mark', 'aria-hidden': 'true', text: active ? (state.dir > 0 ? ' ▲' : ' ▼') : '' }));
    button.addEventListener('click', () => {
      state.dir = active ? -state.dir : 1;
      state.sort = col.key;
      renderTable();
      tableWrap.querySelector(`th[data-key="${col.key}"] button`).focus();
    });
    return h('th', { scope: 'col', class: col.num ? 'num' : null, dataset: { key: col.key }, 'aria-sort': active ? (state.dir > 0 ? 'ascending' : 'descending') : null }, button);
  }

  function renderTable() {
    const rows = sorted();
    const isPaged = paged();
    const total = isPaged ? Number(state.board.total) : (state.board.rows || []).length;
    if (isPaged) {
      const matched = Number(state.board.matched);
      const from = rows.length ? state.board.offset + 1 : 0;
      count.textContent = t('{from}–{to} of {n} ({total} ranked)', { from, to: state.board.offset + rows.length, n: matched, total });
      pager.hidden = false;
      prev.disabled = state.board.offset === 0;
      next.disabled = state.board.offset + rows.length >= matched;
    } else {
      pager.hidden = true;
      count.textContent = state.query ? t('{n} of {total} shown', { n: rows.length, total }) : t('{total} ranked', { total });
    }
    jump.hidden = !(state.board.rows || []).some((r) => isMine(r.name));
    if (total === 0) {
      replace(tableWrap, h('p', { class: 'muted', text: t('No scored submission yet: be the first on the board.') }));
      return;
    }
    const body = rows.map((r) => {
      const mine = isMine(r.name);
      return h(
        'tr',
        { class: mine ? 'mine' : null, tabindex: mine ? '-1' : null },
        h('td', { class: 'num', text: r.rank }),
        h('td', {}, h('bdi', { text: r.name }), mine ? h('span', { class: 'badge badge-you', text: t('you') }) : null),
        h('td', { class: 'num score', text: score(r.score) }),
        secondary.map((m) => h('td', { class: 'num score metric', text: fmtScore((r.metrics || {})[m.key], m.precision) })),
        h('td', { class: 'num', text: r.submissions }),
        h('td', {}, timeEl(r.last_at)),
      );
    });
    replace(
      tableWrap,
      h('table', { class: 'leaderboard' }, h('caption', { class: 'visually-hidden', text: t('Leaderboard, {split} split', { split: t(splitName()) }) }),
        h('thead', {}, h('tr', {}, columns.map(headerCell))), h('tbody', {}, body)),
    );
  }

  function splitName() {
    return state.board.split === 'private' ? 'private' : 'public';
  }

  function renderPlot() {
    const board = state.board;
    const better = board.higher_is_better ? t('higher is better') : t('lower is better');
    const series = [];
    const key = splitName() === 'private' ? 'private_score' : 'public_score';
    const mine = state.mine
      .filter((x) => x.status === 'scored' && typeof x[key] === 'number' && parseTime(x.created_at))
      .map((x) => ({ t: parseTime(x.created_at).getTime(), v: x[key], title: `#${x.id}: ${score(x[key])}` }))
      .sort((a, b) => a.t - b.t);
    if (mine.length) {
      let best = null;
      const runningBest = mine.map((p) => {
        if (best === null || (board.higher_is_better ? p.v > best : p.v < best)) best = p.v;
        return { t: p.t, v: best, title: t('your best so far: {score}', { score: score(best) }) };
      });
      series.push({ label: t('your submissions'), cls: 's-mine', points: mine });
      series.push({ label: t('your best so far'), cls: 's-best', step: true, points: runningBest });
    } else {
      const others = (board.rows || []).filter((r) => typeof r.score === 'number' && parseTime(r.last_at));
      series.push({
        label: t('each participant’s best, at their latest entry'),
        cls: 's-all',
        points: others.map((r) => ({ t: parseTime(r.last_at).getTime(), v: r.score, title: `${r.name}: ${score(r.score)}` })),
      });
    }
    const top = (board.rows || []).find((r) => r.rank === 1);
    const lines = top && typeof top.score === 'number' ? [{ label: t('leader: {score}', { score: score(top.score) }), cls: 's-leader', v: top.score }] : [];
    const fig = scorePlot({
      title: t('Best score over time'),
      description: t('{metric} on the {split} split: {better}.', { metric: board.metric, split: t(splitName()), better }),
      series,
      lines,
      yLabel: String(board.metric || t('score')),
    });
    replace(plotWrap, fig ? [h('h3', { text: t('Best score over time') }), fig] : null);
  }

  return {
    // published: whether the private split may be offered.
    update(board, mine, { published = false } = {}) {
      if (board) state.board = board;
      if (Array.isArray(mine)) state.mine = mine;
      if (!state.board) return;
      splits.hidden = !published;
      for (const b of splits.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.split === splitName()));
      replace(head, t('Metric: {metric} ({better}), {split} split. Best score per team; ties go to the earlier submission.', { metric: state.board.metric, better: state.board.higher_is_better ? t('higher is better') : t('lower is better'), split: t(splitName()) }),
        ranking && ranking.rule === 'mean_rank' ? [' ', rankingRule(metrics, ranking)] : null);
      renderTable();
      renderPlot();
    },
  };
}
