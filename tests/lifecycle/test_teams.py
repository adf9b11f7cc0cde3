#!/usr/bin/env python3
"""Teams: the solo team named after its user, create, invite by code, join, team_full at teams.max_size,
team_name_taken (case-insensitive), leave back to a solo team, team_locked once the team has a submission;
quotas count per team (members share max_total, and 20 concurrent uploads from two members with one slot
left give exactly one 201); the leaderboard ranks teams by name; another team's submission is a 404.
"""
import unittest

import lifeharness as life
from lifeharness import DAY, T0, api, harness

SLUG = "teamed"


class Teams(life.ClockTest):
    START = T0 + 1
    BUNDLES = [(SLUG, [life.phase_at("development", T0, T0 + 10 * DAY, max_per_day=50, max_total=4)], 3)]

    def members(self, team):
        return sorted(m["username"] for m in team["members"])
    def test_teams(self):
        outsider = self.participant("olaf", slug=SLUG, accept=False)
        self.assertError(outsider.get(api(SLUG, "/team")), 403, "terms_not_accepted")

        alice, bob, carol, dave, erin = (self.participant(n, slug=SLUG)
                                        for n in ("alice", "bob", "carol", "dave", "erin"))
        # everyone starts in a solo team named after them
        solo = self.team(alice, SLUG)
        self.assertEqual((solo["name"], solo["solo"], self.members(solo)), ("alice", True, ["alice"]), solo)
        self.assertEqual(solo["max_size"], 3, solo)
        for key in ("id", "members", "submissions"):  # a solo team may have no invite code
            self.assertIn(key, solo)

        red = self.create_team(alice, SLUG, "Red Pandas")
        self.assertEqual((red["name"], red["solo"], self.members(red), red["max_size"]),
                         ("Red Pandas", False, ["alice"], 3), red)
        self.assertTrue(red["invite_code"], red)
        self.assertNotEqual(red["id"], solo["id"])
        self.assertEqual(self.team(alice, SLUG)["id"], red["id"])
        self.assertError(erin.post(api(SLUG, "/teams"), {"name": "red PANDAS"}), 409, "team_name_taken")
        self.assertEqual(erin.post(api(SLUG, "/teams"), {"name": "x"}).status, 400)
        # hostile names: control characters, bidi overrides that reorder what others see, too long, another
        # user's name (solo teams carry usernames), not a string
        for name in ("tab\there", "new\nline", "nul\u0000", "evil\u202egnp.exe", "iso\u2066late\u2069",
                     "n" * 65, "bob", 42):
            r = erin.post(api(SLUG, "/teams"), {"name": name})
            self.assertIn(r.status, (400, 409), (repr(name), r))
            self.assertEqual(self.team(erin, SLUG)["name"], "erin", repr(name))
        self.assertError(erin.post(api(SLUG, "/teams"), {"name": "bob"}), 409, "team_name_taken")
        self.assertEqual(self.team(erin, SLUG)["name"], "erin")

        # invite by code; the code must be right; max_size 3
        self.assertError(self.join(bob, SLUG, red["invite_code"] + "x"), 404, "not_found")
        r = self.join(bob, SLUG, red["invite_code"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["id"], red["id"])
        seen_by_bob = self.team(bob, SLUG)
        self.assertEqual((seen_by_bob["name"], self.members(seen_by_bob)), ("Red Pandas", ["alice", "bob"]))
        self.assertEqual(seen_by_bob["invite_code"], red["invite_code"])
        self.assertEqual(self.join(carol, SLUG, red["invite_code"]).status, 200)
        self.assertError(self.join(dave, SLUG, red["invite_code"]), 409, "team_full")
        self.assertEqual(self.team(dave, SLUG)["name"], "dave")

        # leave before any submission: back to a solo team, the place is free again
        r = carol.request("DELETE", api(SLUG, "/team"))
        self.assertEqual(r.status, 204, r)
        back = self.team(carol, SLUG)
        self.assertEqual((back["name"], back["solo"], self.members(back)), ("carol", True, ["carol"]), back)
        self.assertEqual(self.members(self.team(alice, SLUG)), ["alice", "bob"])
        self.assertEqual(self.join(dave, SLUG, red["invite_code"]).status, 200)
        self.assertEqual(self.members(self.team(bob, SLUG)), ["alice", "bob", "dave"])

        # quotas are the team's: max_total 4 shared by three members
        best = harness.predictions_csv(life.predictions("A1"))
        first = self.upload_ok(alice, best, SLUG, description="alice first")
        self.upload_ok(bob, harness.sample_submission(), SLUG)
        for member in (alice, bob, dave):
            q = self.quota(member, SLUG)
            self.assertEqual((q["used_total"], q["left_total"]), (2, 2), (member.username, q))
        self.upload_ok(dave, harness.sample_submission(), SLUG)

        # the team has submissions: creating, joining elsewhere and leaving are locked
        self.assertError(dave.request("DELETE", api(SLUG, "/team")), 409, "team_locked")
        self.assertError(alice.post(api(SLUG, "/teams"), {"name": "Splinter"}), 409, "team_locked")
        self.assertError(self.join(bob, SLUG, self.create_team(carol, SLUG, "Blue Whales")["invite_code"]),
                         409, "team_locked")
        self.assertEqual(self.members(self.team(alice, SLUG)), ["alice", "bob", "dave"])

        # one slot left for the team: 20 concurrent uploads from two members -> exactly one 201
        sample = harness.sample_submission()
        results = life.run_concurrently(20, lambda i: (alice, bob)[i % 2].upload(sample, slug=SLUG,
                                                                                description="race %d" % i))
        self.assertEqual(sorted(r.status for r in results), [201] + [429] * 19, results)
        for r in results:
            if r.status == 429:
                self.assertError(r, 429, "quota_exceeded")
        for member in (alice, bob, dave):
            q = self.quota(member, SLUG)
            self.assertEqual((q["used_total"], q["left_total"]), (4, 0), (member.username, q))
            self.assertError(member.upload(sample, slug=SLUG), 429, "quota_exceeded")

        # every member lists the team's four submissions; another team gets a 404 on them
        listed = {m.username: [s["id"] for s in m.get(api(SLUG, "/submissions")).json()]
                  for m in (alice, bob, dave)}
        self.assertEqual(len(listed["alice"]), 4, listed)
        self.assertEqual(listed["alice"], listed["bob"])
        self.assertEqual(listed["alice"], listed["dave"])
        self.assertIn(first, listed["bob"])
        self.assertEqual(bob.submission(first).status, 200)
        self.assertError(erin.submission(first), 404, "not_found")
        self.assertEqual(erin.get(api(SLUG, "/submissions")).json(), [])
        # erin's own quota is untouched by the team's
        self.assertEqual(self.quota(erin, SLUG)["used_total"], 0)

        # the leaderboard ranks teams: "Red Pandas" (its best, alice's), then erin, carol's team has none
        self.upload_ok(erin, harness.predictions_csv(life.predictions("C1")), SLUG)
        for sid in listed["alice"]:
            self.scored(alice, sid)
        for sid in [s["id"] for s in erin.get(api(SLUG, "/submissions")).json()]:
            self.scored(erin, sid)
        rows = alice.leaderboard(SLUG).json()["rows"]
        self.assertEqual([(r["rank"], r["name"]) for r in rows], [(1, "Red Pandas"), (2, "erin")], rows)
        self.assertScore(rows[0]["score"], life.expected("A1")[0])
        self.assertScore(rows[1]["score"], life.expected("C1")[0])
        self.assertEqual((rows[0]["submissions"], rows[1]["submissions"]), (4, 1), rows)


if __name__ == "__main__":
    life.main()
