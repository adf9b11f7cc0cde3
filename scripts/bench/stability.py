#!/usr/bin/env python3
"""Speed of the jury's stability analysis (API.md section 6, server/stability.c) against a NumPy + SciPy baseline.

Builds a challenge whose private split holds CASES cases (log loss), lets TEAMS participants each submit a prediction
file (each team a different noise level, so that some are tied and some apart), waits until all are scored (the
scorer writes their per-case terms), then times GET /api/v1/challenges/{slug}/review/stability?bootstrap=B: the
paired bootstrap (same resampled cases for every team), Kendall's tau per sample, and the one-sided Wilcoxon test of
every ordered pair, Holm-adjusted.
Baseline: the same analysis in NumPy (bootstrap means as a matrix product of the case counts) and SciPy
(scipy.stats.wilcoxon, zero_method="wilcox", correction=True, method="approx", once per ordered pair), run with
Debian's /usr/bin/python3. Its Wilcoxon part is timed on --baseline-pairs ordered pairs and scaled to all of them
(printed as such); --baseline-pairs 0 times them all.
--metric roc_auc (or any metric that is not a mean over cases) times the other path: the metric computed again on
every sample for every team, a pair's p the share of samples in which a does not beat b; no baseline then.
Usage: scripts/bench/stability.py [--teams 100] [--cases 100000] [--bootstrap 1000] [--baseline-pairs 300]
                                  [--metric log_loss]
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))
import harness  # noqa: E402

SLUG = "stability-bench"

BASELINE = r'''
import json, sys, time
import numpy as np
from scipy import stats
data = np.load(sys.argv[1])
v = -data["terms"]                      # teams x cases, greater is better
B, seed, pairs_timed = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t, n = v.shape
rng = np.random.default_rng(seed)
t0 = time.perf_counter()
ranks = np.empty((B, t), dtype=np.int32)
full = np.argsort(np.argsort(-v.mean(1))) + 1
taus = np.empty(B)
for b in range(B):
    w = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
    s = v @ w
    r = stats.rankdata(-s, method="min").astype(np.int32)
    ranks[b] = r
    taus[b] = stats.kendalltau(full, r).statistic
freq = np.stack([(ranks == k + 1).mean(0) for k in range(t)], 1)
ci = np.quantile(ranks, [0.025, 0.975], axis=0)
boot = time.perf_counter() - t0
ordered = [(a, c) for a in range(t) for c in range(t) if a != c]
timed = ordered if pairs_timed <= 0 else ordered[:pairs_timed]
t1 = time.perf_counter()
ps = [stats.wilcoxon(v[a], v[c], zero_method="wilcox", correction=True, alternative="greater",
                     method="approx").pvalue for a, c in timed]
pairs = (time.perf_counter() - t1) * len(ordered) / len(timed)
print(json.dumps({"bootstrap_s": boot, "pairs_s": pairs, "pairs_timed": len(timed), "pairs_all": len(ordered)}))
'''


def make_bundle(parent, cases, rnd, metric):
    """The challenge: CASES private cases and a tenth as many public ones, labels 0/1 (30 % ones), METRIC."""
    dst = harness.make_bundle(parent, SLUG)
    spec_path = os.path.join(dst, "challenge.json")
    with open(spec_path) as f:
        spec = json.load(f)
    spec.pop("anonymity", None)
    spec["metric"] = {"name": metric, "params": {}}
    spec["data"] = ["data/sample_submission.csv"]
    for ph in spec["phases"]:
        ph["max_per_day"] = 0
        ph["max_total"] = 0
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    for name in os.listdir(os.path.join(dst, "data")):
        os.remove(os.path.join(dst, "data", name))
    ids = ["c%07d" % i for i in range(cases + cases // 10)]
    labels = [1 if rnd.random() < 0.3 else 0 for _ in ids]
    with open(os.path.join(dst, "private", "solution.csv"), "w") as f:
        f.write("filename,relapse,Usage\n")
        f.write("".join("%s,%d,%s\n" % (i, y, "Private" if k < cases else "Public")
                        for k, (i, y) in enumerate(zip(ids, labels))))
    with open(os.path.join(dst, "data", "sample_submission.csv"), "w") as f:
        f.write("filename,relapse\n" + "".join("%s,0.5\n" % i for i in ids))
    return ids, labels


def predictions(ids, labels, quality, rnd):
    """Probabilities that lean towards the truth by QUALITY (0: coin flips) with noise, 3 decimals."""
    out = []
    for i, y in zip(ids, labels):
        p = min(0.999, max(0.001, 0.5 + (quality if y else -quality) + rnd.gauss(0, 0.15)))
        out.append("%s,%.3f\n" % (i, p))
    return "filename,relapse\n" + "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teams", type=int, default=100)
    ap.add_argument("--cases", type=int, default=100000)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--baseline-pairs", type=int, default=300)
    ap.add_argument("--metric", default="log_loss")
    ap.add_argument("--concours", default=os.path.join(ROOT, "build", "concours"))
    args = ap.parse_args()
    harness.ARGS = argparse.Namespace(concours=args.concours, source=ROOT)
    rnd = random.Random(7)
    server = harness.Server(bundles=[], workers=2)
    ids, labels = make_bundle(server.challenges, args.cases, rnd, args.metric)
    private = args.cases
    try:
        server.add_user("juror", "jury")
        server.start()
        subs, terms = [], []
        t0 = time.time()
        for k in range(args.teams):
            c = server.client()
            name = "team%03d" % k
            assert c.register(name).status == 201
            assert c.login(name).status == 200
            assert c.accept_terms(SLUG).status == 204
            quality = 0.05 + 0.2 * (k // 2) / max(1, args.teams // 2)  # pairs of teams of one quality: ties
            text = predictions(ids, labels, quality, rnd)
            r = c.request("POST", "/api/v1/challenges/%s/submissions" % SLUG, body=text.encode())
            assert r.status == 201, r
            subs.append((c, r.json()["id"]))
            probs = [float(line.split(",")[1]) for line in text.splitlines()[1:private + 1]]
            terms.append([-__import__("math").log(p if y else 1 - p) for p, y in zip(probs, labels[:private])])
        for c, sid in subs:
            sub = c.wait_done(sid, timeout=600)
            assert sub["status"] == "scored", sub
        print("%d teams x %d private cases scored in %.1f s (setup)" % (args.teams, private, time.time() - t0))
        jury = server.client()
        assert jury.login("juror").status == 200
        t1 = time.time()
        r = jury.get("/api/v1/challenges/%s/review/stability?bootstrap=%d&seed=1" % (SLUG, args.bootstrap))
        took = time.time() - t1
        assert r.status == 200, r
        st = r.json()
        print("concours (%s, %s): %.2f s for B=%d (%d ordered pairs, %d tie groups, Kendall's tau median %.3f)"
              % (args.metric, st["test"], took, args.bootstrap, len(st["pairs"]), len(st["groups"]),
                 st["kendall_tau"]["median"]))
        if st["test"] != "wilcoxon":
            return
        tmp = tempfile.mkdtemp(prefix="stability-bench-")
        try:
            npz = os.path.join(tmp, "terms.npz")
            subprocess.run(["/usr/bin/python3", "-c", "import numpy as np, json, sys; "
                            "np.savez(sys.argv[1], terms=np.array(json.load(sys.stdin)))", npz],
                           input=json.dumps(terms).encode(), check=True)
            base = subprocess.run(["/usr/bin/python3", "-c", BASELINE, npz, str(args.bootstrap), "1",
                                   str(args.baseline_pairs)], check=True, capture_output=True, text=True)
            b = json.loads(base.stdout)
            total = b["bootstrap_s"] + b["pairs_s"]
            print("baseline (NumPy + SciPy): bootstrap %.2f s, Wilcoxon %.2f s%s, total %.2f s"
                  % (b["bootstrap_s"], b["pairs_s"],
                     "" if b["pairs_timed"] == b["pairs_all"] else
                     " (timed on %d of %d pairs, scaled)" % (b["pairs_timed"], b["pairs_all"]), total))
            print("ratio: concours is %.1fx faster than the baseline" % (total / took))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        server.stop(check=False)


if __name__ == "__main__":
    main()
