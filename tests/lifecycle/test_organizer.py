#!/usr/bin/env python3
"""Cancelling and the organizer's tools. A queued submission can be cancelled by its team (204, status
cancelled), a scored or failed one cannot (409 not_cancellable), another team's is a 404; failed and cancelled
submissions never cost quota. An organizer changes a phase (audited, reflected in GET and in quotas), re-scores
(every scored and failed submission queued again, scored again to the same values), reads the queue counts, the
scorer log of any submission (participants cannot) and exports every submission as JSON and CSV, the CSV
neutralising a description that starts with "=".
"""
import csv
import io
import unittest

import lifeharness as life
from lifeharness import DAY, T0, api, harness, iso

CANCEL = "cancelling"
ORG = "organized"
HYPERLINK = '=HYPERLINK("http://evil.example/x","click")'


class Organizer(life.ClockTest):
    START = T0 + 1
    WORKERS = 1  # one scorer at a time, so that a burst of uploads leaves some queued
    USERS = [("olga", "organizer"), ("juno", "jury")]
    BUNDLES = [(CANCEL, [life.phase_at("development", T0, T0 + 10 * DAY, max_per_day=50, max_total=12)], 2),
               (ORG, [life.phase_at("development", T0, T0 + 10 * DAY, max_per_day=50, max_total=12)], 2)]

    def cancel(self, client, sid):
        return client.request("DELETE", "/api/v1/submissions/%s" % sid)
    def test_cancel(self):
        cami = self.participant("cami", slug=CANCEL)
        dina = self.participant("dina", slug=CANCEL)
        first = self.upload_ok(cami, harness.sample_submission(), CANCEL)
        self.scored(cami, first)
        self.assertError(self.cancel(cami, first), 409, "not_cancellable")
        bad, _ = life.bad_in("Public")
        failed = self.upload_ok(cami, bad, CANCEL)
        self.assertEqual(self.wait_final(cami, failed)["status"], "failed")
        self.assertError(self.cancel(cami, failed), 409, "not_cancellable")

        # a burst with one scorer: the last three are cancelled (newest first) whether still queued or already
        # running (a running one stops: tests/code and tests/workers check the run itself); the first three are left
        # to be scored. A submission already scored when its cancel comes is not cancellable.
        burst = [self.upload_ok(cami, harness.predictions_csv(life.predictions("C1")), CANCEL) for _ in range(6)]
        self.assertError(self.cancel(dina, burst[-1]), 404, "not_found")
        cancelled = []
        for sid in reversed(burst[3:]):
            r = self.cancel(cami, sid)
            if r.status == 204:
                cancelled.append(sid)
                self.assertEqual(cami.submission(sid).json()["status"], "cancelled")
            else:
                self.assertError(r, 409, "not_cancellable")
        self.assertTrue(cancelled, "no submission of the burst was still queued or running")
        self.assertEqual(self.wait_final(cami, burst[-1])["status"], "cancelled")
        self.assertError(self.cancel(cami, cancelled[0]), 409, "not_cancellable")
        scored = [first] + [sid for sid in burst if sid not in cancelled]
        for sid in burst:
            self.assertEqual(self.wait_final(cami, sid)["status"], "scored" if sid in scored else "cancelled")

        # failed and cancelled cost nothing: only the scored ones count
        q = self.quota(cami, CANCEL)
        self.assertEqual((q["used_total"], q["left_total"], q["used_today"]),
                         (len(scored), 12 - len(scored), len(scored)), q)
        row = [x for x in dina.leaderboard(CANCEL).json()["rows"] if x["name"] == "cami"]
        self.assertEqual(len(row), 1, row)
        self.assertEqual(row[0]["submissions"], len(scored))
        self.assertScore(row[0]["score"], life.expected("C1")[0])
        listed = {s["id"]: s["status"] for s in cami.get(api(CANCEL, "/submissions")).json()}
        self.assertEqual(sorted(listed), sorted([first, failed] + burst))
        self.assertEqual(sorted(k for k, v in listed.items() if v == "cancelled"), sorted(cancelled))
    def test_organizer(self):
        olga, juno = self.staff("olga"), self.staff("juno")
        oli = self.participant("oli", slug=ORG)
        pat = self.participant("pat", slug=ORG)

        # change a phase: reason required, checked, audited, reflected everywhere
        path = api(ORG, "/phases/development")
        self.assertError(olga.request("PATCH", path, json_body={"max_total": 7}), 400, "missing_field")
        self.assertError(olga.request("PATCH", path, json_body={"end": iso(T0 - DAY), "reason": "oops"}),
                         400, "bad_request")
        self.assertEqual(olga.request("PATCH", api(ORG, "/phases/nope"),
                                      json_body={"max_total": 7, "reason": "r"}).status, 404)
        reason = "one more week, seven submissions"
        r = olga.request("PATCH", path, json_body={"max_total": 7, "end": iso(T0 + 9 * DAY), "reason": reason})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["phases"][0]["max_total"], r.json()["phases"][0]["end"]), (7, iso(T0 + 9 * DAY)))
        ch = self.server.client().challenge(ORG).json()
        self.assertEqual((ch["phases"][0]["max_total"], ch["phases"][0]["end"], ch["ends_at"]),
                         (7, iso(T0 + 9 * DAY), iso(T0 + 9 * DAY)), ch)
        self.assertEqual(self.quota(oli, ORG)["left_total"], 7)
        audit = olga.get("/api/v1/audit?challenge=" + ORG).json()
        self.assertEqual([e["actor"] for e in audit if e["reason"] == reason], ["olga"], audit)

        # three submissions: one with a formula as description, one that fails to score
        b1 = self.upload_ok(oli, harness.predictions_csv(life.predictions("B1")), ORG, description=HYPERLINK)
        c1 = self.upload_ok(pat, harness.predictions_csv(life.predictions("C1")), ORG)
        bad, _ = life.bad_in("Private")
        failed = self.upload_ok(oli, bad, ORG)
        self.scored(oli, b1)
        self.scored(pat, c1)
        self.assertEqual(self.wait_final(oli, failed)["status"], "failed")
        self.assertEqual(self.quota(oli, ORG)["used_total"], 1)

        # the queue view
        r = oli.get(api(ORG, "/queue"))
        self.assertError(r, 403, "forbidden")
        q = olga.get(api(ORG, "/queue")).json()
        self.assertEqual({k: q[k] for k in ("queued", "running", "scored", "failed", "cancelled", "oldest_queued_at")},
                         {"queued": 0, "running": 0, "scored": 2, "failed": 1, "cancelled": 0,
                          "oldest_queued_at": None}, q)
        self.assertEqual([(f["id"], f["team"]) for f in q["recent_failures"]], [(failed, "oli")], q)

        # the scorer's log: organizers and jury only
        for staff in (olga, juno):
            r = staff.get("/api/v1/submissions/%s/log" % b1)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["id"], b1)
            self.assertIsInstance(r.json()["log"], str)
        for who in (oli, pat):
            r = who.get("/api/v1/submissions/%s/log" % b1)
            self.assertIn(r.status, (403, 404), r)

        # exports: JSON and CSV, public and private scores, formulas neutralised
        r = olga.get(api(ORG, "/export?format=json"))
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        rows = doc if isinstance(doc, list) else next(v for v in doc.values() if isinstance(v, list))
        by_id = {x["id"]: x for x in rows}
        self.assertEqual(sorted(by_id), sorted([b1, c1, failed]))
        for sid, name in ((b1, "B1"), (c1, "C1")):
            self.assertAt4(by_id[sid]["public_score"], life.expected(name)[0])
            self.assertAt4(by_id[sid]["private_score"], life.expected(name)[1])
        self.assertEqual(by_id[b1]["description"], HYPERLINK)
        self.assertEqual(by_id[failed]["status"], "failed")
        r = olga.get(api(ORG, "/export?format=csv"))
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/csv"), r.headers)
        table = list(csv.DictReader(io.StringIO(r.body.decode("utf-8"))))
        by_id = {int(x["id"]): x for x in table}
        self.assertEqual(sorted(by_id), sorted([b1, c1, failed]))
        self.assertEqual(by_id[b1]["description"], "'" + HYPERLINK)
        self.assertAt4(float(by_id[c1]["private_score"]), life.expected("C1")[1])
        for line in table:
            for cell in line.values():
                self.assertFalse((cell or "").startswith(("=", "+", "-", "@", "\t", "\r")), line)

        # re-score everything: the scored and the failed go back to the queue and end as before
        self.assertError(olga.post(api(ORG, "/rescore"), {}), 400, "missing_field")
        before = {sid: olga.submission(sid).json() for sid in (b1, c1, failed)}
        for body in ({"reason": "scorer fixed"}, {"phase": "development", "reason": "once more"}):
            r = olga.post(api(ORG, "/rescore"), body)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json(), {"queued": 3})
            for sid in (b1, c1, failed):
                after = self.wait_final(olga, sid)
                for key in ("status", "public_score", "private_score", "error"):
                    self.assertEqual(after.get(key), before[sid].get(key), (sid, key))
        q = olga.get(api(ORG, "/queue")).json()
        self.assertEqual((q["queued"], q["scored"], q["failed"]), (0, 2, 1), q)
        self.assertEqual(self.quota(oli, ORG)["used_total"], 1)
        actions = [e for e in olga.get("/api/v1/audit?challenge=" + ORG).json() if e["actor"] == "olga"]
        self.assertEqual(len(actions), 3, actions)


if __name__ == "__main__":
    life.main()
