#!/usr/bin/env python3
"""Generates the synthetic data of the example challenge challenges/visiomel-demo.

Why this exists: the example bundle must look like a real clinical challenge (melanoma relapse from
slide metadata, after the VisioMel challenge) without holding any real patient data. Every value is
drawn from a seeded generator, so running this again gives byte-identical files, and the HTTP tests
check that (tests/http/test_bundle.py).

Only the Python standard library is used. Usage:
    scripts/gen_visiomel_demo.py [--out DIR] [--seed N]
DIR defaults to challenges/visiomel-demo next to this script; only DIR/data/ and DIR/private/ are written.
"""
import argparse
import math
import os
import random

N_TRAIN = 400
N_TEST = 200
SEED = 20260101

AGE_BANDS = ["[20:30[", "[30:40[", "[40:50[", "[50:60[", "[60:70[", "[70:80[", "[80:90["]
AGE_WEIGHTS = [3, 7, 12, 18, 22, 22, 16]
# The bands written to the files: the two youngest are merged so that every (age, sex) class holds at least
# 5 patients (challenge.json declares "anonymity": {"quasi_identifiers": ["age", "sex"], "k": 5}).
AGE_BANDS_OUT = ["[20:40[", "[20:40[", "[40:50[", "[50:60[", "[60:70[", "[70:80[", "[80:90["]
BODY_SITES = ["trunk", "upper limb/shoulder", "lower limb/hip", "head/neck", "acral", "other"]
SITE_WEIGHTS = [35, 18, 25, 12, 6, 4]
SITE_RISK = {"trunk": 0.0, "upper limb/shoulder": -0.2, "lower limb/hip": 0.1, "head/neck": 0.4,
             "acral": 0.7, "other": 0.2}
SUBTYPES = ["superficial spreading", "nodular", "lentigo maligna", "acral lentiginous", "unknown"]
SUBTYPE_WEIGHTS = [55, 20, 10, 5, 10]
COLUMNS = ["filename", "age", "sex", "body_site", "melanoma_history", "subtype", "breslow_mm",
           "ulceration", "mitoses_per_mm2", "tumor_infiltrating_lymphocytes"]
BASE_RATE_DIGITS = 2


def make_rows(rng, n_rows):
    """Draws n_rows patients: a dict per row with every column of COLUMNS plus 'relapse' (0/1)."""
    ids = rng.sample(range(1, 1000000), n_rows)
    rows = []
    for slide in ids:
        age_i = rng.choices(range(len(AGE_BANDS)), AGE_WEIGHTS)[0]
        site = rng.choices(BODY_SITES, SITE_WEIGHTS)[0]
        subtype = rng.choices(SUBTYPES, SUBTYPE_WEIGHTS)[0]
        breslow = round(min(12.0, rng.lognormvariate(0.1, 0.8)), 2)
        ulcer = rng.random() < min(0.8, 0.08 + 0.12 * breslow)
        mitoses = max(0, int(rng.gauss(1.0 + 1.2 * breslow, 1.5)))
        til = rng.choices(["absent", "non-brisk", "brisk"], [30, 50, 20])[0]
        history = rng.random() < 0.1
        logit = (-2.9 + 0.45 * breslow + 1.0 * ulcer + 0.08 * mitoses + 0.18 * (age_i - 3)
                 + SITE_RISK[site] + (0.5 if subtype == "nodular" else 0.0)
                 + (-0.5 if til == "brisk" else 0.0) + (0.4 if history else 0.0))
        relapse = 1 if rng.random() < 1.0 / (1.0 + math.exp(-logit)) else 0
        rows.append({
            "filename": "slide_%06d.tif" % slide,
            "age": AGE_BANDS_OUT[age_i],
            "sex": rng.choice(["1", "2"]),
            "body_site": site,
            "melanoma_history": "YES" if history else "NO",
            "subtype": subtype,
            "breslow_mm": "%.2f" % breslow,
            "ulceration": "YES" if ulcer else "NO",
            "mitoses_per_mm2": str(mitoses),
            "tumor_infiltrating_lymphocytes": til,
            "relapse": relapse,
        })
    return rows


def csv_field(value):
    """Quotes a field per RFC 4180 when it holds a comma, a quote or a line break."""
    text = str(value)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_csv(path, header, rows):
    """Writes rows (lists of values) under header to path, LF line endings, no BOM."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        for row in [header] + rows:
            f.write(",".join(csv_field(v) for v in row) + "\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "challenges", "visiomel-demo"))
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    rows = make_rows(rng, N_TRAIN + N_TEST)
    train, test = rows[:N_TRAIN], rows[N_TRAIN:]
    test.sort(key=lambda r: r["filename"])

    # Half of the test rows score the public leaderboard, half the private one, stratified on the
    # target so both halves have relapses, then shuffled so the split cannot be guessed from order.
    usage = {}
    for label in (0, 1):
        group = [r["filename"] for r in test if r["relapse"] == label]
        rng.shuffle(group)
        half = (len(group) + 1) // 2
        for i, name in enumerate(group):
            usage[name] = "Public" if i < half else "Private"

    base_rate = round(sum(r["relapse"] for r in train) / len(train), BASE_RATE_DIGITS)
    out = os.path.abspath(args.out)
    write_csv(os.path.join(out, "data", "train_metadata.csv"), COLUMNS + ["relapse"],
              [[r[c] for c in COLUMNS + ["relapse"]] for r in train])
    write_csv(os.path.join(out, "data", "test_metadata.csv"), COLUMNS,
              [[r[c] for c in COLUMNS] for r in test])
    write_csv(os.path.join(out, "data", "sample_submission.csv"), ["filename", "relapse"],
              [[r["filename"], "%.*f" % (BASE_RATE_DIGITS, base_rate)] for r in test])
    write_csv(os.path.join(out, "private", "solution.csv"), ["filename", "relapse", "Usage"],
              [[r["filename"], r["relapse"], usage[r["filename"]]] for r in test])


if __name__ == "__main__":
    main()
