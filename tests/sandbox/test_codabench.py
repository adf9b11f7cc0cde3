"""`concours challenge import` of a Codabench v2 bundle (competition.yaml with `version: 2`, Markdown pages,
tasks with folders, phases naming their task, month-day-year dates, a leaderboard whose first column is a
computed average rank): it imports as a concours challenge scored by the bundle's own program, and a submission
is scored through the server; an ingestion program is said to be not run (result submissions do not need it).
Phases starting together are tracks, each imported as a challenge of its own. What cannot be mapped is refused
with its key: a reference file named unsafely, a phase with two tasks, an unknown version, a bad date.

usage: python3 test_codabench.py --concours BUILD/concours --source REPO [unittest args]
"""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
import harness  # noqa: E402
from test_codalab import EVALUATE  # noqa: E402  (the same accuracy program, reading $input/ref/truth.csv)

COMPETITION = """\
version: 2
title: Widget Benchmark
description: A Codabench benchmark converted by concours.
image: logo.png
docker_image: codalab/codalab-legacy:py312
terms: pages/terms.md
pages:
  - title: Overview
    file: pages/overview.md
  - title: Data
    file: pages/data.md
tasks:
  - index: 0
    name: Development Task
    reference_data: final_phase/reference_data/
    scoring_program: scoring_program/
  - index: 1
    name: Final Task
    reference_data: final_phase/reference_data
    scoring_program: scoring_program
solutions: []
phases:
  - index: 0
    name: Development
    start: 1-1-2026
    end: 6-1-2030
    max_submissions_per_day: 5
    max_submissions: 100
    tasks:
      - 0
  - index: 1
    name: Final
    start: 6-1-2030
    max_submissions: 3
    tasks:
      - 1
leaderboards:
  - index: 0
    title: Results
    key: main
    columns:
      - title: Average rank
        key: avg_rank
        index: 0
        sorting: asc
        computation: avg
        computation_indexes: [1]
      - title: Accuracy
        key: accuracy
        index: 1
        sorting: desc
      - title: Errors
        key: errors
        index: 2
        sorting: asc
"""

TRUTH = "id,label,Usage\n" + "".join("w%02d,%d,%s\n" % (i, i % 2, "Public" if i < 10 else "Private")
                                     for i in range(20))


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def invert_dev_reference(src):
    """Inverts the labels of the bundle folder SRC's development reference (dev_phase/reference_data/truth.csv)."""
    with open(os.path.join(src, "dev_phase/reference_data/truth.csv")) as f:
        rows = f.read().splitlines()
    flipped = [rows[0]] + [",".join([r.split(",")[0], str(1 - int(r.split(",")[1]))] + r.split(",")[2:])
                           for r in rows[1:]]
    write(src, "dev_phase/reference_data/truth.csv", "\n".join(flipped) + "\n")


def make_bundle(parent, yaml=COMPETITION, extra=None):
    d = os.path.join(parent, "widget-benchmark")
    files = {
        "competition.yaml": yaml,
        "pages/overview.md": "Predict which widgets fail.\n",
        "pages/data.md": "Twenty widgets.\n",
        "pages/terms.md": "# Terms\n\nBe fair.\n",
        "scoring_program/metadata": "command: python3 $program/evaluate.py $input $output\n",
        "scoring_program/evaluate.py": EVALUATE,
        "dev_phase/reference_data/truth.csv": TRUTH,
        "final_phase/reference_data/truth.csv": TRUTH,
    }
    files.update(extra or {})
    for rel, text in files.items():
        write(d, rel, text)
    return d


class Codabench(unittest.TestCase):
    def run_import(self, src, data):
        return subprocess.run([harness.ARGS.concours, "challenge", "import", src, "--data", data],
                              capture_output=True, text=True, timeout=60)

    def test_import_and_score(self):
        server = harness.Server(bundles=[], workers=1)
        try:
            src = make_bundle(server.tmp, COMPETITION.replace("    scoring_program: scoring_program\n",
                                                              "    scoring_program: scoring_program\n"
                                                              "    ingestion_program: ingestion_program\n"))
            p = self.run_import(src, server.data)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            for word in ("ignored image", "docker_image codalab/codalab-legacy:py312: not pulled",
                         "set \"runtime\": {\"kind\": \"oci\", \"archive\": \"runtime/scoring.tar\"}",
                         "tasks[1].ingestion_program is not run",
                         "leaderboard column avg_rank computes the avg of the values, which concours does not",
                         "leaderboard column errors shown beside accuracy (lower is better)",
                         "Usage column the program does not read: concours runs the program once per split",
                         "imported challenge widget-benchmark"):
                self.assertIn(word, p.stdout)
            server.add_user("wanda", "participant")
            server.start()
            c = server.client()
            self.assertEqual(c.login("wanda").status, 200)
            detail = c.challenge("widget-benchmark").json()
            self.assertEqual([ph["name"] for ph in detail["phases"]], ["Development", "Final"], detail)
            self.assertEqual(detail["phases"][0]["start"], "2026-01-01T00:00:00Z")
            self.assertEqual(detail["phases"][0]["end"], "2030-06-01T00:00:00Z")
            self.assertEqual(detail["phases"][1]["end"], "2100-01-01T00:00:00Z")  # a last phase without end never ends
            self.assertEqual(detail["phases"][0]["max_per_day"], 5)
            self.assertIn("Twenty widgets.", detail["overview"])
            self.assertIn("Be fair.", detail["terms"])
            self.assertEqual(c.accept_terms("widget-benchmark").status, 204)
            pred = "id,label\n" + "".join("w%02d,%d\n" % (i, 0 if i < 5 else i % 2) for i in range(20))
            sid = c.upload(pred.encode(), slug="widget-benchmark").json()["id"]
            sub = c.wait_done(sid)
            self.assertEqual(sub["status"], "scored", sub)
            self.assertAlmostEqual(sub["public_score"], 0.8, places=3)  # 8 of the 10 public rows
            self.assertTrue(c.leaderboard("widget-benchmark").json()["higher_is_better"])
            # several columns (issue 13): Errors is shown beside Accuracy, with its own direction
            self.assertEqual([(m["key"], m["higher_is_better"]) for m in detail["metrics"]],
                             [("accuracy", True), ("errors", False)], detail["metrics"])
            self.assertEqual(detail["ranking"]["rule"], "primary")
            self.assertEqual(sub["metrics"]["errors"], 2, sub)  # the public run's value, for the participant
        finally:
            server.stop(check=False)

    def test_earlier_phase_with_its_own_task_is_a_challenge_of_its_own(self):
        server = harness.Server(bundles=[], workers=1)
        try:
            src = make_bundle(server.tmp, COMPETITION.replace("reference_data: final_phase/reference_data/\n",
                                                              "reference_data: dev_phase/reference_data/\n"))
            p = self.run_import(src, server.data)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("challenge 2 of 2 made from this competition (scored apart on CodaLab", p.stdout)
            self.assertIn("task 0 scores", p.stdout)
            server.start()
            c = server.client()
            self.assertEqual([ph["name"] for ph in c.challenge("widget-benchmark").json()["phases"]], ["Final"])
            self.assertEqual([ph["name"] for ph in c.challenge("widget-benchmark-development").json()["phases"]],
                             ["Development"])
        finally:
            server.stop(check=False)

    def test_a_phase_running_several_tasks_is_a_challenge_per_task(self):
        """Codabench scores a submission to a phase of two tasks on each task: each task becomes a track, a
        challenge of its own with its task's reference; the development phase, scored like the first task, stays
        with it (issue 13)."""
        server = harness.Server(bundles=[], workers=1)
        try:
            yaml = COMPETITION.replace("    tasks:\n      - 1\n", "    tasks:\n      - 0\n      - 1\n").replace(
                "reference_data: final_phase/reference_data/\n", "reference_data: dev_phase/reference_data/\n")
            # the final phase is open now
            yaml = yaml.replace("start: 1-1-2026", "start: 1-1-2025").replace("6-1-2030", "6-1-2026")
            src = make_bundle(server.tmp, yaml)
            invert_dev_reference(src)
            p = self.run_import(src, server.data)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("2 challenges made from this competition", p.stdout)
            server.add_user("wanda", "participant")
            server.start()
            c = server.client()
            self.assertEqual(c.login("wanda").status, 200)
            slugs = ("widget-benchmark-development-task", "widget-benchmark-final-task")
            first, second = (c.challenge(slug).json() for slug in slugs)
            self.assertEqual([ph["name"] for ph in first["phases"]], ["Development", "Final"])
            self.assertEqual([ph["name"] for ph in second["phases"]], ["Final"])
            self.assertEqual(second["title"], "Widget Benchmark \u2014 Final Task")
            pred = "id,label\n" + "".join("w%02d,%d\n" % (i, i % 2) for i in range(20))
            scores = []
            for slug in slugs:
                self.assertEqual(c.accept_terms(slug).status, 204)
                sub = c.wait_done(c.upload(pred.encode(), slug=slug).json()["id"])
                scores.append((sub["status"], sub["public_score"]))
            # the development task's reference is inverted; the final task's is not
            self.assertEqual(scores, [("scored", 0.0), ("scored", 1.0)])
        finally:
            server.stop(check=False)

    def test_parallel_phases_are_tracks(self):
        """Two phases starting together, each running its own task, are two tracks: two challenges, each scored
        against its task's reference on its own leaderboard (issue 13)."""
        server = harness.Server(bundles=[], workers=1)
        try:
            yaml = COMPETITION.replace("start: 6-1-2030", "start: 1-1-2026\n    end: 6-1-2030").replace(
                "reference_data: final_phase/reference_data/\n", "reference_data: dev_phase/reference_data/\n")
            src = make_bundle(server.tmp, yaml)
            invert_dev_reference(src)
            p = self.run_import(src, server.data)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("widget-benchmark-development: new", p.stdout)
            self.assertIn("widget-benchmark-final: new", p.stdout)
            server.add_user("wanda", "participant")
            server.start()
            c = server.client()
            self.assertEqual(c.login("wanda").status, 200)
            pred = "id,label\n" + "".join("w%02d,%d\n" % (i, i % 2) for i in range(20))
            scores = {}
            for slug in ("widget-benchmark-development", "widget-benchmark-final"):
                phases = c.challenge(slug).json()["phases"]
                self.assertEqual([ph["name"] for ph in phases], [slug.split("-")[-1].title()])
                self.assertEqual(c.accept_terms(slug).status, 204)
                sub = c.wait_done(c.upload(pred.encode(), slug=slug).json()["id"])
                self.assertEqual(sub["status"], "scored", sub)
                scores[slug] = (sub["public_score"], len(c.leaderboard(slug).json()["rows"]))
            self.assertEqual(scores, {"widget-benchmark-development": (0.0, 1), "widget-benchmark-final": (1.0, 1)})
        finally:
            server.stop(check=False)

    def refused(self, yaml=COMPETITION, extra=None, remove=()):
        server = harness.Server(bundles=[], workers=1)
        try:
            src = make_bundle(server.tmp, yaml, extra)
            for rel in remove:
                os.remove(os.path.join(src, rel))
            p = self.run_import(src, server.data)
            self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
            return p.stderr
        finally:
            server.stop(check=False)

    def test_refusals_name_the_key(self):
        err = self.refused(extra={"final_phase/reference_data/other notes.txt": "id,label\n"})
        self.assertIn("other notes.txt", err)
        self.assertIn("names must be made of A-Z a-z 0-9 . _ -", err)
        err = self.refused(COMPETITION.replace("    tasks:\n      - 1\n", "    tasks:\n" + "      - 1\n" * 17))
        self.assertIn("competition.yaml: phases[1].tasks: a phase runs 1 to 16 tasks (each task becomes a challenge of "
                      "its own); it has 17", err)
        err = self.refused(COMPETITION.replace("version: 2", "version: 3"))
        self.assertIn('competition.yaml: version: "3" is neither 1 (CodaLab) nor 2 (Codabench)', err)
        err = self.refused(COMPETITION.replace("start: 1-1-2026", "start: 13-45-2026"))
        self.assertIn("competition.yaml: phases[0].start:", err)


if __name__ == "__main__":
    harness.main()
