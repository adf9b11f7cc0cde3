#!/usr/bin/env python3
"""Every benchmark of issue 18 still runs: `SMOKE=1 scripts/bench/deadline_day.sh` (tiny sizes, a second or two a
case) must exit 0 and print each benchmark's figures, the uploads of its deadline hour all accepted or refused by
the quota and all scored. No figure is judged: on a loaded machine they mean nothing. This catches benchmarks
that stopped working (one did: a bundle refused by the anonymity gate once the gate came).
Usage: test_smoke.py --build BUILD_DIR --source SOURCE_DIR
"""
import argparse
import os
import re
import subprocess
import sys
import unittest

ARGS = None
NUM = r"[0-9]+(?:\.[0-9]+)?"


class BenchSmoke(unittest.TestCase):
    out = ""

    @classmethod
    def setUpClass(cls):
        env = dict(os.environ, SMOKE="1", BUILD_DIR=os.path.abspath(ARGS.build))
        r = subprocess.run(["bash", os.path.join(ARGS.source, "scripts", "bench", "deadline_day.sh")],
                           cwd=ARGS.source, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
        cls.out = r.stdout.decode("utf-8", "replace")
        cls.rc = r.returncode

    def section(self, title):
        """The lines printed under the section whose title starts with TITLE."""
        parts = re.split(r"^=== ", self.out, flags=re.M)
        found = [p for p in parts if p.startswith(title)]
        self.assertEqual(len(found), 1, "no section %r in:\n%s" % (title, self.out[-3000:]))
        return found[0]

    def test_exit_status(self):
        self.assertEqual(self.rc, 0, self.out[-3000:])

    def test_reads(self):
        text = self.section("reads")
        for name in ("leaderboard", "challenge list", "challenge ", "board, signed in", "board, API token"):
            self.assertRegex(text, r"(?m)^  %s\s*concours\s+%s req/s .*\| nginx\s+%s req/s .*x the req/s"
                             % (re.escape(name), NUM, NUM))

    def test_uploads(self):
        text = self.section("uploads")
        for name in ("concours, Expect: 100-continue", "concours, no Expect", "nginx", "dd conv=fsync"):
            self.assertRegex(text, r"(?m)^  %s\s+%s MB/s\s+%sx nginx\s+%sx dd$" % (re.escape(name), NUM, NUM, NUM))

    def test_downloads(self):
        text = self.section("downloads")
        for kind in ("whole file", "range"):
            self.assertRegex(text, r"(?m)^  %s\s+concours\s+%s MiB/s .*\| nginx\s+%s MiB/s .*throughput %sx"
                             % (kind, NUM, NUM, NUM))

    def test_scorer(self):
        text = self.section("scorer")
        rows = re.findall(r"(?m)^(binary|multi)\s+20000\s+(\w+)\s+(aligned|shuffled)\s+.*\|\s+(%s)\s+%s\s+%s\s+\|"
                          r"\s+(%s)x\s+" % (NUM, NUM, NUM, NUM), text)
        cases = {(k, m, o) for k, m, o, _, _ in rows}
        self.assertEqual(len(cases), 10, text)  # 2 binary and 3 5-class metrics, each aligned and shuffled
        for row in rows:
            self.assertGreater(float(row[3]), 0.0, row)  # the pandas baseline ran and was timed

    def test_organizer_views(self):
        text = self.section("organizer")
        for view in ("queue (organizer page", "newest 100 submissions", "jury review", "leaderboard",
                     "whole export, csv", "whole export, json", "create a team"):
            self.assertRegex(text, r"(?m)^%s.*\s%s" % (re.escape(view), NUM))

    def test_deadline_hour(self):
        text = self.section("a deadline hour")
        up = re.search(r"uploads: (\d+) sent, (\d+) accepted, (\d+) refused", text)
        sc = re.search(r"scored: (\d+) \((\d+) failed\)", text)
        lat = re.search(r"upload to score \(the server's times, in whole seconds\): median (-?\d+) s, "
                        r"p95 (-?\d+) s, max (-?\d+) s", text)
        self.assertTrue(up and sc and lat, text)
        sent, accepted, refused = (int(x) for x in up.groups())
        self.assertGreater(accepted, 0, text)
        self.assertEqual(sent, accepted + refused, text)
        self.assertEqual((int(sc.group(1)), int(sc.group(2))), (accepted, 0), text)
        self.assertTrue(all(int(x) >= 0 for x in lat.groups()), text)


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
