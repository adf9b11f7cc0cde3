"""Warm sandboxes (server/sandbox_warm.h): programs run one after another in one confined sandbox whose init is the
exec server (`concours-score --exec-server`), through the real sandbox (warm_driver). Each test states what a run
could try against the next one and checks the safe outcome; a warm sandbox that lets it through fails the test.

usage: python3 test_warm.py --driver BUILD/warm_driver --scorer BUILD/concours-score [unittest args]
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None
SIGKILL, SIGXCPU = 9, 24
SANDBOX_UID_BASE = 1900000000  # server/sandbox.h: run N of process P runs as this + (P mod 4096) * 64 + N


def runs(*commands, files=(), wall=20, cpu=20, mem=1024, root=None):
    """Runs COMMANDS (each a list: program and arguments) one after another in one warm sandbox; returns the driver's
    list of results, one per command. FILES are opened as the queue opens them, from the folder ROOT when given."""
    cmd = [ARGS.driver, "--scorer", ARGS.scorer, "--wall", str(wall), "--cpu", str(cpu), "--mem", str(mem)]
    if root:
        cmd += ["--root", root]
    for f in files:
        cmd += ["--file", f]
    cmd.append("--")
    for i, c in enumerate(commands):
        cmd += (([";;"] if i else []) + list(c))
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=len(commands) * (wall + 30))
    if p.returncode != 0:
        raise AssertionError("driver failed: %s %s" % (p.stdout, p.stderr))
    out = json.loads(p.stdout)
    if len(out) != len(commands):
        raise AssertionError("driver ran %d of %d commands: %s" % (len(out), len(commands), out))
    return out


def sh(script):
    return ["/bin/sh", "-c", script]


def processes():
    """(pid, uid, args) of every process of the host."""
    out = subprocess.run(["ps", "-eo", "pid=,uid=,args="], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            yield int(parts[0]), int(parts[1]), parts[2]


class WarmSandboxTest(unittest.TestCase):
    def assertRan(self, r, exit_code=0):
        self.assertEqual((r["rc"], r["exit"], r["error"]), (0, exit_code, ""), r)

    def test_a_process_left_running_by_a_run_is_gone_before_the_next(self):
        """A run starts a background process (a daemon waiting for the next participant's file); by the time the next
        run starts, the namespace holds only the exec server (pid 1) and the new run."""
        first, second = runs(sh("sleep 300 & (sleep 300 &) ; echo started"),
                             sh("echo /proc/[0-9]*; echo me $$"))
        self.assertRan(first)
        self.assertRan(second)
        pids = second["stdout"].split("\n")[0].split()
        me = second["stdout"].split("\n")[1].split()[1]
        self.assertEqual(sorted(pids), sorted(["/proc/1", "/proc/" + me]), second)

    def test_a_run_sees_its_own_fds_only(self):
        """fd 0 is /dev/null (not the exec server's socket), 1 and 2 its own pipes, 3 the file it was given; nothing
        else of the exec server's."""
        with tempfile.NamedTemporaryFile() as f:
            r, = runs(sh("for fd in /proc/self/fd/*; do echo $fd $(readlink $fd); done"), files=[f.name])
        self.assertRan(r)
        seen = dict(line.partition(" ")[::2] for line in r["stdout"].splitlines())  # the glob's closed fd: ""
        self.assertEqual(seen["/proc/self/fd/0"], "/dev/null", seen)
        self.assertTrue(seen["/proc/self/fd/1"].startswith("pipe:"), seen)
        self.assertTrue(seen["/proc/self/fd/2"].startswith("pipe:"), seen)
        self.assertEqual(seen["/proc/self/fd/3"], f.name, seen)  # opened by name: its host path (below)
        # the shell's glob holds one more (the folder it reads); no socket anywhere
        self.assertLessEqual(len(seen), 5, seen)
        self.assertFalse([v for v in seen.values() if v.startswith("socket:")], seen)

    def test_a_run_cannot_tell_where_the_data_folder_is(self):
        """The queue opens a run's files through a detached copy of the data folder (sandbox_warm_open): the run's
        /proc/self/fd names them from the data folder's root, not from the host's, as a cold run's view does. A
        server that may not copy a mount (not root) opens them by name."""
        data = tempfile.mkdtemp(prefix="concours-warm-data-")
        try:
            os.makedirs(os.path.join(data, "submissions", "ab"))
            for name in ("truth.csv", "submissions/ab/abcdef"):
                with open(os.path.join(data, name), "w") as f:
                    f.write("id,y\n1,0\n")
            r, = runs(sh("readlink /proc/self/fd/3 /proc/self/fd/4; cat <&3; cat /proc/self/mountinfo"),
                      files=[os.path.join(data, "truth.csv"), os.path.join(data, "submissions/ab/abcdef")], root=data)
        finally:
            shutil.rmtree(data)
        self.assertRan(r)
        lines = r["stdout"].splitlines()
        if os.geteuid() == 0:
            self.assertEqual(lines[:2], ["/truth.csv", "/submissions/ab/abcdef"], r)
            self.assertNotIn(data, r["stdout"], r)
        else:
            self.assertEqual(lines[:2], [os.path.join(data, "truth.csv"), os.path.join(data, "submissions/ab/abcdef")])
        self.assertEqual(lines[2:4], ["id,y", "1,0"], r)  # the file itself, readable through its fd

    def test_nothing_is_writable_so_a_run_leaves_no_file_for_the_next(self):
        r, = runs(sh("for d in /tmp /dev/shm /sandbox / /sandbox/bin; do "
                     "echo x > $d/left 2>/dev/null && echo WROTE $d; done; ls -d /tmp /dev/shm 2>&1; true"))
        self.assertRan(r)
        self.assertNotIn("WROTE", r["stdout"], r)
        self.assertIn("No such file", r["stdout"], r)  # no /tmp, no /dev/shm at all

    def test_the_exec_server_survives_its_runs_and_cannot_be_read(self):
        """A run signals pid 1 (ignored: the namespace's init takes only the signals it handles) and reads its memory
        and environment through /proc (not dumpable: refused); the next run is served by the same exec server."""
        first, second = runs(sh("kill -9 1; kill -STOP 1; kill -TERM 1; for f in environ mem fd/0 cwd/.; do "
                                "cat /proc/1/$f > /dev/null 2>&1 && echo READ $f; done; "
                                "ls /proc/1/fd > /dev/null 2>&1 && echo READ fd; echo probed"),
                             sh("echo next"))
        self.assertRan(first)
        self.assertEqual(first["stdout"], "probed\n", first)
        self.assertRan(second)
        self.assertEqual(second["stdout"], "next\n")
        self.assertEqual(second["restarted"], 0, second)

    def test_a_run_over_its_cpu_time_is_stopped_and_the_sandbox_serves_the_next(self):
        first, second = runs(sh("while :; do :; done"), sh("echo next"), cpu=1, wall=60)
        self.assertEqual(first["rc"], 0, first)
        self.assertEqual(first["limit"], "CPU time", first)
        self.assertIn(first["signal"], (SIGXCPU, SIGKILL), first)
        self.assertRan(second)
        self.assertEqual(second["restarted"], 0, second)

    def test_a_run_past_its_deadline_ends_the_sandbox_and_the_next_run_gets_a_new_one(self):
        first, second = runs(sh("sleep 60"), sh("echo next"), wall=2)
        self.assertEqual((first["rc"], first["limit"], first["signal"]), (0, "time", SIGKILL), first)
        self.assertRan(second)
        self.assertEqual(second["restarted"], 1, second)

    def test_an_exec_server_killed_under_a_run_is_replaced_and_the_run_done_again(self):
        """The exec server dies during a run (the host's OOM killer, an operator's kill): the run is not failed; the
        caller is told why, and the program runs again in a new warm sandbox (the server runs it cold)."""
        p = subprocess.Popen([ARGS.driver, "--scorer", ARGS.scorer, "--", "/bin/sh", "-c",
                              "sleep 3; echo done"], stdout=subprocess.PIPE, text=True)
        low = SANDBOX_UID_BASE + (p.pid % 4096) * 64  # the driver's block of run uids
        deadline = time.time() + 30
        killed = False
        while not killed and time.time() < deadline and p.poll() is None:
            for pid, uid, args in processes():
                if low <= uid < low + 64 and args == "/sandbox/bin/concours-score --exec-server":
                    os.kill(pid, signal.SIGKILL)
                    killed = True
            time.sleep(0.05)
        out, _ = p.communicate(timeout=60)
        self.assertTrue(killed, "no exec server seen")
        r, = json.loads(out)
        self.assertRan(r)
        self.assertEqual((r["stdout"], r["restarted"]), ("done\n", 1), r)
        self.assertIn("the warm sandbox ended during the run", r["first_error"])

    def test_a_run_over_its_memory_fails_as_out_of_memory(self):
        r, = runs(["/usr/bin/python3", "-c", "x = bytearray(512 << 20)"], mem=256)
        self.assertEqual(r["rc"], 0, r)
        self.assertNotEqual(r["exit"], 0, r)
        self.assertEqual(r["limit"], "memory", r)

    def test_the_scorer_reads_files_it_could_not_open_by_name(self):
        """The ground truth and the prediction, root's and mode 0600 in a folder of mode 0700, passed as fds: scored
        as concours-score scores them by path outside the sandbox."""
        d = tempfile.mkdtemp(prefix="concours-warm-")
        try:
            rng = random.Random(7)
            truth, pred = os.path.join(d, "truth.csv"), os.path.join(d, "pred.csv")
            with open(truth, "w") as t, open(pred, "w") as p:
                t.write("id,label,Usage\n")
                p.write("id,label\n")
                for i in range(500):
                    y = rng.randint(0, 1)
                    t.write("r%d,%d,%s\n" % (i, y, "Public" if i % 2 else "Private"))
                    p.write("r%d,%.4f\n" % (i, min(1.0, y * 0.4 + rng.random() * 0.6)))
            for path in (truth, pred, d):
                os.chmod(path, 0o700 if path == d else 0o600)
            args = ["--metric", "roc_auc"]
            r1, r2 = runs(["/sandbox/bin/concours-score", "--truth", "/dev/fd/3", "--pred", "/dev/fd/4"] + args,
                          ["/sandbox/bin/concours-score", "--truth", "/dev/fd/3", "--pred", "/dev/fd/4"] + args,
                          files=[truth, pred])
            direct = subprocess.run([ARGS.scorer, "--truth", truth, "--pred", pred] + args, capture_output=True,
                                    text=True, check=True).stdout
            self.assertRan(r1)
            self.assertEqual(json.loads(r1["stdout"]), json.loads(direct))
            self.assertEqual(r2["stdout"], r1["stdout"])  # the same fds again: read from their start
        finally:
            shutil.rmtree(d)

    def test_hostile_fd_paths_are_clean_errors(self):
        """`/dev/fd/N` names an open file only when N is a number the run holds: anything else is opened as a path,
        and fails as a missing file does (exit 2, the error object), never a crash."""
        for path in ("/dev/fd/999", "/dev/fd/abc", "/dev/fd/99999999999999999999", "/dev/fd/", "/dev/fd/3x"):
            p = subprocess.run([ARGS.scorer, "--truth", path, "--pred", "/dev/null", "--metric", "roc_auc"],
                               capture_output=True, text=True, stdin=subprocess.DEVNULL)
            self.assertEqual(p.returncode, 2, (path, p.stdout, p.stderr))
            self.assertEqual(json.loads(p.stdout)["error"]["code"], "configuration_error", path)

    def test_a_request_the_exec_server_does_not_understand_ends_it(self):
        """Bytes that are not a whole request (garbage, a message larger than EXEC_MSG_MAX, no argv, a relative
        program, fewer fds than said): the exec server exits 1 without running anything."""
        head = struct.pack("<IIIIqqq", 0x63786563, 1, 2, 0, 1, 64, 1)
        cases = [(b"garbage", 2), (b"x" * 70000, 2), (struct.pack("<IIIIqqq", 0x63786563, 0, 2, 0, 1, 64, 1), 2),
                 (head + b"bin/true\0", 2), (head + b"/bin/true\0", 1), (head + b"/bin/true\0extra\0", 2)]
        for msg, nfds in [(head + b"/bin/true\0", 2)] + cases:  # a valid request first: it runs, and is answered
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            p = subprocess.Popen(["unshare", "--user", "--map-root-user", "--pid", "--fork", ARGS.scorer,
                                  "--exec-server"], stdin=b, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            b.close()
            fds = [os.open("/dev/null", os.O_WRONLY) for _ in range(nfds)]
            try:
                socket.send_fds(a, [msg], fds)
            except OSError:
                pass  # too large for one message: refused at the sender, as good
            if msg == head + b"/bin/true\0" and nfds == 2:
                magic, status = struct.unpack("<Ii", a.recv(64)[:8])
                self.assertEqual((magic, status), (0x63786563, 0))
                a.shutdown(socket.SHUT_WR)  # the server's end closed: the exec server exits 0
                self.assertEqual(p.wait(timeout=30), 0)
                continue
            self.assertEqual(p.wait(timeout=30), 1, msg[:40])
            for fd in fds:
                os.close(fd)
            a.close()

    def test_the_exec_server_runs_only_as_a_namespace_init(self):
        p = subprocess.run([ARGS.scorer, "--exec-server"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 2)
        self.assertIn("init of a PID namespace", p.stderr)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--scorer", required=True)
    ARGS, rest = ap.parse_known_args()
    ARGS.scorer = os.path.abspath(ARGS.scorer)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
