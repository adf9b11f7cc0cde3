"""Updates of a live challenge (issue 17): after the first import the database is the truth. A restart with
--challenges keeps an organizer's HTTP phase edit and reports a changed bundle without applying it; `challenge
import --apply` applies it; a changed ground truth is refused while a phase is open unless --rescore, which
re-scores every submission (audited with both hashes); HTTP re-imports answer 409 until ?apply=1. Imports on the
HTTP path run on a full stack: a bundle with deeply nested folders and the CodaLab test bundle do not crash the
server, and neither does a deeply nested JSON body before authentication. A second server refuses a data folder
in use. Ranking and display round scores by one rule.

    python3 test_updates.py --concours build/concours --source .
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
sys.path.insert(0, os.path.join(HERE, "..", "sandbox"))
import harness  # noqa: E402

OPEN = [{"name": "development", "start": "2020-01-01T00:00:00Z", "end": "2099-01-01T00:00:00Z", "max_per_day": 50}]


def base_bundle(parent, slug, edit=None):
    """A copy of tests/bundles/_base as PARENT/SLUG with its phases open now; EDIT(spec) may change the rest."""
    dst = os.path.join(parent, slug)
    shutil.copytree(os.path.join(HERE, "_base"), dst)
    path = os.path.join(dst, "challenge.json")
    with open(path) as f:
        spec = json.load(f)
    spec["slug"] = slug
    spec["phases"] = json.loads(json.dumps(OPEN))
    if edit:
        edit(spec)
    with open(path, "w") as f:
        json.dump(spec, f, indent=2)
    return dst


zip_folder = harness.zip_folder  # one helper for every test that uploads a bundle


def truth_rows(correct_flip=()):
    """The _base ground truth, with the labels of the rows in CORRECT_FLIP flipped."""
    with open(os.path.join(HERE, "_base", "private", "solution.csv")) as f:
        lines = f.read().splitlines()
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        cid, label, usage = line.split(",")
        if i in correct_flip:
            label = str(1 - int(label))
        out.append("%s,%s,%s" % (cid, label, usage))
    return "\n".join(out) + "\n"


class Updates(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server(bundles=[])
        base_bundle(cls.server.challenges, "live")
        cls.server.add_user("olga", "organizer")
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop(check=True)

    def tearDown(self):
        self.assertTrue(self.server.alive(), "the server died:\n" + self.server.output())

    def restart(self):
        s = self.server
        s.proc.send_signal(signal.SIGTERM)
        self.assertEqual(s.proc.wait(timeout=30), 0, s.output())
        s.port = None
        s.log = []
        s.start()

    def organizer(self):
        c = self.server.client()
        self.assertEqual(c.login("olga").status, 200)
        return c

    def cli(self, *args):
        return subprocess.run([harness.ARGS.concours] + list(args), capture_output=True, text=True, timeout=120)

    def audit(self, org, action):
        r = org.get("/api/v1/audit")
        self.assertEqual(r.status, 200, r)
        entries = r.json()
        entries = entries.get("entries", entries) if isinstance(entries, dict) else entries
        return [e for e in entries if e.get("action") == action]

    # ------------------------------------------------------------------ restarts
    def test_1_restart_keeps_phase_edit_and_reports_changes(self):
        org = self.organizer()
        r = org.request("PATCH", "/api/v1/challenges/live/phases/development",
                        json_body={"max_per_day": 9, "reason": "more tries for everyone"})
        self.assertEqual(r.status, 200, r)
        self.restart()
        self.assertIn("challenge live is up to date", self.server.output())
        ch = self.server.client().challenge("live").json()
        self.assertEqual(ch["phases"][0]["max_per_day"], 9, "a restart undid the organizer's audited edit")

        # the bundle changes on disk: reported at restart, not applied
        path = os.path.join(self.server.challenges, "live", "challenge.json")
        with open(path) as f:
            spec = json.load(f)
        spec["title"] = "A retitled challenge"
        with open(path, "w") as f:
            json.dump(spec, f)
        self.restart()
        out = self.server.output()
        self.assertIn("differs from the imported bundle; NOT applied", out)
        self.assertIn('challenge.json: "title" changed', out)
        self.assertIn("--apply", out)
        ch = self.server.client().challenge("live").json()
        self.assertEqual(ch["title"], "A minimal valid bundle")
        self.assertEqual(ch["phases"][0]["max_per_day"], 9)

        # the CLI shows the change without --apply, applies it with --apply (the server keeps running)
        bundle = os.path.join(self.server.challenges, "live")
        r = self.cli("challenge", "import", bundle, "--data", self.server.data)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("NOT applied", r.stdout)
        r = self.cli("challenge", "import", bundle, "--data", self.server.data, "--apply", "--actor", "olga-cli")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("updated challenge live", r.stdout)
        ch = self.server.client().challenge("live").json()
        self.assertEqual(ch["title"], "A retitled challenge")
        imports = self.audit(self.organizer(), "challenge.import")
        self.assertTrue(any(e.get("actor") == "olga-cli" for e in imports), imports)

    def test_2_second_server_refused(self):
        r = subprocess.run([harness.ARGS.concours, "serve", "--data", self.server.data, "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("is in use by another concours server", r.stderr)

    # ------------------------------------------------------------------ HTTP imports
    def test_3_http_reimport_needs_apply(self):
        org = self.organizer()
        with tempfile.TemporaryDirectory() as tmp:
            b = base_bundle(tmp, "over-http")
            r = org.request("POST", "/api/v1/challenges", body=zip_folder(b), headers={"Content-Type": "application/zip"})
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json()["state"], "new")
            r = org.request("POST", "/api/v1/challenges", body=zip_folder(b), headers={"Content-Type": "application/zip"})
            self.assertEqual((r.status, r.json()["state"]), (200, "unchanged"))
            with open(os.path.join(b, "overview.md"), "a") as f:
                f.write("\nMore words.\n")
            r = org.request("POST", "/api/v1/challenges", body=zip_folder(b), headers={"Content-Type": "application/zip"})
            self.assertEqual(r.status, 409, r)
            self.assertEqual(r.error_code(), "bundle_changed")
            self.assertIn("overview.md changed", r.json()["error"]["changes"])
            r = org.request("POST", "/api/v1/challenges?apply=yes", body=zip_folder(b),
                            headers={"Content-Type": "application/zip"})
            self.assertEqual((r.status, r.error_code()), (400, "bad_request"), r)
            r = org.request("POST", "/api/v1/challenges?apply=1", body=zip_folder(b),
                            headers={"Content-Type": "application/zip"})
            self.assertEqual((r.status, r.json()["state"]), (200, "updated"), r)

    def test_4_nested_bundle_over_http(self):
        """A scoring program 14 folders deep, then the CodaLab test bundle: imported, no crash."""
        org = self.organizer()
        with tempfile.TemporaryDirectory() as tmp:
            b = base_bundle(tmp, "nested", lambda s: s.update(
                metric={"program": "scoring_program", "score_key": "auc", "higher_is_better": True}))
            deep = os.path.join(b, "scoring_program", *["level%d" % i for i in range(14)])
            os.makedirs(deep)
            with open(os.path.join(deep, "helper.py"), "w") as f:
                f.write("X = 1\n")
            with open(os.path.join(b, "scoring_program", "metadata"), "w") as f:
                f.write("command: python3 $program/score.py $input $output\n")
            with open(os.path.join(b, "scoring_program", "score.py"), "w") as f:
                f.write("print('ok')\n")
            r = org.request("POST", "/api/v1/challenges", body=zip_folder(b), headers={"Content-Type": "application/zip"})
            self.assertEqual(r.status, 201, r)
            import test_codalab  # the project's own CodaLab bundle (tests/sandbox)
            comp = test_codalab.make_competition(tmp)
            r = org.request("POST", "/api/v1/challenges", body=zip_folder(comp),
                            headers={"Content-Type": "application/zip"})
            self.assertIn(r.status, (200, 201), r)
        self.assertTrue(self.server.alive())
        self.assertEqual(self.server.client().challenge("nested").status, 200)

    def test_5_deep_json_body_before_auth(self):
        """About 900 '[' to the login endpoint (and 5,000 '{"a":'): 400 invalid_json, the server lives."""
        c = self.server.client()
        for body in (b"[" * 900, b'{"a":' * 5000 + b"1" + b"}" * 5000):
            r = c.request("POST", "/api/v1/sessions", body=body, headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 400, r)
            self.assertEqual(r.error_code(), "invalid_json")
        self.assertTrue(self.server.alive(), self.server.output())

    def test_6_patch_refuses_unknown_keys(self):
        org = self.organizer()
        # every editable key of the table is stored (final_selection was dropped before the table drove the SQL)
        r = org.request("PATCH", "/api/v1/challenges/live/phases/development",
                        json_body={"final_selection": 3, "max_total": 77, "closed": True, "reason": "picks for the final"})
        self.assertEqual(r.status, 200, r)
        ph = self.server.client().challenge("live").json()["phases"][0]
        self.assertEqual((ph["final_selection"], ph["max_total"], ph["closed"]), (3, 77, True), ph)
        r = org.request("PATCH", "/api/v1/challenges/live/phases/development",
                        json_body={"closed": False, "reason": "open again"})
        self.assertEqual(r.status, 200, r)
        r = org.request("PATCH", "/api/v1/challenges/live/phases/development",
                        json_body={"closed": "yes", "reason": "not a boolean"})
        self.assertEqual(r.status, 400, r)
        self.assertIn("closed", r.json()["error"]["message"])
        self.assertFalse(self.server.client().challenge("live").json()["phases"][0]["closed"])
        r = org.request("PATCH", "/api/v1/challenges/live/phases/development",
                        json_body={"max_per_days": 3, "reason": "typo"})
        self.assertEqual(r.status, 400, r)
        self.assertIn('did you mean "max_per_day"', r.json()["error"]["message"])
        r = org.request("PATCH", "/api/v1/challenges/live/phases/development",
                        json_body={"name": "renamed", "reason": "no"})
        self.assertEqual(r.status, 400, r)
        self.assertIn("cannot be changed on a live challenge", r.json()["error"]["message"])

    # ------------------------------------------------------------------ ground truth changes
    def test_7_truth_change_rescores(self):
        org = self.organizer()
        slug = "truthy"
        b = base_bundle(self.server.challenges, slug)
        r = self.cli("challenge", "import", b, "--data", self.server.data)
        self.assertEqual(r.returncode, 0, r.stderr)
        p = self.server.client()
        self.assertEqual(p.register("pia").status, 201)
        self.assertEqual(p.login("pia").status, 200)
        self.assertEqual(p.accept_terms(slug).status, 204)
        with open(os.path.join(b, "data", "sample_submission.csv"), "rb") as f:
            sample = f.read()
        sid = p.upload(sample, slug=slug).json()["id"]
        self.assertEqual(p.wait_done(sid)["status"], "scored")
        with open(os.path.join(b, "private", "solution.csv"), "w") as f:
            f.write(truth_rows(correct_flip=range(0, 40, 4)))
        r = self.cli("challenge", "import", b, "--data", self.server.data, "--apply")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn('the ground truth changed while phase "development" is open', r.stderr)
        self.assertIn("--rescore", r.stderr)
        r = self.cli("challenge", "import", b, "--data", self.server.data, "--apply", "--rescore")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 submission(s) queued for scoring again", r.stdout)
        self.assertIn("ground truth changed", r.stdout)
        entries = [e for e in self.audit(org, "challenge.import") if e.get("challenge") == slug]
        details = [e.get("details") or {} for e in entries]
        details = [json.loads(d) if isinstance(d, str) else d for d in details]
        self.assertTrue(any(d.get("previous_truth_sha256") for d in details), details)
        self.assertTrue([e for e in self.audit(org, "rescore") if e.get("challenge") == slug])
        self.assertEqual(p.wait_done(sid)["status"], "scored")


class Rounding(unittest.TestCase):
    """One rounding rule: 115/200 = 0.575 is shown as 0.57 at precision 2, so it ties with an earlier 0.57
    (SQLite's round() made it 0.58 and ranked it first, while the page showed 0.57)."""

    def test_tie_at_display_precision(self):
        with tempfile.TemporaryDirectory() as tmp:
            srv = harness.Server(bundles=[])
            b = os.path.join(srv.challenges, "rounding")
            os.makedirs(os.path.join(b, "data"))
            os.makedirs(os.path.join(b, "private"))
            labels = [i % 2 for i in range(200)]
            with open(os.path.join(b, "private", "solution.csv"), "w") as f:
                f.write("id,label\n" + "".join("r%03d,%d\n" % (i, l) for i, l in enumerate(labels)))

            def preds(correct):
                return ("id,label\n" + "".join("r%03d,%d\n" % (i, l if i < correct else 1 - l)
                                              for i, l in enumerate(labels))).encode()
            with open(os.path.join(b, "data", "sample_submission.csv"), "wb") as f:
                f.write(preds(100))
            spec = {"slug": "rounding", "title": "Rounding", "terms_version": 1,
                    "data": ["data/sample_submission.csv"], "ground_truth": "private/solution.csv",
                    "split_column": None, "metric": {"name": "accuracy"}, "leaderboard": {"precision": 2},
                    "phases": OPEN}
            with open(os.path.join(b, "challenge.json"), "w") as f:
                json.dump(spec, f)
            with open(os.path.join(b, "terms.md"), "w") as f:
                f.write("Terms.\n")
            srv.start()
            try:
                first, second = srv.client(), srv.client()
                for c, name in ((first, "early"), (second, "late")):
                    self.assertEqual(c.register(name).status, 201)
                    self.assertEqual(c.login(name).status, 200)
                    self.assertEqual(c.accept_terms("rounding").status, 204)
                a = first.upload(preds(114), slug="rounding").json()["id"]  # 0.57
                self.assertEqual(first.wait_done(a)["status"], "scored")
                time.sleep(1.1)  # a later submission time
                b2 = second.upload(preds(115), slug="rounding").json()["id"]  # 0.575
                self.assertEqual(second.wait_done(b2)["status"], "scored")
                rows = first.leaderboard("rounding").json()["rows"]
                self.assertEqual([(r["name"], r["score"]) for r in rows], [("early", 0.57), ("late", 0.57)], rows)
                self.assertEqual([r["rank"] for r in rows], [1, 2])
            finally:
                srv.stop(check=True)


if __name__ == "__main__":
    harness.main()
