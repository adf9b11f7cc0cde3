// Why this file exists: challenge overviews and terms are Markdown written by organizers. This small
// renderer turns them into DOM nodes built with createElement and text nodes only — no HTML is ever parsed,
// raw HTML in the source shows up as literal text, and links keep only http(s), mailto and relative targets.
// Supported: ATX headings, paragraphs, indented and fenced code, emphasis (* _ ** __ ~~), `code`, block quotes,
// ordered and unordered (nested) lists, pipe tables, horizontal rules, links, <autolinks>, hard breaks.
// Images are shown as their alt text (bundles serve no images).
import { h, append, safeHref, scrollBox } from './dom.js';

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)/;
const HEADING = /^ {0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}>\s?/;
const ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])(\s+|$)/;
const TABLE_SEP = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

// Renders Markdown text into a DocumentFragment. `headingOffset` shifts heading levels so that a "# Title"
// inside a page section does not compete with the page's own <h1>.
export function renderMarkdown(source, { headingOffset = 1 } = {}) {
  const frag = document.createDocumentFragment();
  const lines = String(source ?? '').replace(/\r\n?/g, '\n').replace(/\t/g, '    ').split('\n');
  blocks(lines, frag, headingOffset);
  return frag;
}

function isBlockStart(line, next) {
  return (
    FENCE.test(line) ||
    HEADING.test(line) ||
    RULE.test(line) ||
    QUOTE.test(line) ||
    ITEM.test(line) ||
    (line.includes('|') && next !== undefined && TABLE_SEP.test(next) && next.includes('-'))
  );
}

// Nesting (quotes in quotes, lists in lists, links in links, emphasis in emphasis) is followed this deep;
// below that, the rest is shown as plain text instead of overflowing the stack.
const MAX_DEPTH = 24;
let depth = 0;

function nested(fn, flat) {
  if (depth >= MAX_DEPTH) return flat();
  depth++;
  try {
    return fn();
  } finally {
    depth--;
  }
}

function blocks(lines, parent, offset) {
  return nested(() => blockList(lines, parent, offset), () => append(parent, h('p', { text: lines.join('\n') })));
}

function blockList(lines, parent, offset) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') {
      i++;
      continue;
    }
    let m = FENCE.exec(line);
    if (m) {
      const fence = m[1];
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence)) body.push(lines[i++]);
      i++; // closing fence (or end of text)
      const code = h('code', { text: body.join('\n') });
      if (m[2]) code.setAttribute('data-lang', m[2]);
      parent.append(h('pre', { tabindex: '0' }, code));
      continue;
    }
    if (/^ {4,}\S/.test(line)) {
      const body = [];
      while (i < lines.length && (/^ {4}/.test(lines[i]) || (lines[i].trim() === '' && /^ {4}/.test(lines[i + 1] || '')))) {
        body.push(lines[i++].slice(4));
      }
      parent.append(h('pre', { tabindex: '0' }, h('code', { text: body.join('\n') })));
      continue;
    }
    m = HEADING.exec(line);
    if (m) {
      const level = Math.min(6, m[1].length + offset);
      parent.append(inline(m[2] || '', h(`h${level}`)));
      i++;
      continue;
    }
    if (RULE.test(line)) {
      parent.append(h('hr'));
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const inner = [];
      while (i < lines.length && lines[i].trim() !== '' && (QUOTE.test(lines[i]) || inner.length)) {
        if (!QUOTE.test(lines[i]) && isBlockStart(lines[i], lines[i + 1])) break;
        inner.push(lines[i].replace(QUOTE, ''));
        i++;
      }
      const bq = h('blockquote');
      blocks(inner, bq, offset);
      parent.append(bq);
      continue;
    }
    if (ITEM.test(line)) {
      i = list(lines, i, parent, offset);
      continue;
    }
    if (line.includes('|') && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1]) && lines[i + 1].includes('-')) {
      i = table(lines, i, parent);
      continue;
    }
    const para = [line];
    i++;
    while (i < lines.length && lines[i].trim() !== '' && !isBlockStart(lines[i], lines[i + 1])) para.push(lines[i++]);
    parent.append(inline(para.map((l) => l.replace(/^\s+/, '')).join('\n'), h('p')));
  }
}

function list(lines, start, parent, offset) {
  const first = ITEM.exec(lines[start]);
  const ordered = /\d/.test(first[2]);
  const el = h(ordered ? 'ol' : 'ul');
  if (ordered) {
    const n = Number.parseInt(first[2], 10);
    if (n !== 1) el.setAttribute('start', String(n));
  }
  let i = start;
  let loose = false;
  const items = [];
  while (i < lines.length) {
    const m = ITEM.exec(lines[i]);
    if (!m || /\d/.test(m[2]) !== ordered) break;
    const indent = m[0].length;
    const body = [lines[i].slice(indent)];
    i++;
    while (i < lines.length) {
      const l = lines[i];
      if (l.trim() === '') {
        const next = lines[i + 1];
        if (next !== undefined && /^\s+/.test(next) && next.search(/\S/) >= Math.min(indent, 2)) {
          body.push('');
          loose = true;
          i++;
          continue;
        }
        break;
      }
      const lead = l.search(/\S/);
      if (lead >= Math.min(indent, 2)) body.push(l.slice(Math.min(lead, indent)));
      else if (!isBlockStart(l, lines[i + 1])) body.push(l.trim()); // lazy continuation
      else break;
      i++;
    }
    items.push(body);
    if (i < lines.length && lines[i].trim() === '' && ITEM.test(lines[i + 1] || '')) {
      loose = true;
      i++;
    }
  }
  for (const body of items) {
    const li = h('li');
    const simple = !loose && !body.slice(1).some((l) => isBlockStart(l, undefined));
    if (simple) inline(body.join('\n'), li);
    else {
      blocks(body, li, offset);
      if (!loose) for (const para of li.querySelectorAll(':scope > p')) para.replaceWith(...para.childNodes);
    }
    el.append(li);
  }
  parent.append(el);
  return i;
}

function cells(line) {
  let t = line.trim();
  if (t.startsWith('|')) t = t.slice(1);
  if (t.endsWith('|') && !t.endsWith('\\|')) t = t.slice(0, -1);
  const out = [];
  let cur = '';
  for (let k = 0; k < t.length; k++) {
    if (t[k] === '\\' && t[k + 1] === '|') {
      cur += '|';
      k++;
    } else if (t[k] === '|') {
      out.push(cur.trim());
      cur = '';
    } else cur += t[k];
  }
  out.push(cur.trim());
  return out;
}

function table(lines, start, parent) {
  const head = cells(lines[start]);
  const aligns = cells(lines[start + 1]).map((c) =>
    c.startsWith(':') && c.endsWith(':') ? 'center' : c.endsWith(':') ? 'right' : c.startsWith(':') ? 'left' : null,
  );
  const cell = (tag, text, k) => inline(text, h(tag, { class: aligns[k] ? `align-${aligns[k]}` : null }));
  const thead = h('thead', {}, h('tr', {}, head.map((c, k) => cell('th', c, k))));
  const tbody = h('tbody');
  let i = start + 2;
  while (i < lines.length && lines[i].trim() !== '' && lines[i].includes('|')) {
    const row = cells(lines[i]);
    tbody.append(h('tr', {}, head.map((_, k) => cell('td', row[k] ?? '', k))));
    i++;
  }
  parent.append(scrollBox(h('table', {}, thead, tbody)));
  return i;
}

// Hostile or broken input (thousands of unclosed `*`, `[` or backticks) must not make rendering quadratic:
// brackets are paired in one pass, link targets are looked for within MAX_SCAN characters, and `none`
// remembers, per delimiter, the position after which no closer exists (a later search would find nothing).
const MAX_SCAN = 2000;

// Finds the closing delimiter run (`delim` repeated) for emphasis starting after `from`.
function closing(text, from, delim, none, scan = closingScan) {
  const key = scan === closingScan ? delim : `code ${delim}`;
  if (none.has(key) && from >= none.get(key)) return -1;
  const found = scan(text, from, delim);
  if (found === -1) none.set(key, from);
  return found;
}

// The closing backtick run of a code span: the same run, anywhere.
function codeScan(text, from, run) {
  return text.indexOf(run, from);
}

function closingScan(text, from, delim) {
  let j = text.indexOf(delim, from);
  while (j !== -1) {
    const before = text[j - 1];
    const after = text[j + delim.length];
    const runOk = after !== delim[0] || delim.length === 2;
    const wordOk = delim[0] !== '_' || after === undefined || !/\w/.test(after);
    if (j > from && before !== ' ' && before !== '\n' && before !== '\\' && runOk && wordOk) return j;
    j = text.indexOf(delim, j + (after === delim[0] ? 2 : 1));
  }
  return -1;
}

// For every "[" of `text`, the index of its matching "]" (backslash escapes respected), in one pass.
function bracketPairs(text) {
  const pairs = new Map();
  const open = [];
  for (let k = 0; k < text.length; k++) {
    if (text[k] === '\\') k++;
    else if (text[k] === '[') open.push(k);
    else if (text[k] === ']' && open.length) pairs.set(open.pop(), k);
  }
  return pairs;
}

// Parses "[text](url "title")" at position i (text[i] === '['). Returns {label, url, title, end} or null.
function linkAt(text, i, pairs) {
  const k = pairs.get(i);
  if (k === undefined || text[k + 1] !== '(') return null;
  const m = /^\(\s*<?([^\s<>()]*(?:\([^\s()]*\)[^\s<>()]*)*)>?(?:\s+"([^"]*)")?\s*\)/.exec(text.slice(k + 1, k + 1 + MAX_SCAN));
  if (!m) return null;
  return { label: text.slice(i + 1, k), url: m[1], title: m[2], end: k + 1 + m[0].length };
}

const ESCAPABLE = /[\\`*_{}[\]()#+\-.!|<>~]/;

// Appends the inline content of `text` to `parent` and returns `parent`.
function inline(text, parent) {
  return nested(() => inlineRun(text, parent), () => append(parent, text));
}

function inlineRun(text, parent) {
  const none = new Map(); // delimiter → position after which it has no closer
  let pairs = null; // bracket pairs, computed at the first "["
  const linkFrom = (at) => linkAt(text, at, (pairs = pairs || bracketPairs(text)));
  let buf = '';
  const flush = () => {
    if (buf) append(parent, buf);
    buf = '';
  };
  const add = (el) => {
    flush();
    parent.append(el);
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && ESCAPABLE.test(text[i + 1] || '')) {
      buf += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '\\' && text[i + 1] === '\n') {
      add(h('br'));
      i += 2;
      continue;
    }
    if (c === '\n') {
      if (/ {2,}$/.test(buf)) {
        buf = buf.replace(/ +$/, '');
        add(h('br'));
      } else buf += ' ';
      i++;
      continue;
    }
    if (c === '`') {
      const run = /^`+/.exec(text.slice(i))[0];
      const end = closing(text, i + run.length, run, none, codeScan);
      if (end !== -1) {
        add(h('code', { text: text.slice(i + run.length, end).replace(/\n/g, ' ').trim() || ' ' }));
        i = end + run.length;
        continue;
      }
      buf += run;
      i += run.length;
      continue;
    }
    if (c === '!' && text[i + 1] === '[') {
      const link = linkFrom(i + 1);
      if (link) {
        add(h('span', { class: 'md-image', title: 'image not shown' }, `[${link.label}]`));
        i = link.end;
        continue;
      }
    }
    if (c === '[') {
      const link = linkFrom(i);
      if (link) {
        const href = safeHref(link.url);
        const el = href ? h('a', { href, title: link.title, rel: 'noopener noreferrer nofollow' }) : h('span', { class: 'md-unsafe-link' });
        add(inline(link.label, el));
        i = link.end;
        continue;
      }
    }
    if (c === '<') {
      const m = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/.exec(text.slice(i));
      if (m) {
        add(h('a', { href: m[1], rel: 'noopener noreferrer nofollow', text: m[1] }));
        i += m[0].length;
        continue;
      }
    }
    if (c === '*' || c === '_' || c === '~') {
      const double = text[i + 1] === c;
      if (c === '~' && !double) {
        buf += c;
        i++;
        continue;
      }
      const delim = double ? c + c : c;
      const prev = text[i - 1];
      const opens = text[i + delim.length] && !/\s/.test(text[i + delim.length]) && !(c === '_' && prev && /\w/.test(prev));
      const end = opens ? closing(text, i + delim.length, delim, none) : -1;
      if (end !== -1) {
        const tag = c === '~' ? 'del' : double ? 'strong' : 'em';
        add(inline(text.slice(i + delim.length, end), h(tag)));
        i = end + delim.length;
        continue;
      }
      buf += delim;
      i += delim.length;
      continue;
    }
    buf += c;
    i++;
  }
  flush();
  return parent;
}
