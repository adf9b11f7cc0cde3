"""Debian runtimes of code-execution challenges (`"runtime": {"kind": "debian", "packages": [...]}`, API.md
section 4, docs/code.md): `concours runtime build` builds the root file system once with mmdebstrap (progress on
stderr) into the data folder's cache; the server's import finds it there without building again; the example's
baseline runs on it (not on the host's /usr) and scores what an independent computation gives; the run records the
identity, the SHA-256 of the manifest of the package list. A package name that is not one is refused with the field.

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
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
import harness  # noqa: E402
from test_code_runs import SLUG, baseline, demo, expected_scores  # noqa: E402

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
        finally:
            server.stop(check=False)


if __name__ == "__main__":
    harness.main()
