"""End-to-end runs of organizers' scoring programs through the real server (`concours serve`): the shipped
challenges/custom-metric-demo imports and scores; a spying program sees only its split's rows and nothing of
the data folder (SECURITY.md 16); hostile outputs and a limit end as participant-safe failures (19, issue 4);
and a server killed (SIGKILL) or stopped (SIGTERM) while a slow program runs scores the submission exactly
once after the restart, leaving no sandbox process behind (Durability 26); a host where the sandbox cannot be set
up makes `concours serve` refuse to start, and --insecure-no-sandbox says loudly that runs are unconfined.

usage: python3 test_e2e.py --concours BUILD/concours --source REPO [unittest args]
"""
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "http"))
import harness  # noqa: E402  (tests/http/harness.py: the shared server harness)

DEMO = "custom-metric-demo"


def read_rows(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().strip().split("\n")
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","))) for line in lines[1:]]


def auc(labels, scores):
    """ROC AUC by ranks (ties share their mean rank), as sklearn's roc_auc_score."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    pos = sum(labels)
    neg = len(labels) - pos
    return (sum(r for r, y in zip(ranks, labels) if y == 1) - pos * (pos + 1) / 2) / (pos * neg)


def program_bundle(parent, slug, script, key, limits=None, src=None):
    """A copy of custom-metric-demo named SLUG whose scoring program is SCRIPT (python3 $program/score.py
    $input $output) and whose leaderboard score is KEY."""
    dst = harness.make_bundle(parent, slug, src=src or harness.source_path("challenges", DEMO))
    with open(os.path.join(dst, "scoring_program", "score.py"), "w") as f:
        f.write(script)
    path = os.path.join(dst, "challenge.json")
    with open(path) as f:
        spec = json.load(f)
    spec["metric"]["score_key"] = key
    if limits is not None:
        spec["limits"] = limits
    with open(path, "w") as f:
        json.dump(spec, f)
    return dst


def predictions():
    """Probabilities from the test features (an honest model: older, larger lesions are riskier)."""
    test = read_rows(harness.source_path("challenges", DEMO, "data", "test.csv"))
    lines = ["lesion_id,malignant"]
    for r in test:
        p = min(1.0, max(0.0, (int(r["age"]) - 30) / 110 + float(r["size_mm"]) / 12))
        lines.append("%s,%.4f" % (r["lesion_id"], p))
    return ("\n".join(lines) + "\n").encode()


SPY = r'''
import json, os, sys
inp, out = sys.argv[1], sys.argv[2]
data_dir = %(data)r
leaks = 0
for path in (data_dir, data_dir + "/concours.db", data_dir + "/submissions", data_dir + "/challenges",
             data_dir + "/tmp", "/etc/shadow", "/root", %(src)r):
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        leaks += 1
        print("READ", path, file=sys.stderr)
    except OSError:
        pass
ref = os.path.join(inp, "ref")
names = os.listdir(ref)
text = open(os.path.join(ref, names[0])).read()
if names != ["solution.csv"] or "usage" in text.lower() or "private" in text.lower():
    leaks += 1
rows = len(text.strip().split("\n")) - 1
json.dump({"leaks_rows": leaks * 10000 + rows}, open(os.path.join(out, "scores.json"), "w"))
'''

HOSTILE = {
    "nan": 'open(sys.argv[2] + "/scores.json", "w").write(\'{"auc": NaN}\')',
    "duplicate": 'open(sys.argv[2] + "/scores.json", "w").write(\'{"auc": 0.1, "auc": 0.9}\')',
    "symlink": 'os.symlink("/etc/passwd", sys.argv[2] + "/scores.txt")',
    "fifo": 'os.mkfifo(sys.argv[2] + "/scores.txt")',
    "huge": 'open(sys.argv[2] + "/scores.txt", "w").write("auc: 0.5\\n" * 100000)',
    "missing": 'pass',
    "crash": 'raise SystemExit(3)',
}


class Programs(harness.ServerTest):
    def organizer_log(self, sid):
        """The organizers' log of submission SID (read from the database, for failure messages)."""
        db = sqlite3.connect(os.path.join(self.server.data, "concours.db"))
        try:
            row = db.execute("SELECT log FROM submissions WHERE id=?", (sid,)).fetchone()
        finally:
            db.close()
        return row[0] if row else None

    @classmethod
    def make_server(cls):
        server = harness.Server(bundles=[])
        shutil.copytree(harness.source_path("challenges", DEMO), os.path.join(server.challenges, DEMO))
        spy = SPY % {"data": server.data, "src": os.path.abspath(harness.ARGS.source)}
        program_bundle(server.challenges, "spy-demo", spy, "leaks_rows")
        for name, code in HOSTILE.items():
            script = ("import os, sys\nprint('SECRET-STDERR-%s', file=sys.stderr)\n%s\n" % (name, code))
            program_bundle(server.challenges, "bad-%s" % name, script, "auc")
        program_bundle(server.challenges, "slow-demo", "import time\ntime.sleep(30)\n", "auc",
                       limits={"wall_s": 2, "cpu_s": 2, "memory_mb": 512})
        # several metrics from one program (docs/bundle.md): its accuracy beside its AUC
        multi = harness.make_bundle(server.challenges, "multi-demo", src=harness.source_path("challenges", DEMO))
        with open(os.path.join(multi, "challenge.json")) as f:
            spec = json.load(f)
        spec["secondary_metrics"] = [{"score_key": "accuracy", "higher_is_better": True, "label": "Accuracy"}]
        with open(os.path.join(multi, "challenge.json"), "w") as f:
            json.dump(spec, f)
        return server

    def test_program_secondary_metric(self):
        """A secondary metric read from the same scores the program writes, per split."""
        c = self.participant("multi", slug="multi-demo")
        data = predictions()
        sub = c.wait_done(c.upload(data, slug="multi-demo").json()["id"])
        self.assertEqual(sub["status"], "scored", (sub, self.organizer_log(sub["id"])))
        truth = read_rows(harness.source_path("challenges", DEMO, "private", "solution.csv"))
        pred = {line.split(",")[0]: float(line.split(",")[1]) for line in data.decode().strip().split("\n")[1:]}
        public = [r for r in truth if r["Usage"] == "Public"]
        acc = sum((pred[r["lesion_id"]] >= 0.5) == (r["malignant"] == "1") for r in public) / len(public)
        self.assertAlmostEqual(sub["metrics"]["accuracy"], acc, places=9)
        board = c.leaderboard("multi-demo").json()
        self.assertAlmostEqual(board["rows"][0]["metrics"]["accuracy"], acc, places=9)
        info = c.challenge("multi-demo").json()
        self.assertEqual([m["key"] for m in info["metrics"]], ["auc", "accuracy"])

    def test_custom_metric_demo(self):
        """The shipped demo scores with its Python program: public score = AUC over the public rows."""
        c = self.participant("carol", slug=DEMO)
        data = predictions()
        sub = c.wait_done(c.upload(data, slug=DEMO).json()["id"])
        self.assertEqual(sub["status"], "scored", (sub, self.organizer_log(sub["id"])))
        truth = read_rows(harness.source_path("challenges", DEMO, "private", "solution.csv"))
        pred = {line.split(",")[0]: float(line.split(",")[1]) for line in data.decode().strip().split("\n")[1:]}
        public = [r for r in truth if r["Usage"] == "Public"]
        expected = auc([int(r["malignant"]) for r in public], [pred[r["lesion_id"]] for r in public])
        self.assertAlmostEqual(sub["public_score"], round(expected, 4), places=4)
        # the same file in a zip (unpacked safely into $input/res) scores the same
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("my_predictions.csv", data)
        sub2 = c.wait_done(c.upload(buf.getvalue(), slug=DEMO, content_type="application/zip").json()["id"])
        self.assertEqual(sub2["public_score"], sub["public_score"], sub2)
        board = c.leaderboard(DEMO).json()
        self.assertTrue(board["higher_is_better"])
        self.assertEqual(board["rows"][0]["score"], sub["public_score"])

    def test_spy_sees_only_its_split(self):
        """A program reading everything it can: none of the data folder, no ground truth but its split's rows
        (60 public rows, without the split column)."""
        c = self.participant("spy", slug="spy-demo")
        sub = c.wait_done(c.upload(predictions(), slug="spy-demo").json()["id"])
        self.assertEqual(sub["status"], "scored", sub)
        self.assertEqual(sub["public_score"], 60, "leaks*10000 + rows: %s" % sub)

    def test_hostile_outputs_are_scoring_errors(self):
        """NaN, duplicate keys, symlink, FIFO, huge or missing scores, a crash: failed with a generic
        scoring_error, no raw stderr shown, no leaderboard row."""
        for name in HOSTILE:
            with self.subTest(output=name):
                slug = "bad-%s" % name
                c = self.participant("bad%s" % name, slug=slug)
                sub = c.wait_done(c.upload(predictions(), slug=slug).json()["id"])
                self.assertEqual(sub["status"], "failed", sub)
                self.assertEqual(sub["error"]["code"], "scoring_error", sub)
                self.assertNotIn("SECRET-STDERR", json.dumps(sub))
                self.assertEqual(c.leaderboard(slug).json()["rows"], [])

    def test_limit_named(self):
        """A program over the challenge's wall-clock limit fails with the limit named."""
        c = self.participant("slowpoke", slug="slow-demo")
        t0 = time.time()
        sub = c.wait_done(c.upload(predictions(), slug="slow-demo").json()["id"])
        self.assertLess(time.time() - t0, 20)
        self.assertEqual(sub["status"], "failed", sub)
        self.assertEqual(sub["error"]["code"], "time_limit", sub)
        self.assertIn("2 s", sub["error"]["message"])


class Restart(unittest.TestCase):
    """SECURITY.md 26: a restart while a scorer runs kills the run; the submission is scored exactly once."""

    def run_restart(self, sig):
        marker = "slow-marker-%d-%d" % (os.getpid(), sig)
        first = harness.Server(bundles=[], workers=1)
        program_bundle(first.challenges, "slow-demo",
                       "import sys, time\ntime.sleep(2.5)\nopen(sys.argv[2] + '/scores.txt', 'w').write('auc: 0.75')\n",
                       "auc")
        meta = os.path.join(first.challenges, "slow-demo", "scoring_program", "metadata")
        with open(meta, "w") as f:
            f.write("command: python3 $program/score.py $input $output %s\n" % marker)
        second = None
        try:
            first.add_user("runner", "participant")
            first.start()
            c = first.client()
            self.assertEqual(c.login("runner").status, 200)
            self.assertEqual(c.accept_terms("slow-demo").status, 204)
            sid = c.upload(predictions(), slug="slow-demo").json()["id"]
            deadline = time.time() + 20
            while c.submission(sid).json()["status"] != "running" or not processes_with(marker):
                self.assertLess(time.time(), deadline, "the run never started")
                time.sleep(0.05)
            old = first.proc.pid
            first.proc.send_signal(sig)
            first.proc.wait(timeout=20)
            # The run dies with its server (parent-death signals), or, on a loaded machine where that chain is
            # slow or broken between two steps, at the next start, which kills what is left in the run cgroups.
            # Either is safe; a process alive once the next server listens is not.
            deadline = time.time() + 5
            while processes_with(marker, old) and time.time() < deadline:
                time.sleep(0.05)
            second = harness.Server(bundles=[], workers=1)
            shutil.rmtree(second.tmp)
            second.tmp, second.data, second.challenges = first.tmp, first.data, first.challenges
            second.start()
            deadline = time.time() + 10
            while processes_with(marker, old):  # the old server's runs; the new one runs the submission again
                self.assertLess(time.time(), deadline, "a sandboxed process outlived the server and its restart")
                time.sleep(0.05)
            c = second.client()
            self.assertEqual(c.login("runner").status, 200)
            sub = c.wait_done(sid)
            self.assertEqual(sub["status"], "scored", sub)
            self.assertEqual(sub["public_score"], 0.75)
            board = c.leaderboard("slow-demo").json()["rows"]
            self.assertEqual(len(board), 1)
            self.assertEqual(board[0]["submissions"], 1)
            db = sqlite3.connect(os.path.join(first.data, "concours.db"))
            self.assertEqual(db.execute("SELECT count(*) FROM submissions").fetchone()[0], 1)
            db.close()
        finally:
            if second is not None:
                second.stop(check=False)
            first.stop(check=False)

    def test_sigkill_while_scoring(self):
        self.run_restart(signal.SIGKILL)

    def test_sigterm_while_scoring(self):
        self.run_restart(signal.SIGTERM)


class StartUp(unittest.TestCase):
    def test_refuses_to_start_without_a_sandbox(self):
        """Where the sandbox cannot be set up (here: the server inside a user namespace that forbids nested ones
        and maps no sandbox uid), `concours serve` exits non-zero and says why, before listening."""
        if shutil.which("bwrap") is None:
            self.skipTest("bubblewrap missing")
        tmp = tempfile.mkdtemp(prefix="concours-nosandbox-")
        try:
            p = subprocess.run(["bwrap", "--unshare-user", "--disable-userns", "--dev-bind", "/", "/", "--",
                                harness.ARGS.concours, "serve", "--data", os.path.join(tmp, "data"), "--listen",
                                "127.0.0.1:0"], capture_output=True, text=True, timeout=60)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("refusing to start: the scoring sandbox cannot be set up", p.stderr)
        self.assertIn("--insecure-no-sandbox", p.stderr)
        self.assertNotIn("listening on", p.stdout)

class Insecure(unittest.TestCase):
    def test_insecure_flag_logs_loudly(self):
        """--insecure-no-sandbox (development only) starts, says loudly that runs are not confined, and still
        scores (unconfined) through the same supervisor."""
        server = harness.Server(bundles=[(harness.DEMO_SLUG, None)], workers=1, extra_args=["--insecure-no-sandbox"])
        try:
            server.add_user("dev", "participant")
            server.start()
            self.assertIn("WITHOUT confinement", server.output())
            c = server.client()
            self.assertEqual(c.login("dev").status, 200)
            self.assertEqual(c.accept_terms().status, 204)
            sub = c.wait_done(c.upload(harness.sample_submission()).json()["id"])
            self.assertEqual(sub["status"], "scored", sub)
        finally:
            server.stop(check=False)


def processes_with(marker, owner=None):
    """Live processes whose command line holds MARKER; with OWNER (a server's pid), only those running as one of
    that server's sandbox uids (1900000000 + (pid mod 4096) * 64, 64 of them)."""
    found = []
    low = 1900000000 + (owner % 4096) * 64 if owner is not None else None
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if marker.encode() not in f.read():
                    continue
            with open("/proc/%s/status" % pid) as f:
                uid = int(next(line for line in f if line.startswith("Uid:")).split()[1])
        except (OSError, StopIteration, ValueError):
            continue
        if low is None or low <= uid < low + 64:
            found.append(pid)
    return found


if __name__ == "__main__":
    harness.main()
