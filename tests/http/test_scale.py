"""Organizer views that stay cheap however many submissions a challenge holds (issue 18, item 5): the queue's counts
kept by triggers, the export streamed in batches (chunked, across batch boundaries) and read page by page newest
first with its total, the jury's bootstrap interval computed after the score is stored. The harness fails the
server if any statement read the submissions or the audit log whole (CONCOURS_SQL_PLAN_CHECK).

    python3 test_scale.py --concours build/concours --source .
"""
import csv
import io
import os
import signal
import sqlite3
import time

import harness

ROWS = 2500  # more than two of the export's batches of 1000


def api(path=""):
    return "/api/v1/challenges/%s%s" % (harness.DEMO_SLUG, path)


class Scale(harness.ServerTest):
    USERS = [("olga", "organizer")]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.org = cls.server.client()
        assert cls.org.login("olga").status == 200
        cls.pat = cls.participant_of(cls.server, "pat")
        r = cls.pat.upload(harness.sample_submission())
        assert r.status == 201, r
        cls.first = r.json()["id"]
        assert cls.pat.wait_done(cls.first)["status"] == "scored"
        # copies of the scored submission, one in ten failed, straight into the database (the server runs: WAL)
        db = sqlite3.connect(os.path.join(cls.server.data, "concours.db"), timeout=30)
        cols = [r[1] for r in db.execute("PRAGMA table_info(submissions)") if r[1] not in ("id", "idempotency_key")]
        db.executemany("INSERT INTO submissions(%s) SELECT %s FROM submissions WHERE id=?" % (",".join(cols), ",".join(cols)),
                       [(cls.first,)] * (ROWS - 1))
        db.execute("UPDATE submissions SET ci_pending=0 WHERE id != ?", (cls.first,))  # one interval to compute
        db.execute("UPDATE submissions SET status='failed', error_code='invalid_file', public_score=NULL, "
                   "private_score=NULL WHERE id % 10 = 3 AND id != ?", (cls.first,))
        db.commit()
        cls.failed = db.execute("SELECT count(*) FROM submissions WHERE status='failed'").fetchone()[0]
        db.close()

    @staticmethod
    def participant_of(server, name):
        c = server.client()
        assert c.register(name).status == 201 and c.login(name).status == 200
        assert c.accept_terms().status == 204
        return c

    def test_queue_counts(self):
        q = self.org.get(api("/queue")).json()
        self.assertEqual((q["scored"], q["failed"], q["queued"], q["running"]), (ROWS - self.failed, self.failed, 0, 0), q)
        self.assertEqual(len(q["recent_failures"]), 50, q)
        ids = [f["id"] for f in q["recent_failures"]]
        self.assertEqual(ids, sorted(ids, reverse=True), "newest failures first")

    def test_export_streamed(self):
        r = self.org.get(api("/export?format=csv"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Transfer-Encoding"), "chunked", r.headers)
        self.assertIn("attachment", r.header("Content-Disposition"))
        table = list(csv.DictReader(io.StringIO(r.body.decode("utf-8"))))
        ids = [int(row["id"]) for row in table]
        self.assertEqual(len(ids), ROWS)
        self.assertEqual(ids, sorted(set(ids)), "every submission once, in id order, across the batches")
        self.assertEqual(sum(row["status"] == "failed" for row in table), self.failed)
        r = self.org.get(api("/export?format=json"))
        self.assertEqual(r.header("Transfer-Encoding"), "chunked", r.headers)
        rows = r.json()
        self.assertEqual([x["id"] for x in rows], ids)
        self.assertEqual({x["team"] for x in rows}, {"pat"})
        self.assertTrue(all(x["private_score"] is not None for x in rows if x["status"] == "scored"))
        # HEAD: the head only
        r = self.org.request("HEAD", api("/export?format=json"))
        self.assertEqual((r.status, r.body), (200, b""))

    def test_export_pages(self):
        seen, before, pages = [], None, 0
        while True:
            path = "/export?format=json&limit=1000" + ("&before=%d" % before if before else "")
            r = self.org.get(api(path))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("X-Total-Count"), str(ROWS))
            page = r.json()
            if not page:
                break
            self.assertLessEqual(len(page), 1000)
            seen += [x["id"] for x in page]
            before = page[-1]["id"]
            pages += 1
        self.assertEqual(pages, 3)
        self.assertEqual(seen, sorted(seen, reverse=True))
        self.assertEqual(len(set(seen)), ROWS)
        # the organizer page's first page, as CSV too
        r = self.org.get(api("/export?format=csv&limit=1"))
        table = list(csv.DictReader(io.StringIO(r.body.decode("utf-8"))))
        self.assertEqual([int(x["id"]) for x in table], [seen[0]])
        for bad in ("limit=0", "limit=1001", "limit=x", "before=5", "limit=5&before=0", "limit=5&before=x",
                    "format=xml&limit=5"):
            self.assertError(self.org.get(api("/export?" + bad)), 400, "bad_request")
        self.assertEqual(self.pat.get(api("/export?format=json&limit=5")).status, 403)

    def test_interval_after_the_score(self):
        """The score is stored without the interval; the interval follows when the queue is idle."""
        deadline = time.time() + 120
        while True:
            db = sqlite3.connect(os.path.join(self.server.data, "concours.db"), timeout=30)
            row = db.execute("SELECT ci_pending, private_ci_lo, private_ci_hi, private_score FROM submissions "
                             "WHERE id=?", (self.first,)).fetchone()
            db.close()
            if row[0] == 0 or time.time() > deadline:
                break
            time.sleep(0.5)
        pending, lo, hi, priv = row
        self.assertEqual(pending, 0, "the interval was computed")
        self.assertIsNotNone(lo)
        self.assertLessEqual(lo, priv + 1e-9)
        self.assertGreaterEqual(hi, priv - 1e-9)
        # the scoring's per-case terms (the jury's stability analysis) outlive the interval's run
        self.assertTrue(os.path.exists(os.path.join(self.server.data, "percase", "%d.cpc" % self.first)))

    def test_team_created_among_many_submissions(self):
        c = self.participant_of(self.server, "newcomer")
        r = c.post(api("/teams"), {"name": "late team"})
        self.assertEqual(r.status, 201, r)


class IntervalAfterRestart(harness.ServerTest):
    """An interval left computing by a stop (or a crash) is due again at the next start, and computed then."""

    def interval(self, sid):
        db = sqlite3.connect(os.path.join(self.server.data, "concours.db"), timeout=30)
        try:
            return db.execute("SELECT ci_pending, private_ci_lo FROM submissions WHERE id=?", (sid,)).fetchone()
        finally:
            db.close()

    def wait_interval(self, sid):
        deadline = time.time() + 120
        while self.interval(sid)[0] != 0 and time.time() < deadline:
            time.sleep(0.5)
        return self.interval(sid)

    def test_due_again_after_restart(self):
        c = self.participant("ivy")
        sid = c.upload(harness.sample_submission()).json()["id"]
        self.assertEqual(c.wait_done(sid)["status"], "scored")
        self.assertEqual(self.wait_interval(sid)[0], 0)
        # as a server killed while computing it leaves it: claimed (2), no interval yet
        self.server.proc.send_signal(signal.SIGTERM)
        self.server.proc.wait(timeout=60)
        db = sqlite3.connect(os.path.join(self.server.data, "concours.db"), timeout=30)
        db.execute("UPDATE submissions SET ci_pending=2, private_ci_lo=NULL, private_ci_hi=NULL WHERE id=?", (sid,))
        db.commit()
        db.close()
        self.server.port = None
        self.server.start()
        pending, lo = self.wait_interval(sid)
        self.assertEqual(pending, 0, "computed after the restart")
        self.assertIsNotNone(lo)


if __name__ == "__main__":
    harness.main()
