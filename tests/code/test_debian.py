"""Debian runtimes of code-execution challenges (`"runtime": {"kind": "debian", "packages": [...]}`, API.md
section 4, docs/code.md): `concours runtime build` builds the root file system once with mmdebstrap (progress on
stderr) into the data folder's cache; the server's import finds it there without building again; the example's
baseline runs on it (not on the host's /usr) and scores what an independent computation gives; the run records the
identity, the SHA-256 of the manifest of the package list. A package name that is not one is refused with the field.
An organizer's scoring program on the same package list (metric.runtime) finds the runtime in the cache, is checked
against it at import (an import the runtime lacks is named), and scores there.

Needs the Debian mirror the machine installs its packages from (mmdebstrap downloads the packages).
usage: python3 test_debian.py --concours BUILD/concours --source REPO [unittest args]
"""
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
import harness  # noqa: E402
from test_code_runs import SLUG, baseline, demo, expected_scores  # noqa: E402
from test_oci import PROGRAM_SLUG, score_sample  # noqa: E402

PACKAGES = ["python3", "python3"]  # listed twice: the identity is of the sorted, unique list


def codename():
    with open("/etc/os-release") as f:
        for line in f:
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip() or "bookworm"
    return "bookworm"


def bundle(parent, packages):
    dest = os.path.join(parent, SLUG)
    shutil.copytree(demo(), dest, ignore=shutil.ignore_patterns("baseline"))
    with open(os.path.join(dest, "challenge.json")) as f:
        doc = json.load(f)
    doc["submission"]["runtime"] = {"kind": "debian", "packages": packages}
    with open(os.path.join(dest, "challenge.json"), "w") as f:
        json.dump(doc, f)
    return dest


# A scoring program for the runtime: 1 when it runs there (no cmake, which the host has), 0 on the host's /usr.
SCORE_PY = """import os
import sys
seen = open(os.path.join(sys.argv[1], 'res', 'predictions.csv')).read().count(chr(10))
with open(os.path.join(sys.argv[2], 'scores.txt'), 'w') as f:
    f.write('auc: %d\\n' % (0 if os.path.exists('/usr/bin/cmake') or seen < 2 else 1))
"""


def program_bundle(parent, packages, script, slug=PROGRAM_SLUG):
    """custom-metric-demo named SLUG, its scoring program SCRIPT run on a debian runtime of PACKAGES."""
    dest = os.path.join(parent, slug)
    shutil.copytree(harness.source_path("challenges", PROGRAM_SLUG), dest)
    with open(os.path.join(dest, "scoring_program", "score.py"), "w") as f:
        f.write(script)
    with open(os.path.join(dest, "challenge.json")) as f:
        doc = json.load(f)
    doc["slug"] = slug
    doc["metric"]["runtime"] = {"kind": "debian", "packages": packages}
    with open(os.path.join(dest, "challenge.json"), "w") as f:
        json.dump(doc, f)
    return dest


class DebianRuntimeTest(unittest.TestCase):
    def test_a_bad_package_name_is_refused(self):
        server = harness.Server(bundles=[])
        try:
            r = subprocess.run([harness.ARGS.concours, "challenge", "check",
                                bundle(server.challenges, ["python3", "Python 3; rm -rf /"])],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertIn("challenge.json: submission.runtime.packages: packages[1] is not a Debian package name",
                          r.stderr)
        finally:
            server.stop(check=False)

    def test_the_baseline_runs_on_a_runtime_built_once(self):
        server = harness.Server(bundles=[], workers=1)
        try:
            src = bundle(server.challenges, PACKAGES)
            r = subprocess.run([harness.ARGS.concours, "runtime", "build", src, "--data", server.data],
                               capture_output=True, text=True, timeout=1800)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("building the debian runtime", r.stderr)
            self.assertIn("runtime ready for challenge " + SLUG, r.stdout)
            # a scoring program on the same package list (metric.runtime) finds the runtime in the cache, and is
            # checked against it: numpy, which the host has, is not in a runtime of python3 alone
            with tempfile.TemporaryDirectory() as tmp:
                bad = program_bundle(tmp, ["python3"], "import numpy\n" + SCORE_PY, slug="numpy-program")
                r = subprocess.run([harness.ARGS.concours, "runtime", "build", bad, "--data", server.data],
                                   capture_output=True, text=True, timeout=600)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertNotIn("building the debian runtime", r.stderr)
                self.assertIn("scoring_program/score.py: line 1: imports numpy, which the Python 3 of the program's "
                              "runtime does not have", r.stderr)
            program_bundle(server.challenges, PACKAGES, SCORE_PY)
            server.start()
            self.assertNotIn("building the debian runtime", server.output())  # found in the cache
            c = server.client()
            self.assertEqual(c.register("mia").status, 201)
            self.assertEqual(c.login("mia").status, 200)
            self.assertEqual(c.accept_terms(SLUG).status, 204)
            code = baseline().replace("def main():", "def main():\n    print('CMAKE', os.path.exists('/usr/bin/cmake'),"
                                      " file=sys.stderr)")
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                z.writestr("main.py", code)
            r = c.request("POST", "/api/v1/challenges/%s/submissions" % SLUG, body=buf.getvalue())
            self.assertEqual(r.status, 201, r)
            sub = c.wait_done(r.json()["id"], timeout=180)
            self.assertEqual(sub["status"], "scored", sub)
            self.assertEqual(sub["public_score"], expected_scores()[0])
            manifest = "concours runtime debian v1\nsuite %s\nvariant minbase\npackages python3\n" % codename()
            self.assertEqual(sub["runtime_sha256"], hashlib.sha256(manifest.encode()).hexdigest())
            smoke = c.request("POST", "/api/v1/challenges/%s/submissions?mode=smoke" % SLUG, body=buf.getvalue())
            log = c.get("/api/v1/submissions/%d/log" % c.wait_done(smoke.json()["id"], timeout=180)["id"]).json()
            self.assertIn("CMAKE False", log["log"])  # the host has cmake; the runtime does not
            # the organizer's scoring program runs on its runtime too
            self.assertEqual(score_sample(self, c, PROGRAM_SLUG)["public_score"], 1.0)
        finally:
            server.stop(check=False)


if __name__ == "__main__":
    harness.main()
