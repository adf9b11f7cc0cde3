#!/usr/bin/env python3
"""Phases through time, driven by the test clock: closed before the first phase, open in each phase with its
own quotas, closed between phases and after the last; the challenge's "phase" and "ends_at" and the quota's
"resets_at" follow the clock, and the daily quota resets exactly at the reported "resets_at".
"""
import unittest

import lifeharness as life
from lifeharness import DAY, HOUR, T0, harness, iso

SLUG = "phased"
DEV = (T0 + 2 * HOUR, T0 + 2 * DAY)
FINAL = (T0 + 2 * DAY + 6 * HOUR, T0 + 3 * DAY)


class Phases(life.ClockTest):
    START = T0 - HOUR
    BUNDLES = [(SLUG, [life.phase_at("development", *DEV, max_per_day=2, max_total=3),
                       life.phase_at("final", *FINAL, max_per_day=1, max_total=5, final_selection=1)], 4)]

    def state(self, client):
        """(phase, ends_at) from the challenge detail, after checking the listing says the same."""
        r = client.get("/api/v1/challenges")
        self.assertEqual(r.status, 200, r)
        listed = {c["slug"]: c for c in r.json()}[SLUG]
        ch = client.challenge(SLUG).json()
        self.assertEqual((listed["phase"], listed["ends_at"]), (ch["phase"], ch["ends_at"]), (listed, ch))
        return ch["phase"], ch["ends_at"]

    def assertClosed(self, client, anon):
        for who in (client, anon):
            self.assertEqual(self.state(who), (None, None), iso(self.server.now))
        self.assertIsNone(self.quota(client, SLUG))
        self.assertError(client.upload(harness.sample_submission(), slug=SLUG), 403, "phase_closed")

    def assertQuota(self, client, used_today, left_today, used_total, left_total, resets_at):
        q = self.quota(client, SLUG)
        self.assertIsNotNone(q, iso(self.server.now))
        self.assertEqual((q["used_today"], q["left_today"], q["used_total"], q["left_total"], q["resets_at"]),
                         (used_today, left_today, used_total, left_total, iso(resets_at)), iso(self.server.now))
    def test_phases_through_time(self):
        anon = self.server.client()
        pia = self.participant("pia", slug=SLUG)
        browser = self.login_as("pia")  # cookie + CSRF: the browser path is refused the same way
        sample = harness.sample_submission()

        # before the first phase, and one second before it opens
        for t in (T0 - HOUR, DEV[0] - 1):
            self.set_clock(t)
            self.assertClosed(pia, anon)
        self.assertError(browser.upload(sample, slug=SLUG), 403, "phase_closed")
        self.assertEqual(pia.get(life.api(SLUG, "/submissions")).json(), [])

        # development opens: two a day, three in total; the day resets at the next UTC midnight
        self.set_clock(DEV[0])
        self.assertEqual(self.state(pia), ("development", iso(DEV[1])))
        self.assertEqual(self.state(anon), ("development", iso(DEV[1])))
        self.assertIsNone(self.quota(anon, SLUG))
        self.assertQuota(pia, 0, 2, 0, 3, T0 + DAY)
        first = self.upload_ok(pia, sample, SLUG)
        self.assertEqual(pia.submission(first).json()["created_at"], iso(DEV[0]))
        self.set_clock(T0 + 5 * HOUR)
        keyed = self.upload_ok(browser, sample, SLUG, key="sha-of-the-file")
        # the daily limit: the 429 says when it resets (message, resets_at, Retry-After)
        r = pia.upload(sample, slug=SLUG)
        self.assertError(r, 429, "quota_exceeded")
        self.assertEqual(r.json()["error"]["resets_at"], iso(T0 + DAY))
        self.assertEqual(r.header("Retry-After"), str(T0 + DAY - (T0 + 5 * HOUR)))
        self.assertIn("starts again at 00:00 UTC, in 19 h 00 min", r.json()["error"]["message"])
        # the same key in the same phase is the same submission, even over the quota
        self.assertEqual(browser.upload(sample, slug=SLUG, key="sha-of-the-file").json()["id"], keyed)
        self.assertQuota(pia, 2, 0, 2, 1, T0 + DAY)
        self.set_clock(T0 + DAY - 1)
        self.assertError(pia.upload(sample, slug=SLUG), 429, "quota_exceeded")
        self.assertQuota(pia, 2, 0, 2, 1, T0 + DAY)

        # at the reported resets_at the day's count is back to zero; the total is not
        self.set_clock(T0 + DAY)
        self.assertQuota(pia, 0, 2, 2, 1, T0 + 2 * DAY)
        third = self.upload_ok(pia, sample, SLUG)
        self.assertEqual(pia.submission(third).json()["created_at"], iso(T0 + DAY))
        # the phase's total reached: no reset to wait for
        r = pia.upload(sample, slug=SLUG)
        self.assertError(r, 429, "quota_exceeded")
        self.assertIsNone(r.json()["error"]["resets_at"])
        self.assertIsNone(r.header("Retry-After"))
        self.assertIn("all 3 are used", r.json()["error"]["message"])
        self.assertQuota(pia, 1, 1, 3, 0, T0 + 2 * DAY)
        for sub in pia.get(life.api(SLUG, "/submissions")).json():
            self.scored(pia, sub["id"])

        # last second of development: still open (the quota answers, not the phase)
        self.set_clock(DEV[1] - 1)
        self.assertEqual(self.state(pia), ("development", iso(DEV[1])))
        self.assertError(pia.upload(sample, slug=SLUG), 429, "quota_exceeded")

        # between the phases, whatever the client says its clock is
        for t in (DEV[1] + 1, FINAL[0] - 1):
            self.set_clock(t)
            self.assertClosed(pia, anon)
        self.assertError(pia.request("POST", life.api(SLUG, "/submissions"), body=sample,
                                     headers={"Date": "Mon, 10 Mar 2031 12:00:00 GMT"}), 403, "phase_closed")
        self.assertError(browser.upload(sample, slug=SLUG), 403, "phase_closed")

        # final: its own quotas (one a day, five in total), its own end
        self.set_clock(FINAL[0])
        self.assertEqual(self.state(pia), ("final", iso(FINAL[1])))
        self.assertQuota(pia, 0, 1, 0, 5, T0 + 3 * DAY)
        # the key of development names a new submission here (issue 16: keys are scoped to the phase)
        final_one = self.upload_ok(pia, sample, SLUG, key="sha-of-the-file")
        self.assertNotEqual(final_one, keyed)
        self.assertEqual(pia.submission(final_one).json()["phase"], "final")
        self.assertError(pia.upload(sample, slug=SLUG), 429, "quota_exceeded")
        self.assertQuota(pia, 1, 0, 1, 4, T0 + 3 * DAY)

        # after the last phase
        self.set_clock(FINAL[1] + 1)
        self.assertClosed(pia, anon)
        self.assertError(browser.upload(sample, slug=SLUG), 403, "phase_closed")
        self.set_clock(FINAL[1] + 30 * DAY)
        self.assertClosed(pia, anon)
        self.assertEqual(len(pia.get(life.api(SLUG, "/submissions")).json()), 4)


if __name__ == "__main__":
    life.main()
