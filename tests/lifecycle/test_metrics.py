#!/usr/bin/env python3
"""Several metrics per challenge (issue 14, docs/bundle.md "Several metrics"). A challenge scored by log loss with
two secondary metrics (AUC, weighted 3, and Brier) ranked by the weighted mean rank: every submission carries its
secondary values, computed here independently; the leaderboard, public then private, orders the teams by the rule
(not by log loss alone, which would order them otherwise) and shows each metric; the challenge tells participants
the rule from the start; the review shows every metric's ranking beside the rule's with Kendall's tau; the signed
ranking holds the rule, its weights, the metrics and each team's values.
"""
import json
import math
import os

import lifeharness as life
from lifeharness import DAY, HOUR, T0, api

SLUG = "many-metrics"
END = T0 + DAY


def predictions(lo, hi, flip_every, flips):
    """Probability HI for the true class and LO for the other, except on rows whose index modulo FLIP_EVERY is below
    FLIPS, where the prediction points the wrong way."""
    pred = {}
    for i, row in enumerate(life.harness.solution()):
        right = i % flip_every >= flips
        positive = row["relapse"] == "1"
        pred[row["filename"]] = hi if positive == right else lo
    return pred


_teams = {}


def teams():
    """X: confident but often wrong; Y: timid but always right; Z: fairly confident, sometimes wrong."""
    if not _teams:
        _teams.update({"xavier": predictions(0.1, 0.9, 10, 3), "yara": predictions(0.45, 0.55, 10, 0),
                       "zoltan": predictions(0.3, 0.7, 10, 1)})
    return _teams


def rows_of(usage):
    return [r for r in life.harness.solution() if r["Usage"].lower() == usage]


def log_loss(pred, usage):
    rows = rows_of(usage)
    return -sum(math.log(pred[r["filename"]] if r["relapse"] == "1" else 1 - pred[r["filename"]]) for r in rows) / len(rows)


def brier(pred, usage):
    rows = rows_of(usage)
    return sum((pred[r["filename"]] - (r["relapse"] == "1")) ** 2 for r in rows) / len(rows)


def auc(pred, usage):
    rows = rows_of(usage)
    pos = [pred[r["filename"]] for r in rows if r["relapse"] == "1"]
    neg = [pred[r["filename"]] for r in rows if r["relapse"] != "1"]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def expected_order(usage):
    """The teams by weighted mean rank: log loss (weight 1), AUC (weight 3), Brier (weight 1); ties by log loss."""
    values = {t: (log_loss(p, usage), auc(p, usage), brier(p, usage)) for t, p in teams().items()}
    def rank(t, k, higher):
        return 1 + sum(1 for u in values if (values[u][k] > values[t][k] if higher else values[u][k] < values[t][k]))
    mean = {t: (rank(t, 0, False) + 3 * rank(t, 1, True) + rank(t, 2, False)) / 5 for t in values}
    return sorted(values, key=lambda t: (mean[t], values[t][0])), values


class Metrics(life.ClockTest):
    START = T0 + HOUR
    USERS = [("juno", "jury"), ("orla", "organizer")]
    BUNDLES = [(SLUG, [life.phase_at("final", T0, END, max_per_day=10, max_total=20)], 1)]

    def bundle_path(self):
        return os.path.join(self.server.challenges, SLUG)

    def set_rule(self, rule):
        path = os.path.join(self.bundle_path(), "challenge.json")
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
        spec["ranking"] = {"rule": rule, "weights": {"roc_auc": 3}} if rule == "mean_rank" else {"rule": rule}
        with open(path, "w", encoding="utf-8") as f:
            json.dump(spec, f, indent=2)

    @classmethod
    def prepare(cls, server):
        path = os.path.join(server.challenges, SLUG, "challenge.json")
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
        spec["secondary_metrics"] = [{"name": "roc_auc", "label": "AUC", "precision": 3}, {"name": "brier"}]
        spec["ranking"] = {"rule": "mean_rank", "weights": {"roc_auc": 3}}
        with open(path, "w", encoding="utf-8") as f:
            json.dump(spec, f, indent=2)

    def test_several_metrics_rank_by_the_rule(self):
        juno = self.staff("juno")
        anon = self.server.client()
        # told from the start
        c = anon.challenge(SLUG).json()
        self.assertEqual([m["key"] for m in c["metrics"]], ["log_loss", "roc_auc", "brier"])
        self.assertEqual([m["label"] for m in c["metrics"]], ["log_loss", "AUC", "brier"])
        self.assertEqual([m["higher_is_better"] for m in c["metrics"]], [False, True, False])
        self.assertEqual(c["ranking"], {"rule": "mean_rank", "weights": {"log_loss": 1, "roc_auc": 3, "brier": 1}})

        ids = {}
        for team, pred in teams().items():
            client = self.participant(team, slug=SLUG)
            ids[team] = self.upload_ok(client, life.harness.predictions_csv(pred), SLUG)
            sub = self.scored(client, ids[team])
            self.assertAlmostEqual(sub["public_score"], round(log_loss(pred, "public"), 4), places=6)
            self.assertAlmostEqual(sub["metrics"]["roc_auc"], auc(pred, "public"), places=9)
            self.assertAlmostEqual(sub["metrics"]["brier"], brier(pred, "public"), places=9)
            self.assertNotIn("private_metrics", sub)  # private values stay hidden before publication

        # the public leaderboard: the rule's order, which is not log loss's
        order, values = expected_order("public")
        by_loss = sorted(values, key=lambda t: values[t][0])
        self.assertNotEqual(order, by_loss, "the data must make the rule matter")
        board = anon.leaderboard(SLUG).json()
        self.assertEqual([r["name"] for r in board["rows"]], order)
        self.assertEqual([r["rank"] for r in board["rows"]], [1, 2, 3])
        for r in board["rows"]:
            self.assertAlmostEqual(r["metrics"]["roc_auc"], values[r["name"]][1], places=9)
            self.assertIn("mean_rank", r)
        # the organizers change the rule (a re-import): the (cached) leaderboard follows at once, and back
        orla = self.staff("orla")
        for rule, want in (("primary", by_loss), ("mean_rank", order)):
            self.set_rule(rule)
            r = orla.request("POST", "/api/v1/challenges?apply=1", body=life.harness.zip_folder(self.bundle_path()),
                             headers={"Content-Type": "application/zip"})
            self.assertEqual((r.status, r.json()["state"]), (200, "updated"), r)
            self.assertEqual(anon.challenge(SLUG).json()["ranking"]["rule"], rule)
            self.assertEqual([r["name"] for r in anon.leaderboard(SLUG).json()["rows"]], want)

        # the review: the final ranking by the rule on the private split, every metric's ranking beside it
        self.set_clock(END + HOUR)
        porder, pvalues = expected_order("private")
        review = self.review(juno, SLUG)
        self.assertEqual([r["team"] for r in review["rows"]], porder)
        self.assertIsNone(review["rows"][0]["rank_range"])  # the primary metric's intervals say nothing here
        methods = review["methods"]
        self.assertEqual(methods["rule"], "mean_rank")
        self.assertEqual(set(methods["kendall_tau"]), {"log_loss", "roc_auc", "brier"})
        by = {t["team"]: t["by"] for t in methods["teams"]}
        loss_rank = sorted(pvalues, key=lambda t: pvalues[t][0])
        self.assertEqual([t for t in sorted(by, key=lambda t: by[t]["log_loss"])], loss_rank)
        self.assertEqual(review["metrics"]["rule"], "mean_rank")
        # the export carries the same figures: each metric's value and rank, the mean rank
        export = juno.get(api(SLUG, "/review/export?format=json")).json()
        self.assertEqual([row["team"] for row in export], porder)
        for row in export:
            self.assertEqual(row["metric_ranks"], by[row["team"]])
            self.assertAlmostEqual(row["metrics"]["roc_auc"], pvalues[row["team"]][1], places=9)
            self.assertIn("mean_rank", row)
        csv_head = juno.get(api(SLUG, "/review/export?format=csv")).body.split(b"\n", 1)[0]
        self.assertIn(b"metric_ranks", csv_head)
        # the jury's stability analysis is of the primary metric, in its own order
        stab = juno.get(api(SLUG, "/review/stability?bootstrap=100&seed=2"))
        self.assertEqual(stab.status, 200, stab)
        self.assertEqual([t["team"] for t in sorted(stab.json()["teams"], key=lambda t: t["rank"])], loss_rank)

        # published: the signed ranking holds the rule, the weights, the metrics and each team's private values
        r = self.act(juno, api(SLUG, "/publish"), "final")
        self.assertEqual(r.status, 200, r)
        doc = json.loads(anon.get(api(SLUG, "/ranking")).body)
        self.assertEqual(doc["ranking_rule"]["rule"], "mean_rank")
        self.assertEqual(doc["ranking_rule"]["weights"]["roc_auc"], 3)
        self.assertEqual([m["key"] for m in doc["ranking_rule"]["metrics"]], ["log_loss", "roc_auc", "brier"])
        self.assertEqual([row["team"] for row in doc["rows"]], porder)
        for row in doc["rows"]:
            self.assertAlmostEqual(row["metrics"]["brier"], pvalues[row["team"]][2], places=9)
        private = anon.leaderboard(SLUG, "?split=private").json()
        self.assertEqual([r["name"] for r in private["rows"]], porder)
        self.assertIn("roc_auc", private["rows"][0]["metrics"])


if __name__ == "__main__":
    life.main()
