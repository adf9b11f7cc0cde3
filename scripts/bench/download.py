#!/usr/bin/env python3
"""Downloads of a large data file: concours against nginx serving the same file, in one run (issue 18, item 3).

Starts `concours serve` with a copy of challenges/visiomel-demo carrying an extra data file of --mib MiB, and nginx
(Debian's nginx-light, installed with apt-get when missing) serving the same file from a folder on loopback. Each
server is asked for the whole file --rounds times with curl (to /dev/null), the two servers in turn (concours,
nginx, nginx, concours, ...), then for ranges of it (the second half) as many times, and the CPU time the server
process spent is read from /proc/PID/stat around each download.
Prints, per server and kind (whole file, range): throughput (MiB/s, median of the rounds) and server CPU per GiB;
then the ratios concours / nginx.
Usage: scripts/bench/download.py [--mib 1024] [--rounds 5] [--concours build/concours]
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))
import harness  # noqa: E402
from benchlib import Nginx, cpu_s, setup  # noqa: E402


def fetch(url, pids, rng=None, cookie=None):
    """One curl download of URL: (MiB/s, bytes, server CPU seconds)."""
    before = cpu_s(pids())
    cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{time_total} %{http_code}", url]
    if rng:
        cmd[1:1] = ["-r", rng]
    if cookie:
        cmd[1:1] = ["-b", cookie]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
    if out[2] not in ("200", "206"):
        raise SystemExit("download failed: %s %s" % (url, out))
    got, secs = int(out[0]), float(out[1])
    return got / secs / 2**20, got, cpu_s(pids()) - before


def summary(runs):
    """Median MiB/s of RUNS (fetch()'s answers) and the server CPU seconds per GiB sent."""
    sent = sum(r[1] for r in runs)
    return statistics.median(r[0] for r in runs), sum(r[2] for r in runs) / (sent / 2**30)


def main():
    args, work = setup(__doc__, "--mib", 1024, 5, "concours-bench-dl-", harness, ROOT)
    server = harness.Server(bundles=[("dl-demo", None)])
    bundle = os.path.join(server.challenges, "dl-demo")
    big = os.path.join(bundle, "data", "big.bin")
    with open(big, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(args.mib):
            f.write(block)
    harness.add_data(bundle, "big.bin")
    # random bytes are no format the anonymity gate can check, and `serve --challenges` never overrides it: the
    # bundle is imported first as an organizer would, with a reason (audited), then served from the data folder
    moved = os.path.join(work, "dl-demo")
    shutil.move(bundle, moved)
    r = subprocess.run([harness.ARGS.concours, "challenge", "import", moved, "--data", server.data,
                        "--anonymity-override", "benchmark: random bytes, no personal data", "--actor", "bench"],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise SystemExit("import of the benchmark bundle failed:\n" + r.stderr)
    big = os.path.join(moved, "data", "big.bin")
    size = os.path.getsize(big)
    os.makedirs(os.path.join(work, "www"))
    shutil.copy(big, os.path.join(work, "www", "big.bin"))
    for path in (work, os.path.join(work, "www"), os.path.join(work, "www", "big.bin")):
        os.chmod(path, 0o755)  # nginx's workers run as www-data
    ngx = Nginx(work, os.path.join(work, "www"))
    try:
        server.start()
        c = server.client()
        assert c.register("dora").status == 201
        assert c.login("dora").status == 200
        assert c.accept_terms("dl-demo").status == 204
        jar = c.cookie  # "name=value", as curl -b takes it
        os.sync()  # the import's and the copy's written pages: their write-back would fall on the first rounds
        time.sleep(0.5)
        half = "%d-" % (size // 2)
        rows = []
        url_c = "http://127.0.0.1:%d/api/v1/challenges/dl-demo/files/big.bin" % server.port
        url_n = "http://127.0.0.1:%d/big.bin" % ngx.port
        for kind, rng in (("whole file", None), ("range", half)):
            # interleaved (concours, nginx, nginx, concours, ...): the machine's drift falls on both alike
            runs = {"c": [], "n": []}
            for k in range(args.rounds):
                for who in ("cn" if k % 2 == 0 else "nc"):
                    runs[who].append(fetch(url_c, lambda: [server.proc.pid], rng, jar) if who == "c"
                                     else fetch(url_n, ngx.pids, rng))
            rows.append((kind, summary(runs["c"]), summary(runs["n"])))
        print("downloads of %d MiB, %d rounds each (median MiB/s; server CPU s per GiB sent)" % (args.mib, args.rounds))
        for kind, sc, sn in rows:
            # CPU times come in 10 ms ticks: a small file's may be 0
            cpu_x = "%.2fx" % (sc[1] / sn[1]) if sn[1] > 0 else "n/a (no CPU tick)"
            print("  %-10s concours %7.0f MiB/s %6.3f s/GiB | nginx %7.0f MiB/s %6.3f s/GiB | throughput %.2fx, "
                  "CPU per GiB %s nginx" % (kind, sc[0], sc[1], sn[0], sn[1], sc[0] / sn[0], cpu_x))
    finally:
        ngx.stop()
        server.stop(check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
