#!/usr/bin/env python3
"""Final selection: refused in a phase without final_selection; more than K ids, another team's id, a failed
submission or one of another phase are 400 bad_request and change nothing; a team that picks none is ranked
on its best public submission; a pick changes the jury's review (and not the public leaderboard); the
selection closes with the phase (403 phase_closed) and stays what it was.
"""
import unittest

import lifeharness as life
from lifeharness import DAY, HOUR, T0, api, harness

SLUG = "selective"
DEV = (T0, T0 + DAY)
FINAL = (T0 + DAY, T0 + 2 * DAY)


class Selection(life.ClockTest):
    START = T0 + HOUR
    USERS = [("juno", "jury")]
    BUNDLES = [(SLUG, [life.phase_at("development", *DEV, max_per_day=10, max_total=50),
                       life.phase_at("final", *FINAL, max_per_day=10, max_total=50, final_selection=2)], 2)]

    def select(self, client, ids):
        return client.request("PUT", api(SLUG, "/selection"), json_body={"submission_ids": ids})

    def selection(self, client):
        r = client.get(api(SLUG, "/selection"))
        self.assertEqual(r.status, 200, r)
        return r.json()
    def test_selection(self):
        juno = self.staff("juno")
        early = {}

        def in_development(clients):
            # a scored submission of the development phase, where there is nothing to select
            alice = clients["alice"]
            self.assertError(self.select(alice, []), 403, "phase_closed")
            early["id"] = self.upload_ok(alice, harness.sample_submission(), SLUG)
            self.scored(alice, early["id"])
            self.set_clock(FINAL[0] + HOUR)

        self.contest(SLUG, before_uploads=in_development)
        alice, amir, bob = self.clients["alice"], self.clients["amir"], self.clients["bob"]
        self.assertGreater(harness.log_loss(harness.parse_predictions(harness.sample_submission()), "Public"),
                           life.expected("A1")[0])
        self.assertEqual(self.selection(alice), {"phase": "final", "max": 2, "submission_ids": []})

        # nothing picked: every team is ranked on its best public submission (Alpha: A1, worst in private)
        review = self.review(juno, SLUG)
        self.assertIs(review["phase_open"], True)
        self.assertIs(review["published"], False)
        self.assertReviewRows(review["rows"], [("carol", "C1", False), ("bob", "B1", False),
                                               ("Alpha", "A1", False)])

        # refused picks change nothing
        third = self.upload_ok(alice, harness.sample_submission(), SLUG)
        self.scored(alice, third)
        bad, _ = life.bad_in("Public")
        failed = self.upload_ok(alice, bad, SLUG)
        self.assertEqual(self.wait_final(alice, failed)["status"], "failed")
        refused = {
            "more than K": [self.ids["A1"], self.ids["A2"], third],
            "another team's": [self.ids["B1"]],
            "mixed with another team's": [self.ids["A2"], self.ids["C1"]],
            "unknown": [self.ids["A2"], 10 ** 9],
            "failed": [failed],
            "another phase's": [early["id"]],
        }
        for why, ids in refused.items():
            r = self.select(alice, ids)
            self.assertError(r, 400, "bad_request")
            self.assertEqual(self.selection(amir)["submission_ids"], [], why)
        self.assertEqual(self.select(alice, {"not": "a list"}).status, 400)

        # Alpha picks A2 (any member may): the review ranks it on A2's private score, first
        r = self.select(amir, [self.ids["A2"]])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["submission_ids"], [self.ids["A2"]])
        self.assertEqual(self.selection(alice)["submission_ids"], [self.ids["A2"]])
        self.assertEqual(self.selection(bob)["submission_ids"], [])
        self.assertReviewRows(self.review(juno, SLUG)["rows"],
                              [("Alpha", "A2", True), ("carol", "C1", False), ("bob", "B1", False)])
        # an empty pick is allowed for bob and keeps his default
        r = self.select(bob, [])
        self.assertEqual((r.status, r.json()["submission_ids"]), (200, []), r)
        # the public leaderboard still shows each team's best public score
        rows = bob.leaderboard(SLUG).json()["rows"]
        self.assertEqual([r["name"] for r in rows], ["Alpha", "bob", "carol"], rows)
        self.assertScore(rows[0]["score"], life.expected("A1")[0])

        # the selection closes with the phase and keeps its last value
        self.set_clock(FINAL[1] - 1)
        self.assertEqual(self.select(alice, [self.ids["A2"]]).status, 200)
        self.set_clock(FINAL[1] + 1)
        self.assertError(self.select(alice, [self.ids["A1"]]), 403, "phase_closed")
        self.assertError(self.select(bob, [self.ids["B1"]]), 403, "phase_closed")
        review = self.review(juno, SLUG)
        self.assertIs(review["phase_open"], False)
        self.assertReviewRows(review["rows"],
                              [("Alpha", "A2", True), ("carol", "C1", False), ("bob", "B1", False)])


if __name__ == "__main__":
    life.main()
