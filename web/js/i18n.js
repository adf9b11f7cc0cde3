// Why this file exists: the pages speak English or French. The language is the reader's choice (the switch in
// the header, kept in localStorage), else the first of English and French among the browser's languages (the
// ones it sends as Accept-Language), else English. The texts are data: /i18n/en.json and /i18n/fr.json map each
// key, the English source text, to the text in their language (tests/i18n checks that both hold every key the
// pages and the server use). The API is asked in the same language (api.js sends Accept-Language), so its error
// messages match the page.
//
// Every page script imports this module first: its top-level await loads the catalogue before the page builds
// anything, then the static text of the HTML (text nodes, titles, labels) is translated in place. Text the page
// builds goes through t(); text from the server (names, descriptions) never does.

export const LANGS = { en: 'English', fr: 'Français' };
const STORE_KEY = 'concours.lang';

function chosen() {
  let stored = null;
  try {
    stored = localStorage.getItem(STORE_KEY);
  } catch {
    /* storage disabled: the browser's languages decide */
  }
  if (stored && Object.hasOwn(LANGS, stored)) return stored;
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const primary = String(tag).toLowerCase().split(/[-_]/)[0];
    if (Object.hasOwn(LANGS, primary)) return primary;
  }
  return 'en';
}

export const lang = chosen();

let catalogue = {};
try {
  const res = await fetch(`/i18n/${lang}.json`, { credentials: 'same-origin' });
  if (res.ok) catalogue = (await res.json()).ui || {};
} catch {
  /* no catalogue: the keys are English, the page stays readable */
}

// The keys this page asked for that the catalogue lacks (the browser tests assert it stays empty).
export const missing = new Set();
window.concoursI18nMissing = missing;

// t('{n} files', {n: 3}) → the text of the key in the page's language, its {names} filled from VARS.
export function t(key, vars) {
  let text = key;
  if (Object.hasOwn(catalogue, key)) text = catalogue[key];
  else missing.add(key);
  if (vars) text = text.replace(/\{(\w+)\}/g, (all, name) => (Object.hasOwn(vars, name) ? String(vars[name]) : all));
  return text;
}

// Switches the language for this browser and reloads the page in it.
export function setLang(code) {
  if (!Object.hasOwn(LANGS, code)) return;
  try {
    localStorage.setItem(STORE_KEY, code);
  } catch {
    /* not kept: this page still switches */
  }
  window.location.reload();
}

// The key of a piece of static text: its whitespace runs made single spaces, trimmed; null when it has no letter.
export function staticKey(text) {
  const key = text.replace(/\s+/g, ' ').trim();
  return /\p{L}/u.test(key) ? key : null;
}

const ATTRIBUTES = ['aria-label', 'placeholder', 'title', 'alt'];

// Translates the static text under ROOT: text nodes (not in script, style, code or pre) and the attributes above.
export function translateStatic(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) => (node.parentElement && node.parentElement.closest('script, style, code, pre, [data-no-i18n]')
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const key = staticKey(node.nodeValue);
    if (key === null) continue;
    const [, lead, trail] = /^(\s*)[\s\S]*?(\s*)$/.exec(node.nodeValue);
    node.nodeValue = lead + t(key) + trail;
  }
  for (const name of ATTRIBUTES) {
    for (const el of root.querySelectorAll(`[${name}]`)) {
      const key = staticKey(el.getAttribute(name));
      if (key !== null) el.setAttribute(name, t(key));
    }
  }
}

document.documentElement.lang = lang;
if (lang !== 'en') {
  const title = staticKey(document.title);
  if (title !== null) document.title = t(title);
  translateStatic(document.body);
}
