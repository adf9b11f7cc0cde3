"""Challenge states and staff per challenge (issue 17): a draft is seen by its staff only (it does not exist for
anyone else: list, page, leaderboard, terms, files all 404); an archived challenge can be read but not joined or
changed (403 challenge_archived); a participant account made jury of one challenge reviews that challenge and no
other, cannot act as an organizer, and loses it all when the role is taken back. Every change is audited.

    python3 test_states.py --concours build/concours --source .
"""
import io
import os
import sys
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "http"))
import harness  # noqa: E402

OPEN_PHASES = [harness.phase("development", "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z")]


class States(harness.ServerTest):
    BUNDLES = [("alpha", OPEN_PHASES), ("beta", OPEN_PHASES)]
    USERS = (("olga", "organizer"),)

    def staff_client(self, name):
        c = self.server.client()
        self.assertEqual(c.login(name).status, 200)
        return c

    def put(self, client, path, body):
        return client.request("PUT", "/api/v1/challenges/" + path, json_body=body)

    def slugs(self, client):
        r = client.get("/api/v1/challenges")
        self.assertEqual(r.status, 200, r)
        return {c["slug"]: c["state"] for c in r.json()}

    def test_1_draft_staff_archive(self):
        olga = self.staff_client("olga")
        anon = self.server.client()
        pat = self.participant("pat", slug="alpha")
        jules = self.participant("jules", slug="alpha")

        # bad inputs
        self.assertEqual(self.put(olga, "beta/state", {"state": "closed", "reason": "x"}).status, 400)
        self.assertEqual(self.put(olga, "beta/state", {"state": "draft"}).status, 400)  # no reason
        self.assertEqual(self.put(olga, "beta/staff/jules", {"role": "admin", "reason": "x"}).status, 400)
        self.assertEqual(self.put(olga, "beta/staff/nobody", {"role": "jury", "reason": "x"}).status, 404)
        self.assertEqual(self.put(pat, "beta/state", {"state": "draft", "reason": "mine"}).status, 403)

        # beta becomes a draft: gone for everyone but its staff
        r = self.put(olga, "beta/state", {"state": "draft", "reason": "not ready"})
        self.assertEqual((r.status, r.json()["state"]), (200, "draft"), r)
        for who in (anon, pat, jules):
            self.assertNotIn("beta", self.slugs(who))
            self.assertEqual(who.get("/api/v1/challenges/beta").status, 404)
            self.assertEqual(who.get("/api/v1/challenges/beta/leaderboard").status, 404)
        self.assertEqual(pat.accept_terms("beta").status, 404)
        self.assertEqual(pat.get("/api/v1/challenges/beta/files").status, 404)
        self.assertEqual(self.slugs(olga).get("beta"), "draft")
        self.assertEqual(olga.get("/api/v1/challenges/beta").json()["state"], "draft")

        # jules (a participant account) becomes jury of beta only
        r = self.put(olga, "beta/staff/jules", {"role": "jury", "reason": "external reviewer"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.slugs(jules).get("beta"), "draft")
        self.assertEqual(jules.get("/api/v1/challenges/beta").status, 200)
        self.assertEqual(jules.get("/api/v1/challenges/beta/review").status, 200)
        self.assertEqual(jules.get("/api/v1/challenges/beta/staff").json(),
                         [{"username": "jules", "role": "jury",
                           "granted_at": jules.get("/api/v1/challenges/beta/staff").json()[0]["granted_at"]}])
        self.assertEqual(jules.get("/api/v1/challenges/alpha/review").status, 403, "jury of beta, not of alpha")
        self.assertEqual(self.put(jules, "beta/state", {"state": "open", "reason": "x"}).status, 403,
                         "a jury member is not an organizer")
        self.assertEqual(self.put(jules, "beta/staff/pat", {"role": "jury", "reason": "x"}).status, 403)

        # the role taken back: the draft is gone again for jules
        self.assertEqual(self.put(olga, "beta/staff/jules", {"role": "none", "reason": "done"}).status, 200)
        self.assertEqual(jules.get("/api/v1/challenges/beta").status, 404)
        self.assertEqual(jules.get("/api/v1/challenges/beta/review").status, 403)

        # alpha archived: readable, not joinable or changeable
        sample = harness.read_bytes(os.path.join(harness.demo_dir(), "data", "sample_submission.csv"))
        sid = pat.upload(sample, slug="alpha").json()["id"]
        pat.wait_done(sid)
        self.assertEqual(self.put(olga, "alpha/state", {"state": "archived", "reason": "over"}).status, 200)
        r = pat.upload(sample, slug="alpha")
        self.assertEqual((r.status, r.error_code()), (403, "challenge_archived"), r)
        newcomer = self.server.client()
        self.assertEqual(newcomer.register("nina").status, 201)
        self.assertEqual(newcomer.login("nina").status, 200)
        r = newcomer.accept_terms("alpha")
        self.assertEqual((r.status, r.error_code()), (403, "challenge_archived"), r)
        r = pat.post("/api/v1/challenges/alpha/teams", {"name": "late team"})
        self.assertEqual((r.status, r.error_code()), (403, "challenge_archived"), r)
        self.assertEqual(anon.leaderboard("alpha").status, 200)
        self.assertEqual(self.slugs(anon).get("alpha"), "archived")
        self.assertEqual(pat.submission(sid).status, 200)

        # audited
        actions = [(e["action"], e.get("challenge"), e.get("target")) for e in olga.get("/api/v1/audit").json()]
        self.assertIn(("challenge.state", "beta", None), actions)
        self.assertIn(("challenge.state", "alpha", None), actions)
        self.assertIn(("challenge.staff", "beta", "jules"), actions)

    def test_2_import_as_draft(self):
        olga = self.staff_client("olga")
        with harness.tempfile.TemporaryDirectory() as tmp:
            b = harness.make_bundle(tmp, "gamma")
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                for root, _, files in os.walk(b):
                    for name in files:
                        full = os.path.join(root, name)
                        z.write(full, os.path.relpath(full, tmp))
        r = olga.request("POST", "/api/v1/challenges?draft=1", body=buf.getvalue(),
                         headers={"Content-Type": "application/zip"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(olga.get("/api/v1/challenges/gamma").json()["state"], "draft")
        self.assertEqual(self.server.client().get("/api/v1/challenges/gamma").status, 404)


if __name__ == "__main__":
    harness.main()
