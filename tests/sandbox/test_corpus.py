"""The corpus of real CodaLab / Codabench bundles (tests/sandbox/corpus, SOURCES.md says where each comes from):
each imports as expected.json says (exit code, the problems named, the decisions reported; with the anonymity
override when the gate stops it), and where a result submission exists or can be built from the bundle's own
reference, concours scores it through its server exactly as CodaLab would (in the last phase, which never ends, as
on CodaLab, years after the competition began): the bundle's own program run outside
concours on the full reference (corpus/codalab_way.py) gives the same score, which expected.json also records.

usage: python3 test_corpus.py --concours BUILD/concours --source REPO [unittest args]
"""
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
sys.path.insert(0, os.path.join(HERE, "..", "http"))
sys.path.insert(0, CORPUS)
import harness  # noqa: E402
import codalab_way  # noqa: E402

with open(os.path.join(CORPUS, "expected.json")) as f:
    EXPECTED = json.load(f)


def submission_bytes(bundle, spec):
    """The submission SPEC names: a corpus file, or a zip built from files of the bundle (and literal texts)."""
    if "file" in spec:
        with open(os.path.join(CORPUS, spec["file"]), "rb") as f:
            return f.read()
    buf = io.BytesIO()
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(buf, "w") as z:
        for name, rel in spec.get("from_bundle", {}).items():
            z.writestr(name, src.read(rel))
        for name, text in spec.get("text", {}).items():
            z.writestr(name, text)
    return buf.getvalue()


class Corpus(unittest.TestCase):
    def run_import(self, server, bundle, override):
        args = [harness.ARGS.concours, "challenge", "import", bundle, "--data", server.data]
        if override:
            args += ["--anonymity-override", "corpus test: public toy data"]
        return subprocess.run(args, capture_output=True, text=True, timeout=120)

    def check_bundle(self, name, case):
        bundle = os.path.join(CORPUS, name)
        clock_dir = tempfile.mkdtemp(prefix="concours-corpus-")
        clock = os.path.join(clock_dir, "clock")
        with open(clock, "w") as f:
            f.write("%d\n" % case.get("clock", 1780000000))  # 2026-05-28: years after these competitions began
        server = harness.Server(bundles=[], workers=1, extra_args=["--test-clock", clock])
        try:
            p = self.run_import(server, bundle, False)
            self.assertEqual(p.returncode, case["exit"], p.stdout + p.stderr)
            for want in case.get("problems", []):
                self.assertIn(want, p.stderr)
            expect = case
            if "override" in case:
                p = self.run_import(server, bundle, True)
                expect = case["override"]
                self.assertEqual(p.returncode, expect["exit"], p.stdout + p.stderr)
            for want in expect.get("says", []):
                self.assertIn(want, p.stdout)
            # a competition made of several challenges (tracks, phases scored apart) lists them, the main one first
            made = [line.split(":")[0].strip() for line in p.stdout.splitlines() if line.startswith("  ")
                    and line.rstrip().endswith(": new")]
            self.assertEqual(made, expect.get("challenges", []), p.stdout)

            if "submission" not in case:
                return
            slug = made[0] if made else p.stdout.split("imported challenge ")[1].split()[0]
            pred = submission_bytes(bundle, case["submission"])
            with tempfile.NamedTemporaryFile(suffix=".zip") as f:
                f.write(pred)
                f.flush()
                theirs = codalab_way.codalab_scores(bundle, case["program"], case["reference"], f.name)
            self.assertAlmostEqual(theirs[case["key"]], case["score"], places=9, msg=theirs)
            server.add_user("corinne", "participant")
            server.start()
            c = server.client()
            self.assertEqual(c.login("corinne").status, 200)
            self.assertEqual(c.accept_terms(slug).status, 204)
            sid = c.upload(pred, slug=slug).json()["id"]
            sub = c.wait_done(sid)
            self.assertEqual(sub["status"], "scored", sub)
            self.assertAlmostEqual(sub["public_score"], theirs[case["key"]], places=4, msg=sub)
        finally:
            server.stop(check=False)

    def test_corpus(self):
        for name, case in sorted(EXPECTED.items()):
            with self.subTest(bundle=name):
                self.check_bundle(name, case)
        committed = sorted(n for n in os.listdir(CORPUS) if n.endswith(".zip") and "submission" not in n)
        self.assertEqual(committed, sorted(EXPECTED), "every committed bundle has its expected result")


if __name__ == "__main__":
    harness.main()
