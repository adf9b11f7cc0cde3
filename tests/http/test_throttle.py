"""Login throttling (issue 10, item 5), with the server trusting 127.0.0.1 as its proxy so that each test client
can come from its own address (X-Forwarded-For, as nginx sets it):
- 60 concurrent wrong guesses from one address cost exactly 10 password checks (10 answers 401, 50 answers 429):
  the check and the count run in one transaction;
- a stranger who fails 10 times is stopped at his address, for every username;
- the owner, from an address the account logged in from before, still logs in with the right password; a new
  address meets the account's back-off until the window passes;
- a forged X-Forwarded-For from a client that is not the trusted proxy changes nothing.

    python3 test_throttle.py --concours build/concours --source .
"""
import harness


class Throttle(harness.ServerTest):
    @classmethod
    def make_server(cls):
        return harness.Server(cls.BUNDLES, cls.MAX_UPLOAD_MB, extra_args=["--trusted-proxy", "127.0.0.1"])

    def login_from(self, address, username, password=harness.PASSWORD):
        c = self.server.client()
        r = c.request("POST", "/api/v1/sessions", json_body={"username": username, "password": password},
                      headers={"X-Forwarded-For": "203.0.113.250, " + address})
        return r

    def test_concurrent_guesses_are_counted(self):
        self.assertEqual(self.server.client().register("target1").status, 201)
        results = harness.run_concurrently(60, lambda i: self.login_from("10.1.1.1", "target1", "wrong-%02d" % i))
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses.count(401), 10, statuses)
        self.assertEqual(statuses.count(429), 50, statuses)

    def test_stranger_cannot_lock_the_owner_out(self):
        owner = self.server.client()
        self.assertEqual(owner.register("owner2").status, 201)
        self.assertEqual(self.login_from("10.2.2.2", "owner2").status, 200)  # the owner's usual address
        for i in range(10):
            self.assertError(self.login_from("10.6.6.6", "owner2", "guess-%02d" % i), 401, "invalid_credentials")
        # the stranger is stopped at his address, whatever the username
        self.assertError(self.login_from("10.6.6.6", "owner2"), 429, "rate_limited")
        self.assertError(self.login_from("10.6.6.6", "someone-else"), 429, "rate_limited")
        # the owner, from a known address, gets in with the right password
        self.assertEqual(self.login_from("10.2.2.2", "owner2").status, 200)
        # a new address meets the account's back-off, even with the right password
        limited = self.login_from("10.3.3.3", "owner2")
        self.assertError(limited, 429, "rate_limited")
        self.assertTrue(0 < int(limited.header("Retry-After")) <= 900, limited.headers)
        # other accounts from other addresses are untouched
        self.assertEqual(self.server.client().register("bystander2").status, 201)
        self.assertEqual(self.login_from("10.4.4.4", "bystander2").status, 200)

    def test_forged_header_from_an_untrusted_peer(self):
        """Only the trusted proxy's X-Forwarded-For counts; garbage in it falls back to the peer's address."""
        self.assertEqual(self.server.client().register("target3").status, 201)
        for i in range(10):
            r = self.server.client().request("POST", "/api/v1/sessions",
                                             json_body={"username": "target3", "password": "bad-%02d" % i},
                                             headers={"X-Forwarded-For": "x'); DROP TABLE users; --"})
            self.assertError(r, 401, "invalid_credentials")
        # the garbage header fell back to the proxy's own address (127.0.0.1), now blocked: not a new client each time
        r = self.server.client().request("POST", "/api/v1/sessions",
                                         json_body={"username": "target3", "password": "bad"},
                                         headers={"X-Forwarded-For": "not an address"})
        self.assertError(r, 429, "rate_limited")


if __name__ == "__main__":
    harness.main()
