#!/usr/bin/env python3
"""Accounts and authorization, black-box: registration rules, login failures that all look the same,
the session cookie, CSRF rules, API tokens, wrong tokens, logout killing the session server-side, and a
participant who cannot see another participant's submission.
"""
import json
import re

import harness
from harness import DEMO_SLUG, PASSWORD, ServerTest

API = "/api/v1/challenges/" + DEMO_SLUG


class Registration(ServerTest):

    def test_register_rules(self):
        c = self.server.client()
        r = c.register("Valid_user.name-1")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["username"], "Valid_user.name-1")
        self.assertIsInstance(r.json()["id"], int)

        for bad in ("short", "abcdefghi", "aaaaaaaaaaaa", "1111111111111111", ""):
            self.assertError(c.register("pw_" + str(len(bad)) + bad[:1], password=bad), 400, "weak_password")
        for bad in ("ab", "x" * 33, "has space", "semi;colon", "slash/name", "émile", "<script>", ""):
            self.assertError(c.register(bad), 400, "invalid_username")
        self.assertEqual(c.register("abc").status, 201)
        self.assertEqual(c.register("y" * 32).status, 201)
        self.assertError(c.register("valid_USER.name-1"), 409, "username_taken")
        self.assertError(c.register("ABC"), 409, "username_taken")
        for i, bad in enumerate(("no-at-sign", "two@@example.org", "a@b@example.org", "")):
            self.assertError(c.register("mail_%d" % i, email=bad), 400, "invalid_email")

        for body in (b"{", b"not json", b"[1,2]", b"\xff\xfe", b'{"username":'):
            self.assertError(c.request("POST", "/api/v1/users", body=body,
                                       headers={"Content-Type": "application/json"}), 400, "invalid_json")
        # none of the refused registrations exists
        self.assertError(c.login("pw_5s", "short"), 401, "invalid_credentials")
        self.assertError(c.login("has space"), 401, "invalid_credentials")

    def test_login_failures_look_the_same(self):
        c = self.server.client()
        self.assertEqual(c.register("dora").status, 201)
        wrong = c.login("dora", "wrong-password-123")
        unknown = c.login("nobody_here", "wrong-password-123")
        empty = c.login("dora", "")
        self.assertError(wrong, 401, "invalid_credentials")
        self.assertError(unknown, 401, "invalid_credentials")
        self.assertError(empty, 401, "invalid_credentials")
        self.assertEqual(wrong.body, unknown.body)
        self.assertFalse(wrong.header_all("Set-Cookie"))
        self.assertError(c.request("POST", "/api/v1/sessions", body=b"{nope",
                                   headers={"Content-Type": "application/json"}), 400, "invalid_json")
        # the username is case-insensitive for uniqueness; the right password still logs in
        ok = c.login("dora")
        self.assertEqual(ok.status, 200, ok)
        self.assertEqual(ok.json()["role"], "participant")


class Sessions(ServerTest):
    USERS = [("staff_org", "organizer")]

    @classmethod
    def make_server(cls):
        return harness.Server(cls.BUNDLES, cls.MAX_UPLOAD_MB, extra_args=["--trusted-proxy", "127.0.0.1"])

    def test_unauthenticated_and_wrong_tokens(self):
        anon = self.server.client()
        self.assertError(anon.get("/api/v1/me"), 401, "unauthorized")
        self.assertError(anon.get(API + "/files"), 401, "unauthorized")
        self.assertError(anon.upload(harness.sample_submission()), 401, "unauthorized")
        self.assertError(anon.post("/api/v1/tokens", {"name": "x"}), 401, "unauthorized")
        self.assertError(anon.accept_terms(), 401, "unauthorized")
        for header in ("Bearer wrong-token", "Bearer ", "Bearer " + "A" * 64, "Basic YWxpY2U6cGFzcw==", "Bearer"):
            r = anon.get("/api/v1/me", headers={"Authorization": header})
            self.assertError(r, 401, "unauthorized")
            r = anon.request("POST", API + "/submissions", body=harness.sample_submission(),
                             headers={"Authorization": header})
            self.assertError(r, 401, "unauthorized")
        self.assertError(anon.get("/api/v1/me", headers={"Cookie": "concours_session=forged"}), 401,
                         "unauthorized")

    def test_tokens_work_without_csrf(self):
        c = self.participant("tina", accept=False, bearer=False)
        token = c.new_token("script")
        self.assertGreaterEqual(len(token), 20)
        script = self.server.client()
        script.token = token
        r = script.get("/api/v1/me")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["username"], "tina")
        r = script.accept_terms()  # a POST with no CSRF header and no cookie
        self.assertEqual(r.status, 204, r)
        r = script.get(API + "/files")
        self.assertEqual(r.status, 200, r)
        # another token is different: shown once, never the same
        self.assertNotEqual(c.new_token("second"), token)

    def test_account_changes_and_deletion(self):
        c = self.participant("dana", bearer=False)
        other = self.login_as("dana")  # a second session
        me = c.get("/api/v1/me").json()
        self.assertEqual((me["email"], me["username"]), ("dana@example.org", "dana"))
        # the current password is needed for every change
        self.assertError(c.request("PUT", "/api/v1/me/email", json_body={"email": "d@example.org",
                                                                          "password": "nope"}), 403, "forbidden")
        r = c.request("PUT", "/api/v1/me/email", json_body={"email": "d@example.org", "password": harness.PASSWORD})
        self.assertEqual((r.status, r.json()), (200, {"email": "d@example.org"}))
        self.assertError(c.request("PUT", "/api/v1/me/email", json_body={"email": "not an address",
                                                                          "password": harness.PASSWORD}), 400,
                         "invalid_email")
        r = c.request("PUT", "/api/v1/me/password", json_body={"current": harness.PASSWORD,
                                                                "password": "another-long-passphrase"})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(c.get("/api/v1/me").status, 200)  # this session stays
        self.assertEqual(other.get("/api/v1/me").status, 401)  # the other one ended
        sid = c.upload(harness.sample_submission()).json()["id"]
        self.assertEqual(c.wait_done(sid)["status"], "scored")
        # deletion: the person goes, the submission and its score stay under "deleted-ID"
        self.assertError(c.request("DELETE", "/api/v1/me", json_body={"password": harness.PASSWORD}), 403,
                         "forbidden")
        r = c.request("DELETE", "/api/v1/me", json_body={"password": "another-long-passphrase"})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(c.get("/api/v1/me").status, 401)
        self.assertEqual(self.server.client().login("dana", password="another-long-passphrase").status, 401)
        gone = "deleted-%d" % me["id"]
        board = self.server.client().leaderboard().json()["rows"]
        self.assertIn(gone, [row["name"] for row in board])
        self.assertNotIn("dana", json.dumps(board))
        # the name is free again
        self.assertEqual(self.server.client().register("dana").status, 201)
    def test_token_scopes(self):
        c = self.participant("sol", bearer=False)
        r = c.post("/api/v1/tokens", {"name": "dashboard", "scope": "read"})
        self.assertEqual((r.status, r.json()["scope"]), (201, "read"), r)
        reader = self.server.client()
        reader.token = r.json()["token"]
        self.assertEqual(reader.get("/api/v1/me").status, 200)
        self.assertEqual(reader.get(API + "/submissions").status, 200)
        r = reader.upload(harness.sample_submission())
        self.assertError(r, 403, "forbidden")
        self.assertIn("only read", r.json()["error"]["message"])
        self.assertEqual(c.get(API + "/submissions").json(), [])  # nothing stored
        writer = self.server.client()
        writer.token = c.new_token("ci")
        self.assertEqual(writer.upload(harness.sample_submission()).status, 201)
        self.assertEqual({t["name"]: t["scope"] for t in c.get("/api/v1/tokens").json()},
                         {"dashboard": "read", "ci": "submit"})
        self.assertError(writer.request("PUT", "/api/v1/me/password", json_body={"current": PASSWORD,
                                                                                 "password": "x" * 12}), 403,
                         "forbidden")
        self.assertError(c.post("/api/v1/tokens", {"name": "x", "scope": "admin"}), 400, "bad_request")

    def test_tokens_are_listed_and_revoked(self):
        c = self.participant("tom", accept=False, bearer=False)
        token = c.new_token("laptop")
        script = self.server.client()
        script.token = token
        self.assertEqual(script.get("/api/v1/me").status, 200)
        listed = c.get("/api/v1/tokens").json()
        self.assertEqual([t["name"] for t in listed], ["laptop"])
        self.assertEqual(set(listed[0]), {"id", "name", "created_at", "last_used_at", "scope"})
        self.assertIsNotNone(listed[0]["last_used_at"])  # used just now
        self.assertNotIn(token, c.get("/api/v1/tokens").body.decode())
        # another user can neither see nor revoke it
        other = self.participant("tess", accept=False, bearer=False)
        self.assertEqual(other.get("/api/v1/tokens").json(), [])
        self.assertError(other.request("DELETE", "/api/v1/tokens/%d" % listed[0]["id"]), 404, "not_found")
        self.assertEqual(script.get("/api/v1/me").status, 200)
        # a token cannot manage tokens (nor the account): its owner revokes it after logging in; it stops at once
        self.assertError(script.request("DELETE", "/api/v1/tokens/%d" % listed[0]["id"]), 403, "forbidden")
        self.assertError(script.request("POST", "/api/v1/tokens", json_body={"name": "more"}), 403, "forbidden")
        r = c.request("DELETE", "/api/v1/tokens/%d" % listed[0]["id"])
        self.assertEqual(r.status, 204, r)
        self.assertEqual(script.get("/api/v1/me").status, 401)
        self.assertEqual(c.get("/api/v1/tokens").json(), [])
        self.assertError(c.request("DELETE", "/api/v1/tokens/abc"), 404, "not_found")

    def test_csrf_rules(self):
        c = self.participant("cecile", accept=False, bearer=False)
        sample = harness.sample_submission()
        # cookie without the X-CSRF-Token header, or with a wrong one
        self.assertError(c.request("POST", API + "/terms", json_body={"version": 1}, csrf=False),
                         403, "csrf_failed")
        self.assertError(c.request("POST", API + "/terms", json_body={"version": 1}, csrf=False,
                                   headers={"X-CSRF-Token": "0" * 32}), 403, "csrf_failed")
        self.assertFalse(c.challenge().json()["terms_accepted"])
        # the right token, but a cross-site request
        self.assertError(c.request("POST", API + "/terms", json_body={"version": 1},
                                   headers={"Sec-Fetch-Site": "cross-site"}), 403, "csrf_failed")
        self.assertFalse(c.challenge().json()["terms_accepted"])
        # the right token, same origin
        r = c.request("POST", API + "/terms", json_body={"version": 1}, headers={"Sec-Fetch-Site": "same-origin"})
        self.assertEqual(r.status, 204, r)
        # uploads and token creation follow the same rules
        self.assertError(c.request("POST", API + "/submissions", body=sample, csrf=False), 403, "csrf_failed")
        self.assertError(c.request("POST", "/api/v1/tokens", json_body={"name": "x"}, csrf=False),
                         403, "csrf_failed")
        self.assertError(c.request("DELETE", "/api/v1/sessions/current", csrf=False), 403, "csrf_failed")
        self.assertEqual(c.get(API + "/submissions").json(), [])
        # another user's CSRF token does not fit this session
        other = self.participant("cedric", accept=False, bearer=False)
        self.assertError(c.request("POST", API + "/submissions", body=sample, csrf=False,
                                   headers={"X-CSRF-Token": other.csrf}), 403, "csrf_failed")
        r = c.upload(sample)
        self.assertEqual(r.status, 201, r)
        # reading needs no CSRF token
        self.assertEqual(c.get("/api/v1/me").status, 200)

    def test_logout(self):
        c = self.participant("leo", accept=False, bearer=False)
        old_cookie, old_csrf = c.cookie, c.csrf
        r = c.request("DELETE", "/api/v1/sessions/current")
        self.assertEqual(r.status, 204, r)
        self.assertError(c.get("/api/v1/me"), 401, "unauthorized")
        self.assertError(c.post("/api/v1/tokens", {"name": "after logout"}), 401, "unauthorized")
        # a new login gets a new session; the old cookie stays dead
        r = c.login("leo")
        self.assertEqual(r.status, 200, r)
        self.assertNotEqual(c.cookie, old_cookie)
        self.assertNotEqual(c.csrf, old_csrf)
        self.assertEqual(c.get("/api/v1/me").status, 200)
        dead = self.server.client()
        dead.cookie, dead.csrf = old_cookie, old_csrf
        self.assertError(dead.get("/api/v1/me"), 401, "unauthorized")

    def test_other_participants_submission_is_not_found(self):
        sample = harness.sample_submission()
        owner = self.participant("owner")
        r = owner.upload(sample, description="mine only")
        self.assertEqual(r.status, 201, r)
        sid = r.json()["id"]
        self.assertEqual(owner.submission(sid).status, 200)

        snoop = self.participant("snoop")
        self.assertError(snoop.submission(sid), 404, "not_found")
        self.assertNotIn(sid, [s["id"] for s in snoop.get(API + "/submissions").json()])
        missing = snoop.submission(987654)
        self.assertError(missing, 404, "not_found")
        blank = lambda r: re.sub(rb"\d+", b"N", r.body)  # noqa: E731
        self.assertEqual(blank(snoop.submission(sid)), blank(missing))
        self.assertIn(snoop.submission("abc").status, (400, 404))
        self.assertError(self.server.client().submission(sid), 401, "unauthorized")
        # the organizer may read it
        staff = self.login_as("staff_org")
        r = staff.submission(sid)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["description"], "mine only")

    def test_private_leaderboard_forbidden_to_participants(self):
        c = self.participant("peeker", accept=False)
        self.assertError(c.leaderboard(query="?split=private"), 403, "forbidden")
        self.assertError(self.server.client().leaderboard(query="?split=private"), 403, "forbidden")
        self.assertEqual(c.leaderboard().status, 200)
        self.assertEqual(self.login_as("staff_org").leaderboard(query="?split=private").status, 200)

    def test_cli_user_while_running(self):
        """`concours user add` works while the server runs (SQLite WAL); the role is the one given."""
        self.server.add_user("late_jury", "jury")
        c = self.login_as("late_jury")
        r = c.get("/api/v1/me")
        self.assertEqual((r.status, r.json()["role"]), (200, "jury"))
        self.assertError(c.login("late_jury", "not-the-password"), 401, "invalid_credentials")

    def test_repeated_failures_are_rate_limited(self):
        """After 10 failed logins from one address, further attempts from it (even right ones) get 429 with
        Retry-After (tests/http/test_throttle.py covers other addresses, known clients and concurrency)."""
        c = self.server.client()
        self.assertEqual(c.register("guessed").status, 201)

        def login(password):  # from an address of its own (the server trusts 127.0.0.1 as its proxy)
            return c.request("POST", "/api/v1/sessions", json_body={"username": "guessed", "password": password},
                             headers={"X-Forwarded-For": "192.0.2.77"})
        for i in range(10):
            self.assertError(login("wrong-password-%02d" % i), 401, "invalid_credentials")
        limited = login("wrong-password-xx")
        self.assertError(limited, 429, "rate_limited")
        self.assertTrue((limited.header("Retry-After") or "").isdigit(), limited.headers)
        self.assertError(login(harness.PASSWORD), 429, "rate_limited")


if __name__ == "__main__":
    harness.main()
