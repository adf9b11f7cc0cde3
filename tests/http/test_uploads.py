#!/usr/bin/env python3
"""Uploads, black-box: every way the server must refuse or accept a submission. Quota race (20
concurrent uploads with one left -> exactly one 201), Idempotency-Key replay, upload before the terms,
after the deadline, before the opening, oversized (declared and chunked), empty, and a bad CSV that fails
to score without costing quota.
"""
import gzip
import io
import re
import socket
import tarfile
import time
import zipfile

import harness
from harness import ServerTest, phase, run_concurrently  # noqa: F401 (also imported by tests/lifecycle)

OPEN = ("2020-01-01T00:00:00Z", "2090-01-01T00:00:00Z")
MAX_UPLOAD_MB = 1


def submissions_of(client, slug):
    r = client.get("/api/v1/challenges/%s/submissions" % slug)
    assert r.status == 200, r
    return r.json()


class Uploads(ServerTest):
    MAX_UPLOAD_MB = MAX_UPLOAD_MB
    BUNDLES = [
        ("open-demo", [phase("development", *OPEN, max_per_day=50, max_total=200)]),
        ("one-left", [phase("development", *OPEN, max_per_day=5, max_total=1)]),
        ("two-a-day", [phase("development", *OPEN, max_per_day=2, max_total=10)]),
        ("closed-demo", [phase("development", "2019-01-01T00:00:00Z", "2020-01-01T00:00:00Z")]),
        ("future-demo", [phase("development", "2090-01-01T00:00:00Z", "2091-01-01T00:00:00Z")]),
        ("second-open", [phase("warm-up", "2019-01-01T00:00:00Z", "2020-01-01T00:00:00Z"),
                         phase("final", "2020-01-01T00:00:00Z", "2089-01-01T00:00:00Z")]),
    ]

    def test_list_shows_each_open_phase(self):
        """The challenge list (one query for all) names the same open phase and end as each challenge's own
        page: none before or after the phases, the second when the first is over."""
        anon = self.server.client()
        listed = {c["slug"]: c for c in anon.get("/api/v1/challenges").json()}
        self.assertEqual((listed["second-open"]["phase"], listed["second-open"]["ends_at"]),
                         ("final", "2089-01-01T00:00:00Z"))
        self.assertIsNone(listed["closed-demo"]["phase"])
        self.assertIsNone(listed["future-demo"]["ends_at"])
        for slug, item in listed.items():
            own = anon.challenge(slug).json()
            self.assertEqual((item["phase"], item["ends_at"]), (own["phase"], own["ends_at"]), slug)

    def test_quota_race(self):
        """20 concurrent uploads from one participant with one submission left: exactly one 201."""
        c = self.participant("racer", slug="one-left")
        sample = harness.sample_submission()
        results = run_concurrently(20, lambda i: c.upload(sample, slug="one-left", description="race %d" % i))
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses, [201] + [429] * 19, results)
        for r in results:
            if r.status == 429:
                self.assertError(r, 429, "quota_exceeded")
        self.assertEqual(len(submissions_of(c, "one-left")), 1)
        quota = c.challenge("one-left").json()["quota"]
        self.assertEqual((quota["used_total"], quota["left_total"]), (1, 0))

    def test_daily_quota(self):
        c = self.participant("daily", slug="two-a-day")
        for _ in range(2):
            r = c.upload(harness.sample_submission(), slug="two-a-day")
            self.assertEqual(r.status, 201, r)
        self.assertError(c.upload(harness.sample_submission(), slug="two-a-day"), 429, "quota_exceeded")
        quota = c.challenge("two-a-day").json()["quota"]
        self.assertEqual({k: quota[k] for k in ("used_today", "left_today", "used_total", "left_total")},
                         {"used_today": 2, "left_today": 0, "used_total": 2, "left_total": 8})
        self.assertEqual(len(submissions_of(c, "two-a-day")), 2)
        # quotas are per participant: someone else still has two
        other = self.participant("daily2", slug="two-a-day")
        self.assertEqual(other.upload(harness.sample_submission(), slug="two-a-day").status, 201)

    def test_formats_and_content_types(self):
        """The same predictions as CSV under any Content-Type (but multipart, refused: see the test below), gzip, zip
        and tar.gz all score the same."""
        c = self.participant("packer", slug="open-demo")
        sample = harness.sample_submission()
        expected = harness.log_loss(harness.parse_predictions(sample), "Public")
        uploads = [(sample, "application/octet-stream"), (sample, "text/plain; charset=latin1"),
                   (gzip.compress(sample), "application/gzip"), (zip_of(sample), "application/zip"),
                   (tar_gz_of(sample), "application/gzip")]
        ids = []
        for data, content_type in uploads:
            r = c.upload(data, slug="open-demo", content_type=content_type)
            self.assertEqual(r.status, 201, (content_type, r))
            ids.append(r.json()["id"])
        for sid, (_, content_type) in zip(ids, uploads):
            sub = c.wait_done(sid)
            self.assertEqual(sub["status"], "scored", (content_type, sub))
            self.assertScore(sub["public_score"], expected)

    def test_idempotency_replay(self):
        """The same Idempotency-Key twice from one user: the same id, one stored submission."""
        c = self.participant("replayer", slug="open-demo")
        sample = harness.sample_submission()
        r1 = c.upload(sample, slug="open-demo", key="key-0001")
        self.assertEqual(r1.status, 201, r1)
        r2 = c.upload(sample, slug="open-demo", key="key-0001")
        self.assertEqual(r2.status, 201, r2)
        self.assertEqual(r2.json()["id"], r1.json()["id"])
        self.assertEqual(len(submissions_of(c, "open-demo")), 1)
        self.assertEqual(c.challenge("open-demo").json()["quota"]["used_total"], 1)
        # another key is another submission; the same key from another user is that user's own
        r3 = c.upload(sample, slug="open-demo", key="key-0002")
        self.assertEqual(r3.status, 201, r3)
        self.assertNotEqual(r3.json()["id"], r1.json()["id"])
        other = self.participant("replayer2", slug="open-demo")
        r4 = other.upload(sample, slug="open-demo", key="key-0001")
        self.assertEqual(r4.status, 201, r4)
        self.assertNotIn(r4.json()["id"], (r1.json()["id"], r3.json()["id"]))
        self.assertEqual(len(submissions_of(c, "open-demo")), 2)
        self.assertEqual(len(submissions_of(other, "open-demo")), 1)

    def test_idempotency_concurrent(self):
        """Five concurrent uploads with one Idempotency-Key: all 201 with one id, one submission."""
        c = self.participant("twins", slug="open-demo")
        results = run_concurrently(5, lambda i: c.upload(harness.sample_submission(), slug="open-demo",
                                                         key="same-key"))
        self.assertEqual([r.status for r in results], [201] * 5, results)
        self.assertEqual(len({r.json()["id"] for r in results}), 1, results)
        self.assertEqual(len(submissions_of(c, "open-demo")), 1)

    def test_disconnect_mid_upload(self):
        """A client that disconnects mid-upload leaves no submission and uses no quota."""
        c = self.participant("quitter", slug="open-demo")
        head = ("POST /api/v1/challenges/open-demo/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Authorization: Bearer %s\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\n"
                % c.token).encode()
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        s.sendall(head + harness.sample_submission()[:3000])
        time.sleep(0.3)
        s.close()
        time.sleep(1.0)
        self.assertEqual(submissions_of(c, "open-demo"), [])
        self.assertEqual(c.challenge("open-demo").json()["quota"]["used_total"], 0)
        r = c.upload(harness.sample_submission(), slug="open-demo")
        self.assertEqual(r.status, 201, r)

    def test_before_terms(self):
        c = self.participant("hasty", accept=False)
        self.assertError(c.upload(harness.sample_submission(), slug="open-demo"), 403, "terms_not_accepted")
        self.assertEqual(submissions_of(c, "open-demo"), [])
        self.assertEqual(c.challenge("open-demo").json()["quota"]["used_total"], 0)

    def test_after_deadline(self):
        c = self.participant("late", slug="closed-demo")
        r = c.challenge("closed-demo")
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.json()["phase"])
        self.assertIsNone(r.json()["ends_at"])
        self.assertIsNone(r.json()["quota"])
        self.assertError(c.upload(harness.sample_submission(), slug="closed-demo"), 403, "phase_closed")
        self.assertEqual(submissions_of(c, "closed-demo"), [])
        # the client's clock does not matter
        self.assertError(c.request("POST", "/api/v1/challenges/closed-demo/submissions",
                                   body=harness.sample_submission(),
                                   headers={"Date": "Mon, 01 Jul 2019 00:00:00 GMT"}), 403, "phase_closed")

    def test_not_yet_open(self):
        c = self.participant("early", slug="future-demo")
        self.assertIsNone(c.challenge("future-demo").json()["phase"])
        self.assertError(c.upload(harness.sample_submission(), slug="future-demo"), 403, "phase_closed")
        self.assertEqual(submissions_of(c, "future-demo"), [])

    def test_oversized(self):
        c = self.participant("bulky", slug="open-demo")
        big = b"filename,relapse\n" + b"slide_000000.tif,0.5\n" * (MAX_UPLOAD_MB * 1024 * 1024 // 21 + 10)
        self.assertGreater(len(big), MAX_UPLOAD_MB * 1024 * 1024)
        head = ("POST /api/v1/challenges/open-demo/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Authorization: Bearer %s\r\nContent-Type: text/csv\r\n" % c.token)
        # declared: Content-Length above the cap
        status, raw = harness.raw_request(
            self.server.port, (head + "Content-Length: %d\r\n\r\n" % len(big)).encode(),
            send_chunks=[big[i:i + 65536] for i in range(0, len(big), 65536)])
        self.assertEqual(status, 413, raw[:500])
        self.assertIn(b'"too_large"', raw)
        # chunked: no length declared, the cap is counted while reading
        chunks = [b"%x\r\n%s\r\n" % (len(big[i:i + 65536]), big[i:i + 65536]) for i in range(0, len(big), 65536)]
        status, raw = harness.raw_request(
            self.server.port, (head + "Transfer-Encoding: chunked\r\n\r\n").encode(),
            send_chunks=chunks + [b"0\r\n\r\n"])
        self.assertEqual(status, 413, raw[:500])
        self.assertIn(b'"too_large"', raw)
        self.assertEqual(submissions_of(c, "open-demo"), [])
        self.assertEqual(c.challenge("open-demo").json()["quota"]["used_total"], 0)
        # just under the cap is accepted (and fails to score: its ids are wrong)
        fits = big[:MAX_UPLOAD_MB * 1024 * 1024 - 100]
        r = c.upload(fits, slug="open-demo")
        self.assertEqual(r.status, 201, r)

    def test_empty(self):
        c = self.participant("blank", slug="open-demo")
        self.assertError(c.upload(b"", slug="open-demo"), 400, "empty_file")
        self.assertEqual(submissions_of(c, "open-demo"), [])
        self.assertEqual(c.challenge("open-demo").json()["quota"]["used_total"], 0)

    def test_forms_and_spreadsheets_are_named(self):
        """A form upload (curl -F) is refused before anything is stored, saying what to send; a spreadsheet saved
        as .xlsx fails with a message that names it, not one about an archive of several files."""
        c = self.participant("formal", slug="open-demo")
        body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.csv\"\r\n"
                b"Content-Type: text/csv\r\n\r\n" + harness.sample_submission() + b"\r\n--XyZ--\r\n")
        r = c.upload(body, slug="open-demo", content_type="multipart/form-data; boundary=XyZ")
        self.assertError(r, 415, "unsupported_media_type")
        self.assertIn("--data-binary", r.json()["error"]["message"])
        self.assertEqual(submissions_of(c, "open-demo"), [])
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr("_rels/.rels", "<Relationships/>")
            z.writestr("xl/workbook.xml", "<workbook/>")
            z.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
        r = c.upload(buf.getvalue(), slug="open-demo", content_type="application/octet-stream")
        self.assertEqual(r.status, 201, r)
        sub = c.wait_done(r.json()["id"])
        self.assertEqual(sub["status"], "failed", sub)
        self.assertIn("Excel workbook (.xlsx)", sub["error"]["message"])
        self.assertIn("save the sheet as CSV", sub["error"]["message"])

    def test_bad_csv_fails_without_using_quota(self):
        """A file the scorer rejects is accepted, ends failed with a participant-safe message, and costs
        nothing: with one submission allowed, a valid upload still goes through afterwards."""
        c = self.participant("clumsy", slug="one-left")
        bad_files = [
            b"filename,relapse\nslide_000001.tif,0.5\n",                 # ids missing
            b"id,prediction\n" + harness.sample_submission().split(b"\n", 1)[1],  # wrong header
            harness.sample_submission().replace(b",0.22", b",1.7", 1),  # probability outside [0,1]
            b"\x00\x01\x02 not a csv at all \xff\xfe",
        ]
        for data in bad_files:
            r = c.upload(data, slug="one-left")
            self.assertEqual(r.status, 201, r)
            sub = c.wait_done(r.json()["id"])
            self.assertEqual(sub["status"], "failed", sub)
            self.assertIsNone(sub["public_score"])
            self.assertTrue(sub["error"]["code"], sub)
            self.assertTrue(isinstance(sub["error"]["message"], str) and sub["error"]["message"], sub)
            self.assertNotIn("private", sub["error"]["message"].lower(), sub)
            self.assertNotIn("solution.csv", sub["error"]["message"], sub)
            self.assertNotIn(self.server.tmp, str(sub["error"]), sub)
            quota = c.challenge("one-left").json()["quota"]
            self.assertEqual((quota["used_total"], quota["left_total"]), (0, 1), (data[:40], quota))
        self.assertNotIn("clumsy", [row["name"] for row in c.leaderboard("one-left").json()["rows"]])
        r = c.upload(harness.sample_submission(), slug="one-left")
        self.assertEqual(r.status, 201, r)
        self.assertError(c.upload(harness.sample_submission(), slug="one-left"), 429, "quota_exceeded")
        self.assertEqual(c.wait_done(r.json()["id"])["status"], "scored")
        self.assertIn("clumsy", [row["name"] for row in c.leaderboard("one-left").json()["rows"]])
        self.assertEqual(len(submissions_of(c, "one-left")), 5)

    def test_private_rows_fail_like_public_rows(self):
        """An error caused by the private part of the data looks the same as one caused by the public
        part (SECURITY.md 21): same code, same message once ids and numbers are blanked."""
        c = self.participant("prober", slug="open-demo")
        sol = harness.solution()
        first = {usage: next(r["filename"] for r in sol if r["Usage"] == usage) for usage in ("Public", "Private")}
        sample = harness.sample_submission().decode()
        errors = {}
        for usage, name in first.items():
            variants = {
                "missing": sample.replace(name + ",0.22\n", ""),
                "nan": sample.replace(name + ",0.22", name + ",nan"),
                "out of range": sample.replace(name + ",0.22", name + ",-0.5"),
            }
            for kind, text in variants.items():
                self.assertNotEqual(text, sample)
                r = c.upload(text.encode(), slug="open-demo")
                self.assertEqual(r.status, 201, r)
                sub = c.wait_done(r.json()["id"])
                self.assertEqual(sub["status"], "failed", (usage, kind, sub))
                msg = re.sub(r"\d+", "N", sub["error"]["message"].replace(name, "ID"))
                errors[(usage, kind)] = (sub["error"]["code"], msg)
        for kind in ("missing", "nan", "out of range"):
            self.assertEqual(errors[("Public", kind)], errors[("Private", kind)], kind)


def zip_of(data):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("predictions.csv", data)
    return out.getvalue()


def tar_gz_of(data):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as t:
        info = tarfile.TarInfo("predictions.csv")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return out.getvalue()


if __name__ == "__main__":
    harness.main()
