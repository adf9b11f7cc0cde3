"""The data-driven bundle suite (issue 17): every folder of tests/bundles/ but _base is one case, a case.json that
edits the minimal valid bundle _base/ ("set" and "delete" paths of challenge.json, "files" written over it,
"remove"d files) and lists the problems it must produce ("expect": substrings, each of one problem line), or
says it is "valid" ("absent": substrings no problem line may hold). Each case runs through `concours challenge check` (exit 2 and every expected problem, each
line naming its file; or exit 0) and through `concours challenge import` into a fresh data folder, which must
report the same problems and leave no challenge behind.

    python3 run_cases.py --concours build/concours [--only NAME]
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = None


def set_path(doc, path, value, delete=False):
    parts = path.split("/")
    node = doc
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    last = parts[-1]
    if isinstance(node, list):
        if delete:
            del node[int(last)]
        elif int(last) == len(node):
            node.append(value)
        else:
            node[int(last)] = value
    elif delete:
        del node[last]
    else:
        node[last] = value


def build(case, dest):
    shutil.copytree(os.path.join(HERE, "_base"), dest)
    path = os.path.join(dest, "challenge.json")
    with open(path) as f:
        doc = json.load(f)
    for k, v in case.get("set", {}).items():
        set_path(doc, k, v)
    for k in case.get("delete", []):
        set_path(doc, k, None, delete=True)
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    for rel, text in case.get("files", {}).items():
        os.makedirs(os.path.dirname(os.path.join(dest, rel)) or dest, exist_ok=True)
        with open(os.path.join(dest, rel), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    for rel in case.get("remove", []):
        os.remove(os.path.join(dest, rel))


def problem_lines(stderr):
    return [l.strip() for l in stderr.splitlines()[1:] if l.startswith("  ") and not l.startswith("  ...")]


def cases():
    for name in sorted(os.listdir(HERE)):
        if name.startswith("_") or not os.path.isfile(os.path.join(HERE, name, "case.json")):
            continue
        if ARGS.only and name != ARGS.only:
            continue
        with open(os.path.join(HERE, name, "case.json")) as f:
            yield name, json.load(f)


class Bundles(unittest.TestCase):
    def run_cli(self, *args):
        return subprocess.run([ARGS.concours] + list(args), capture_output=True, text=True, timeout=120)

    def check_case(self, name, case, tmp):
        bundle = os.path.join(tmp, name)
        build(case, bundle)
        r = self.run_cli("challenge", "check", bundle)
        if case.get("valid"):
            self.assertEqual(r.returncode, 0, "%s: %s\n%s" % (name, case["why"], r.stderr))
            return
        self.assertEqual(r.returncode, 2, "%s should be refused (%s):\n%s%s" % (name, case["why"], r.stdout, r.stderr))
        lines = problem_lines(r.stderr)
        self.assertTrue(lines, r.stderr)
        for want in case["expect"]:
            self.assertTrue(any(want in l for l in lines), "%s: no problem says %r:\n%s" % (name, want, "\n".join(lines)))
        for unwanted in case.get("absent", []):  # what a check that does not apply must not say
            self.assertFalse(any(unwanted in l for l in lines), "%s: a problem says %r:\n%s" % (name, unwanted,
                                                                                              "\n".join(lines)))
        for l in lines:  # every problem names its file first
            self.assertRegex(l, r"^(challenge\.json|terms\.md|overview\.md|data/|private/|scoring_program/|ingestion_program/|hidden/|smoke/|runtime/|\(archive\))", l)
        # the import runs the same checks and leaves nothing
        data = os.path.join(tmp, name + "-data")
        r2 = self.run_cli("challenge", "import", bundle, "--data", data)
        self.assertEqual(r2.returncode, 2, r2.stdout + r2.stderr)
        self.assertEqual(problem_lines(r2.stderr), lines)
        db = sqlite3.connect(os.path.join(data, "concours.db"))
        self.assertEqual(db.execute("SELECT count(*) FROM challenges").fetchone()[0], 0)
        db.close()
        self.assertEqual(os.listdir(os.path.join(data, "challenges")), [])

    def test_cases(self):
        seen = 0
        broken = 0
        with tempfile.TemporaryDirectory() as tmp:
            for name, case in cases():
                with self.subTest(case=name):
                    self.check_case(name, case, tmp)
                seen += 1
                broken += 0 if case.get("valid") else 1
        if not ARGS.only:
            self.assertGreaterEqual(broken, 40, "the suite holds at least 40 broken bundles")
        print("%d cases, %d broken" % (seen, broken))

    def test_base_imports(self):
        """_base itself imports, and importing it again changes nothing."""
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "data")
            base = os.path.join(HERE, "_base")
            r = self.run_cli("challenge", "import", base, "--data", data)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("imported challenge base-case", r.stdout)
            r = self.run_cli("challenge", "import", base, "--data", data)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("challenge base-case is up to date", r.stdout)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--concours", required=True)
    ap.add_argument("--only")
    ARGS, rest = ap.parse_known_args()
    ARGS.concours = os.path.abspath(ARGS.concours)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
