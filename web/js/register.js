// Why this file exists: the registration form. POST /api/v1/users, then log in straight away and go on.
// The checks here only mirror the server's (docs/api.md) to answer sooner; the server decides.
import { api, login, errorBox } from './api.js';
import { $, replace, h, safeNext, setHref } from './dom.js';
import { initNav } from './nav.js';
import { t } from './i18n.js';

const next = safeNext(new URLSearchParams(window.location.search).get('next'));
setHref($('#login-link'), `login.html?next=${encodeURIComponent(next)}`);
initNav();

function problem(username, email, password, password2) {
  if (!/^[A-Za-z0-9_.-]{3,32}$/.test(username)) return ['username', t('The username must be 3–32 letters, digits, "_", "." or "-".')];
  if (!/^[^@\s]+@[^@\s]+$/.test(email) || email.length > 254) return ['email', t('Enter a valid email address.')];
  if (password.length < 10) return ['password', t('The password must have at least 10 characters.')];
  if (password !== password2) return ['password2', t('The two passwords differ.')];
  return null;
}

const form = $('#register-form');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = $('#form-status');
  const username = $('#username').value.trim();
  const email = $('#email').value.trim();
  const password = $('#password').value;
  const bad = problem(username, email, password, $('#password2').value);
  for (const input of form.querySelectorAll('input')) input.removeAttribute('aria-invalid');
  if (bad) {
    $(`#${bad[0]}`).setAttribute('aria-invalid', 'true');
    $(`#${bad[0]}`).focus();
    replace(status, h('div', { class: 'alert alert-error', role: 'alert', text: bad[1] }));
    return;
  }
  const button = $('button[type=submit]', form);
  button.disabled = true;
  replace(status, h('p', { class: 'muted', text: t('Creating your account…') }));
  try {
    await api('POST', '/users', { json: { username, email, password } });
    await login(username, password);
    window.location.assign(next);
  } catch (err) {
    const field = { username_taken: 'username', invalid_username: 'username', invalid_email: 'email', weak_password: 'password' }[err.code];
    if (field) $(`#${field}`).setAttribute('aria-invalid', 'true');
    replace(status, errorBox(err, { what: t('Registration failed') }));
    button.disabled = false;
  }
});
