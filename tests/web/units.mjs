// Why this file exists: unit tests of web/js/markdown.js and web/js/dom.js, run inside chromium on a page
// served by concours (so under its real Content-Security-Policy), by importing the modules in the page.
// Each case is Markdown in, the resulting DOM out, serialized by the test as a tag tree (never as HTML).
import { run, assert, say } from './lib.mjs';

// [markdown, expected tree]. The tree: tag[attr=value](children) and "text".
const MARKDOWN = [
  ['# Title', 'h2("Title")'],
  ['###### six', 'h6("six")'],
  ['para one\nstill one\n\npara two', 'p("para one still one") p("para two")'],
  ['*em* **strong** _u_ __uu__ ~~del~~', 'p(em("em") " " strong("strong") " " em("u") " " strong("uu") " " del("del"))'],
  ['a * b * c', 'p("a * b * c")'],
  ['snake_case_name', 'p("snake_case_name")'],
  ['`a <b> c`', 'p(code("a <b> c"))'],
  ['``code with ` tick``', 'p(code("code with ` tick"))'],
  ['```js\nlet x = "<script>";\n```', 'pre[tabindex=0](code[data-lang=js]("let x = \\"<script>\\";"))'],
  ['    indented\n    code', 'pre[tabindex=0](code("indented\\ncode"))'],
  ['- a\n- b\n  - c\n- d', 'ul(li("a") li("b" ul(li("c"))) li("d"))'],
  ['3. x\n4. y', 'ol[start=3](li("x") li("y"))'],
  ['> quoted **bold**\n> more', 'blockquote(p("quoted " strong("bold") " more"))'],
  ['---', 'hr'],
  ['| a | b |\n|:--|--:|\n| 1 | 2 |', 'div[class=table-scroll][tabindex=0](table(thead(tr(th[class=align-left]("a") th[class=align-right]("b"))) tbody(tr(td[class=align-left]("1") td[class=align-right]("2")))))'],
  ['[x](https://e.org/a "T")', 'p(a[href=https://e.org/a][title=T][rel=noopener noreferrer nofollow]("x"))'],
  ['[rel](challenge.html?slug=a)', 'p(a[href=challenge.html?slug=a][rel=noopener noreferrer nofollow]("rel"))'],
  ['[bad](javascript:alert(1))', 'p(span[class=md-unsafe-link]("bad"))'],
  ['[bad](JAVASCRIPT:alert(1))', 'p(span[class=md-unsafe-link]("bad"))'],
  ['[bad](vbscript:x)', 'p(span[class=md-unsafe-link]("bad"))'],
  ['[bad](data:text/html;base64,PHNjcmlwdD4=)', 'p(span[class=md-unsafe-link]("bad"))'],
  ['[bad](<javascript:alert(1)>)', 'p(span[class=md-unsafe-link]("bad"))'],
  ['[ent](java&#115;cript:alert(1))', 'p(a[href=java&#115;cript:alert(1)][rel=noopener noreferrer nofollow]("ent"))'],
  ['<https://e.org>', 'p(a[href=https://e.org][rel=noopener noreferrer nofollow]("https://e.org"))'],
  ['<script>alert(1)</script>', 'p("<script>alert(1)</script>")'],
  ['<img src=x onerror=alert(1)>', 'p("<img src=x onerror=alert(1)>")'],
  ['![alt](x.png)', 'p(span[class=md-image][title=image not shown]("[alt]"))'],
  ['\\*not em\\*', 'p("*not em*")'],
  ['line  \nbreak', 'p("line" br "break")'],
  ['rtl \u202Eevil', 'p("rtl <U+202E>evil")'],
  ['', ''],
];

await run('units', async ({ page }) => {
  await page.goto('/index.html');
  const results = await page.evaluate(async (cases) => {
    const md = await import('/js/markdown.js');
    const dom = await import('/js/dom.js');
    const tree = (node) => {
      if (node.nodeType === Node.TEXT_NODE) return JSON.stringify(node.data);
      const attrs = Array.from(node.attributes || []).map((a) => `[${a.name}=${a.value}]`).join('');
      const kids = [];
      for (const k of node.childNodes) {
        if (k.nodeType === Node.TEXT_NODE && kids.length && kids[kids.length - 1].startsWith('"')) {
          kids[kids.length - 1] = JSON.stringify(JSON.parse(kids[kids.length - 1]) + k.data);
        } else kids.push(tree(k));
      }
      return node.nodeType === Node.DOCUMENT_FRAGMENT_NODE ? kids.join(' ') : `${node.localName}${attrs}${kids.length ? `(${kids.join(' ')})` : ''}`;
    };
    const out = { markdown: cases.map(([src]) => tree(md.renderMarkdown(src))) };
    out.safeHref = ['https://a.b/c', 'http://x', 'mailto:a@b.c', 'page.html?x=1', '/api/v1/x', '#top', 'javascript:alert(1)', ' JavaScript:alert(1)', 'java\tscript:alert(1)', 'data:text/html,x', 'vbscript:x', 'file:///etc/passwd', '', null].map((u) => dom.safeHref(u));
    out.safeNext = ['challenge.html?slug=a-b', 'tokens.html', '//evil.org/x.html', 'https://evil.org/', 'javascript:alert(1)', '/index.html', 'index.html#main', 'x.html?a=<b>'].map((u) => dom.safeNext(u, 'FALLBACK'));
    out.bytes = [0, 1023, 1024, 1536, 10 * 1024 * 1024, 5e9].map(dom.fmtBytes);
    // Pathological input must render in linear-ish time without throwing, not freeze or break the page.
    const hostile = ['*a'.repeat(50000), '[x'.repeat(50000), '`a'.repeat(50000), '_b '.repeat(40000), '[a]('.repeat(30000), '**x *y'.repeat(20000),
      // deep nesting must not overflow the stack
      `${'>'.repeat(20000)} deep`, `${'['.repeat(20000)}a${']'.repeat(20000)}(https://x.org)`, `${'*'.repeat(20000)}a${'*'.repeat(20000)}`,
      Array.from({ length: 3000 }, (_, k) => `${' '.repeat(2 * k)}- item`).join('\n')];
    out.slow = [];
    for (const src of hostile) {
      const t0 = performance.now();
      try {
        md.renderMarkdown(src);
      } catch (err) {
        out.slow.push(`${JSON.stringify(src.slice(0, 8))}… threw ${err}`);
      }
      const ms = performance.now() - t0;
      out.times = (out.times || []).concat(Math.round(ms));
      if (ms > 3000) out.slow.push(`${JSON.stringify(src.slice(0, 8))}… took ${Math.round(ms)} ms`);
    }
    let refused = false;
    try {
      dom.h('a', { onclick: 'alert(1)' });
    } catch {
      refused = true;
    }
    out.refusesHandlers = refused;
    return out;
  }, MARKDOWN);

  const failures = [];
  MARKDOWN.forEach(([src, want], k) => {
    if (results.markdown[k] !== want) failures.push(`markdown ${JSON.stringify(src)}\n    want ${want}\n    got  ${results.markdown[k]}`);
  });
  const wantHref = ['https://a.b/c', 'http://x', 'mailto:a@b.c', 'page.html?x=1', '/api/v1/x', '#top', null, null, null, null, null, null, null, null];
  wantHref.forEach((w, k) => {
    if (results.safeHref[k] !== w) failures.push(`safeHref case ${k}: want ${w}, got ${results.safeHref[k]}`);
  });
  const wantNext = ['challenge.html?slug=a-b', 'tokens.html', 'FALLBACK', 'FALLBACK', 'FALLBACK', 'FALLBACK', 'index.html#main', 'FALLBACK'];
  wantNext.forEach((w, k) => {
    if (results.safeNext[k] !== w) failures.push(`safeNext case ${k}: want ${w}, got ${results.safeNext[k]}`);
  });
  const wantBytes = ['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '10 MiB', '4.7 GiB'];
  wantBytes.forEach((w, k) => {
    if (results.bytes[k] !== w) failures.push(`fmtBytes case ${k}: want ${w}, got ${results.bytes[k]}`);
  });
  if (!results.refusesHandlers) failures.push('h() accepted an on* attribute');
  for (const slow of results.slow) failures.push(`pathological Markdown: ${slow}`);
  assert(failures.length === 0, `${failures.length} unit case(s) failed:\n  ${failures.join('\n  ')}`);
  say(`pathological inputs rendered in ${results.times.join(', ')} ms`);
  say(`${MARKDOWN.length} Markdown cases, ${wantHref.length + wantNext.length + wantBytes.length + 1} helper cases passed`);
});
