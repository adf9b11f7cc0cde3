#!/usr/bin/env python3
"""The signed ranking and the audit log. Before publication /ranking is 404; after it the exact signed bytes
(canonical JSON with the private order and scores), their Ed25519 signature in base64 and the server's public
key in PEM verify with `openssl pkeyutl` and `concours verify`, and both fail once one byte changes. The audit
log holds the terms acceptances, the dataset download, the jury's note and the publication;
`concours audit verify` accepts it, the triggers refuse an UPDATE, and once they are dropped a one-byte change
of a reason makes `concours audit verify` exit 1 naming that entry.
"""
import base64
import hashlib
import json
import os
import stat
import subprocess
import tempfile
import unittest

import lifeharness as life
from lifeharness import DAY, HOUR, T0, api, iso

SLUG = "ranked"
END = T0 + DAY
NOTE = "A2 and B1 were compared by hand"
PUBLISH = "final ranking approved by the jury"
ENTRY_KEYS = {"id", "at", "actor", "action", "challenge", "target", "reason", "details"}


def harness_solution_sha256():
    with open(os.path.join(life.harness.demo_dir(), "private", "solution.csv"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def sorted_keys_hook(pairs):
    keys = [k for k, _ in pairs]
    if keys != sorted(keys):
        raise AssertionError("keys not sorted: %r" % keys)
    return dict(pairs)


class Ranking(life.ClockTest):
    START = T0 + HOUR
    USERS = [("juno", "jury")]
    BUNDLES = [(SLUG, [life.phase_at("final", T0, END, max_per_day=10, max_total=20, final_selection=2)], 2)]

    def sqlite(self, sql):
        r = subprocess.run(["sqlite3", self.server.db(), sql], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=30)
        return r.returncode, r.stdout.decode("utf-8", "replace")

    def openssl_verify(self, folder, data_name, sig_name):
        r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", os.path.join(folder, "key.pem"),
                            "-rawin", "-in", os.path.join(folder, data_name),
                            "-sigfile", os.path.join(folder, sig_name)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        return r.returncode

    def concours_verify(self, folder, data_name, sig_name):
        return self.server.cli("verify", os.path.join(folder, data_name), os.path.join(folder, sig_name),
                               os.path.join(folder, "key.pem"))[0]
    def test_signed_ranking_and_audit(self):
        juno = self.staff("juno")
        anon = self.server.client()
        self.contest(SLUG)
        alice = self.clients["alice"]
        r = alice.get(api(SLUG, "/files/train_metadata.csv"))
        self.assertEqual(r.status, 200, r)

        # the key is made at first start, private part mode 0600; the public part is served
        key_file = os.path.join(self.server.data, "signing-key.pem")
        self.assertEqual(stat.S_IMODE(os.stat(key_file).st_mode), 0o600)
        key = anon.get("/api/v1/signing-key")
        self.assertEqual(key.status, 200, key)
        self.assertIn(b"-----BEGIN PUBLIC KEY-----", key.body)
        self.assertNotIn(b"PRIVATE", key.body)

        # nothing to see before publication
        for c in (alice, anon):
            self.assertError(c.get(api(SLUG, "/ranking")), 404, "not_found")
            self.assertEqual(c.get(api(SLUG, "/ranking.sig")).status, 404)

        self.assertEqual(self.act(juno, api(SLUG, "/notes"), NOTE, submission_id=self.ids["A2"]).status, 201)

        # the jury's stability analysis (API.md section 6). Each team loses the same log loss on every private
        # case, so every bootstrap sample ranks them alike and every paired test is one-sided certain.
        stab = juno.get(api(SLUG, "/review/stability?bootstrap=200&seed=3"))
        self.assertEqual(stab.status, 200, stab)
        st = stab.json()
        self.assertEqual((st["split"], st["bootstrap"], st["seed"], st["test"]), ("private", 200, 3, "wilcoxon"))
        self.assertEqual([(t["team"], t["rank"], t["rank_ci"]) for t in st["teams"]],
                         [("carol", 1, [1, 1]), ("bob", 2, [2, 2]), ("Alpha", 3, [3, 3])])
        self.assertEqual([t["rank_freq"] for t in st["teams"]], [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
        self.assertEqual(st["kendall_tau"], {"median": 1, "q05": 1})
        self.assertEqual(st["groups"], [["carol"], ["bob"], ["Alpha"]])
        pairs = {(p["a"], p["b"]): p for p in st["pairs"]}
        self.assertEqual(len(pairs), 6)
        self.assertLess(pairs[("carol", "bob")]["p_holm"], 1e-6)
        self.assertTrue(pairs[("carol", "bob")]["a_better"])
        self.assertEqual(pairs[("bob", "carol")]["p"], 1)
        self.assertEqual(juno.get(api(SLUG, "/review/stability?bootstrap=200&seed=3")).body, stab.body)
        export = juno.get(api(SLUG, "/review/export?format=json")).json()
        self.assertEqual([(x["team"], x["tie_group"], x["stability_rank_ci"]) for x in export],
                         [("carol", 1, [1, 1]), ("bob", 2, [2, 2]), ("Alpha", 3, [3, 3])])
        csv_head = juno.get(api(SLUG, "/review/export?format=csv")).body.split(b"\n")[0]
        self.assertIn(b'"tie_group"', csv_head)
        self.assertError(alice.get(api(SLUG, "/review/stability")), 403, "forbidden")
        self.assertError(juno.get(api(SLUG, "/review/stability?bootstrap=0")), 400, "bad_request")
        self.set_clock(END + 2 * HOUR)
        r = self.act(juno, api(SLUG, "/publish"), PUBLISH)
        self.assertEqual(r.status, 200, r)
        published = r.json()

        # the signed document: canonical JSON, the private order, the sha256 the publication returned
        ranking = alice.get(api(SLUG, "/ranking"))
        self.assertEqual(ranking.status, 200, ranking)
        self.assertTrue(ranking.header("Content-Type").startswith("application/json"), ranking.headers)
        self.assertEqual(anon.get(api(SLUG, "/ranking")).body, ranking.body)
        self.assertEqual(hashlib.sha256(ranking.body).hexdigest(), published["sha256"])
        self.assertNotIn(b" ", ranking.body)
        self.assertNotIn(b"\n", ranking.body)
        doc = json.loads(ranking.body.decode("utf-8"), object_pairs_hook=sorted_keys_hook)
        self.assertLessEqual({"challenge", "metric", "higher_is_better", "published_at", "rows"}, set(doc))
        self.assertEqual((doc["challenge"], doc["metric"], doc["higher_is_better"], doc["published_at"]),
                         (SLUG, "log_loss", False, iso(END + 2 * HOUR)))
        self.assertEqual([(x["rank"], x["team"], x["submission_id"]) for x in doc["rows"]],
                         [(1, "carol", self.ids["C1"]), (2, "bob", self.ids["B1"]), (3, "Alpha", self.ids["A1"])])
        # the stability figures are signed with the ranking (default bootstrap and seed)
        self.assertEqual((doc["stability"]["bootstrap"], doc["stability"]["seed"]), (1000, 1))
        self.assertEqual(doc["stability"]["groups"], [["carol"], ["bob"], ["Alpha"]])
        # what the ranking is about, signed with it: the rule, and the data as imported, by SHA-256
        rule = doc["ranking_rule"]
        self.assertEqual((rule["rule"], rule["metric"], rule["higher_is_better"], rule["split"], rule["precision"]),
                         ("primary", "log_loss", False, "private", 4))
        self.assertEqual((rule["per_team"], rule["ties"]), ("best_selected_else_best_public", "earlier_submission"))
        truth = harness_solution_sha256()
        self.assertEqual(doc["data"]["ground_truth_sha256"], truth)
        self.assertRegex(doc["data"]["bundle_sha256"], "^[0-9a-f]{64}$")
        listed = {f["name"]: f["sha256"] for f in alice.get(api(SLUG, "/files")).json()}
        self.assertEqual({f["name"]: f["sha256"] for f in doc["data"]["files"]}, listed)
        self.assertTrue(listed)
        for row, name in zip(doc["rows"], ("C1", "B1", "A1")):
            self.assertLessEqual({"rank", "team", "submission_id", "private_score", "public_score"}, set(row))
            self.assertAt4(row["private_score"], life.expected(name)[1])
            self.assertAt4(row["public_score"], life.expected(name)[0])

        sig = anon.get(api(SLUG, "/ranking.sig"))
        self.assertEqual(sig.status, 200, sig)
        self.assertTrue(sig.header("Content-Type").startswith("text/plain"), sig.headers)
        raw_sig = base64.b64decode(sig.body.strip(), validate=True)
        self.assertEqual(len(raw_sig), 64)

        with tempfile.TemporaryDirectory(prefix="concours-ranking-") as folder:
            files = {"ranking.json": ranking.body, "ranking.sig": sig.body, "sig.bin": raw_sig,
                     "key.pem": key.body}
            tampered = bytearray(ranking.body)
            at = ranking.body.index(b'"private_score":') + len(b'"private_score":') + 3
            tampered[at] ^= 0x01
            files["tampered.json"] = bytes(tampered)
            bad_sig = bytearray(raw_sig)
            bad_sig[10] ^= 0x80
            files["bad.bin"], files["bad.sig"] = bytes(bad_sig), base64.b64encode(bytes(bad_sig))
            for name, data in files.items():
                with open(os.path.join(folder, name), "wb") as f:
                    f.write(data)
            self.assertEqual(self.openssl_verify(folder, "ranking.json", "sig.bin"), 0)
            self.assertEqual(self.concours_verify(folder, "ranking.json", "ranking.sig"), 0)
            self.assertNotEqual(self.openssl_verify(folder, "tampered.json", "sig.bin"), 0)
            self.assertNotEqual(self.concours_verify(folder, "tampered.json", "ranking.sig"), 0)
            self.assertNotEqual(self.openssl_verify(folder, "ranking.json", "bad.bin"), 0)
            self.assertNotEqual(self.concours_verify(folder, "ranking.json", "bad.sig"), 0)

        # the audit log: terms, the download, the jury's note, the publication; newest first
        r = juno.get("/api/v1/audit?challenge=" + SLUG)
        self.assertEqual(r.status, 200, r)
        entries = r.json()
        for e in entries:
            self.assertLessEqual(ENTRY_KEYS, set(e), e)
            self.assertEqual(e["challenge"], SLUG, e)
        self.assertEqual([e["id"] for e in entries], sorted((e["id"] for e in entries), reverse=True))
        terms = [e for e in entries if "terms" in e["action"]]
        self.assertEqual(sorted(e["actor"] for e in terms), ["alice", "amir", "bob", "carol"], entries)
        self.assertTrue([e for e in entries if e["actor"] == "alice" and "train_metadata.csv" in json.dumps(e)
                         and e not in terms], entries)
        note = [e for e in entries if e["reason"] == NOTE]
        self.assertEqual([e["actor"] for e in note], ["juno"], entries)
        publish = [e for e in entries if e["reason"] == PUBLISH]
        self.assertEqual([e["actor"] for e in publish], ["juno"], entries)
        self.assertIn("publish", publish[0]["action"])
        self.assertEqual(publish[0]["id"], entries[0]["id"])
        all_entries = juno.get("/api/v1/audit").json()
        self.assertGreaterEqual(len(all_entries), len(entries))

        code, out = self.server.cli("audit", "verify", "--data", self.server.data)
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"\b%d\b" % len(all_entries))

        # tampering: the triggers refuse it; without them a one-byte change is found and named
        self.assertEqual(self.server.halt(), 0, self.server.output())
        code, out = self.sqlite("UPDATE audit_log SET reason = 'B' || substr(reason, 2) WHERE reason = '%s'" % NOTE)
        self.assertNotEqual(code, 0, out)
        self.assertEqual(self.server.cli("audit", "verify", "--data", self.server.data)[0], 0)
        code, out = self.sqlite("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")
        self.assertEqual(code, 0, out)
        triggers = out.split()
        self.assertTrue(triggers, "no trigger guards audit_log")
        code, out = self.sqlite("".join("DROP TRIGGER %s;" % t for t in triggers) +
                                "UPDATE audit_log SET reason = 'B' || substr(reason, 2) WHERE reason = '%s';"
                                "SELECT changes();" % NOTE)
        self.assertEqual((code, out.split()[-1:]), (0, ["1"]), out)
        code, out = self.server.cli("audit", "verify", "--data", self.server.data)
        self.assertEqual(code, 1, out)
        self.assertRegex(out, r"\b%d\b" % note[0]["id"])


if __name__ == "__main__":
    life.main()
