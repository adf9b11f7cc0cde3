"""Helpers shared by the benchmarks that measure concours against nginx (download.py, http_reads.py): the CPU time
of server processes from /proc, Debian tools installed when missing, and an nginx serving a folder on loopback."""
import os
import shutil
import socket
import subprocess
import time

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pids, children=True):
    """User + system CPU seconds of PIDS (and of their reaped children unless not CHILDREN)."""
    total = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += sum(int(x) for x in fields[11:15 if children else 13])
    return total / TICK


def ensure_tools(*pairs):
    """Installs each Debian PACKAGE whose TOOL is missing, for (TOOL, PACKAGE) in PAIRS."""
    for tool, pkg in pairs:
        if shutil.which(tool) is None:
            subprocess.run(["apt-get", "install", "-y", "-qq", pkg], check=True, stdout=subprocess.DEVNULL,
                           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


class Nginx:
    """nginx (one worker, sendfile on, no access log) serving ROOT on a free loopback port; WORK holds its files.
    Folders and files it serves must be readable by www-data."""

    def __init__(self, work, root):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write("daemon off; worker_processes 1; pid %s/nginx.pid; error_log %s/error.log;\nevents {}\n"
                    "http { access_log off; sendfile on; server { listen 127.0.0.1:%d; root %s; } }\n"
                    % (work, work, self.port, root))
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", work], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    def pids(self):
        out = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True).stdout.split("\n")
        return [self.proc.pid] + [int(line.split()[0]) for line in out
                                  if line.split() and int(line.split()[1]) == self.proc.pid]

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def setup(doc, size_flag, size_default, rounds_default, prefix, harness, root):
    """The common start of a size-and-rounds benchmark: its options (SIZE_FLAG, --rounds, --concours), nginx
    installed, the test harness pointed at the concours binary, and a fresh work folder (0755, so that nginx's
    workers can read it). Returns (args, work)."""
    import argparse
    import tempfile
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument(size_flag, type=int, default=size_default)
    ap.add_argument("--rounds", type=int, default=rounds_default)
    ap.add_argument("--concours", default=os.path.join(root, "build", "concours"))
    args = ap.parse_args()
    ensure_tools(("nginx", "nginx-light"))
    harness.ARGS = argparse.Namespace(concours=os.path.abspath(args.concours), source=root)
    work = tempfile.mkdtemp(prefix=prefix)
    os.chmod(work, 0o755)
    return args, work


def scored_teams(server, harness, n, prefix="team"):
    """N participants of the demo challenge (PREFIX000, PREFIX001...) who each sent the sample submission, scored.
    Returns [(client, submission id)]."""
    sample = harness.sample_submission()
    sent = []
    for k in range(n):
        c = server.client()
        name = "%s%03d" % (prefix, k)
        assert c.register(name).status == 201 and c.login(name).status == 200
        assert c.accept_terms(harness.DEMO_SLUG).status == 204
        sent.append((c, c.upload(sample).json()["id"]))
    for c, sid in sent:
        c.wait_done(sid, timeout=600)
    return sent
