#!/usr/bin/env python3
"""A deadline hour (issue 18, item 6): readers and uploaders at once, against one `concours serve`.

Starts the server with a copy of challenges/visiomel-demo whose open phase allows --quota submissions per team, and
--teams teams that have each sent one scored submission. Then, for --seconds: wrk (Debian's, installed when missing)
keeps --readers keep-alive connections on the leaderboard and, in turn, the challenge page, while --uploaders teams
each send the sample submission again and again (waiting for nothing) until their quota is spent or the time is up.
Prints the server's scoring threads (as it names them: --workers for any run, the small-file lane's), the
readers' requests/s and p99, the uploads sent, accepted and refused (and when the last was accepted:
the uploaders spend their quota early), the queue's depth (the organizer's queue view, polled every 0.5 s: its
largest, and what is left when the reads end), how many were scored by the end and how long each took from upload
to score (median, p95, max; the server's times, in whole seconds), the scoring rate from the first upload to the
last score, the server's CPU and peak resident memory, and the largest write-ahead log (concours.db-wal) seen.
--readers 0: no reads, the uploads and their scoring alone (what the reads cost the scoring).
Usage: scripts/bench/deadline.py [--readers 64] [--uploaders 8] [--quota 40] [--seconds 20] [--teams 20]
                                 [--workers 2] [--concours build/concours]
"""
import argparse
import datetime
import os
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))
import harness  # noqa: E402
from benchlib import cpu_s, ensure_tools, scored_teams  # noqa: E402
from http_reads import wrk  # noqa: E402


def epoch(iso):
    """Seconds since 1970 of an API time ("2026-12-04T10:00:00Z", maybe with milliseconds)."""
    return datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def peak_rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return int(fields["VmHWM"].split()[0]) / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--readers", type=int, default=64)
    ap.add_argument("--uploaders", type=int, default=8)
    ap.add_argument("--quota", type=int, default=40)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--teams", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2, help="the server's scoring threads for any run "
                    "(concours serve --workers; the small-file lane's follow)")
    ap.add_argument("--concours", default=os.path.join(ROOT, "build", "concours"))
    args = ap.parse_args()
    ensure_tools(("wrk", "wrk"))
    harness.ARGS = argparse.Namespace(concours=os.path.abspath(args.concours), source=ROOT)
    phases = [harness.phase("final", "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", max_per_day=args.quota + 1,
                            max_total=args.quota + 1)]
    server = harness.Server(bundles=[(harness.DEMO_SLUG, phases)], workers=args.workers)
    try:
        server.add_user("org", "organizer")
        server.start()
        scoring = harness.scoring_threads(server.proc.pid)
        scoring = (scoring["score-any"], scoring["score-small"])
        teams = scored_teams(server, harness, max(args.teams, args.uploaders))
        base = "http://127.0.0.1:%d/api/v1/challenges/%s" % (server.port, harness.DEMO_SLUG)
        sample = harness.sample_submission()
        wal = os.path.join(server.data, "concours.db-wal")
        stop = threading.Event()
        sent, refused, ids, lock = [0], [0], [], threading.Lock()
        wal_max = [0]
        last_accepted = [0.0]
        depth = []  # (seconds since the start, queued, running, uploads accepted by then)
        org = server.client()
        assert org.login("org").status == 200

        def uploader(client):
            while not stop.is_set():
                r = client.upload(sample)
                with lock:
                    sent[0] += 1
                    if r.status == 201:
                        ids.append((client, r.json()["id"]))
                        last_accepted[0] = time.time() - t0
                    else:
                        refused[0] += 1
                if r.status != 201:
                    return  # the quota is spent (429) or the server refuses: this team is done

        def wal_watch():
            while not stop.is_set():
                try:
                    wal_max[0] = max(wal_max[0], os.path.getsize(wal))
                except OSError:
                    pass
                time.sleep(0.2)

        def queue_watch():
            while not stop.is_set():
                try:
                    r = org.get("/api/v1/challenges/%s/queue" % harness.DEMO_SLUG)
                except OSError:
                    r = None  # a refused or cut connection under the flood: the next poll tells
                if r is not None and r.status == 200:
                    q = r.json()
                    with lock:
                        depth.append((time.time() - t0, q["queued"], q["running"], len(ids)))
                time.sleep(0.5)

        cpu0 = cpu_s([server.proc.pid])
        threads = [threading.Thread(target=uploader, args=(teams[k][0],)) for k in range(args.uploaders)]
        threads.append(threading.Thread(target=wal_watch))
        threads.append(threading.Thread(target=queue_watch))
        t0 = time.time()
        for th in threads:
            th.start()
        half = max(1, args.seconds // 2)
        if args.readers > 0:
            reads = [("leaderboard", wrk(base + "/leaderboard", args.readers, half, lambda: [server.proc.pid])),
                     ("challenge", wrk(base, args.readers, args.seconds - half, lambda: [server.proc.pid]))]
        else:
            reads = []
            time.sleep(args.seconds)
        with lock:
            end_depth = depth[-1] if depth else (0, 0, 0, len(ids))
        stop.set()
        for th in threads:
            th.join()
        upload_window = time.time() - t0
        # every accepted upload scored (or failed) before the figures are taken
        done = {}
        for client, sid in ids:
            s = client.wait_done(sid, timeout=1800)
            # both ends from the server's clock, kept in whole seconds: the client's own start against a scoring
            # time cut to the second could come out below zero
            secs = epoch(s["scored_at"]) - epoch(s["created_at"]) if s.get("scored_at") else None
            done[sid] = (s["status"], secs)
        drain = time.time() - t0
        cpu = cpu_s([server.proc.pid]) - cpu0
        lat = sorted(v[1] for v in done.values() if v[1] is not None)
        print("deadline hour: %d readers, %d uploaders (quota %d each), %d s; scoring threads: %d for any run, %d for"
              " small files (--workers %d)" % ((args.readers, args.uploaders, args.quota, args.seconds) + scoring
                                               + (args.workers,)))
        for name, (rps, p99, us) in reads:
            print("  readers, %-11s %8.0f req/s  p99 %7.1f ms  %5.0f us CPU/req (uploads and scoring included)"
                  % (name, rps, p99, us))
        if not reads:
            print("  readers: none")
        print("  uploads: %d sent, %d accepted, %d refused (quota) in %.1f s; the last accepted %.1f s after the start:"
              " %.1f accepted/s while the quota lasted"
              % (sent[0], len(ids), refused[0], upload_window, last_accepted[0],
                 len(ids) / max(last_accepted[0], 0.1)))
        if depth:
            top = max(depth, key=lambda d: d[1])
            empty = next((d[0] for d in depth if d[0] > top[0] and d[1] == 0 and d[2] == 0), None)
            print("  queue: at most %d waiting (%.1f s after the start); %d waiting and %d running when the reads ended"
                  % (top[1], top[0], end_depth[1], end_depth[2]) +
                  ("; empty %.1f s after the start" % empty if empty is not None else ""))
            during = end_depth[3] - end_depth[1] - end_depth[2]
            span = empty if empty is not None and empty <= end_depth[0] else end_depth[0]
            print("  scored while the reads went on: %d in %.1f s (%.1f a second%s)"
                  % (during, span, during / max(span, 0.1),
                     ", until the queue was empty" if span < end_depth[0] else ""))
        print("  scored: %d (%d failed), all done %.1f s after the start: %.1f scored/s"
              % (sum(v[0] == "scored" for v in done.values()), sum(v[0] == "failed" for v in done.values()), drain,
                 len(done) / drain))
        if lat:
            print("  upload to score (the server's times, in whole seconds): median %.0f s, p95 %.0f s, max %.0f s"
                  % (statistics.median(lat), lat[int(0.95 * (len(lat) - 1))], lat[-1]))
        print("  server: %.1f s of CPU, peak resident %.0f MiB; largest write-ahead log %.1f MiB"
              % (cpu, peak_rss_mb(server.proc.pid), wal_max[0] / 1048576))
    finally:
        server.stop(check=False)


if __name__ == "__main__":
    main()
