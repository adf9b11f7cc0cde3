"""The anonymity gate of the server (issue 7, "In the server"): a bundle whose public data holds a direct
identifier is refused by `concours challenge import` and by `POST /api/v1/challenges`, unless the import
carries an override reason, which the audit log keeps; participants see a public summary of each file's
report, organizers and jury the full report; every download is exportable for the data controller.

Runs a `concours serve` child through tests/http/harness.py:
    python3 test_server_gate.py --concours BIN --source DIR
"""
import csv
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
import harness  # noqa: E402  (tests/http/harness.py)

PLANTED_DOMAIN = "planted-patient.example.org"
PUBLIC_KEYS = {"passed", "k", "k_anonymity", "direct_identifiers_found"}


def planted_bundle(parent, slug):
    """The demo bundle as SLUG with an e-mail column added to data/train_metadata.csv. Returns its path."""
    dst = harness.make_bundle(parent, slug)
    path = os.path.join(dst, "data", "train_metadata.csv")
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows[0].append("email")
    for i, row in enumerate(rows[1:]):
        row.append("p%d@%s" % (i, PLANTED_DOMAIN))
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return dst


zip_folder = harness.zip_folder  # one helper for every test that uploads a bundle


class ServerGate(harness.ServerTest):
    USERS = [("olga", "organizer"), ("juno", "jury")]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="concours-gate-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def cli_import(self, bundle, data, *extra):
        return subprocess.run([harness.ARGS.concours, "challenge", "import", bundle, "--data", data] + list(extra),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)

    def test_cli_refuses_then_override_is_audited(self):
        bundle = planted_bundle(self.tmp, "planted-cli")
        data = os.path.join(self.tmp, "cli-data")
        r = self.cli_import(bundle, data)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 2, err)
        self.assertIn('data/train_metadata.csv: anonymity: direct identifier in column "email" (rule email, 400 values)',
                      err)
        self.assertNotIn(PLANTED_DOMAIN, err + r.stdout.decode())
        r = self.cli_import(bundle, data, "--anonymity-override", "")
        self.assertEqual(r.returncode, 2, r.stderr)
        r = self.cli_import(bundle, data, "--anonymity-override", "synthetic addresses, checked by hand",
                            "--actor", "olga")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"imported challenge planted-cli", r.stdout)
        dbs = [n for n in os.listdir(data) if n.endswith(".db")]
        self.assertEqual(len(dbs), 1, os.listdir(data))
        db = sqlite3.connect(os.path.join(data, dbs[0]))
        try:
            rows = db.execute("SELECT actor,challenge,reason,details FROM audit_log WHERE action='anonymity.override'"
                              ).fetchall()
            stored = db.execute("SELECT anonymity FROM challenge_files WHERE name='train_metadata.csv'").fetchone()
        finally:
            db.close()
        self.assertEqual(len(rows), 1, rows)
        actor, challenge, reason, details = rows[0]
        self.assertEqual((actor, challenge, reason), ("olga", "planted-cli", "synthetic addresses, checked by hand"))
        files = json.loads(details)["files"]
        self.assertEqual([f["file"] for f in files], ["data/train_metadata.csv"])
        self.assertNotIn(PLANTED_DOMAIN, details)
        report = json.loads(stored[0])
        self.assertFalse(report["passed"])
        found = {(d["column"], d["rule"]): d for d in report["direct_identifiers"]}
        self.assertEqual(found[("email", "email")]["count"], 400)
        self.assertEqual(found[("email", "email")]["rows"], [1, 2, 3, 4, 5])  # row numbers, never values
        self.assertEqual(found[("email", "email")]["fix"], "drop")

    def test_every_file_is_checked_by_its_format(self):
        """A slide whose label page and description name the patient, and a file of a format concours cannot read,
        are refused like a table with an e-mail column (issue 15)."""
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import fixtures  # noqa: E402
        bundle = harness.make_bundle(self.tmp, "slides-cli")
        fixtures.tiff(os.path.join(bundle, "data", "slide_000001.svs"), fixtures.APERIO_DESC,
                      pages=["Aperio Image Library v12.0.5\nlabel 387x463"])
        with open(os.path.join(bundle, "data", "weights.bin"), "wb") as f:
            f.write(b"\x00\x01binary")
        harness.add_data(bundle, ["slide_000001.svs", "weights.bin"])
        data = os.path.join(self.tmp, "slides-data")
        r = self.cli_import(bundle, data)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 2, err)
        self.assertIn("data/slide_000001.svs: anonymity: direct identifier in column \"page 2\" (rule tiff:label_image",
                      err)
        self.assertIn("data/weights.bin: anonymity: cannot be checked: data/weights.bin: a format concours cannot check",
                      err)
        self.assertNotIn("Dupont", err)
        r = self.cli_import(bundle, data, "--anonymity-override", "slides de-identified by the scanner vendor",
                            "--actor", "olga")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_files_that_single_people_out_once_joined_are_refused(self):
        """Each file passes k = 5 alone; joined on patient_id, postcode and admission date next to age and sex
        do not (issue 15, linkability)."""
        bundle = harness.make_bundle(self.tmp, "linked-cli", src=harness.source_path("challenges",
                                                                                       "sarcoma-survival-demo"))
        with open(os.path.join(bundle, "data", "train.csv"), encoding="utf-8", newline="") as f:
            ids = [row["patient_id"] for row in csv.DictReader(f)]
        with open(os.path.join(bundle, "data", "visits.csv"), "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["patient_id", "code_postal", "date_admission"])
            for i, pid in enumerate(ids):
                w.writerow([pid, ["75", "69", "13", "33"][i % 4], "2019-0%d-01" % (1 + i % 3)])
        path = os.path.join(bundle, "challenge.json")
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
        spec["data"].append("data/visits.csv")
        spec["anonymity"] = {"quasi_identifiers": ["age", "sex", "code_postal", "date_admission"], "k": 5}
        with open(path, "w", encoding="utf-8") as f:
            json.dump(spec, f, indent=2)
        r = self.cli_import(bundle, os.path.join(self.tmp, "linked-data"))
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 2, err)
        self.assertIn('data/train.csv + data/visits.csv: anonymity: joined on "patient_id", k-anonymity', err)
        self.assertNotIn("data/visits.csv: anonymity: k-anonymity", err)  # alone, each file passes

    def test_http_refuses_then_override_is_audited(self):
        olga = self.login_as("olga")
        body = zip_folder(planted_bundle(self.tmp, "planted-http"))
        headers = {"Content-Type": "application/zip"}
        r = olga.request("POST", "/api/v1/challenges", body=body, headers=headers)
        self.assertError(r, 400, "invalid_bundle")
        problems = r.json()["error"]["problems"]
        self.assertIn('data/train_metadata.csv: anonymity: direct identifier in column "email" (rule email, 400 values)',
                      problems)
        self.assertNotIn(PLANTED_DOMAIN.encode(), r.body)
        self.assertEqual(olga.get("/api/v1/challenges/planted-http").status, 404)
        r = olga.request("POST", "/api/v1/challenges?anonymity_override=", body=body, headers=headers)
        self.assertError(r, 400, "bad_request")
        reason = "synthetic data, reviewed"
        r = olga.request("POST", "/api/v1/challenges?anonymity_override=" + harness.urlquote(reason), body=body,
                         headers=headers)
        self.assertEqual(r.status, 201, r)
        audit = olga.get("/api/v1/audit?challenge=planted-http").json()
        overrides = [e for e in audit if e["action"] == "anonymity.override"]
        self.assertEqual(len(overrides), 1, audit)
        self.assertEqual((overrides[0]["actor"], overrides[0]["reason"]), ("olga", reason))
        self.assertEqual(overrides[0]["details"]["files"][0]["file"], "data/train_metadata.csv")
        # a participant sees that this file failed, without column names
        pat = self.participant("pia", slug="planted-http")
        files = {f["name"]: f for f in pat.get("/api/v1/challenges/planted-http/files").json()}
        self.assertEqual(set(files["train_metadata.csv"]["anonymity"]), PUBLIC_KEYS)
        self.assertFalse(files["train_metadata.csv"]["anonymity"]["passed"])
        self.assertEqual(files["train_metadata.csv"]["anonymity"]["direct_identifiers_found"], 2)
        self.assertTrue(files["test_metadata.csv"]["anonymity"]["passed"])

    def test_reports_for_participants_and_staff(self):
        pat = self.participant("paul")
        r = pat.get("/api/v1/challenges/%s/files" % harness.DEMO_SLUG)
        self.assertEqual(r.status, 200, r)
        for f in r.json():
            self.assertEqual(set(f["anonymity"]), PUBLIC_KEYS, f)
            self.assertTrue(f["anonymity"]["passed"], f)
            self.assertEqual(f["anonymity"]["k"], 5, f)
            self.assertGreaterEqual(f["anonymity"]["k_anonymity"], 5, f)
            self.assertEqual(f["anonymity"]["direct_identifiers_found"], 0, f)
        for column in (b'"age"', b'"sex"', b"quasi", b"filename"):
            self.assertNotIn(column, r.body)
        self.assertEqual(pat.get("/api/v1/challenges/%s/anonymity" % harness.DEMO_SLUG).status, 403)
        for who in ("olga", "juno"):
            r = self.login_as(who).get("/api/v1/challenges/%s/anonymity" % harness.DEMO_SLUG)
            self.assertEqual(r.status, 200, r)
            reports = {f["name"]: f["report"] for f in r.json()}
            self.assertEqual(set(reports), {"train_metadata.csv", "test_metadata.csv", "sample_submission.csv"})
            train = reports["train_metadata.csv"]
            self.assertEqual(train["quasi_identifiers"], ["age", "sex"])
            self.assertEqual(train["quasi_identifiers_source"], "declared")
            self.assertTrue(train["passed"])
            self.assertEqual(train["rows"], 400)

    def test_downloads_export(self):
        pat = self.participant("dora")
        self.assertEqual(pat.get("/api/v1/challenges/%s/files/test_metadata.csv" % harness.DEMO_SLUG).status, 200)
        self.assertEqual(pat.get("/api/v1/challenges/%s/downloads" % harness.DEMO_SLUG).status, 403)
        olga = self.login_as("olga")
        r = olga.get("/api/v1/challenges/%s/downloads?format=json" % harness.DEMO_SLUG)
        self.assertEqual(r.status, 200, r)
        mine = [d for d in r.json() if d["user"] == "dora"]
        self.assertEqual(len(mine), 1, r.json())
        self.assertEqual((mine[0]["file"], mine[0]["terms_version"]), ("test_metadata.csv", 1))
        self.assertRegex(mine[0]["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        r = self.login_as("juno").get("/api/v1/challenges/%s/downloads?format=csv" % harness.DEMO_SLUG)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/csv"), r)
        self.assertIn("visiomel-demo-downloads.csv", r.header("Content-Disposition"))
        rows = list(csv.DictReader(io.StringIO(r.body.decode())))
        self.assertEqual(list(rows[0]), ["id", "at", "user", "file", "terms_version"])
        dora = [row for row in rows if row["user"] == "dora"]
        self.assertEqual([(d["file"], d["terms_version"]) for d in dora], [("test_metadata.csv", "1")])
        self.assertEqual(olga.get("/api/v1/challenges/%s/downloads?format=xml" % harness.DEMO_SLUG).status, 400)
        self.assertEqual(olga.get("/api/v1/challenges/nope/downloads").status, 404)


if __name__ == "__main__":
    harness.main()
