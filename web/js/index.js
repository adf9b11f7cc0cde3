// Why this file exists: the home page — challenges open now, upcoming and finished, with their deadlines.
// GET /api/v1/challenges says which phase is open; for the others, the challenge details (phases) tell
// whether one is still to come.
import { api, errorBox } from './api.js';
import { h, replace, $, timeEl, fmtRelative, parseTime } from './dom.js';
import { initNav } from './nav.js';
import { t } from './i18n.js';

function challengeHref(slug) {
  return `challenge.html?slug=${encodeURIComponent(slug)}`;
}

// Sorts a challenge without an open phase into upcoming / finished from its phases.
function classify(detail, now) {
  const phases = Array.isArray(detail && detail.phases) ? detail.phases : [];
  const next = phases
    .map((p) => ({ ...p, startMs: parseTime(p.start)?.getTime() }))
    .filter((p) => p.startMs > now)
    .sort((a, b) => a.startMs - b.startMs)[0];
  if (next) return { group: 'upcoming', when: next.start, phase: next.name };
  const last = phases.map((p) => p.end).filter((e) => parseTime(e)).sort().pop();
  return { group: 'finished', when: last || null };
}

function card(c, info) {
  let when;
  if (info.group === 'open') {
    when = [t('{phase} phase · closes ', { phase: c.phase }), c.ends_at ? timeEl(c.ends_at, { relative: true }) : t('never')];
  } else if (info.group === 'upcoming') {
    when = [t('{phase} phase opens ', { phase: info.phase }), timeEl(info.when, { relative: true })];
  } else {
    when = info.when ? [t('Closed '), timeEl(info.when), ` (${fmtRelative(info.when)})`] : [t('Closed')];
  }
  return h(
    'li',
    { class: `card ${info.group}` },
    h('h3', {}, h('a', { href: challengeHref(c.slug), text: c.title || c.slug })),
    h('p', { text: c.summary || '' }),
    h('p', { class: 'when' }, h('span', { class: `badge badge-${info.group}`, text: t(info.group) }), ' ', ...when),
  );
}

async function main() {
  initNav();
  const status = $('#status');
  let list;
  try {
    list = await api('GET', '/challenges');
  } catch (err) {
    replace(status, errorBox(err, { what: t('Could not load the challenges') }));
    return;
  }
  if (!Array.isArray(list) || list.length === 0) {
    replace(status, h('p', { text: t('No challenge has been published yet.') }));
    return;
  }
  const now = Date.now();
  const infos = await Promise.all(
    list.map(async (c) => {
      if (c.phase) return { group: 'open' };
      try {
        return classify(await api('GET', `/challenges/${encodeURIComponent(c.slug)}`), now);
      } catch {
        return { group: 'finished', when: null };
      }
    }),
  );
  const groups = { open: [], upcoming: [], finished: [] };
  list.forEach((c, k) => groups[infos[k].group].push([c, infos[k]]));
  groups.open.sort((a, b) => String(a[0].ends_at).localeCompare(String(b[0].ends_at)));
  groups.upcoming.sort((a, b) => String(a[1].when).localeCompare(String(b[1].when)));
  groups.finished.sort((a, b) => String(b[1].when).localeCompare(String(a[1].when)));
  for (const [name, items] of Object.entries(groups)) {
    const section = $(`#${name}`);
    replace($('.cards', section), items.map(([c, info]) => card(c, info)));
    section.hidden = items.length === 0;
  }
  replace(status);
}

main();
