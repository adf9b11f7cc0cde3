#!/usr/bin/python3
"""Generates the scorer's reference cases with scikit-learn (run by hand; the output is committed).

Writes tests/scorer/ref/*.csv and ref/cases.json: for each case, the ground truth, the prediction file, the
metric, its params and the values sklearn (or a brute-force definition, for c_index and cost_matrix) gives
on all rows, the public split and the private split. tests/scorer/test_cli.py replays them without Python
packages beyond the standard library.

Usage: /usr/bin/python3 tests/scorer/gen_refs.py   (needs python3-numpy, python3-sklearn)
"""
import csv
import json
import os

import numpy as np
from sklearn import metrics as skm

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "ref")
rng = np.random.default_rng(20260101)
cases = []


def write_csv(name, header, rows):
    with open(os.path.join(OUT, name), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def splits(usage):
    usage = np.asarray(usage)
    return {"score": np.ones(len(usage), bool), "public": usage == "Public", "private": usage == "Private"}


def add(name, truth, pred, metric, fn, usage, params=None, extra=None):
    expected = {}
    for key, mask in splits(usage).items():
        if mask.sum() == 0:
            continue
        expected[key] = float(fn(mask))
    case = {"name": name, "truth": truth, "pred": pred, "metric": metric, "expected": expected}
    if params is not None:
        case["params"] = params
    if extra:
        case.update(extra)
    cases.append(case)


def fmt(v):
    return repr(float(v))


def binary():
    n = 300
    ids = [f"b{i:04d}" for i in range(n)]
    y = rng.integers(0, 2, n)
    usage = np.where(rng.random(n) < 0.4, "Public", "Private")
    # rounded scores make many ties; a few exact 0 and 1 exercise log-loss clipping
    p = np.round(np.clip(0.35 * y + rng.random(n) * 0.65, 0, 1), 2)
    p[:3] = [0.0, 1.0, 0.0]
    write_csv("binary_truth.csv", ["id", "label", "Usage"], zip(ids, y, usage))
    order = rng.permutation(n)  # the prediction file is shuffled: exercises the hash join
    write_csv("binary_pred.csv", ["id", "label"], [(ids[i], fmt(p[i])) for i in order])
    add("binary roc_auc", "binary_truth.csv", "binary_pred.csv", "roc_auc",
        lambda m: skm.roc_auc_score(y[m], p[m]), usage)
    add("binary average_precision", "binary_truth.csv", "binary_pred.csv", "average_precision",
        lambda m: skm.average_precision_score(y[m], p[m]), usage)
    add("binary log_loss", "binary_truth.csv", "binary_pred.csv", "log_loss",
        lambda m: skm.log_loss(y[m], p[m], labels=[0, 1], eps=1e-15), usage)
    add("binary brier", "binary_truth.csv", "binary_pred.csv", "brier",
        lambda m: skm.brier_score_loss(y[m], p[m]), usage)
    lab = (p > 0.5).astype(int)
    write_csv("binary_pred_labels.csv", ["id", "label"], zip(ids, lab))
    for metric, fn in label_metrics().items():
        add("binary labels " + metric, "binary_truth.csv", "binary_pred_labels.csv", metric,
            (lambda f: lambda m: f(y[m], lab[m]))(fn), usage)
    # two probability columns named by class: the positive class's column is used
    write_csv("binary_pred_2col.csv", ["id", "0", "1"], [(ids[i], fmt(1 - p[i]), fmt(p[i])) for i in range(n)])
    add("binary 2 columns roc_auc", "binary_truth.csv", "binary_pred_2col.csv", "roc_auc",
        lambda m: skm.roc_auc_score(y[m], p[m]), usage)


def label_metrics():
    return {
        "accuracy": skm.accuracy_score,
        "balanced_accuracy": skm.balanced_accuracy_score,
        "f1_macro": lambda a, b: skm.f1_score(a, b, average="macro"),
        "f1_micro": lambda a, b: skm.f1_score(a, b, average="micro"),
        "f1_weighted": lambda a, b: skm.f1_score(a, b, average="weighted"),
        "mcc": skm.matthews_corrcoef,
        "cohen_kappa": skm.cohen_kappa_score,
        "quadratic_weighted_kappa": lambda a, b: skm.cohen_kappa_score(a, b, weights="quadratic"),
    }


def multiclass():
    n, k = 400, 5
    ids = [f"m{i:04d}" for i in range(n)]
    y = rng.integers(0, k, n)
    usage = np.where(rng.random(n) < 0.5, "Public", "Private")
    raw = rng.random((n, k)) + np.eye(k)[y] * 0.8
    raw = np.round(raw, 2)  # ties, including argmax ties
    raw[0] = [0.5, 0.5, 0.1, 0.1, 0.1]
    prob = raw / raw.sum(axis=1, keepdims=True)
    write_csv("multi_truth.csv", ["id", "grade", "Usage"], zip(ids, y, usage))
    # columns in a different order than the classes, rows not renormalised for log_loss
    cols = [3, 0, 4, 1, 2]
    write_csv("multi_pred_raw.csv", ["id"] + [str(c) for c in cols],
              [[ids[i]] + [fmt(raw[i, c] / 2.0) for c in cols] for i in range(n)])
    write_csv("multi_pred_prob.csv", ["id"] + [str(c) for c in range(k)],
              [[ids[i]] + [fmt(v) for v in prob[i]] for i in range(n)])
    add("multiclass log_loss (renormalised, shuffled columns)", "multi_truth.csv", "multi_pred_raw.csv", "log_loss",
        lambda m: skm.log_loss(y[m], raw[m] / 2.0, labels=list(range(k)), eps=1e-15), usage)
    add("multiclass roc_auc ovr macro", "multi_truth.csv", "multi_pred_prob.csv", "roc_auc",
        lambda m: skm.roc_auc_score(y[m], prob[m], multi_class="ovr", average="macro"), usage)
    add("multiclass average_precision macro", "multi_truth.csv", "multi_pred_prob.csv", "average_precision",
        lambda m: skm.average_precision_score(np.eye(k)[y[m]], prob[m], average="macro"), usage)
    # argmax of the class columns in file order (ties to the leftmost column)
    argmax = np.array([cols[int(np.argmax([raw[i, c] for c in cols]))] for i in range(n)])
    lab = rng.integers(0, k, n)
    lab = np.where(rng.random(n) < 0.6, y, lab)
    lab[lab == 4] = 3  # a class never predicted: F1 with zero precision
    write_csv("multi_pred_labels.csv", ["id", "grade"], zip(ids, lab))
    for metric, fn in label_metrics().items():
        add("multiclass labels " + metric, "multi_truth.csv", "multi_pred_labels.csv", metric,
            (lambda f: lambda m: f(y[m], lab[m]))(fn), usage)
        add("multiclass argmax " + metric, "multi_truth.csv", "multi_pred_raw.csv", metric,
            (lambda f: lambda m: f(y[m], argmax[m]))(fn), usage)
    # string labels
    names = np.array(["benign", "low", "high", "invasive", "other"])
    write_csv("multi_truth_str.csv", ["id", "grade", "Usage"], zip(ids, names[y], usage))
    write_csv("multi_pred_str.csv", ["id", "grade"], zip(ids, names[lab]))
    for metric in ["f1_macro", "cohen_kappa", "quadratic_weighted_kappa", "balanced_accuracy"]:
        fn = label_metrics()[metric]
        add("string labels " + metric, "multi_truth_str.csv", "multi_pred_str.csv", metric,
            (lambda f: lambda m: f(names[y[m]], names[lab[m]]))(fn), usage)


def regression():
    n = 250
    ids = [f"r{i}" for i in range(n)]
    y = np.round(rng.normal(10, 5, n), 3)
    y[0] = 0.0  # mape floors |y| at machine epsilon
    p = np.round(y + rng.normal(0, 2, n), 3)
    usage = np.where(rng.random(n) < 0.3, "public", "PRIVATE")  # any case
    write_csv("reg_truth.csv", ["id", "target", "Usage"], zip(ids, [fmt(v) for v in y], usage))
    write_csv("reg_pred.csv", ["id", "target"], zip(ids, [fmt(v) for v in p]))
    u = np.where(usage == "public", "Public", "Private")
    add("rmse", "reg_truth.csv", "reg_pred.csv", "rmse", lambda m: np.sqrt(skm.mean_squared_error(y[m], p[m])), u)
    add("mae", "reg_truth.csv", "reg_pred.csv", "mae", lambda m: skm.mean_absolute_error(y[m], p[m]), u)
    add("r2", "reg_truth.csv", "reg_pred.csv", "r2", lambda m: skm.r2_score(y[m], p[m]), u)
    add("mape", "reg_truth.csv", "reg_pred.csv", "mape",
        lambda m: skm.mean_absolute_percentage_error(y[m], p[m]), u)


def cost_matrix():
    mat = [[0, 0.1, 0.7, 1], [0.1, 0, 0.3, 0.7], [0.7, 0.3, 0, 0.3], [1, 0.7, 0.3, 0]]
    n = 200
    ids = [f"slide_{i}.tif" for i in range(n)]
    y = rng.integers(0, 4, n)
    pr = np.where(rng.random(n) < 0.5, y, rng.integers(0, 4, n))
    usage = np.where(rng.random(n) < 0.5, "Public", "Private")
    onehot = np.eye(4, dtype=int)
    write_csv("cost_truth.csv", ["filename", "0", "1", "2", "3", "Usage"],
              [[ids[i]] + list(onehot[y[i]]) + [usage[i]] for i in range(n)])
    write_csv("cost_pred.csv", ["filename", "0", "1", "2", "3"], [[ids[i]] + list(onehot[pr[i]]) for i in range(n)])
    params = {"matrix": mat, "labels": [0, 1, 2, 3]}
    m_ = np.array(mat)
    add("cost_matrix tissuenet one-hot", "cost_truth.csv", "cost_pred.csv", "cost_matrix",
        lambda m: 1 - m_[y[m], pr[m]].mean(), usage, params=params)
    write_csv("cost_pred_labels.csv", ["filename", "label"], zip(ids, pr))
    add("cost_matrix label column", "cost_truth.csv", "cost_pred_labels.csv", "cost_matrix",
        lambda m: 1 - m_[y[m], pr[m]].mean(), usage, params=params)


def cindex_brute(time, event, risk):
    num = 0.0
    den = 0
    for i in range(len(time)):
        if not event[i]:
            continue
        for j in range(len(time)):
            if time[j] > time[i] or (time[j] == time[i] and not event[j]):
                den += 1
                num += 1.0 if risk[i] > risk[j] else 0.5 if risk[i] == risk[j] else 0.0
    return num / den


def c_index():
    n = 220
    ids = [f"p{i}" for i in range(n)]
    time = rng.integers(1, 60, n).astype(float)  # many tied times
    event = (rng.random(n) < 0.6).astype(int)
    risk = np.round(-time / 60 + rng.normal(0, 0.3, n), 1)  # tied risks
    usage = np.where(rng.random(n) < 0.4, "Public", "Private")
    write_csv("surv_truth.csv", ["id", "time", "event", "Usage"], zip(ids, [fmt(t) for t in time], event, usage))
    write_csv("surv_pred.csv", ["id", "risk"], zip(ids, [fmt(r) for r in risk]))
    add("c_index harrell", "surv_truth.csv", "surv_pred.csv", "c_index",
        lambda m: cindex_brute(time[m], event[m], risk[m]), usage)
    # event column first: found by its name
    write_csv("surv_truth_swapped.csv", ["id", "event", "time"], zip(ids, event, [fmt(t) for t in time]))
    add("c_index event column first", "surv_truth_swapped.csv", "surv_pred.csv", "c_index",
        lambda m: cindex_brute(time[m], event[m], risk[m]), np.array(["none"] * n))


def degenerate():
    write_csv("one_row_truth.csv", ["id", "y"], [["only", "3.5"]])
    write_csv("one_row_pred.csv", ["id", "y"], [["only", "2.5"]])
    add("single row rmse", "one_row_truth.csv", "one_row_pred.csv", "rmse", lambda m: 1.0, np.array(["none"]))
    n = 50
    ids = [f"c{i}" for i in range(n)]
    y = rng.integers(0, 2, n)
    write_csv("const_truth.csv", ["id", "y"], zip(ids, y))
    write_csv("const_pred.csv", ["id", "y"], [(i, "0.5") for i in ids])
    none = np.array(["none"] * n)
    add("constant prediction roc_auc (all ties)", "const_truth.csv", "const_pred.csv", "roc_auc",
        lambda m: skm.roc_auc_score(y, np.full(n, 0.5)), none)
    add("constant prediction average_precision", "const_truth.csv", "const_pred.csv", "average_precision",
        lambda m: skm.average_precision_score(y, np.full(n, 0.5)), none)
    add("constant prediction log_loss", "const_truth.csv", "const_pred.csv", "log_loss",
        lambda m: skm.log_loss(y, np.full(n, 0.5), eps=1e-15), none)
    write_csv("const_pred_labels.csv", ["id", "y"], [(i, "1") for i in ids])
    for metric in ["mcc", "f1_macro", "cohen_kappa", "balanced_accuracy"]:
        fn = label_metrics()[metric]
        add("constant labels " + metric, "const_truth.csv", "const_pred_labels.csv", metric,
            (lambda f: lambda m: f(y, np.ones(n, int)))(fn), none)
    yc = np.full(n, 4.0)
    write_csv("const_reg_truth.csv", ["id", "y"], zip(ids, [fmt(v) for v in yc]))
    write_csv("const_reg_pred.csv", ["id", "y"], zip(ids, [fmt(v) for v in yc]))
    add("constant truth r2 perfect", "const_reg_truth.csv", "const_reg_pred.csv", "r2",
        lambda m: skm.r2_score(yc, yc), none)


def main():
    os.makedirs(OUT, exist_ok=True)
    binary()
    multiclass()
    regression()
    cost_matrix()
    c_index()
    degenerate()
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases written to {OUT}")


if __name__ == "__main__":
    main()
