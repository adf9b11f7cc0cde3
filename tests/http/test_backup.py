"""Backups of a live server (issue 10, item 7; SECURITY.md 28): `concours backup DEST` taken while participants
upload restores, with `concours restore`, to a data folder whose database passes integrity_check and that holds
every submission acknowledged (201) before the backup started, each file with its SHA-256; a server starts on it
and serves them. A backup refuses an existing destination, a restore a non-empty data folder, and a damaged
backup (a file missing or altered) is refused by `concours backup verify` and by restore.

    python3 test_backup.py --concours build/concours --source .
"""
import hashlib
import os
import sqlite3
import subprocess
import threading
import time

import harness


class Backup(harness.ServerTest):
    BUNDLES = [(harness.DEMO_SLUG, [harness.phase("development", "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z",
                                                  max_per_day=100000, max_total=100000)])]
    def cli(self, *args):
        return subprocess.run([harness.ARGS.concours] + list(args), capture_output=True, text=True, timeout=300)

    def test_backup_under_load_restores_everything_acknowledged(self):
        uploaders = [self.participant("loader%d" % i) for i in range(2)]
        sample = harness.sample_submission()
        acked = []  # (time acknowledged, id, sha256)
        stop = threading.Event()
        errors = []

        def load(c, k):
            n = 0
            while not stop.is_set() and n < 400:
                body = sample.replace(b"\n", b"\r\n") if (n + k) % 3 == 0 else sample + b"\n" * (n % 5 + 1)
                r = c.upload(body, description="load %d-%d" % (k, n))
                if r.status == 201:
                    acked.append((time.monotonic(), r.json()["id"], hashlib.sha256(body).hexdigest()))
                elif r.status != 429:
                    errors.append(r)
                n += 1

        threads = [threading.Thread(target=load, args=(c, k)) for k, c in enumerate(uploaders)]
        for t in threads:
            t.start()
        while len(acked) < 20 and all(t.is_alive() for t in threads):
            time.sleep(0.05)
        dest = os.path.join(self.server.tmp, "backup-1")
        started = time.monotonic()
        before = [a for a in list(acked) if a[0] < started]
        r = self.cli("backup", dest, "--data", self.server.data)
        stop.set()
        for t in threads:
            t.join(timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("integrity and SHA-256 checked", r.stdout)
        self.assertEqual(errors, [])
        self.assertGreaterEqual(len(before), 20)

        restored = os.path.join(self.server.tmp, "restored")
        r = self.cli("restore", dest, "--data", restored)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        db = sqlite3.connect(os.path.join(restored, "concours.db"))
        try:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            rows = dict(db.execute("SELECT id, sha256 FROM submissions").fetchall())
        finally:
            db.close()
        for _, sid, sha in before:
            self.assertEqual(rows.get(sid), sha, "submission %d acknowledged before the backup is missing" % sid)
            with open(os.path.join(restored, "submissions", sha[:2], sha), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), sha)

        # a server runs on the restored folder and serves what was acknowledged
        srv = harness.Server(bundles=[])
        srv.data = restored
        srv.add_user("restorer", "organizer")
        srv.start()
        try:
            c = srv.client()
            self.assertEqual(c.login("restorer").status, 200)
            r = c.get("/api/v1/submissions/%d" % before[0][1])
            self.assertEqual(r.status, 200, r)
        finally:
            srv.stop(check=True)

    def test_refusals(self):
        dest = os.path.join(self.server.tmp, "backup-2")
        self.assertEqual(self.cli("backup", dest, "--data", self.server.data).returncode, 0)
        r = self.cli("backup", dest, "--data", self.server.data)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("exists", r.stderr)
        r = self.cli("restore", dest, "--data", self.server.data)  # the live data folder
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not empty", r.stderr)
        # a folder that is not a data folder (a mistyped --data): refused, and nothing written into it
        stray = os.path.join(self.server.tmp, "not-data")
        os.mkdir(stray)
        r = self.cli("backup", os.path.join(self.server.tmp, "backup-3"), "--data", stray)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not a concours data folder", r.stderr)
        self.assertEqual(os.listdir(stray), [])
        self.assertFalse(os.path.exists(os.path.join(self.server.tmp, "backup-3")))
        # damage the backup: an altered challenge folder and then a missing ground truth
        c = self.participant("damager")
        sid = c.upload(harness.sample_submission()).json()["id"]
        c.wait_done(sid)
        dest3 = os.path.join(self.server.tmp, "backup-3")
        self.assertEqual(self.cli("backup", dest3, "--data", self.server.data).returncode, 0)
        subs = os.path.join(dest3, "submissions")
        victim = next(os.path.join(root, f) for root, _, files in os.walk(subs) for f in files)
        os.remove(victim)
        with open(victim, "wb") as f:  # a new inode: the live store's file (hard-linked) is untouched
            f.write(b"tampered")
        r = self.cli("backup", "verify", dest3)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("missing or damaged", r.stderr)
        r = self.cli("restore", dest3, "--data", os.path.join(self.server.tmp, "never"))
        self.assertNotEqual(r.returncode, 0)
        self.assertFalse(os.path.exists(os.path.join(self.server.tmp, "never")), "nothing left behind")
        self.assertEqual(c.submission(sid).status, 200)


if __name__ == "__main__":
    harness.main()
