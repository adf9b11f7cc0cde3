"""E-mail (issue 16, docs/mail.md), end to end.
- Through --mail-dir: a password reset by username or by address mails one single-use link that works within the
  hour; the new password logs in, the old one no longer does, every session ends; an unknown account gets the same
  answer and no mail; a fourth request in the hour sends nothing; a used or altered token is refused.
- Through a real SMTP server (Debian's aiosmtpd on loopback, /usr/bin/python3 -m aiosmtpd): a scored and a failed
  submission each mail their submitter (the score, the scorer's message); a participant who turned the mails off
  gets none; with the SMTP server down the mail waits in the queue and arrives once it is up (nothing lost).

usage: python3 test_mail.py --concours BUILD/concours --source REPO [unittest args]
"""
import email
import email.policy
import mailbox
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "http"))
import harness  # noqa: E402

NEW_PASSWORD = "a-brand-new-passphrase"


def wait_for(fn, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailDirBase(unittest.TestCase):
    """A server that writes its mails to a folder."""

    def setUp(self):
        self.maildir = tempfile.mkdtemp(prefix="concours-mails-")
        self.server = harness.Server(extra_args=["--mail-dir", self.maildir, "--public-url", "https://c.example.org/",
                                                 "--mail-from", "noreply@c.example.org"])
        self.server.start()

    def tearDown(self):
        self.server.stop(check=False)
        shutil.rmtree(self.maildir, ignore_errors=True)

    def mails(self):
        out = []
        for name in sorted(n for n in os.listdir(self.maildir) if n.endswith(".eml")):  # not a file being written
            with open(os.path.join(self.maildir, name), "rb") as f:
                out.append(email.message_from_bytes(f.read(), policy=email.policy.default))
        return out

    def reset(self, login):
        r = self.server.client().request("POST", "/api/v1/password-reset", json_body={"login": login})
        self.assertEqual(r.status, 202, r)
        return r.json()["message"]


class MailDirTest(MailDirBase):
    def test_password_reset(self):
        c = self.server.client()
        self.assertEqual(c.register("rosa", email="Rosa@Example.org").status, 201)
        self.assertEqual(c.login("rosa").status, 200)
        # unknown accounts get the same answer and no mail
        answer = self.reset("nobody-here")
        self.assertEqual(self.reset("rosa@example.org"), answer)
        msg = wait_for(lambda: self.mails(), "the reset mail")[0]
        self.assertEqual((msg["To"], msg["From"]), ("Rosa@Example.org", "noreply@c.example.org"))
        body = msg.get_content()
        link = re.search(r"https://c\.example\.org/reset\.html#token=(\S+)", body)
        self.assertIsNotNone(link, body)
        token = link.group(1)
        self.assertEqual(len(self.mails()), 1)
        # a weak password is refused and the link still works; an altered token is refused
        anon = self.server.client()
        r = anon.request("POST", "/api/v1/password-reset/confirm", json_body={"token": token, "password": "short"})
        self.assertEqual(r.status, 400, r)
        r = anon.request("POST", "/api/v1/password-reset/confirm",
                         json_body={"token": token[:-2] + "xx", "password": NEW_PASSWORD})
        self.assertEqual((r.status, r.json()["error"]["code"]), (400, "invalid_token"))
        r = anon.request("POST", "/api/v1/password-reset/confirm", json_body={"token": token, "password": NEW_PASSWORD})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(c.get("/api/v1/me").status, 401)  # every session ended
        self.assertEqual(self.server.client().login("rosa").status, 401)  # the old password
        fresh = self.server.client()
        self.assertEqual(fresh.login("rosa", password=NEW_PASSWORD).status, 200)
        r = anon.request("POST", "/api/v1/password-reset/confirm", json_body={"token": token, "password": NEW_PASSWORD})
        self.assertEqual((r.status, r.json()["error"]["code"]), (400, "invalid_token"))  # single use
        # three links an hour at most (by username too); the fourth request answers alike and sends nothing
        self.reset("rosa")
        self.reset("ROSA")
        wait_for(lambda: len(self.mails()) == 3, "two more mails")
        self.assertEqual(self.reset("rosa"), answer)
        time.sleep(2)
        self.assertEqual(len(self.mails()), 3)


class LanguageTest(MailDirBase):
    """The mails of an account are in its language: the one of its registration (Accept-Language), then the one the
    pages' switch sets (PUT /me/language); a failed submission's mail carries the scorer's message translated."""

    def test_mails_follow_the_account_language(self):
        c = self.server.client()
        fr = {"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.4"}
        r = c.request("POST", "/api/v1/users", json_body={"username": "zoe", "password": harness.PASSWORD,
                                                          "email": "zoe@example.org"}, headers=fr)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(c.login("zoe").status, 200)
        self.assertEqual(c.get("/api/v1/me").json()["language"], "fr")
        self.reset("zoe")
        msg = wait_for(lambda: self.mails(), "the reset mail")[0]
        self.assertEqual(str(msg["Subject"]), "Réinitialisez votre mot de passe concours")
        self.assertIn("Bonjour zoe,", msg.get_content())
        self.assertIn("https://c.example.org/reset.html#token=", msg.get_content())
        # a failed submission: the scorer's message in French in the mail
        self.assertEqual(c.accept_terms().status, 204)
        bad = harness.sample_submission().replace(b",0.22", b",1.7", 1)
        sid = c.upload(bad).json()["id"]
        self.assertEqual(c.wait_done(sid)["status"], "failed")
        got = wait_for(lambda: [m for m in self.mails() if "soumission" in str(m["Subject"])], "the failure mail")
        self.assertEqual(str(got[0]["Subject"]), "[%s] soumission n°%d en échec" % (harness.DEMO_SLUG, sid))
        body = got[0].get_content()
        self.assertIn("n’a pas pu être notée", body)
        self.assertIn("n’est pas une probabilité", body)
        # the switch: English from now on; a bad language is refused with a clear error
        r = c.request("PUT", "/api/v1/me/language", json_body={"language": "de"})
        self.assertEqual((r.status, r.json()["error"]["code"]), (400, "bad_request"), r)
        r = c.request("PUT", "/api/v1/me/language", json_body={"language": "en"})
        self.assertEqual((r.status, r.json()), (200, {"language": "en"}), r)
        self.assertEqual(c.get("/api/v1/me").json()["language"], "en")
        before = len(self.mails())
        self.reset("zoe")
        msg = wait_for(lambda: self.mails()[before:], "the English reset mail")[0]
        self.assertEqual(str(msg["Subject"]), "Reset your concours password")
        # an account made without the header reads English
        yan = self.server.client()
        self.assertEqual(yan.register("yan").status, 201)
        self.assertEqual(yan.login("yan").status, 200)
        self.assertEqual(yan.get("/api/v1/me").json()["language"], "en")


def at(iso):
    return int(time.mktime(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))) - time.timezone


class NewsTest(unittest.TestCase):
    """Phase reminders, an organizer's announcement to a filtered audience, and the publication, on a test clock:
    each reaches the challenge's participants who want news, once."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="concours-news-")
        self.maildir = os.path.join(self.tmp, "mails")
        self.clock = os.path.join(self.tmp, "clock")
        self.set_clock("2026-06-01T12:00:00Z")
        self.server = harness.Server(extra_args=["--mail-dir", self.maildir, "--test-clock", self.clock])
        self.server.start()

    def tearDown(self):
        self.server.stop(check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def set_clock(self, iso):
        with open(self.clock + ".new", "w") as f:
            f.write("%d\n" % at(iso))
        os.replace(self.clock + ".new", self.clock)

    def inbox(self):
        """{recipient: [subjects]} of every mail written so far."""
        out = {}
        if os.path.isdir(self.maildir):
            for name in sorted(n for n in os.listdir(self.maildir) if n.endswith(".eml")):
                with open(os.path.join(self.maildir, name), "rb") as f:
                    m = email.message_from_bytes(f.read(), policy=email.policy.default)
                out.setdefault(m["To"], []).append(str(m["Subject"]))
        return out

    def participant(self, name, headers=None):
        c = self.server.client()
        r = c.request("POST", "/api/v1/users", json_body={"username": name, "password": harness.PASSWORD,
                                                          "email": name + "@example.org"}, headers=headers)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(c.login(name).status, 200)
        self.assertEqual(c.accept_terms().status, 204)
        return c

    def test_reminders_announcements_and_publication(self):
        slug = harness.DEMO_SLUG
        # bea registers from a French browser: the news reach her in French
        ada, cyd = self.participant("ada"), self.participant("cyd")
        bea = self.participant("bea", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        self.server.client().register("outsider")  # took no part: hears nothing
        r = cyd.request("PUT", "/api/v1/me/notifications", json_body={"news": False})
        self.assertEqual((r.status, r.json()), (200, {"submissions": True, "news": False}))
        for c in (ada, bea, cyd):  # results by mail are another setting (tested below): off here
            self.assertEqual(c.request("PUT", "/api/v1/me/notifications", json_body={"submissions": False}).status,
                             200)
        sid = ada.upload(harness.sample_submission()).json()["id"]
        self.assertEqual(ada.wait_done(sid)["status"], "scored")
        # an organizer's announcement to those who have not submitted yet (cyd wants no news)
        self.server.add_user("orla", "organizer")
        orla = self.server.client()
        self.assertEqual(orla.login("orla").status, 200)
        r = orla.request("POST", "/api/v1/challenges/%s/announcements" % slug,
                         json_body={"subject": "Still time to submit", "body": "The baseline is in the data.",
                                    "to": "not_submitted", "reason": "nudge"})
        self.assertEqual((r.status, r.json()["queued"]), (202, 1), r)
        self.assertEqual(orla.request("POST", "/api/v1/challenges/%s/announcements" % slug,
                                      json_body={"subject": "a\nb", "body": "x", "reason": "r"}).status, 400)
        self.assertEqual(ada.request("POST", "/api/v1/challenges/%s/announcements" % slug,
                                     json_body={"subject": "s", "body": "x", "reason": "r"}).status, 403)
        wait_for(lambda: self.inbox().get("bea@example.org"), "the announcement")
        self.assertEqual(self.inbox(), {"bea@example.org": ["[%s] Still time to submit" % slug]})
        # the development phase closes within a day; then the final phase opens: one mail each, to ada and bea
        self.set_clock("2030-06-29T12:00:00Z")
        wait_for(lambda: len(self.inbox().get("ada@example.org", [])) == 1, "the closing reminder")
        self.set_clock("2030-07-01T06:00:00Z")
        wait_for(lambda: len(self.inbox().get("ada@example.org", [])) == 2, "the opening reminder")
        self.set_clock("2030-07-01T07:00:00Z")
        time.sleep(3)  # a later minute sends no second reminder
        box = self.inbox()
        self.assertEqual(box["ada@example.org"], ["[%s] the development phase closes within 24 hours" % slug,
                                                  "[%s] the final phase is open" % slug])
        self.assertEqual(box["bea@example.org"][1:], ["[%s] la phase development ferme dans les 24 heures" % slug,
                                                      "[%s] la phase final est ouverte" % slug])
        self.assertNotIn("cyd@example.org", box)
        self.assertNotIn("outsider@example.org", box)
        # publication after the last phase
        self.server.add_user("jude", "jury")
        self.set_clock("2030-08-02T00:00:00Z")
        jude = self.server.client()
        self.assertEqual(jude.login("jude").status, 200)
        r = jude.request("POST", "/api/v1/challenges/%s/publish" % slug, json_body={"reason": "done"})
        self.assertEqual(r.status, 200, r)
        wait_for(lambda: len(self.inbox().get("ada@example.org", [])) == 3, "the publication mail")
        self.assertEqual(self.inbox()["ada@example.org"][-1], "[%s] the final ranking is published" % slug)
        wait_for(lambda: len(self.inbox().get("bea@example.org", [])) == 4, "the publication mail in French")
        self.assertEqual(self.inbox()["bea@example.org"][-1], "[%s] le classement final est publié" % slug)
        self.assertNotIn("cyd@example.org", self.inbox())


class VerifyTest(unittest.TestCase):
    """serve --verify-email: a new participant confirms the address (the link mailed at registration) before
    accepting any terms; a new address needs confirming again; staff made by `concours user add` need nothing."""

    def setUp(self):
        self.maildir = tempfile.mkdtemp(prefix="concours-verify-")
        self.server = harness.Server(extra_args=["--mail-dir", self.maildir, "--verify-email"])
        self.server.start()

    def tearDown(self):
        self.server.stop(check=False)
        shutil.rmtree(self.maildir, ignore_errors=True)

    def links(self, to):
        found = []
        for name in sorted(n for n in os.listdir(self.maildir) if n.endswith(".eml")):
            with open(os.path.join(self.maildir, name), "rb") as f:
                m = email.message_from_bytes(f.read(), policy=email.policy.default)
            if m["To"] == to:
                found.append(re.search(r"verify\.html#token=(\S+)", m.get_content()).group(1))
        return found

    def test_an_address_is_confirmed_before_taking_part(self):
        c = self.server.client()
        self.assertEqual(c.register("vera").status, 201)
        self.assertEqual(c.login("vera").status, 200)
        self.assertFalse(c.get("/api/v1/me").json()["email_verified"])
        token = wait_for(lambda: self.links("vera@example.org"), "the confirmation link")[0]
        r = c.accept_terms()
        self.assertEqual((r.status, r.json()["error"]["code"]), (403, "email_unverified"), r)
        anon = self.server.client()
        r = anon.request("POST", "/api/v1/email-verification/confirm", json_body={"token": token[:-2] + "zz"})
        self.assertEqual((r.status, r.json()["error"]["code"]), (400, "invalid_token"))
        self.assertEqual(anon.request("POST", "/api/v1/email-verification/confirm",
                                      json_body={"token": token}).status, 204)
        self.assertTrue(c.get("/api/v1/me").json()["email_verified"])
        self.assertEqual(c.accept_terms().status, 204)
        self.assertEqual(anon.request("POST", "/api/v1/email-verification/confirm",
                                      json_body={"token": token}).status, 400)  # used
        # a new address: unconfirmed until its own link comes back; the old link cannot confirm it
        r = c.request("PUT", "/api/v1/me/email", json_body={"email": "vera2@example.org", "password": harness.PASSWORD})
        self.assertEqual(r.status, 200, r)
        self.assertFalse(c.get("/api/v1/me").json()["email_verified"])
        wait_for(lambda: self.links("vera2@example.org"), "the new link")
        # the link again: three links an hour in all (registration, the change, one more); the answer is the same
        for _ in range(2):
            self.assertEqual(c.request("POST", "/api/v1/email-verification").status, 202)
        wait_for(lambda: len(self.links("vera2@example.org")) == 2, "one more link")
        time.sleep(2)
        links = self.links("vera2@example.org")
        self.assertEqual(len(links), 2)
        self.assertEqual(self.server.client().request("POST", "/api/v1/email-verification/confirm",
                                                      json_body={"token": links[-1]}).status, 204)
        self.assertTrue(c.get("/api/v1/me").json()["email_verified"])
        r = c.request("POST", "/api/v1/email-verification")
        self.assertEqual((r.status, r.json()["message"]), (200, "Your address is already confirmed."))
        # staff accounts made on the command line are confirmed
        self.server.add_user("oscar", "organizer")
        o = self.server.client()
        self.assertEqual(o.login("oscar").status, 200)
        self.assertTrue(o.get("/api/v1/me").json()["email_verified"])


class SmtpTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="concours-smtp-")
        self.maildir = os.path.join(self.tmp, "Maildir")
        self.port = free_port()
        self.smtpd = None
        self.server = harness.Server(extra_args=["--smtp", "smtp://127.0.0.1:%d" % self.port,
                                                 "--mail-from", "concours@example.org"])
        self.server.start()

    def start_smtpd(self):
        for tool in ("/usr/bin/python3",):
            self.assertTrue(os.path.exists(tool), tool)
        self.smtpd = subprocess.Popen(["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:%d" % self.port,
                                       "-c", "aiosmtpd.handlers.Mailbox", self.maildir],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def tearDown(self):
        self.server.stop(check=False)
        if self.smtpd is not None:
            self.smtpd.terminate()
            self.smtpd.wait(timeout=30)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def received(self):
        # aiosmtpd's handler makes the Maildir as it starts, its tmp, new and cur one after the other: a box read
        # before the last is made has nothing in it yet (reading it then raised FileNotFoundError, seen under load)
        if not all(os.path.isdir(os.path.join(self.maildir, d)) for d in ("tmp", "new", "cur")):
            return []
        box = mailbox.Maildir(self.maildir, factory=None, create=False)
        return [email.message_from_bytes(m.as_bytes(), policy=email.policy.default) for m in box]

    def test_notifications_survive_a_mail_server_outage(self):
        # the SMTP server is down: the first result waits in the queue
        ana = self.server.client()
        self.assertEqual(ana.register("ana").status, 201)
        self.assertEqual(ana.login("ana").status, 200)
        self.assertEqual(ana.accept_terms().status, 204)
        sid = ana.upload(harness.sample_submission()).json()["id"]
        sub = ana.wait_done(sid)
        self.assertEqual(sub["status"], "scored", sub)
        time.sleep(2)
        self.start_smtpd()
        # (the sender tries again after 30 s at most: the test waits generously)
        msg = wait_for(lambda: self.received(), "the queued mail to arrive once the server is up", 120)[0]
        self.assertEqual(msg["To"], "ana@example.org")
        self.assertIn("submission #%d scored" % sid, msg["Subject"])
        self.assertIn("public score", msg.get_content())
        # a failed one says why; then the participant turns the mails off: no more
        bad = ana.upload(b"filename,relapse\nnot-an-id,0.5\n").json()["id"]
        self.assertEqual(ana.wait_done(bad)["status"], "failed")
        failed = wait_for(lambda: [m for m in self.received() if "#%d failed" % bad in m["Subject"]], "the failure mail")
        self.assertIn("could not be scored", failed[0].get_content())
        r = ana.request("PUT", "/api/v1/me/notifications", json_body={"submissions": False})
        self.assertEqual((r.status, r.json()), (200, {"submissions": False, "news": True}))
        self.assertEqual(ana.get("/api/v1/me/notifications").json(), {"submissions": False, "news": True})
        self.assertEqual(ana.request("PUT", "/api/v1/me/notifications", json_body={"submissions": 1}).status, 400)
        third = ana.upload(harness.sample_submission()).json()["id"]
        ana.wait_done(third)
        time.sleep(3)
        self.assertEqual(len(self.received()), 2)


if __name__ == "__main__":
    harness.main()
