"""Code-execution challenges (API.md section 4, issue 11), end to end through a live server: the example
challenge challenges/tissuenet-code-demo (with shorter limits) takes a zip of code, runs it sandboxed on the hidden
tiles, and scores what it writes; smoke runs show their log and leave the quota alone; a full run's log is hidden
from the participant and shown to the organizer; hostile code fails or is contained and nothing survives a run; a
server killed during a run runs it again, once.

usage: python3 test_code_runs.py --concours BUILD/concours --source REPO [unittest args]
"""
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
import harness  # noqa: E402

SLUG = "tissuenet-code-demo"
RUN_TIMEOUT = 120
SANDBOX_UID_BASE = 1900000000


def zip_of(files):
    """A zip archive (bytes) of {name: text}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def tar_gz_of(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def demo(*parts):
    return harness.source_path("challenges", SLUG, *parts)


def baseline():
    with open(demo("baseline", "main.py")) as f:
        return f.read()


def expected_scores():
    """The baseline's predictions on the hidden tiles, computed here by running it directly (not through the
    server), scored with the TissueNet cost matrix independently of concours: (public, private)."""
    out = tempfile.mkdtemp(prefix="concours-code-expected-")
    try:
        subprocess.run([sys.executable, demo("baseline", "main.py"), "--data", demo("hidden"), "--output", out],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        with open(os.path.join(out, "submission.csv"), newline="") as f:
            pred = {r["filename"]: max(range(4), key=lambda k: float(r[str(k)])) for r in csv.DictReader(f)}
    finally:
        shutil.rmtree(out, ignore_errors=True)
    with open(demo("challenge.json")) as f:
        matrix = json.load(f)["metric"]["params"]["matrix"]
    costs = {"Public": [], "Private": []}
    with open(demo("private", "solution.csv"), newline="") as f:
        for r in csv.DictReader(f):
            truth = max(range(4), key=lambda k: float(r[str(k)]))
            costs[r["Usage"]].append(matrix[truth][pred[r["filename"]]])
    return tuple(round(1 - sum(costs[s]) / len(costs[s]), 4) for s in ("Public", "Private"))


def sandbox_processes(owner_pid):
    """Processes running as one of the sandbox uids of the process OWNER_PID (a server or a worker: each uses the
    block of 64 uids SANDBOX_UID_BASE + (pid mod 4096) * 64, so tests running side by side do not see each other's
    runs), as 'pid uid command' lines: what a run could leave behind."""
    low = SANDBOX_UID_BASE + (owner_pid % 4096) * 64
    out = subprocess.run(["ps", "-eo", "pid=,uid=,args="], stdout=subprocess.PIPE, check=True).stdout.decode()
    left = []
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[1].isdigit() and low <= int(parts[1]) < low + 64:
            left.append(line.strip())
    return left


def run_processes(owner_pid):
    """sandbox_processes(OWNER_PID) but the warm sandboxes' (server/sandbox_warm.h: each scoring thread keeps one up
    between its runs of the built-in scorer, its processes' command lines ending with the exec server's): what a code
    run could leave behind."""
    return [p for p in sandbox_processes(owner_pid) if not p.endswith("/sandbox/bin/concours-score --exec-server")]


HOSTILE_READS = r'''
import os, socket, sys
paths = sys.argv[1:]
for p in paths:
    try:
        with open(p, "rb") as f:
            f.read(64)
        print("READ-OK", p)
    except OSError as e:
        print("read refused", p, type(e).__name__)
for p in ("/code/new.txt", "/data/new.txt", "/code/main.py"):
    try:
        with open(p, "a") as f:
            f.write("x")
        print("WRITE-OK", p)
    except OSError as e:
        print("write refused", p, type(e).__name__)
port = int(os.environ.get("PORT", "0") or 0)
for host in ("127.0.0.1", "::1"):
    try:
        s = socket.create_connection((host, PORT), timeout=3)
        print("CONNECT-OK", host)
        s.close()
    except OSError as e:
        print("connect refused", host, type(e).__name__)
print("DATA", sorted(os.listdir("/data")))
print("PIDS", len([p for p in os.listdir("/proc") if p.isdigit()]))
print("UID", os.getuid())
'''


class CodeRunTest(harness.ServerTest):
    USERS = [("org", "organizer")]

    @classmethod
    def make_server(cls):
        server = harness.Server(bundles=[], workers=2)
        dest = os.path.join(server.challenges, SLUG)
        shutil.copytree(demo(), dest, ignore=shutil.ignore_patterns("baseline"))
        with open(os.path.join(dest, "challenge.json")) as f:
            doc = json.load(f)
        doc["phases"][0]["max_per_day"] = 3
        doc["submission"]["limits"].update({"smoke_wall_seconds": 8, "wall_seconds": 30, "output_mb": 16,
                                            "memory_mb": 512})
        doc["submission"]["smoke_per_day"] = 30
        with open(os.path.join(dest, "challenge.json"), "w") as f:
            json.dump(doc, f)
        return server

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.org = cls.server.client()
        assert cls.org.login("org").status == 200

    def participant(self, name):  # noqa: D102 (the shared helper, on this challenge)
        return super().participant(name, slug=SLUG)

    def send(self, client, archive, mode=None):
        path = "/api/v1/challenges/%s/submissions" % SLUG + ("?mode=" + mode if mode else "")
        return client.request("POST", path, body=archive, headers={"Content-Type": "application/zip"})

    def run_code(self, client, archive, mode=None):
        r = self.send(client, archive, mode)
        self.assertEqual(r.status, 201, r)
        return client.wait_done(r.json()["id"], timeout=RUN_TIMEOUT)

    def log_of(self, client, sid):
        return client.get("/api/v1/submissions/%d/log" % sid)

    # ------------------------------------------------------------------------------------------ scoring
    def test_baseline_scores_what_an_independent_computation_gives(self):
        alice = self.participant("alice")
        sub = self.run_code(alice, zip_of({"main.py": baseline()}))
        self.assertEqual(sub["status"], "scored", sub)
        self.assertEqual((sub["kind"], sub["mode"]), ("code", "full"))
        self.assertEqual(sub["public_score"], expected_scores()[0])
        self.assertNotIn("private_score", sub)
        self.assertGreater(sub["wall_seconds"], 0)
        self.assertGreater(sub["peak_memory_mb"], 0)
        self.assertRegex(sub["runtime_sha256"], "^[0-9a-f]{64}$")
        board = alice.leaderboard(SLUG).json()["rows"]
        self.assertEqual([(r["name"], r["score"]) for r in board], [("alice", expected_scores()[0])])
        # the organizer sees the private score, and the code's log
        staff_view = self.org.submission(sub["id"]).json()
        self.assertEqual(staff_view["private_score"], expected_scores()[1])
        log = self.log_of(self.org, sub["id"])
        self.assertEqual(log.status, 200, log)
        self.assertIn("wrote 80 predictions", log.json()["log"])
        # a tar.gz with the code in a folder is the same code
        sub2 = self.run_code(alice, tar_gz_of({"mycode/main.py": baseline()}))
        self.assertEqual((sub2["status"], sub2["public_score"]), ("scored", expected_scores()[0]), sub2)

    # ------------------------------------------------------------------------------------------ smoke runs
    def test_smoke_runs_show_their_log_and_leave_the_quota_alone(self):
        bob = self.participant("bob")
        before = bob.challenge(SLUG).json()
        code = baseline().replace('print(f"wrote', 'print("SMOKE-MARKER", file=sys.stderr)\n    print(f"wrote')
        for _ in range(4):  # more than the phase's 3 a day
            sub = self.run_code(bob, zip_of({"main.py": code}), "smoke")
            self.assertEqual((sub["status"], sub["mode"]), ("scored", "smoke"), sub)
            self.assertIsNone(sub["public_score"])
            self.assertIsInstance(sub["smoke_score"], float)
        log = self.log_of(bob, sub["id"])
        self.assertEqual(log.status, 200, log)
        self.assertIn("SMOKE-MARKER", log.json()["log"])
        self.assertIn("8/8", log.json()["log"])
        self.assertFalse(log.json()["running"])
        tail = bob.get("/api/v1/submissions/%d/log?offset=%d" % (sub["id"], log.json()["length"] - 5)).json()
        self.assertEqual(tail["log"], log.json()["log"][-5:])
        for bad in ("-1", "x", "1e3"):
            r = bob.get("/api/v1/submissions/%d/log?offset=%s" % (sub["id"], bad))
            self.assertEqual((r.status, r.error_code()), (400, "bad_request"), r)
        # never on the leaderboard, and the quota is whole: three full runs still go through
        self.assertNotIn("bob", [r["name"] for r in bob.leaderboard(SLUG).json()["rows"]])
        after = bob.challenge(SLUG).json()
        for key in ("used_today", "left_today", "used_total", "left_total"):
            self.assertEqual(before["quota"][key], after["quota"][key], key)
        for _ in range(3):
            self.assertEqual(self.send(bob, zip_of({"main.py": "raise SystemExit(3)"})).status, 201)
        # smoke runs have their own cap
        carol = self.participant("carol")
        self.assertEqual(self.send(carol, zip_of({"main.py": ""}), "nightly").status, 400)

    def test_a_smoke_runs_log_is_streamed_while_it_runs(self):
        ivan = self.participant("ivan")
        code = ("import sys, time\nprint('tick', flush=True)\ntime.sleep(4)\nprint('tock', flush=True)\n")
        r = self.send(ivan, zip_of({"main.py": code}), "smoke")
        self.assertEqual(r.status, 201, r)
        sid = r.json()["id"]
        deadline = time.time() + RUN_TIMEOUT
        seen = None
        while time.time() < deadline:
            log = self.log_of(ivan, sid).json()
            if log["running"] and "tick" in log["log"]:
                seen = log
                break
            time.sleep(0.1)
        self.assertIsNotNone(seen, "the log never showed 'tick' while the run was in progress")
        self.assertNotIn("tock", seen["log"])
        self.assertEqual(ivan.submission(sid).json()["stage"], "running")
        sub = ivan.wait_done(sid, timeout=RUN_TIMEOUT)
        self.assertEqual(sub["error"]["code"], "no_output", sub)
        final = self.log_of(ivan, sid).json()
        self.assertEqual((final["running"], final["log"]), (False, "tick\ntock\n"))

    # ------------------------------------------------------------------------------------------ logs
    def test_a_full_runs_log_is_hidden_from_the_participant_and_shown_to_the_organizer(self):
        dave = self.participant("dave")
        code = "import os\nprint('HIDDEN-' + str(len(os.listdir('/data'))))\nraise SystemExit(4)\n"
        sub = self.run_code(dave, zip_of({"main.py": code}))
        self.assertEqual((sub["status"], sub["error"]["code"]), ("failed", "code_failed"), sub)
        self.assertIn("status 4", sub["error"]["message"])
        self.assertNotIn("HIDDEN", json.dumps(sub))
        r = self.log_of(dave, sub["id"])
        self.assertEqual((r.status, r.error_code()), (403, "log_hidden"), r)
        self.assertNotIn(b"HIDDEN", r.body)
        r = self.log_of(self.org, sub["id"])
        self.assertEqual(r.status, 200, r)
        self.assertIn("HIDDEN-81", r.json()["log"])  # 80 tiles and test_metadata.csv
        self.assertIn("code run (full)", r.json()["scoring_log"])
        # another participant sees nothing of it
        eve = self.participant("eve")
        self.assertEqual(self.log_of(eve, sub["id"]).status, 404)
        self.assertEqual(eve.submission(sub["id"]).status, 404)

    # ------------------------------------------------------------------------------------------ refusals
    def test_uploads_that_are_not_code_archives_are_refused(self):
        frank = self.participant("frank")
        r = frank.upload(b"filename,0,1,2,3\nH0000.png,1,0,0,0\n", slug=SLUG)
        self.assertEqual((r.status, r.error_code()), (415, "unsupported_media_type"), r)
        self.assertIn("zip or tar.gz", r.json()["error"]["message"])
        evil = io.BytesIO()
        with zipfile.ZipFile(evil, "w") as z:
            z.writestr("../escape.py", "print(1)")
        sub = self.run_code(frank, evil.getvalue())
        self.assertEqual((sub["status"], sub["error"]["code"]), ("failed", "invalid_archive"), sub)
        sub = self.run_code(frank, zip_of({"main.py": "print('no output')"}))
        self.assertEqual((sub["status"], sub["error"]["code"]), ("failed", "no_output"), sub)
        self.assertIn("/output/submission.csv", sub["error"]["message"])
        sub = self.run_code(frank, zip_of({"main.py": "open('/output/submission.csv','w').write('a,b\\n1,2\\n')"}),
                            "smoke")
        self.assertEqual(sub["status"], "failed", sub)
        self.assertNotEqual(sub["error"]["code"], "scoring_error", sub)

    # ------------------------------------------------------------------------------------------ hostile code
    def test_hostile_code_reads_writes_and_connects_nothing(self):
        grace = self.participant("grace")
        other = self.participant("grace_rival")
        self.run_code(other, zip_of({"main.py": "print('the rival')"}))  # an upload that is not grace's
        secret_paths = [os.path.join(self.server.data, "concours.db"),
                        os.path.join(self.server.data, "challenges"),
                        "/proc/%d/environ" % self.server.proc.pid, "/proc/1/root/etc/hostname", "/etc/shadow"]
        for root, _dirs, files in os.walk(os.path.join(self.server.data, "challenges")):
            secret_paths += [os.path.join(root, f) for f in files if f in ("solution.csv", "H0000.png")]
        for root, _dirs, files in os.walk(os.path.join(self.server.data, "submissions")):
            secret_paths += [os.path.join(root, f) for f in files][:3]  # other participants' uploads
        self.assertGreaterEqual(len(secret_paths), 8)
        code = HOSTILE_READS.replace("PORT)", "%d)" % self.server.port)
        code = "import sys\nsys.argv[1:] = %r\n" % secret_paths + code
        sub = self.run_code(grace, zip_of({"main.py": code}), "smoke")
        log = self.log_of(grace, sub["id"]).json()["log"]
        self.assertIn("read refused", log)
        for bad in ("READ-OK", "WRITE-OK", "CONNECT-OK"):
            self.assertNotIn(bad, log)
        listing = log.split("DATA ")[1].splitlines()[0]
        self.assertIn("S0000.png", listing)        # the smoke tiles are there,
        self.assertNotIn("H0000.png", listing)     # the hidden ones are not,
        self.assertNotIn("solution.csv", listing)  # nor the smoke sample's answers
        self.assertLess(int(log.split("PIDS ")[1].split()[0]), 10)  # its own PID namespace, not the host's
        uid = int(log.split("UID ")[1].split()[0])
        self.assertGreaterEqual(uid, SANDBOX_UID_BASE)

    def test_limits_name_the_limit_and_nothing_survives_a_run(self):
        henry = self.participant("henry")
        sleeper = self.run_code(henry, zip_of({"main.py": "import time\ntime.sleep(600)\n"}), "smoke")
        self.assertEqual((sleeper["status"], sleeper["error"]["code"]), ("failed", "time_limit"), sleeper)
        self.assertIn("smoke_wall_seconds", sleeper["error"]["message"])
        daemon = ("import os, subprocess\n"
                  "subprocess.Popen(['setsid', 'sleep', '1000'], start_new_session=True)\n"
                  "if os.fork() == 0:\n    os.setsid()\n    import time\n    time.sleep(1000)\n"
                  "print('parent exits')\n")
        sub = self.run_code(henry, zip_of({"main.py": daemon}), "smoke")
        self.assertEqual(sub["status"], "failed", sub)
        bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
        sub = self.run_code(henry, zip_of({"main.py": bomb}), "smoke")
        self.assertEqual((sub["status"], sub["error"]["code"]), ("failed", "time_limit"), sub)
        filler = ("import os\nf = open('/output/submission.csv', 'wb')\nblock = b'0' * (1 << 20)\n"
                  "try:\n    for _ in range(10240):\n        f.write(block)\n        f.flush()\n"
                  "except OSError as e:\n    print('stopped:', e)\n")
        sub = self.run_code(henry, zip_of({"main.py": filler}), "smoke")
        self.assertEqual(sub["status"], "failed", sub)
        log = self.log_of(henry, sub["id"]).json()["log"]
        self.assertTrue("stopped:" in log or "File too large" in log or "Errno" in log, log)
        self.assertEqual(run_processes(self.server.proc.pid), [])
        tmp = os.path.join(self.server.data, "tmp")
        self.assertEqual([n for n in os.listdir(tmp) if n.startswith("run-")], [])


    def start_baseline_run(self, client):
        """Sends the baseline as a smoke run that prints UP, then waits 2 s before it reads its inputs; returns the
        submission's id once its log shows UP (the run is in progress)."""
        code = baseline().replace("def main():", "def main():\n    import time\n    print('UP', flush=True)\n"
                                  "    time.sleep(2)", 1)
        r = self.send(client, zip_of({"main.py": code}), "smoke")
        self.assertEqual(r.status, 201, r)
        sid = r.json()["id"]
        deadline = time.time() + RUN_TIMEOUT
        while time.time() < deadline and "UP" not in (self.log_of(client, sid).json().get("log") or ""):
            time.sleep(0.1)
        self.assertIn("UP", self.log_of(client, sid).json().get("log") or "", "the run never started")
        return sid

    def test_an_admin_command_beside_a_running_run_leaves_it_alone(self):
        # The admin commands open the data folder as the server does; only the server's start (which holds the
        # folder's lock) empties tmp/, where the runs and uploads in flight live. Before, `concours user add` beside
        # a run removed its folder, and the run failed (web_code met it: "exited with status 2", no main.py).
        lena = self.participant("lena")
        tmp = os.path.join(self.server.data, "tmp")
        marker = os.path.join(tmp, "upload-in-flight-test")  # as an upload being received
        with open(marker, "wb") as f:
            f.write(b"half of a body")
        try:
            sid = self.start_baseline_run(lena)
            runs = [n for n in os.listdir(tmp) if n.startswith("run-")]
            self.assertTrue(runs, "no run folder while the run runs")
            self.server.add_user("lena_jury", "jury")
            self.assertTrue(os.path.exists(marker), "an admin command removed an upload in flight")
            gone = [name for name in runs if not os.path.isdir(os.path.join(tmp, name))]
            sub = lena.wait_done(sid, timeout=RUN_TIMEOUT)
            # a folder gone already: the run may have ended meanwhile (its own cleanup takes the folder just before
            # its result is recorded, so the status may still say running then); it is scored whole only if the
            # command left its folder alone while it ran (the old behaviour failed it: "exited with status 2")
            self.assertEqual((sub["status"], sub["mode"]), ("scored", "smoke"), (sub, gone))
            self.assertIsInstance(sub["smoke_score"], float)
        finally:
            if os.path.exists(marker):
                os.unlink(marker)

    def test_a_reimport_beside_a_running_run_leaves_its_inputs(self):
        # An organizer re-imports the challenge (a new title) while a run reads the hidden inputs of the version it
        # started on: the run goes on and is scored; the old version goes once no run uses it.
        mona = self.participant("mona")
        sid = self.start_baseline_run(mona)
        slug_dir = os.path.join(self.server.data, "challenges", SLUG)
        before = sorted(os.listdir(slug_dir))
        bundle = os.path.join(self.server.challenges, SLUG)
        with open(os.path.join(bundle, "challenge.json")) as f:
            doc = json.load(f)
        doc["title"] = doc["title"] + " (re-imported)"
        with open(os.path.join(bundle, "challenge.json"), "w") as f:
            json.dump(doc, f)
        out = subprocess.run([harness.ARGS.concours, "challenge", "import", bundle, "--apply", "--data",
                              self.server.data], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout.decode())
        sub = mona.wait_done(sid, timeout=RUN_TIMEOUT)
        self.assertEqual((sub["status"], sub["mode"]), ("scored", "smoke"), sub)
        self.assertIsInstance(sub["smoke_score"], float)
        self.assertIn("(re-imported)", mona.challenge(SLUG).json()["title"])
        self.assertEqual(len(before), 1, before)
        # the server removes the old version once the run is over (a sweep every 10 s), and keeps the new one
        deadline = time.time() + 60
        while time.time() < deadline and before[0] in os.listdir(slug_dir):
            time.sleep(0.2)
        after = os.listdir(slug_dir)
        self.assertEqual(len(after), 1, after)
        self.assertNotEqual(after, before)

    def test_cancelling_a_running_run_stops_it_and_costs_nothing(self):
        judy = self.participant("judy")
        r = self.send(judy, zip_of({"main.py": "import time\nprint('UP', flush=True)\ntime.sleep(600)\n"}), "smoke")
        self.assertEqual(r.status, 201, r)
        sid = r.json()["id"]
        deadline = time.time() + RUN_TIMEOUT
        while time.time() < deadline and "UP" not in (self.log_of(judy, sid).json().get("log") or ""):
            time.sleep(0.1)
        self.assertTrue(run_processes(self.server.proc.pid), "the run is not running")
        # another team cannot cancel it; its own team can, while it runs
        other = self.participant("kim")
        self.assertEqual(other.request("DELETE", "/api/v1/submissions/%d" % sid).status, 404)
        self.assertEqual(judy.request("DELETE", "/api/v1/submissions/%d" % sid).status, 204)
        self.assertEqual(judy.submission(sid).json()["status"], "cancelled")
        deadline = time.time() + RUN_TIMEOUT
        while time.time() < deadline and run_processes(self.server.proc.pid):
            time.sleep(0.1)
        self.assertEqual(run_processes(self.server.proc.pid), [])
        self.assertEqual(judy.submission(sid).json()["status"], "cancelled")  # nothing of the run recorded
        r = judy.request("DELETE", "/api/v1/submissions/%d" % sid)
        self.assertEqual((r.status, r.json()["error"]["code"]), (409, "not_cancellable"))
        # an organizer cancels any team's run, with a reason that goes to the audit chain
        r = self.send(judy, zip_of({"main.py": "import time\ntime.sleep(600)\n"}), "smoke")
        sid2 = r.json()["id"]
        self.assertEqual(self.org.request("POST", "/api/v1/submissions/%d/cancel" % sid2, json_body={}).status, 400)
        r = self.org.request("POST", "/api/v1/submissions/%d/cancel" % sid2, json_body={"reason": "stuck run"})
        self.assertEqual((r.status, r.json()["status"]), (200, "cancelled"), r)
        self.assertEqual(judy.request("POST", "/api/v1/submissions/%d/cancel" % sid2,
                                      json_body={"reason": "x"}).status, 403)
        audit = self.org.get("/api/v1/audit").json()
        rows = audit["entries"] if isinstance(audit, dict) else audit
        self.assertIn(("cancel", "submission:%d" % sid2, "stuck run"),
                      [(e.get("action"), e.get("target"), e.get("reason")) for e in rows])
        # the server's run slot is free again: the next run goes through
        sub = self.run_code(judy, zip_of({"main.py": "print('again')\n"}), "smoke")
        self.assertEqual((sub["status"], sub["error"]["code"]), ("failed", "no_output"), sub)
        self.assertEqual(run_processes(self.server.proc.pid), [])


class SmallFileLaneTest(harness.ServerTest):
    """A code run holding the server's only --workers thread does not hold up a prediction file of another challenge:
    the small-file lane (server/queue.c) scores it meanwhile."""
    USERS = [("org", "organizer")]

    @classmethod
    def make_server(cls):
        server = harness.Server(workers=1)  # the file challenge (the demo), and the code challenge copied beside it
        dest = os.path.join(server.challenges, SLUG)
        shutil.copytree(demo(), dest, ignore=shutil.ignore_patterns("baseline"))
        with open(os.path.join(dest, "challenge.json")) as f:
            doc = json.load(f)
        doc["submission"]["limits"].update({"wall_seconds": 600, "memory_mb": 512})
        with open(os.path.join(dest, "challenge.json"), "w") as f:
            json.dump(doc, f)
        return server

    def test_a_small_file_is_scored_while_a_code_run_holds_every_worker(self):
        def code_run_left():  # the code run's processes, not the built-in scorer's runs (the file's, its interval's)
            return [p for p in sandbox_processes(self.server.proc.pid) if "/sandbox/bin/concours-score" not in p]
        coder = self.participant("coder", slug=SLUG)
        r = coder.request("POST", "/api/v1/challenges/%s/submissions" % SLUG,
                          body=zip_of({"main.py": "import time\ntime.sleep(600)\n"}),
                          headers={"Content-Type": "application/zip"})
        self.assertEqual(r.status, 201, r)
        run = r.json()["id"]
        deadline = time.time() + RUN_TIMEOUT
        while time.time() < deadline and not code_run_left():
            time.sleep(0.1)
        self.assertEqual(coder.submission(run).json()["status"], "running")
        self.assertTrue(code_run_left(), "the code run is not running")
        filer = self.participant("filer")
        r = filer.upload(harness.sample_submission())
        self.assertEqual(r.status, 201, r)
        sub = filer.wait_done(r.json()["id"], timeout=RUN_TIMEOUT)
        self.assertEqual(sub["status"], "scored", sub)
        self.assertEqual(coder.submission(run).json()["status"], "running")  # still: the file did not wait for it
        org = self.server.client()
        self.assertEqual(org.login("org").status, 200)
        # a lane thread scored it in its warm sandbox (server/sandbox_warm.h), which stays up for the next file, and
        # wrote the jury's per-case terms through the fd it was given
        log = org.get("/api/v1/submissions/%d/log" % sub["id"]).json()["log"]  # a file's log: the scorer's
        self.assertIn("concours-score (warm sandbox): exit=0", log)
        self.assertTrue([p for p in sandbox_processes(self.server.proc.pid)
                         if p.endswith("/sandbox/bin/concours-score --exec-server")])
        with open(os.path.join(self.server.data, "percase", "%d.cpc" % sub["id"]), "rb") as f:
            self.assertEqual(f.read(8)[:4], b"CPC1")
        r = org.request("POST", "/api/v1/submissions/%d/cancel" % run, json_body={"reason": "end of the test"})
        self.assertEqual(r.status, 200, r)
        # the code run's processes are gone (the freed --workers thread may start the file's interval meanwhile)
        deadline = time.time() + RUN_TIMEOUT
        while time.time() < deadline and code_run_left():
            time.sleep(0.1)
        self.assertEqual(code_run_left(), [])

    def test_a_file_above_the_lanes_size_is_scored_warm_by_a_workers_thread(self):
        """Only a --workers thread takes a file above 8 MiB (the lane's bound); it scores it in a warm sandbox of its
        own too (queue.c: every queue thread keeps one for the built-in scorer, and ends it before a code run)."""
        big = harness.sample_submission() + b"\n" * (9 << 20)  # blank lines: the same rows, 9 MiB more
        filer = self.participant("bigfiler")
        r = filer.upload(big)
        self.assertEqual(r.status, 201, r)
        sub = filer.wait_done(r.json()["id"], timeout=RUN_TIMEOUT)
        self.assertEqual(sub["status"], "scored", sub)
        org = self.server.client()
        self.assertEqual(org.login("org").status, 200)
        log = org.get("/api/v1/submissions/%d/log" % sub["id"]).json()["log"]
        self.assertIn("concours-score (warm sandbox): exit=0", log)

    def test_warm_sandboxes_go_with_their_server(self):
        """The lane's warm sandboxes stay up between files (their exec servers wait for the next), and die with the
        server when it is killed, as a code run does: nothing of them is left running."""
        server = self.make_server()
        server.start()
        try:
            c = server.client()
            self.assertEqual(c.register("crash").status, 201)
            self.assertEqual(c.login("crash").status, 200)
            for slug in (harness.DEMO_SLUG, SLUG):
                self.assertEqual(c.accept_terms(slug).status, 204)
            # a code run holds the only --workers thread: the files go to the lane
            r = c.request("POST", "/api/v1/challenges/%s/submissions" % SLUG,
                          body=zip_of({"main.py": "import time\ntime.sleep(600)\n"}),
                          headers={"Content-Type": "application/zip"})
            self.assertEqual(r.status, 201, r)
            deadline = time.time() + RUN_TIMEOUT
            while c.submission(r.json()["id"]).json().get("stage") != "running":
                self.assertLess(time.time(), deadline, "the code run never started")
                time.sleep(0.05)
            for _ in range(2):
                r = c.upload(harness.sample_submission())
                self.assertEqual(r.status, 201, r)
                self.assertEqual(c.wait_done(r.json()["id"], timeout=RUN_TIMEOUT)["status"], "scored")
            pid = server.proc.pid
            warm = [p for p in sandbox_processes(pid) if p.endswith("/sandbox/bin/concours-score --exec-server")]
            self.assertTrue(warm, sandbox_processes(pid))
            server.proc.kill()
            server.proc.wait()
            deadline = time.time() + 30
            while sandbox_processes(pid) and time.time() < deadline:
                time.sleep(0.1)
            self.assertEqual(sandbox_processes(pid), [])
        finally:
            server.stop(check=False)

    def test_the_lane_has_8_threads_at_least_and_64_threads_in_all_at_most(self):
        """--workers 1: one thread for any run and 8 for small files (the chain of a run waits more than it computes
        under a flood of reads: several runs at once score more); --workers 60: 4 of them, within the 64 run uids."""
        self.assertEqual(harness.scoring_threads(self.server.proc.pid), {"score-any": 1, "score-small": 8})
        server = harness.Server(workers=60)
        server.start()
        try:
            self.assertEqual(harness.scoring_threads(server.proc.pid), {"score-any": 60, "score-small": 4})
        finally:
            server.stop()

    def test_workers_outside_1_to_64_are_refused_before_anything_starts(self):
        """Runs at once are bounded by the sandbox's 64 uids: the lane fills what --workers leaves of them."""
        data = tempfile.mkdtemp(prefix="concours-workers-")
        try:
            for bad in ("0", "65", "-1", "2x", "99999999999999999999"):
                r = subprocess.run([harness.ARGS.concours, "serve", "--data", os.path.join(data, "d"), "--listen",
                                    "127.0.0.1:0", "--workers", bad], capture_output=True, text=True, timeout=60)
                self.assertNotEqual(r.returncode, 0, (bad, r.stderr))
                self.assertIn("--workers must be an integer from 1 to 64", r.stderr, bad)
                self.assertFalse(os.path.exists(os.path.join(data, "d")), bad)  # no data folder made
        finally:
            shutil.rmtree(data, ignore_errors=True)


class RestartTest(unittest.TestCase):
    """A server killed (SIGKILL) while a code run is in progress runs it again at its next start, once."""

    def test_a_run_interrupted_by_a_crash_is_run_again_once(self):
        server = harness.Server(bundles=[], workers=1)
        shutil.copytree(demo(), os.path.join(server.challenges, SLUG), ignore=shutil.ignore_patterns("baseline"))
        try:
            server.start()
            c = server.client()
            self.assertEqual(c.register("judy").status, 201)
            self.assertEqual(c.login("judy").status, 200)
            self.assertEqual(c.accept_terms(SLUG).status, 204)
            code = "import time\ntime.sleep(3)\n" + baseline()
            r = c.request("POST", "/api/v1/challenges/%s/submissions" % SLUG, body=zip_of({"main.py": code}))
            self.assertEqual(r.status, 201, r)
            sid = r.json()["id"]
            deadline = time.time() + RUN_TIMEOUT
            while c.submission(sid).json().get("stage") != "running":
                self.assertLess(time.time(), deadline, "the run never started")
                time.sleep(0.05)
            old_pid = server.proc.pid
            server.proc.kill()
            server.proc.wait()
            while server.lines.get(timeout=30) is not None:  # the first server's output, to its end
                pass
            # The run usually dies with its server (parent-death signals); what a crash between two steps leaves is
            # found at the next start in the server's run cgroups. A leftover is planted there to make sure.
            bases = [line.split("run cgroups under ", 1)[1].split(";")[0] for line in server.log
                     if "run cgroups under " in line]
            leftover = None
            if bases:
                planted = os.path.join(bases[-1], "run-planted-by-the-test")
                os.mkdir(planted)
                leftover = subprocess.Popen(["/usr/bin/sleep", "600"])
                with open(os.path.join(planted, "cgroup.procs"), "w") as f:
                    f.write(str(leftover.pid))
            else:  # no cgroup on this host: the server must have said so at start
                self.assertTrue(any("no writable cgroup" in line for line in server.log), server.output())
            server.port = None
            server.log = []
            server.start()
            if leftover is not None:
                self.assertEqual(leftover.wait(timeout=30), -9)
                self.assertFalse(os.path.exists(planted))
                self.assertTrue(any(line.startswith("killed ") and "left by the last stop" in line
                                    for line in server.log), server.output())
            deadline = time.time() + 30
            while sandbox_processes(old_pid) and time.time() < deadline:
                time.sleep(0.1)
            self.assertEqual(sandbox_processes(old_pid), [])
            c = server.client()
            self.assertEqual(c.login("judy").status, 200)
            sub = c.wait_done(sid, timeout=RUN_TIMEOUT)
            self.assertEqual(sub["status"], "scored", sub)
            self.assertEqual(sub["public_score"], expected_scores()[0])
            rows = c.leaderboard(SLUG).json()["rows"]
            self.assertEqual([(r["name"], r["submissions"]) for r in rows], [("judy", 1)])
        finally:
            server.stop(check=False)


class PublishTest(unittest.TestCase):
    """The signed final ranking names the runtime each ranked code run ran on (API.md section 4)."""

    def test_the_signed_ranking_carries_the_runtime_identity(self):
        tmp = tempfile.mkdtemp(prefix="concours-code-clock-")
        clock = os.path.join(tmp, "clock")
        with open(clock, "w") as f:
            f.write("%d\n" % 1780000000)  # 2026-05-28: the development phase is open
        server = harness.Server(bundles=[], workers=1, extra_args=["--test-clock", clock])
        shutil.copytree(demo(), os.path.join(server.challenges, SLUG), ignore=shutil.ignore_patterns("baseline"))
        try:
            server.add_user("juno", "jury")
            server.start()
            c = server.client()
            self.assertEqual(c.register("kate").status, 201)
            self.assertEqual(c.login("kate").status, 200)
            self.assertEqual(c.accept_terms(SLUG).status, 204)
            r = c.request("POST", "/api/v1/challenges/%s/submissions" % SLUG, body=zip_of({"main.py": baseline()}))
            self.assertEqual(r.status, 201, r)
            sub = c.wait_done(r.json()["id"], timeout=RUN_TIMEOUT)
            self.assertEqual(sub["status"], "scored", sub)
            with open(clock, "w") as f:
                f.write("%d\n" % 1960000000)  # 2032: every phase has ended
            jury = server.client()
            self.assertEqual(jury.login("juno").status, 200)
            r = jury.post("/api/v1/challenges/%s/publish" % SLUG, {"reason": "checked"})
            self.assertEqual(r.status, 200, r)
            doc = c.get("/api/v1/challenges/%s/ranking" % SLUG).json()
            self.assertEqual([(row["team"], row["runtime_sha256"]) for row in doc["rows"]],
                             [("kate", sub["runtime_sha256"])])
        finally:
            server.stop(check=False)
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
