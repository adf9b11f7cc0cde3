#!/usr/bin/env python3
"""Method descriptions ("fact sheets", issue 14, docs/factsheets.md). A phase that requires them: teams send a PDF
or a Markdown file (with an optional link) until publication; anything else, an empty or oversized file, a bad
link, a challenge that asks for none, a team member of another team are refused with their codes; the jury
downloads each one from the review, refuses one with a reason (the team sees it and sends a new one, pending
again) and accepts the others, audited; publication is refused (409 fact_sheet_missing, naming the team) while a
ranked team lacks an accepted one, and a disqualified team does not count; the signed ranking carries each
accepted sheet's SHA-256, and nothing changes after publication.
"""
import hashlib
import json
import os

import lifeharness as life
from lifeharness import DAY, HOUR, T0, api

SLUG = "methods"
OTHER = "no-methods"
END = T0 + DAY
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
MARKDOWN = "# Our method\n\nGradient boosting on the metadata, 5-fold CV. Données anonymisées.\n".encode("utf-8")


class FactSheets(life.ClockTest):
    START = T0 + HOUR
    USERS = [("jules", "jury"), ("orso", "organizer")]
    BUNDLES = [(SLUG, [life.phase_at("final", T0, END, max_per_day=10, max_total=20, fact_sheet="required")], 2),
               (OTHER, [life.phase_at("final", T0, END, max_per_day=10, max_total=20)], 2)]

    def put(self, client, data, link=None, slug=SLUG):
        path = api(slug, "/fact-sheet") + ("?link=" + life.harness.urlquote(link) if link else "")
        return client.request("PUT", path, body=data, headers={"Content-Type": "application/octet-stream"})

    def test_fact_sheets_gate_the_publication(self):
        jules, orso = self.staff("jules"), self.staff("orso")
        anon = self.server.client()
        self.contest(SLUG)
        alice, bob, carol = self.clients["alice"], self.clients["bob"], self.clients["carol"]
        self.assertEqual(alice.challenge(SLUG).json()["fact_sheets"], "required")
        self.assertEqual(alice.challenge(OTHER).json()["fact_sheets"], "none")

        # refusals, each with its code
        self.assertError(alice.get(api(SLUG, "/fact-sheet")), 404, "not_found")  # none yet
        self.assertError(self.put(alice, b"\x89PNG\r\n\x1a\n\x00\x00binary"), 415, "unsupported_media_type")
        self.assertError(self.put(alice, b""), 400, "empty_file")
        self.assertError(self.put(alice, b"%PDF-" + b"x" * (5 * 1024 * 1024)), 413, "too_large")
        self.assertError(self.put(alice, MARKDOWN, link="javascript:alert(1)"), 400, "bad_request")
        self.assertError(self.put(alice, MARKDOWN, link="https://x.org/a b"), 400, "bad_request")
        self.assertError(self.put(anon, MARKDOWN), 401, "unauthorized")
        self.assertError(self.put(alice, MARKDOWN, slug=OTHER), 403, "terms_not_accepted")
        self.assertEqual(alice.accept_terms(OTHER).status, 204)
        self.assertError(self.put(alice, MARKDOWN, slug=OTHER), 404, "not_found")  # it asks for none

        # Alpha (alice and amir) sends a PDF with a link; bob a Markdown file; carol nothing yet
        r = self.put(alice, PDF, link="https://example.org/alpha-code")
        self.assertEqual(r.status, 200, r)
        sheet = r.json()
        self.assertEqual((sheet["status"], sheet["kind"], sheet["size"], sheet["link"], sheet["required"]),
                         ("pending", "pdf", len(PDF), "https://example.org/alpha-code", True))
        self.assertEqual(sheet["sha256"], hashlib.sha256(PDF).hexdigest())
        amir = self.clients["amir"]
        self.assertEqual(amir.get(api(SLUG, "/fact-sheet")).json()["sha256"], sheet["sha256"])  # the team's
        self.assertEqual(amir.get(api(SLUG, "/fact-sheet/file")).body, PDF)
        self.assertEqual(self.put(bob, MARKDOWN).json()["kind"], "markdown")
        self.assertError(carol.get(api(SLUG, "/fact-sheet")), 404, "not_found")

        # the jury sees them on the review, downloads them; participants may not
        review = self.review(jules, SLUG)
        self.assertEqual(review["fact_sheets"], "required")
        rows = {row["team"]: row for row in review["rows"]}
        self.assertEqual(rows["Alpha"]["fact_sheet"]["status"], "pending")
        self.assertIsNone(rows["carol"]["fact_sheet"])
        team = {name: row["team_id"] for name, row in rows.items()}
        got = jules.get(api(SLUG, "/teams/%d/fact-sheet/file" % team["bob"]))
        self.assertEqual((got.status, got.body), (200, MARKDOWN))
        self.assertTrue(got.header("Content-Type").startswith("text/markdown"), got.headers)
        self.assertIn("attachment", got.header("Content-Disposition"))
        pdf = orso.get(api(SLUG, "/teams/%d/fact-sheet/file" % team["Alpha"]))
        self.assertEqual((pdf.status, pdf.header("Content-Type")), (200, "application/pdf"))
        self.assertError(carol.get(api(SLUG, "/teams/%d/fact-sheet/file" % team["bob"])), 403, "forbidden")
        self.assertError(jules.get(api(SLUG, "/teams/%d/fact-sheet/file" % team["carol"])), 404, "not_found")

        # the verdicts: jury only, a reason each, audited
        self.assertError(self.act(orso, api(SLUG, "/teams/%d/fact-sheet/accept" % team["bob"])), 403, "forbidden")
        self.assertError(jules.post(api(SLUG, "/teams/%d/fact-sheet/accept" % team["bob"]), {}), 400,
                         "missing_field")
        r = self.act(jules, api(SLUG, "/teams/%d/fact-sheet/refuse" % team["bob"]), "no validation scheme given")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["status"], r.json()["reason"]), ("refused", "no validation scheme given"))
        mine = bob.get(api(SLUG, "/fact-sheet")).json()
        self.assertEqual((mine["status"], mine["reason"]), ("refused", "no validation scheme given"))
        self.assertEqual(self.act(jules, api(SLUG, "/teams/%d/fact-sheet/accept" % team["Alpha"]),
                                  "clear and complete").status, 200)

        # publication waits for every ranked team's accepted sheet
        self.set_clock(END + HOUR)
        r = self.act(jules, api(SLUG, "/publish"), "final")
        self.assertError(r, 409, "fact_sheet_missing")
        self.assertIn("2 ranked team(s)", r.json()["error"]["message"])
        self.assertIn("bob", r.json()["error"]["message"])
        self.assertIn("carol", r.json()["error"]["message"])
        # bob sends a new one (pending again); the jury accepts it; carol's team is disqualified instead
        better = MARKDOWN + b"\nValidation: 5-fold CV on the training slides.\n"
        r = self.put(bob, better)
        self.assertEqual((r.status, r.json()["status"]), (200, "pending"), r)
        self.assertIsNone(r.json()["reason"])
        self.assertEqual(self.act(jules, api(SLUG, "/teams/%d/fact-sheet/accept" % team["bob"]), "ok now").status,
                         200)
        self.assertError(self.act(jules, api(SLUG, "/publish"), "final"), 409, "fact_sheet_missing")
        self.assertEqual(self.act(jules, api(SLUG, "/teams/%d/disqualify" % team["carol"]), "no method").status, 200)
        r = self.act(jules, api(SLUG, "/publish"), "final")
        self.assertEqual(r.status, 200, r)

        # the signed ranking names the accepted methods; the audit log has the verdicts
        doc = json.loads(anon.get(api(SLUG, "/ranking")).body)
        by_team = {row["team"]: row for row in doc["rows"]}
        self.assertEqual(by_team["Alpha"]["fact_sheet_sha256"], hashlib.sha256(PDF).hexdigest())
        self.assertEqual(by_team["bob"]["fact_sheet_sha256"], hashlib.sha256(better).hexdigest())
        self.assertNotIn("carol", by_team)
        audit = orso.get("/api/v1/audit?challenge=" + SLUG)
        self.assertEqual(audit.status, 200, audit)
        actions = [e["action"] for e in audit.json()]
        self.assertEqual(actions.count("fact_sheet.accept"), 2)
        self.assertEqual(actions.count("fact_sheet.refuse"), 1)
        # frozen after publication
        self.assertError(self.put(alice, MARKDOWN), 409, "published")
        self.assertError(self.act(jules, api(SLUG, "/teams/%d/fact-sheet/refuse" % team["Alpha"])), 409, "published")
        # the replaced file of bob is gone from the store; the accepted ones stay
        store = os.path.join(self.server.data, "submissions")
        names = {n for _, _, files in os.walk(store) for n in files}
        self.assertIn(hashlib.sha256(better).hexdigest(), names)
        self.assertNotIn(hashlib.sha256(MARKDOWN).hexdigest(), names)


if __name__ == "__main__":
    life.main()
