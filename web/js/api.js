// Why this file exists: the one way the pages talk to the JSON API (docs/api.md). It sends JSON, adds the
// X-CSRF-Token header to state-changing requests, turns every error body {"error":{"code","message"}} into an
// ApiError, and uploads files as the raw request body with progress events.
import { h, here } from './dom.js';
import { lang, t } from './i18n.js';

const BASE = '/api/v1';
const CSRF_KEY = 'concours.csrf';

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export function csrfToken() {
  try {
    return sessionStorage.getItem(CSRF_KEY);
  } catch {
    return null;
  }
}

export function setCsrfToken(token) {
  try {
    if (typeof token === 'string' && token !== '') sessionStorage.setItem(CSRF_KEY, token);
    else sessionStorage.removeItem(CSRF_KEY);
  } catch {
    /* storage disabled: the user will be asked to log in again */
  }
}

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function requestHeaders(method, extra) {
  const headers = { Accept: 'application/json', 'Accept-Language': lang, ...extra };
  const token = csrfToken();
  if (CHANGES.has(method) && token) headers['X-CSRF-Token'] = token;
  return headers;
}

// Builds the ApiError for a non-2xx answer, whatever its body looks like.
function errorFrom(status, text, retryAfter) {
  let code = `http_${status}`;
  let message = t('The server answered {status}.', { status });
  let problems = null; // invalid_bundle lists every problem of the bundle
  let more = 0;
  let changes = null; // bundle_changed lists what a re-import would change
  try {
    const body = JSON.parse(text);
    if (body && body.error && typeof body.error === 'object') {
      if (typeof body.error.code === 'string') code = body.error.code;
      if (typeof body.error.message === 'string' && body.error.message !== '') message = body.error.message;
      if (Array.isArray(body.error.problems)) problems = body.error.problems.map(String);
      if (Number.isInteger(body.error.more)) more = body.error.more;
      if (Array.isArray(body.error.changes)) changes = body.error.changes.map(String);
    }
  } catch {
    /* not JSON: keep the generic message */
  }
  if (code === 'csrf_failed' && !csrfToken()) {
    message = t('Your browser session has lost its security token. Please log in again.');
  }
  const seconds = Number.parseInt(retryAfter ?? '', 10);
  const err = new ApiError(status, code, message, Number.isFinite(seconds) ? seconds : null);
  err.problems = problems;
  err.more = more;
  err.changes = changes;
  return err;
}

function parseBody(status, text) {
  if (status === 204 || text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(status, 'bad_response', t('The server sent an answer this page cannot read.'));
  }
}

// api('GET', '/challenges') → parsed JSON (null for 204). Throws ApiError.
export async function api(method, path, options) {
  return (await request(method, path, options)).data;
}

// Like api(), with the reply's headers: resolves to { data, headers } (a Headers object; e.g. X-Total-Count).
export function apiWithHeaders(method, path, options) {
  return request(method, path, options);
}

async function request(method, path, { json, headers } = {}) {
  const init = { method, headers: requestHeaders(method, headers), credentials: 'same-origin', cache: 'no-store' };
  if (json !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  let res;
  let text;
  try {
    res = await fetch(BASE + path, init);
    text = await res.text();
  } catch {
    throw new ApiError(0, 'network_error', t('Cannot reach the server. Check your connection and try again.'));
  }
  if (!res.ok) throw errorFrom(res.status, text, res.headers.get('Retry-After'));
  return { data: parseBody(res.status, text), headers: res.headers };
}

// Sends `file` as the raw body of a POST (or METHOD: PUT; no multipart: SECURITY.md). Resolves to the parsed answer.
// onProgress(loaded, total) follows the upload. Returns {promise, abort}.
export function upload(path, file, { headers = {}, onProgress, method = 'POST' } = {}) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open(method, BASE + path);
    const all = requestHeaders(method, { 'Content-Type': 'application/octet-stream', ...headers });
    for (const [k, v] of Object.entries(all)) xhr.setRequestHeader(k, v);
    if (onProgress) {
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    }
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(parseBody(xhr.status, xhr.responseText));
        } catch (err) {
          reject(err);
        }
      } else {
        reject(errorFrom(xhr.status, xhr.responseText, xhr.getResponseHeader('Retry-After')));
      }
    };
    xhr.onerror = () =>
      reject(new ApiError(0, 'network_error', t('The upload was interrupted. Check your connection and try again.')));
    xhr.onabort = () => reject(new ApiError(0, 'aborted', t('Upload cancelled.')));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}

let mePromise = null;

// The logged-in user ({id, username, role, team}) or null. Cached for the page's lifetime.
// If the server ever includes csrf_token here, it refreshes the stored one (e.g. after a reload).
export function getMe({ fresh = false } = {}) {
  if (!mePromise || fresh) {
    mePromise = api('GET', '/me')
      .then((me) => {
        if (me && typeof me.csrf_token === 'string') setCsrfToken(me.csrf_token);
        return me;
      })
      .catch((err) => {
        if (err instanceof ApiError && err.status === 401) {
          setCsrfToken(null);
          return null;
        }
        throw err;
      });
  }
  return mePromise;
}

export async function login(username, password) {
  const session = await api('POST', '/sessions', { json: { username, password } });
  setCsrfToken(session && session.csrf_token);
  mePromise = null;
  return session;
}

export async function logout() {
  if (!csrfToken()) await getMe({ fresh: true }).catch(() => null); // a new tab: /me may hand out the token
  try {
    await api('DELETE', '/sessions/current');
  } finally {
    setCsrfToken(null);
    mePromise = null;
  }
}

export function loginHref() {
  return `login.html?next=${encodeURIComponent(here())}`;
}

// A visible, announced error box for any error (ApiError or not).
export function errorBox(err, { what } = {}) {
  const isApi = err instanceof ApiError;
  const message = isApi ? err.message : t('Something went wrong in this page. Reload and try again.');
  const box = h('div', { class: 'alert alert-error', role: 'alert' });
  box.append(h('strong', { text: what ? t('{what}: ', { what }) : t('Error: ') }), message);
  if (isApi && err.retryAfter) box.append(t(' Try again in {n} s.', { n: err.retryAfter }));
  if (isApi && (err.status === 401 || err.code === 'csrf_failed')) {
    box.append(' ', h('a', { href: loginHref(), text: t('Log in') }));
  }
  if (isApi && err.code && err.status) box.append(' ', h('code', { class: 'err-code', text: err.code }));
  if (!isApi) console.error(err);
  return box;
}
