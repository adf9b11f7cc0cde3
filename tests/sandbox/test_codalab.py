"""`concours challenge import` of a CodaLab v1.5 competition bundle (competition.yaml with YAML anchors, HTML
pages, two phases with scoring_program and reference_data zips, two leaderboard columns): it imports, says what
it ignored, and a submission is then scored by the bundle's program in the sandbox, through the server. A bundle
that cannot be mapped (reference data with two CSV files) is refused with the field named, exit 2; a .zip of the
competition imports too.

usage: python3 test_codalab.py --concours BUILD/concours --source REPO [unittest args]
"""
import email
import email.policy
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import warnings
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
import harness  # noqa: E402

COMPETITION = """\
title: Predict Widget Failures
description: A CodaLab competition converted by concours.
image: logo.png
has_registration: True
end_date: 2030-12-31
html:
  overview: overview.html
  evaluation: evaluation.html
  terms: terms_and_conditions.html
  data: data.html
phases:
  1:
    phasenumber: 1
    label: "Development"
    start_date: 2026-01-01
    max_submissions: 100
    max_submissions_per_day: 5
    scoring_program: scoring_program.zip
    reference_data: final_reference.zip
    public_data: public_data.zip
    starting_kit: starting_kit.zip
    color: green
  2:
    phasenumber: 2
    label: "Final"
    start_date: 2030-06-01 9:00:00+09:00
    max_submissions: 3
    scoring_program: scoring_program.zip
    reference_data: final_reference.zip
leaderboard:
  leaderboards:
    RESULTS: &RESULTS
      label: Results
      rank: 1
  columns:
    avg:
      leaderboard: *RESULTS
      label: Average rank
      rank: 0
      computed:
        operation: Avg
        fields: accuracy, errors
    accuracy:
      leaderboard: *RESULTS
      label: Accuracy
      rank: 1
      numeric_format: 3
      sort: desc
    errors:
      leaderboard: *RESULTS
      label: Errors
      rank: 2
      sort: asc
"""

EVALUATE = """\
import os, sys
inp, out = sys.argv[1], sys.argv[2]
res_file = [n for n in os.listdir(os.path.join(inp, "res")) if n.endswith(".csv")][0]
if "maybe" in open(os.path.join(inp, "res", res_file)).read():  # the CodaLab way to say "bad labels"
    print("labels must be 0 or 1", file=sys.stderr)
    open(os.path.join(out, "scores.txt"), "w").write("accuracy: -1\\nerrors: -1\\n")
    sys.exit(0)
truth = open(os.path.join(inp, "ref", "truth.csv")).read().split()[1:]
pred_file = [n for n in os.listdir(os.path.join(inp, "res")) if n.endswith(".csv")][0]
pred = dict(l.split(",") for l in open(os.path.join(inp, "res", pred_file)).read().split()[1:])
ok = sum(1 for l in truth if pred.get(l.split(",")[0]) == l.split(",")[1])
with open(os.path.join(out, "scores.txt"), "w") as f:
    f.write("accuracy:%f\\nerrors: %d\\n" % (ok / len(truth), len(truth) - ok))
"""


def zip_of(files):
    """A zip of FILES, a dict or a list of (name, data) pairs (a name may come twice, as Python's zipfile allows)."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": wanted here
        with zipfile.ZipFile(buf, "w") as z:
            for name, data in (files.items() if isinstance(files, dict) else files):
                z.writestr(name, data)
    return buf.getvalue()


def edit_yaml(src, old, new):
    """Replaces OLD (which must be there) by NEW in the competition.yaml of the bundle folder SRC."""
    path = os.path.join(src, "competition.yaml")
    with open(path) as f:
        text = f.read()
    if old not in text:
        raise AssertionError("%r is not in %s" % (old, path))
    with open(path, "w") as f:
        f.write(text.replace(old, new))


def make_competition(parent, final_files=None, command="python $program/evaluate.py $input $output", program=EVALUATE):
    d = os.path.join(parent, "widget-competition")
    os.makedirs(d)
    files = {
        "competition.yaml": COMPETITION,
        "overview.html": "<h1>Widgets</h1><p>Predict which widgets fail &amp; why.</p>",
        "evaluation.html": "<p>Accuracy over the test widgets.</p>",
        "terms_and_conditions.html": "<p>Be fair.</p>",
        "data.html": "<p>Data page.</p>",
    }
    for name, text in files.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    truth = "id,label,Usage\n" + "".join("w%02d,%d,%s\n" % (i, i % 2, "Public" if i < 10 else "Private")
                                          for i in range(20))
    archives = {
        # zipped with its folder, and evaluate.py twice (the later one wins): as CodaLab bundles come (issue 13)
        "scoring_program.zip": zip_of([("program/metadata", "command: %s\n" % command),
                                       ("program/evaluate.py", "raise SystemExit('the first copy')\n"),
                                       ("program/evaluate.py", program)]),
        "dev_reference.zip": zip_of({"truth.csv": truth}),
        "public_data.zip": zip_of({"train.csv": "id,label\n" + "".join("t%02d,%d\n" % (i, i % 2) for i in range(20))}),
        "starting_kit.zip": zip_of({"README.txt": "Train on train.csv, predict the test widgets.\n",
                                    "baseline.py": "print('id,label')\n"}),
        "final_reference.zip": zip_of(final_files or {"truth.csv": truth}),
    }
    for name, data in archives.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    return d


def start_as(tc, server, name, role="participant"):
    """Adds the user NAME with ROLE, starts SERVER and logs them in: their client."""
    server.add_user(name, role)
    server.start()
    c = server.client()
    tc.assertEqual(c.login(name).status, 200)
    return c


class CodaLab(unittest.TestCase):
    def import_edited(self, server, old, new):
        """Imports the test competition with OLD replaced by NEW in its competition.yaml; returns the process."""
        src = make_competition(server.tmp)
        edit_yaml(src, old, new)
        return subprocess.run([harness.ARGS.concours, "challenge", "import", src, "--data", server.data],
                              capture_output=True, text=True, timeout=60)

    def test_import_and_score(self):
        server = harness.Server(bundles=[], workers=1)
        try:
            src = make_competition(server.tmp)
            p = subprocess.run([harness.ARGS.concours, "challenge", "import", src, "--data", server.data],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            for word in ("ignored image", "ignored has_registration", "ignored html.data", "phases[0].color",
                         "leaderboard column errors shown beside accuracy (lower is better)",
                         "leaderboard column avg (Avg) ranks: the teams rank by their mean rank",
                         "moved the content of the lone folder program up",
                         "public_data.zip served as data/public_data.zip",
                         "starting_kit.zip served as data/starting_kit.zip",
                         "imported challenge predict-widget-failures"):
                self.assertIn(word, p.stdout)
            c = start_as(self, server, "wanda")
            detail = c.challenge("predict-widget-failures").json()
            self.assertEqual(len(detail["phases"]), 2, detail)
            # 9:00 at +09:00 is midnight UTC (issue 13: zones and one-digit hours were lost)
            self.assertEqual(detail["phases"][1]["start"], "2030-06-01T00:00:00Z", detail["phases"])
            # CodaLab's "computed: Avg" column ranks by the mean of the columns' ranks: concours' mean_rank
            self.assertEqual(detail["ranking"]["rule"], "mean_rank", detail)
            self.assertEqual([m["key"] for m in detail["metrics"]], ["accuracy", "errors"], detail["metrics"])
            self.assertIsNone(detail["competition"])  # one challenge: no competition to link
            self.assertEqual(c.accept_terms("predict-widget-failures").status, 204)
            files = c.get("/api/v1/challenges/predict-widget-failures/files").json()
            self.assertEqual(sorted(f["name"] for f in files), ["public_data.zip", "starting_kit.zip"], files)
            self.assertTrue(all(f["anonymity"]["passed"] for f in files), files)  # every member checked
            pred = "id,label\n" + "".join("w%02d,%d\n" % (i, 0 if i < 5 else i % 2) for i in range(20))
            sid = c.upload(pred.encode(), slug="predict-widget-failures").json()["id"]
            sub = c.wait_done(sid)
            self.assertEqual(sub["status"], "scored", sub)
            # public rows w00..w09: w00-w04 all predicted 0 (w01, w03 wrong), w05-w09 right: 8 of 10
            self.assertAlmostEqual(sub["public_score"], 0.8, places=3)
            board = c.leaderboard("predict-widget-failures").json()
            self.assertTrue(board["higher_is_better"])
            # the program's -1 sentinel is a failed submission, not a score of -1 (issue 13)
            bad = "id,label\n" + "".join("w%02d,maybe\n" % i for i in range(20))
            sid = c.upload(bad.encode(), slug="predict-widget-failures").json()["id"]
            sub = c.wait_done(sid)
            self.assertEqual(sub["status"], "failed", sub)
            self.assertIsNone(sub.get("public_score"), sub)
            # ... and the participant reads why, as on CodaLab (the public run's stderr: metric.show_errors)
            self.assertIn("labels must be 0 or 1", (sub["error"] or {}).get("message", ""), sub)
        finally:
            server.stop(check=False)

    def test_max_submissions_zero_closes_the_phase(self):
        """CodaLab's max_submissions: 0 means no submission, not "unlimited" (issue 13)."""
        server = harness.Server(bundles=[], workers=1)
        try:
            p = self.import_edited(server, "max_submissions: 100", "max_submissions: 0")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("phase Development accepts no submission (max_submissions: 0)", p.stdout)
            c = start_as(self, server, "wanda")
            phases = c.challenge("predict-widget-failures").json()["phases"]
            self.assertEqual([ph["closed"] for ph in phases], [True, False], phases)
            self.assertEqual(c.accept_terms("predict-widget-failures").status, 204)
            r = c.upload(b"id,label\nw00,0\n", slug="predict-widget-failures")
            self.assertEqual(r.status, 403, r.body)
            self.assertEqual(r.json()["error"]["code"], "phase_closed")
        finally:
            server.stop(check=False)

    def test_zipped_competition(self):
        """A .zip of the competition (competition.yaml at its top, as CodaLab exports it) imports the same way."""
        server = harness.Server(bundles=[], workers=1)
        try:
            src = make_competition(server.tmp)
            archive = os.path.join(server.tmp, "competition.zip")
            with zipfile.ZipFile(archive, "w") as z:
                for name in os.listdir(src):
                    z.write(os.path.join(src, name), name)
            p = subprocess.run([harness.ARGS.concours, "challenge", "import", archive, "--data", server.data],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("imported challenge predict-widget-failures", p.stdout)
        finally:
            server.stop(check=False)

    def convert(self, src, out, code=0):
        """Runs `concours challenge convert SRC OUT` and checks its exit code CODE; returns the process."""
        p = subprocess.run([harness.ARGS.concours, "challenge", "convert", src, out],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, code, p.stdout + p.stderr)
        return p

    def score_once(self, server, src, pred):
        """Imports SRC, uploads PRED as a participant, and returns the finished submission."""
        p = subprocess.run([harness.ARGS.concours, "challenge", "import", src, "--data", server.data],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        c = start_as(self, server, "wanda")
        self.assertEqual(c.accept_terms("predict-widget-failures").status, 204)
        sid = c.upload(pred.encode(), slug="predict-widget-failures").json()["id"]
        return p.stdout, c.wait_done(sid)

    def test_reference_of_any_files_runs_once_on_all_of_it(self):
        """A reference that is not one CSV (a folder of files: text, TSV...) is handed to the program as it is, once,
        as CodaLab did (issue 13: 12 real bundles were refused)."""
        server = harness.Server(bundles=[], workers=1)
        try:
            truth = "id,label\n" + "".join("w%02d,%d\n" % (i, i % 2) for i in range(20))
            program = EVALUATE.replace('open(os.path.join(inp, "ref", "truth.csv"))',
                                       'open(os.path.join(inp, "ref", "sub", "truth.csv"))')
            program += ("assert open(os.path.join(inp, 'ref', 'notes.txt')).read() == 'kept as it is'\n"
                        "assert sorted(os.listdir(os.path.join(inp, 'ref'))) == ['notes.txt', 'sub'], "
                        "os.listdir(os.path.join(inp, 'ref'))\n")
            src = make_competition(server.tmp, {"sub/truth.csv": truth, "notes.txt": "kept as it is"},
                                   program=program)
            pred = "id,label\n" + "".join("w%02d,%d\n" % (i, 0 if i < 5 else i % 2) for i in range(20))
            out, sub = self.score_once(server, src, pred)
            self.assertIn("the program runs once on the whole reference data", out)
            self.assertEqual(sub["status"], "scored", sub)
            self.assertAlmostEqual(sub["public_score"], 18 / 20, places=4)  # w01, w03 wrong among all 20 rows
        finally:
            server.stop(check=False)

    def test_program_reading_usage_itself_gets_the_full_reference(self):
        """PRMU's case (issue 13): the program splits by Usage itself; per split it saw only half the reference and
        gave a perfect submission 0.0 on the private part. Now it runs once on the whole file, as on CodaLab."""
        server = harness.Server(bundles=[], workers=1)
        try:
            program = EVALUATE.replace(
                'truth = open(os.path.join(inp, "ref", "truth.csv")).read().split()[1:]',
                'rows = open(os.path.join(inp, "ref", "truth.csv")).read().split()[1:]\n'
                'assert {r.split(",")[2] for r in rows} == {"Public", "Private"}, "the Usage column was cut"\n'
                'truth = [r for r in rows if r.split(",")[2] in ("Public", "Private")]')
            src = make_competition(server.tmp, program=program)
            perfect = "id,label\n" + "".join("w%02d,%d\n" % (i, i % 2) for i in range(20))
            out, sub = self.score_once(server, src, perfect)
            self.assertIn("the program runs once on the whole reference data", out)
            self.assertEqual(sub["status"], "scored", sub)
            self.assertAlmostEqual(sub["public_score"], 1.0, places=6)
        finally:
            server.stop(check=False)

    def test_full_run_with_a_private_key_keeps_the_private_score_hidden(self):
        """"runs": "full" over a split CSV: the program splits the rows itself and writes both scores; the public one
        is shown, the private one is kept for the jury (never in the participant's view)."""
        server = harness.Server(bundles=[], workers=1)
        try:
            out = os.path.join(server.tmp, "native")
            self.convert(make_competition(server.tmp), out)
            with open(os.path.join(out, "challenge.json")) as f:
                definition = json.load(f)
            definition["metric"].update({"runs": "full", "private_score_key": "accuracy_private"})
            with open(os.path.join(out, "challenge.json"), "w") as f:
                json.dump(definition, f)
            with open(os.path.join(out, "scoring_program", "evaluate.py"), "w") as f:
                f.write("import os, sys\n"
                        "inp, out = sys.argv[1], sys.argv[2]\n"
                        "rows = [l.split(',') for l in open(os.path.join(inp, 'ref', 'truth.csv')).read().split()[1:]]\n"
                        "res = os.path.join(inp, 'res', os.listdir(os.path.join(inp, 'res'))[0])\n"
                        "pred = dict(l.split(',') for l in open(res).read().split()[1:])\n"
                        "def acc(u):\n"
                        "    part = [r for r in rows if r[2] == u]\n"
                        "    return sum(pred.get(r[0]) == r[1] for r in part) / len(part)\n"
                        "open(os.path.join(out, 'scores.txt'), 'w').write(\n"
                        "    'accuracy: %f\\naccuracy_private: %f\\nerrors: 0\\n' % (acc('Public'), acc('Private')))\n")
            # public rows w00-w09 all right; private rows w10-w19 all wrong
            pred = "id,label\n" + "".join("w%02d,%d\n" % (i, i % 2 if i < 10 else 1 - i % 2) for i in range(20))
            _, sub = self.score_once(server, out, pred)
            self.assertEqual(sub["status"], "scored", sub)
            self.assertAlmostEqual(sub["public_score"], 1.0, places=6)
            self.assertIsNone(sub.get("private_score"), sub)  # hidden from the participant
            self.assertNotIn("0.000000", json.dumps(sub))
            db = sqlite3.connect(os.path.join(server.data, "concours.db"))
            stored = db.execute("SELECT public_score, private_score FROM submissions WHERE id = ?", (sub["id"],)).fetchone()
            db.close()
            self.assertEqual(stored, (1.0, 0.0))  # the private score is kept for the jury
        finally:
            server.stop(check=False)

    def test_convert_writes_a_bundle_to_review(self):
        """`concours challenge convert` writes the concours bundle folder and CONVERSION.md, checks it, and the
        folder then imports as it is; a folder that exists is never overwritten."""
        server = harness.Server(bundles=[], workers=1)
        try:
            src = make_competition(server.tmp)
            out = os.path.join(server.tmp, "converted")
            p = self.convert(src, out)
            self.assertIn("every decision is in %s/CONVERSION.md" % out, p.stdout)
            with open(os.path.join(out, "CONVERSION.md")) as f:
                report = f.read()
            self.assertIn("- leaderboard column accuracy is the score (higher is better, 3 decimals)", report)
            self.assertIn("- ignored image", report)
            with open(os.path.join(out, "challenge.json")) as f:
                definition = json.load(f)
            self.assertEqual(definition["metric"]["runs"], "per_split")
            self.assertEqual(definition["ground_truth"], "private/truth.csv")
            self.assertEqual(definition["leaderboard"]["precision"], 3)
            self.assertIn("exists", self.convert(src, out, 2).stderr)
            p = subprocess.run([harness.ARGS.concours, "challenge", "import", out, "--data", server.data],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertNotIn("codalab:", p.stdout)  # a concours bundle now
            bad = os.path.join(server.tmp, "python2")
            os.makedirs(bad)
            src2 = make_competition(bad, command="python2 $program/evaluate.py $input $output")
            p = self.convert(src2, os.path.join(bad, "out"), 2)
            self.assertIn("Python 2 programs are not supported", p.stderr)
            p = self.convert(out, os.path.join(bad, "again"), 2)
            self.assertIn("only a CodaLab or Codabench bundle", p.stderr)
            self.assertFalse(os.path.exists(os.path.join(bad, "again")))
        finally:
            server.stop(check=False)

    def test_an_earlier_phase_with_its_own_reference_is_a_challenge_of_its_own(self):
        """CodaLab scored the development phase on its own reference, with a leaderboard of its own: it becomes a
        challenge of its own (open now, scored on the development reference), beside the main one (the final phase,
        its own reference); both serve every phase's public files (issue 13)."""
        server = harness.Server(bundles=[], workers=1)
        try:
            src = make_competition(server.tmp)
            edit_yaml(src, "reference_data: final_reference.zip\n    public_data",
                      "reference_data: dev_reference.zip\n    public_data")
            truth = "id,label\n" + "".join("w%02d,%d\n" % (i, 1 - i % 2) for i in range(20))
            with open(os.path.join(src, "dev_reference.zip"), "wb") as f:
                f.write(zip_of({"truth.csv": truth}))  # the development labels are the final ones inverted
            p = subprocess.run([harness.ARGS.concours, "challenge", "import", src, "--data", server.data],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("challenge 2 of 2 made from this competition (scored apart on CodaLab (its own program, "
                          "reference or kind of submission), with a leaderboard of its own)", p.stdout)
            self.assertIn("predict-widget-failures: new", p.stdout)
            self.assertIn("predict-widget-failures-development: new", p.stdout)
            c = start_as(self, server, "dora")
            main = c.challenge("predict-widget-failures").json()
            dev = c.challenge("predict-widget-failures-development").json()
            self.assertEqual([ph["name"] for ph in main["phases"]], ["Final"])
            self.assertEqual([ph["name"] for ph in dev["phases"]], ["Development"])
            self.assertFalse(dev["phases"][0]["closed"])
            # it ends when the final phase begins, as on CodaLab
            self.assertEqual(dev["phases"][0]["end"], main["phases"][0]["start"])
            for ch in (main, dev):
                self.assertEqual(c.accept_terms(ch["slug"]).status, 204)
                files = c.get("/api/v1/challenges/%s/files" % ch["slug"]).json()
                self.assertEqual(sorted(f["name"] for f in files), ["public_data.zip", "starting_kit.zip"], files)
            pred = "id,label\n" + "".join("w%02d,%d\n" % (i, i % 2) for i in range(20))
            sub = c.wait_done(c.upload(pred.encode(), slug=dev["slug"]).json()["id"])
            self.assertEqual((sub["status"], sub["public_score"]), ("scored", 0.0), sub)
            self.assertEqual(len(c.leaderboard(dev["slug"]).json()["rows"]), 1)
            self.assertEqual(c.leaderboard("predict-widget-failures").json()["rows"], [])
        finally:
            server.stop(check=False)

    def test_hide_results_hides_scores_from_participants_until_publication(self):
        """CodaLab's leaderboard_management_mode: hide_results: the participant sees the status, never the score
        (nor in the "scored" mail), and no leaderboard; staff see both; the organizer can show them again (issue
        13)."""
        maildir = tempfile.mkdtemp(prefix="concours-hidden-mails-")
        server = harness.Server(bundles=[], workers=1, extra_args=["--mail-dir", maildir])
        try:
            p = self.import_edited(server, "    color: green\n",
                                   "    color: green\n    leaderboard_management_mode: hide_results\n")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("phases[0].results are hidden from participants until the jury publishes", p.stdout)
            server.add_user("olga", "organizer")
            server.start()
            c = server.client()
            self.assertEqual(c.register("wanda").status, 201)  # with an address: the "scored" mail goes to it
            self.assertEqual(c.login("wanda").status, 200)
            slug = "predict-widget-failures"
            self.assertEqual([ph["hide_results"] for ph in c.challenge(slug).json()["phases"]], [True, False])
            self.assertEqual(c.accept_terms(slug).status, 204)
            pred = "id,label\n" + "".join("w%02d,%d\n" % (i, 0 if i < 5 else i % 2) for i in range(20))
            sid = c.upload(pred.encode(), slug=slug).json()["id"]
            sub = c.wait_done(sid)
            self.assertEqual(sub["status"], "scored", sub)
            self.assertIsNone(sub["public_score"], sub)
            self.assertTrue(sub["results_hidden"], sub)
            self.assertNotIn("metrics", sub)
            mine = c.get("/api/v1/challenges/%s/submissions" % slug).json()
            self.assertEqual([(x["public_score"], x["results_hidden"]) for x in mine], [(None, True)], mine)
            board = c.leaderboard(slug).json()
            self.assertEqual((board["results_hidden"], board["rows"]), (True, []), board)
            deadline = time.time() + 60
            while not any(n.endswith(".eml") for n in os.listdir(maildir)) and time.time() < deadline:
                time.sleep(0.2)
            bodies = []
            for name in sorted(n for n in os.listdir(maildir) if n.endswith(".eml")):
                with open(os.path.join(maildir, name), "rb") as f:
                    bodies.append(email.message_from_bytes(f.read(), policy=email.policy.default).get_content())
            self.assertEqual(len(bodies), 1, bodies)
            self.assertIn("public score (hidden until the final ranking is published)", bodies[0])
            self.assertNotIn("0.8", bodies[0])
            org = server.client()
            self.assertEqual(org.login("olga").status, 200)
            self.assertAlmostEqual(org.submission(sid).json()["public_score"], 0.8, places=3)
            self.assertEqual(len(org.leaderboard(slug).json()["rows"]), 1)
            r = org.request("PATCH", "/api/v1/challenges/%s/phases/Development" % slug,
                            json_body={"hide_results": False, "reason": "show them"})
            self.assertEqual(r.status, 200, r)
            self.assertAlmostEqual(c.submission(sid).json()["public_score"], 0.8, places=3)
            self.assertEqual(len(c.leaderboard(slug).json()["rows"]), 1)
        finally:
            server.stop(check=False)
            shutil.rmtree(maildir, ignore_errors=True)

    def tracks_competition(self, server, widths=(2, 2)):
        """The test competition with groups of parallel phases (tracks) of WIDTHS, track A's references holding the
        true labels and track B's the inverted ones; returns its folder."""
        src = make_competition(server.tmp)
        with open(os.path.join(src, "competition.yaml")) as f:
            text = f.read()
        head, tail = text.split("phases:\n", 1)
        tail = tail[tail.index("leaderboard:"):]
        phases, n = [], 0
        for group, (label, start) in enumerate((("Development", "2026-01-01"), ("Final", "2030-06-01"),
                                                ("Extra", "2031-01-01"))[:len(widths)]):
            for k in range(widths[group]):
                n += 1
                phases.append("  %d:\n    phasenumber: %d\n    label: \"%s %s\"\n    start_date: %s\n"
                              "    scoring_program: scoring_program.zip\n    reference_data: ref_%s.zip\n"
                              % (n, n, label, "AB"[k] if k < 2 else "C", start, "ab"[k] if k < 2 else "a"))
        with open(os.path.join(src, "competition.yaml"), "w") as f:
            f.write(head + "phases:\n" + "".join(phases) + tail)
        for name, flip in (("ref_a.zip", 0), ("ref_b.zip", 1)):
            truth = "id,label\n" + "".join("w%02d,%d\n" % (i, (i + flip) % 2) for i in range(20))
            with open(os.path.join(src, name), "wb") as f:
                f.write(zip_of({"truth.csv": truth}))
        return src

    def test_parallel_phases_are_tracks_with_their_own_leaderboards(self):
        """Phases sharing a start date are CodaLab's tracks: each track imports as a challenge of its own, with its
        phases, its reference and its leaderboard (issue 13); all are checked before any is imported."""
        server = harness.Server(bundles=[], workers=1)
        try:
            src = self.tracks_competition(server)
            slugs = ["predict-widget-failures-development-a", "predict-widget-failures-development-b"]
            out = os.path.join(server.tmp, "converted")
            p = subprocess.run([harness.ARGS.concours, "challenge", "convert", src, out], capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("2 challenges (tracks, or phases scored apart)", p.stdout)
            self.assertEqual(sorted(os.listdir(out)), slugs)
            for t, slug in enumerate(slugs, 1):
                with open(os.path.join(out, slug, "challenge.json")) as f:
                    d = json.load(f)
                self.assertEqual((d["slug"], [ph["name"] for ph in d["phases"]]),
                                 (slug, ["Development " + "AB"[t - 1], "Final " + "AB"[t - 1]]))
                with open(os.path.join(out, slug, "CONVERSION.md")) as f:
                    self.assertIn("challenge %d of 2 made from this competition (a track" % t, f.read())
            p = subprocess.run([harness.ARGS.concours, "challenge", "import", src, "--data", server.data],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("2 challenges made from this competition (tracks, or phases scored apart)", p.stdout)
            for slug in slugs:
                self.assertIn("%s: new" % slug, p.stdout)
            c = start_as(self, server, "tess")
            pred = ("id,label\n" + "".join("w%02d,%d\n" % (i, i % 2) for i in range(20))).encode()
            scores = []
            for slug in slugs:
                ch = c.challenge(slug).json()
                self.assertEqual([ph["name"] for ph in ch["phases"]], ["Development " + slug[-1].upper(),
                                                                        "Final " + slug[-1].upper()])
                self.assertEqual(ch["phases"][0]["end"], ch["phases"][1]["start"], ch["phases"])
                # each page links the competition's challenges, the main one first
                self.assertEqual(ch["competition"], {"title": "Predict Widget Failures", "challenges": [
                    {"slug": slugs[0], "title": "Predict Widget Failures \u2014 Development A"},
                    {"slug": slugs[1], "title": "Predict Widget Failures \u2014 Development B"}]})
                self.assertEqual(c.accept_terms(slug).status, 204)
                sub = c.wait_done(c.upload(pred, slug=slug).json()["id"])
                self.assertEqual(sub["status"], "scored", sub)
                board = c.leaderboard(slug).json()["rows"]
                self.assertEqual(len(board), 1, board)
                scores.append((sub["public_score"], board[0]["score"]))
            # each track scored against its own reference, on its own leaderboard
            self.assertEqual(scores, [(1.0, 1.0), (0.0, 0.0)])
            # over HTTP the same bundle lists its tracks, both unchanged
            org = server.client()
            server.add_user("olga", "organizer")
            self.assertEqual(org.login("olga").status, 200)
            archive = harness.zip_folder(src)
            r = org.request("POST", "/api/v1/challenges", body=archive)
            self.assertEqual(r.status, 200, r)
            self.assertEqual([(t["slug"], t["state"]) for t in r.json()["challenges"]],
                             [(slug, "unchanged") for slug in slugs])
            self.assertEqual(r.json()["slug"], slugs[0])
            # one phase alone is still asked with ?phase=N (--phase N): here it is track B without its final phase
            r = org.request("POST", "/api/v1/challenges?phase=2", body=archive)
            self.assertEqual((r.status, r.error_code()), (409, "bundle_changed"), r)
            self.assertEqual(r.json()["error"]["changes"],
                             ['challenge.json: "phases" changed', 'challenge.json: "competition" removed'])
            r = org.request("POST", "/api/v1/challenges?phase=zero", body=archive)
            self.assertEqual((r.status, r.error_code()), (400, "bad_request"), r)
        finally:
            server.stop(check=False)

    def test_tracks_that_do_not_line_up_are_refused_naming_the_phases(self):
        """Two tracks, then three phases starting together: no track is imported, and the refusal names the phases;
        a phase alone before tracks is shared by the tracks it is scored like."""
        server = harness.Server(bundles=[], workers=1)
        try:
            src = self.tracks_competition(server, (2, 3))
            p = subprocess.run([harness.ARGS.concours, "challenge", "import", src, "--data", server.data],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
            self.assertIn("phases 3 to 5 start together (3 tracks) but phases 1 to 2 are 2 in parallel", p.stderr)
            shutil.rmtree(src)
            # names: a label without letters or digits gives part-N; two tracks of one name are refused
            src = self.tracks_competition(server, (2,))
            edit_yaml(src, '"Development A"', '"!!!"')
            edit_yaml(src, '"Development B"', '"???"')
            out = os.path.join(server.tmp, "punctuation")
            p = subprocess.run([harness.ARGS.concours, "challenge", "convert", src, out], capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(sorted(os.listdir(out)),
                             ["predict-widget-failures-part-1", "predict-widget-failures-part-2"])
            edit_yaml(src, '"???"', '"Same"')
            edit_yaml(src, '"!!!"', '"Same"')
            p = subprocess.run([harness.ARGS.concours, "challenge", "convert", src, out + "2"], capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
            self.assertIn("challenges 1 and 2 made from this competition would both be predict-widget-failures-same",
                          p.stderr)
            self.assertFalse(os.path.exists(out + "2"))
            shutil.rmtree(src)
            src = self.tracks_competition(server, (17,))  # bounded: at most 16 challenges from one bundle
            p = subprocess.run([harness.ARGS.concours, "challenge", "import", src, "--data", server.data],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
            self.assertIn("the competition makes 17 challenges (tracks and phases scored apart): at most 16", p.stderr)
            shutil.rmtree(src)
            src = self.tracks_competition(server, (1, 2))
            out = os.path.join(server.tmp, "shared")
            p = subprocess.run([harness.ARGS.concours, "challenge", "convert", src, out], capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            names = []
            for slug in ("predict-widget-failures-final-a", "predict-widget-failures-final-b"):
                with open(os.path.join(out, slug, "challenge.json")) as f:
                    names.append([ph["name"] for ph in json.load(f)["phases"]])
            # Development A is scored with track A's reference: it stays in track A only
            self.assertEqual(names, [["Development A", "Final A"], ["Final B"]])
            self.assertEqual(len(os.listdir(out)), 2)
            # a track that fails its check leaves nothing imported: track B's reference is damaged
            with open(os.path.join(src, "ref_b.zip"), "wb") as f:
                f.write(b"not a zip")
            p = subprocess.run([harness.ARGS.concours, "challenge", "import", src, "--data", server.data],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
            self.assertIn("challenge 2 of the 2 this competition makes has the problems above: none was imported",
                          p.stderr)
            db = sqlite3.connect(os.path.join(server.data, "concours.db"))
            self.assertEqual(db.execute("SELECT count(*) FROM challenges").fetchone()[0], 0)
            db.close()
        finally:
            server.stop(check=False)

    def test_odd_leaderboards_never_crash(self):
        """Leaderboard columns of odd shapes (a string, a list, computed fields that are not names, only a computed
        column, twenty columns, a hidden first column) end in a conversion or a refusal, never a crash."""
        server = harness.Server(bundles=[], workers=1)
        variants = [
            ("    a: hello\n", 0),
            ("    - 1\n    - 2\n", 2),
            ("    a:\n      rank: 1\n      computed:\n        operation: Avg\n        fields: [1, [2], {x: 1}]\n"
             "        weights: 'abc, -1'\n    b:\n      rank: 2\n", 0),
            ("    a:\n      rank: 1\n      computed:\n        operation: Avg\n        fields: a\n", 2),
            ("".join("    c%d:\n      rank: %d\n" % (i, i) for i in range(20)), 0),
            ("    a:\n      rank: 1\n      hidden: 'true'\n    b:\n      rank: 2\n", 0),
        ]
        try:
            for i, (columns, code) in enumerate(variants):
                with self.subTest(columns=columns):
                    d = os.path.join(server.tmp, "odd%d" % i)
                    os.makedirs(d)
                    with open(os.path.join(d, "competition.yaml"), "w") as f:
                        f.write("title: Odd board\nphases:\n  1:\n    phasenumber: 1\n    start_date: 2026-01-01\n"
                                "    scoring_program: p.zip\n    reference_data: r.zip\nleaderboard:\n  columns:\n"
                                + columns)
                    with open(os.path.join(d, "p.zip"), "wb") as f:
                        f.write(zip_of({"metadata": "command: python3 $program/s.py\n", "s.py": "print(1)\n"}))
                    with open(os.path.join(d, "r.zip"), "wb") as f:
                        f.write(zip_of({"truth.csv": "id,y\n1,0\n"}))
                    self.convert(d, d + "-out", code)
        finally:
            server.stop(check=False)

    def test_python2_program_is_refused_with_the_reason(self):
        server = harness.Server(bundles=[], workers=1)
        try:
            src = make_competition(server.tmp, command="python2 $program/evaluate.py $input $output")
            p = subprocess.run([harness.ARGS.concours, "challenge", "import", src, "--data", server.data],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
            self.assertIn("Python 2 programs are not supported", p.stderr)
        finally:
            server.stop(check=False)


if __name__ == "__main__":
    harness.main()
