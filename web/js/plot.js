// Why this file exists: a small inline SVG chart of scores over time (no library). It draws points and
// step lines on a time axis, optional horizontal reference lines, axis ticks and a legend; colours come
// from classes styled in style.css, so the chart follows the page theme and needs no inline style.
import { h, s, fmtTime } from './dom.js';
import { lang } from './i18n.js';

const W = 640;
const H = 260;
const M = { top: 14, right: 16, bottom: 34, left: 64 };

// Round tick values covering [lo, hi].
function niceTicks(lo, hi, count = 5) {
  if (lo === hi) {
    const pad = Math.abs(lo) * 0.05 || 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((st) => st >= raw) || raw;
  const ticks = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const dayFmt = new Intl.DateTimeFormat(lang, { month: 'short', day: 'numeric' });
const hourFmt = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' });

// series: [{label, cls, step, points: [{t: ms, v: number, title}]}], lines: [{label, cls, v}]
export function scorePlot({ title, description, series, lines = [], yLabel = 'score' }) {
  const pts = series.flatMap((se) => se.points);
  const values = pts.map((p) => p.v).concat(lines.map((l) => l.v));
  if (pts.length === 0) return null;
  let t0 = Math.min(...pts.map((p) => p.t));
  let t1 = Math.max(...pts.map((p) => p.t));
  if (t1 - t0 < 2 * 3600e3) {
    // Widen a short span to two hours around its middle, so the time ticks stay distinct.
    const mid = (t0 + t1) / 2;
    t0 = mid - 3600e3;
    t1 = mid + 3600e3;
  }
  const yt = niceTicks(Math.min(...values), Math.max(...values));
  const y0 = yt[0];
  const y1 = yt[yt.length - 1];
  const x = (t) => M.left + ((t - t0) / (t1 - t0)) * (W - M.left - M.right);
  const y = (v) => H - M.bottom - ((v - y0) / (y1 - y0 || 1)) * (H - M.top - M.bottom);
  const sameDay = t1 - t0 < 36 * 3600e3;
  const id = `plot-${Math.random().toString(36).slice(2, 8)}`;

  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'plot', role: 'img', 'aria-labelledby': `${id}-t ${id}-d` });
  svg.append(s('title', { id: `${id}-t`, text: title }), s('desc', { id: `${id}-d`, text: description }));

  const grid = s('g', { class: 'grid' });
  for (const v of yt) {
    grid.append(s('line', { x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }));
    grid.append(s('text', { x: M.left - 6, y: y(v) + 4, class: 'tick y', text: String(v) }));
  }
  for (let k = 0; k <= 4; k++) {
    const t = t0 + ((t1 - t0) * k) / 4;
    const d = new Date(t);
    const edge = k === 0 ? ' first' : k === 4 ? ' last' : '';
    grid.append(s('text', { x: x(t), y: H - M.bottom + 18, class: `tick x${edge}`, text: sameDay ? hourFmt.format(d) : dayFmt.format(d) }));
  }
  grid.append(s('line', { class: 'axis', x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom }));
  grid.append(s('text', { class: 'axis-label', x: 14, y: (H - M.bottom + M.top) / 2, transform: `rotate(-90 14 ${(H - M.bottom + M.top) / 2})`, text: yLabel }));
  svg.append(grid);

  for (const l of lines) {
    svg.append(s('line', { class: `ref ${l.cls}`, x1: M.left, x2: W - M.right, y1: y(l.v), y2: y(l.v) }));
  }
  for (const se of series) {
    const g = s('g', { class: `series ${se.cls}` });
    const sorted = [...se.points].sort((a, b) => a.t - b.t);
    if (se.step && sorted.length) {
      let d = `M${x(sorted[0].t)},${y(sorted[0].v)}`;
      for (const p of sorted.slice(1)) d += ` H${x(p.t)} V${y(p.v)}`;
      d += ` H${x(t1)}`;
      g.append(s('path', { d, class: 'step' }));
    }
    for (const p of sorted) {
      g.append(s('circle', { cx: x(p.t), cy: y(p.v), r: 4 }, s('title', { text: p.title || `${p.v} · ${fmtTime(new Date(p.t).toISOString())}` })));
    }
    svg.append(g);
  }

  const legend = h(
    'ul',
    { class: 'legend' },
    series.map((se) => h('li', {}, h('span', { class: `swatch ${se.cls}`, 'aria-hidden': 'true' }), se.label)),
    lines.map((l) => h('li', {}, h('span', { class: `swatch line ${l.cls}`, 'aria-hidden': 'true' }), l.label)),
  );
  return h('figure', { class: 'plot-figure' }, svg, h('figcaption', {}, legend, h('p', { class: 'help', text: description })));
}
