// Why this file exists: the page the address-confirmation link opens (docs/mail.md): the token sits in the
// fragment (it reaches no server log) and is sent once to POST /api/v1/email-verification/confirm.
import { api, errorBox } from './api.js';
import { $, h, replace } from './dom.js';
import { initNav } from './nav.js';
import { t } from './i18n.js';

initNav();
window.addEventListener('hashchange', () => window.location.reload());
const status = $('#verify-status');
const token = new URLSearchParams(window.location.hash.slice(1)).get('token');

async function main() {
  if (!token) return replace(status, h('p', { class: 'alert alert-info', text: t('Open this page from the link in the mail; your account page sends it again.') }));
  try {
    await api('POST', '/email-verification/confirm', { json: { token } });
    history.replaceState(null, '', 'verify.html');
    replace(status, h('p', { class: 'alert alert-ok', role: 'status', text: t('Your address is confirmed: you can take part in challenges.') }));
  } catch (err) {
    replace(status, errorBox(err, { what: t('Not confirmed') }));
  }
}

main();
