#!/usr/bin/env python3
"""test_anon_cli.py: end-to-end tests of `concours dataset check|pseudonymize` (issue 7).

Drives the command line exactly as an organizer would, on tables made by gen_table.py, and checks what the
issue promises: planted identifiers of every kind are found (and never printed), a clean table passes, exit
codes, pseudonyms stable across files and different across keys, date shifts that keep intervals within a
subject, hostile input refused with line and column, atomic output, constant memory.

    test_anon_cli.py ANON_CLI GEN_TABLE_PY
"""
import csv
import datetime
import hashlib
import hmac
import json
import os
import stat
import string
import subprocess
import sys
import tempfile
import unittest

CLI = None
GEN = None


def run(*args, check_rc=None):
    p = subprocess.run([CLI, "dataset", *args], capture_output=True, text=True, timeout=300)
    if check_rc is not None and p.returncode != check_rc:
        raise AssertionError("exit %d, wanted %d\nstdout: %s\nstderr: %s" % (p.returncode, check_rc, p.stdout,
                                                                          p.stderr))
    return p


def gen(kind, rows, seed, out, expect=None):
    cmd = [sys.executable, GEN, "--kind", kind, "--rows", str(rows), "--seed", str(seed), "--out", out]
    if expect:
        cmd += ["--expect", expect]
    subprocess.run(cmd, check=True, timeout=300)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write(path, text, mode="w"):
    with open(path, mode) as f:
        f.write(text)


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="anon_cli_")
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)


class Check(Base):
    def test_clean_table_passes(self):
        gen("clean", 3000, 11, self.path("clean.csv"))
        p = run("check", self.path("clean.csv"), "--json", "--sensitive", "label", check_rc=0)
        rep = json.loads(p.stdout)
        self.assertTrue(rep["passed"])
        self.assertEqual(rep["direct_identifiers"], [])
        self.assertEqual([(e["column"], e["rule"]) for e in rep["pseudonymous_ids"]], [("pid", "hex_token")])
        self.assertEqual(rep["quasi_identifiers"], ["age_band", "sexe", "departement", "diagnostic_group"])
        self.assertGreaterEqual(rep["k_anonymity"], 5)
        self.assertEqual(rep["records_below_k"], 0)
        self.assertGreaterEqual(rep["l_diversity"], 2)
        self.assertEqual(rep["uniqueness_rate"], 0)
        text = run("check", self.path("clean.csv"), check_rc=0).stdout
        self.assertIn("PASSED", text)

    def test_planted_identifiers_found_never_printed(self):
        for seed in (1, 2, 3):
            src, exp = self.path("planted%d.csv" % seed), self.path("expect%d.json" % seed)
            gen("planted", 1500, seed, src, exp)
            p = run("check", src, "--json", check_rc=1)
            rep = json.loads(p.stdout)
            found = {(e["column"], e["rule"]): e["count"] for e in rep["direct_identifiers"]}
            with open(exp) as f:
                expect = json.load(f)
            for col, (rule, count) in expect.items():
                self.assertEqual(found.get((col, rule)), count, "seed %d: %s/%s in %s" % (seed, col, rule, found))
            self.assertEqual(set(c for c, _ in found), set(expect), "no other column flagged")
            self.assertFalse(rep["passed"])
            # No cell value of a flagged column may appear in any output.
            output = p.stdout + p.stderr + run("check", src).stdout
            for row in read_csv(src):
                for col in expect:
                    if row[col]:
                        self.assertNotIn(row[col], output)

    def test_raw_export_every_identifier_column(self):
        gen("raw", 2000, 5, self.path("raw.csv"))
        rep = json.loads(run("check", self.path("raw.csv"), "--json", check_rc=1).stdout)
        rules = {(e["column"], e["rule"]) for e in rep["direct_identifiers"]}
        for col, rule in [("ipp", "column_name:patient_number"), ("nom", "column_name:surname"),
                          ("prenom", "column_name:first_name"), ("date_naissance", "column_name:birth_date"),
                          ("date_naissance", "date_of_birth"), ("lieu_naissance", "column_name:birth_place"),
                          ("nir", "nir"), ("telephone", "phone"), ("email", "email"),
                          ("adresse", "column_name:address"), ("ip_connexion", "ipv4"),
                          ("commentaire", "free_text_names")]:
            self.assertIn((col, rule), rules)
        self.assertEqual(rep["quasi_identifiers"],
                         ["code_postal", "sexe", "age", "diagnostic", "date_admission", "date_sortie"])
        self.assertEqual(rep["k_anonymity"], 1)

    def test_hand_checked_k_and_l(self):
        write(self.path("t.csv"), "age,sex,zip,diag\n30,M,75,A\n30,M,75,B\n40,F,69,A\n30,M,75,A\n40,F,69,A\n"
                                  "50,M,13,C\n")
        rep = json.loads(run("check", self.path("t.csv"), "--json", "--quasi", "age,sex,zip", "--k", "2",
                             "--sensitive", "diag", check_rc=1).stdout)
        self.assertEqual((rep["k_anonymity"], rep["records_below_k"], rep["equivalence_classes"]), (1, 1, 3))
        self.assertEqual((rep["l_diversity"], rep["records_below_l"]), (1, 3))
        self.assertAlmostEqual(rep["uniqueness_rate"], 1 / 6)
        self.assertEqual(rep["quasi_identifiers_source"], "declared")
        rep = json.loads(run("check", self.path("t.csv"), "--json", "--quasi=sex", "--k=2", "--sensitive=diag",
                             "--l=1", check_rc=0).stdout)
        self.assertEqual((rep["k_anonymity"], rep["l_diversity"]), (2, 1))

    def test_several_files(self):
        gen("clean", 500, 1, self.path("a.csv"))
        gen("planted", 500, 1, self.path("b.csv"))
        rep = json.loads(run("check", self.path("a.csv"), self.path("b.csv"), "--json", check_rc=1).stdout)
        self.assertFalse(rep["passed"])
        self.assertEqual([f["passed"] for f in rep["files"]], [True, False])

    def test_usage_errors_exit_2(self):
        gen("clean", 50, 1, self.path("a.csv"))
        cases = [([], "usage"), (["check"], "no FILE"), (["frobnicate"], "unknown subcommand"),
                 (["check", self.path("a.csv"), "--k", "0"], "--k needs a whole number"),
                 (["check", self.path("a.csv"), "--k"], "--k needs a value"),
                 (["check", self.path("a.csv"), "--bogus"], "unknown option --bogus"),
                 (["check", self.path("a.csv"), "--quasi", "nope"], "no column named \"nope\""),
                 (["check", self.path("a.csv"), "--sensitive", "nope"], "no column named \"nope\""),
                 (["check", self.path("missing.csv")], "cannot open"),
                 (["check", self.dir], "not a regular file"),
                 (["pseudonymize", self.path("a.csv")], "needs IN, OUT and --id")]
        for args, msg in cases:
            p = run(*args)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(msg, p.stderr, args)
        self.assertEqual(run("help", check_rc=0).stdout.splitlines()[0], "usage:")

    def test_hostile_input(self):
        src = self.path("h.csv")
        write(src, "id,note\n1," + "x" * (2 << 20) + "\n")
        p = run("check", src, check_rc=2)
        self.assertIn("line 2: record longer than 1048576 bytes", p.stderr)
        write(src, "id,note\n1,ok\n2,\"bad\"quote\n")
        self.assertIn("line 3, column 2 (\"note\"): character after a closing quote", run("check", src, check_rc=2).stderr)
        write(src, b"id,note\n1,caf\xe9\n", "wb")
        self.assertIn("line 2, column 2 (\"note\"): invalid UTF-8", run("check", src, check_rc=2).stderr)
        write(src, "id,note\n1,\"never closed\n2,x\n")
        self.assertIn("line 2, column 2 (\"note\"): quoted field never closed", run("check", src, check_rc=2).stderr)
        write(src, ",".join("c%d" % i for i in range(5000)) + "\n")
        self.assertIn("more than 4096 columns", run("check", src, check_rc=2).stderr)
        write(src, "")
        self.assertIn("empty file", run("check", src, check_rc=2).stderr)
        write(src, "a\n" + "y" * 150 + "\n")
        self.assertIn("line 2: record longer than 100 bytes",
                      run("check", src, "--max-record-bytes", "100", check_rc=2).stderr)


    def test_mutated_input_never_crashes(self):
        # Seeded byte mutations of a small planted table: every run ends with 0, 1 or 2 (2 with a message).
        import random
        gen("planted", 40, 9, self.path("seed.csv"))
        with open(self.path("seed.csv"), "rb") as f:
            base = f.read()
        rng = random.Random(1234)
        src = self.path("m.csv")
        for i in range(200):
            data = bytearray(base)
            for _ in range(rng.randint(1, 8)):
                pos = rng.randrange(len(data))
                op = rng.randrange(3)
                if op == 0:
                    data[pos] = rng.choice(b'",\r\n\x00\xc3\xff\xef ')
                elif op == 1:
                    del data[pos:pos + rng.randint(1, 20)]
                else:
                    data[pos:pos] = bytes(rng.choice(b'"\n,ab') for _ in range(rng.randint(1, 20)))
            write(src, bytes(data), "wb")
            for args in (["check", src, "--json", "--sensitive", "label"],
                         ["pseudonymize", src, self.path("m.out.csv"), "--id", "pid", "--key-file",
                          self.path("m.key"), "--generalize", "age_band:prefix:2"]):
                p = run(*args)
                self.assertIn(p.returncode, (0, 1, 2), "case %d: %s" % (i, p.stderr))
                if p.returncode == 2:
                    self.assertTrue(p.stderr.strip(), "case %d: exit 2 without a message" % i)
                elif args[0] == "check":
                    json.loads(p.stdout)


class Pseudonymize(Base):
    def setUp(self):
        super().setUp()
        gen("raw", 1200, 7, self.path("raw.csv"))
        rows = read_csv(self.path("raw.csv"))
        # Two files of one challenge sharing subjects: visits alternate between them.
        for name, part in (("train.csv", rows[0::2]), ("test.csv", rows[1::2])):
            with open(self.path(name), "w", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
                w.writeheader()
                w.writerows(part)
        self.key = self.path("k.key")
        self.opts = ["--id", "ipp", "--key-file", self.key,
                     "--drop", "nom,prenom,date_naissance,lieu_naissance,nir,telephone,email,adresse,"
                               "ip_connexion,commentaire",
                     "--shift-dates", "date_admission,date_sortie", "--generalize", "age:5,code_postal:2"]

    def pseudo(self, src, out, *extra, rc=0):
        return run("pseudonymize", self.path(src), self.path(out), *(extra or self.opts), check_rc=rc)

    def test_key_file_created_private(self):
        p = self.pseudo("train.csv", "train.out.csv")
        self.assertIn("created a new key", p.stderr)
        st = os.stat(self.key)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(st.st_size, 32)
        os.chmod(self.key, 0o644)
        p = self.pseudo("train.csv", "again.csv", rc=2)
        self.assertIn("open to group or others", p.stderr)

    def test_pseudonyms_are_hmac_and_stable_across_files(self):
        self.pseudo("train.csv", "train.out.csv")
        self.pseudo("test.csv", "test.out.csv")
        with open(self.key, "rb") as f:
            key = f.read()

        def pseudonym(v):
            norm = v.translate(str.maketrans(string.ascii_lowercase, string.ascii_uppercase, " \t\r\n"))
            return hmac.new(key, b"concours-pseudonym-v1\0" + norm.encode(), hashlib.sha256).hexdigest()[:32]

        for src, out in (("train.csv", "train.out.csv"), ("test.csv", "test.out.csv")):
            a, b = read_csv(self.path(src)), read_csv(self.path(out))
            self.assertEqual(len(a), len(b))
            for x, y in zip(a, b):
                self.assertEqual(y["ipp"], pseudonym(x["ipp"]))
        train = {r["ipp"] for r in read_csv(self.path("train.out.csv"))}
        test = {r["ipp"] for r in read_csv(self.path("test.out.csv"))}
        self.assertTrue(train & test, "subjects in both files join on their pseudonym")
        # Another key, other pseudonyms.
        other = self.opts[:]
        other[other.index("--key-file") + 1] = self.path("other.key")
        self.pseudo("train.csv", "train.other.csv", *other)
        again = {r["ipp"] for r in read_csv(self.path("train.other.csv"))}
        self.assertFalse(train & again)

    def test_transformations_and_intervals(self):
        self.pseudo("train.csv", "train.out.csv")
        self.pseudo("test.csv", "test.out.csv")
        out = read_csv(self.path("train.out.csv")) + read_csv(self.path("test.out.csv"))
        src = read_csv(self.path("train.csv")) + read_csv(self.path("test.csv"))
        self.assertEqual(list(out[0].keys()), ["ipp", "code_postal", "sexe", "age", "diagnostic", "date_admission",
                                               "date_sortie", "label"])
        day = datetime.date.fromisoformat
        shifts = {}
        for s, o in zip(src, out):
            age = int(s["age"])
            want = "90+" if age >= 90 else "%d-%d" % (age // 5 * 5, age // 5 * 5 + 4)
            self.assertEqual(o["age"], want)
            self.assertEqual(o["code_postal"], s["code_postal"][:2])
            shift = (day(o["date_admission"]) - day(s["date_admission"])).days
            self.assertEqual((day(o["date_sortie"]) - day(s["date_sortie"])).days, shift)
            self.assertTrue(1 <= abs(shift) <= 365)
            shifts.setdefault(o["ipp"], set()).add(shift)
        self.assertTrue(all(len(v) == 1 for v in shifts.values()), "one shift per subject, across both files")
        self.assertGreater(len({next(iter(v)) for v in shifts.values()}), 10, "shifts differ between subjects")
        # The result holds no direct identifier any more.
        rep = json.loads(run("check", self.path("train.out.csv"), "--json").stdout)
        self.assertEqual(rep["direct_identifiers"], [])
        self.assertEqual(rep["pseudonymous_ids"][0]["column"], "ipp")

    def test_failure_leaves_output_untouched(self):
        write(self.path("out.csv"), "previous content\n")
        with open(self.path("train.csv"), encoding="utf-8") as f:
            rows = f.read().splitlines()
        bad = rows[:400] + [rows[400].replace(read_csv(self.path("train.csv"))[399]["date_admission"], "2020-13-45")]
        write(self.path("bad.csv"), "\n".join(bad + rows[401:]) + "\n")
        p = self.pseudo("bad.csv", "out.csv", rc=2)
        self.assertIn("line 401, column 14 (\"date_admission\"): not a date", p.stderr)
        with open(self.path("out.csv"), encoding="utf-8") as f:
            self.assertEqual(f.read(), "previous content\n")
        self.assertEqual(sorted(os.listdir(self.dir)), sorted(["bad.csv", "k.key", "out.csv", "raw.csv",
                                                               "test.csv", "train.csv"]))
        p = run("pseudonymize", self.path("train.csv"), self.path("train.csv"), *self.opts, check_rc=2)
        self.assertIn("another file than the input", p.stderr)
        p = run("pseudonymize", self.path("train.csv"), self.path("x.csv"), "--id", "nope", "--key-file", self.key,
                check_rc=2)
        self.assertIn("--id: no column named \"nope\"", p.stderr)
        p = run("pseudonymize", self.path("train.csv"), self.path("x.csv"), "--id", "ipp", "--key-file", self.key,
                "--drop", "ipp", check_rc=2)
        self.assertIn("already given another treatment", p.stderr)

    def peak_rss_kib(self, src, out):
        # Under AddressSanitizer, freed memory waits in a quarantine; keep it small so RSS means live memory.
        env = dict(os.environ, ASAN_OPTIONS="quarantine_size_mb=1:" + os.environ.get("ASAN_OPTIONS", ""))
        child = subprocess.Popen([CLI, "dataset", "pseudonymize", self.path(src), self.path(out), *self.opts],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        text = child.stdout.read().decode()
        child.stdout.close()
        child.stderr.close()
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        return usage.ru_maxrss, text

    def test_streaming_constant_memory(self):
        # The peak for ~55 MB of input must be the peak for 150 KB: memory does not follow the file size.
        with open(self.path("raw.csv"), encoding="utf-8") as f:
            header, *body = f.read().splitlines()
        with open(self.path("big.csv"), "w", encoding="utf-8") as f:
            f.write(header + "\n")
            chunk = "\n".join(body) + "\n"
            for _ in range(200):
                f.write(chunk)
        self.assertGreater(os.path.getsize(self.path("big.csv")), 50 << 20)
        small, _ = self.peak_rss_kib("raw.csv", "small.out.csv")
        big, text = self.peak_rss_kib("big.csv", "big.out.csv")
        self.assertIn("240000 rows", text)
        self.assertLess(big - small, 4 * 1024, "peak RSS %d KiB for 55 MB, %d KiB for 150 KB" % (big, small))


if __name__ == "__main__":
    CLI, GEN = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1], verbosity=2)
