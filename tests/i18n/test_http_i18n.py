"""French over HTTP: a participant whose Accept-Language prefers French reads the API's errors, the scorer's
messages about a bad prediction file (written in English when it was scored, translated when read), the quota
message and the password-reset answer in French, with the same stable codes; English without the header, or when
the header prefers English; the unknown-page HTML in French.

    python3 tests/i18n/test_http_i18n.py --concours build/concours --source .
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / 'http'))
import harness  # noqa: E402
from harness import ServerTest, phase  # noqa: E402

OPEN = ("2020-01-01T00:00:00Z", "2090-01-01T00:00:00Z")
FR = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB,fr;q=0.3"}


class French(ServerTest):
    BUNDLES = [("fr-demo", [phase("development", *OPEN, max_per_day=2, max_total=10)])]

    def test_api_errors(self):
        c = self.server.client()
        r = c.post("/api/v1/sessions", {"username": "nobody", "password": "wrong-password-1"}, headers=FR)
        self.assertError(r, 401, "invalid_credentials")
        self.assertEqual(r.json()["error"]["message"], "nom d’utilisateur ou mot de passe erroné")
        r = c.post("/api/v1/sessions", {"username": "nobody", "password": "wrong-password-1"}, headers=EN)
        self.assertEqual(r.json()["error"]["message"], "wrong username or password")
        r = c.post("/api/v1/sessions", {"username": "nobody", "password": "wrong-password-1"})
        self.assertEqual(r.json()["error"]["message"], "wrong username or password")
        r = c.get("/api/v1/challenges/no-such-one", headers=FR)
        self.assertError(r, 404, "not_found")
        self.assertEqual(r.json()["error"]["message"], "ce challenge n’existe pas")
        # a format with values: the values are kept, the text around them translated
        r = c.post("/api/v1/users", {"username": "x" * 40, "password": "p" * 12, "email": "a@b.c"}, headers=FR)
        self.assertError(r, 400, "invalid_username")
        self.assertIn("un nom d’utilisateur fait 3 à 32 caractères", r.json()["error"]["message"])
        # a JSON body that is not: the parser's own words stay, the frame is French
        r = c.request("POST", "/api/v1/sessions", body=b'{"username": ', headers=dict(FR, **{"Content-Type": "application/json"}))
        self.assertEqual(r.status, 400, r)
        self.assertTrue(r.json()["error"]["message"].startswith("JSON invalide ligne 1"), r)

    def test_scorer_messages_translated_when_read(self):
        c = self.participant("fr-clumsy", slug="fr-demo")
        bad = harness.sample_submission().replace(b",0.22", b",1.7", 1)
        lines = harness.sample_submission().split(b"\n")
        bad2 = b"\n".join(lines[:3] + [lines[2]] + lines[3:])  # an id twice
        ids = []
        for data in (bad, bad2):
            r = c.upload(data, slug="fr-demo")
            self.assertEqual(r.status, 201, r)
            ids.append(r.json()["id"])
            self.assertEqual(c.wait_done(r.json()["id"])["status"], "failed")
        en = c.submission(ids[0]).json()["error"]
        fr = c.request("GET", "/api/v1/submissions/%d" % ids[0], headers=FR).json()["error"]
        self.assertEqual(fr["code"], en["code"])
        self.assertIn("is not a probability", en["message"])
        self.assertIn("n’est pas une probabilité (attendu un nombre de 0 à 1)", fr["message"])
        self.assertIn("1.7", fr["message"])  # the value the participant wrote, kept
        self.assertNotIn("is not a probability", fr["message"])
        listed = c.request("GET", "/api/v1/challenges/fr-demo/submissions", headers=FR).json()
        by_id = {s["id"]: s for s in listed}
        self.assertIn("apparaît deux fois", by_id[ids[1]]["error"]["message"])
        self.assertIn("appears twice", c.submission(ids[1]).json()["error"]["message"])
        # the quota (2 a day): the 429 explains in French, with the same numbers and reset time
        for _ in range(2):
            c.upload(harness.sample_submission(), slug="fr-demo")
        r = c.request("POST", "/api/v1/challenges/fr-demo/submissions", body=harness.sample_submission(),
                      headers=dict(FR, **{"Content-Type": "text/csv"}))
        self.assertError(r, 429, "quota_exceeded")
        self.assertIn("plus de soumission aujourd’hui dans la phase development (", r.json()["error"]["message"])
        self.assertTrue(r.header("Retry-After"))

    def test_messages_and_pages(self):
        c = self.server.client()
        r = c.post("/api/v1/password-reset", {"login": "someone"}, headers=FR)
        self.assertEqual(r.status, 202, r)
        self.assertTrue(r.json()["message"].startswith("Si un compte a ce nom d’utilisateur"), r)
        r = c.get("/no-such-page.html", headers=FR)
        self.assertEqual(r.status, 404)
        self.assertIn(b'<html lang="fr">', r.body)
        self.assertIn("Page introuvable".encode(), r.body)
        self.assertEqual(r.header("Content-Language"), "fr")
        r = c.get("/no-such-page.html")
        self.assertIn(b"<h1>Page not found</h1>", r.body)
        # the catalogues are served to the pages
        r = c.get("/i18n/fr.json")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["ui"]["Log in"], "Se connecter")


if __name__ == "__main__":
    harness.main()
