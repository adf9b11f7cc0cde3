#!/usr/bin/env python3
"""Uploads of a large prediction file: concours against nginx accepting the same body and the disk itself, in one
run (issue 18, item 2).

Sends a --mb MB body (random bytes: the scorer refuses it at its first line, so scoring costs nothing while the next
upload goes) --rounds times with curl to `POST /api/v1/challenges/visiomel-demo/submissions`, once with curl's
default `Expect: 100-continue` and once without it, each round from a new participant (quotas stay out of the
way). The same body goes to nginx (Debian's nginx-light, installed when missing) as a WebDAV PUT, which it writes to a
file (as concours stores an upload); and `dd conv=fsync` writes it to the data folder's disk. Prints the median MB/s of each and the
ratios of concours to nginx and to dd. The body is synced before the first measure, and nginx's file removed after each
(nginx does not flush it): a flush pays for whatever else is dirty, and would otherwise pay for the others' bytes.
Usage: scripts/bench/upload.py [--mb 100] [--rounds 3] [--concours build/concours]
"""
import os
import shutil
import socket
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))
import harness  # noqa: E402
from benchlib import setup  # noqa: E402


def curl_post(url, body, headers, method="POST"):
    cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "-X", method, "--data-binary",
           "@" + body]
    for h in headers:
        cmd += ["-H", h]
    code, secs = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout.split()
    if code not in ("201", "204"):
        raise SystemExit("upload to %s answered %s" % (url, code))
    return os.path.getsize(body) / 1e6 / float(secs)


def main():
    args, work = setup(__doc__, "--mb", 100, 3, "concours-bench-up-", harness, ROOT)
    body = os.path.join(work, "body.bin")
    with open(body, "wb") as f:
        for _ in range(args.mb):
            f.write(os.urandom(1000 * 1000))
    os.sync()  # the body's pages written back now, not during a measure (every fsync below would pay for them)
    server = harness.Server(workers=1)
    ngx_conf = os.path.join(work, "nginx.conf")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with open(ngx_conf, "w") as f:
        f.write("user root; daemon off; worker_processes 1; pid %s/nginx.pid; error_log %s/error.log;\n"
                "events {}\nhttp { access_log off; client_body_temp_path %s/body; client_max_body_size 0;\n"
                "  server { listen 127.0.0.1:%d; root %s/put; dav_methods PUT; } }\n" % (work, work, work, port, work))
    os.makedirs(os.path.join(work, "put"))
    ngx = subprocess.Popen(["nginx", "-c", ngx_conf, "-p", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = {"concours, Expect: 100-continue": [], "concours, no Expect": [], "nginx": [], "dd conv=fsync": []}
    try:
        server.start()
        url = "http://127.0.0.1:%d/api/v1/challenges/%s/submissions" % (server.port, harness.DEMO_SLUG)
        for k in range(args.rounds):
            for expect in (True, False):
                c = server.client()
                name = "up%d%s" % (k, "e" if expect else "n")
                assert c.register(name).status == 201 and c.login(name).status == 200
                assert c.accept_terms(harness.DEMO_SLUG).status == 204
                token = c.new_token()
                hdrs = ["Authorization: Bearer " + token, "Content-Type: text/csv"]
                if not expect:
                    hdrs.append("Expect:")
                key = "concours, Expect: 100-continue" if expect else "concours, no Expect"
                results[key].append(curl_post(url, body, hdrs))
            results["nginx"].append(curl_post("http://127.0.0.1:%d/up%d.bin" % (port, k), body, ["Expect:"], "PUT"))
            os.unlink(os.path.join(work, "put", "up%d.bin" % k))  # nginx never flushes: its pages go unwritten
            out = os.path.join(server.data, "dd.bin")
            p = subprocess.run(["dd", "if=" + body, "of=" + out, "bs=1M", "conv=fsync"], capture_output=True,
                               text=True, check=True)
            secs = float(p.stderr.strip().split("\n")[-1].split(" s, ")[0].split(", ")[-1])
            results["dd conv=fsync"].append(os.path.getsize(body) / 1e6 / secs)
            os.unlink(out)
        print("uploads of %d MB, %d rounds (median MB/s)" % (args.mb, args.rounds))
        ref_n = statistics.median(results["nginx"])
        ref_d = statistics.median(results["dd conv=fsync"])
        for name, speeds in results.items():
            m = statistics.median(speeds)
            print("  %-32s %7.0f MB/s   %.2fx nginx   %.2fx dd" % (name, m, m / ref_n, m / ref_d))
    finally:
        ngx.terminate()
        ngx.wait()
        server.stop(check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
