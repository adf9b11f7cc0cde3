#!/usr/bin/env python3
"""Fault test (outside ctest): SIGKILL the server N times while a code run is in progress and count the sandbox
processes that outlive it, before and after the next start (issue 10, item 3).

Each round submits code that starts two `sleep` children in sessions of their own (trying to escape) and then
sleeps, waits until the run is `running`, kills the server with SIGKILL at a random moment of the run, counts the
processes left under that server's sandbox uids (2 s later), starts the server again on the same data folder and
counts again once it listens (the start kills what is left in its run cgroups).

usage: scripts/faults/kill_runs.py [--rounds 30] [--concours build/concours]
Prints one line per round and a summary: "left after the crash: A in R rounds; left after the restart: B".
"""
import argparse
import io
import os
import random
import subprocess
import sys
import time
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))
import harness  # noqa: E402

SLUG = "tissuenet-code-demo"
SANDBOX_UID_BASE = 1900000000
CODE = """import subprocess, time
for i in range(2):
    subprocess.Popen(["/usr/bin/sleep", "900"], start_new_session=True)
time.sleep(900)
"""


def sandbox_processes(owner_pid):
    low = SANDBOX_UID_BASE + (owner_pid % 4096) * 64
    out = subprocess.run(["ps", "-eo", "pid=,uid=,args="], stdout=subprocess.PIPE, check=True).stdout.decode()
    return [line.strip() for line in out.splitlines()
            if len(line.split()) >= 2 and line.split()[1].isdigit() and low <= int(line.split()[1]) < low + 64]


def code_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("main.py", CODE)
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--concours", default=os.path.join(ROOT, "build", "concours"))
    args = ap.parse_args()
    harness.ARGS = argparse.Namespace(concours=os.path.abspath(args.concours), source=ROOT)
    server = harness.Server(bundles=[], workers=1)
    subprocess.run(["cp", "-r", os.path.join(ROOT, "challenges", SLUG), os.path.join(server.challenges, SLUG)],
                   check=True)
    after_crash = after_restart = 0
    try:
        server.start()
        sid, users = None, 0
        for n in range(1, args.rounds + 1):
            c = server.client()
            if users > 0:
                assert c.login("kim%d" % users).status == 200
            sub = c.submission(sid).json() if sid is not None else {}
            if sid is None or sub.get("status") not in ("queued", "running"):
                # a run interrupted twice may be failed rather than run again: a new participant, a new run
                users += 1
                c = server.client()
                assert c.register("kim%d" % users).status == 201
                assert c.login("kim%d" % users).status == 200
                assert c.accept_terms(SLUG).status == 204
                r = c.request("POST", "/api/v1/challenges/%s/submissions?mode=smoke" % SLUG, body=code_zip())
                if r.status != 201:
                    print("round %d: upload refused: %s %s" % (n, r.status, r.body[:200]))
                    break
                sid = r.json()["id"]
            deadline = time.time() + 120
            while c.submission(sid).json().get("stage") != "running" and time.time() < deadline:
                time.sleep(0.05)
            time.sleep(random.uniform(0.0, 1.5))
            old = server.proc.pid
            running = len(sandbox_processes(old))
            server.proc.kill()
            server.proc.wait()
            while server.lines.get(timeout=30) is not None:
                pass
            time.sleep(2)
            left = len(sandbox_processes(old))
            server.port = None
            server.start()
            deadline = time.time() + 10
            while sandbox_processes(old) and time.time() < deadline:
                time.sleep(0.1)
            still = len(sandbox_processes(old))
            after_crash += left
            after_restart += still
            print("round %d: %d sandbox process(es) at the kill, %d left after the crash, %d after the restart"
                  % (n, running, left, still), flush=True)
    finally:
        server.stop(check=False)
    print("left after the crash: %d in %d rounds; left after the restart: %d" % (after_crash, args.rounds,
                                                                                  after_restart))
    return 0 if after_restart == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
