#!/usr/bin/env python3
"""The jury: the review ranks the teams on the private split with the exact private scores, an interval and a
rank range per row; disqualifying a submission or a team changes the ranks (review and leaderboard) and
reinstating restores them; every action needs a reason; publication is refused while the last phase is open,
works once after it, then freezes everything. Participants get 403 on every organizer, jury and admin
endpoint, anonymous callers 401, and each staff role only reaches its own endpoints.
"""
import io
import re
import unittest
import zipfile

import lifeharness as life
from lifeharness import DAY, HOUR, T0, api, harness, iso

SLUG = "juried"
ASIDE = "juried-aside"  # test_forbidden's own challenge, so that its team stays out of the jury's review
END = T0 + DAY
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
DEFAULT = [("carol", "C1", False), ("bob", "B1", False), ("Alpha", "A1", False)]


def bundle_zip():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("sneaky/challenge.json", '{"slug": "sneaky"}')
    return out.getvalue()


class Jury(life.ClockTest):
    START = T0 + HOUR
    USERS = [("juno", "jury"), ("olga", "organizer"), ("adam", "admin")]
    BUNDLES = [(slug, [life.phase_at("final", T0, END, max_per_day=10, max_total=20, final_selection=2)], 2)
               for slug in (SLUG, ASIDE)]

    def staff_endpoints(self, sid, team_id, username):
        """(role allowed, method, path, JSON body or raw bytes) of every organizer, jury and admin endpoint."""
        why = {"reason": "a reason"}
        return [
            ("organizer", "POST", "/api/v1/challenges", bundle_zip()),
            ("organizer", "PATCH", api(ASIDE, "/phases/final"), {"max_total": 1, "reason": "r"}),
            ("organizer", "POST", api(ASIDE, "/rescore"), why),
            ("organizer", "GET", api(ASIDE, "/queue"), None),
            ("organizer", "GET", api(ASIDE, "/export?format=json"), None),
            ("organizer", "GET", api(ASIDE, "/export?format=csv"), None),
            ("organizer", "PUT", api(ASIDE, "/state"), {"state": "draft", "reason": "r"}),
            ("organizer", "PUT", api(ASIDE, "/staff/%s" % username), {"role": "organizer", "reason": "r"}),
            ("reader", "GET", api(ASIDE, "/staff"), None),
            ("reader", "GET", api(ASIDE, "/review"), None),
            ("reader", "GET", api(ASIDE, "/review/export?format=json"), None),
            ("reader", "GET", api(ASIDE, "/review/export?format=csv"), None),
            ("jury", "POST", "/api/v1/submissions/%s/disqualify" % sid, why),
            ("jury", "POST", "/api/v1/submissions/%s/reinstate" % sid, why),
            ("jury", "POST", "/api/v1/submissions/%s/rescore" % sid, why),
            ("jury", "POST", api(ASIDE, "/teams/%s/disqualify" % team_id), why),
            ("jury", "POST", api(ASIDE, "/teams/%s/reinstate" % team_id), why),
            ("jury", "POST", api(ASIDE, "/notes"), dict(why, submission_id=sid)),
            ("jury", "POST", api(ASIDE, "/publish"), why),
            ("reader", "GET", "/api/v1/audit", None),
            ("reader", "GET", "/api/v1/audit?challenge=" + ASIDE, None),
            ("admin", "PUT", "/api/v1/users/%s/role" % username, {"role": "admin", "reason": "r"}),
        ]

    def call(self, client, method, path, body):
        if isinstance(body, bytes):
            return client.request(method, path, body=body, headers={"Content-Type": "application/zip"})
        return client.request(method, path, json_body=body)
    def test_forbidden(self):
        """Participants: 403 forbidden everywhere (the log: 403 or 404); anonymous: 401; the jury cannot use
        organizer or admin endpoints, an organizer cannot act as the jury. Nothing changes."""
        pete = self.participant("pete", slug=ASIDE)
        sid = self.upload_ok(pete, harness.sample_submission(), ASIDE)
        self.scored(pete, sid)
        team_id = self.team(pete, ASIDE)["id"]
        anon = self.server.client()
        juno, olga = self.staff("juno"), self.staff("olga")
        browser = self.participant("paula", slug=ASIDE, bearer=False)  # cookie + CSRF token
        for allowed, method, path, body in self.staff_endpoints(sid, team_id, "pete"):
            for who in (pete, browser):
                self.assertError(self.call(who, method, path, body), *life.STAFF_ONLY)
            self.assertError(self.call(anon, method, path, body), 401, "unauthorized")
            if allowed in ("organizer", "admin"):
                self.assertError(self.call(juno, method, path, body), *life.STAFF_ONLY)
            if allowed in ("jury", "admin"):
                self.assertError(self.call(olga, method, path, body), *life.STAFF_ONLY)
        r = pete.get("/api/v1/submissions/%s/log" % sid)
        self.assertIn(r.status, (403, 404), r)
        self.assertNotIn(b'"log"', r.body)
        self.assertEqual(anon.get("/api/v1/submissions/%s/log" % sid).status, 401)
        # nothing happened
        self.assertEqual(pete.get("/api/v1/me").json()["role"], "participant")
        sub = pete.submission(sid).json()
        self.assertEqual(sub["status"], "scored", sub)
        self.assertFalse(sub.get("disqualified", False), sub)
        ch = pete.challenge(ASIDE).json()
        self.assertEqual(ch["phases"][0]["max_total"], 20, ch)
        self.assertIsNone(self.server.client().get(api("sneaky")).json().get("slug"))
        # the roles that may: the review for organizer and jury, the audit for both
        for c in (juno, olga):
            self.assertEqual(c.get(api(ASIDE, "/review")).status, 200)
            self.assertEqual(c.get("/api/v1/audit").status, 200)

    def assertIntervals(self, rows):
        """Every ranked row has ci null or [lo, hi] around its private score, and rank_range [best, worst]
        around its rank. The contest's per-row losses are constant within a split, so each interval is a
        point and no two overlap: when intervals are given, every rank is certain."""
        ranked = [r for r in rows if r["rank"] is not None]
        for row in rows:
            self.assertIn("log_available", row)
            self.assertRegex(row["created_at"], ISO)
        for row in ranked:
            ci, rr = row["ci"], row["rank_range"]
            if ci is not None:
                self.assertEqual(len(ci), 2, row)
                self.assertLessEqual(ci[0], ci[1], row)
                self.assertLessEqual(ci[0], row["private_score"] + 1e-4, row)
                self.assertGreaterEqual(ci[1], row["private_score"] - 1e-4, row)
                self.assertEqual(rr, [row["rank"], row["rank"]], row)
            self.assertEqual(len(rr), 2, row)
            self.assertTrue(1 <= rr[0] <= row["rank"] <= rr[1] <= len(ranked), row)

    def leaderboard_names(self, client, query=""):
        r = client.leaderboard(SLUG, query)
        self.assertEqual(r.status, 200, r)
        return [row["name"] for row in r.json()["rows"]]
    def test_review_disqualify_publish(self):
        juno, olga, adam = self.staff("juno"), self.staff("olga"), self.staff("adam")
        self.contest(SLUG)
        carol, bob, anon = self.clients["carol"], self.clients["bob"], self.server.client()
        ids = self.ids

        # the review: organizers may read it too; the private order is the reverse of the public one
        review = self.review(juno, SLUG)
        self.assertEqual((review["published"], review["phase_open"]), (False, True))
        self.assertReviewRows(review["rows"], DEFAULT)
        self.assertIntervals(review["rows"])
        self.assertEqual(self.review(olga, SLUG)["rows"], review["rows"])
        self.assertEqual(self.leaderboard_names(anon), ["Alpha", "bob", "carol"])
        teams = {r["team"]: r["team_id"] for r in review["rows"]}

        # every action needs a reason (absent or not a string)
        actions = [
            "/api/v1/submissions/%s/disqualify" % ids["C1"], "/api/v1/submissions/%s/reinstate" % ids["C1"],
            "/api/v1/submissions/%s/rescore" % ids["C1"],
            api(SLUG, "/teams/%s/disqualify" % teams["bob"]), api(SLUG, "/teams/%s/reinstate" % teams["bob"]),
            api(SLUG, "/notes"),
        ]
        for path in actions:
            self.assertError(juno.post(path, {}), 400, "missing_field")
            self.assertError(juno.post(path, {"reason": 5}), 400, "missing_field")
            self.assertEqual(juno.post(path, {"reason": "x" * 1001}).status, 400, path)
        self.assertReviewRows(self.review(juno, SLUG)["rows"], DEFAULT)

        # disqualify carol's only submission: she drops out of the ranks (listed last, no rank)
        r = self.act(juno, "/api/v1/submissions/%s/disqualify" % ids["C1"], "copied another team's file")
        self.assertEqual(r.status, 200, r)
        self.assertIs(juno.submission(ids["C1"]).json()["disqualified"], True)
        rows = self.review(juno, SLUG)["rows"]
        self.assertReviewRows(rows, [("bob", "B1", False), ("Alpha", "A1", False)], [("carol", "C1")])
        self.assertIs(rows[2]["disqualified"], True, rows)
        self.assertIntervals(rows)
        self.assertEqual(self.leaderboard_names(anon), ["Alpha", "bob"])
        r = self.act(juno, "/api/v1/submissions/%s/reinstate" % ids["C1"], "the copy was a shared baseline")
        self.assertEqual(r.status, 200, r)
        self.assertFalse(juno.submission(ids["C1"]).json().get("disqualified"))
        self.assertReviewRows(self.review(juno, SLUG)["rows"], DEFAULT)
        self.assertEqual(self.leaderboard_names(anon), ["Alpha", "bob", "carol"])

        # disqualify a team (the admin may act as the jury): bob's team leaves the ranks
        r = self.act(adam, api(SLUG, "/teams/%s/disqualify" % teams["bob"]), "two accounts, one person")
        self.assertEqual(r.status, 200, r)
        rows = self.review(juno, SLUG)["rows"]
        self.assertReviewRows(rows, [("carol", "C1", False), ("Alpha", "A1", False)], [("bob", "B1")])
        self.assertIs(rows[2]["disqualified"], True, rows)
        self.assertEqual(self.leaderboard_names(anon), ["Alpha", "carol"])
        r = self.act(juno, api(SLUG, "/teams/%s/reinstate" % teams["bob"]), "the accounts are two siblings")
        self.assertEqual(r.status, 200, r)
        self.assertReviewRows(self.review(juno, SLUG)["rows"], DEFAULT)
        self.assertEqual(self.leaderboard_names(anon), ["Alpha", "bob", "carol"])

        # a note, and a re-score that gives the same value
        r = self.act(juno, api(SLUG, "/notes"), "A1 log checked, nothing odd", submission_id=ids["A1"])
        self.assertEqual(r.status, 201, r)
        self.assertIn("A1 log checked, nothing odd", str(self.review(juno, SLUG)["notes"]))
        r = self.act(juno, "/api/v1/submissions/%s/rescore" % ids["B1"], "scorer updated")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"id": ids["B1"], "status": "queued"})
        sub = self.scored(juno, ids["B1"])
        self.assertScore(sub["public_score"], life.expected("B1")[0])
        self.assertScore(sub["private_score"], life.expected("B1")[1])

        # publication: refused while the last phase is open, then once
        self.set_clock(END - 1)
        self.assertError(self.act(juno, api(SLUG, "/publish"), "too early"), 409, "phase_open")
        self.assertError(carol.leaderboard(SLUG, "?split=private"), 403, "forbidden")
        self.set_clock(END + HOUR)
        self.assertIs(self.review(juno, SLUG)["phase_open"], False)
        self.assertError(juno.post(api(SLUG, "/publish"), {}), 400, "missing_field")
        self.assertError(self.act(olga, api(SLUG, "/publish"), "organizers do not publish"), 403, "forbidden")
        r = self.act(juno, api(SLUG, "/publish"), "final ranking approved")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["published_at"], iso(END + HOUR))
        self.assertRegex(r.json()["sha256"], r"^[0-9a-f]{64}$")
        self.assertError(self.act(juno, api(SLUG, "/publish"), "again"), 409, "published")

        # frozen: every action is 409 published, the review stays as published
        for path in actions:
            self.assertError(self.act(juno, path, "after the fact"), 409, "published")
        review = self.review(juno, SLUG)
        self.assertIs(review["published"], True)
        self.assertReviewRows(review["rows"], DEFAULT)

        # the private leaderboard is public now, and participants see their private scores
        for c in (anon, carol, bob):
            r = c.leaderboard(SLUG, "?split=private")
            self.assertEqual(r.status, 200, r)
            rows = r.json()["rows"]
            self.assertEqual([(x["rank"], x["name"]) for x in rows], [(1, "carol"), (2, "bob"), (3, "Alpha")])
            for row, name in zip(rows, ("C1", "B1", "A1")):
                self.assertScore(row["score"], life.expected(name)[1])
        self.assertScore(carol.submission(ids["C1"]).json()["private_score"], life.expected("C1")[1])


if __name__ == "__main__":
    life.main()
