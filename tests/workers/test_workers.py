"""Remote workers (API.md section 5, issue 12), end to end on loopback: a server started with `--local-runs 0`
runs no code itself; `concours worker` processes with a worker token claim the runs, run them in the same sandbox
and send their output back; the server scores each run exactly once. Faults: a worker killed (SIGKILL) mid-run, a
worker frozen (SIGSTOP) past its lease then resumed, a server restarted while a worker holds a lease; a result
under an old fence, for another run or with a bad hash, and a revoked token, are refused.

usage: python3 test_workers.py --concours BUILD/concours --source REPO [unittest args]
"""
import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
sys.path.insert(0, os.path.join(HERE, "..", "code"))
import harness  # noqa: E402
from test_code_runs import SLUG, baseline, demo, expected_scores, sandbox_processes  # noqa: E402

LEASE = 6
WAIT = 120


def zip_of(text):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("main.py", text)
    return buf.getvalue()


class WorkerServer(harness.Server):
    def __init__(self, clock=None):
        """CLOCK: a file holding the server's "now" (--test-clock), or None for the real time."""
        extra = ["--local-runs", "0", "--lease-seconds", str(LEASE)] + (["--test-clock", clock] if clock else [])
        super().__init__(bundles=[], workers=1, extra_args=extra)
        shutil.copytree(demo(), os.path.join(self.challenges, SLUG), ignore=shutil.ignore_patterns("baseline"))
        self.worker_procs = []

    def token(self, name):
        r = subprocess.run([harness.ARGS.concours, "worker-token", "add", name, "--data", self.data],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        path = os.path.join(self.tmp, name + ".token")
        with open(path, "w") as f:
            f.write(r.stdout)
        return path, r.stdout.strip()

    def worker(self, token_file, node, *extra):
        log = open(os.path.join(self.tmp, node + ".log"), "w")
        p = subprocess.Popen([harness.ARGS.concours, "worker", "--server", "http://127.0.0.1:%d" % self.port,
                              "--token-file", token_file, "--node", node,
                              "--work", os.path.join(self.tmp, "work-" + node)] + list(extra),
                             stdout=log, stderr=subprocess.STDOUT)
        self.worker_procs.append((p, log))
        return p

    def worker_log(self, node):
        with open(os.path.join(self.tmp, node + ".log")) as f:
            return f.read()

    def stop_workers(self):
        for p, _ in self.worker_procs:
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)
                p.terminate()
                p.wait(timeout=60)

    def stop(self, check=True):
        for p, log in self.worker_procs:
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)
                p.kill()
                p.wait()
            log.close()
        super().stop(check)


def participant(server, name):
    c = server.client()
    assert c.register(name).status == 201
    assert c.login(name).status == 200
    assert c.accept_terms(SLUG).status == 204
    return c


def send(c, code, mode=None):
    r = c.request("POST", "/api/v1/challenges/%s/submissions%s" % (SLUG, "?mode=" + mode if mode else ""),
                  body=zip_of(code))
    assert r.status == 201, r
    return r.json()["id"]


def wait_for(fn, what, timeout=WAIT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def worker_call(port, token, method, path, body=b"", ctype="application/octet-stream"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers={"Authorization": "Worker " + token, "Content-Type": ctype})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def claim_by_hand(port, token, node):
    """Claims a run as a worker would (a test playing the worker); returns the claim's "run"."""
    st, body = worker_call(port, token, "POST", "/api/v1/worker/claim", json.dumps({"node": node, "wait": 10}).encode(),
                           "application/json")
    assert st == 200, (st, body)
    return json.loads(body)["run"]


class WorkersTest(unittest.TestCase):
    def setUp(self):
        self.server = WorkerServer()
        self.server.start()

    def tearDown(self):
        if not self.server.alive() and self.server.proc is not None:
            print("server output:\n" + self.server.output(), file=sys.stderr)
        self.server.stop(check=False)

    def board(self, c):
        return [(r["name"], r["submissions"]) for r in c.leaderboard(SLUG).json()["rows"]]

    def test_runs_go_to_workers_and_are_scored_once(self):
        tf, _ = self.server.token("site-a")
        alice = participant(self.server, "alice")
        sid = send(alice, baseline())
        time.sleep(2)  # --local-runs 0: the server does not run it itself
        self.assertEqual(alice.submission(sid).json()["status"], "queued")
        self.server.worker(tf, "node-1", "--idle-exit", "60")
        sub = alice.wait_done(sid, timeout=WAIT)
        self.assertEqual((sub["status"], sub["public_score"]), ("scored", expected_scores()[0]), sub)
        self.assertRegex(sub["runtime_sha256"], "^[0-9a-f]{64}$")
        smoke = alice.wait_done(send(alice, baseline().replace("def main():", "def main():\n    print('W-MARK')"),
                                     "smoke"), timeout=WAIT)
        self.assertEqual(smoke["status"], "scored", smoke)
        log = alice.get("/api/v1/submissions/%d/log" % smoke["id"]).json()["log"]
        self.assertIn("W-MARK", log)  # the worker's log reached the server
        fail = alice.wait_done(send(alice, "raise SystemExit(5)"), timeout=WAIT)
        self.assertEqual((fail["status"], fail["error"]["code"]), ("failed", "code_failed"), fail)
        self.assertEqual(self.board(alice), [("alice", 1)])
        self.server.add_user("org", "organizer")
        org = self.server.client()
        self.assertEqual(org.login("org").status, 200)
        q = org.get("/api/v1/challenges/%s/queue" % SLUG).json()
        self.assertIn("node-1", [w["node"] for w in q["workers"]["workers"]])

    def test_a_shared_work_folder_keeps_the_other_machines_folders(self):
        # A work folder on a shared file system holds the folders of workers on other machines, whose PIDs mean
        # nothing here: a starting worker removes only this machine's dead workers' folders (before, any folder
        # whose PID was not running here went, a live worker's on another node included).
        tf, _ = self.server.token("site-shared")
        work = os.path.join(self.server.tmp, "work-shared")
        host = "".join(ch if ch.isalnum() or ch == "." else "_" for ch in socket.gethostname())[:63]
        gone = subprocess.Popen(["true"])
        gone.wait()
        folders = {"other": "w-another_node-%d" % gone.pid,      # a live worker of another node, as seen from here
                   "dead": "w-%s-%d" % (host, gone.pid),          # a worker of this machine, killed
                   "legacy": "w-%d" % gone.pid,                   # the same, named as before
                   "live": "w-%s-%d" % (host, os.getpid())}      # a worker of this machine, running
        for name in folders.values():
            os.makedirs(os.path.join(work, name, "tmp"))
            with open(os.path.join(work, name, "tmp", "run-file"), "w") as f:
                f.write("a run in progress")
        p = self.server.worker(tf, "shared", "--idle-exit", "30")
        # it sweeps the dead workers' folders (and their cgroups), then probes its sandbox: before, the probe found
        # the cgroups it had just swept gone, and the worker exited ("the sandbox does not work here")
        wait_for(lambda: "work folder" in self.server.worker_log("shared") or p.poll() is not None,
                 "the worker to start")
        self.assertIn("work folder", self.server.worker_log("shared"))
        own = "w-%s-%d" % (host, p.pid)  # its own folder is named after its machine
        self.assertTrue(os.path.isdir(os.path.join(work, own)), os.listdir(work))
        p.terminate()
        self.assertEqual(p.wait(timeout=60), 0)
        left = set(os.listdir(work))
        self.assertNotIn(own, left)  # gone with it
        self.assertIn(folders["other"], left)
        self.assertIn(folders["live"], left)
        self.assertNotIn(folders["dead"], left)
        self.assertNotIn(folders["legacy"], left)
        self.assertTrue(os.path.exists(os.path.join(work, folders["other"], "tmp", "run-file")))

    def test_a_killed_worker_loses_its_run_to_another_once(self):
        tf, _ = self.server.token("site-b")
        bob = participant(self.server, "bob")
        sid = send(bob, "import time\ntime.sleep(4)\n" + baseline())
        first = self.server.worker(tf, "doomed")
        wait_for(lambda: bob.submission(sid).json().get("stage") == "running", "the first worker to run it")
        first.kill()
        first.wait()
        self.server.worker(tf, "rescuer", "--idle-exit", "60")
        sub = bob.wait_done(sid, timeout=WAIT)
        self.assertEqual((sub["status"], sub["public_score"]), ("scored", expected_scores()[0]), sub)
        self.assertEqual(self.board(bob), [("bob", 1)])
        wait_for(lambda: not sandbox_processes(first.pid), "the killed worker's sandbox to be gone", 30)

    def test_a_frozen_worker_cannot_send_a_late_result(self):
        tf, _ = self.server.token("site-c")
        carol = participant(self.server, "carol")
        sid = send(carol, "import time\nprint('STARTED', flush=True)\ntime.sleep(%d)\n" % (LEASE + 6) + baseline())
        frozen = self.server.worker(tf, "frozen", "--once")
        self.server.add_user("org2", "organizer")
        org = self.server.client()
        self.assertEqual(org.login("org2").status, 200)
        wait_for(lambda: "STARTED" in (org.get("/api/v1/submissions/%d/log" % sid).json().get("log") or ""),
                 "the code to start on the first worker")
        frozen.send_signal(signal.SIGSTOP)
        time.sleep(LEASE + 2)  # its lease ends while it sleeps
        self.server.worker(tf, "fresh", "--idle-exit", "60")
        frozen.send_signal(signal.SIGCONT)
        sub = carol.wait_done(sid, timeout=WAIT)
        self.assertEqual(sub["status"], "scored", sub)
        frozen.wait(timeout=WAIT)
        self.assertIn("lease", self.server.worker_log("frozen"))
        self.assertEqual(self.board(carol), [("carol", 1)])

    def test_a_server_restart_while_a_worker_holds_a_lease_loses_nothing(self):
        tf, _ = self.server.token("site-d")
        dave = participant(self.server, "dave")
        sid = send(dave, "import time\ntime.sleep(5)\n" + baseline())
        self.server.worker(tf, "steady", "--idle-exit", "90")
        wait_for(lambda: dave.submission(sid).json().get("stage") == "running", "the worker to run it")
        self.server.proc.send_signal(signal.SIGTERM)
        self.server.proc.wait(timeout=30)
        while self.server.lines.get(timeout=30) is not None:
            pass
        port = self.server.port
        self.server.port = None
        self.server.extra_args += ["--listen", "127.0.0.1:%d" % port]  # the workers know this address
        self.server.start()
        dave = self.server.client()
        self.assertEqual(dave.login("dave").status, 200)
        sub = dave.wait_done(sid, timeout=WAIT)
        self.assertEqual((sub["status"], sub["public_score"]), ("scored", expected_scores()[0]), sub)
        self.assertEqual(self.board(dave), [("dave", 1)])

    def test_wrong_fences_hashes_runs_and_revoked_tokens_are_refused(self):
        tf, token = self.server.token("site-e")
        erin = participant(self.server, "erin")
        sid = send(erin, baseline())
        port = self.server.port
        run = claim_by_hand(port, token, "by-hand")
        self.assertEqual(run["id"], sid)
        self.assertNotIn("solution", json.dumps(run))  # no ground truth goes to a worker
        output = b"filename,0,1,2,3\n" + b"".join(b"%s,1,0,0,0\n" % f["path"].encode()
                                                   for f in run["inputs"] if f["path"].endswith(".png"))
        sha = hashlib.sha256(output).hexdigest()
        base = "/api/v1/worker/runs/%d/result?fence=%d&sha256=%s"
        st, body = worker_call(port, token, "POST", base % (sid, run["fence"] + 1, sha), output)
        self.assertEqual((st, json.loads(body)["error"]["code"]), (409, "lease_lost"))
        st, body = worker_call(port, token, "POST", base % (sid + 1000, run["fence"], sha), output)
        self.assertEqual(st, 409, body)
        st, body = worker_call(port, token, "POST", base % (sid, run["fence"], "0" * 64), output)
        self.assertEqual(st, 400, body)
        # a log chunk above its cap is refused, not kept
        st, body = worker_call(port, token, "POST", "/api/v1/worker/runs/%d/log?fence=%d" % (sid, run["fence"]),
                               b"x" * (256 * 1024 + 1))
        self.assertEqual((st, json.loads(body)["error"]["code"]), (413, "too_large"))
        # the signed link of an input works while the lease holds, not once altered
        url = run["inputs"][0]["url"]
        st, _ = worker_call(port, token, "GET", url)
        self.assertEqual(st, 200)
        st, _ = worker_call(port, token, "GET", url.replace("sig=", "sig=0"))
        self.assertEqual(st, 403)
        r = subprocess.run([harness.ARGS.concours, "worker-token", "revoke", "site-e", "--data", self.server.data],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        st, body = worker_call(port, token, "POST", base % (sid, run["fence"], sha), output)
        self.assertEqual(st, 401, body)
        st, _ = worker_call(port, token, "POST", "/api/v1/worker/claim", b'{"node":"x"}', "application/json")
        self.assertEqual(st, 401)
        p = self.server.worker(tf, "revoked")
        self.assertEqual(p.wait(timeout=60), 3)


    def test_cancelled_runs_stop_on_their_worker(self):
        tf, _ = self.server.token("site-f")
        frank = participant(self.server, "frank")
        self.server.add_user("org3", "organizer")
        org = self.server.client()
        self.assertEqual(org.login("org3").status, 200)
        sleeper = "import time\nprint('STARTED', flush=True)\ntime.sleep(600)\n"
        sid = send(frank, sleeper)
        node = self.server.worker(tf, "busy", "--idle-exit", "90")
        log_of = lambda i: org.get("/api/v1/submissions/%d/log" % i).json().get("log") or ""  # noqa: E731
        wait_for(lambda: "STARTED" in log_of(sid), "the code to start on the worker")
        self.assertTrue(sandbox_processes(node.pid))
        r = org.request("POST", "/api/v1/submissions/%d/cancel" % sid, json_body={"reason": "runaway"})
        self.assertEqual((r.status, r.json()["status"]), (200, "cancelled"), r)
        wait_for(lambda: not sandbox_processes(node.pid), "the worker to stop the cancelled run", WAIT)
        wait_for(lambda: "ended by the server" in self.server.worker_log("busy"), "the worker to say why")
        # the team cancels its own run while the same worker runs it
        sid2 = send(frank, sleeper)
        wait_for(lambda: "STARTED" in log_of(sid2), "the second run to start")
        self.assertEqual(frank.request("DELETE", "/api/v1/submissions/%d" % sid2).status, 204)
        wait_for(lambda: not sandbox_processes(node.pid), "the worker to stop the second run", WAIT)
        # the worker goes on with the next run; the cancelled ones cost nothing and were never scored
        sub = frank.wait_done(send(frank, baseline()), timeout=WAIT)
        self.assertEqual((sub["status"], sub["public_score"]), ("scored", expected_scores()[0]), sub)
        for i in (sid, sid2):
            self.assertEqual(frank.submission(i).json()["status"], "cancelled")
        self.assertEqual(self.board(frank), [("frank", 1)])
        self.assertEqual(node.poll(), None)

    def test_mounted_inputs_are_checked_then_read_in_place(self):
        tf, token = self.server.token("site-g")
        gina = participant(self.server, "gina")
        hidden = os.path.join(demo(), "hidden")
        mounted = os.path.join(self.server.tmp, "mnt")
        shutil.copytree(hidden, os.path.join(mounted, SLUG, "test"))
        self.server.worker(tf, "mounted", "--inputs-mounted", mounted, "--idle-exit", "60")
        sub = gina.wait_done(send(gina, baseline()), timeout=WAIT)
        self.assertEqual((sub["status"], sub["public_score"]), ("scored", expected_scores()[0]), sub)
        log = self.server.worker_log("mounted")
        self.assertIn("reads its inputs from %s/%s/test" % (mounted, SLUG), log)
        self.assertNotIn("fetching them", log)
        cache = os.path.join(self.server.tmp, "work-mounted", "cache")
        fetched = [n for n in os.listdir(cache) if len(n) == 64]
        self.assertEqual(len(fetched), 1, fetched)  # the code archive alone: no input went over the network
        self.assertIn("mounted-hashes.json", os.listdir(cache))
        # a node copy that differs in one byte (or holds one file more) is refused: the run fetches its inputs
        victim = sorted(os.listdir(os.path.join(mounted, SLUG, "test")))[0]
        with open(os.path.join(mounted, SLUG, "test", victim), "ab") as f:
            f.write(b"\0")
        sub = gina.wait_done(send(gina, baseline()), timeout=WAIT)
        self.assertEqual((sub["status"], sub["public_score"]), ("scored", expected_scores()[0]), sub)
        self.assertIn("does not match the challenge's inputs: fetching them", self.server.worker_log("mounted"))
        # by hand: the server names the difference
        self.server.stop_workers()
        sid = send(gina, baseline())
        run = claim_by_hand(self.server.port, token, "by-hand")
        self.assertEqual(run["challenge"], SLUG)
        files = [{k: f[k] for k in ("path", "sha256", "size")} for f in run["inputs"]]
        path = "/api/v1/worker/runs/%d/inputs?fence=%d" % (sid, run["fence"])

        def declare(lst):
            st, body = worker_call(self.server.port, token, "POST", path, json.dumps({"files": lst}).encode(),
                                   "application/json")
            return st, json.loads(body) if body else None
        self.assertEqual(declare(files)[0], 204)
        st, err = declare(files + [{"path": "solution.csv", "sha256": "0" * 64, "size": 1}])
        self.assertEqual((st, err["error"]["code"]), (409, "inputs_mismatch"), err)
        self.assertIn("solution.csv", err["error"]["message"])
        st, err = declare(files[1:])
        self.assertEqual((st, err["error"]["code"]), (409, "inputs_mismatch"), err)
        self.assertIn("missing", err["error"]["message"])
        bad = [dict(files[0], sha256="f" * 64)] + files[1:]
        st, err = declare(bad)
        self.assertEqual((st, err["error"]["code"]), (409, "inputs_mismatch"), err)
        self.assertEqual(declare("nope")[0], 400)
        st, body = worker_call(self.server.port, token, "POST",
                               "/api/v1/worker/runs/%d/inputs?fence=%d" % (sid, run["fence"] + 1), b"{}",
                               "application/json")
        self.assertEqual(st, 409, body)


class DeadlineTest(unittest.TestCase):
    """A worker that keeps its lease but never ends its run (its clock or limits broken) cannot hold it past the run's
    own deadline: its wall limit from the start of the code, plus a lease."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="concours-clock-")
        self.clock = os.path.join(self.tmp, "clock")
        self.now = int(time.time())
        self.set_clock(self.now)
        self.server = WorkerServer(clock=self.clock)
        self.server.start()

    def tearDown(self):
        self.server.stop(check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def set_clock(self, t):
        with open(self.clock + ".new", "w") as f:
            f.write("%d\n" % t)
        os.replace(self.clock + ".new", self.clock)
        self.now = t

    def test_a_run_past_its_deadline_fails_and_its_worker_is_told_to_stop(self):
        _, token = self.server.token("site-h")
        hal = participant(self.server, "hal")
        sid = send(hal, baseline())
        port = self.server.port
        run = claim_by_hand(port, token, "stuck")
        wall = run["limits"]["wall_seconds"]
        beat = "/api/v1/worker/runs/%d/heartbeat?fence=%d" % (sid, run["fence"])
        # fetching its inputs: no deadline yet, however long it takes
        for _ in range(3):
            self.set_clock(self.now + LEASE - 1)
            st, body = worker_call(port, token, "POST", beat)
            self.assertEqual((st, json.loads(body)["cancel"]), (200, False), body)
        started = self.now
        st, body = worker_call(port, token, "POST", beat + "&running=1")
        self.assertEqual((st, json.loads(body)["cancel"]), (200, False), body)
        while self.now <= started + wall + 1:  # up to the deadline itself: started + wall + LEASE
            self.set_clock(self.now + LEASE - 1)
            st, body = worker_call(port, token, "POST", beat + "&running=1")
            self.assertEqual((st, json.loads(body)["cancel"]), (200, False), body)
        self.set_clock(started + wall + LEASE + 1)
        sub = hal.wait_done(sid, timeout=WAIT)
        self.assertEqual((sub["status"], sub["error"]["code"]), ("failed", "time_limit"), sub)
        self.assertIn("%d s" % wall, sub["error"]["message"])
        st, body = worker_call(port, token, "POST", beat + "&running=1")
        self.assertEqual((st, json.loads(body)), (200, {"cancel": True, "reason": "failed"}), body)
        output = b"filename,0,1,2,3\n"
        st, body = worker_call(port, token, "POST", "/api/v1/worker/runs/%d/result?fence=%d&sha256=%s"
                               % (sid, run["fence"], hashlib.sha256(output).hexdigest()), output)
        self.assertEqual(st, 409, body)
        self.assertEqual(self.board(hal), [])

    def board(self, c):
        return [(r["name"], r["submissions"]) for r in c.leaderboard(SLUG).json()["rows"]]

if __name__ == "__main__":
    harness.main()
