// Why this file exists: the account page (docs/api.md, "Accounts"): who you are, the result mails, a new address,
// a new password (the other sessions end), and deleting the account (what goes and what stays is said first).
import { api, errorBox, getMe, loginHref } from './api.js';
import { $, h, replace, timeEl } from './dom.js';
import { initNav } from './nav.js';
import { LANGS, t } from './i18n.js';

function ok(box, text) {
  replace(box, h('p', { class: 'alert alert-ok', role: 'status', text }));
}

// Runs ACTION for FORM's submit with its button disabled; an error goes to BOX.
function onSubmit(form, box, action) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = $('button[type=submit]', form);
    button.disabled = true;
    try {
      await action();
    } catch (err) {
      replace(box, errorBox(err, { what: t('Not done') }));
    } finally {
      button.disabled = false;
    }
  });
}

// Mails the confirmation link again (the server asks for confirmed addresses: docs/mail.md).
function resendButton() {
  const b = h('button', { type: 'button', class: 'button small', text: t('Send the link again') });
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      const answer = await api('POST', '/email-verification');
      ok($('#mail-settings-status'), answer.message);
    } catch (err) {
      replace($('#mail-settings-status'), errorBox(err, { what: t('Not sent') }));
      b.disabled = false;
    }
  });
  return b;
}

async function main() {
  await initNav();
  const status = $('#page-status');
  let me;
  try {
    me = await getMe();
  } catch (err) {
    return replace(status, errorBox(err));
  }
  if (!me) return replace(status, h('p', { class: 'alert alert-info' }, h('a', { href: loginHref(), text: t('Log in') }), t(' to see your account.')));
  const full = await api('GET', '/me');
  replace($('#facts'),
    h('dt', { text: t('Username') }), h('dd', {}, h('bdi', { text: full.username })),
    h('dt', { text: t('E-mail') }), h('dd', { id: 'current-email' }, h('bdi', { text: full.email || '—' }),
      full.email_verified ? null : [' ', h('span', { class: 'badge badge-warn', text: t('not confirmed') }), ' ', resendButton()]),
    h('dt', { text: t('Role') }), h('dd', { text: t(full.role) }),
    h('dt', { text: t('Language of your mails') }), h('dd', { id: 'mail-language', text: LANGS[full.language] || full.language || '—' }),
    h('dt', { text: t('Member since') }), h('dd', {}, full.created_at ? timeEl(full.created_at) : '—'));

  const settings = await api('GET', '/me/notifications');
  for (const [key, id, on, off] of [
    ['submissions', '#notify-submissions', t('You will get a mail for each result.'), t('No more mails about your submissions.')],
    ['news', '#notify-news', t('You will get the news of your challenges.'), t('No more news by mail.')],
  ]) {
    const box = $(id);
    box.checked = Boolean(settings[key]);
    box.addEventListener('change', async () => {
      const out = $('#mail-settings-status');
      try {
        const saved = await api('PUT', '/me/notifications', { json: { [key]: box.checked } });
        ok(out, saved[key] ? on : off);
      } catch (err) {
        box.checked = !box.checked;
        replace(out, errorBox(err, { what: t('Could not save the setting') }));
      }
    });
  }

  onSubmit($('#email-form'), $('#email-status'), async () => {
    const saved = await api('PUT', '/me/email', { json: { email: $('#new-email').value.trim(), password: $('#email-password').value } });
    replace($('#current-email'), h('bdi', { text: saved.email }));
    $('#email-password').value = '';
    ok($('#email-status'), t('Mails now go to {email}.', { email: saved.email }));
  });
  onSubmit($('#password-form'), $('#password-status'), async () => {
    await api('PUT', '/me/password', { json: { current: $('#current-password').value, password: $('#next-password').value } });
    $('#current-password').value = '';
    $('#next-password').value = '';
    ok($('#password-status'), t('Your password is changed. Your other sessions have ended.'));
  });
  onSubmit($('#delete-form'), $('#delete-status'), async () => {
    if (!window.confirm(t('Delete your account for good? This cannot be undone.'))) return;
    await api('DELETE', '/me', { json: { password: $('#delete-password').value } });
    window.location.assign('index.html');
  });
  // shown once the boxes hold the saved settings and every control has its handler: shown before, a box could be
  // clicked unchecked with no handler (and a browser test read it unchecked)
  $('#account-body').hidden = false;
}

main().catch((err) => replace($('#page-status'), errorBox(err))); // /me or the settings did not load: say so
