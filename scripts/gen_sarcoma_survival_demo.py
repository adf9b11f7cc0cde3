#!/usr/bin/env python3
"""Generates the synthetic data of challenges/sarcoma-survival-demo (seeded, standard library only).

Patients with a soft-tissue sarcoma, followed after surgery: time to metastasis in months and whether it was
observed (event 1) or the follow-up ended first (event 0, censored). Survival times follow an exponential
model whose hazard grows with grade, size and margin status, censored by the end of follow-up.
Usage: scripts/gen_sarcoma_survival_demo.py
"""
import csv
import math
import os
import random

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "challenges", "sarcoma-survival-demo")
rng = random.Random(20260102)
HISTOLOGY = ["leiomyosarcoma", "liposarcoma", "UPS", "synovial sarcoma", "MPNST"]


def age_band(age):
    """Ages in 10-year bands, open at both ends, so that every (age, sex) class holds at least 5 patients
    (challenge.json declares "anonymity": {"quasi_identifiers": ["age", "sex"], "k": 5})."""
    if age < 40:
        return "<40"
    if age >= 70:
        return "70+"
    return "%d-%d" % (age // 10 * 10, age // 10 * 10 + 9)


def patient(i):
    grade = rng.choices([1, 2, 3], weights=[30, 35, 35])[0]
    size = round(max(1.0, rng.lognormvariate(2.0, 0.5)), 1)
    margin = rng.choices(["R0", "R1", "R2"], weights=[70, 25, 5])[0]
    age = max(18, min(92, round(rng.gauss(58, 14))))
    depth = rng.choice(["superficial", "deep"])
    hazard = 0.004 * math.exp(0.7 * (grade - 1) + 0.06 * size + {"R0": 0, "R1": 0.5, "R2": 1.0}[margin]
                              + (0.3 if depth == "deep" else 0) + 0.01 * (age - 58))
    event_time = rng.expovariate(hazard)
    follow_up = rng.uniform(6, 120)
    time = min(event_time, follow_up)
    return {
        "patient_id": f"SARC-{i:04d}",
        "age": age_band(age),
        "sex": rng.choice(["F", "M"]),
        "histology": rng.choice(HISTOLOGY),
        "grade": grade,
        "size_cm": size,
        "depth": depth,
        "margin": margin,
        "time": round(max(0.1, time), 1),
        "event": 1 if event_time <= follow_up else 0,
    }


def write(name, header, rows):
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def main():
    train = [patient(i) for i in range(500)]
    test = [patient(i) for i in range(500, 750)]
    features = ["patient_id", "age", "sex", "histology", "grade", "size_cm", "depth", "margin"]
    write("data/train.csv", features + ["time", "event"], [[p[k] for k in features + ["time", "event"]] for p in train])
    write("data/test_features.csv", features, [[p[k] for k in features] for p in test])
    write("data/sample_submission.csv", ["patient_id", "risk"], [[p["patient_id"], p["grade"]] for p in test])
    usage = ["Public" if rng.random() < 0.4 else "Private" for _ in test]
    write("private/solution.csv", ["patient_id", "time", "event", "Usage"],
          [[p["patient_id"], p["time"], p["event"], u] for p, u in zip(test, usage)])
    print(f"wrote {len(train)} training and {len(test)} test patients to {os.path.normpath(HERE)}")


if __name__ == "__main__":
    main()
