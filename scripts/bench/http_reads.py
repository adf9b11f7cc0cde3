#!/usr/bin/env python3
"""Deadline-day reads: concours against nginx serving the same bytes, in one run (issue 18, items 1 and 6).

Starts `concours serve` with a copy of challenges/visiomel-demo and --teams participants who each send the sample
submission (all scored), and nginx (Debian's nginx-light, installed with apt-get when missing) serving, as static
files, the very bytes concours answers for the leaderboard, the challenge list and the challenge, and the board
again as a signed-in participant's browser asks for it (a session cookie to look up) and as the CLI does (an API
token). Then wrk (Debian's,
installed when missing) runs --connections keep-alive connections for --seconds against each URL of each server.
Prints per URL: requests/s, p99 latency, and server CPU per request (from /proc/PID/stat), for concours and nginx,
and the ratios.
--seed-teams N adds N more teams straight into the database (each with its own score: a large board), and measures
the board's first page (`?limit=100`, what the page fetches) beside the whole board.
Usage: scripts/bench/http_reads.py [--teams 20] [--seed-teams 0] [--connections 64] [--seconds 10]
                                   [--concours build/concours]
"""
import argparse
import os
import re
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))
import harness  # noqa: E402
from benchlib import Nginx, cpu_s, ensure_tools, scored_teams  # noqa: E402


def seed_teams(db_path, n):
    """Adds N teams to the demo challenge's board, straight into the database (scoring N real submissions would
    take most of an hour): each a copy of the first scored team's best entry, with its own name and score."""
    db = sqlite3.connect(db_path)
    cid, team, sub, created = db.execute(
        "SELECT b.challenge_id, b.team_id, b.submission_id, b.best_created_at FROM leaderboard_best b "
        "ORDER BY b.team_id LIMIT 1").fetchone()
    scols = [r[1] for r in db.execute("PRAGMA table_info(submissions)") if r[1] not in ("id", "team_id",
                                                                                       "idempotency_key")]
    for k in range(n):
        tid = db.execute("INSERT INTO teams(challenge_id,name,solo,invite_code,created_at) "
                         "SELECT challenge_id, ?, 0, lower(hex(randomblob(12))), created_at FROM teams WHERE id=?",
                         ("seeded team %05d" % k, team)).lastrowid
        sid = db.execute("INSERT INTO submissions(team_id,%s) SELECT ?,%s FROM submissions WHERE id=?"
                         % (",".join(scols), ",".join(scols)), (tid, sub)).lastrowid
        score = (k * 7919 % n) / n
        db.execute("UPDATE submissions SET public_score=?, score=? WHERE id=?", (score, score, sid))
        db.execute("INSERT INTO leaderboard_best(challenge_id,team_id,submission_id,score,best_created_at,n_scored,"
                   "last_at) VALUES(?,?,?,?,?,1,?)", (cid, tid, sid, score, created, created))
    db.commit()
    db.close()


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if m is None:
        raise SystemExit("wrk printed a latency this script cannot read: %r" % text)
    if m.group(2) == "m":
        return float(m.group(1)) * 60000
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v


def wrk(url, conns, secs, pids, headers=()):
    before = cpu_s(pids())
    cmd = ["wrk", "-t2", "-c%d" % conns, "-d%ds" % secs, "--latency"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
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
    ap.add_argument("--seed-teams", type=int, default=0)
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
        sent = scored_teams(server, harness, args.teams)
        if args.seed_teams:
            server.proc.send_signal(signal.SIGTERM)
            server.proc.wait(timeout=60)
            seed_teams(os.path.join(server.data, "concours.db"), args.seed_teams)
            server.port = None
            server.lines = queue.Queue()  # the first server's output ended with its own end mark
            server.start()
            for c, _ in sent:  # the participants' sessions are in the database; the server has a new port
                c.port = server.port
        base = "http://127.0.0.1:%d" % server.port
        board = "/api/v1/challenges/%s/leaderboard" % harness.DEMO_SLUG
        paths = {"leaderboard": board,
                 "challenge list": "/api/v1/challenges",
                 "challenge": "/api/v1/challenges/%s" % harness.DEMO_SLUG}
        if args.seed_teams:  # what the page asks for first: its first 100 rows
            paths["first page"] = board + "?limit=100"
        # a participant's browser refreshing the board (a session cookie), and the CLI (an API token): the same bytes,
        # and a caller to look up each time
        paths["board, signed in"] = board
        paths["board, API token"] = board
        www = os.path.join(work, "www")
        os.mkdir(www)
        os.chmod(www, 0o755)
        for name, path in paths.items():
            body = urllib.request.urlopen(base + path).read()
            # nginx serves the file for the path without its query
            fname = os.path.join(www, name.replace(" ", "_").replace(",", "") + ".json")
            with open(fname, "wb") as f:
                f.write(body)
            os.chmod(fname, 0o644)
        ngx = Nginx(work, www)
        print("%d connections, %d s each, %d teams; concours vs nginx serving the same bytes"
              % (args.connections, args.seconds, args.teams + args.seed_teams))
        caller = {"board, signed in": ["Cookie: " + sent[0][0].cookie],
                  "board, API token": ["Authorization: Bearer " + sent[1][0].new_token()]}
        for name, path in paths.items():
            c = wrk(base + path, args.connections, args.seconds, lambda: [server.proc.pid], caller.get(name, ()))
            n = wrk("http://127.0.0.1:%d/%s.json" % (ngx.port, name.replace(" ", "_").replace(",", "")),
                    args.connections, args.seconds, ngx.pids)
            print("  %-16s concours %8.0f req/s p99 %7.1f ms %6.0f us CPU/req | nginx %8.0f req/s p99 %6.1f ms "
                  "%5.0f us CPU/req | %.2fx the req/s, %.1fx the CPU" % (name, c[0], c[1], c[2], n[0], n[1], n[2],
                                                                         c[0] / n[0], c[2] / n[2]))
    finally:
        if ngx is not None:
            ngx.stop()
        server.stop(check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
