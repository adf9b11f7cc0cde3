"""Storage quotas (issue 10, item 2): a team keeps at most `storage.team_mb` of submission files, every upload
counting (failed ones too, so failed uploads no longer fill the disk for free); past it an upload gets 403
storage_quota_exceeded before its body is read, nothing stored; the challenge page shows the bytes used and
allowed; another team is not affected. The scorer stops a decompression bomb at 100 times its compressed size.

    python3 test_storage.py --concours build/concours --source .
"""
import gzip
import json
import os

import harness

PHASES = [harness.phase("dev", "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z", max_per_day=1000, max_total=1000)]


class Storage(harness.ServerTest):
    BUNDLES = [(harness.DEMO_SLUG, PHASES)]

    @classmethod
    def make_server(cls):
        srv = harness.Server(cls.BUNDLES, cls.MAX_UPLOAD_MB)
        path = os.path.join(srv.challenges, harness.DEMO_SLUG, "challenge.json")
        with open(path) as f:
            spec = json.load(f)
        spec["storage"] = {"team_mb": 1}
        with open(path, "w") as f:
            json.dump(spec, f)
        return srv

    def test_team_storage_quota(self):
        c = self.participant("hoarder")
        junk = b"not,a,prediction\n" * 20000  # 340 KB that fails scoring: it counts all the same
        ids = []
        for _ in range(3):
            r = c.upload(junk)
            self.assertEqual(r.status, 201, r)
            ids.append(r.json()["id"])
        for sid in ids:
            self.assertEqual(c.wait_done(sid)["status"], "failed")
        quota = c.challenge().json()["quota"]
        self.assertEqual(quota["storage_used_bytes"], 3 * len(junk))
        self.assertEqual(quota["storage_max_bytes"], 1 << 20)
        files_before = sum(len(f) for _, _, f in os.walk(os.path.join(self.server.data, "submissions")))
        r = c.upload(junk + b"x\n")
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.error_code(), "storage_quota_exceeded")
        files_after = sum(len(f) for _, _, f in os.walk(os.path.join(self.server.data, "submissions")))
        self.assertEqual(files_after, files_before, "nothing stored")
        # another team still has its own room
        other = self.participant("other_team")
        self.assertEqual(other.upload(harness.sample_submission()).status, 201)

    def test_gzip_bomb_is_refused_cheaply(self):
        c = self.participant("bomber")
        bomb = gzip.compress(b"filename,relapse\n" + b"0" * (150 << 20), 9)  # 150 MiB of zeros in ~150 KB
        r = c.upload(bomb)
        self.assertEqual(r.status, 201, r)
        sub = c.wait_done(r.json()["id"])
        self.assertEqual(sub["status"], "failed", sub)
        self.assertIn("larger than", sub["error"]["message"])


if __name__ == "__main__":
    harness.main()
