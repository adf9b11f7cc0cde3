"""Container images as runtimes of code-execution challenges (`"runtime": {"kind": "oci", "archive": ...}`,
API.md section 4, docs/code.md): a `docker save` archive and an OCI image layout, built here from a few host files
(dash and its libraries) in two layers with whiteouts, links and an opaque folder, are unpacked without a container
daemon, and code runs on them instead of the host's /usr; the run records the image's identity. Hostile images
(a name with "..", a write through a symlink, a blob whose content is not its digest) are refused at import with the
field named. The organizer's scoring program runs on an image too (metric.runtime), and is checked against it at import.

usage: python3 test_oci.py --concours BUILD/concours --source REPO [unittest args]
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
import harness  # noqa: E402

SLUG = "tissuenet-code-demo"

RUN_SH = r'''
cr=$(printf '\r')
{ echo "filename,0,1,2,3"
  while IFS= read -r name; do
    name=${name%"$cr"}
    [ "$name" = filename ] && continue
    echo "$name,1,0,0,0"
  done < /data/test_metadata.csv
} > /output/submission.csv
[ -e /etc/secret.txt ] && echo "SECRET-STILL-THERE"
for f in /opt/dir/*; do echo "OPT $f"; done
[ -e /usr/bin/python3 ] && echo "HOST-PYTHON-VISIBLE"
[ -x /usr/bin/sh2 ] && echo "HARDLINK-OK"
[ -L /bin/link ] && echo "SYMLINK-OK"
echo "MODE $CONCOURS_MODE"
echo "IMAGE-OK"
'''


def host_files():
    """{path in the image: host file} for /bin/sh = dash and the libraries it loads."""
    files = {"bin/sh": "/usr/bin/dash", "usr/bin/dash": "/usr/bin/dash"}
    out = subprocess.run(["ldd", "/usr/bin/dash"], stdout=subprocess.PIPE, check=True).stdout.decode()
    for line in out.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
        if path.startswith("/"):
            files[path.lstrip("/")] = os.path.realpath(path)
    return files


def tar_bytes(entries):
    """A tar of ENTRIES: (name, kind, payload) with kind file (bytes), exe (host path), dir, symlink, hardlink."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, payload
                t.addfile(info)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, payload
                t.addfile(info)
            else:
                data = payload if kind == "file" else open(payload, "rb").read()
                info.size, info.mode = len(data), 0o755 if kind == "exe" else 0o644
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def layers(extra_first=(), extra_second=()):
    first = [(p, "exe", host) for p, host in host_files().items()]
    first += [("etc/secret.txt", "file", b"from the lower layer\n"), ("opt/dir/a", "file", b"a\n")]
    second = [("etc/.wh.secret.txt", "file", b""), ("opt/dir/.wh..wh..opq", "file", b""),
              ("opt/dir/b", "file", b"b\n"), ("usr/bin/sh2", "hardlink", "usr/bin/dash"),
              ("bin/link", "symlink", "/usr/bin/dash")]
    return [tar_bytes(list(extra_first) + first), tar_bytes(second + list(extra_second))]


def docker_save(layer_tars):
    names = ["l%d/layer.tar" % i for i in range(len(layer_tars))]
    manifest = json.dumps([{"Config": "config.json", "RepoTags": ["test:1"], "Layers": names}]).encode()
    entries = [("manifest.json", "file", manifest), ("config.json", "file", b"{}")]
    entries += [(n, "file", data) for n, data in zip(names, layer_tars)]
    entries.append(("l0/VERSION", "symlink", "../l1/layer.tar"))  # docker save writes links: skipped
    return tar_bytes(entries)


def oci_layout(layer_tars, corrupt=False):
    blobs = {}

    def add(data):
        digest = hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return "sha256:" + digest

    descs = [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": add(gzip.compress(l)),
              "size": 0} for l in layer_tars]
    config = add(b"{}")
    manifest = json.dumps({"schemaVersion": 2, "config": {"digest": config}, "layers": descs}).encode()
    mdigest = add(manifest)
    index = json.dumps({"schemaVersion": 2, "manifests": [{"digest": mdigest}]}).encode()
    entries = [("oci-layout", "file", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", "file", index)]
    for digest, data in blobs.items():
        if corrupt and data.startswith(b"\x1f\x8b"):
            data = data[:-1] + bytes([data[-1] ^ 1])
        entries.append(("blobs/sha256/" + digest, "file", data))
    return tar_bytes(entries), mdigest[7:]


def add_image(dest, image, archive, block, **extra):
    """Writes IMAGE to the bundle DEST at ARCHIVE and names it as the runtime of challenge.json's BLOCK ("submission"
    or "metric"), with EXTRA keys of that block."""
    os.makedirs(os.path.dirname(os.path.join(dest, archive)), exist_ok=True)
    with open(os.path.join(dest, archive), "wb") as f:
        f.write(image)
    with open(os.path.join(dest, "challenge.json")) as f:
        doc = json.load(f)
    doc[block]["runtime"] = {"kind": "oci", "archive": archive}
    doc[block].update(extra)
    with open(os.path.join(dest, "challenge.json"), "w") as f:
        json.dump(doc, f)


def bundle(parent, image):
    dest = os.path.join(parent, SLUG)
    shutil.copytree(harness.source_path("challenges", SLUG), dest, ignore=shutil.ignore_patterns("baseline"))
    add_image(dest, image, "runtime/image.tar", "submission", command="sh run.sh")
    return dest


class OciTest(unittest.TestCase):
    def check(self, image):
        tmp = tempfile.mkdtemp(prefix="concours-oci-check-")
        try:
            r = subprocess.run([harness.ARGS.concours, "challenge", "check", bundle(tmp, image)],
                               capture_output=True, text=True, timeout=120)
            return r.returncode, r.stdout + r.stderr
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_hostile_images_are_refused_with_the_field(self):
        cases = [
            (docker_save(layers(extra_first=[("../escape", "file", b"x")])), ".."),
            (docker_save(layers(extra_second=[("opt/evil", "symlink", "/etc"),
                                              ("opt/evil/passwd", "file", b"x")])), "through a symlink"),
            (oci_layout(layers(), corrupt=True)[0], "does not have the content its name says"),
            (tar_bytes([("hello.txt", "file", b"hi")]), "neither index.json"),
        ]
        for image, want in cases:
            code, out = self.check(image)
            self.assertEqual(code, 2, out)
            self.assertIn("runtime/image.tar: submission.runtime.archive:", out)
            self.assertIn(want, out)
        code, out = self.check(docker_save(layers()))
        self.assertEqual(code, 0, out)

    def test_gpus_are_refused_on_a_machine_without_them(self):
        tmp = tempfile.mkdtemp(prefix="concours-gpu-check-")
        try:
            src = bundle(tmp, docker_save(layers()))
            with open(os.path.join(src, "challenge.json")) as f:
                doc = json.load(f)
            doc["submission"]["limits"]["gpus"] = 1
            with open(os.path.join(src, "challenge.json"), "w") as f:
                json.dump(doc, f)
            r = subprocess.run([harness.ARGS.concours, "challenge", "check", src], capture_output=True, text=True,
                               timeout=120)
            if os.path.exists("/dev/nvidiactl"):  # a machine with an NVIDIA driver accepts it
                self.assertEqual(r.returncode, 0, r.stderr)
            else:
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("challenge.json: submission.limits.gpus: asks for 1 GPU(s), but this machine has no "
                              "NVIDIA device", r.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_code_runs_on_the_image_not_on_the_host(self):
        for name, (image, identity) in (("docker save", (docker_save(layers()), None)),
                                        ("oci layout", oci_layout(layers()))):
            with self.subTest(name):
                server = harness.Server(bundles=[], workers=1)
                bundle(server.challenges, image)
                try:
                    server.start()
                    c = server.client()
                    self.assertEqual(c.register("lee").status, 201)
                    self.assertEqual(c.login("lee").status, 200)
                    self.assertEqual(c.accept_terms(SLUG).status, 204)
                    buf = io.BytesIO()
                    with zipfile.ZipFile(buf, "w") as z:
                        z.writestr("run.sh", RUN_SH)
                    r = c.request("POST", "/api/v1/challenges/%s/submissions?mode=smoke" % SLUG, body=buf.getvalue())
                    self.assertEqual(r.status, 201, r)
                    sub = c.wait_done(r.json()["id"], timeout=120)
                    log = c.get("/api/v1/submissions/%d/log" % sub["id"]).json()["log"]
                    self.assertEqual(sub["status"], "scored", (sub, log))
                    for want in ("IMAGE-OK", "OPT /opt/dir/b", "HARDLINK-OK", "SYMLINK-OK", "MODE smoke"):
                        self.assertIn(want, log)
                    for unwanted in ("SECRET-STILL-THERE", "OPT /opt/dir/a", "HOST-PYTHON-VISIBLE"):
                        self.assertNotIn(unwanted, log)
                    self.assertRegex(sub["runtime_sha256"], "^[0-9a-f]{64}$")
                    if identity is not None:  # an OCI layout's identity is its manifest's digest
                        self.assertEqual(sub["runtime_sha256"], identity)
                    self.assertEqual(len(os.listdir(os.path.join(server.data, "runtimes"))), 2)  # the image, its index
                finally:
                    server.stop(check=False)


PROGRAM_SLUG = "custom-metric-demo"

# The scoring program of ProgramRuntimeTest, for the image's dash alone (no coreutils): its score is a file of the
# image, and 0 where it sees the host's Python; it counts the submission's rows so that it reads $input too.
SCORE_SH = r'''
read v < /etc/concours-score
[ -e /usr/bin/python3 ] && v=0
n=0
while IFS= read -r line; do n=$((n+1)); done < "$1/res/predictions.csv"
[ "$n" -gt 1 ] || v=0
echo "auc: $v" > "$2/scores.txt"
'''


def program_bundle(parent, image, files, command):
    """custom-metric-demo with the scoring program FILES ({name: text}) run by COMMAND on the image IMAGE
    (metric.runtime, an oci archive at runtime/scoring.tar)."""
    dest = os.path.join(parent, PROGRAM_SLUG)
    shutil.copytree(harness.source_path("challenges", PROGRAM_SLUG), dest)
    shutil.rmtree(os.path.join(dest, "scoring_program"))
    os.makedirs(os.path.join(dest, "scoring_program"))
    files = dict(files, metadata="command: %s\n" % command)
    for name, text in files.items():
        with open(os.path.join(dest, "scoring_program", name), "w") as f:
            f.write(text)
    add_image(dest, image, "runtime/scoring.tar", "metric")
    return dest


def score_sample(tc, c, slug, timeout=180):
    """Client C accepts SLUG's terms and submits its sample submission, which must be scored; the submission."""
    tc.assertEqual(c.accept_terms(slug).status, 204)
    sample = harness.read_bytes(harness.source_path("challenges", PROGRAM_SLUG, "data", "sample_submission.csv"))
    r = c.request("POST", "/api/v1/challenges/%s/submissions" % slug, body=sample)
    tc.assertEqual(r.status, 201, r)
    sub = c.wait_done(r.json()["id"], timeout=timeout)
    tc.assertEqual(sub["status"], "scored", sub)
    return sub


class ProgramRuntimeTest(unittest.TestCase):
    """metric.runtime: the organizer's scoring program runs on its own root file system (issue 13: CodaLab programs
    that need packages or a Python the host lacks), and is checked at import against that image, not the host."""

    def check(self, image, files, command):
        tmp = tempfile.mkdtemp(prefix="concours-prt-check-")
        try:
            r = subprocess.run([harness.ARGS.concours, "challenge", "check",
                                program_bundle(tmp, image, files, command)],
                               capture_output=True, text=True, timeout=120)
            return r.returncode, r.stdout + r.stderr
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_program_is_checked_against_its_image(self):
        # an image without python3: the command's interpreter is named, as the runtime's
        code, out = self.check(docker_save(layers()), {"score.py": "import sys\n"}, "python3 $program/score.py")
        self.assertEqual(code, 2, out)
        self.assertIn("scoring_program/metadata: command: runs python3, which the program's runtime (metric.runtime) "
                      "does not have", out)
        # an image with a Python: its folders, not the host's, say which modules exist
        fake_python = [("usr/bin/python3", "symlink", "dash"),
                       ("usr/lib/python3.11/os.py", "file", b""),
                       ("usr/lib/python3.11/lib-dynload/_concours_ext.cpython-311-x86_64-linux-gnu.so", "file", b""),
                       ("usr/lib/python3/dist-packages/concours_image_only/__init__.py", "file", b""),
                       # a link out of the image, to the host's own packages (numpy among them): never listed
                       ("usr/local/lib/python3.11", "symlink", "/usr/lib/python3/dist-packages")]
        program = {"score.py": "import os\nimport sys\nimport _concours_ext\nimport concours_image_only\n"
                               "import numpy\n"}
        code, out = self.check(docker_save(layers(extra_second=fake_python)), program, "python3 $program/score.py")
        self.assertEqual(code, 2, out)
        self.assertIn("scoring_program/score.py: line 5: imports numpy, which the Python 3 of the program's runtime "
                      "does not have", out)
        for found in ("concours_image_only", "_concours_ext", "imports os", "imports sys"):
            self.assertNotIn(found, out)
        # the same program on the host: numpy is there, the image's own module is not
        tmp = tempfile.mkdtemp(prefix="concours-prt-host-")
        try:
            src = program_bundle(tmp, b"", program, "python3 $program/score.py")
            with open(os.path.join(src, "challenge.json")) as f:
                doc = json.load(f)
            del doc["metric"]["runtime"]
            with open(os.path.join(src, "challenge.json"), "w") as f:
                json.dump(doc, f)
            r = subprocess.run([harness.ARGS.concours, "challenge", "check", src], capture_output=True, text=True,
                               timeout=120)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("imports _concours_ext, which the scoring sandbox's Python 3 does not have (metric.runtime "
                          "can give the program one that has it)", r.stderr)
            self.assertNotIn("numpy", r.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_scoring_program_runs_on_its_image(self):
        image = docker_save(layers(extra_second=[("etc/concours-score", "file", b"0.75\n")]))
        server = harness.Server(bundles=[], workers=1)
        program_bundle(server.challenges, image, {"score.sh": SCORE_SH}, "sh $program/score.sh $input $output")
        try:
            server.start()
            c = server.client()
            self.assertEqual(c.register("ada").status, 201)
            self.assertEqual(c.login("ada").status, 200)
            sub = score_sample(self, c, PROGRAM_SLUG)
            self.assertAlmostEqual(sub["public_score"], 0.75, places=6)  # the image's file, not the host's Python
            self.assertEqual(len(os.listdir(os.path.join(server.data, "runtimes"))), 2)  # the image, its index
        finally:
            server.stop(check=False)


if __name__ == "__main__":
    harness.main()
