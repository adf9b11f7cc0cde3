// Why this file exists: the password reset page (docs/api.md, "Accounts"). Without a token it asks for a username
// or address (POST /api/v1/password-reset: the answer is the same whether an account exists); with the token of the
// mailed link (in the fragment, so it reaches no server log) it sets the new password (POST .../confirm).
import { api, errorBox } from './api.js';
import { $, h, replace } from './dom.js';
import { initNav } from './nav.js';
import { t } from './i18n.js';

initNav();
// a link followed while this page is open changes only the fragment: read it again
window.addEventListener('hashchange', () => window.location.reload());
const status = $('#reset-status');
const token = new URLSearchParams(window.location.hash.slice(1)).get('token');

async function submit(form, run) {
  const button = $('button[type=submit]', form);
  button.disabled = true;
  try {
    await run();
  } catch (err) {
    replace(status, errorBox(err, { what: t('Not done') }));
  } finally {
    button.disabled = false;
  }
}

if (token) {
  const form = $('#set-form');
  form.hidden = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit(form, async () => {
      await api('POST', '/password-reset/confirm', { json: { token, password: $('#new-password').value } });
      history.replaceState(null, '', 'reset.html'); // the used token leaves the address bar
      form.hidden = true;
      replace(status, h('p', { class: 'alert alert-ok', role: 'status' }, t('Your password is set. '), h('a', { href: 'login.html', text: t('Log in') }), t(' with it.')));
    });
  });
} else {
  const form = $('#ask-form');
  form.hidden = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const login = $('#login').value.trim();
    if (!login) {
      replace(status, h('div', { class: 'alert alert-error', role: 'alert', text: t('Give your username or e-mail address.') }));
      return;
    }
    submit(form, async () => {
      const answer = await api('POST', '/password-reset', { json: { login } });
      replace(status, h('p', { class: 'alert alert-ok', role: 'status', text: answer.message }));
    });
  });
}
