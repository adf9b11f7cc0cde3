"""concours-cli (docs/cli.md, issue 16) against a live server, from a clean home folder: login keeps a token
(never the password) in ~/.config/concours/credentials with mode 0600; challenges; a submission before the terms is
refused with the hint; accept-terms; download of every file with its SHA-256 checked, resumed from a part file, a
corrupted part thrown away; submit --wait until scored (exit 0) or failed (exit 1, the scorer's message); the same
file twice is one submission; submissions and leaderboard, in text and --json; environment variables over the file.

usage: python3 test_cli.py --concours BUILD/concours --source REPO [unittest args]
"""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
import harness  # noqa: E402

SLUG = harness.DEMO_SLUG


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class CliTest(harness.ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cli_path = os.path.join(os.path.dirname(os.path.abspath(harness.ARGS.concours)), "concours-cli")
        cls.home = tempfile.mkdtemp(prefix="concours-cli-home-")
        cls.url = "http://127.0.0.1:%d" % cls.server.port

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.home, ignore_errors=True)
        super().tearDownClass()

    def cli(self, *args, stdin="", env=None, home=None):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home or self.home}
        e.update(env or {})
        r = subprocess.run([self.cli_path] + list(args), input=stdin, capture_output=True, text=True, env=e,
                           timeout=240, cwd=home or self.home)
        return r.returncode, r.stdout, r.stderr

    def test_a_participant_takes_part_from_the_shell(self):
        c = self.server.client()
        self.assertEqual(c.register("shelly").status, 201)
        # not logged in yet: says how
        rc, _, err = self.cli("challenges")
        self.assertEqual(rc, 2, err)
        self.assertIn("concours-cli login", err)
        # a wrong password: refused, nothing kept
        rc, _, err = self.cli("login", "--server", self.url, "--username", "shelly", stdin="wrong\n")
        self.assertEqual(rc, 3, err)
        self.assertIn("wrong username or password", err)
        # from a French terminal the server's words come in French (the CLI sends its locale as Accept-Language)
        rc, _, err = self.cli("login", "--server", self.url, "--username", "shelly", stdin="wrong\n",
                              env={"LANG": "fr_FR.UTF-8"})
        self.assertEqual(rc, 3, err)
        self.assertIn("nom d’utilisateur ou mot de passe erroné", err)
        self.assertIn("invalid_credentials", err)
        creds = os.path.join(self.home, ".config", "concours", "credentials")
        self.assertFalse(os.path.exists(creds))
        rc, out, err = self.cli("login", "--server", self.url + "/", "--username", "shelly",
                                stdin=harness.PASSWORD + "\n")
        self.assertEqual(rc, 0, err)
        self.assertIn("as shelly", out)
        self.assertEqual(stat.S_IMODE(os.stat(creds).st_mode), 0o600)
        with open(creds) as f:
            kept = json.load(f)
        self.assertEqual(kept["server"], self.url)
        self.assertNotIn(harness.PASSWORD, json.dumps(kept))

        rc, out, err = self.cli("challenges", "--json")
        self.assertEqual(rc, 0, err)
        self.assertIn(SLUG, [ch["slug"] for ch in json.loads(out)])
        rc, out, _ = self.cli("challenges")
        self.assertIn(SLUG, out)

        sample = os.path.join(self.home, "sample.csv")
        with open(sample, "wb") as f:
            f.write(harness.sample_submission())
        rc, _, err = self.cli("submit", SLUG, sample)
        self.assertEqual(rc, 3, err)
        self.assertIn("accept-terms", err)
        rc, out, err = self.cli("accept-terms", SLUG)
        self.assertEqual(rc, 0, err)
        self.assertIn("Accepted the terms of %s" % SLUG, out)

        # every file, SHA-256 checked; then resumed from a part file; a corrupted part is thrown away
        data = os.path.join(self.home, "data")
        rc, out, err = self.cli("download", SLUG, "--out", data, "--json")
        self.assertEqual(rc, 0, err)
        listing = c.get("/api/v1/challenges/%s/files" % SLUG)
        names = sorted(os.listdir(data))
        self.assertEqual(len(names), len(json.loads(out)))
        for name in names:
            self.assertEqual(sha256(os.path.join(data, name)),
                             sha256(harness.source_path("challenges", SLUG, "data", name)))
        big = max(names, key=lambda n: os.path.getsize(os.path.join(data, n)))
        whole = os.path.join(data, big)
        with open(whole, "rb") as f:
            content = f.read()
        os.remove(whole)
        with open(whole + ".part", "wb") as f:
            f.write(content[: len(content) // 2])
        rc, out, err = self.cli("download", SLUG, "--out", data)
        self.assertEqual(rc, 0, err)
        self.assertIn("%s: resumed" % whole, out)
        self.assertIn("up to date", out)
        self.assertEqual(sha256(whole), hashlib.sha256(content).hexdigest())
        self.assertFalse(os.path.exists(whole + ".part"))
        os.remove(whole)
        with open(whole + ".part", "wb") as f:
            f.write(b"X" * (len(content) // 2))
        rc, _, err = self.cli("download", SLUG, "--out", data)
        self.assertEqual(rc, 4, err)
        self.assertIn("SHA-256", err)
        self.assertFalse(os.path.exists(whole + ".part"))
        rc, _, err = self.cli("download", SLUG, "--out", data)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sha256(whole), hashlib.sha256(content).hexdigest())
        del listing

        # submit and wait: scored (exit 0); the same file again is the same submission
        rc, out, err = self.cli("submit", SLUG, sample, "-m", "first try, with spaces & marks", "--wait", "--json")
        self.assertEqual(rc, 0, err)
        sub = json.loads(out)
        self.assertEqual((sub["status"], sub["description"]), ("scored", "first try, with spaces & marks"))
        rc, out, err = self.cli("submit", SLUG, sample, "--wait")
        self.assertEqual(rc, 0, err)
        self.assertIn("#%d scored: public score" % sub["id"], out)
        # a file the scorer refuses: exit 1 with its message
        bad = os.path.join(self.home, "bad.csv")
        with open(bad, "w") as f:
            f.write("filename,relapse\nnot-an-id,0.5\n")
        rc, out, err = self.cli("submit", SLUG, bad, "--wait")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("failed", out)

        rc, out, err = self.cli("submissions", SLUG, "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(json.loads(out)), 2)
        rc, out, _ = self.cli("submissions", SLUG)
        self.assertIn(str(sub["id"]), out)
        rc, out, err = self.cli("leaderboard", SLUG)
        self.assertEqual(rc, 0, err)
        self.assertIn("shelly", out)
        rc, out, _ = self.cli("leaderboard", SLUG, "--json")
        self.assertEqual([r["name"] for r in json.loads(out)["rows"]], ["shelly"])
        rc, _, err = self.cli("leaderboard", SLUG, "--private")
        self.assertEqual(rc, 3, err)  # not published yet

        # the environment wins over the file; a bad token says to log in again
        rc, _, err = self.cli("challenges", env={"CONCOURS_TOKEN": "not-a-token"})
        self.assertEqual(rc, 3, err)
        self.assertIn("log in again", err)
        rc, _, err = self.cli("challenges", env={"CONCOURS_SERVER": "http://127.0.0.1:1"})
        self.assertEqual(rc, 4, err)
        rc, _, err = self.cli("submit", "../etc", sample)
        self.assertEqual(rc, 2, err)
        rc, _, err = self.cli("submit", SLUG, os.path.join(self.home, "missing.csv"))
        self.assertEqual(rc, 2, err)


if __name__ == "__main__":
    harness.main()
