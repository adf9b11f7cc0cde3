// Why this file exists: what the organizer and jury pages share — the role check, the list of challenges
// to pick from, download links for exports, and the dialog that asks for the reason every organizer and
// jury action needs (docs/api.md, "Organizers" and "Jury": the reason is required and audited).
import { api, errorBox, loginHref } from './api.js';
import { h, replace } from './dom.js';
import { t } from './i18n.js';

export const ORGANIZER_ROLES = ['organizer', 'admin'];
export const JURY_ROLES = ['jury', 'admin'];
export const REVIEW_ROLES = ['jury', 'admin', 'organizer'];

export const slugParam = () => new URLSearchParams(window.location.search).get('slug') || '';

export function challengePath(slug) {
  return `/challenges/${encodeURIComponent(slug)}`;
}

// Shows why the page is closed to `me` in `box` and returns false, or returns true when `me` has a role
// in `roles`. WHO, translated: "an organizer" or "a jury or organizer".
export function allowed(box, me, roles, who) {
  if (!me) {
    replace(box, h('p', { class: 'alert alert-info' }, h('a', { href: loginHref(), text: t('Log in') }), t(' with {who} account to use this page.', { who })));
    return false;
  }
  if (!roles.includes(me.role)) {
    replace(box, h('p', { class: 'alert alert-warn', role: 'alert' }, t('This page is for {who} account. You are signed in as ', { who }), h('bdi', { text: me.username }), ` (${t(me.role)}).`));
    return false;
  }
  return true;
}

// The challenges as a table with one link per challenge (`link(c)` → {href, text}); the current one marked.
export async function challengeTable(root, current, link) {
  let list;
  try {
    list = await api('GET', '/challenges');
  } catch (err) {
    replace(root, errorBox(err, { what: t('Could not list the challenges') }));
    return [];
  }
  if (!Array.isArray(list) || !list.length) {
    replace(root, h('p', { class: 'muted', text: t('No challenge yet.') }));
    return [];
  }
  const rows = list.map((c) => {
    const l = link(c);
    return h('tr', { class: c.slug === current ? 'current' : null, dataset: { slug: c.slug } },
      h('th', { scope: 'row' }, h('code', { text: c.slug })),
      h('td', { text: c.title || '' }),
      h('td', {}, c.phase ? h('span', { class: 'badge badge-open', text: c.phase }) : h('span', { class: 'muted', text: t('no open phase') }),
        c.state && c.state !== 'open' ? h('span', { class: `badge badge-${c.state}`, text: t(c.state) }) : null),
      h('td', {}, h('a', { href: l.href, 'aria-current': c.slug === current ? 'page' : null, text: l.text }, h('span', { class: 'visually-hidden', text: ` ${c.slug}` }))));
  });
  replace(root, h('div', { class: 'table-scroll', tabindex: '0' }, h('table', { class: 'challenges' },
    h('thead', {}, h('tr', {}, [t('Slug'), t('Title'), t('Phase open now')].map((head) => h('th', { scope: 'col', text: head })), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: t('Open') })))),
    h('tbody', {}, rows))));
  return list;
}

// A link that downloads an API answer (exports, the signed ranking) with the session cookie.
export function downloadLink(path, filename, label) {
  return h('a', { class: 'button small', href: `/api/v1${path}`, download: filename, text: label });
}

let dialogCount = 0;

// Opens a modal dialog asking for a reason, then runs `action(reason)`. An empty reason is refused in
// the dialog; an error from the action is shown in the dialog, which stays open. Resolves to the action's
// result, or null when cancelled.
export function reasonDialog({ title, text, confirm, danger = false, label = t('Reason'), help = t('Required. Written to the audit log with your name.'), action }) {
  const id = `reason-${++dialogCount}`;
  const opener = document.activeElement;
  const input = h('textarea', { id: `${id}-input`, name: 'reason', rows: 3, maxlength: 1000, 'aria-describedby': `${id}-help ${id}-error`, required: true });
  const error = h('div', { id: `${id}-error`, 'aria-live': 'assertive' });
  const ok = h('button', { type: 'submit', class: `button primary${danger ? ' danger' : ''}`, text: confirm });
  const cancel = h('button', { type: 'button', class: 'button', text: t('Cancel') });
  const form = h('form', { class: 'stack', novalidate: true },
    h('h2', { id: `${id}-title`, text: title }),
    text ? h('p', {}, ...[text].flat()) : null,
    h('label', { for: input.id, text: label }),
    input,
    h('p', { id: `${id}-help`, class: 'help', text: help }),
    error,
    h('div', { class: 'row' }, ok, cancel));
  const dialog = h('dialog', { class: 'reason-dialog', 'aria-labelledby': `${id}-title` }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    let result = null;
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
      resolve(result);
    });
    cancel.addEventListener('click', () => dialog.close());
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const reason = input.value.trim();
      if (!reason) {
        input.setAttribute('aria-invalid', 'true');
        replace(error, h('p', { class: 'alert alert-error', role: 'alert', text: t('{label} is required: a few words are enough.', { label }) }));
        input.focus();
        return;
      }
      input.removeAttribute('aria-invalid');
      replace(error);
      ok.disabled = true;
      try {
        result = await action(reason);
        dialog.close();
      } catch (err) {
        replace(error, errorBox(err, { what: t('Not done') }));
        ok.disabled = false;
      }
    });
    dialog.showModal();
    input.focus();
  });
}

// A status line in `box` (announced where the box is a live region).
export function note(box, message, cls = 'alert alert-ok') {
  replace(box, h('p', { class: cls, role: 'status' }, ...[message].flat()));
}
