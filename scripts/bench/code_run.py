#!/usr/bin/env python3
"""Overhead of a code run (docs/code.md) over running the same main.py directly.

Starts `concours serve` on a temp data folder with challenges/tissuenet-code-demo, then:
  1. start-up: a main.py that only writes its output, N times: the run's wall time as the server records it
     (sandbox, unpacking, output copy) and the upload-to-scored latency, against `python3 main.py` run directly;
  2. CPU job: a main.py that burns S seconds of CPU, then writes its output: recorded wall time against the same
     script run directly;
  3. with --debian: `concours runtime build` of a "debian" runtime (python3) into a fresh data folder, then again
     (found in the cache), as wall seconds.
Prints each figure, the difference and the ratio (baseline: the direct run). Run as root (the full sandbox).
Usage: scripts/bench/code_run.py [--runs N] [--cpu-seconds S] [--debian] [--concours build/concours]
"""
import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))
import harness  # noqa: E402

SLUG = "tissuenet-code-demo"
WRITE = ("import csv\nnames=[r['filename'] for r in csv.DictReader(open('%(data)s/test_metadata.csv'))]\n"
         "with open('%(out)s/submission.csv','w') as f:\n    f.write('filename,0,1,2,3\\n')\n"
         "    for n in names: f.write(n+',1,0,0,0\\n')\n")
BURN = "import time\nt=time.process_time()\nwhile time.process_time()-t<%(s)d: pass\n"


def code(data, out, burn=0):
    return (BURN % {"s": burn} if burn else "") + WRITE % {"data": data, "out": out}


def direct(text, runs):
    """Wall seconds of `python3 main.py` run directly (the baseline), the best of RUNS."""
    tmp = tempfile.mkdtemp(prefix="concours-bench-direct-")
    try:
        with open(os.path.join(tmp, "main.py"), "w") as f:
            f.write(text.replace("%OUT%", tmp))
        best = None
        for _ in range(runs):
            t = time.monotonic()
            subprocess.run([sys.executable, "main.py"], cwd=tmp, check=True)
            best = min(best or 1e9, time.monotonic() - t)
        return best
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--cpu-seconds", type=int, default=30)
    ap.add_argument("--concours", default=os.path.join(ROOT, "build", "concours"))
    ap.add_argument("--debian", action="store_true", help="also time building a debian runtime, then reusing it")
    args = ap.parse_args()
    harness.ARGS = argparse.Namespace(concours=args.concours, source=ROOT)
    server = harness.Server(bundles=[], workers=1)
    shutil.copytree(os.path.join(ROOT, "challenges", SLUG), os.path.join(server.challenges, SLUG))
    with open(os.path.join(server.challenges, SLUG, "challenge.json")) as f:
        doc = json.load(f)
    doc["phases"][0]["max_per_day"] = 0
    doc["phases"][0]["max_total"] = 0
    doc["submission"]["limits"]["wall_seconds"] = args.cpu_seconds * 4 + 60
    with open(os.path.join(server.challenges, SLUG, "challenge.json"), "w") as f:
        json.dump(doc, f)
    hidden = os.path.join(ROOT, "challenges", SLUG, "hidden")
    try:
        server.start()
        c = server.client()
        c.register("bench")
        c.login("bench")
        c.token = c.new_token()
        c.cookie = None
        c.accept_terms(SLUG)

        def sandboxed(text):
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                z.writestr("main.py", text)
            t = time.monotonic()
            r = c.request("POST", "/api/v1/challenges/%s/submissions" % SLUG, body=buf.getvalue())
            assert r.status == 201, r
            sub = c.wait_done(r.json()["id"], timeout=args.cpu_seconds * 5 + 120)
            assert sub["status"] == "scored", sub
            return sub["wall_seconds"], time.monotonic() - t

        print("code run overhead (baseline: the same main.py run directly with python3)")
        runs = [sandboxed(code("/data", "/output")) for _ in range(args.runs)]
        base = direct(code(hidden, "%OUT%"), args.runs)
        wall = min(r[0] for r in runs)
        e2e = min(r[1] for r in runs)
        print("start-up, best of %d: direct %.3f s | sandboxed run %.3f s (+%.3f s, %.2fx) | upload to scored %.3f s"
              % (args.runs, base, wall, wall - base, wall / base, e2e))
        if args.cpu_seconds > 0:
            wall, e2e = sandboxed(code("/data", "/output", args.cpu_seconds))
            base = direct(code(hidden, "%OUT%", args.cpu_seconds), 1)
            print("%d s CPU job: direct %.2f s | sandboxed run %.2f s (+%.2f s, %.3fx) | upload to scored %.2f s"
                  % (args.cpu_seconds, base, wall, wall - base, wall / base, e2e))
        if args.debian:
            doc["submission"]["runtime"] = {"kind": "debian", "packages": ["python3"]}
            with open(os.path.join(server.challenges, SLUG, "challenge.json"), "w") as f:
                json.dump(doc, f)
            data = os.path.join(server.tmp, "debian-data")
            times = []
            for _ in range(2):
                t = time.monotonic()
                subprocess.run([args.concours, "runtime", "build", os.path.join(server.challenges, SLUG),
                                "--data", data], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                times.append(time.monotonic() - t)
            print("debian runtime (python3): built in %.1f s, found again in %.2f s (%.0fx)"
                  % (times[0], times[1], times[0] / times[1]))
    finally:
        server.stop(check=False)


if __name__ == "__main__":
    main()
