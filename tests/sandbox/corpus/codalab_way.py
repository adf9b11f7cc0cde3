"""The score CodaLab / Codabench would give, computed outside concours: the bundle's own scoring program, run the
way their workers ran it, on the full reference of a phase, with a submission as $input/res.

What it reproduces of their workers: the bundle zip unpacked; the program and the reference unpacked from their
zips (or copied from their folders), a zip holding one lone folder having that folder's content moved up; the
metadata's `command:` with $program, $input, $output, $shared (and Codabench's /app/program, /app/input,
/app/output) replaced by the folders; `python` meaning Python 3, as in their images (Debian's /usr/bin/python3 here); the NumPy of their images
(np.float and the other aliases NumPy 1.24 removed, restored by a sitecustomize on this run's PYTHONPATH only).

usage: python3 codalab_way.py BUNDLE.zip PROGRAM REFERENCE SUBMISSION.zip   (prints the scores as JSON)
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

SITECUSTOMIZE = """\
try:
    import numpy
    for _n, _t in (("float", float), ("int", int), ("bool", bool), ("object", object), ("str", str),
                   ("complex", complex)):
        if _n not in numpy.__dict__:
            setattr(numpy, _n, _t)
except ImportError:
    pass
"""


def lone_folder_up(d):
    entries = [e for e in os.listdir(d) if not e.startswith(".") and e != "__MACOSX"]
    if len(entries) == 1 and os.path.isdir(os.path.join(d, entries[0])):
        inner = os.path.join(d, entries[0])
        for e in os.listdir(inner):
            shutil.move(os.path.join(inner, e), os.path.join(d, e))
        os.rmdir(inner)


def place(bundle_dir, rel, dest):
    """The bundle's zip or folder REL, unpacked or copied to DEST."""
    src = os.path.join(bundle_dir, rel.rstrip("/"))
    if os.path.isdir(src):
        shutil.copytree(src, dest)
        return
    os.makedirs(dest)
    with zipfile.ZipFile(src) as z:
        z.extractall(dest)
    lone_folder_up(dest)


def command_of(program):
    for name in ("metadata", "metadata.yaml"):
        path = os.path.join(program, name)
        if os.path.exists(path):
            for line in open(path):
                if line.startswith("command:"):
                    return line[len("command:"):].strip().strip("'\"")
    raise SystemExit("no command in the program's metadata")


def scores_of(output):
    path = os.path.join(output, "scores.json")
    if os.path.exists(path):
        return json.load(open(path))
    scores = {}
    for line in open(os.path.join(output, "scores.txt")):
        if ":" in line:
            k, v = line.split(":", 1)
            scores[k.strip()] = float(v)
    return scores


def codalab_scores(bundle_zip, program_rel, reference_rel, submission_zip):
    tmp = tempfile.mkdtemp(prefix="codalab-way-")
    try:
        bundle = os.path.join(tmp, "bundle")
        with zipfile.ZipFile(bundle_zip) as z:
            z.extractall(bundle)
        program, inp, out, shared = (os.path.join(tmp, n) for n in ("program", "input", "output", "shared"))
        place(bundle, program_rel, program)
        place(bundle, reference_rel, os.path.join(inp, "ref"))
        os.makedirs(os.path.join(inp, "res"))
        with zipfile.ZipFile(submission_zip) as z:
            z.extractall(os.path.join(inp, "res"))
        os.makedirs(out)
        os.makedirs(shared)
        compat = os.path.join(tmp, "compat")
        os.makedirs(compat)
        with open(os.path.join(compat, "sitecustomize.py"), "w") as f:
            f.write(SITECUSTOMIZE)
        cmd = command_of(program)
        for name, path in (("program", program), ("input", inp), ("output", out), ("shared", shared)):
            cmd = re.sub(r"\$\{?%s\}?" % name, path, cmd).replace("/app/" + name, path)
        cmd = re.sub(r"^python3? ", "/usr/bin/python3 ", cmd)  # Debian's, with NumPy and scikit-learn
        env = dict(os.environ, PYTHONPATH=compat)
        subprocess.run(["/bin/sh", "-c", cmd], cwd=program, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=300)
        return scores_of(out)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    print(json.dumps(codalab_scores(*sys.argv[1:5])))
