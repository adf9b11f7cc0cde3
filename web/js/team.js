// Why this file exists: the team block of the challenge page (docs/api.md, "Teams"). Every participant
// competes as a team: alone (a solo team named after them) until they create or join one with an invite
// code. Moves are refused (409 team_locked) once the team being left has a submission, so the block then
// offers none.
import { api, errorBox, ApiError } from './api.js';
import { h, replace, timeEl } from './dom.js';
import { t } from './i18n.js';

// Renders into `root`; `onChange(team)` runs after a create, join or leave. load() → the team, or null when
// the server has no team endpoint (then the block stays hidden).
export function teamView(root, { base, onChange }) {
  let team = null;
  const status = h('div', { 'aria-live': 'polite' });

  async function act(button, what, call) {
    button.disabled = true;
    replace(status);
    try {
      team = await call();
      if (!team || typeof team !== 'object' || team.id === undefined) team = await api('GET', `${base}/team`);
      render();
      onChange(team);
    } catch (err) {
      replace(status, errorBox(err, { what }));
      button.disabled = false;
    }
  }

  function field(id, label, attrs) {
    return [h('label', { for: id, text: label }), h('input', { id, autocomplete: 'off', required: true, ...attrs })];
  }

  function soloForms() {
    const [nameLabel, name] = field('team-name', t('Team name'), { minlength: 2, maxlength: 64 });
    const create = h('button', { type: 'submit', class: 'button', text: t('Create a team') });
    const createForm = h('form', { class: 'stack team-form', id: 'team-create' }, nameLabel, name, create);
    createForm.addEventListener('submit', (e) => {
      e.preventDefault();
      act(create, t('Could not create the team'), () => api('POST', `${base}/teams`, { json: { name: name.value.trim() } }));
    });
    const [codeLabel, code] = field('team-code', t('Invite code'), { maxlength: 64, spellcheck: 'false', autocapitalize: 'none' });
    const join = h('button', { type: 'submit', class: 'button', text: t('Join the team') });
    const joinForm = h('form', { class: 'stack team-form', id: 'team-join' }, codeLabel, code, join);
    joinForm.addEventListener('submit', (e) => {
      e.preventDefault();
      act(join, t('Could not join'), () => api('POST', `${base}/teams/join`, { json: { invite_code: code.value.trim() } }));
    });
    return h('div', { class: 'team-forms' }, createForm, joinForm);
  }

  function teamDetails() {
    const members = (team.members || []).map((m) => h('li', {}, h('bdi', { text: m.username }), t(' · joined '), timeEl(m.joined_at)));
    const leave = h('button', { type: 'button', class: 'button', id: 'team-leave', text: t('Leave the team') });
    leave.addEventListener('click', () => {
      if (!window.confirm(t('Leave the team “{name}”? You will compete alone again.', { name: team.name }))) return;
      act(leave, t('Could not leave the team'), () => api('DELETE', `${base}/team`));
    });
    return [
      h('ul', { class: 'members' }, members),
      team.invite_code
        ? h('p', {}, t('Invite code for teammates: '), h('code', { class: 'token', id: 'team-invite', text: team.invite_code }))
        : null,
      locked() ? null : leave,
    ];
  }

  // A team with a submission can no longer change (the server answers 409 team_locked).
  function locked() {
    return team.submissions > 0;
  }

  function render() {
    const size = team.max_size ? t(' ({n} of {max} members)', { n: (team.members || []).length, max: team.max_size }) : '';
    const note = locked()
      ? h('p', { class: 'help', id: 'team-locked', text: team.solo ? t('You have submitted alone: you can no longer create or join a team in this challenge.') : t('Your team has submitted: its members can no longer change.') })
      : null;
    const head = team.solo
      ? h('p', {}, t('You compete alone, as '), h('strong', {}, h('bdi', { text: team.name })), locked() ? '.' : t('. Create a team or join one with its invite code.'))
      : h('p', {}, t('Your team: '), h('strong', {}, h('bdi', { text: team.name })), size, '.');
    replace(root, head, team.solo ? (locked() ? null : soloForms()) : teamDetails(), note, status);
  }

  return {
    async load() {
      try {
        team = await api('GET', `${base}/team`);
      } catch (err) {
        if (err instanceof ApiError && (err.code === 'not_found' || err.code === 'method_not_allowed')) return null;
        replace(root, errorBox(err, { what: t('Could not load your team') }));
        return null;
      }
      render();
      return team;
    },
  };
}
