#!/usr/bin/python3
"""Reference values for the jury's statistics (server/stability.c), computed independently with SciPy (Debian's
python3-scipy, run with /usr/bin/python3): one-sided paired Wilcoxon signed-rank tests as R's
wilcox.test(x, y, paired=TRUE, alternative="greater", exact=FALSE, correct=TRUE), i.e.
scipy.stats.wilcoxon(x, y, zero_method="wilcox", correction=True, alternative=..., method="approx"); Kendall's
tau-b (scipy.stats.kendalltau); Holm's adjustment written out from its definition (R's p.adjust(p, "holm")).
The cases hold ties, zero differences, tiny and large samples. Writes tests/server/stability_reference.json.

usage: /usr/bin/python3 scripts/gen_stability_reference.py
"""
import json
import os
import random

import numpy as np
import scipy
from scipy import stats

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "server", "stability_reference.json")


def holm(p):
    m = len(p)
    order = sorted(range(m), key=lambda i: (p[i], i))
    adj = [0.0] * m
    run = 0.0
    for k, i in enumerate(order):
        run = max(run, (m - k) * p[i])
        adj[i] = min(1.0, run)
    return adj


def wilcoxon_case(x, y):
    x, y = np.array(x, dtype=float), np.array(y, dtype=float)
    if np.all(x == y):  # SciPy refuses; R gives 1 (no difference left)
        return 1.0, 1.0
    g = stats.wilcoxon(x, y, zero_method="wilcox", correction=True, alternative="greater", method="approx").pvalue
    lt = stats.wilcoxon(x, y, zero_method="wilcox", correction=True, alternative="less", method="approx").pvalue
    return float(g), float(lt)


def main():
    import warnings
    warnings.simplefilter("ignore")  # "sample size too small for normal approximation": the approximation is the point
    rnd = random.Random(20261203)
    cases = []
    # hand-made: ties among |d|, zero differences, both signs of a tie, one difference only
    hand = [
        ([1, 2, 3, 4, 5, 6], [0, 2, 1, 5, 3, 6]),
        ([0.5, 0.5, 0.5, 1.0, 1.0], [0.0, 1.0, 0.5, 0.0, 2.0]),
        ([3, 1], [1, 1]),
        ([1, 1, 1, 1], [1, 1, 1, 1]),
        ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], [0.3, 0.2, 0.1, 0.6, 0.5, 0.4, 0.9]),
    ]
    for x, y in hand:
        cases.append((x, y))
    # per-case terms as the scorer writes them: 0/1 accuracy (many ties), costs, log-loss terms
    for n in (10, 57, 300, 2000):
        cases.append(([rnd.randint(0, 1) for _ in range(n)], [rnd.randint(0, 1) for _ in range(n)]))
        cases.append(([rnd.choice([0, 0.25, 0.5, 1]) for _ in range(n)], [rnd.choice([0, 0.5, 1]) for _ in range(n)]))
        a = [rnd.random() for _ in range(n)]
        cases.append((a, [v + rnd.gauss(0.02, 0.1) for v in a]))
    wil = []
    for x, y in cases:
        g, lt = wilcoxon_case(x, y)
        wil.append({"x": [float(v) for v in x], "y": [float(v) for v in y], "p_greater": g, "p_less": lt})
    holms = []
    for m in (1, 2, 5, 12, 90):
        p = [rnd.choice([rnd.random(), rnd.random() ** 4, 1.0]) for _ in range(m)]
        if m >= 5:
            p[1] = p[3]  # a tie in the p-values
        holms.append({"p": p, "adj": holm(p)})
    taus = []
    for t in (2, 3, 7, 20):
        a = list(range(1, t + 1))
        b = [rnd.randint(1, t) for _ in range(t)]
        taus.append({"a": a, "b": b, "tau": float(stats.kendalltau(a, b, variant="b").statistic)})
        c = [min(v, 3) for v in a]  # ties on both sides
        taus.append({"a": c, "b": b, "tau": float(stats.kendalltau(c, b, variant="b").statistic)})
    with open(OUT, "w") as f:
        json.dump({"generator": "scripts/gen_stability_reference.py (SciPy %s)" % scipy.__version__,
                   "wilcoxon": wil, "holm": holms, "kendall_tau_b": taus}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
