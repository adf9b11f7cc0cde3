// Why this file exists: the security rules of docs/web.md as a static check over web/, so that a future
// change cannot quietly add an HTML sink, an inline script or handler, an inline style, a second
// stylesheet or a third-party resource. Needs no browser: it reads the files.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from './lib.mjs';

const { source } = parseArgs();
const web = path.join(source, 'web');
const problems = [];

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

const files = walk(web);
const rel = (f) => path.relative(source, f);

const JS_SINKS = [
  [/\.(innerHTML|outerHTML)\s*=/, 'assigns innerHTML/outerHTML'],
  [/insertAdjacentHTML|document\.write|createContextualFragment|DOMParser/, 'parses HTML'],
  [/\beval\s*\(|new\s+Function\s*\(|set(Timeout|Interval)\s*\(\s*['"`]/, 'evaluates code from a string'],
  [/setAttribute\(\s*['"`](on\w+|style|href|src)['"`]/, 'sets an event handler, style, href or src attribute directly (use h() and safeHref())'],
  [/\.style\.\w+\s*=|\.style\s*=|cssText/, 'writes inline styles (the CSP forbids them)'],
  [/\bimport\s*\(\s*['"`]https?:|from\s+['"`]https?:/, 'imports a module from another site'],
];

for (const f of files) {
  const text = fs.readFileSync(f, 'utf8');
  if (f.endsWith('.js')) {
    text.split('\n').forEach((line, k) => {
      if (/^\s*\/\//.test(line)) return;
      for (const [re, what] of JS_SINKS) {
        if (path.basename(f) === 'dom.js' && what.startsWith('sets an event handler')) continue; // the one place allowed
        if (re.test(line)) problems.push(`${rel(f)}:${k + 1}: ${what}: ${line.trim()}`);
      }
    });
  } else if (f.endsWith('.html')) {
    const scripts = text.match(/<script\b[^>]*>/gi) || [];
    for (const tag of scripts) {
      if (!/^<script type="module" src="js\/[a-z-]+\.js"><\/script>$/.test(`${tag}</script>`) || !text.includes(`${tag}</script>`)) {
        problems.push(`${rel(f)}: only <script type="module" src="js/NAME.js"></script> is allowed, found ${tag}`);
      }
    }
    if (/\son[a-z]+\s*=/i.test(text)) problems.push(`${rel(f)}: inline event handler attribute`);
    if (/\sstyle\s*=/i.test(text) || /<style\b/i.test(text)) problems.push(`${rel(f)}: inline style`);
    if (/javascript:/i.test(text)) problems.push(`${rel(f)}: javascript: URL`);
    if (/(src|href)\s*=\s*["']?(https?:)?\/\//i.test(text)) problems.push(`${rel(f)}: resource from another site`);
    const sheets = text.match(/<link rel="stylesheet" href="([^"]+)">/g) || [];
    if (sheets.length !== 1 || !sheets[0].includes('href="style.css"')) problems.push(`${rel(f)}: must link exactly one stylesheet, style.css`);
    if (!/<meta name="viewport"/.test(text)) problems.push(`${rel(f)}: no viewport meta (phones)`);
    if (!/<html lang="[a-z-]+">/.test(text)) problems.push(`${rel(f)}: no lang on <html>`);
    // Every module a page imports, directly or not, is preloaded.
    const entry = /<script type="module" src="js\/([a-z-]+\.js)">/.exec(text);
    if (entry) {
      const need = new Set();
      const visit = (name) => {
        const src = fs.readFileSync(path.join(web, 'js', name), 'utf8');
        for (const m of src.matchAll(/^import .* from '\.\/([a-z-]+\.js)';$/gm)) {
          if (!need.has(m[1])) {
            need.add(m[1]);
            visit(m[1]);
          }
        }
      };
      visit(entry[1]);
      for (const m of need) if (!text.includes(`<link rel="modulepreload" href="js/${m}">`)) problems.push(`${rel(f)}: js/${m} is imported but not preloaded`);
    }
  } else if (f.endsWith('.css')) {
    if (path.basename(f) !== 'style.css') problems.push(`${rel(f)}: a second stylesheet (web/ has one: style.css)`);
    if (/@import|url\(\s*['"]?https?:/i.test(text)) problems.push(`${rel(f)}: loads another resource`);
  }
}

if (files.filter((f) => f.endsWith('.html')).length < 5) problems.push('fewer than 5 pages found: is --source right?');
if (problems.length) {
  console.error(`FAIL lint: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`PASS lint: ${files.length} files of web/ follow the rules`);
