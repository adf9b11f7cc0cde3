#!/usr/bin/env python3
"""Every benchmark of scripts/bench/ (and the fault script scripts/faults/kill_runs.py) still runs, at tiny sizes.

`SMOKE=1 scripts/bench/deadline_day.sh` (issue 18's six, a second or two a case) must exit 0 and print each one's
figures, the uploads of its deadline hour all accepted or refused by the quota and all scored; the others run on
their own with small arguments (not `code_run.py --debian` nor `workers.py --slurm`, which build a root file
system or start Slurm: tests/code and tests/workers do). No figure is judged: on a loaded machine they mean
nothing. This catches benchmarks that stopped working (one did: a bundle refused by the anonymity gate once the
gate came).
Usage: test_smoke.py --build BUILD_DIR --source SOURCE_DIR
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ARGS = None
NUM = r"[0-9]+(?:\.[0-9]+)?"


def run(cmd, env=None, timeout=600):
    """CMD (a list) from the source folder, with ENV added to the environment: (exit status, stdout and stderr)."""
    r = subprocess.run(cmd, cwd=ARGS.source, env=dict(os.environ, BUILD_DIR=os.path.abspath(ARGS.build), **(env or {})),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return r.returncode, r.stdout.decode("utf-8", "replace")


class BenchSmoke(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rc, cls.out = run(["bash", "scripts/bench/deadline_day.sh"], {"SMOKE": "1"}, timeout=900)

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

    def test_large_board(self):
        """The board with seeded teams: the server restarted on its database, the participants' sessions kept."""
        text = self.section("a board of ")
        for name in ("leaderboard", "first page", "board, signed in", "board, API token"):
            self.assertRegex(text, r"(?m)^  %s\s*concours\s+%s req/s .*\| nginx\s+%s req/s .*x the req/s"
                             % (re.escape(name), NUM, NUM))
        self.assertRegex(text, r"(?m)^4 connections, 1 s each, 50 teams;")

    def test_uploads(self):
        text = self.section("uploads")
        for name in ("concours, Expect: 100-continue", "concours, no Expect", "nginx", "dd conv=fsync"):
            self.assertRegex(text, r"(?m)^  %s\s+%s MB/s\s+%sx nginx\s+%sx dd$" % (re.escape(name), NUM, NUM, NUM))

    def test_downloads(self):
        text = self.section("downloads")
        for kind in ("whole file", "range"):
            self.assertRegex(text, r"(?m)^  %s\s+concours\s+%s MiB/s .*\| nginx\s+%s MiB/s .*throughput %sx, "
                             r"CPU per GiB (?:%sx|n/a \(no CPU tick\)) nginx$" % (kind, NUM, NUM, NUM, NUM))

    def test_scorer(self):
        text = self.section("scorer")
        rows = re.findall(r"(?m)^(binary|multi)\s+20000\s+(\w+)\s+(aligned|shuffled)\s+.*\|\s+(%s)\s+%s\s+%s\s+\|"
                          r"\s+(%s)x\s+" % (NUM, NUM, NUM, NUM), text)
        cases = {(k, m, o) for k, m, o, _, _ in rows}
        self.assertEqual(len(cases), 10, text)  # 2 binary and 3 5-class metrics, each aligned and shuffled
        for row in rows:
            self.assertGreater(float(row[3]), 0.0, row)  # the pandas baseline ran and was timed

    def test_big_submission(self):
        text = self.section("a large submission")
        self.assertRegex(text, r"(?m)^upload: %s s \(%s MB/s\)$" % (NUM, NUM))
        self.assertRegex(text, r"(?m)^after the upload, scored in %s s" % NUM)
        self.assertRegex(text, r"(?m)^concours-score alone \(with --per-case, as the server runs it\), best of 1: "
                         r"%s s; through the server: %sx that$" % (NUM, NUM))
        self.assertRegex(text, r"(?m)^public score: server \S+, concours-score %s: the same$" % NUM)

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
        # the queue as the organizer's view showed it, and what was scored while the reads went on
        q = re.search(r"queue: at most (\d+) waiting \(%s s after the start\); (\d+) waiting and (\d+) running"
                      % NUM, text)
        during = re.search(r"scored while the reads went on: (\d+) in %s s" % NUM, text)
        self.assertTrue(q and during, text)
        self.assertLessEqual(int(q.group(1)), accepted, text)  # the window's uploads (the teams' first were scored)
        self.assertLessEqual(int(during.group(1)), accepted, text)
        # the threads as the server named them: --workers 2 and the small-file lane's 8 (server/queue.c)
        threads = re.search(r"scoring threads: (\d+) for any run, (\d+) for small files \(--workers 2\)", text)
        self.assertTrue(threads, text)
        self.assertEqual((int(threads.group(1)), int(threads.group(2))), (2, 8), text)

    def test_deadline_without_reads(self):
        text = self.section("the same uploads without reads")
        self.assertIn("readers: none", text)
        up = re.search(r"uploads: (\d+) sent, (\d+) accepted", text)
        sc = re.search(r"scored: (\d+) \((\d+) failed\)", text)
        self.assertTrue(up and sc, text)
        self.assertGreater(int(up.group(2)), 0, text)
        self.assertEqual((int(sc.group(1)), int(sc.group(2))), (int(up.group(2)), 0), text)


class OtherBenchmarks(unittest.TestCase):
    def check(self, cmd, patterns, env=None):
        rc, out = run(cmd, env)
        self.assertEqual(rc, 0, out[-3000:])
        for pat in patterns:
            self.assertRegex(out, pat)

    def test_scorer_family(self):
        """score.sh's files, then the benchmarks that read them: score_ids.py, score_ab.sh, folio.sh."""
        tmp = tempfile.mkdtemp(prefix="concours-bench-smoke-")
        try:
            env = {"BENCH_DIR": tmp}
            self.check(["bash", "scripts/bench/score.sh"], [r"(?m)^binary\s+20000\s+roc_auc\s+shuffled"],
                       dict(env, SIZES="20000", KINDS="binary", BASELINE="0", REPEAT="1"))
            self.check([sys.executable, "scripts/bench/score_ids.py", "--rows", "20000", "--dir", tmp], [])
            scorer = os.path.join(os.path.abspath(ARGS.build), "concours-score")
            self.check(["bash", "scripts/bench/score_ab.sh", scorer, scorer],
                       [r"(?m)^binary shuffled\s+roc_auc\s+\|\s+%s\s+%s\s+\|\s+%s\s+%s\s+\|\s+%sx" % ((NUM,) * 5),
                        r"(?m)^uuid_binary shuffled\s+roc_auc\s+\|"],
                       dict(env, ROWS="20000", ROUNDS="1",
                            CASES="binary:shuffled:roc_auc int_binary:shuffled:roc_auc sparse_binary:shuffled:roc_auc "
                                  "perm_binary:shuffled:roc_auc uuid_binary:shuffled:roc_auc"))
            self.check(["bash", "scripts/bench/folio.sh"], [r"(?m)^in small pages, kept so \(RECACHE=0\)\s+%s" % NUM,
                                                         r"(?m)^in 2 MiB pages \(written so, or later\)\s+%s" % NUM],
                       dict(env, KIND="binary", N="20000", REPEAT="1"))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_sandbox(self):
        self.check(["bash", "scripts/bench/sandbox.sh", "3"],
                   [r"(?m)^/usr/bin/true\s+%s\s+%s" % (NUM, NUM), r"(?m)^concours-score roc_auc, 1000 rows\s+%s" % NUM,
                    r"(?m)^  the same, in a warm sandbox\s+%s\s+%s" % (NUM, NUM)])

    def test_code_run(self):
        self.check([sys.executable, "scripts/bench/code_run.py", "--runs", "1", "--cpu-seconds", "1"],
                   [r"start-up, best of 1: direct %s s" % NUM, r"1 s CPU job: direct %s s" % NUM])

    def test_workers(self):
        self.check([sys.executable, "scripts/bench/workers.py", "--runs", "2", "--workers", "1"],
                   [r"(?m)^local\s+%s runs/s" % NUM, r"(?m)^ 1 workers\s+%s runs/s" % NUM])

    def test_stability(self):
        self.check([sys.executable, "scripts/bench/stability.py", "--teams", "4", "--cases", "300", "--bootstrap", "20",
                    "--baseline-pairs", "3"], [r"ratio: concours is %sx" % NUM])

    def test_c_index(self):
        """c_index.py against the same build twice: both cases printed, their outputs compared (it stops if unequal)."""
        tmp = tempfile.mkdtemp(prefix="concours-bench-smoke-")
        try:
            scorer = os.path.join(os.path.abspath(ARGS.build), "concours-score")
            self.check([sys.executable, "scripts/bench/c_index.py", scorer, scorer, "--rounds", "1", "--subjects",
                        "3000", "--boot-subjects", "300", "--dir", tmp],
                       [r"(?m)^full, 3000 subjects\s+\|\s+%s\s+%s\s+\|\s+%s\s+%s\s+\|\s+%sx" % ((NUM,) * 5),
                        r"(?m)^bootstrap 1000, 300 subjects\s+\|"])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_anon(self):
        self.check(["bash", "scripts/bench/anon.sh", "2000"],
                   [r"speed-up over the python3 baseline .*\(identical output\)"])

    def test_kill_runs(self):
        """The fault script's own claim: no sandbox process left after the server is killed, nor after its restart."""
        self.check([sys.executable, "scripts/faults/kill_runs.py", "--rounds", "1"],
                   [r"left after the crash: 0 in 1 rounds; left after the restart: 0"])


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
