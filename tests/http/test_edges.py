"""HTTP edges (issue 10, item 6): static paths refuse ambiguous framing like the API does (no smuggled second
request); every error reply carries the reason phrase of its status; the API answers 503 "starting" (with
Retry-After) until it is ready, never a 404 that looks like a missing endpoint; downloads are audited once per
user, file and hour (a HEAD not at all), not once per request; a file of several read chunks comes whole and by
ranges byte for byte.

    python3 test_edges.py --concours build/concours --source .
"""
import os
import sqlite3
import tempfile
import time
import unittest

import harness


class Edges(harness.ServerTest):
    def test_static_framing_refused(self):
        for extra in (b"Content-Length: 0\r\nContent-Length: 5\r\n", b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"):
            req = (b"GET /index.html HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\nhello"
                   b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
            status, raw = harness.raw_request(self.server.port, req)
            self.assertEqual(status, 400, raw[:200])
            self.assertEqual(raw.count(b"HTTP/1.1 "), 1, "one answer: the smuggled request is never served")
            self.assertIn(b"HTTP/1.1 400 Bad Request", raw)

    def test_reason_phrases(self):
        status, raw = harness.raw_request(self.server.port, b"GET /no-such-page.html HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(status, 404)
        self.assertTrue(raw.startswith(b"HTTP/1.1 404 Not Found\r\n"), raw[:80])
        # a web address that does not exist gets a page with the way home, not JSON
        self.assertIn(b"Content-Type: text/html", raw)
        self.assertIn(b"<h1>Page not found</h1>", raw)
        self.assertIn(b'href="/"', raw)
        self.assertIn(b"Content-Security-Policy", raw)
        status, raw = harness.raw_request(self.server.port, b"GET /api/v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 404 Not Found\r\n"), raw[:80])
        self.assertIn(b'"code":"not_found"', raw)
        status, raw = harness.raw_request(self.server.port, b"DELETE /api/v1/challenges HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 405 Method Not Allowed\r\n"), raw[:80])

    def test_download_audited_per_hour(self):
        c = self.participant("dora")
        files = c.get("/api/v1/challenges/%s/files" % harness.DEMO_SLUG).json()
        name = files[0]["name"]
        path = "/api/v1/challenges/%s/files/%s" % (harness.DEMO_SLUG, name)
        for _ in range(5):
            self.assertEqual(c.get(path).status, 200)
        self.assertEqual(c.request("HEAD", path).status, 200)
        self.assertEqual(c.get(path, headers={"Range": "bytes=0-9"}).status, 206)
        db = sqlite3.connect(os.path.join(self.server.data, "concours.db"))
        try:
            n = db.execute("SELECT count(*) FROM audit_log WHERE action='dataset.download' AND actor='dora'").fetchone()[0]
        finally:
            db.close()
        self.assertEqual(n, 1, "seven requests in one hour: one audit entry")


    def test_expect_100_continue(self):
        """A client that waits for 100 Continue (curl above 1 MiB) gets it at once when the upload is accepted, and
        a final refusal, without 100 Continue, when it is not (the body is never sent)."""
        import socket
        c = self.participant("expecter")
        body = harness.sample_submission()
        head = ("POST /api/v1/challenges/%s/submissions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: text/csv\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                % (harness.DEMO_SLUG, c.token, len(body))).encode()
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=60)
        try:
            s.sendall(head)
            first = s.recv(4096)  # waits: the body is not sent until the server says so
            self.assertTrue(first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), first[:80])
            s.sendall(body)
            rest = first[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
            while b"\r\n\r\n" not in rest:
                rest += s.recv(4096)
            self.assertTrue(rest.startswith(b"HTTP/1.1 201 Created"), rest[:80])
        finally:
            s.close()
        # refused (no terms accepted): a final answer, no 100 Continue, the body never sent
        stranger = self.participant("no_terms", accept=False)
        head = head.replace(c.token.encode(), stranger.token.encode())
        status, raw = harness.raw_request(self.server.port, head)
        self.assertEqual(status, 403, raw[:120])
        self.assertNotIn(b"100 Continue", raw)


    def test_leaderboard_etag(self):
        """The public leaderboard carries an ETag; the same ETag in If-None-Match gets 304 and no body; a scoring
        changes the board, its ETag and its rows (it is built once per change, then served as is)."""
        anon = self.server.client()
        first = anon.leaderboard()
        tag = first.header("ETag")
        self.assertTrue(tag and tag.startswith('"'), first.headers)
        again = anon.leaderboard()
        self.assertEqual((again.header("ETag"), again.body), (tag, first.body))
        r = anon.get("/api/v1/challenges/%s/leaderboard" % harness.DEMO_SLUG, headers={"If-None-Match": tag})
        self.assertEqual((r.status, r.body), (304, b""))
        c = self.participant("etagger")
        sid = c.upload(harness.sample_submission()).json()["id"]
        self.assertEqual(c.wait_done(sid)["status"], "scored")
        after = anon.get("/api/v1/challenges/%s/leaderboard" % harness.DEMO_SLUG, headers={"If-None-Match": tag})
        self.assertEqual(after.status, 200)
        self.assertNotEqual(after.header("ETag"), tag)
        self.assertIn("etagger", [row["name"] for row in after.json()["rows"]])


    def test_leaderboard_pages_search_gzip(self):
        """A large board is read a page at a time (?limit=&offset=, ranks kept), searched by team name (?q=,
        case-insensitive), and sent gzip'd to a client that takes it (the same JSON, another ETag); bad paging
        parameters get 400."""
        import gzip
        for name in ("Pager-Alpha", "pager-beta", "zeta-pages"):
            c = self.participant(name)
            sid = c.upload(harness.sample_submission()).json()["id"]
            self.assertEqual(c.wait_done(sid)["status"], "scored")
        anon = self.server.client()
        base = "/api/v1/challenges/%s/leaderboard" % harness.DEMO_SLUG
        whole = anon.get(base).json()
        n = len(whole["rows"])
        self.assertGreaterEqual(n, 3)
        page = anon.get(base + "?limit=2").json()
        self.assertEqual((page["total"], page["matched"], page["offset"], page["limit"]), (n, n, 0, 2))
        self.assertEqual(page["rows"], whole["rows"][:2])
        rest = anon.get(base + "?limit=2&offset=2").json()
        self.assertEqual(rest["rows"], whole["rows"][2:4])
        last = anon.get(base + "?limit=5&offset=%d" % (n - 1)).json()  # a page cut short by the board's end
        self.assertEqual(last["rows"], whole["rows"][n - 1:])
        beyond = anon.get(base + "?offset=%d" % n).json()
        self.assertEqual((beyond["rows"], beyond["total"], beyond["limit"]), ([], n, 100))
        self.assertEqual(anon.get(base + "?limit=1000").json()["rows"], whole["rows"])
        self.assertEqual(anon.get(base + "?q=&limit=2").json()["rows"], whole["rows"][:2])
        # a page has an ETag of its own: the same page again is 304, another page or a changed board is not
        tag = anon.get(base + "?limit=2").header("ETag")
        self.assertTrue(tag)
        self.assertEqual(anon.get(base + "?limit=2", headers={"If-None-Match": tag}).status, 304)
        for other in ("?limit=3", "?limit=2&offset=1", "?limit=2&q=pager"):
            self.assertNotEqual(anon.get(base + other).header("ETag"), tag)
            self.assertEqual(anon.get(base + other, headers={"If-None-Match": tag}).status, 200)
        late = self.participant("late-lister")
        sid = late.upload(harness.sample_submission()).json()["id"]
        self.assertEqual(late.wait_done(sid)["status"], "scored")
        self.assertEqual(anon.get(base + "?limit=2", headers={"If-None-Match": tag}).status, 200)
        whole = anon.get(base).json()
        self.assertEqual(page["metric"], whole["metric"])
        found = anon.get(base + "?q=PAGER").json()
        self.assertEqual(sorted(r["name"] for r in found["rows"]), ["Pager-Alpha", "pager-beta"])
        self.assertEqual(found["matched"], 2)
        expected_ranks = [r["rank"] for r in whole["rows"] if "pager" in r["name"].lower()]
        self.assertEqual([r["rank"] for r in found["rows"]], expected_ranks)
        self.assertEqual(anon.get(base + "?q=nobody-has-this").json()["rows"], [])
        for bad in ("?limit=0", "?limit=1001", "?limit=x", "?offset=-1", "?q=" + "a" * 65):
            self.assertError(anon.get(base + bad), 400, "bad_request")
        plain = anon.get(base)
        gz = anon.get(base, headers={"Accept-Encoding": "gzip"})
        self.assertEqual(gz.header("Content-Encoding"), "gzip")
        self.assertIn("Accept-Encoding", gz.header("Vary"))
        self.assertEqual(gzip.decompress(gz.body), plain.body)
        self.assertNotEqual(gz.header("ETag"), plain.header("ETag"))
        again = anon.get(base, headers={"Accept-Encoding": "gzip", "If-None-Match": gz.header("ETag")})
        self.assertEqual(again.status, 304)
        refused = anon.get(base, headers={"Accept-Encoding": "gzip;q=0"})
        self.assertIsNone(refused.header("Content-Encoding"))
        self.assertEqual(refused.body, plain.body)


class LargeDownload(harness.ServerTest):
    """A data file of several of the server's 256 KiB read chunks, whole and by ranges that cross chunk bounds."""

    @classmethod
    def make_server(cls):
        server = harness.Server()
        bundle = os.path.join(server.challenges, harness.DEMO_SLUG)
        # about 1.3 MB of numbers (nothing the anonymity gate flags), lines of varied lengths: chunks end mid-line
        cls.data = b"row,value\n" + b"".join(b"%d,%d\n" % (i, i * 2654435761 % 1000003) for i in range(100000))
        harness.add_data(bundle, "large_values.csv", cls.data)
        return server

    def test_whole_and_ranges(self):
        c = self.participant("large")
        path = "/api/v1/challenges/%s/files/large_values.csv" % harness.DEMO_SLUG
        data, chunk = self.data, 256 * 1024
        self.assertGreater(len(data), 4 * chunk)
        r = c.get(path)
        self.assertEqual((r.status, len(r.body)), (200, len(data)), r)
        self.assertEqual(r.body, data)
        for a, b in ((chunk - 1, chunk), (1, 3 * chunk + 7), (chunk + 5, len(data) - 1), (len(data) - chunk - 3, None)):
            rng = "bytes=%d-%s" % (a, "" if b is None else b)
            r = c.get(path, headers={"Range": rng})
            end = len(data) - 1 if b is None else b
            self.assertEqual(r.status, 206, rng)
            self.assertEqual(r.header("Content-Range"), "bytes %d-%d/%d" % (a, end, len(data)), rng)
            self.assertEqual(r.body, data[a:end + 1], rng)


class Starting(unittest.TestCase):
    def test_503_until_ready(self):
        with tempfile.TemporaryDirectory() as tmp:
            ready = os.path.join(tmp, "ready")
            srv = harness.Server(extra_args=["--test-ready-file", ready])
            srv.start()
            try:
                c = srv.client()
                r = c.get("/api/v1/challenges")
                self.assertEqual(r.status, 503, r)
                self.assertEqual(r.error_code(), "starting")
                self.assertEqual(r.header("Retry-After"), "1")
                self.assertEqual(c.get("/index.html").status, 200, "static files are served meanwhile")
                open(ready, "w").close()
                deadline = time.time() + 30
                while c.get("/api/v1/challenges").status != 200:
                    self.assertLess(time.time(), deadline, "the API never became ready")
                    time.sleep(0.05)
            finally:
                srv.stop(check=True)


if __name__ == "__main__":
    harness.main()
