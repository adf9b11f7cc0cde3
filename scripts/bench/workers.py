#!/usr/bin/env python3
"""Throughput and latency of code runs through remote workers (docs/workers.md) against the server's own runs.

Starts `concours serve` with challenges/tissuenet-code-demo, submits M code runs (a main.py that writes its output at
once: the figures are the platform's cost, not the code's), and measures, for each setting:
  - local: the server runs the code itself (--local-runs 2);
  - K workers (K = 1, 4, 16 by default): --local-runs 0 and K `concours worker` processes on this machine;
the time until all M are scored (runs/s) and, per run, the time from the upload's 201 to the code's start as the
run's log shows it (claim-to-start latency, median and 95th percentile).
Baseline: the local setting. Run as root (the full sandbox). This machine has 2 cores: 16 workers share them.
--slurm N: the Slurm path's added latency per run. A single-node Slurm starts on loopback (as in
tests/workers/test_slurm.py); N runs are sent one after another, each taken either by one worker that stays up, or
by a `sbatch` job of scripts/slurm/concours-worker.sbatch (--once) submitted with it. It prints the median upload to
start of both, and their difference.
Usage: scripts/bench/workers.py [--runs M] [--workers 1,4,16] [--slurm N] [--concours build/concours]
"""
import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))
sys.path.insert(0, os.path.join(ROOT, "tests", "code"))
sys.path.insert(0, os.path.join(ROOT, "tests", "workers"))
import harness  # noqa: E402

SLUG = "tissuenet-code-demo"
CODE = ("import csv, time\nprint('START', time.time(), flush=True)\n"
        "names=[r['filename'] for r in csv.DictReader(open('/data/test_metadata.csv'))]\n"
        "with open('/output/submission.csv','w') as f:\n    f.write('filename,0,1,2,3\\n')\n"
        "    for n in names: f.write(n+',1,0,0,0\\n')\n")


def archive():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("main.py", CODE)
    return buf.getvalue()


def bench_server(extra):
    """A server with the demo challenge, its quotas lifted."""
    server = harness.Server(bundles=[], workers=2, extra_args=extra)
    shutil.copytree(os.path.join(ROOT, "challenges", SLUG), os.path.join(server.challenges, SLUG))
    with open(os.path.join(server.challenges, SLUG, "challenge.json")) as f:
        doc = json.load(f)
    doc["phases"][0]["max_per_day"] = 0
    doc["phases"][0]["max_total"] = 0
    with open(os.path.join(server.challenges, SLUG, "challenge.json"), "w") as f:
        json.dump(doc, f)
    return server


def measure(concours, runs, workers):
    extra = ["--local-runs", "2"] if workers == 0 else ["--local-runs", "0", "--lease-seconds", "30"]
    server = bench_server(extra)
    procs = []
    try:
        server.add_user("org", "organizer")
        server.start()
        if workers:
            tok = subprocess.run([concours, "worker-token", "add", "bench", "--data", server.data],
                                 capture_output=True, text=True, check=True).stdout
            tf = os.path.join(server.tmp, "token")
            with open(tf, "w") as f:
                f.write(tok)
            for k in range(workers):
                procs.append(subprocess.Popen([concours, "worker", "--server", "http://127.0.0.1:%d" % server.port,
                                               "--token-file", tf, "--node", "w%d" % k, "--work",
                                               os.path.join(server.tmp, "work")],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(1)
        c = server.client()
        c.register("bench")
        c.login("bench")
        c.token = c.new_token()
        c.cookie = None
        c.accept_terms(SLUG)
        org = server.client()
        org.login("org")
        data = archive()
        sent = {}
        t0 = time.time()
        for _ in range(runs):
            r = c.request("POST", "/api/v1/challenges/%s/submissions" % SLUG, body=data)
            assert r.status == 201, r
            sent[r.json()["id"]] = time.time()
        latencies = []
        for sid in sent:
            sub = c.wait_done(sid, timeout=600)
            assert sub["status"] == "scored", sub
        elapsed = time.time() - t0
        for sid, at in sent.items():
            log = org.get("/api/v1/submissions/%d/log" % sid).json()["log"]
            start = float(log.split("START ")[1].split()[0])
            latencies.append(start - at)
        latencies.sort()
        return runs / elapsed, statistics.median(latencies), latencies[int(0.95 * (len(latencies) - 1))]
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        server.stop(check=False)


def one_by_one(concours, runs, slurm):
    """Median and list of upload-to-start of RUNS runs sent one after another; each taken by a worker that stays up
    (SLURM None) or by an sbatch --once job submitted right after the upload (SLURM: a test_slurm.Slurm)."""
    server = bench_server(["--local-runs", "0", "--lease-seconds", "30"])
    proc = None
    try:
        server.add_user("org", "organizer")
        server.start()
        tok = subprocess.run([concours, "worker-token", "add", "bench", "--data", server.data],
                             capture_output=True, text=True, check=True).stdout
        tf = os.path.join(server.tmp, "token")
        with open(tf, "w") as f:
            f.write(tok)
        work = os.path.join(server.tmp, "work")
        if slurm is None:
            proc = subprocess.Popen([concours, "worker", "--server", "http://127.0.0.1:%d" % server.port,
                                     "--token-file", tf, "--node", "steady", "--work", work],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        c = server.client()
        c.register("bench")
        c.login("bench")
        c.accept_terms(SLUG)
        org = server.client()
        org.login("org")
        data = archive()
        latencies = []
        for _ in range(runs):
            r = c.request("POST", "/api/v1/challenges/%s/submissions" % SLUG, body=data)
            assert r.status == 201, r
            at, sid = time.time(), r.json()["id"]
            if slurm is not None:
                env = dict(slurm.env, CONCOURS=os.path.abspath(concours), CONCOURS_TOKEN_FILE=tf,
                           CONCOURS_SERVER="http://127.0.0.1:%d" % server.port, CONCOURS_IDLE_EXIT="60",
                           CONCOURS_WORK=work)
                subprocess.run(["sbatch", "--chdir", server.tmp, "--parsable",
                                os.path.join(ROOT, "scripts", "slurm", "concours-worker.sbatch")],
                               env=env, check=True, capture_output=True, timeout=60)
            sub = c.wait_done(sid, timeout=600)
            assert sub["status"] == "scored", sub
            log = org.get("/api/v1/submissions/%d/log" % sid).json()["log"]
            latencies.append(float(log.split("START ")[1].split()[0]) - at)
        return statistics.median(latencies), latencies
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait()
        server.stop(check=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--workers", default="1,4,16")
    ap.add_argument("--concours", default=os.path.join(ROOT, "build", "concours"))
    ap.add_argument("--slurm", type=int, default=0)
    args = ap.parse_args()
    harness.ARGS = argparse.Namespace(concours=args.concours, source=ROOT)
    if args.slurm:
        from test_slurm import Slurm
        steady, _ = one_by_one(args.concours, args.slurm, None)
        slurm = Slurm()
        try:
            batch, all_ = one_by_one(args.concours, args.slurm, slurm)
        finally:
            slurm.stop()
        print("%d runs one after another; baseline: one worker that stays up" % args.slurm)
        print("steady worker    upload to start: median %.3f s" % steady)
        print("sbatch --once    upload to start: median %.3f s (%.1fx), max %.3f s" % (batch, batch / steady,
                                                                                       max(all_)))
        print("Slurm's added latency per run: %.3f s (median)" % (batch - steady))
        return
    base = measure(args.concours, args.runs, 0)
    print("%d code runs each; baseline: the server's own runs (--local-runs 2)" % args.runs)
    print("local       %6.2f runs/s | upload to start: median %.3f s, p95 %.3f s" % base)
    for k in [int(x) for x in args.workers.split(",") if x]:
        rate, med, p95 = measure(args.concours, args.runs, k)
        print("%2d workers  %6.2f runs/s (%.2fx) | upload to start: median %.3f s, p95 %.3f s"
              % (k, rate, rate / base[0], med, p95))


if __name__ == "__main__":
    main()
