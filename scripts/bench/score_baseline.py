#!/usr/bin/python3
"""The way organizers score today, as the baseline for scripts/bench/score.sh.

Reads the ground truth and the predictions with pandas, merges them on the id column, and computes the
metric with scikit-learn on all rows, the public split and the private split (when the ground truth has a Usage
column), printing one JSON line like concours-score does. Usage: score_baseline.py TRUTH PRED METRIC [PARAMS_JSON]
cost_matrix (PARAMS_JSON {"matrix": [[...]], "labels": [...]}) is 1 - the mean cost of the argmax class, as
TissueNet's organizers computed it with numpy.
"""
import json
import sys

import numpy as np
import pandas as pd
from sklearn import metrics


def main():
    truth_path, pred_path, metric = sys.argv[1:4]
    params = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    truth = pd.read_csv(truth_path)
    pred = pd.read_csv(pred_path)
    merged = truth.merge(pred, on="id", how="inner", suffixes=("", "_pred"))
    if len(merged) != len(truth):
        sys.exit("ids do not match")
    pred_cols = [c for c in pred.columns if c != "id"]
    out = {"metric": metric, "rows": len(merged)}
    parts = [("score", merged)]
    if "Usage" in merged.columns:
        parts += [("public", merged[merged.Usage == "Public"]), ("private", merged[merged.Usage == "Private"])]
    for key, part in parts:
        y = part["label"].to_numpy()
        if len(pred_cols) == 1:
            p = part["label_pred"].to_numpy()
        else:
            p = part[[c + ("_pred" if c in truth.columns else "") for c in pred_cols]].to_numpy()
        if metric == "roc_auc":
            out[key] = metrics.roc_auc_score(y, p, multi_class="ovr") if p.ndim > 1 else metrics.roc_auc_score(y, p)
        elif metric == "log_loss":
            out[key] = metrics.log_loss(y, p, eps=1e-15)
        elif metric == "cost_matrix":
            index = {str(label): k for k, label in enumerate(params["labels"])}
            cost = np.array(params["matrix"], dtype=float)
            lut = np.zeros(max(int(label) for label in index) + 1, dtype=int)  # integer labels -> matrix rows
            for label, k in index.items():
                lut[int(label)] = k
            true_k = lut[y]
            pred_k = np.array([index[c] for c in pred_cols])[p.argmax(axis=1)]
            out[key] = 1.0 - float(cost[true_k, pred_k].mean())
        else:
            sys.exit("unsupported metric " + metric)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
