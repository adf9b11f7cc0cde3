"""CodaLab code submissions (issue 13, item 6): a CodaLab v1.5 phase with `is_scoring_only: False`, an
`ingestion_program` and `input_data`, and a Codabench task with both, import as code challenges. The participant
uploads code; the organizer's ingestion program runs it in the sandbox on the hidden input data (the code at
$submission_program, read-only), and the whole of its $output folder, nested files included, is handed to the
scoring program as $input/res, as on CodaLab. The conversion report says so; participants see a safe message, not
the ingestion log, of runs on hidden data; code that writes nothing fails with `no_output`; a code file cannot
change the ingestion program; a remote worker runs the ingestion program too. As on CodaLab, an upload with a
`metadata` file is code, one without is a result submission, scored as it is.

usage: python3 test_codalab_code.py --concours BUILD/concours --source REPO [unittest args]
"""
import io
import json
import os
import subprocess
import sys
import unittest
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
import harness  # noqa: E402
from test_codalab import edit_yaml, zip_of  # noqa: E402

SLUG = "sort-numbers-with-code"

COMPETITION = """\
title: Sort numbers with code
description: A CodaLab competition with code submissions.
end_date:
phases:
  1:
    phasenumber: 1
    label: "Results"
    start_date: 2026-01-01
    max_submissions_per_day: 5
    scoring_program: scoring_program.zip
    reference_data: reference_data.zip
  2:
    phasenumber: 2
    label: "Code"
    start_date: 2026-02-01
    max_submissions_per_day: 10
    is_scoring_only: False
    execution_time_limit: 300
    ingestion_program: ingestion_program.zip
    input_data: input_data.zip
    scoring_program: scoring_program.zip
    reference_data: reference_data.zip
leaderboard:
  leaderboards:
    RESULTS: &RESULTS
      label: Results
      rank: 1
  columns:
    accuracy:
      leaderboard: *RESULTS
      label: Accuracy
      rank: 1
      sort: desc
"""

# CodaLab's ingestion contract: input, output, the ingestion program's folder, the participant's code folder
INGESTION = """\
import os, sys
input_dir, output_dir, program_dir, submission_dir = sys.argv[1:5]
sys.path.insert(0, submission_dir)
import model  # the participant's code
from helpers import read_rows  # a module of the ingestion program itself
rows = read_rows(os.path.join(input_dir, "test.csv"))
with open(os.path.join(output_dir, "numbers.predict"), "w") as f:
    for ident, x in rows:
        f.write("%s,%s\\n" % (ident, model.predict(float(x))))
os.makedirs(os.path.join(output_dir, "details"))
with open(os.path.join(output_dir, "details", "count.txt"), "w") as f:
    f.write(str(len(rows)))
print("ingestion: predicted", len(rows), "rows; first input", rows[0][1])
"""

HELPERS = """\
def read_rows(path):
    return [line.split(",") for line in open(path).read().split()[1:]]
"""

SCORE = """\
import os, sys
inp, out = sys.argv[1], sys.argv[2]
truth = dict(l.split(",") for l in open(os.path.join(inp, "ref", "truth.csv")).read().split()[1:])
pred = dict(l.split(",") for l in open(os.path.join(inp, "res", "numbers.predict")).read().split())
count = int(open(os.path.join(inp, "res", "details", "count.txt")).read())
assert count == len(truth), (count, len(truth))
ok = sum(1 for k, v in truth.items() if pred.get(k) == v)
open(os.path.join(out, "scores.txt"), "w").write("accuracy: %f\\n" % (ok / len(truth)))
"""


def make_competition(parent):
    d = os.path.join(parent, "code-competition")
    os.makedirs(d)
    with open(os.path.join(d, "competition.yaml"), "w") as f:
        f.write(COMPETITION)
    inputs = "id,x\n" + "".join("n%02d,%d\n" % (i, i) for i in range(10))
    truth = "id,label\n" + "".join("n%02d,%d\n" % (i, 1 if i > 5 else 0) for i in range(10))
    archives = {
        "ingestion_program.zip": zip_of({
            "metadata": "command: python $ingestion_program/ingestion.py $input $output $ingestion_program "
                        "$submission_program\n",
            "ingestion.py": INGESTION, "helpers.py": HELPERS}),
        "input_data.zip": zip_of({"test.csv": inputs}),
        "scoring_program.zip": zip_of({"metadata": "command: python $program/score.py $input $output\n",
                                       "score.py": SCORE}),
        "reference_data.zip": zip_of({"truth.csv": truth}),
    }
    for name, data in archives.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    return d


def code(model):
    """A participant's code archive: model.py with MODEL, and the metadata file that makes it code on CodaLab."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("metadata", "description: a model run by the ingestion program\n")
        z.writestr("model.py", model)
    return buf.getvalue()


def imported(tc, server, src):
    """Imports the competition SRC into SERVER's data folder (asserting it imports); its output."""
    p = subprocess.run([harness.ARGS.concours, "challenge", "import", src, "--data", server.data],
                       capture_output=True, text=True, timeout=120)
    tc.assertEqual(p.returncode, 0, p.stdout + p.stderr)
    return p.stdout


def participant(tc, server):
    """A participant of SERVER (started here) who accepted the terms: the client."""
    server.add_user("cody", "participant")
    server.start()
    c = server.client()
    tc.assertEqual(c.login("cody").status, 200)
    tc.assertEqual(c.accept_terms(SLUG).status, 204)
    return c


def send(tc, c, body):
    """Client C uploads BODY (a zip) to the challenge; the submission once it is done."""
    r = c.request("POST", "/api/v1/challenges/%s/submissions" % SLUG, body=body)
    tc.assertEqual(r.status, 201, r)
    return c.wait_done(r.json()["id"], timeout=180)


class CodaLabCode(unittest.TestCase):
    def test_ingestion_runs_the_code_and_the_program_scores_its_output(self):
        server = harness.Server(bundles=[], workers=1)
        try:
            out = imported(self, server, make_competition(server.tmp))
            # the phase that took results is a challenge of its own (it took another kind of submission)
            for word in ("phases[1].ingestion_program: code submissions, as on CodaLab",
                         "challenge 2 of 2 made from this competition (scored apart on CodaLab (its own program, "
                         "reference or kind of submission)",
                         "  %s: new\n  %s-results: new" % (SLUG, SLUG)):
                self.assertIn(word, out)
            c = participant(self, server)
            detail = c.challenge(SLUG).json()
            self.assertEqual(detail["submission"]["kind"], "code", detail)
            self.assertTrue(detail["submission"]["ingestion"], detail)  # the page says how to send code or results
            self.assertEqual(c.challenge(SLUG + "-results").json()["submission"]["kind"], "predictions")
            # the metric as participants read it: the program's score key, not an empty name
            self.assertEqual(detail["metric"], {"name": "accuracy", "higher_is_better": True, "program": True})
            self.assertEqual(c.leaderboard(SLUG).json()["metric"], "accuracy")

            perfect = send(self, c, code("def predict(x):\n    return 1 if x > 5 else 0\n"))
            self.assertEqual(perfect["status"], "scored", perfect)
            self.assertAlmostEqual(perfect["public_score"], 1.0, places=6)
            rough = send(self, c, code("def predict(x):\n    return 1 if x > 2 else 0\n"))  # wrong for 3, 4, 5
            self.assertEqual(rough["status"], "scored", rough)
            self.assertAlmostEqual(rough["public_score"], 0.7, places=6)
            # CodaLab's rule: an upload without metadata is a result submission, scored as it is (no code runs)
            results = zip_of({"numbers.predict": "".join("n%02d,%d\n" % (i, 1 if i > 3 else 0) for i in range(10)),
                              "details/count.txt": "10"})
            res = send(self, c, results)
            self.assertEqual(res["status"], "scored", res)
            self.assertAlmostEqual(res["public_score"], 0.8, places=6)  # wrong for 4 and 5
            self.assertNotIn("kind", res)  # a result file, not a code run
            # the code cannot change the ingestion program it is loaded by: /ingestion is read-only
            hostile = send(self, c, code("import os\n"
                          "try:\n    open('/ingestion/helpers.py', 'w').write('x')\nexcept OSError:\n    pass\n"
                          "def predict(x):\n    return 0\n"))
            self.assertEqual(hostile["status"], "scored", hostile)
            self.assertAlmostEqual(hostile["public_score"], 0.6, places=6)
            # a crash is a failure with a safe message: no ingestion log, which could print hidden inputs
            crash = send(self, c, code("raise RuntimeError('no model')\n"))
            self.assertEqual(crash["status"], "failed", crash)
            self.assertEqual(crash["error"]["code"], "code_failed", crash)
            log = c.get("/api/v1/submissions/%d/log" % crash["id"])
            self.assertEqual((log.status, log.error_code()), (403, "log_hidden"), log)
            # the organizers read the ingestion log
            org = server.client()
            server.add_user("olga", "organizer")
            self.assertEqual(org.login("olga").status, 200)
            olog = org.get("/api/v1/submissions/%d/log" % perfect["id"]).json()
            self.assertIn("ingestion: predicted 10 rows", olog["log"], olog)
        finally:
            server.stop(check=False)

    def test_a_remote_worker_runs_the_ingestion_program(self):
        """With --local-runs 0 a `concours worker` claims the run: it fetches the ingestion program's files (signed
        URLs, SHA-256 checked) beside the code and the inputs, runs it the same way, and sends the output folder's
        tar, which the server scores."""
        server = harness.Server(bundles=[], workers=1, extra_args=["--local-runs", "0", "--lease-seconds", "6"])
        worker = None
        try:
            imported(self, server, make_competition(server.tmp))
            t = subprocess.run([harness.ARGS.concours, "worker-token", "add", "site", "--data", server.data],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(t.returncode, 0, t.stderr)
            token = os.path.join(server.tmp, "site.token")
            with open(token, "w") as f:
                f.write(t.stdout)
            c = participant(self, server)
            log = open(os.path.join(server.tmp, "worker.log"), "w")
            worker = subprocess.Popen([harness.ARGS.concours, "worker", "--server", "http://127.0.0.1:%d" % server.port,
                                       "--token-file", token, "--node", "n1", "--work",
                                       os.path.join(server.tmp, "work"), "--idle-exit", "60"],
                                      stdout=log, stderr=subprocess.STDOUT)
            log.close()  # the worker holds its own copy
            sub = send(self, c, code("def predict(x):\n    return 1 if x > 4 else 0\n"))  # wrong for 5
            with open(os.path.join(server.tmp, "worker.log")) as f:
                wlog = f.read()
            self.assertEqual(sub["status"], "scored", (sub, wlog))
            self.assertAlmostEqual(sub["public_score"], 0.9, places=6)
            self.assertIn("output sent", wlog)
        finally:
            if worker is not None:
                worker.kill()
                worker.wait()
            server.stop(check=False)

    def test_public_input_data_shows_participants_their_log(self):
        """When the input data is also a phase's public_data (Iris does this), the ingestion log can only show
        what participants may download anyway (a run never sees the reference): they read it, as on CodaLab."""
        server = harness.Server(bundles=[], workers=1)
        try:
            src = make_competition(server.tmp)
            edit_yaml(src, "    input_data: input_data.zip\n",
                      "    input_data: input_data.zip\n    public_data: input_data.zip\n")
            out = imported(self, server, src)
            self.assertIn("input_data is also served as public data, so participants read the ingestion log", out)
            c = participant(self, server)
            crash = send(self, c, code("raise RuntimeError('no model')\n"))
            self.assertEqual(crash["status"], "failed", crash)
            log = c.get("/api/v1/submissions/%d/log" % crash["id"])
            self.assertEqual(log.status, 200, log)
            self.assertIn("RuntimeError: no model", log.json()["log"])
        finally:
            server.stop(check=False)

    def test_output_folder_packs_regular_files_only(self):
        """What a run leaves in /output is packed as regular files and folders only: a symlink to a file outside
        (/etc/passwd), a FIFO and folders nested past the packer's depth are left out, never followed; the scoring
        program finds the rest, nested, in $input/res."""
        server = harness.Server(bundles=[], workers=1)
        try:
            src = make_competition(server.tmp)
            hostile = INGESTION + (
                "os.symlink('/etc/passwd', os.path.join(output_dir, 'passwd'))\n"
                "os.mkfifo(os.path.join(output_dir, 'fifo'))\n"
                "deep = os.path.join(output_dir, *['d%d' % i for i in range(20)])\n"
                "os.makedirs(deep)\n"
                "open(os.path.join(deep, 'too-deep.txt'), 'w').write('x')\n")
            with open(os.path.join(src, "ingestion_program.zip"), "wb") as f:
                f.write(zip_of({"metadata": "command: python3 $program/ingestion.py $input $output $program "
                                            "$submission_program\n",
                                "ingestion.py": hostile, "helpers.py": HELPERS}))
            check = SCORE.replace('ok = sum(', 'found = sorted(os.path.relpath(os.path.join(d, n), os.path.join(inp, '
                                               '"res")) for d, _, ns in os.walk(os.path.join(inp, "res")) '
                                               'for n in ns)\n'
                                               'assert found == ["details/count.txt", "numbers.predict"], found\n'
                                               'ok = sum(')
            with open(os.path.join(src, "scoring_program.zip"), "wb") as f:
                f.write(zip_of({"metadata": "command: python $program/score.py $input $output\n", "score.py": check}))
            imported(self, server, src)
            c = participant(self, server)
            sub = send(self, c, code("def predict(x):\n    return 1 if x > 5 else 0\n"))
            self.assertEqual(sub["status"], "scored", sub)  # the program's assertion held
            self.assertAlmostEqual(sub["public_score"], 1.0, places=6)
        finally:
            server.stop(check=False)

    def test_hostile_uploads_are_sorted_safely(self):
        """Sorting code from result files reads archive headers only: a damaged zip is taken as code and refused as
        an archive (never a crash); a metadata file two folders down does not make code; a name climbing out with
        ".." does not either, and the unpacking rules refuse it."""
        server = harness.Server(bundles=[], workers=1)
        try:
            imported(self, server, make_competition(server.tmp))
            c = participant(self, server)
            damaged = code("def predict(x):\n    return 0\n")[:40] + b"\0" * 64
            sub = send(self, c, damaged)
            self.assertEqual((sub["status"], sub["error"]["code"]), ("failed", "invalid_archive"), sub)
            deep = send(self, c, zip_of({"a/b/metadata": "x", "a/numbers.predict": "n00,0\n"}))
            self.assertNotIn("kind", deep)  # result files: the program then finds no numbers.predict at the top
            self.assertEqual(deep["status"], "failed", deep)
            # no metadata at its top: result files, whose ".." entry the scoring side's unpacking refuses
            climbing = send(self, c, zip_of({"../metadata": "x", "model.py": "def predict(x):\n    return 0\n"}))
            self.assertEqual((climbing["status"], climbing["error"]["code"]), ("failed", "invalid_submission"),
                             climbing)
            self.assertIn('".." segment', climbing["error"]["message"])
        finally:
            server.stop(check=False)

    def test_nothing_written_is_no_output(self):
        server = harness.Server(bundles=[], workers=1)
        try:
            src = make_competition(server.tmp)
            with open(os.path.join(src, "ingestion_program.zip"), "wb") as f:  # writes nothing in $output
                f.write(zip_of({"metadata": "command: python3 $program/noop.py $input $output\n",
                                "noop.py": "import sys\nprint('nothing', sys.argv[1:])\n"}))
            imported(self, server, src)
            c = participant(self, server)
            sub = send(self, c, code("x = 1\n"))
            self.assertEqual(sub["status"], "failed", sub)
            self.assertEqual(sub["error"]["code"], "no_output", sub)
            self.assertIn("without writing any file in /output", sub["error"]["message"], sub)
        finally:
            server.stop(check=False)

    def test_ingestion_only_during_scoring_takes_results_and_the_image_is_named(self):
        """CodaLab's ingestion_program_only_during_scoring runs the ingestion program on result files, which
        concours does not: the phase takes results, and the report says so; competition_docker_image is not pulled,
        and the report says how to give the program that image."""
        tmp = harness.Server(bundles=[]).tmp
        src = make_competition(tmp)
        with open(os.path.join(src, "competition.yaml")) as f:
            text = f.read()
        text = text.replace("    execution_time_limit: 300\n",
                            "    execution_time_limit: 300\n    ingestion_program_only_during_scoring: True\n")
        text = "competition_docker_image: 'codalab/codalab-legacy:py37'\n" + text
        with open(os.path.join(src, "competition.yaml"), "w") as f:
            f.write(text)
        dst = os.path.join(tmp, "converted")
        p = subprocess.run([harness.ARGS.concours, "challenge", "convert", src, dst], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(os.path.join(dst, "challenge.json")) as f:
            self.assertNotIn("submission", json.load(f))  # result files
        for word in ("phases[1].ingestion_program_only_during_scoring: the ingestion program is not run on result "
                     "files",
                     "competition_docker_image codalab/codalab-legacy:py37: not pulled",
                     "docker save codalab/codalab-legacy:py37 -o runtime/scoring.tar"):
            self.assertIn(word, p.stdout)

    def test_codabench_task_with_input_data_takes_code(self):
        tmp = harness.Server(bundles=[]).tmp
        src = os.path.join(tmp, "codabench-code")
        os.makedirs(src)
        inputs = "id,x\n" + "".join("n%02d,%d\n" % (i, i) for i in range(10))
        truth = "id,label\n" + "".join("n%02d,%d\n" % (i, 1 if i > 5 else 0) for i in range(10))
        for name, files in {
            "ingestion_program": {"metadata.yaml": "command: python3 /app/program/ingestion.py /app/input_data "
                                                   "/app/output /app/program /app/ingested_program\n",
                                  "ingestion.py": INGESTION, "helpers.py": HELPERS},
            "input_data": {"test.csv": inputs},
            "scoring_program": {"metadata.yaml": "command: python3 /app/program/score.py /app/input /app/output\n",
                                "score.py": SCORE},
            "reference_data": {"truth.csv": truth},
        }.items():
            os.makedirs(os.path.join(src, name))
            for f, text in files.items():
                with open(os.path.join(src, name, f), "w") as out:
                    out.write(text)
        with open(os.path.join(src, "competition.yaml"), "w") as f:
            f.write("version: 2\ntitle: Sort numbers on Codabench\nterms: terms.md\n"
                    "tasks:\n- index: 0\n  name: t\n  ingestion_program: ingestion_program\n"
                    "  input_data: input_data\n  scoring_program: scoring_program\n  reference_data: reference_data\n"
                    "phases:\n- index: 0\n  name: Code\n  start: 1-1-2026\n  execution_time_limit: 120\n"
                    "  tasks: [0]\n"
                    "leaderboards:\n- title: Results\n  key: main\n  columns:\n"
                    "  - title: Accuracy\n    key: accuracy\n    index: 0\n    sorting: desc\n")
        with open(os.path.join(src, "terms.md"), "w") as f:
            f.write("Be fair.\n")
        dst = os.path.join(tmp, "converted")
        p = subprocess.run([harness.ARGS.concours, "challenge", "convert", src, dst], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(os.path.join(dst, "challenge.json")) as f:
            doc = json.load(f)
        self.assertEqual(doc["submission"], {"kind": "code", "ingestion": "ingestion_program",
                                             "inputs": {"test": "input_data"}, "output_folder": True,
                                             "limits": {"wall_seconds": 120}})
        with open(os.path.join(dst, "ingestion_program", "metadata.yaml")) as f:
            meta = f.read()
        self.assertIn("command: python3 $program/ingestion.py $input $output $program $submission_program", meta)
        with open(os.path.join(dst, "CONVERSION.md")) as f:
            self.assertIn("tasks[0].ingestion_program: code submissions", f.read())


if __name__ == "__main__":
    harness.main()
