"""The organizers' scoring program of custom-metric-demo, under the CodaLab / Codabench contract:
score.py INPUT OUTPUT reads the ground truth from INPUT/ref (one CSV: lesion_id,malignant) and the
participant's file from INPUT/res, and writes OUTPUT/scores.txt. concours runs it once per split, each time
with only that split's rows in INPUT/ref, inside its sandbox (no network, read-only inputs)."""
import os
import sys

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, roc_auc_score


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def only_csv(folder):
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(".csv"))
    if len(names) != 1:
        fail("expected exactly one CSV file in %s, found %d" % (folder, len(names)))
    return os.path.join(folder, names[0])


def main(input_dir, output_dir):
    truth = pd.read_csv(only_csv(os.path.join(input_dir, "ref")))
    pred = pd.read_csv(only_csv(os.path.join(input_dir, "res")))
    if list(pred.columns) != ["lesion_id", "malignant"]:
        fail("the submission's header must be lesion_id,malignant")
    if pred["lesion_id"].duplicated().any():
        fail("a lesion_id appears twice in the submission")
    merged = truth.merge(pred, on="lesion_id", how="left", suffixes=("_true", "_pred"))
    p = merged["malignant_pred"].to_numpy(dtype=float)
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        fail("every lesion needs a probability from 0 to 1")
    y = merged["malignant_true"].to_numpy(dtype=int)
    with open(os.path.join(output_dir, "scores.txt"), "w") as f:
        f.write("auc: %.10f\n" % roc_auc_score(y, p))
        f.write("accuracy: %.10f\n" % accuracy_score(y, p >= 0.5))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
