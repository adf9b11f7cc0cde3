"""Slurm, really (issue 12): a single-node Slurm (Debian's slurmctld and slurmd, with munge) started on loopback
with its configuration in a temporary folder; workers submitted with `sbatch --array` of
scripts/slurm/concours-worker.sbatch claim the runs of a server started with `--local-runs 0`; every submission is
scored once, and each array task exits after its run (`--once`).

usage: python3 test_slurm.py --concours BUILD/concours --source REPO [unittest args]
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
sys.path.insert(0, os.path.join(HERE, "..", "code"))
import harness  # noqa: E402
from test_code_runs import SLUG, baseline, expected_scores  # noqa: E402
from test_workers import WorkerServer, participant, send, wait_for  # noqa: E402

SLURM_CONF = """\
ClusterName=concours-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={tmp}/munge.socket
CredType=cred/munge
StateSaveLocation={tmp}/state
SlurmdSpoolDir={tmp}/spool
SlurmctldPidFile={tmp}/slurmctld.pid
SlurmdPidFile={tmp}/slurmd.pid
SlurmctldLogFile={tmp}/slurmctld.log
SlurmdLogFile={tmp}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Slurm:
    """munged, slurmctld and slurmd of one test, in the foreground, stopped by stop()."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="concours-slurm-")
        os.chmod(self.tmp, 0o755)
        for d in ("state", "spool", "munge"):
            os.makedirs(os.path.join(self.tmp, d))
        self.env = dict(os.environ, SLURM_CONF=os.path.join(self.tmp, "slurm.conf"))
        with open(self.env["SLURM_CONF"], "w") as f:
            f.write(SLURM_CONF.format(tmp=self.tmp, ctld_port=free_port(), d_port=free_port()))
        key = os.path.join(self.tmp, "munge", "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        os.chmod(os.path.join(self.tmp, "munge"), 0o700)
        self.procs = []
        self.start(["munged", "--foreground", "--force", "--key-file", key, "--socket",
                    os.path.join(self.tmp, "munge.socket"), "--pid-file", os.path.join(self.tmp, "munged.pid"),
                    "--log-file", os.path.join(self.tmp, "munged.log"), "--seed-file",
                    os.path.join(self.tmp, "munge.seed")], "munged")
        wait_for(lambda: os.path.exists(os.path.join(self.tmp, "munge.socket")), "munged's socket", 30)
        self.start(["slurmctld", "-D", "-i"], "slurmctld")
        self.start(["slurmd", "-D", "-N", "localhost"], "slurmd")
        wait_for(self.node_ready, "the Slurm node to be idle", 90)

    def start(self, argv, name):
        log = open(os.path.join(self.tmp, name + ".out"), "w")
        self.procs.append((subprocess.Popen(argv, env=self.env, stdout=log, stderr=subprocess.STDOUT), log))

    def run(self, *argv):
        return subprocess.run(list(argv), env=self.env, capture_output=True, text=True, timeout=60)

    def node_ready(self):
        r = self.run("sinfo", "-h", "-N", "-o", "%T")
        return r.returncode == 0 and r.stdout.strip() in ("idle", "mixed", "allocated")

    def logs(self):
        out = []
        for name in ("munged.out", "slurmctld.log", "slurmd.log"):
            p = os.path.join(self.tmp, name)
            if os.path.exists(p):
                with open(p) as f:
                    out.append("--- %s\n%s" % (name, f.read()[-3000:]))
        return "\n".join(out)

    def stop(self):
        for p, log in reversed(self.procs):
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class SlurmTest(unittest.TestCase):
    def test_sbatch_array_jobs_run_the_submissions(self):
        for tool in ("munged", "slurmctld", "slurmd", "sbatch"):
            self.assertIsNotNone(shutil.which(tool), tool + " is missing: scripts/install-deps.sh installs it")
        server = WorkerServer()
        slurm = None
        try:
            server.start()
            slurm = Slurm()
            token_file, _ = server.token("slurm")
            c = participant(server, "sam")
            ids = [send(c, baseline()), send(c, baseline().replace("def main():", "def main():\n    pass"))]
            env = dict(slurm.env, CONCOURS=os.path.abspath(harness.ARGS.concours),
                       CONCOURS_SERVER="http://127.0.0.1:%d" % server.port, CONCOURS_TOKEN_FILE=token_file,
                       CONCOURS_IDLE_EXIT="60", CONCOURS_WORK=os.path.join(server.tmp, "slurm-work"))
            script = harness.source_path("scripts", "slurm", "concours-worker.sbatch")
            r = subprocess.run(["sbatch", "--array=1-2", "--chdir", server.tmp, "--parsable", script], env=env,
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr + slurm.logs())
            job = r.stdout.strip().split(";")[0]
            for sid in ids:
                sub = c.wait_done(sid, timeout=120)
                self.assertEqual((sub["status"], sub["public_score"]), ("scored", expected_scores()[0]), sub)
            # each array task ran one run and left (--once): the queue of the cluster empties
            wait_for(lambda: slurm.run("squeue", "-h", "-j", job).stdout.strip() == "", "the array job to end", 120)
            outs = [f for f in os.listdir(server.tmp) if f.startswith("concours-worker-%s_" % job)]
            self.assertEqual(len(outs), 2, outs)
            self.assertEqual([(r2["name"], r2["submissions"]) for r2 in c.leaderboard(SLUG).json()["rows"]],
                             [("sam", 2)])
        except AssertionError:
            if slurm is not None:
                print(slurm.logs(), file=sys.stderr)
            for f in os.listdir(server.tmp):
                if f.startswith("concours-worker-"):
                    with open(os.path.join(server.tmp, f)) as out:
                        print("--- %s\n%s" % (f, out.read()[-2000:]), file=sys.stderr)
            raise
        finally:
            if slurm is not None:
                slurm.stop()
            server.stop(check=False)


if __name__ == "__main__":
    harness.main()
