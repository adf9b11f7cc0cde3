// Why this file exists: the login form. POST /api/v1/sessions sets the session cookie; the csrf_token it
// returns is kept in sessionStorage for later state-changing requests. Then back to the page we came from.
import { login, errorBox } from './api.js';
import { $, replace, h, safeNext, setHref } from './dom.js';
import { initNav } from './nav.js';
import { t } from './i18n.js';

const next = safeNext(new URLSearchParams(window.location.search).get('next'));
setHref($('#register-link'), `register.html?next=${encodeURIComponent(next)}`);
initNav();

const form = $('#login-form');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = $('#form-status');
  const username = $('#username').value.trim();
  const password = $('#password').value;
  if (!username || !password) {
    replace(status, h('div', { class: 'alert alert-error', role: 'alert', text: t('Enter your username and password.') }));
    return;
  }
  const button = $('button[type=submit]', form);
  button.disabled = true;
  replace(status, h('p', { class: 'muted', text: t('Logging in…') }));
  try {
    await login(username, password);
    window.location.assign(next);
  } catch (err) {
    replace(status, errorBox(err, { what: t('Login failed') }));
    $('#password').select();
    button.disabled = false;
  }
});
