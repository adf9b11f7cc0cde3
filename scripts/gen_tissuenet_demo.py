#!/usr/bin/env python3
"""Generates the synthetic data of challenges/tissuenet-demo (seeded, standard library only).

Slides of cervical biopsies graded 0 benign, 1 low-grade lesion, 2 high-grade lesion, 3 invasive cancer, as in
the TissueNet challenge; here each slide is a row of made-up metadata whose values drift with the grade.
Labels and predictions are one-hot rows filename,0,1,2,3. Rerunning rewrites the same files.
Usage: scripts/gen_tissuenet_demo.py
"""
import csv
import os
import random

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "challenges", "tissuenet-demo")
rng = random.Random(20260101)
CENTERS = ["C01", "C02", "C03", "C04", "C05"]


def age_band(age):
    """Ages in 10-year bands, open at both ends, so that every (center, age) class holds at least 5 slides
    (challenge.json declares "anonymity": {"quasi_identifiers": ["center", "age"], "k": 5})."""
    if age < 35:
        return "<35"
    if age >= 55:
        return "55+"
    low = 35 + (age - 35) // 10 * 10
    return "%d-%d" % (low, low + 9)


def slide(i):
    grade = rng.choices([0, 1, 2, 3], weights=[40, 25, 20, 15])[0]
    center = rng.choice(CENTERS)
    return {
        "filename": f"{center}_S{i:05d}.tif",
        "center": center,
        "age": age_band(max(18, min(90, round(rng.gauss(38 + 6 * grade, 10))))),
        "width_px": rng.randrange(40000, 160000, 64),
        "height_px": rng.randrange(20000, 90000, 64),
        "nuclear_density": round(rng.gauss(0.30 + 0.08 * grade, 0.07), 4),
        "mitoses_per_mm2": round(max(0.0, rng.gauss(1.0 + 2.2 * grade, 1.5)), 2),
        "stain_hematoxylin": round(rng.gauss(0.55, 0.08), 4),
        "grade": grade,
    }


def write(name, header, rows):
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def onehot(g):
    return [1 if g == k else 0 for k in range(4)]


def main():
    train = [slide(i) for i in range(600)]
    test = [slide(i) for i in range(600, 900)]
    features = ["filename", "center", "age", "width_px", "height_px", "nuclear_density", "mitoses_per_mm2",
                "stain_hematoxylin"]
    write("data/train_metadata.csv", features, [[s[k] for k in features] for s in train])
    write("data/train_labels.csv", ["filename", "0", "1", "2", "3"], [[s["filename"]] + onehot(s["grade"]) for s in train])
    write("data/test_metadata.csv", features, [[s[k] for k in features] for s in test])
    write("data/sample_submission.csv", ["filename", "0", "1", "2", "3"], [[s["filename"], 1, 0, 0, 0] for s in test])
    usage = ["Public" if rng.random() < 0.4 else "Private" for _ in test]
    write("private/solution.csv", ["filename", "0", "1", "2", "3", "Usage"],
          [[s["filename"]] + onehot(s["grade"]) + [u] for s, u in zip(test, usage)])
    print(f"wrote {len(train)} training and {len(test)} test slides to {os.path.normpath(HERE)}")


if __name__ == "__main__":
    main()
