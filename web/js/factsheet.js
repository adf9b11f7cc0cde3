// Why this file exists: the method description block of the challenge page (docs/factsheets.md). When a phase
// asks for one, a team sends a PDF or a Markdown file with an optional link (PUT .../fact-sheet, the raw body),
// sees whether the jury accepted or refused it (and why), downloads what it sent, and may send a new one until
// the ranking is published.
import { api, upload, errorBox, ApiError } from './api.js';
import { h, replace, timeEl, fmtBytes, progressReporter } from './dom.js';
import { t } from './i18n.js';

const BADGE = { pending: 'badge-upcoming', accepted: 'badge-open', refused: 'badge-dq' };

// Renders into ROOT for challenge C (its base API path BASE); load() fills it.
export function factSheetView(root, { base, challenge }) {
  const status = h('div', { 'aria-live': 'polite' });

  function current(sheet) {
    if (!sheet) {
      return h('p', { class: challenge.fact_sheets === 'required' ? 'alert alert-info' : 'muted' },
        challenge.fact_sheets === 'required'
          ? t('Every team in the final ranking needs a method description that the jury accepts. Yours is not sent yet.')
          : t('You may send a method description for the jury.'));
    }
    return h('div', { class: 'fact-sheet', id: 'fact-sheet-current' },
      h('p', {},
        h('span', { class: `badge ${BADGE[sheet.status] || ''}`, text: t(sheet.status) }), ' ',
        t('{kind}, {size}, sent ', { kind: sheet.kind === 'pdf' ? 'PDF' : 'Markdown', size: fmtBytes(sheet.size) }),
        timeEl(sheet.uploaded_at), ' · ',
        h('a', { href: `/api/v1${base}/fact-sheet/file`, download: '', text: t('Download it') }),
        sheet.link ? [' · ', h('a', { href: sheet.link, rel: 'noopener noreferrer', text: t('its link') })] : null),
      sheet.status === 'refused' && sheet.reason
        ? h('p', { class: 'alert alert-error', role: 'status' }, h('strong', { text: t('Refused by the jury: ') }), sheet.reason)
        : null,
      sheet.status === 'pending' ? h('p', { class: 'help', text: t('The jury has not read it yet.') }) : null);
  }

  function form() {
    const file = h('input', { id: 'fact-sheet-file', type: 'file', required: true, accept: '.pdf,.md,.markdown,.txt,application/pdf,text/markdown' });
    const link = h('input', { id: 'fact-sheet-link', type: 'url', maxlength: 500, placeholder: 'https://', autocomplete: 'off' });
    const send = h('button', { type: 'submit', class: 'button', text: t('Send the method description') });
    const bar = h('progress', { max: 100, value: 0, hidden: true });
    const label = h('span', { class: 'muted' });
    const f = h('form', { class: 'stack', id: 'fact-sheet-form' },
      h('label', { for: file.id, text: t('PDF or Markdown file (at most 5 MB)') }), file,
      h('label', { for: link.id }, t('Link to your code or paper'), ' ', h('span', { class: 'muted', text: t('(optional)') })), link,
      h('div', { class: 'row' }, send), h('div', { class: 'progress-wrap' }, bar, label));
    f.addEventListener('submit', async (event) => {
      event.preventDefault();
      const chosen = file.files && file.files[0];
      if (!chosen) {
        replace(status, h('div', { class: 'alert alert-error', role: 'alert', text: t('Choose a PDF or Markdown file first.') }));
        return;
      }
      send.disabled = true;
      bar.hidden = false;
      const query = link.value.trim() ? `?link=${encodeURIComponent(link.value.trim())}` : '';
      try {
        await upload(`${base}/fact-sheet${query}`, chosen, { method: 'PUT', onProgress: progressReporter(bar, label) }).promise;
        replace(status, h('p', { class: 'alert alert-ok', role: 'status', text: t('Sent: the jury will read it.') }));
        await load();
      } catch (err) {
        replace(status, errorBox(err, { what: t('Not sent') }));
      } finally {
        send.disabled = false;
        bar.hidden = true;
      }
    });
    return f;
  }

  async function load() {
    let sheet = null;
    try {
      sheet = await api('GET', `${base}/fact-sheet`);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) {
        replace(root, errorBox(err, { what: t('Could not load your method description') }));
        return;
      }
    }
    replace(root, current(sheet), challenge.published ? null : form(), status);
  }

  return { load };
}
