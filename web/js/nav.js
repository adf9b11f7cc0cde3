// Why this file exists: every page's header shows who is logged in (GET /api/v1/me) with the matching
// links, and a logout button. Pages call initNav() first and reuse the user it returns.
// A logged-in tab without a CSRF token (a new tab: sessionStorage is per tab) is told to log in again.
import { api, getMe, logout, loginHref, errorBox, csrfToken } from './api.js';
import { h, append, replace, $ } from './dom.js';
import { LANGS, lang, setLang, t } from './i18n.js';

// A button that switches to the other language, named in that language (so a reader who cannot read this one
// still finds it). A logged-in reader's mails follow (PUT /me/language); the pages switch even if that fails.
function langSwitch() {
  const other = lang === 'fr' ? 'en' : 'fr';
  const b = h('button', { type: 'button', class: 'link-button lang-switch', lang: other, 'aria-label': LANGS[other], text: LANGS[other] });
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      if (csrfToken() && (await getMe())) await api('PUT', '/me/language', { json: { language: other } });
    } catch {
      /* the mails keep their language; the pages still switch */
    }
    setLang(other);
  });
  return b;
}

// The header and footer are the same on every page, so they are built here rather than repeated in
// each HTML file; the empty <header> keeps its height in style.css so nothing jumps when it fills.
function frame() {
  const header = $('#site-header');
  if (header && !header.hasChildNodes()) {
    append(
      header,
      h('a', { class: 'brand', href: 'index.html' }, h('img', { src: 'favicon.svg', alt: '', width: 24, height: 24 }), ' concours'),
      h('nav', { class: 'main-nav', 'aria-label': t('Main') }, h('a', { href: 'index.html', text: t('Challenges') })),
      h('div', { id: 'account', class: 'account' }),
      langSwitch(),
    );
  }
  const footer = $('#site-footer');
  if (footer && !footer.hasChildNodes()) {
    append(footer, h('p', {}, t('concours · a self-hosted server for data challenges · '), h('a', { href: 'tokens.html', text: t('submit from a script') })));
  }
}

// Organizers and admins get the organizer page; the jury (and organizers, who may read it) the review.
function staffLinks(role) {
  const main = $('.main-nav');
  if (!main || main.querySelector('[data-staff]')) return;
  const page = window.location.pathname.split('/').pop();
  const link = (href, text) => h('a', { href, text, dataset: { staff: '1' }, 'aria-current': page === href ? 'page' : null });
  if (role === 'organizer' || role === 'admin') main.append(link('organizer.html', t('Organizer')));
  if (role === 'jury' || role === 'admin' || role === 'organizer') main.append(link('jury.html', t('Jury')));
}

export async function initNav() {
  frame();
  const nav = $('#account');
  let me = null;
  try {
    me = await getMe();
  } catch (err) {
    if (nav) replace(nav, errorBox(err, { what: t('Account') }));
    return null;
  }
  if (!nav) return me;
  if (me) {
    staffLinks(me.role);
    const out = h('button', { type: 'button', class: 'link-button', text: t('Log out') });
    out.addEventListener('click', async () => {
      out.disabled = true;
      try {
        await logout();
      } catch {
        /* the session is forgotten locally either way */
      }
      window.location.assign('index.html');
    });
    replace(
      nav,
      h('a', { href: 'tokens.html', text: t('API tokens') }),
      h('span', { class: 'who' }, t('Signed in as '), h('a', { href: 'account.html', title: t('Your account') }, h('strong', { text: me.username })), me.role && me.role !== 'participant' ? ` (${t(me.role)})` : ''),
      out,
    );
    // The CSRF token lives in sessionStorage: a new tab has the cookie but not the token.
    if (!csrfToken()) {
      nav.after(h('p', { class: 'alert alert-warn csrf-notice', role: 'status' },
        t('This tab can show your data but not change anything until you '), h('a', { href: loginHref(), text: t('log in again') }), '.'));
    }
  } else {
    replace(nav, h('a', { href: loginHref(), text: t('Log in') }), h('a', { class: 'button small', href: 'register.html', text: t('Register') }));
  }
  return me;
}
