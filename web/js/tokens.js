// Why this file exists: the API token page. POST /api/v1/tokens creates a token that is shown once, the page
// lists the user's tokens (name, created, last used) with a Revoke button each, and prints the exact curl lines
// to submit with a token from a script (raw body, Idempotency-Key).
import { api, getMe, errorBox, loginHref } from './api.js';
import { $, h, replace, timeEl } from './dom.js';
import { initNav } from './nav.js';
import { t } from './i18n.js';

const TOKEN_PLACEHOLDER = 'PASTE_YOUR_TOKEN_HERE';
let token = null;

// Single-quotes a value for a POSIX shell.
function shq(value) {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

function curlLines(slug) {
  const base = `${window.location.origin}/api/v1`;
  const ch = `${base}/challenges/${encodeURIComponent(slug || 'SLUG')}`;
  return [
    `export CONCOURS_TOKEN=${shq(token || TOKEN_PLACEHOLDER)}`,
    '',
    t('# submit a prediction file as the raw body; the same file twice is one submission (Idempotency-Key)'),
    `curl -sS --fail-with-body -X POST \\`,
    `  -H "Authorization: Bearer $CONCOURS_TOKEN" \\`,
    `  -H "Content-Type: application/octet-stream" \\`,
    `  -H "Idempotency-Key: $(sha256sum predictions.csv | cut -c1-64)" \\`,
    `  --data-binary @predictions.csv \\`,
    `  ${shq(`${ch}/submissions?description=my%20first%20model`)}`,
    '',
    t('# follow it until "status" is "scored" or "failed" (use the id from the answer above)'),
    `curl -sS -H "Authorization: Bearer $CONCOURS_TOKEN" ${shq(`${base}/submissions/ID`)}`,
    '',
    t('# your submissions, the leaderboard, and a data file'),
    `curl -sS -H "Authorization: Bearer $CONCOURS_TOKEN" ${shq(`${ch}/submissions`)}`,
    `curl -sS ${shq(`${ch}/leaderboard`)}`,
    `curl -sS -H "Authorization: Bearer $CONCOURS_TOKEN" -O ${shq(`${ch}/files/sample_submission.csv`)}`,
  ].join('\n');
}

function showCurl() {
  $('#curl-lines').textContent = curlLines($('#howto-challenge').value);
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = t('Copied');
  } catch {
    button.textContent = t('Select and copy by hand');
  }
  setTimeout(() => {
    button.textContent = t('Copy');
  }, 2000);
}

async function loadChallenges() {
  const select = $('#howto-challenge');
  const wanted = new URLSearchParams(window.location.search).get('slug');
  try {
    const list = await api('GET', '/challenges');
    for (const c of Array.isArray(list) ? list : []) {
      select.append(h('option', { value: c.slug, selected: c.slug === wanted, text: `${c.title || c.slug} (${c.slug})` }));
    }
  } catch {
    /* the lines still show, with SLUG */
  }
  showCurl();
}

async function loadTokens() {
  const box = $('#token-list-body');
  let list;
  try {
    list = await api('GET', '/tokens');
  } catch (err) {
    replace(box, errorBox(err, { what: t('Could not list your tokens') }));
    return;
  }
  if (!Array.isArray(list) || !list.length) return replace(box, h('p', { class: 'muted', text: t('No token yet.') }));
  replace(box, h('div', { class: 'table-scroll', tabindex: '0' }, h('table', { class: 'tokens' },
    h('thead', {}, h('tr', {}, [t('Name'), t('May'), t('Created'), t('Last used'), ''].map((head) => h('th', { scope: 'col', text: head })))),
    h('tbody', {}, list.map((tok) => {
      const revoke = h('button', { type: 'button', class: 'button small danger', text: t('Revoke'), 'aria-label': t('Revoke the token {name}', { name: tok.name }) });
      revoke.addEventListener('click', async () => {
        if (!window.confirm(t('Revoke the token "{name}"? Scripts using it stop working at once.', { name: tok.name }))) return;
        revoke.disabled = true;
        try {
          await api('DELETE', `/tokens/${encodeURIComponent(tok.id)}`);
          replace($('#token-list-status'), h('p', { class: 'alert alert-ok', role: 'status', text: t('Revoked "{name}".', { name: tok.name }) }));
        } catch (err) {
          replace($('#token-list-status'), errorBox(err, { what: t('Could not revoke the token') }));
        }
        loadTokens();
      });
      return h('tr', { dataset: { id: tok.id } },
        h('td', {}, h('bdi', { text: tok.name })),
        h('td', { text: tok.scope === 'read' ? t('read') : t('read, submit') }),
        h('td', {}, timeEl(tok.created_at)),
        h('td', {}, tok.last_used_at ? timeEl(tok.last_used_at, { relative: true }) : h('span', { class: 'muted', text: t('never') })),
        h('td', {}, revoke));
    })))));
}

async function main() {
  $('#howto-challenge').addEventListener('change', showCurl);
  $('#copy-curl').addEventListener('click', (e) => copy($('#curl-lines').textContent, e.currentTarget));
  $('#copy-token').addEventListener('click', (e) => copy(token || '', e.currentTarget));
  loadChallenges();
  await initNav();
  const status = $('#page-status');
  let me;
  try {
    me = await getMe();
  } catch (err) {
    replace(status, errorBox(err));
    return;
  }
  if (!me) {
    replace(status, h('p', { class: 'alert alert-info' }, h('a', { href: loginHref(), text: t('Log in') }), t(' to create an API token.')));
    return;
  }
  const form = $('#token-form');
  form.hidden = false;
  $('#token-list').hidden = false;
  loadTokens();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = $('#token-name').value.trim();
    if (!name) {
      replace(status, h('div', { class: 'alert alert-error', role: 'alert', text: t('Give the token a name.') }));
      $('#token-name').focus();
      return;
    }
    const button = $('button[type=submit]', form);
    button.disabled = true;
    replace(status);
    try {
      const created = await api('POST', '/tokens', { json: { name, scope: $('#token-scope').value } });
      token = created && created.token;
      $('#token-value').textContent = token || '';
      $('#token-result').hidden = false;
      $('#token-name').value = '';
      showCurl();
      loadTokens();
      $('#token-value').scrollIntoView({ block: 'center' });
    } catch (err) {
      replace(status, errorBox(err, { what: t('Could not create the token') }));
    } finally {
      button.disabled = false;
    }
  });
}

main();
