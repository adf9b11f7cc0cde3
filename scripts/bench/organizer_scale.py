#!/usr/bin/env python3
"""Organizer and jury views at a million submissions (issue 18, item 5), in one run.

Starts `concours serve` with a copy of challenges/visiomel-demo, --teams participants who each send the sample
submission (scored for real), then stops it and copies those rows in the database until the challenge holds
--submissions submissions (a share of them failed, a few queued), and starts it again on the same data. Then times,
as the organizer: the queue view (which the organizer page polls every 4 s), the page of the newest 100
submissions the organizer page shows, the whole CSV and JSON exports (bytes, and the server's peak resident
memory before and after), the jury review; as a participant: creating a team and reading the leaderboard. Each
timing is the median of --rounds. Prints one line per view, a CSV export run while the queued rows are scored (each
run's supervisor must not slow the server: see docs/sandbox.md, the spawner), how fast the queued rows were scored
(each scoring updates its team's best entry at this scale), then both exports once the queue is empty.
Usage: scripts/bench/organizer_scale.py [--submissions 1000000] [--teams 50] [--rounds 5] [--concours build/concours]
"""
import argparse
import os
import queue
import signal
import sqlite3
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))
import harness  # noqa: E402
from benchlib import cpu_s, scored_teams  # noqa: E402


def peak_rss_mb(pid):
    """The process's peak and current resident memory (VmHWM, VmRSS) in MiB."""
    with open("/proc/%d/status" % pid) as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return int(fields["VmHWM"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024


def grow(db_path, want):
    """Copies the challenge's submissions until there are WANT: 5 % failed, 0.1 % queued, the rest scored."""
    db = sqlite3.connect(db_path)
    cols = [r[1] for r in db.execute("PRAGMA table_info(submissions)") if r[1] not in ("id", "idempotency_key")]
    have = db.execute("SELECT count(*) FROM submissions").fetchone()[0]
    while have < want:
        n = min(have, want - have)
        db.execute("INSERT INTO submissions(%s) SELECT %s FROM submissions ORDER BY id LIMIT ?"
                   % (",".join(cols), ",".join(cols)), (n,))
        have += n
    db.execute("UPDATE submissions SET status='failed', error_code='invalid_file', error_message='line 2: bad', "
               "public_score=NULL, private_score=NULL, score=NULL WHERE id % 20 = 7")
    db.execute("UPDATE submissions SET status='queued', public_score=NULL, private_score=NULL, score=NULL, "
               "scored_at=NULL WHERE id % 1000 = 3")
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return have


def timed(call, rounds):
    times = []
    out = None
    for _ in range(rounds):
        t0 = time.monotonic()
        out = call()
        times.append(time.monotonic() - t0)
    return statistics.median(times), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--submissions", type=int, default=1000000)
    ap.add_argument("--teams", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--concours", default=os.path.join(ROOT, "build", "concours"))
    args = ap.parse_args()
    harness.ARGS = argparse.Namespace(concours=os.path.abspath(args.concours), source=ROOT)
    server = harness.Server(workers=2)
    try:
        server.add_user("org", "organizer")
        server.start()
        sent = scored_teams(server, harness, args.teams)
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=60)
        t0 = time.monotonic()
        total = grow(os.path.join(server.data, "concours.db"), args.submissions)
        print("database: %d submissions, grown in %.0f s" % (total, time.monotonic() - t0))
        server.port = None
        server.lines = queue.Queue()  # the first server's output ended with its own end mark
        t0 = time.monotonic()
        server.start()
        start = time.monotonic()
        print("server start on it: %.2f s" % (time.monotonic() - t0))
        for c, _ in sent:  # their sessions live in the database; the port is the new server's
            c.port = server.port
        org = server.client()
        assert org.login("org").status == 200
        base = "/api/v1/challenges/%s" % harness.DEMO_SLUG
        pid = server.proc.pid
        print("%-44s %10s %12s" % ("view", "median_s", "bytes"))

        def show(what, call):
            t, r = timed(call, args.rounds)
            assert r.status == 200, (what, r.status, r.body[:300])
            print("%-44s %10.3f %12d" % (what, t, len(r.body)))
            return r

        q = show("queue (organizer page, every 4 s)", lambda: org.get(base + "/queue")).json()
        queued0, done0 = q["queued"] + q["running"], q["scored"] + q["failed"]
        show("newest 100 submissions (organizer page)", lambda: org.get(base + "/export?format=json&limit=100"))
        show("jury review", lambda: org.get(base + "/review"))
        show("leaderboard", lambda: sent[0][0].get(base + "/leaderboard"))
        def export(fmt, label):  # curl reads the chunked reply (Python's reader would be the bottleneck)
            url = "http://127.0.0.1:%d%s/export?format=%s" % (server.port, base, fmt)
            t0, cpu0 = time.monotonic(), cpu_s([pid], children=False)
            size = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download}", "-H",
                                   "Cookie: " + org.cookie, url], capture_output=True, text=True, check=True).stdout
            secs, cpu = time.monotonic() - t0, cpu_s([pid], children=False) - cpu0
            mb = int(size) / 1e6
            print("%-44s %10.3f %12d  (%.0f MB/s; server CPU %.2f s, %.0f MB per CPU second)"
                  % (label, secs, int(size), mb / secs, cpu, mb / max(cpu, 0.01)))

        # one export while the queued rows are scored: each run's supervisor must not slow the server's own work
        left = org.get(base + "/queue").json()
        if left["queued"] + left["running"] > 0:
            export("csv", "whole export, csv, while the queue is scored")
            left = org.get(base + "/queue").json()
            print("  (%d rows still queued or running at its end)" % (left["queued"] + left["running"]))
        # the queued rows, scored meanwhile (each scoring updates its team's best entry); the exports then run alone
        t0 = time.monotonic()
        left = org.get(base + "/queue").json()
        while left["queued"] + left["running"] > 0 and time.monotonic() - t0 < 600:
            time.sleep(1)
            left = org.get(base + "/queue").json()
        done = left["scored"] + left["failed"]
        print("queue: %d queued at the start, %d left after %.0f s more; %d scored or failed in all, %.1f per second "
              "since the start" % (queued0, left["queued"] + left["running"], time.monotonic() - t0, done - done0,
                                   (done - done0) / (time.monotonic() - start)))
        hwm0, rss0 = peak_rss_mb(pid)
        for fmt in ("csv", "json"):
            export(fmt, "whole export, " + fmt)
        hwm1, rss1 = peak_rss_mb(pid)
        print("server memory: peak %.0f MiB before the exports, %.0f MiB after (resident now %.0f MiB, was %.0f)"
              % (hwm0, hwm1, rss1, rss0))
        times = []
        for k in range(args.rounds):  # newcomers: a team that has submitted cannot be left
            c = server.client()
            assert c.register("newcomer%d" % k).status == 201 and c.login("newcomer%d" % k).status == 200
            assert c.accept_terms(harness.DEMO_SLUG).status == 204
            t0 = time.monotonic()
            r = c.post(base + "/teams", {"name": "bench team %d" % k})
            times.append(time.monotonic() - t0)
            assert r.status == 201, (r.status, r.body[:300])
        print("%-44s %10.3f" % ("create a team (participant)", statistics.median(times)))
    except BaseException:
        print("server exit code %s, output:\n%s" % (server.proc.poll(), server.output()))
        raise
    finally:
        server.stop(check=False)


if __name__ == "__main__":
    main()
