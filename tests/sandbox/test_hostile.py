"""The hostile scorer suite: programs that misbehave on purpose, run through the real sandbox (sandbox_run, via
sandbox_driver), one test per line of SECURITY.md §Sandbox (15-19). Each test states the attack and checks the
safe outcome; a sandbox that lets the attack through fails the test.

usage: python3 test_hostile.py --driver BUILD/sandbox_driver --hostile BUILD/sandbox_hostile [unittest args]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None
SIGSYS = 31
SIGKILL = 9


def run(program, *args, binds=(), output=None, wall=20, cpu=20, mem=1024, tmp=16, extra=()):
    """Runs PROGRAM ARGS in the sandbox; returns the driver's JSON report."""
    cmd = [ARGS.driver, "--wall", str(wall), "--cpu", str(cpu), "--mem", str(mem), "--tmp", str(tmp)]
    for host, inside in binds:
        cmd += ["--bind", "%s:%s" % (host, inside)]
    if output:
        cmd += ["--output", output]
    cmd += list(extra) + ["--", program] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=wall + 30)
    if p.returncode != 0:
        raise AssertionError("driver failed: %s %s" % (p.stdout, p.stderr))
    return json.loads(p.stdout)


def py(code, **kw):
    """Runs a python3 snippet in the sandbox."""
    return run("/usr/bin/python3", "-c", code, **kw)


def forking(n, child, parent):
    """A python3 program that forks N children running CHILD (with i their number), then runs PARENT."""
    body = "\n".join("  " + line for line in child.split("\n"))
    return "import os, time\nfor i in range(%d):\n if os.fork() == 0:\n%s\n%s\n" % (n, body, parent)


def processes_with(marker):
    """Pids of live processes whose command line holds MARKER."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdline = f.read()
            with open("/proc/%s/stat" % pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(pid))
    return found


class Hostile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="concours-hostile-")
        os.chmod(cls.tmp, 0o755)
        cls.bin = os.path.join(cls.tmp, "bin")
        os.mkdir(cls.bin)
        shutil.copy(ARGS.hostile, os.path.join(cls.bin, "hostile"))
        os.chmod(cls.bin, 0o755)
        cls.inputs = os.path.join(cls.tmp, "in")
        os.mkdir(cls.inputs)
        with open(os.path.join(cls.inputs, "truth.csv"), "w") as f:
            f.write("id,label\n1,0\n")
        os.chmod(os.path.join(cls.inputs, "truth.csv"), 0o644)
        os.chmod(cls.inputs, 0o755)
        # what a scorer must never read: a database, another submission, hidden ground truth
        cls.secret = os.path.join(cls.tmp, "secret")
        os.mkdir(cls.secret)
        for name in ("concours.db", "other-submission.csv", "private-solution.csv"):
            with open(os.path.join(cls.secret, name), "w") as f:
                f.write("secret\n")
            os.chmod(os.path.join(cls.secret, name), 0o644)
        os.chmod(cls.secret, 0o755)  # readable by anyone on the host: only the sandbox's view stops it

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def hostile(self, what, **kw):
        return run("/sandbox/bin/hostile", what, binds=[(self.bin, "/sandbox/bin")], **kw)

    def assert_killed_by_seccomp(self, what, also=()):
        """WHAT is killed before its syscall returns: by seccomp (SIGSYS), or by one of the signals ALSO that a
        kernel may raise first for the same instruction."""
        r = self.hostile(what)
        self.assertIn(r["signal"], (SIGSYS,) + tuple(also), "%s was not killed by seccomp: %s" % (what, r))
        self.assertNotIn("survived", r["stdout"])

    # ---------------------------------------------------------------- 15: no network
    def test_15_tcp_to_host_port(self):
        """TCP to a port listening on the host's 127.0.0.1 (like the server's) fails: new network namespace."""
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        try:
            r = py("import socket\ns=socket.socket()\ns.settimeout(2)\n"
                   "try:\n s.connect(('127.0.0.1',%d)); print('CONNECTED')\nexcept OSError as e: print('refused', e)"
                   % port)
        finally:
            srv.close()
        self.assertEqual(r["exit"], 0, r)
        self.assertIn("refused", r["stdout"])
        self.assertNotIn("CONNECTED", r["stdout"])

    def test_15_dns(self):
        """Name resolution fails (no resolver, no network)."""
        r = py("import socket\ntry:\n print(socket.getaddrinfo('example.com',80)); print('RESOLVED')\n"
               "except OSError as e: print('failed', e)")
        self.assertIn("failed", r["stdout"], r)
        self.assertNotIn("RESOLVED", r["stdout"])

    def test_15_unix_sockets(self):
        """A Unix socket of the host, by path or abstract name, cannot be reached."""
        path = os.path.join(self.tmp, "host.sock")
        abstract = "\0concours-test-%d" % os.getpid()
        s1 = socket.socket(socket.AF_UNIX)
        s1.bind(path)
        s1.listen(1)
        s2 = socket.socket(socket.AF_UNIX)
        s2.bind(abstract)
        s2.listen(1)
        try:
            code = ("import socket\nfor a in (%r, %r):\n s=socket.socket(socket.AF_UNIX)\n try:\n"
                    "  s.connect(a); print('CONNECTED')\n except OSError as e: print('failed', e)") % (path, abstract)
            r = py(code)
        finally:
            s1.close()
            s2.close()
        self.assertEqual(r["stdout"].count("failed"), 2, r)
        self.assertNotIn("CONNECTED", r["stdout"])

    def test_15_io_uring(self):
        """io_uring (which bypasses many syscall checks) is denied by seccomp."""
        self.assert_killed_by_seccomp("io_uring")

    # ---------------------------------------------------------------- 16: nothing readable but its inputs
    def test_16_only_inputs_readable(self):
        """The database, other submissions and hidden ground truth at their host paths, /etc, /root, /home, the
        source tree: none exists in the sandbox; the bound inputs do."""
        targets = [os.path.join(self.secret, n) for n in os.listdir(self.secret)]
        targets += ["/etc/shadow", "/etc/passwd", "/root", "/home", os.path.abspath(__file__), ARGS.driver]
        code = ("import os\nfor p in %r:\n print(p, os.path.exists(p))\nprint(open('/sandbox/in/truth.csv').read())"
                % targets)
        r = py(code, binds=[(self.inputs, "/sandbox/in")])
        self.assertEqual(r["exit"], 0, r)
        for t in targets:
            self.assertIn("%s False" % t, r["stdout"])
        self.assertIn("id,label", r["stdout"])

    def test_16_no_host_proc(self):
        """/proc is the sandbox's own PID namespace: no host process (this test's pid, pid 1 of the host) is
        visible, only a handful of sandbox processes."""
        r = py("import os\npids=[p for p in os.listdir('/proc') if p.isdigit()]\nprint(len(pids))\n"
               "print(open('/proc/1/cmdline','rb').read())\nprint(os.path.exists('/proc/%d'))" % os.getpid())
        self.assertEqual(r["exit"], 0, r)
        lines = r["stdout"].split("\n")
        self.assertLessEqual(int(lines[0]), 4, r)
        self.assertIn("bwrap", lines[1])
        if os.getpid() > 4:
            self.assertEqual(lines[2], "False")

    def test_16_no_host_path_in_proc(self):
        """/proc/self/mountinfo (and mounts, and every other process's) names no host path of the run's inputs:
        they are mounted through a read-only overlay whose layers are named relative to the supervisor's view.
        The inputs still read as they are, and stay read-only."""
        if os.geteuid() != 0:
            self.skipTest("the view (and the overlay) needs the server to run as root")
        truth = os.path.join(self.inputs, "truth.csv")
        code = ("import os\nfor p in ('/proc/self/mountinfo', '/proc/self/mounts', '/proc/1/mountinfo'):\n"
                " print(open(p).read())\n"
                "print(open('/sandbox/in/truth.csv').read(), open('/sandbox/truth.csv').read())\n"
                "try:\n open('/sandbox/truth.csv', 'a').write('x'); print('WROTE')\nexcept OSError: print('read-only')\n")
        r = py(code, binds=[(self.inputs, "/sandbox/in"), (truth, "/sandbox/truth.csv")])
        self.assertEqual(r["exit"], 0, r)
        self.assertNotIn(self.tmp, r["stdout"])
        self.assertNotIn("concours-hostile-", r["stdout"])
        self.assertEqual(r["stdout"].count("id,label"), 2, r)
        self.assertIn("read-only", r["stdout"])

    def test_16_inputs_read_only_tmp_bounded(self):
        """Inputs cannot be changed; /tmp is a small tmpfs; the root is read-only."""
        code = ("import os\n"
                "for p in ('/sandbox/in/truth.csv','/sandbox/in/new','/usr/x','/x'):\n"
                " try:\n  open(p,'a').write('x'); print('WROTE', p)\n except OSError as e: print('denied', e.errno)\n"
                "try:\n f=open('/tmp/big','wb')\n for i in range(64): f.write(b'0'*1048576); f.flush()\n print('BIG')\n"
                "except OSError as e: print('tmp full', e.errno)")
        r = py(code, binds=[(self.inputs, "/sandbox/in")], tmp=8)
        self.assertEqual(r["stdout"].count("denied"), 4, r)
        self.assertNotIn("WROTE", r["stdout"])
        self.assertIn("tmp full", r["stdout"])
        with open(os.path.join(self.inputs, "truth.csv")) as f:
            self.assertEqual(f.read(), "id,label\n1,0\n")

    # ---------------------------------------------------------------- 17: runaways killed, never uid 0
    def test_17_fork_bomb(self):
        """A fork bomb hits RLIMIT_NPROC (per-run uid), then the wall clock; no process is left."""
        marker = "forkbomb-%d" % os.getpid()
        t0 = time.time()
        r = run("/sandbox/bin/hostile", "forkbomb", marker, binds=[(self.bin, "/sandbox/bin")], wall=3)
        self.assertLess(time.time() - t0, 15)
        self.assertEqual(r["limit"], "time", r)
        self.assertIn("fork refused", r["stdout"])
        self.assertEqual(processes_with(marker), [])
        # and no zombie of the run's uid is left for the host's init to reap (it would count against NPROC)
        zombies = [line for line in subprocess.run(["ps", "-eo", "uid=,stat="], capture_output=True,
                                                   text=True).stdout.split("\n")
                   if line.split() and int(line.split()[0]) >= 1900000000 and line.split()[1].startswith("Z")]
        self.assertEqual(zombies, [])

    def test_17_cpu_burn(self):
        """A CPU burn is stopped by RLIMIT_CPU and reported as the CPU time limit."""
        r = self.hostile("spin", cpu=1, wall=20)
        self.assertEqual(r["limit"], "CPU time", r)
        self.assertEqual(r["signal"], 24, r)  # SIGXCPU
        self.assertGreaterEqual(r["cpu"], 0.5, r)  # the supervisor reaps the whole tree: its CPU time is seen

    def test_17_memory_hog(self):
        """A memory hog cannot get past RLIMIT_AS and is reported as the memory limit."""
        r = py("b = bytearray(1 << 30)\nprint('GOT IT')", mem=256)
        self.assertNotIn("GOT IT", r["stdout"])
        self.assertEqual(r["limit"], "memory", r)

    def cgroup_or_skip(self, r, controller):
        """The run's cgroup report; skips (the server says the same at start, loudly) where the host gives no
        cgroup for CONTROLLER."""
        if "no writable cgroup" in r["cgroup"] or ("no cgroup for" in r["cgroup"] and controller in
                                                   r["cgroup"].split("no cgroup for", 1)[1].split(":")[0]):
            self.skipTest("no cgroup for %s on this host: %s" % (controller, r["cgroup"]))
        return r["cgroup"]

    def test_17_memory_whole_run(self):
        """memory_mb bounds the whole run (its cgroup), not each process: 8 children that each touch 100 MiB
        under memory_mb 256 cannot all hold it at once; the kernel's OOM killer (SIGKILL, where a per-process
        RLIMIT_AS would give MemoryError) kills some, and the run's peak stays at the limit. Which children die
        is the kernel's choice: it may kill a child that already held its 100 MiB (the largest), letting a later
        one hold, so the number of "held" lines is not bounded; the peak is."""
        code = forking(8, "b = bytearray(100 << 20)\nfor j in range(0, len(b), 4096): b[j] = 1\n"
                          "print('held', i, flush=True)\ntime.sleep(5)\nos._exit(0)",
                       "codes = [os.wait()[1] for i in range(8)]\nprint('killed', sum(1 for c in codes if c == 9))")
        r = py(code, mem=256, wall=60)
        self.cgroup_or_skip(r, "memory")
        self.assertIn("killed", r["stdout"], r)
        self.assertGreaterEqual(int(r["stdout"].split("killed ")[1].split()[0]), 1, r)
        self.assertLessEqual(r["maxrss_kb"], 256 * 1024 + 1024, r)
        self.assertGreaterEqual(r["maxrss_kb"], 200 * 1024, r)  # two children did hold their 100 MiB together

    def test_17_cpu_whole_run(self):
        """cpu_s bounds the whole run's CPU time: 4 spinning children under cpu_s 2 are killed together when the
        run has used about 3 s (cpu_s plus the second of grace RLIMIT_CPU gives one process), not 4 x 2 s."""
        code = forking(4, "while True: pass", "for i in range(4): os.wait()\nprint('ALL CHILDREN ENDED')")
        r = py(code, cpu=2, wall=120)
        self.cgroup_or_skip(r, "cpu")
        self.assertEqual(r["limit"], "CPU time", r)
        self.assertNotIn("ALL CHILDREN ENDED", r["stdout"])
        self.assertGreaterEqual(r["cpu"], 3.0, r)
        self.assertLess(r["cpu"], 6.0, r)  # each child alone would have stopped at 2-3 s: 8-12 s in all

    def test_17_leftovers_swept(self):
        """A process left in a run cgroup of the owner's base (a crash between two steps) is killed, and its
        cgroup removed, when the owner starts again (the server does it at start; here the driver's --sweep)."""
        key = "hostile-sweep-%d" % os.getpid()
        r = run("/usr/bin/true", extra=["--cgroup-key", key])
        self.cgroup_or_skip(r, "kill")
        base = r["cgroup_base"]
        os.makedirs(os.path.join(base, "run-left-by-a-crash"))
        sleeper = subprocess.Popen(["/usr/bin/sleep", "600"])
        try:
            with open(os.path.join(base, "run-left-by-a-crash", "cgroup.procs"), "w") as f:
                f.write(str(sleeper.pid))
            r = run("/usr/bin/true", extra=["--cgroup-key", key, "--sweep"])
            self.assertEqual(r["swept"], 1, r)
            self.assertEqual(sleeper.wait(timeout=30), -9)
            self.assertFalse(os.path.exists(os.path.join(base, "run-left-by-a-crash")))
        finally:
            if sleeper.poll() is None:
                sleeper.kill()
                sleeper.wait()
            try:
                os.rmdir(base)
            except OSError:
                pass

    def test_17_setsid_nohup_runaway(self):
        """A child that leaves with setsid + nohup dies with the run (the PID namespace), even when the main
        program exits at once; and when the deadline kills the run."""
        for wait in (False, True):
            marker = "runaway-%d-%d" % (os.getpid(), wait)
            code = ("import subprocess, time\nsubprocess.Popen(['/usr/bin/nohup','/usr/bin/sleep','1000','%s'],"
                    "start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
                    "time.sleep(%d)\nprint('bye')") % (marker, 100 if wait else 0)
            r = py(code, wall=3)
            if wait:
                self.assertEqual(r["limit"], "time", r)
            else:
                self.assertEqual(r["exit"], 0, r)
            self.assertEqual(processes_with(marker), [], "a %s runaway survived" % marker)

    def test_17_never_uid_0(self):
        """The run has a non-root uid, no capabilities, and no_new_privs."""
        r = run("/bin/sh", "-c", "id -u; grep -E '^(Uid|CapEff|CapPrm|NoNewPrivs)' /proc/self/status")
        self.assertEqual(r["exit"], 0, r)
        lines = r["stdout"].split("\n")
        self.assertNotEqual(lines[0], "0")
        self.assertIn("CapEff:\t0000000000000000", r["stdout"])
        self.assertIn("NoNewPrivs:\t1", r["stdout"])
        if os.geteuid() == 0:
            self.assertGreaterEqual(int(lines[0]), 1900000000)  # a uid of its own, RLIMIT_NPROC binds

    # ---------------------------------------------------------------- 18: fds, environment, syscalls
    def test_18_only_fds_0_2(self):
        """No descriptor beyond 0-2 is inherited (the driver itself holds several)."""
        r = self.hostile("fds")
        self.assertIn("extra fds: 0", r["stdout"], r)

    def test_18_environment_whitelisted(self):
        """The environment is empty but for a fixed whitelist (and PWD, set by bubblewrap's --chdir), whatever
        the server's holds."""
        os.environ["CONCOURS_SECRET_TEST"] = "leak"
        r = run("/usr/bin/env")
        keys = {line.split("=", 1)[0] for line in r["stdout"].split("\n") if line}
        self.assertTrue(keys <= {"PWD", "PATH", "LC_ALL", "LANG", "HOME", "TMPDIR", "PYTHONDONTWRITEBYTECODE", "MPLCONFIGDIR",
                                 "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"}, keys)
        self.assertNotIn("leak", r["stdout"])

    def test_18_syscalls_denied(self):
        """32-bit (int 0x80) and x32 syscalls, ptrace, mount, bpf, unshare, setns, keyctl, perf_event_open,
        clone(CLONE_NEWUSER) and TIOCSTI kill the process."""
        # int 0x80 on a kernel without 32-bit emulation (ia32_emulation=0, CONFIG_IA32_EMULATION off) is a general
        # protection fault, SIGSEGV, before any syscall runs: as safe as SIGSYS, and what this machine kind gives.
        self.assert_killed_by_seccomp("int80", also=(signal.SIGSEGV,))
        for what in ("x32", "ptrace", "mount", "bpf", "unshare", "setns", "keyctl", "perf",
                     "clone_newuser", "tiocsti"):
            with self.subTest(what=what):
                self.assert_killed_by_seccomp(what)

    def test_18_allow_list(self):
        """The seccomp filter is an allow-list: it is the list docs/sandbox.md gives, holds none of the calls that
        reach the host's kernel surface, and a call left out (memfd_create, name_to_handle_at...) fails with
        ENOSYS rather than running."""
        p = subprocess.run([ARGS.driver, "--list-syscalls"], capture_output=True, text=True, check=True)
        allowed = json.loads(p.stdout)
        docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "sandbox.md")
        with open(docs, encoding="utf-8") as f:
            text = f.read()
        section = text.split("<!-- allowed-syscalls -->", 2)
        self.assertEqual(len(section), 3, "docs/sandbox.md lacks the allowed-syscalls block")
        documented = section[1].replace("`", " ").replace(",", " ").split()
        self.assertEqual(sorted(allowed), sorted(documented))
        for never in ("ptrace", "mount", "bpf", "unshare", "setns", "keyctl", "perf_event_open", "io_uring_setup",
                      "memfd_create", "kexec_load", "init_module", "userfaultfd", "process_vm_readv", "clone3",
                      "open_by_handle_at", "pidfd_getfd", "add_key"):
            self.assertNotIn(never, allowed)

    def test_18_memfd_netlink_vsock_closed(self):
        """No executable memory file (memfd_create), no netlink socket (the host's routing, audit), no vsock
        (the hypervisor), no packet socket; local and loopback sockets, threads and subprocesses still work."""
        code = ("import os, socket, subprocess, threading\n"
                "try:\n os.memfd_create('x'); print('MEMFD OPEN')\nexcept OSError as e: print('memfd', e.errno)\n"
                "for fam, kind in ((16, 3), (40, 1), (17, 3), (1, 1), (2, 1), (10, 1)):\n"
                " try:\n  socket.socket(fam, kind).close(); print('open', fam)\n"
                " except OSError as e: print('refused', fam, e.errno)\n"
                "print(subprocess.run(['/bin/echo', 'sub'], capture_output=True, text=True).stdout.strip())\n"
                "t = threading.Thread(target=print, args=('thread',)); t.start(); t.join()\n")
        r = py(code)
        self.assertEqual(r["exit"], 0, r)
        self.assertIn("memfd 38", r["stdout"])  # ENOSYS
        for fam in (16, 40, 17):
            self.assertIn("refused %d 97" % fam, r["stdout"])  # EAFNOSUPPORT
        for fam in (1, 2, 10):
            self.assertIn("open %d" % fam, r["stdout"])
        self.assertIn("sub", r["stdout"])
        self.assertIn("thread", r["stdout"])

    # ---------------------------------------------------------------- 19: output attacks
    def output_run(self, code, **kw):
        out = tempfile.mkdtemp(prefix="out-", dir=self.tmp)
        return py(code, output=out, **kw)

    def file_state(self, r, name):
        return next(f for f in r["files"] if f["name"] == name)

    def test_19_symlink_output(self):
        """scores.txt replaced by a symlink to a host file is refused, never followed."""
        r = self.output_run("import os\nos.symlink('/etc/passwd','/sandbox/output/scores.txt')\n"
                            "os.symlink('/etc/shadow','/sandbox/output/scores.json')")
        self.assertEqual(self.file_state(r, "scores.txt")["state"], "unsafe", r)
        self.assertEqual(self.file_state(r, "scores.json")["state"], "unsafe", r)

    def test_19_fifo_output(self):
        """A FIFO as scores.json is refused without blocking the server."""
        t0 = time.time()
        r = self.output_run("import os\nos.mkfifo('/sandbox/output/scores.json')")
        self.assertLess(time.time() - t0, 10)
        self.assertEqual(self.file_state(r, "scores.json")["state"], "unsafe", r)

    def test_19_huge_output(self):
        """A scores file above the cap is refused, not read; the output tmpfs is bounded."""
        r = self.output_run("f=open('/sandbox/output/scores.txt','w')\nf.write('score: 1\\n' * 100000)\nf.close()\n"
                            "g=open('/sandbox/output/fill','wb')\ntry:\n g.write(b'0' * (64 << 20))\n"
                            "except OSError as e: print('full', e.errno)", tmp=16)
        self.assertEqual(self.file_state(r, "scores.txt")["state"], "too_large", r)
        self.assertIn("full", r["stdout"])

    def test_19_stdout_flood(self):
        """A stdout flood is capped (64 KiB kept) and the run still ends."""
        r = run("/bin/sh", "-c", "head -c 200000000 /dev/zero | tr '\\0' x; echo done >&2")
        self.assertTrue(r["truncated"], {k: r[k] for k in ("exit", "truncated")})
        self.assertLessEqual(len(r["stdout"]), 64 * 1024)
        self.assertEqual(r["exit"], 0)

    # ---------------------------------------------------------------- the spawner: runs do not share the server's memory
    def test_20_supervisor_forked_from_spawner(self):
        """A run's supervisor is forked from the small spawner process, not from the server: after the driver grew
        by 256 MiB (as a server does after start), the supervisor holds none of it. With the spawner gone, runs
        still go (forked from the driver), and then the supervisor does map the driver's memory: the measure can
        tell the two apart."""
        probe = ["/bin/sh", "-c", "grep -E '^RssAnon' /proc/$PPID/status"]

        def supervisor_kib(r):
            self.assertEqual(r["exit"], 0, r)
            return int(r["stdout"].split()[1])

        r = run(*probe, extra=["--insecure", "--ballast", "256"])
        self.assertTrue(r["spawner"], r)
        self.assertLess(supervisor_kib(r), 64 * 1024, r)
        r = run(*probe, extra=["--insecure", "--ballast", "256", "--kill-spawner"])
        self.assertFalse(r["spawner"], r)
        self.assertGreater(supervisor_kib(r), 200 * 1024, r)

    def test_20_concurrent_runs(self):
        """Runs started from 8 threads at once (as the server's workers do) each get their own pipes and report,
        through the spawner and without it: every run exits 0 with the same 10,000 lines."""
        for extra in ([], ["--kill-spawner"]):
            r = run("/bin/sh", "-c", "seq 1 10000; sleep 0.1", extra=extra + ["--threads", "8", "--repeat", "3"])
            self.assertEqual((r["runs"], r["runs_failed"], r["outputs_differ"], r["spawner"]), (24, 0, 0, not extra), r)
            self.assertEqual(r["stdout"].split(), [str(i) for i in range(1, 10001)])

    def test_20_confined_runs_without_spawner(self):
        """Confined runs work both ways, with the same uid rules."""
        for extra in ([], ["--kill-spawner"]):
            r = run("/usr/bin/id", "-u", extra=extra + ["--repeat", "3"])
            self.assertEqual((r["exit"], r["spawner"]), (0, not extra), r)
            self.assertNotEqual(r["stdout"].strip(), "0", r)


def main():
    global ARGS
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--driver", required=True)
    parser.add_argument("--hostile", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
