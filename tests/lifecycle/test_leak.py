#!/usr/bin/env python3
"""THE LEAK TEST (SECURITY.md 20-22). Before publication, with a contest whose private order is the reverse of
its public one and after the jury and the organizer have looked at everything, a participant (by API token and
by browser cookie), a teammate, another team and an anonymous caller walk every endpoint and page they may call;
no private score, printed in any usual way, appears in any body or header, and no JSON carries a
"private_score". A submission bad only in a private row fails exactly like one bad only in a public row.
"""
import os
import re
import unittest

import lifeharness as life
from lifeharness import DAY, HOUR, T0, api, harness

SLUG = "leaky"


class Leak(life.ClockTest):
    START = T0 + HOUR
    USERS = [("juno", "jury"), ("olga", "organizer")]
    BUNDLES = [(SLUG, [life.phase_at("final", T0, T0 + DAY, max_per_day=20, max_total=40, final_selection=2)], 2)]

    def static_pages(self):
        """{url: bytes on disk} of every file under web/."""
        root = harness.source_path("web")
        pages = {}
        for folder, _, names in os.walk(root):
            for name in names:
                path = os.path.join(folder, name)
                pages["/" + os.path.relpath(path, root).replace(os.sep, "/")] = harness.read_bytes(path)
        pages["/"] = pages["/index.html"]
        pages["/challenge.html?slug=" + SLUG] = pages["/challenge.html"]
        return pages

    def walk(self, client, own, others):
        """GETs everything CLIENT may call (OWN: its team's submission ids, OTHERS: other teams'), asserting
        each status; returns nothing, the responses are recorded."""
        logged_in = client.username is not None
        expect = {
            "/api/v1/challenges": 200,
            api(SLUG): 200,
            api(SLUG, "/leaderboard"): 200,
            api(SLUG, "/leaderboard?split=public"): 200,
            api(SLUG, "/leaderboard?split=private"): 403,
            api(SLUG, "/files"): 200 if logged_in else 401,
            api(SLUG, "/submissions"): 200 if logged_in else 401,
            api(SLUG, "/team"): 200 if logged_in else 401,
            api(SLUG, "/selection"): 200 if logged_in else 401,
            "/api/v1/me": 200 if logged_in else 401,
            api(SLUG, "/ranking"): 404,
            api(SLUG, "/ranking.sig"): 404,
            "/api/v1/signing-key": 200,
            api(SLUG, "/review"): 403 if logged_in else 401,
            api(SLUG, "/review/export?format=csv"): 403 if logged_in else 401,
            api(SLUG, "/export?format=csv"): 403 if logged_in else 401,
            api(SLUG, "/queue"): 403 if logged_in else 401,
            "/api/v1/audit?challenge=" + SLUG: 403 if logged_in else 401,
        }
        for sid in own:
            expect["/api/v1/submissions/%s" % sid] = 200
        for sid in others:
            expect["/api/v1/submissions/%s" % sid] = 404 if logged_in else (401, 404)
        for path, status in expect.items():
            self.assertIn(client.get(path).status, status if isinstance(status, tuple) else (status,),
                          (client.username, path))
        for sid in own + others:
            r = client.get("/api/v1/submissions/%s/log" % sid)
            self.assertIn(r.status, (401, 403, 404), (client.username, r))
        for url in self.static_pages():
            r = client.get(url)
            self.assertEqual(r.status, 200, url)
            r.url = url  # so that the search below knows which page's source this is
    def test_no_private_score_before_publication(self):
        seen = []  # every response a participant or an anonymous caller got
        juno, olga = self.staff("juno"), self.staff("olga")
        self.contest(SLUG, record=seen)
        alice, amir, bob, carol = (self.clients[n] for n in ("alice", "amir", "bob", "carol"))
        browser = self.login_as("alice", record=seen)
        anon = self.server.client(seen)

        # failures caused by a private row and by a public row, plus a selection: more to look at
        failures = {}
        for usage in ("Public", "Private"):
            for value in ("1.5", "abc", "-0.5"):
                data, row_id = life.bad_in(usage, value)
                sub = self.wait_final(bob, self.upload_ok(bob, data, SLUG))
                self.assertEqual(sub["status"], "failed", sub)
                failures[(usage, value)] = sub
                message = sub["error"]["message"].lower()
                for word in ("private", "public", "split", "usage", "solution"):
                    self.assertNotIn(word, message, sub)
        for value in ("1.5", "abc", "-0.5"):
            pub, priv = failures[("Public", value)], failures[("Private", value)]
            ids = [life.bad_in(u, value)[1] for u in ("Public", "Private")]
            self.assertEqual(life.error_shape(pub["error"], ids), life.error_shape(priv["error"], ids), value)
            self.assertEqual(sorted(pub), sorted(priv))
        r = alice.request("PUT", api(SLUG, "/selection"), json_body={"submission_ids": [self.ids["A2"]]})
        self.assertEqual(r.status, 200, r)

        # the staff look at everything (none of it may show up elsewhere)
        self.assertEqual(juno.get(api(SLUG, "/review")).status, 200)
        self.assertEqual(olga.get(api(SLUG, "/export?format=json")).status, 200)
        self.assertEqual(self.act(juno, api(SLUG, "/notes"), "private order reviewed").status, 201)
        for sid in self.ids.values():
            self.assertIn("private_score", juno.submission(sid).json())

        # the walk
        alpha = [self.ids["A1"], self.ids["A2"]]
        bob_ids = [self.ids["B1"]] + [s["id"] for s in failures.values()]
        self.walk(alice, alpha, bob_ids + [self.ids["C1"]])
        self.walk(browser, alpha, [self.ids["B1"]])
        self.walk(amir, alpha, [self.ids["C1"]])
        self.walk(bob, bob_ids, alpha)
        self.walk(carol, [self.ids["C1"]], alpha + [self.ids["B1"]])
        self.walk(anon, [], alpha + [self.ids["C1"]])

        privates = [life.expected(n)[1] for n in life.QUALITY]
        publics = [life.expected(n)[0] for n in life.QUALITY]
        needles = life.leak_needles(privates, publics)
        self.assertGreater(len(needles), 50)
        pages = self.static_pages()
        self.assertGreater(len(seen), 200)
        for resp in seen:
            headers = "\n".join("%s: %s" % kv for kv in resp.headers)
            source = pages.get(getattr(resp, "url", None), b"")
            for needle in needles + ["private_score"]:
                # in a header a score is a number of its own: an ETag's "80.14418" or "6b12e1d0.4969" (hex mtime,
                # size) does not hold "0.14" or "0.49"
                self.assertNotRegex(headers, r"(?<![0-9A-Za-z.])" + re.escape(needle), resp)
                if needle.encode() not in source:  # text of a static page's own source is no leak
                    self.assertNotIn(needle.encode(), resp.body, "%s leaked in %r" % (needle, resp))
        # the needles do catch a private score where it is allowed
        staff_view = juno.submission(self.ids["C1"]).body
        self.assertTrue([n for n in needles if n.encode() in staff_view], staff_view)


if __name__ == "__main__":
    life.main()
