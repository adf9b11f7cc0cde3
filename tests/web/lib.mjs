// Why this file exists: what every browser test needs — its command line, a fresh concours server on a free
// port with a temp data folder and a copy of the example bundle, Debian's chromium driven by playwright-core,
// screenshots under the --out folder, checks that no page error or CSP violation happened, and cleanup.
// A test exits 0 on success, 1 on failure, and 77 (ctest SKIP) only when /usr/bin/chromium is absent.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const CHROMIUM = '/usr/bin/chromium';
export const SKIP = 77;

export function parseArgs(argv = process.argv.slice(2)) {
  const opts = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) throw new Error(`bad argument: ${argv[i]}`);
    opts[argv[i].slice(2)] = argv[i + 1];
  }
  for (const need of ['concours', 'source', 'out']) if (!opts[need]) throw new Error(`missing --${need}`);
  return opts;
}

function log(...parts) {
  console.log(`[${new Date().toISOString().slice(11, 23)}]`, ...parts);
}

export const say = log;

// Copies the example bundle to a temp folder; `edit(dir)` may change the copy (e.g. a hostile overview).
// `extra` names more examples of challenges/ to serve beside it.
function bundleCopy(source, tmp, edit, extra = []) {
  const from = path.join(source, 'challenges', 'visiomel-demo');
  if (!fs.existsSync(path.join(from, 'challenge.json'))) throw new Error(`example bundle missing: ${from}`);
  const to = path.join(tmp, 'challenges', 'visiomel-demo');
  fs.cpSync(from, to, { recursive: true });
  if (edit) edit(to);
  for (const slug of extra) fs.cpSync(path.join(source, 'challenges', slug), path.join(tmp, 'challenges', slug), { recursive: true });
  return path.dirname(to);
}

// Starts `concours serve` and resolves once it prints its URL. With `clockFile`, the server reads "now"
// from that file (--test-clock, docs/api.md "Clock").
async function startServer(binary, source, tmp, edit, clockFile, extra, more = []) {
  const challenges = bundleCopy(source, tmp, edit, extra);
  const data = path.join(tmp, 'data');
  const args = ['serve', '--data', data, '--listen', '127.0.0.1:0', '--challenges', challenges, '--workers', '1',
    '--mail-dir', path.join(tmp, 'mails')]; // each mail a file: tests read them (mailDir)
  if (clockFile) args.push('--test-clock', clockFile);
  args.push(...more);
  if (fs.existsSync(path.join(source, 'web'))) args.push('--web', path.join(source, 'web'));
  log('starting', binary, args.join(' '));
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: source });
  const logFile = fs.createWriteStream(path.join(tmp, 'server.log'));
  child.stderr.pipe(logFile);
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server printed no URL in 20 s; stdout: ${out}`)), 20000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      logFile.write(chunk);
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${binary}: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${signal}); see ${path.join(tmp, 'server.log')}`));
    });
  });
  log('server at', url);
  return { child, url };
}

async function stopServer(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(10000).then(() => false)]);
  if (!done) {
    log('server ignored SIGTERM for 10 s: killing it');
    child.kill('SIGKILL');
    await exited;
  }
}

// Runs `body(ctx)` with a server and a browser; handles skip, failure, screenshots and cleanup.
// ctx: {url, page, context, browser, api, shot(name), out, source, tmp, fail(msg), problems, setClock(when),
//       staff(username, role)}
// `testClock` (a time: ISO string or Date) starts the server on a test clock that setClock() moves.
export async function run(name, body, { editBundle, testClock, extraBundles, serverArgs = [] } = {}) {
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`SKIP: ${CHROMIUM} is not installed (apt-get install chromium)`);
    process.exit(SKIP);
  }
  const opts = parseArgs();
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (err) {
    console.error(`FAIL ${name}: playwright-core is not installed (run scripts/install-deps.sh, or npm ci at the repository root): ${err.message}`);
    process.exit(1);
  }
  const out = path.join(path.resolve(opts.out), name);
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `concours-${name}-`));
  let server = null;
  let browser = null;
  let page = null;
  let failed = false;
  const problems = [];
  try {
    const clockFile = testClock ? path.join(tmp, 'clock') : null;
    const setClock = (when) => {
      if (!clockFile) throw new Error('setClock() needs run(…, {testClock})');
      fs.writeFileSync(clockFile, `${Math.floor(new Date(when).getTime() / 1000)}\n`);
      log('clock set to', new Date(when).toISOString());
    };
    if (clockFile) setClock(testClock);
    server = await startServer(path.resolve(opts.concours), path.resolve(opts.source), tmp, editBundle, clockFile, extraBundles, serverArgs);
    const staff = (username, role) => addUser(path.resolve(opts.concours), path.join(tmp, 'data'), username, role);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    context.setDefaultTimeout(60000); // an upper bound for waits on a loaded machine, not a timing assertion
    page = await context.newPage();
    watch(page, problems);
    if (process.env.WEB_TEST_DEBUG) page.on('response', (r) => log('response', r.status(), r.url(), r.headers()['content-type']));
    let shots = 0;
    const shot = async (label, p = page) => {
      const file = path.join(out, `${String(++shots).padStart(2, '0')}-${label}.png`);
      // generous: a screenshot waits for fonts and layout, slow on a loaded machine (never a timing assertion)
      await p.screenshot({ path: file, fullPage: true, timeout: 120000, animations: 'disabled' });
      log('screenshot', file);
    };
    await body({ url: server.url, page, context, browser, shot, out, tmp, source: path.resolve(opts.source), problems, watch: (p) => watch(p, problems), setClock, staff, concours: path.resolve(opts.concours), mailDir: path.join(tmp, 'mails') });
    if (problems.length) throw new Error(`page problems:\n  ${problems.join('\n  ')}`);
    log('PASS', name);
  } catch (err) {
    failed = true;
    console.error(`FAIL ${name}: ${err && err.stack ? err.stack : err}`);
    if (problems.length && !String(err).includes('page problems')) console.error(`page problems seen before the failure:\n  ${problems.join('\n  ')}`);
    if (page) await page.screenshot({ path: path.join(out, 'failure.png'), fullPage: true }).catch(() => {});
    const serverLog = path.join(tmp, 'server.log');
    if (fs.existsSync(serverLog)) {
      fs.copyFileSync(serverLog, path.join(out, 'server.log'));
      console.error(`--- server log (last 40 lines) ---\n${fs.readFileSync(serverLog, 'utf8').split('\n').slice(-40).join('\n')}`);
    }
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await stopServer(server.child);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

// Records uncaught page errors, console errors and CSP violations: any of them fails the test.
function watch(page, problems) {
  page.on('pageerror', (err) => problems.push(`page error on ${page.url()}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    // Expected API errors (401 from /me when logged out, a 4xx we provoke) are logged by chromium too;
    // a missing page, script, stylesheet or icon is not expected.
    const from = (msg.location() && msg.location().url) || '';
    if (/Failed to load resource: the server responded with a status of 4\d\d/.test(text) && from.includes('/api/v1/')) return;
    problems.push(`console error on ${page.url()}: ${text}`);
  });
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

// Asserts that `locator` is shown, waiting for it as any wait does (the context's timeout): a page renders its parts
// one after the other, and `isVisible()` answers at once (it failed on a loaded machine when the part waited for was
// there and this one came a moment later).
export async function assertShown(locator, what) {
  try {
    await locator.waitFor({ state: 'visible' });
  } catch (err) {
    throw new Error(`assertion failed: ${what} (${String(err.message).split('\n')[0]})`);
  }
}

// Polls `fn` until it returns a truthy value, or throws after `ms`.
export async function eventually(fn, ms, what) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
}

// Waits until submission `id` is scored (seen with `token`); a timeout names the last state seen.
export async function waitScored(api, id, token, ms = 45000) {
  let last = null;
  try {
    await eventually(async () => (last = (await api.call('GET', `/submissions/${id}`, { token })).data).status === 'scored', ms, `scoring of #${id}`);
  } catch (err) {
    throw new Error(`${err.message}; last seen ${JSON.stringify(last)}`);
  }
}

// Logs in through login.html and waits for the redirect to the challenge page (`hash` e.g. '#submit').
export async function loginThroughPage(page, user, hash = '') {
  await loginTo(page, user, `challenge.html?slug=visiomel-demo${hash}`);
}

// Logs in through login.html with ?next=`next` (a page name and query) and waits until the page is shown.
export async function loginTo(page, user, next) {
  await page.goto(`/login.html?next=${encodeURIComponent(next)}`);
  // by id, not by label: the page may be in French
  await page.locator('#username').fill(user.username);
  await page.locator('#password').fill(user.password);
  await page.locator('#login-form button[type=submit]').click();
  await page.waitForURL((u) => `${u.pathname.slice(1)}${u.search}${u.hash}` === next);
}

// The actions of the page that stick out of the screen: [{what, left, right}] (inside a scrolling box is fine).
export async function offScreen(page, width) {
  return page.evaluate((w) => {
    const bad = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > w + 1) bad.push({ what: `the page is ${doc.scrollWidth} px wide`, left: 0, right: doc.scrollWidth });
    for (const el of document.querySelectorAll('button, a.button, input, select, textarea, [role=button]')) {
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      if (style.visibility === 'hidden' || style.display === 'none' || box.width === 0 || box.height === 0) continue;
      if (el.closest('dialog:not([open]), [hidden]')) continue;
      let scroller = el.parentElement;
      while (scroller && !['auto', 'scroll'].includes(getComputedStyle(scroller).overflowX)) scroller = scroller.parentElement;
      const limit = scroller && scroller !== doc && scroller !== document.body ? scroller.getBoundingClientRect() : null;
      // on a phone a wide table may scroll inside its box; on a laptop every action shows without scrolling
      if (limit && limit.left >= -1 && limit.right <= w + 1) {
        if (w < 600 || (box.left >= limit.left - 1 && box.right <= limit.right + 1)) continue;
        bad.push({ what: `${el.outerHTML.slice(0, 100)} (clipped by its box)`, left: Math.round(box.left), right: Math.round(box.right) });
        continue;
      }
      if (box.left < -1 || box.right > w + 1) bad.push({ what: el.outerHTML.slice(0, 120), left: Math.round(box.left), right: Math.round(box.right) });
    }
    return bad;
  }, width);
}

// Creates an organizer, jury or admin account with `concours user add` → {username, password}.
function addUser(binary, data, username, role) {
  const password = `${role} password ${username}`;
  const res = spawnSync(binary, ['user', 'add', username, '--role', role, '--data', data, '--password-stdin'], { input: `${password}\n`, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`concours user add ${username} --role ${role} → exit ${res.status}: ${res.stderr}`);
  log('created', role, username);
  return { username, password };
}

// Plain HTTP client for setting things up through the API (as a script would, with a Bearer token).
export function apiClient(base) {
  const call = async (method, p, { json, body, headers = {}, token } = {}) => {
    const h = { ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    let payload = body;
    if (json !== undefined) {
      h['Content-Type'] = 'application/json';
      payload = JSON.stringify(json);
    }
    const res = await fetch(`${base}/api/v1${p}`, { method, headers: h, body: payload });
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
    return { status: res.status, data, headers: res.headers };
  };
  return {
    call,
    async acceptTerms(token) {
      const terms = await call('POST', '/challenges/visiomel-demo/terms', { token, json: { version: 1 } });
      assert(terms.status === 204, `accepting the terms → ${terms.status}`);
    },
    // Accepts the example challenge's terms and uploads `body` as a script would → {status, data}.
    async submit(token, body, description) {
      await this.acceptTerms(token);
      const query = description === undefined ? '' : `?description=${encodeURIComponent(description)}`;
      return call('POST', `/challenges/visiomel-demo/submissions${query}`, { token, body, headers: { 'Content-Type': 'application/octet-stream' } });
    },
    // Registers a participant, creates an API token through a session, and returns {username, password, token}.
    async participant(username, password = 'correct horse battery') {
      const reg = await call('POST', '/users', { json: { username, email: `${username}@example.org`, password } });
      assert(reg.status === 201, `POST /users → ${reg.status} ${JSON.stringify(reg.data)}`);
      const login = await fetch(`${base}/api/v1/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) });
      const session = await login.json();
      assert(login.status === 200 && session.csrf_token, `POST /sessions → ${login.status}`);
      const cookie = (login.headers.get('set-cookie') || '').split(';')[0];
      const tok = await call('POST', '/tokens', { json: { name: 'test' }, headers: { Cookie: cookie, 'X-CSRF-Token': session.csrf_token } });
      assert(tok.status === 201 && tok.data && tok.data.token, `POST /tokens → ${tok.status} ${JSON.stringify(tok.data)}`);
      return { username, password, token: tok.data.token };
    },
  };
}
