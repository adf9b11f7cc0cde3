#!/usr/bin/env python3
"""Compares two builds of concours-score on Harrell's c-index (survival challenges, and the jury's statistics, which
compute the metric again on every bootstrap sample through the same function).

Two cases, runs interleaved (A, B, B, A, ...) so that the machine's drift falls on both alike:
  full        SUBJECTS subjects (default 1,000,000): the metric on all rows, the public rows and the private rows
  bootstrap   BOOT_SUBJECTS subjects (default 5,000) with --bootstrap 1000: three c-indices for each of the 1,000
              resamples, as many as the jury's analysis computes for a team with that many private cases
Prints each build's median wall and CPU time and B's median relative to A's, and stops if the builds' outputs differ.
Files (times of one decimal, 60 % events, risks of six decimals, tied times and risks) are written once to --dir.
Not a test: it prints figures.
Usage: scripts/bench/c_index.py OLD_SCORER NEW_SCORER [--rounds 5] [--subjects 1000000] [--boot-subjects 5000]
"""
import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time


def write_files(directory, n):
    """SURV_N_truth.csv (id,time,event,Usage) and SURV_N_pred.csv (id,risk) in DIRECTORY, unless they exist."""
    truth = os.path.join(directory, "surv_%d_truth.csv" % n)
    pred = os.path.join(directory, "surv_%d_pred.csv" % n)
    if os.path.exists(truth) and os.path.exists(pred):
        return truth, pred
    rnd = random.Random(5)
    with open(truth + ".tmp", "w") as t, open(pred + ".tmp", "w") as p:
        t.write("id,time,event,Usage\n")
        p.write("id,risk\n")
        for i in range(n):
            risk = rnd.random()
            t.write("s%d,%.1f,%d,%s\n" % (i, rnd.expovariate(1 + risk) * 100, rnd.random() < 0.6,
                                         "Public" if rnd.random() < 0.5 else "Private"))
            p.write("s%d,%.6f\n" % (i, risk))
    os.replace(truth + ".tmp", truth)
    os.replace(pred + ".tmp", pred)
    return truth, pred


def timed(argv):
    """Runs ARGV; returns (wall s, CPU s of the child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        sys.exit("%s failed (%d): %s" % (argv[0], out.returncode, out.stderr.decode(errors="replace")[:300]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--subjects", type=int, default=1000000)
    ap.add_argument("--boot-subjects", type=int, default=5000)
    ap.add_argument("--dir", default=os.environ.get("BENCH_DIR", "/tmp/concours-bench"))
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    cases = []
    truth, pred = write_files(a.dir, a.subjects)
    cases.append(("full, %d subjects" % a.subjects, ["--truth", truth, "--pred", pred, "--metric", "c_index"]))
    truth, pred = write_files(a.dir, a.boot_subjects)
    cases.append(("bootstrap 1000, %d subjects" % a.boot_subjects,
                  ["--truth", truth, "--pred", pred, "--metric", "c_index", "--bootstrap", "1000", "--seed", "1"]))
    print("A = %s; B = %s; %d rounds, interleaved" % (a.old, a.new, a.rounds))
    print("%-32s | %8s %8s | %8s %8s | %8s" % ("case", "A_wall", "A_cpu", "B_wall", "B_cpu", "B/A_wall"))
    for name, args in cases:
        runs = {a.old: [], a.new: []}
        outputs = set()
        for r in range(a.rounds):
            for build in ((a.old, a.new) if r % 2 == 0 else (a.new, a.old)):
                wall, cpu, out = timed([build] + args)
                runs[build].append((wall, cpu))
                outputs.add(out)
        if len(outputs) != 1:
            sys.exit("%s: the builds' outputs differ: %s" % (name, sorted(outputs)))
        med = {b: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for b, v in runs.items()}
        print("%-32s | %8.3f %8.2f | %8.3f %8.2f | %7.2fx" % (name, med[a.old][0], med[a.old][1], med[a.new][0],
                                                             med[a.new][1], med[a.new][0] / med[a.old][0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
