"""The message catalogues (web/i18n/en.json, web/i18n/fr.json) hold every key the pages and the server use, both
the same keys, and every translation keeps what its key needs filled: the same {names} for the pages' texts, the
same printf conversions in the same order for the server's messages (the server drops one that differs, so a
catalogue can never make it read past its arguments; this test refuses it first).

    python3 tests/i18n/test_catalogues.py --source .
"""
import argparse
import json
import pathlib
import re
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import keys  # noqa: E402

ROOT = keys.ROOT
CONV = re.compile(r"%(?:%|[-+ #0']*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlLqjzt]*[diouxXeEfFgGaAcsp])")


def conversions(text):
    """The printf conversions of TEXT in order ('%%' is text); None when a '%' is not one printf accepts."""
    out = []
    i = 0
    while i < len(text):
        if text[i] != '%':
            i += 1
            continue
        m = CONV.match(text, i)
        if m is None:
            return None
        if m.group(0) != '%%':
            out.append(m.group(0))
        i = m.end()
    return out


def names(text):
    return sorted(re.findall(r'\{(\w+)\}', text))


def load(lang):
    with open(ROOT / 'web' / 'i18n' / (lang + '.json'), encoding='utf-8') as f:
        return json.load(f)


class Catalogues(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cat = {lang: load(lang) for lang in ('en', 'fr')}

    def test_shape(self):
        for lang, cat in self.cat.items():
            self.assertEqual(sorted(cat), ['server', 'ui'], lang)
            for part in ('ui', 'server'):
                for key, value in cat[part].items():
                    self.assertIsInstance(value, str, (lang, part, key))
                    self.assertTrue(value.strip(), '%s %s: empty text for %r' % (lang, part, key))

    def test_same_keys_in_both(self):
        for part in ('ui', 'server'):
            en = set(self.cat['en'][part])
            fr = set(self.cat['fr'][part])
            self.assertEqual(sorted(en - fr), [], part + ': keys only in en.json')
            self.assertEqual(sorted(fr - en), [], part + ': keys only in fr.json')

    def test_every_used_key_is_there(self):
        for part, used in (('ui', keys.ui_keys()), ('server', keys.server_keys())):
            for lang in ('en', 'fr'):
                missing = [k for k in used if k not in self.cat[lang][part]]
                self.assertEqual(missing, [], '%s.json %s lacks keys the sources use' % (lang, part))

    def test_placeholders_kept(self):
        for lang in ('en', 'fr'):
            for key, value in self.cat[lang]['ui'].items():
                self.assertEqual(names(value), names(key), '%s ui %r → %r' % (lang, key, value))
            for key, value in self.cat[lang]['server'].items():
                self.assertIsNotNone(conversions(key), 'server key %r: a %% that is not a conversion' % key)
                self.assertEqual(conversions(value), conversions(key), '%s server %r → %r' % (lang, key, value))

    def test_server_texts_fit_html(self):
        """The server puts some of its texts into HTML as they are (the 404 page): none holds '<' or '&'."""
        for lang in ('en', 'fr'):
            bad = [k for k, v in self.cat[lang]['server'].items() if '<' in v or '&' in v]
            self.assertEqual(bad, [], '%s.json server texts with < or &' % lang)

    def test_checks_can_fail(self):
        """The extraction finds what it must (a guard against a check that passes on nothing)."""
        ui = keys.ui_keys()
        server = keys.server_keys()
        self.assertIn('Submit predictions', ui)                # static HTML (challenge.html)
        self.assertIn('Log in', ui)                            # t('Log in') in web/js
        self.assertIn('Final ranking: tick up to {max} scored submissions of the {phase} phase ({n} ticked). '
                      'With none ticked, your best public one counts.', ui)
        self.assertIn('no such challenge', server)             # http_reply_error
        self.assertIn('line %zu: the id is %s', server)        # scorer/pred.c score_problem_add
        self.assertIn('the line is too long', server)          # csv_status_text
        self.assertGreater(len(ui), 400)
        self.assertGreater(len(server), 150)
        self.assertEqual(conversions('a %d and %s'), ['%d', '%s'])
        self.assertIsNone(conversions('95 % sure'[:5]))
        self.assertEqual(names('{a} and {b}'), ['a', 'b'])

    def test_french_is_french(self):
        """Most texts differ from the English (a copied catalogue would pass the other checks)."""
        for part in ('ui', 'server'):
            fr = self.cat['fr'][part]
            same = [k for k, v in fr.items() if v == k and len(k) > 12]
            self.assertLess(len(same), 10, '%s: untranslated in fr.json: %s' % (part, same[:10]))


if __name__ == '__main__':
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--source')
    args, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
