#!/usr/bin/env python3
"""The example bundle challenges/visiomel-demo: its generator reproduces it byte for byte, its files agree
with each other and with challenge.json, `concours challenge import` accepts it, and `concours-score`
scores its sample submission to the log loss computed here.
"""
import csv
import json
import os
import re
import subprocess
import tempfile
import unittest

import harness


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Bundle(unittest.TestCase):

    def setUp(self):
        self.dir = harness.demo_dir()

    def test_generator_reproduces_the_data(self):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["python3", harness.source_path("scripts", "gen_visiomel_demo.py"), "--out", tmp],
                           check=True, timeout=60)
            for rel in ("data/train_metadata.csv", "data/test_metadata.csv", "data/sample_submission.csv",
                        "private/solution.csv"):
                self.assertEqual(harness.read_bytes(os.path.join(tmp, rel)),
                                 harness.read_bytes(os.path.join(self.dir, rel)), rel)

    def test_definition(self):
        spec = load(os.path.join(self.dir, "challenge.json"))
        self.assertEqual(spec["slug"], "visiomel-demo")
        self.assertEqual(spec["metric"], {"name": "log_loss", "params": {}})
        self.assertEqual((spec["id_column"], spec["split_column"]), ("filename", "Usage"))
        self.assertEqual(spec["leaderboard"], {"precision": 4})
        self.assertEqual(spec["terms_version"], 1)
        self.assertEqual(spec["teams"], {"max_size": 4})
        self.assertEqual(spec["ground_truth"], "private/solution.csv")
        for rel in spec["data"] + [spec["ground_truth"], "overview.md", "terms.md"]:
            self.assertTrue(os.path.isfile(os.path.join(self.dir, rel)), rel)
        self.assertEqual(sorted(spec["data"]), sorted("data/" + n for n in os.listdir(os.path.join(self.dir, "data"))))
        dev, final = spec["phases"]
        self.assertEqual(dev, {"name": "development", "start": "2026-01-01T00:00:00Z",
                               "end": "2030-06-30T00:00:00Z", "max_per_day": 5, "max_total": 200})
        self.assertEqual(final, {"name": "final", "start": "2030-07-01T00:00:00Z", "end": "2030-07-31T00:00:00Z",
                                 "max_per_day": 2, "max_total": 10, "final_selection": 2})

    def test_files_agree(self):
        data = os.path.join(self.dir, "data")
        train = harness.read_csv(os.path.join(data, "train_metadata.csv"))
        test = harness.read_csv(os.path.join(data, "test_metadata.csv"))
        sample = harness.read_csv(os.path.join(data, "sample_submission.csv"))
        sol = harness.solution()
        self.assertGreaterEqual(len(train), 300)
        self.assertGreaterEqual(len(test), 150)
        self.assertEqual(list(train[0])[-1], "relapse")
        self.assertEqual(list(train[0])[:-1], list(test[0]))
        self.assertEqual(list(sample[0]), ["filename", "relapse"])
        self.assertEqual(list(sol[0]), ["filename", "relapse", "Usage"])
        names = [r["filename"] for r in test]
        self.assertTrue(all(re.fullmatch(r"slide_\d{6}\.tif", n) for n in names + [r["filename"] for r in train]))
        self.assertEqual(len(set(names + [r["filename"] for r in train])), len(names) + len(train))
        self.assertEqual([r["filename"] for r in sample], names)
        self.assertEqual(sorted(r["filename"] for r in sol), sorted(names))
        for r in sample:
            self.assertTrue(0 < float(r["relapse"]) < 1)
        for usage in ("Public", "Private"):
            ys = [int(r["relapse"]) for r in sol if r["Usage"] == usage]
            self.assertGreater(len(ys), 0.4 * len(sol), usage)
            self.assertTrue(0 < sum(ys) < len(ys), usage)
        self.assertEqual({r["Usage"] for r in sol}, {"Public", "Private"})

    def test_import_accepts_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = subprocess.run([harness.ARGS.concours, "challenge", "import", self.dir, "--data", tmp],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout.decode())

    def test_scorer_scores_the_sample(self):
        scorer = os.path.join(os.path.dirname(harness.ARGS.concours), "concours-score")
        sample_path = os.path.join(self.dir, "data", "sample_submission.csv")
        r = subprocess.run([scorer, "--challenge", self.dir, "--pred", sample_path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        out = json.loads(r.stdout)
        pred = harness.parse_predictions(harness.read_bytes(sample_path))
        self.assertEqual(out["metric"], "log_loss")
        self.assertIs(out["higher_is_better"], False)
        self.assertAlmostEqual(out["score"], harness.log_loss(pred), places=9)
        self.assertAlmostEqual(out["public"], harness.log_loss(pred, "Public"), places=9)
        self.assertAlmostEqual(out["private"], harness.log_loss(pred, "Private"), places=9)


if __name__ == "__main__":
    harness.main()
