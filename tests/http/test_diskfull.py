"""A full disk (issue 10, item 4; SECURITY.md 25), on a 32 MiB tmpfs data folder filled to the last byte:
reads keep working; a login works or answers 503 storage_full, never 500; an upload answers 507 and leaves no
file behind; a scoring run that ends while the disk is full is never failed for it, and is scored exactly once
when space comes back. Needs root (it mounts a tmpfs), as CI runs; elsewhere it says so and skips.

    python3 test_diskfull.py --concours build/concours --source .
"""
import errno
import os
import subprocess
import time
import unittest

import harness

SLOW_SCORE = """\
import os, sys, time
time.sleep(4)
with open(os.path.join(sys.argv[2], "scores.txt"), "w") as f:
    f.write("auc: 0.5\\n")
"""


def fill(path):
    """Writes PATH until the file system is full; returns the bytes written."""
    written = 0
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 20, 1 << 12, 1):
            block = b"\0" * size
            while True:
                try:
                    written += f.write(block)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    return written


def tree_files(root):
    return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files)


@unittest.skipUnless(os.geteuid() == 0, "needs root to mount a small tmpfs")
class DiskFull(unittest.TestCase):
    def setUp(self):
        self.server = harness.Server(bundles=[], workers=1)
        os.makedirs(self.server.data)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "tmpfs", self.server.data], check=True)
        # a challenge scored by a program that takes 4 s: its run ends while the disk is full
        b = harness.make_bundle(self.server.challenges, "slow-demo")
        with open(os.path.join(b, "challenge.json")) as f:
            spec = harness.json.load(f)
        spec["metric"] = {"program": "scoring_program", "score_key": "auc", "higher_is_better": True}
        spec["phases"] = [harness.phase("dev", "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", 1000, 1000)]
        with open(os.path.join(b, "challenge.json"), "w") as f:
            harness.json.dump(spec, f)
        os.makedirs(os.path.join(b, "scoring_program"))
        with open(os.path.join(b, "scoring_program", "metadata"), "w") as f:
            f.write("command: python3 $program/score.py $input $output\n")
        with open(os.path.join(b, "scoring_program", "score.py"), "w") as f:
            f.write(SLOW_SCORE)

    def tearDown(self):
        self.server.stop(check=False)  # after the unmount below the folder is gone; stop removes the rest

    def test_full_disk(self):
        srv = self.server
        srv.start()
        try:
            p = srv.client()
            self.assertEqual(p.register("filler").status, 201)
            self.assertEqual(p.login("filler").status, 200)
            self.assertEqual(p.accept_terms("slow-demo").status, 204)
            sample = harness.sample_submission()
            sid = p.upload(sample, slug="slow-demo").json()["id"]
            deadline = time.time() + 60
            while p.submission(sid).json()["status"] != "running":
                self.assertLess(time.time(), deadline, "the run never started")
                time.sleep(0.05)
            filler = os.path.join(srv.data, "filler.bin")
            fill(filler)
            before = tree_files(os.path.join(srv.data, "submissions")) + tree_files(os.path.join(srv.data, "tmp"))

            # reads keep working
            self.assertEqual(srv.client().get("/api/v1/challenges").status, 200)
            self.assertEqual(srv.client().leaderboard("slow-demo").status, 200)
            self.assertEqual(p.submission(sid).status, 200)
            # a login works or says the disk is full; never a 500
            r = srv.client().login("filler")
            self.assertIn(r.status, (200, 503), r)
            if r.status == 503:
                self.assertEqual(r.error_code(), "storage_full")
            # an upload is refused with 507 and leaves nothing
            r = p.upload(sample + b"\n" * 4096, slug="slow-demo")
            self.assertEqual(r.status, 507, r)
            self.assertEqual(r.error_code(), "insufficient_storage")
            after = tree_files(os.path.join(srv.data, "submissions")) + tree_files(os.path.join(srv.data, "tmp"))
            self.assertEqual(after, before, "no file left by the refused upload")
            # so is a large one, which fills the disk from the pipe that hashes and flushes it (from 1 MiB on): with
            # 2 MiB free, 6 MiB sent
            with open(filler, "r+b") as f:
                f.truncate(os.path.getsize(filler) - (2 << 20))
            big = b"filename,relapse\n" + b"x" * (6 << 20)
            head = ("POST /api/v1/challenges/slow-demo/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Authorization: Bearer %s\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n"
                    % (p.new_token(), len(big))).encode()
            status, raw = harness.raw_request(srv.port, head, timeout=60,
                                              send_chunks=[big[i:i + 65536] for i in range(0, len(big), 65536)])
            self.assertEqual(status, 507, raw[:500])
            self.assertIn(b'"insufficient_storage"', raw)
            after = tree_files(os.path.join(srv.data, "submissions")) + tree_files(os.path.join(srv.data, "tmp"))
            self.assertEqual(after, before, "no file left by the refused upload")
            fill(filler + ".2")  # full again
            # the run ends meanwhile: never failed for the server's full disk
            t_end = time.time() + 8
            while time.time() < t_end:
                sub = p.submission(sid).json()
                self.assertNotEqual(sub["status"], "failed", "%s\n%s" % (sub, srv.output()))
                time.sleep(0.2)
            os.remove(filler)  # space comes back
            os.remove(filler + ".2")
            sub = p.wait_done(sid, timeout=60)
            if sub["status"] != "scored":
                import sqlite3
                db = sqlite3.connect(os.path.join(srv.data, "concours.db"))
                log = db.execute("SELECT log FROM submissions WHERE id=?", (sid,)).fetchone()[0]
                db.close()
                self.fail("%s\n%s\n%s" % (sub, log, srv.output()))
            self.assertAlmostEqual(sub["public_score"], 0.5)
            self.assertTrue(srv.alive(), srv.output())
        finally:
            srv.stop(check=True)
            subprocess.run(["umount", "-l", srv.data], check=False)


if __name__ == "__main__":
    harness.main()
