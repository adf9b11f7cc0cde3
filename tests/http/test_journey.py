#!/usr/bin/env python3
"""The foundation journey, black-box: register -> login -> accept terms -> list and download files ->
upload the sample submission as a raw body -> poll until scored -> the leaderboard shows the score this
test computes on its own. Then a better second participant ranks first, a tie goes to the earlier
submission, organizers and jury see the private score, and no participant-visible response carries it.
"""
import datetime
import re

import harness
from harness import DEMO_SLUG, ServerTest

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
API = "/api/v1/challenges/" + DEMO_SLUG


def next_utc_midnight():
    now = datetime.datetime.now(datetime.timezone.utc)
    tomorrow = (now + datetime.timedelta(days=1)).date()
    return tomorrow.strftime("%Y-%m-%dT00:00:00Z")


class Journey(ServerTest):
    USERS = [("olga_org", "organizer"), ("jules_jury", "jury")]

    def test_journey(self):
        seen = []  # every response a participant or an anonymous caller got
        anon = self.server.client(seen)
        sample = harness.sample_submission()
        sample_pred = harness.parse_predictions(sample)
        expected_public = harness.log_loss(sample_pred, "Public")
        expected_private = harness.log_loss(sample_pred, "Private")

        # --- anonymous: the challenge is listed and open, but there is no quota and no terms yet
        r = anon.get("/api/v1/challenges")
        self.assertEqual(r.status, 200, r)
        listed = {c["slug"]: c for c in r.json()}
        self.assertIn(DEMO_SLUG, listed)
        self.assertEqual(listed[DEMO_SLUG]["phase"], "development")
        self.assertEqual(listed[DEMO_SLUG]["ends_at"], "2030-06-30T00:00:00Z")
        self.assertEqual(listed[DEMO_SLUG]["title"], "Predict melanoma relapse")

        r = anon.challenge()
        self.assertEqual(r.status, 200, r)
        ch = r.json()
        self.assertEqual(ch["slug"], DEMO_SLUG)
        self.assertEqual((ch["metric"]["name"], ch["metric"]["higher_is_better"]), ("log_loss", False))
        self.assertEqual(ch["leaderboard"]["precision"], 4)
        self.assertEqual(ch["terms_version"], 1)
        self.assertFalse(ch["terms_accepted"])
        self.assertIsNone(ch["quota"])
        self.assertEqual(ch["phase"], "development")
        self.assertEqual(ch["ends_at"], "2030-06-30T00:00:00Z")
        self.assertIn("Predict melanoma relapse", ch["overview"])
        self.assertIn("No re-identification", ch["terms"])
        self.assertEqual([p["name"] for p in ch["phases"]], ["development", "final"])
        dev, final = ch["phases"]
        self.assertEqual((dev["start"], dev["end"], dev["max_per_day"], dev["max_total"]),
                         ("2026-01-01T00:00:00Z", "2030-06-30T00:00:00Z", 5, 200))
        self.assertEqual((final["start"], final["end"], final["max_per_day"], final["max_total"],
                          final["final_selection"]),
                         ("2030-07-01T00:00:00Z", "2030-07-31T00:00:00Z", 2, 10, 2))

        # --- register and log in as a browser would (cookie + CSRF token)
        alice = self.server.client(seen)
        r = alice.register("alice")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["username"], "alice")
        self.assertIn("id", r.json())
        r = alice.login("alice")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["username"], "alice")
        self.assertEqual(r.json()["role"], "participant")
        self.assertTrue(r.json()["csrf_token"])
        cookie = [v for v in r.header_all("Set-Cookie") if v.startswith("concours_session=")]
        self.assertEqual(len(cookie), 1, r.headers)
        attrs = [a.strip().lower() for a in cookie[0].split(";")[1:]]
        self.assertIn("httponly", attrs)
        self.assertIn("samesite=strict", attrs)
        self.assertIn("path=/", attrs)
        r = alice.get("/api/v1/me")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["username"], r.json()["role"]), ("alice", "participant"))

        r = alice.challenge()
        ch = r.json()
        self.assertFalse(ch["terms_accepted"])
        self.assertEqual({k: ch["quota"][k] for k in ("used_today", "left_today", "used_total", "left_total")},
                         {"used_today": 0, "left_today": 5, "used_total": 0, "left_total": 200})
        self.assertRegex(ch["quota"]["resets_at"], ISO)
        self.assertEqual(ch["quota"]["resets_at"], next_utc_midnight())

        # --- no data before the terms; the wrong version is refused
        self.assertError(alice.get(API + "/files"), 403, "terms_not_accepted")
        self.assertError(alice.get(API + "/files/train_metadata.csv"), 403, "terms_not_accepted")
        self.assertError(alice.accept_terms(version=2), 409, "terms_outdated")
        self.assertError(alice.accept_terms(version=0), 409, "terms_outdated")
        r = alice.accept_terms(version=1)
        self.assertEqual(r.status, 204, r)
        self.assertTrue(alice.challenge().json()["terms_accepted"])
        self.assertFalse(anon.challenge().json()["terms_accepted"])

        # --- list the files and check them against the bundle
        r = alice.get(API + "/files")
        self.assertEqual(r.status, 200, r)
        files = {f["name"]: f for f in r.json()}
        self.assertEqual(set(files), {"train_metadata.csv", "test_metadata.csv", "sample_submission.csv"})
        for name, f in files.items():
            data = harness.read_bytes(harness.demo_dir() + "/data/" + name)
            self.assertEqual(f["size"], len(data), name)
            self.assertEqual(f["sha256"], harness.sha256_hex(data), name)

        # --- download: whole, then a Range
        train = harness.read_bytes(harness.demo_dir() + "/data/train_metadata.csv")
        r = alice.get(API + "/files/train_metadata.csv")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, train)
        r = alice.get(API + "/files/train_metadata.csv", headers={"Range": "bytes=100-1099"})
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, train[100:1100])
        self.assertEqual(r.header("Content-Range"), "bytes 100-1099/%d" % len(train))
        r = alice.get(API + "/files/train_metadata.csv", headers={"Range": "bytes=%d-" % (len(train) - 10)})
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, train[-10:])
        r = alice.get(API + "/files/sample_submission.csv")
        self.assertEqual(r.body, sample)
        self.assertError(alice.get(API + "/files/no_such_file.csv"), 404, "not_found")

        # --- upload the sample submission, raw body, and wait for its score
        r = alice.upload(sample, description="constant base rate")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["status"], "queued")
        alice_first = r.json()["id"]
        sub = alice.wait_done(alice_first)
        self.assertEqual(sub["status"], "scored", sub)
        self.assertScore(sub["public_score"], expected_public)
        self.assertNotIn("private_score", sub)
        self.assertIsNone(sub["error"])
        self.assertEqual(sub["description"], "constant base rate")
        self.assertRegex(sub["created_at"], ISO)
        self.assertRegex(sub["scored_at"], ISO)
        self.assertGreaterEqual(sub["scored_at"], sub["created_at"])
        quota = alice.challenge().json()["quota"]
        self.assertEqual((quota["used_today"], quota["left_today"], quota["used_total"], quota["left_total"]),
                         (1, 4, 1, 199))

        r = anon.leaderboard()
        self.assertEqual(r.status, 200, r)
        lb = r.json()
        self.assertEqual(lb["metric"], "log_loss")
        self.assertIs(lb["higher_is_better"], False)
        self.assertEqual(len(lb["rows"]), 1, lb)
        row = lb["rows"][0]
        self.assertEqual((row["rank"], row["name"], row["submissions"]), (1, "alice", 1))
        self.assertScore(row["score"], expected_public)
        self.assertRegex(row["last_at"], ISO)

        # --- bob predicts better and ranks first; carol ties alice later and ranks after her
        truth = {s["filename"]: int(s["relapse"]) for s in harness.solution()}
        better = {name: (0.8 if y else 0.1) for name, y in truth.items()}
        bob = self.participant("bob", record=seen)
        r = bob.upload(harness.predictions_csv(better))
        self.assertEqual(r.status, 201, r)
        bob_sub = bob.wait_done(r.json()["id"])
        self.assertEqual(bob_sub["status"], "scored", bob_sub)
        self.assertScore(bob_sub["public_score"], harness.log_loss(better, "Public"))

        carol = self.participant("carol", record=seen)
        r = carol.upload(sample)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(carol.wait_done(r.json()["id"])["status"], "scored")

        # dave is better than alice and carol, but only beyond the 4th decimal: ranking uses the rounded
        # score, so he ties with them and, being later, comes last
        nudged = {name: 0.2201 for name in truth}
        self.assertLess(harness.log_loss(nudged, "Public"), expected_public)
        self.assertEqual(round(harness.log_loss(nudged, "Public"), 4), round(expected_public, 4))
        dave = self.participant("dave", record=seen)
        r = dave.upload(harness.predictions_csv(nudged))
        self.assertEqual(r.status, 201, r)
        self.assertEqual(dave.wait_done(r.json()["id"])["status"], "scored")

        rows = anon.leaderboard().json()["rows"]
        self.assertEqual([x["name"] for x in rows], ["bob", "alice", "carol", "dave"], rows)
        self.assertEqual(rows[0]["rank"], 1)
        self.assertEqual(sorted(x["rank"] for x in rows), [x["rank"] for x in rows])
        self.assertScore(rows[0]["score"], harness.log_loss(better, "Public"))
        self.assertScore(rows[1]["score"], expected_public)
        self.assertScore(rows[2]["score"], expected_public)
        self.assertScore(rows[3]["score"], expected_public)

        # --- a worse second submission does not replace alice's best; her list is newest first
        worse = {name: 0.5 for name in truth}
        r = alice.upload(harness.predictions_csv(worse), description="coin flip")
        self.assertEqual(r.status, 201, r)
        alice_second = r.json()["id"]
        self.assertEqual(alice.wait_done(alice_second)["status"], "scored")
        r = alice.get(API + "/submissions")
        self.assertEqual(r.status, 200, r)
        mine = r.json()
        self.assertEqual([s["id"] for s in mine], [alice_second, alice_first])
        self.assertEqual([s["description"] for s in mine], ["coin flip", "constant base rate"])
        self.assertScore(mine[0]["public_score"], harness.log_loss(worse, "Public"))
        rows = anon.leaderboard().json()["rows"]
        by_name = {x["name"]: x for x in rows}
        self.assertScore(by_name["alice"]["score"], expected_public)
        self.assertEqual(by_name["alice"]["submissions"], 2)
        self.assertEqual([x["name"] for x in rows], ["bob", "alice", "carol", "dave"], rows)

        # --- the private split stays closed to participants and anonymous callers
        self.assertError(anon.leaderboard(query="?split=private"), 403, "forbidden")
        self.assertError(alice.leaderboard(query="?split=private"), 403, "forbidden")

        # --- organizer and jury see the private score
        for staff in ("olga_org", "jules_jury"):
            c = self.login_as(staff)
            r = c.submission(alice_first)
            self.assertEqual(r.status, 200, (staff, r))
            self.assertIn("private_score", r.json(), staff)
            self.assertAlmostEqual(r.json()["private_score"], expected_private, delta=1e-4)
            self.assertScore(r.json()["public_score"], expected_public)
            r = c.leaderboard(query="?split=private")
            self.assertEqual(r.status, 200, (staff, r))

        # --- no private score value in any byte a participant or anonymous caller received
        for r in [alice.get(API), bob.get(API + "/submissions"), carol.get("/api/v1/challenges"),
                  alice.submission(alice_first), bob.submission(bob_sub["id"]), anon.leaderboard(),
                  alice.leaderboard(query="?split=public")]:
            self.assertIn(r.status, (200, 404), r)
        preds = [sample_pred, better, worse, nudged]
        privates = [harness.log_loss(p, "Private") for p in preds]
        publics = [harness.log_loss(p, "Public") for p in preds]
        needles = private_needles(privates, publics)
        self.assertTrue(needles)
        self.assertGreater(len(seen), 30)
        for resp in seen:
            if "json" not in (resp.header("Content-Type") or "json"):
                continue  # downloaded data files: not scores
            for needle in needles:
                self.assertNotIn(needle.encode(), resp.body,
                                 "private score %s leaked in %r" % (needle, resp))
            self.assertNotIn(b'"private_score"', resp.body, resp)

    def test_range_edge_cases(self):
        """Range per RFC 7233: one byte, a suffix, an end past the file, a start past the file (416 with
        `bytes */size`). A server may ignore a Range it does not support and send the whole file (200),
        but never a 206 with the wrong bytes."""
        c = self.participant("ranger")
        train = harness.read_bytes(harness.demo_dir() + "/data/train_metadata.csv")
        url = API + "/files/train_metadata.csv"
        r = c.get(url, headers={"Range": "bytes=0-0"})
        self.assertEqual((r.status, r.body), (206, train[:1]), r)
        r = c.get(url, headers={"Range": "bytes=-10"})
        self.assertIn((r.status, r.body), [(206, train[-10:]), (200, train)], r)
        r = c.get(url, headers={"Range": "bytes=%d-%d" % (len(train) - 5, len(train) + 100)})
        self.assertEqual((r.status, r.body), (206, train[-5:]), r)
        r = c.get(url, headers={"Range": "bytes=5-2"})  # invalid: ignored (200) or refused (416)
        self.assertIn(r.status, (200, 416), r)
        if r.status == 200:
            self.assertEqual(r.body, train)
        r = c.get(url, headers={"Range": "bytes=%d-" % (len(train) + 10)})
        if r.status != 200 or r.body != train:
            self.assertEqual(r.status, 416, r)
            self.assertEqual(r.header("Content-Range"), "bytes */%d" % len(train))


def private_needles(privates, publics):
    """Strings that would show one of PRIVATES, printed with 4 to 8 decimals, and that cannot come from
    a public score printed the same way."""
    def texts(value):
        rounded = {"%.*f" % (d, value) for d in range(4, 9)}
        truncated = {repr(value)[:n] for n in range(6, 11)}
        return rounded | truncated

    public_texts = set().union(*(texts(p) for p in publics))
    needles = set()
    for value in privates:
        for text in texts(value):
            if not any(t.startswith(text) for t in public_texts):
                needles.add(text)
    return sorted(needles)


if __name__ == "__main__":
    harness.main()
