"""Shared harness of the black-box HTTP tests: starts a `concours serve` child on a free port with a fresh
temp data folder, talks to it over plain HTTP, builds test bundles from challenges/visiomel-demo, and
computes the expected scores independently of the server.

Why this exists: every tests/http/test_*.py file runs its own server (so ctest can run them in parallel)
and needs the same plumbing; keeping it here keeps each test file about what it proves.
Python 3 standard library only.
"""
import argparse
import csv
import glob
import hashlib
import http.client
import io
import json
import math
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zipfile

DEMO_SLUG = "visiomel-demo"
PASSWORD = "correct-horse-battery"
START_TIMEOUT = 20
SCORE_TIMEOUT = 60

ARGS = None  # parsed --concours / --source, set by main()


def parse_args(argv):
    """Parses --concours BIN and --source DIR; the rest goes to unittest."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--concours", required=True, help="the concours executable")
    parser.add_argument("--source", required=True)
    return parser.parse_known_args(argv)


def main():
    """Entry point of every test file: `python3 test_x.py --concours BIN --source DIR [unittest args]`."""
    global ARGS
    ARGS, rest = parse_args(sys.argv[1:])
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


def source_path(*parts):
    return os.path.join(ARGS.source, *parts)


def demo_dir():
    return source_path("challenges", DEMO_SLUG)


# ----------------------------------------------------------------------------------------------- bundles

def make_bundle(parent, slug, phases=None, src=None):
    """Copies the demo bundle (or SRC) to PARENT/SLUG, sets its slug and, when given, its phases.
    Returns the new bundle's path."""
    dst = os.path.join(parent, slug)
    shutil.copytree(src or demo_dir(), dst)
    path = os.path.join(dst, "challenge.json")
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    if spec["slug"] != slug:
        spec["slug"] = slug
        spec["title"] = spec["title"] + " (" + slug + ")"
    if phases is not None:
        spec["phases"] = phases
    with open(path, "w", encoding="utf-8") as f:
        json.dump(spec, f, indent=2)
    return dst


def add_data(bundle, names, content=None):
    """Lists the files NAMES (under BUNDLE/data) in BUNDLE's challenge.json "data"; with CONTENT (bytes, one name),
    writes that file first. Returns the spec as written."""
    names = [names] if isinstance(names, str) else list(names)
    if content is not None:
        assert len(names) == 1
        with open(os.path.join(bundle, "data", names[0]), "wb") as f:
            f.write(content)
    path = os.path.join(bundle, "challenge.json")
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    spec["data"] += ["data/" + n for n in names]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(spec, f, indent=2)
    return spec


def zip_folder(folder):
    """The bundle FOLDER as a zip archive (its folder name at the top), as an organizer uploads it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for root, _, files in os.walk(folder):
            for name in files:
                full = os.path.join(root, name)
                z.write(full, os.path.relpath(full, os.path.dirname(folder)))
    return buf.getvalue()


def phase(name, start, end, max_per_day=5, max_total=200, **extra):
    """One phase object of challenge.json."""
    p = {"name": name, "start": start, "end": end, "max_per_day": max_per_day, "max_total": max_total}
    p.update(extra)
    return p


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def solution():
    """The demo's ground truth: a list of {"filename","relapse","Usage"}."""
    return read_csv(os.path.join(demo_dir(), "private", "solution.csv"))


def sample_submission():
    return read_bytes(os.path.join(demo_dir(), "data", "sample_submission.csv"))


def predictions_csv(pred):
    """A submission CSV from {filename: probability}."""
    out = io.StringIO()
    out.write("filename,relapse\n")
    for name, p in pred.items():
        out.write("%s,%r\n" % (name, p))
    return out.getvalue().encode()


def parse_predictions(data):
    return {r["filename"]: float(r["relapse"]) for r in csv.DictReader(io.StringIO(data.decode()))}


def log_loss(pred, usage=None):
    """Binary log loss of PRED ({filename: p}) on the solution rows whose Usage is USAGE (all when None),
    computed here,
    independently of the server's scorer: p clipped to [1e-15, 1-1e-15], natural log, mean over rows."""
    eps = 1e-15
    total, n = 0.0, 0
    for row in solution():
        if usage is not None and row["Usage"].lower() != usage.lower():
            continue
        p = min(max(pred[row["filename"]], eps), 1 - eps)
        y = int(row["relapse"])
        total += -(y * math.log(p) + (1 - y) * math.log(1 - p))
        n += 1
    return total / n


# ------------------------------------------------------------------------------------------------ client

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name):
        """The first value of header NAME (case-insensitive), or None."""
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def error_code(self):
        try:
            return self.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return None

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:300])


class Client:
    """One caller of the API: anonymous, a cookie session (with its CSRF token) or a Bearer token.
    RECORD, when a list, receives every Response (to search participant-visible bytes later)."""

    def __init__(self, port, record=None):
        self.port = port
        self.cookie = None
        self.csrf = None
        self.token = None
        self.username = None
        self.record = record

    def request(self, method, path, body=None, headers=None, json_body=None, csrf=True):
        hdrs = {}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs["Content-Type"] = "application/json"
        if self.token:
            hdrs["Authorization"] = "Bearer " + self.token
        if self.cookie:
            hdrs["Cookie"] = self.cookie
            if csrf and self.csrf and method not in ("GET", "HEAD", "OPTIONS"):
                hdrs["X-CSRF-Token"] = self.csrf
        hdrs.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            resp = Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()
        if self.record is not None:
            self.record.append(resp)
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body=json_body, **kw)

    # ---- accounts
    def register(self, username, password=PASSWORD, email=None):
        return self.post("/api/v1/users", {"username": username, "password": password,
                                           "email": username + "@example.org" if email is None else email})

    def login(self, username, password=PASSWORD):
        r = self.post("/api/v1/sessions", {"username": username, "password": password})
        if r.status == 200:
            self.username = username
            self.csrf = r.json()["csrf_token"]
            for v in r.header_all("Set-Cookie"):
                if v.startswith("concours_session="):
                    self.cookie = v.split(";", 1)[0]
        return r

    def new_token(self, name="tests"):
        r = self.post("/api/v1/tokens", {"name": name})
        assert r.status == 201, r
        return r.json()["token"]

    # ---- challenges
    def accept_terms(self, slug=DEMO_SLUG, version=1):
        return self.post("/api/v1/challenges/%s/terms" % slug, {"version": version})

    def challenge(self, slug=DEMO_SLUG):
        return self.get("/api/v1/challenges/" + slug)

    def upload(self, data, slug=DEMO_SLUG, description=None, key=None, content_type="text/csv"):
        path = "/api/v1/challenges/%s/submissions" % slug
        if description is not None:
            path += "?description=" + urlquote(description)
        headers = {"Content-Type": content_type}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.request("POST", path, body=data, headers=headers)

    def submission(self, sid):
        return self.get("/api/v1/submissions/%s" % sid)

    def wait_done(self, sid, timeout=SCORE_TIMEOUT):
        """Polls a submission until it is scored or failed; returns its JSON. Fails after TIMEOUT s."""
        deadline = time.time() + timeout
        while True:
            r = self.submission(sid)
            assert r.status == 200, r
            sub = r.json()
            if sub["status"] in ("scored", "failed"):
                return sub
            assert sub["status"] in ("queued", "running"), sub
            if time.time() > deadline:
                raise AssertionError("submission %s still %s after %d s" % (sid, sub["status"], timeout))
            time.sleep(0.2)

    def leaderboard(self, slug=DEMO_SLUG, query=""):
        return self.get("/api/v1/challenges/%s/leaderboard%s" % (slug, query))


def urlquote(text):
    from urllib.parse import quote
    return quote(text, safe="")


def raw_request(port, data, timeout=10, send_chunks=None):
    """Sends DATA (bytes) on a fresh TCP connection, then each of SEND_CHUNKS until the server starts to
    answer (a server may reply early, e.g. 413, and close), and returns (status or None, raw response).
    For requests http.client refuses to send, or bodies it would not stop sending."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        for chunk in send_chunks or ():
            if select.select([s], [], [], 0.05 if chunk else 0)[0]:
                break  # the server answers already: stop sending, or its close would reset the reply
            try:
                s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        while True:
            try:
                buf = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not buf:
                break
            out += buf
    finally:
        s.close()
    status = None
    if out.startswith(b"HTTP/1."):
        try:
            status = int(out.split(b" ", 2)[1])
        except (IndexError, ValueError):
            pass
    return status, out


# ------------------------------------------------------------------------------------------------ server

class Server:
    """A `concours serve` child with its own temp data folder, on 127.0.0.1 and a free port."""

    def __init__(self, bundles=None, max_upload_mb=None, workers=2, extra_args=()):
        """BUNDLES: [(slug, phases or None)] copied from the demo (default: the demo itself);
        EXTRA_ARGS: more `concours serve` flags (e.g. a test clock)."""
        self.extra_args = list(extra_args)
        self.tmp = tempfile.mkdtemp(prefix="concours-http-")
        self.data = os.path.join(self.tmp, "data")
        self.challenges = os.path.join(self.tmp, "challenges")
        os.makedirs(self.challenges)
        self.max_upload_mb = max_upload_mb
        self.workers = workers
        self.proc = None
        self.port = None
        self.log = []
        self.lines = queue.Queue()
        for b in bundles if bundles is not None else [(DEMO_SLUG, None)]:
            make_bundle(self.challenges, b[0], b[1])

    def add_user(self, name, role, password=PASSWORD):
        """Runs `concours user add NAME --role ROLE --password-stdin` against this data folder."""
        r = subprocess.run([ARGS.concours, "user", "add", name, "--role", role, "--data", self.data,
                            "--password-stdin"], input=(password + "\n").encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        if r.returncode != 0:
            raise AssertionError("user add %s failed (%d): %s" % (name, r.returncode, r.stdout.decode()))

    def start(self):
        cmd = [ARGS.concours, "serve", "--data", self.data, "--listen", "127.0.0.1:0",
               "--challenges", self.challenges, "--workers", str(self.workers)]
        if self.max_upload_mb is not None:
            cmd += ["--max-upload-mb", str(self.max_upload_mb)]
        cmd += self.extra_args
        # every statement's query plan is checked: reading a growing table whole fails the test (stop())
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=dict(os.environ, CONCOURS_SQL_PLAN_CHECK="1"))
        # this process's own queue: the pump of an earlier process of this Server (restarted) may still be reading
        # that process's last output, and its end (None) must not end this wait
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc, self.lines, self.log), daemon=True).start()
        deadline = time.time() + START_TIMEOUT
        while self.port is None:
            try:
                line = self.lines.get(timeout=max(0.05, deadline - time.time()))
            except queue.Empty:
                line = None
            if line is None or time.time() > deadline:
                self.stop(check=False)
                raise AssertionError("server did not print 'listening on' within %ds:\n%s"
                                     % (START_TIMEOUT, self.output()))
            if line.startswith("listening on http://127.0.0.1:"):
                self.port = int(line.rsplit(":", 1)[1].strip().rstrip("/"))
        return self

    @staticmethod
    def _pump(proc, lines, log):
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            log.append(line)
            lines.put(line)
        lines.put(None)

    def output(self):
        return "\n".join(self.log[-200:])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def client(self, record=None):
        return Client(self.port, record)

    def stop(self, check=True):
        """SIGTERM, wait, remove the temp folder. With CHECK, fails unless the exit code was 0."""
        code = None
        kids = []
        if self.proc is not None:
            if self.proc.poll() is None:
                kids = children(self.proc.pid)
                self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                code = "killed after 20 s"
        shutil.rmtree(self.tmp, ignore_errors=True)
        if check and code != 0:
            raise AssertionError("server exited with %s after SIGTERM:\n%s" % (code, self.output()))
        # a clean stop ends what the server started (the sandbox's spawner, runs) before the server exits
        left = [k for k in kids if os.path.exists("/proc/%d" % k)]
        if check and left:
            raise AssertionError("processes of the server outlived its stop: %s" % left)
        scans = sorted(set(line for line in self.log if "sql plan: full scan" in line))
        if check and scans:
            raise AssertionError("statements read a growing table whole (an index is missing):\n" + "\n".join(scans))


def scoring_threads(pid):
    """The server's scoring threads by name (server/queue.c names them score-any and score-small), counted in
    /proc: {"score-any": N, "score-small": M}."""
    counts = {"score-any": 0, "score-small": 0}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                name = f.read().strip()
        except OSError:
            continue
        if name in counts:
            counts[name] += 1
    return counts


def children(pid):
    """The pids of PID's children (every thread's), as /proc lists them."""
    out = []
    for task in glob.glob("/proc/%d/task/*/children" % pid):
        try:
            with open(task) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


class ServerTest(unittest.TestCase):
    """A TestCase class sharing one server: subclasses set BUNDLES / MAX_UPLOAD_MB / USERS
    ([(name, role)], added with the CLI before start) and get cls.server."""

    BUNDLES = None
    MAX_UPLOAD_MB = None
    USERS = ()

    @classmethod
    def make_server(cls):
        """The (not yet started) server of this class; override to start it differently."""
        return Server(cls.BUNDLES, cls.MAX_UPLOAD_MB)

    @classmethod
    def setUpClass(cls):
        cls.server = cls.make_server()
        try:
            for name, role in cls.USERS:
                cls.server.add_user(name, role)
            cls.server.start()
        except BaseException:
            cls.server.stop(check=False)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.stop(check=True)

    def tearDown(self):
        if not self.server.alive():
            self.fail("the server died:\n" + self.server.output())

    # ---- helpers shared by the tests
    def participant(self, username, accept=True, slug=DEMO_SLUG, bearer=True, record=None):
        """Registers USERNAME, logs in, optionally accepts SLUG's terms; with BEARER, also switches the
        client to an API token (no cookie). Returns the client."""
        c = self.server.client(record)
        r = c.register(username)
        self.assertEqual(r.status, 201, r)
        r = c.login(username)
        self.assertEqual(r.status, 200, r)
        if accept:
            r = c.accept_terms(slug)
            self.assertEqual(r.status, 204, r)
        if bearer:
            c.token = c.new_token()
            c.cookie = None
            c.csrf = None
        return c

    def login_as(self, username, record=None):
        c = self.server.client(record)
        r = c.login(username)
        self.assertEqual(r.status, 200, r)
        return c

    def assertError(self, resp, status, code):
        """RESP is STATUS with the JSON error body {"error":{"code":CODE,"message":non-empty}}."""
        self.assertEqual(resp.status, status, resp)
        try:
            err = resp.json()["error"]
        except (ValueError, KeyError, TypeError):
            self.fail("not a JSON error body: %r" % (resp,))
        self.assertEqual(err.get("code"), code, resp)
        self.assertTrue(isinstance(err.get("message"), str) and err["message"], resp)

    def assertScore(self, got, expected, places=4):
        """GOT equals EXPECTED rounded to PLACES decimals."""
        self.assertIsNotNone(got)
        self.assertAlmostEqual(got, round(expected, places), delta=1e-9,
                               msg="got %r, expected %r rounded to %d places" % (got, expected, places))


def run_concurrently(n, call):
    """Runs call(i) for i in 0..N-1 in N threads released together by a barrier; returns the N results.
    An exception in any of them fails the test."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = call(i)
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    errors = [r for r in results if not isinstance(r, Response)]
    assert not errors, errors
    return results


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()
