#!/usr/bin/env python3
"""Deadline-day reads: concours against nginx serving the same bytes, in one run (issue 18, items 1 and 6).

Starts `concours serve` with a copy of challenges/visiomel-demo and --teams participants who each send the sample
submission (all scored), and nginx (Debian's nginx-light, installed with apt-get when missing) serving, as static
files, the very bytes concours answers for the leaderboard, the challenge list and the challenge. Then wrk (Debian's,
installed when missing) runs --connections keep-alive connections for --seconds against each URL of each server.
Prints per URL: requests/s, p99 latency, and server CPU per request (from /proc/PID/stat), for concours and nginx,
and the ratios.
Usage: scripts/bench/http_reads.py [--teams 20] [--connections 64] [--seconds 10] [--concours build/concours]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))
import harness  # noqa: E402
from benchlib import Nginx, cpu_s, ensure_tools, scored_teams  # noqa: E402





def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if m is None:
        raise SystemExit("wrk printed a latency this script cannot read: %r" % text)
    if m.group(2) == "m":
        return float(m.group(1)) * 60000
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v


def wrk(url, conns, secs, pids):
    before = cpu_s(pids())
    out = subprocess.run(["wrk", "-t2", "-c%d" % conns, "-d%ds" % secs, "--latency", url], capture_output=True,
                         text=True, check=True).stdout
    cpu = cpu_s(pids()) - before
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # the distribution line, not a "..99%" stdev share
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit("%s: %s answers were not 2xx" % (url, non2xx.group(1)))
    return rps, p99, cpu / max(total, 1) * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--teams", type=int, default=20)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--concours", default=os.path.join(ROOT, "build", "concours"))
    args = ap.parse_args()
    ensure_tools(("nginx", "nginx-light"), ("wrk", "wrk"))
    harness.ARGS = argparse.Namespace(concours=os.path.abspath(args.concours), source=ROOT)
    work = tempfile.mkdtemp(prefix="concours-bench-reads-")
    os.chmod(work, 0o755)
    server = harness.Server(workers=2)
    ngx = None
    try:
        server.start()
        scored_teams(server, harness, args.teams)
        base = "http://127.0.0.1:%d" % server.port
        paths = {"leaderboard": "/api/v1/challenges/%s/leaderboard" % harness.DEMO_SLUG,
                 "challenge list": "/api/v1/challenges",
                 "challenge": "/api/v1/challenges/%s" % harness.DEMO_SLUG}
        www = os.path.join(work, "www")
        os.mkdir(www)
        os.chmod(www, 0o755)
        for name, path in paths.items():
            body = urllib.request.urlopen(base + path).read()
            fname = os.path.join(www, name.replace(" ", "_") + ".json")
            with open(fname, "wb") as f:
                f.write(body)
            os.chmod(fname, 0o644)
        ngx = Nginx(work, www)
        print("%d connections, %d s each, %d teams; concours vs nginx serving the same bytes"
              % (args.connections, args.seconds, args.teams))
        for name, path in paths.items():
            c = wrk(base + path, args.connections, args.seconds, lambda: [server.proc.pid])
            n = wrk("http://127.0.0.1:%d/%s.json" % (ngx.port, name.replace(" ", "_")), args.connections, args.seconds,
                    ngx.pids)
            print("  %-15s concours %8.0f req/s p99 %7.1f ms %6.0f us CPU/req | nginx %8.0f req/s p99 %6.1f ms "
                  "%5.0f us CPU/req | %.2fx the req/s, %.1fx the CPU" % (name, c[0], c[1], c[2], n[0], n[1], n[2],
                                                                         c[0] / n[0], c[2] / n[2]))
    finally:
        if ngx is not None:
            ngx.stop()
        server.stop(check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
