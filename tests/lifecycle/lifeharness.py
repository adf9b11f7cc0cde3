"""Helpers of the lifecycle tests (issue 5), on top of tests/http/harness.py (imported, not copied): a server
whose clock the test drives (`concours serve --test-clock FILE`), bundles with teams and final selection,
prediction files whose PUBLIC and PRIVATE orders differ on purpose, a ready-made contest of three teams, and
the text forms of private scores that must never reach a participant before publication.

Why this exists: every tests/lifecycle/test_*.py file starts its own server (ctest -j2 runs them side by side)
and most of them need the same contest; keeping it here keeps each file about what it proves.
Python 3 standard library only.
"""
import calendar
import json
import math
import os
import re
import shlex
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "http"))

import harness  # noqa: E402  (tests/http/harness.py)
from test_uploads import run_concurrently  # noqa: E402,F401  (re-exported for the test files)

main = harness.main
HOUR = 3600
DAY = 86400
T0 = calendar.timegm((2031, 3, 10, 0, 0, 0))  # a UTC midnight: every test clock is T0 + something
TERMINAL = ("scored", "failed", "cancelled")
STAFF_ONLY = (403, "forbidden")


def iso(t):
    """Seconds since the epoch -> the API's time format."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def api(slug, rest=""):
    return "/api/v1/challenges/" + slug + rest


def phase_at(name, start, end, **kw):
    """A phase object of challenge.json from epoch seconds (quotas and final_selection in KW)."""
    return harness.phase(name, iso(start), iso(end), **kw)


def make_bundle(parent, slug, phases, max_size=4):
    """The demo bundle copied to PARENT/SLUG with PHASES and teams.max_size = MAX_SIZE."""
    dst = harness.make_bundle(parent, slug, phases)
    path = os.path.join(dst, "challenge.json")
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    spec["teams"] = {"max_size": max_size}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(spec, f, indent=2)
    return dst


# ------------------------------------------------------------------------------------------ predictions

def split_predictions(public_a, private_a):
    """Predictions that give probability A to the true class: A = PUBLIC_A on Public rows and PRIVATE_A on
    Private rows. Every row of a split then loses exactly -log(A), so each split's score is chosen here and
    the bootstrap interval of each split is a single point."""
    pred = {}
    for row in harness.solution():
        a = public_a if row["Usage"].lower() == "public" else private_a
        pred[row["filename"]] = a if row["relapse"] == "1" else round(1 - a, 10)
    return pred


# The contest shared by most files: name -> (a on Public rows, a on Private rows). Lower log loss is better.
#   A1 public 0.0726 private 0.4943   best public of all, worst private
#   A2 public 0.3285 private 0.1278   the same team's alternative: worse in public, best in private
#   B1 public 0.2107 private 0.3011
#   C1 public 0.3711 private 0.1393
# Public order of the teams: Alpha (A1), bob, carol. Private order with Alpha's default (A1): carol, bob,
# Alpha; with Alpha selecting A2: Alpha, carol, bob. No private value shares its leading digits with a public
# one, and none appears in web/ (checked by the leak test).
QUALITY = {"A1": (0.93, 0.61), "A2": (0.72, 0.88), "B1": (0.81, 0.74), "C1": (0.69, 0.87)}


def predictions(name):
    return split_predictions(*QUALITY[name])


def expected(name):
    """(public, private) log loss of the contest prediction NAME, computed from private/solution.csv."""
    pred = predictions(name)
    return harness.log_loss(pred, "Public"), harness.log_loss(pred, "Private")


def bad_in(usage, value="1.5"):
    """The contest's B1 predictions with VALUE written in the first row of split USAGE; returns (csv, id)."""
    pred = predictions("B1")
    name = next(r["filename"] for r in harness.solution() if r["Usage"].lower() == usage.lower())
    text = harness.predictions_csv(pred).decode()
    line = "%s,%r\n" % (name, pred[name])
    assert line in text
    return text.replace(line, "%s,%s\n" % (name, value)).encode(), name


def score_texts(value, precisions=range(2, 18)):
    """Every way VALUE may be printed: fixed with 2..17 decimals, repr, %g and %.17g."""
    texts = {"%.*f" % (p, value) for p in precisions}
    texts |= {repr(value), "%g" % value, "%.17g" % value, "%.15g" % value}
    return texts


def leak_needles(privates, publics):
    """The texts of PRIVATES (score_texts) that are not part of any text of PUBLICS: finding one of them in a
    participant-visible response means a private score leaked."""
    public_texts = set().union(*(score_texts(p) for p in publics)) if publics else set()
    return sorted(t for v in privates for t in score_texts(v)
                  if not any(t in p for p in public_texts))


def error_shape(err, ids=()):
    """An error object reduced to what a participant could compare: code, keys, and the message with the ids
    in IDS and every number blanked."""
    msg = err["message"]
    for i in ids:
        msg = msg.replace(i, "ID")
    return err["code"], sorted(err), re.sub(r"\d+(\.\d+)?", "N", msg)


# ------------------------------------------------------------------------------------------------ server

class ClockServer(harness.Server):
    """harness.Server started with `--test-clock FILE`; set_clock() moves the server's "now"."""

    def __init__(self, bundles, now, workers=2):
        super().__init__(bundles=[], workers=workers)
        for slug, phases, max_size in bundles:
            make_bundle(self.challenges, slug, phases, max_size)
        self.clock = os.path.join(self.tmp, "clock")
        self.now = None
        self.halted = False  # stopped on purpose by halt()
        self.set_clock(now)

    def set_clock(self, t):
        """Writes T to the clock file atomically (temp file + rename)."""
        tmp = self.clock + ".new"
        with open(tmp, "w") as f:
            f.write("%d\n" % t)
        os.replace(tmp, self.clock)
        self.now = t

    def start(self):
        # harness.Server.start runs ARGS.concours with the usual flags: point it, for this one start, at a
        # two-line wrapper that adds --test-clock (rather than copying the start-up logic here)
        wrapper = os.path.join(self.tmp, "concours-with-clock")
        real = harness.ARGS.concours
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec %s \"$@\" --test-clock %s\n"
                    % (shlex.quote(os.path.abspath(real)), shlex.quote(self.clock)))
        os.chmod(wrapper, 0o755)
        harness.ARGS.concours = wrapper
        try:
            return super().start()
        finally:
            harness.ARGS.concours = real

    def halt(self):
        """SIGTERM and wait, keeping the data folder (stop() removes it). Returns the exit code."""
        self.halted = True
        self.proc.terminate()
        return self.proc.wait(timeout=20)

    def cli(self, *args, stdin=None):
        """Runs `concours ARGS...`; returns (exit code, stdout + stderr as text)."""
        r = subprocess.run([harness.ARGS.concours] + list(args), input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        return r.returncode, r.stdout.decode("utf-8", "replace")

    def db(self):
        return os.path.join(self.data, "concours.db")


class ClockTest(harness.ServerTest):
    """A TestCase class sharing one ClockServer. Subclasses set BUNDLES ([(slug, phases, max_size)]), START
    (the clock at start), WORKERS and USERS. When the server cannot start (e.g. --test-clock unknown), every
    test fails with the reason instead of the whole class erroring out."""

    BUNDLES = []
    START = T0
    WORKERS = 2
    start_error = None

    @classmethod
    def prepare(cls, server):
        """Runs after the bundles are made and before the server starts (a test may edit them)."""

    @classmethod
    def setUpClass(cls):
        cls.server = ClockServer(cls.BUNDLES, cls.START, cls.WORKERS)
        cls.prepare(cls.server)
        try:
            for name, role in cls.USERS:
                cls.server.add_user(name, role)
            cls.server.start()
        except AssertionError as e:
            cls.start_error = str(e)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop(check=cls.start_error is None)

    def setUp(self):
        if self.start_error:
            self.fail("the server did not start with --test-clock:\n" + self.start_error)

    def tearDown(self):
        if not self.start_error and not self.server.halted:
            super().tearDown()

    # ---- time
    def set_clock(self, t):
        self.server.set_clock(t)

    # ---- callers
    def staff(self, username, record=None):
        """A logged-in organizer/jury/admin (made with the CLI) switched to an API token."""
        c = self.login_as(username, record)
        c.token = c.new_token()
        c.cookie = c.csrf = None
        return c

    def upload_ok(self, client, data, slug, **kw):
        r = client.upload(data, slug=slug, **kw)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["status"], "queued", r)
        return r.json()["id"]

    def wait_final(self, client, sid, timeout=harness.SCORE_TIMEOUT):
        """Polls submission SID until scored, failed or cancelled; returns its JSON."""
        deadline = time.time() + timeout
        while True:
            r = client.submission(sid)
            self.assertEqual(r.status, 200, r)
            sub = r.json()
            if sub["status"] in TERMINAL:
                return sub
            self.assertIn(sub["status"], ("queued", "running"), sub)
            if time.time() > deadline:
                self.fail("submission %s still %s after %d s" % (sid, sub["status"], timeout))
            time.sleep(0.1)

    def scored(self, client, sid):
        sub = self.wait_final(client, sid)
        self.assertEqual(sub["status"], "scored", sub)
        return sub

    def quota(self, client, slug):
        r = client.challenge(slug)
        self.assertEqual(r.status, 200, r)
        return r.json()["quota"]

    # ---- teams
    def create_team(self, client, slug, name):
        r = client.post(api(slug, "/teams"), {"name": name})
        self.assertEqual(r.status, 201, r)
        return r.json()

    def join(self, client, slug, code):
        return client.post(api(slug, "/teams/join"), {"invite_code": code})

    def team(self, client, slug):
        r = client.get(api(slug, "/team"))
        self.assertEqual(r.status, 200, r)
        return r.json()

    # ---- jury
    def act(self, client, path, reason="checked by the jury", **extra):
        """POSTs a jury/organizer action with a reason."""
        body = {"reason": reason}
        body.update(extra)
        return client.post(path, body)

    def review(self, client, slug):
        r = client.get(api(slug, "/review"))
        self.assertEqual(r.status, 200, r)
        return r.json()

    def contest(self, slug, before_uploads=None, record=None):
        """Alpha (alice creates it, amir joins), bob and carol solo; calls BEFORE_UPLOADS(clients) if given,
        uploads A1, B1, C1, A2 in that order and waits for all four to be scored. Sets self.clients
        ({username: client}) and self.ids ({"A1": submission id, ...})."""
        alice, amir, bob, carol = (self.participant(n, slug=slug, record=record)
                                   for n in ("alice", "amir", "bob", "carol"))
        self.clients = {"alice": alice, "amir": amir, "bob": bob, "carol": carol}
        alpha = self.create_team(alice, slug, "Alpha")
        r = self.join(amir, slug, alpha["invite_code"])
        self.assertEqual(r.status, 200, r)
        if before_uploads is not None:
            before_uploads(self.clients)
        who = {"A1": alice, "B1": bob, "C1": carol, "A2": amir}
        ids = {name: self.upload_ok(who[name], harness.predictions_csv(predictions(name)), slug,
                                    description="contest " + name)
               for name in ("A1", "B1", "C1", "A2")}
        for name, sid in ids.items():
            sub = self.scored(who[name], sid)
            self.assertScore(sub["public_score"], expected(name)[0])
        self.ids = ids
        self.intervals_done()

    def intervals_done(self, timeout=120):
        """Waits until no submission's jury interval is still due (computed after the score, when the queue is idle:
        docs/api.md), so that the review reads the same before and after."""
        deadline = time.time() + timeout
        while True:
            db = sqlite3.connect(self.server.db(), timeout=30)
            try:
                due = db.execute("SELECT count(*) FROM submissions WHERE ci_pending>0").fetchone()[0]
            finally:
                db.close()
            if due == 0:
                return
            self.assertLess(time.time(), deadline, "%d interval(s) still due after %d s" % (due, timeout))
            time.sleep(0.2)

    def assertAt4(self, got, want):
        """GOT equals WANT at the leaderboard precision (4 decimals), whether GOT was rounded or not."""
        self.assertIsInstance(got, float)
        self.assertEqual(round(got, 4), round(want, 4), "got %r, expected %r at 4 decimals" % (got, want))

    def assertReviewRows(self, rows, ranked, unranked=()):
        """ROWS of a review: RANKED is [(team, contest prediction name, selected)] in rank order with the
        exact public and private scores, UNRANKED the [(team, name)] listed after them without a rank."""
        self.assertEqual([(r["team"], r["rank"]) for r in rows],
                         [(t, i + 1) for i, (t, _, _) in enumerate(ranked)] + [(t, None) for t, _ in unranked],
                         rows)
        for row, (team, name, selected) in zip(rows, ranked):
            self.assertEqual(row["submission_id"], self.ids[name], row)
            self.assertIs(row["selected"], selected, row)
            self.assertIs(row["disqualified"], False, row)
            self.assertAt4(row["public_score"], expected(name)[0])
            self.assertAt4(row["private_score"], expected(name)[1])
        for row, (team, name) in zip(rows[len(ranked):], unranked):
            self.assertEqual(row["submission_id"], self.ids[name], row)
