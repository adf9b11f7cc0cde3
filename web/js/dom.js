// Why this file exists: every page builds its DOM through these helpers, so that text coming from the
// server (user names, descriptions, file names, Markdown) only ever reaches the page as text nodes and
// attribute values, never as HTML. Nothing here parses HTML; there is no innerHTML anywhere in web/.

import { lang, t } from './i18n.js';

// Bidi overrides, embeddings and isolates can make "evil.csv\u202Evsc.exe" read as something else.
// We show them as a visible escape instead of letting them reorder text (SECURITY.md §23).
const BIDI = /[\u202A-\u202E\u2066-\u2069]/g;

export function visible(value) {
  return String(value ?? '').replace(BIDI, (c) => `<U+${c.codePointAt(0).toString(16).toUpperCase()}>`);
}

const SAFE_SCHEMES = new Set(['http:', 'https:', 'mailto:']);

// Returns the URL if it is relative or uses http(s)/mailto, else null. Used for every href we set.
export function safeHref(url) {
  if (typeof url !== 'string') return null;
  const trimmed = url.trim();
  if (trimmed === '' || /[\u0000-\u001F\u007F]/.test(trimmed)) return null;
  let parsed;
  try {
    parsed = new URL(trimmed, window.location.href);
  } catch {
    return null;
  }
  return SAFE_SCHEMES.has(parsed.protocol) ? trimmed : null;
}

// Points an existing link at `url` if safeHref() accepts it (else removes its href).
export function setHref(el, url) {
  const href = safeHref(url);
  if (href === null) el.removeAttribute('href');
  else el.setAttribute('href', href);
}

// h('a', {class: 'x', href: 'page.html', text: 'label'}, child, ...) → an element.
// Strings among the children become text nodes; null/undefined/false children are skipped.
export function h(tag, props = {}, ...kids) {
  return fill(document.createElement(tag), props, kids);
}

// The same for SVG elements (the leaderboard plot).
export function s(tag, props = {}, ...kids) {
  return fill(document.createElementNS('http://www.w3.org/2000/svg', tag), props, kids);
}

function fill(el, props, kids) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (/^on/i.test(key) || key === 'style' || key === 'innerHTML') {
      throw new Error(`h(): refusing attribute ${key}`);
    }
    if (key === 'class') el.setAttribute('class', value);
    else if (key === 'text') el.textContent = visible(value);
    else if (key === 'href') setHref(el, value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, ...kids);
  return el;
}

export function append(el, ...kids) {
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(visible(kid)));
  }
  return el;
}

// Empties an element and puts the given children in it.
export function replace(el, ...kids) {
  el.replaceChildren();
  return append(el, ...kids);
}

// A box that scrolls sideways when its content (a table, code) is wider than a phone. It takes keyboard
// focus, so that keyboard users can scroll it too (WCAG 2.1.1).
export function scrollBox(...kids) {
  return h('div', { class: 'table-scroll', tabindex: '0' }, ...kids);
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

// Drives an upload's <progress> bar and its label; returns the onProgress(loaded, total) for upload().
// `doneText` replaces the label once every byte is sent (e.g. while the server checks the file).
export function progressReporter(bar, label, doneText = null) {
  const show = (loaded, total) => {
    const pct = total ? Math.round((loaded / total) * 100) : 0;
    bar.value = pct;
    label.textContent = doneText && total && loaded >= total ? doneText : t('{done} of {total} ({pct} %)', { done: fmtBytes(loaded), total: fmtBytes(total), pct });
  };
  return show;
}

export function fmtBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '';
  if (n < 1024) return t('{n} B', { n });
  const units = [t('KiB'), t('MiB'), t('GiB'), t('TiB')];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

// Deadlines matter: times carry the reader's time-zone name ("Jun 30, 2030, 2:00 AM GMT+2").
const dateFmt = new Intl.DateTimeFormat(lang, { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' });
const relFmt = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });

export function parseTime(iso) {
  if (typeof iso !== 'string') return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : new Date(t);
}

// "in 3 days", "5 minutes ago"
export function fmtRelative(iso, now = Date.now()) {
  const d = parseTime(iso);
  if (!d) return '';
  const secs = Math.round((d.getTime() - now) / 1000);
  const steps = [
    [60, 'second'],
    [60, 'minute'],
    [24, 'hour'],
    [30, 'day'],
    [12, 'month'],
    [Infinity, 'year'],
  ];
  let v = secs;
  for (const [size, unit] of steps) {
    if (Math.abs(v) < size) return relFmt.format(Math.round(v), unit);
    v /= size;
  }
  return '';
}

// A <time> element showing the local date, with the exact UTC time as its datetime and tooltip.
export function timeEl(iso, { relative = false } = {}) {
  const d = parseTime(iso);
  if (!d) return h('span', { class: 'muted', text: '—' });
  const label = relative ? `${dateFmt.format(d)} (${fmtRelative(iso)})` : dateFmt.format(d);
  return h('time', { datetime: d.toISOString(), title: d.toISOString(), text: label });
}

export function fmtTime(iso) {
  const d = parseTime(iso);
  return d ? dateFmt.format(d) : '';
}

// A score as the leaderboard shows it: rounded to the challenge's precision (JSON may carry 0.56169999999999998).
export function fmtScore(value, precision) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return value === null || value === undefined ? '' : String(value);
  return Number.isInteger(precision) && precision >= 0 && precision <= 12 ? value.toFixed(precision) : String(value);
}

// Random hex, for Idempotency-Key (crypto.randomUUID needs a secure context; this does not).
export function randomKey(bytes = 16) {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

// Only same-site page names may be used as a "next" redirect after login.
export function safeNext(value, fallback = 'index.html') {
  if (typeof value !== 'string') return fallback;
  return /^[a-z][a-z0-9-]*\.html(\?[A-Za-z0-9_.~%=&-]*)?(#[A-Za-z0-9_-]*)?$/.test(value) ? value : fallback;
}

// The current page and query, for ?next= links.
export function here() {
  const path = window.location.pathname.split('/').pop() || 'index.html';
  return safeNext(path + window.location.search + window.location.hash);
}
