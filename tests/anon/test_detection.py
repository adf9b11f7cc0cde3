#!/usr/bin/env python3
"""test_detection.py: recall and precision of `concours dataset check` per identifier kind (issue 15).

Generates the synthetic corpus of gen_corpus.py (ground truth per column), checks every file, and prints, per
kind of identifier, how many planted columns were found at all and by a rule of the right kind, and how many
clean columns were flagged. Asserts every planted column is found by a rule of its kind and that false alarms
stay under 2 % of clean columns.

    test_detection.py CONCOURS GEN_CORPUS_PY
"""
import csv
import datetime
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest
import zipfile

CLI = None
GEN = None

# Which kind each rule of the report speaks for.
RULE_KIND = {
    "column_name:nir": "nir", "nir": "nir", "nir_without_key": "nir",
    "column_name:phone": "phone", "phone": "phone", "phone_without_leading_zero": "phone",
    "column_name:email": "email", "email": "email",
    "column_name:birth_date": "birth_date", "date_of_birth": "birth_date", "birth_date_in_text": "birth_date",
    "iban": "iban",
    "column_name:ip_address": "ip", "ipv4": "ip", "ipv6": "ip",
    "national_id": "national_id", "national_id_digits": "national_id",
    "free_text_names": "names", "names_alone": "names", "column_name:surname": "names", "column_name:first_name": "names",
    "column_name:patient_id": "patient_id", "column_name:patient_number": "patient_id",
}


def check(path):
    p = subprocess.run([CLI, "dataset", "check", "--json", path], capture_output=True, text=True, timeout=300)
    if p.returncode not in (0, 1):
        raise AssertionError("exit %d: %s" % (p.returncode, p.stderr))
    return json.loads(p.stdout)


class Detection(unittest.TestCase):
    def test_recall_and_precision_per_kind(self):
        with tempfile.TemporaryDirectory(prefix="anon_corpus_") as d:
            subprocess.run([sys.executable, GEN, "--out", d, "--rows", "300", "--seed", "15"], check=True,
                           timeout=300)
            with open(os.path.join(d, "truth.json")) as f:
                truth = json.load(f)
            stats = {}  # kind -> [planted, found, found by its kind]
            clean = flagged = 0
            misses = []
            for name, cols in sorted(truth.items()):
                report = check(os.path.join(d, name))
                planted = any(kind is not None for kind in cols.values())
                self.assertEqual(report["passed"], not planted, "%s: a file passes exactly when nothing is planted "
                                 "(%s)" % (name, report["failures"]))
                rules = {}
                counts = {}
                for e in report["direct_identifiers"]:
                    rules.setdefault(e["column"], set()).add(e["rule"])
                    self.assertTrue(all(isinstance(x, int) for x in e.get("rows", [])))
                    if not e["rule"].startswith("column_name:") and RULE_KIND.get(e["rule"]):
                        key = (e["column"], RULE_KIND[e["rule"]])
                        counts[key] = counts.get(key, 0) + e["count"]
                for col, kind in cols.items():
                    got = rules.get(col, set())
                    if kind is None:
                        clean += 1
                        if got:
                            flagged += 1
                            misses.append("%s/%s clean but flagged by %s" % (name, col, sorted(got)))
                        continue
                    s = stats.setdefault(kind, [0, 0, 0, 0, 0])
                    s[0] += 1
                    s[1] += bool(got)
                    right = any(RULE_KIND.get(g) == kind for g in got)
                    s[2] += right
                    if kind != "patient_id":  # a subject id is known by its column's name, not its values
                        s[3] += report["rows"]
                        s[4] += min(counts.get((col, kind), 0), report["rows"])
                    if not right:
                        misses.append("%s/%s (%s) found by %s" % (name, col, kind, sorted(got) or "nothing"))
            print("\n%-12s %8s %8s %11s %13s" % ("kind", "columns", "found", "right kind", "values found"))
            for kind, (n, found, right, values, hits) in sorted(stats.items()):
                print("%-12s %8d %7.0f%% %10.0f%% %12s" % (kind, n, 100.0 * found / n, 100.0 * right / n,
                                                         "%.1f%%" % (100.0 * hits / values) if values else "-"))
            print("clean columns: %d, flagged: %d (%.1f%%)" % (clean, flagged, 100.0 * flagged / clean))
            for m in misses:
                print("  " + m)
            for kind, (n, found, right, values, hits) in stats.items():
                self.assertEqual(right, n, "%s: %d of %d planted columns found by a rule of that kind" %
                                 (kind, right, n))
                if values:
                    self.assertGreaterEqual(hits / values, 0.95, "%s: share of planted values recognised" % kind)
            self.assertLess(flagged / clean, 0.02, "false alarms on clean columns")


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def findings(report):
    return {(e["column"], e["rule"]) for e in report["direct_identifiers"]}


class NoSilentBypass(unittest.TestCase):
    """The bypasses the issue measured: each one now fails the file, or warns, with the reason."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="anon_bypass_")
        self.dir = self.tmp.name
        self.r = random.Random(7)

    def tearDown(self):
        self.tmp.cleanup()

    def test_pseudonym_column_must_be_pure(self):
        rows = [["%032x" % self.r.getrandbits(128)] for _ in range(1000)]
        for i in range(0, 40):
            rows[i * 25][0] = gen_corpus.nir(self.r)
            rows[i * 25 + 1][0] = "patient%d@exemple.fr" % i
        path = os.path.join(self.dir, "ids.csv")
        write_csv(path, ["pseudo"], rows)
        report = check(path)
        self.assertFalse(report["passed"])
        self.assertIn(("pseudo", "nir"), findings(report))
        self.assertIn(("pseudo", "email"), findings(report))
        self.assertEqual(report["pseudonymous_ids"], [])
        nir = [e for e in report["direct_identifiers"] if e["rule"] == "nir"][0]
        self.assertEqual((nir["count"], nir["rows"]), (40, [1, 26, 51, 76, 101]))

    def test_unspaced_ibans_are_not_pseudonyms(self):
        rows = [[gen_corpus.iban(self.r, cc, n).replace(" ", "")] for cc, n in [("DE", 22), ("BE", 16)] * 200]
        path = os.path.join(self.dir, "pay.csv")
        write_csv(path, ["ref"], rows)
        report = check(path)
        self.assertIn(("ref", "iban"), findings(report))
        self.assertEqual(report["pseudonymous_ids"], [])

    def test_declared_quasi_identifiers_absent_fall_back_to_suggested(self):
        rows = [[str(self.r.randint(18, 89)), self.r.choice("MF"), "%05d" % self.r.randint(1000, 95999)]
                for _ in range(2000)]
        path = os.path.join(self.dir, "own.csv")
        write_csv(path, ["age", "sexe", "code_postal"], rows)
        other = os.path.join(self.dir, "labels.csv")  # the file the declaration was written for
        write_csv(other, ["diagnosis", "label"], [[self.r.choice(["C50", "C43"]), "1"] for _ in range(100)])
        p = subprocess.run([CLI, "dataset", "check", "--json", "--quasi", "diagnosis", other, path],
                           capture_output=True, text=True, timeout=300)
        both = json.loads(p.stdout)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(both["files"][0]["quasi_identifiers_source"], "declared")
        report = both["files"][1]
        self.assertEqual(report["quasi_identifiers_source"], "suggested")
        self.assertEqual(sorted(report["quasi_identifiers"]), ["age", "code_postal", "sexe"])
        self.assertLess(report["k_anonymity"], 5)
        self.assertTrue(any("none of the declared" in w for w in report["warnings"]))

    def test_rare_exact_ages_and_undeclared_suggestions(self):
        rows = [[str(self.r.randint(90, 104)) if i < 387 else str(self.r.randint(30, 60)),
                 self.r.choice("MF"), self.r.choice(["C50", "C43", "C61"])] for i in range(3000)]
        path = os.path.join(self.dir, "ages.csv")
        write_csv(path, ["age", "sexe", "diagnostic"], rows)
        p = subprocess.run([CLI, "dataset", "check", "--json", "--quasi", "sexe", path], capture_output=True,
                           text=True, timeout=300)
        report = json.loads(p.stdout)
        self.assertEqual(p.returncode, 1)
        self.assertTrue(any("exact ages above 89" in f and "387 records" in f for f in report["failures"]))
        self.assertEqual(sorted(report["quasi_identifiers_suggested"]), ["age", "diagnostic"])
        self.assertIn("k_anonymity_with_suggested", report)
        self.assertEqual(report["k_anonymity"], min(sum(1 for x in rows if x[1] == s) for s in "MF"))


class Linkability(unittest.TestCase):
    def test_files_that_pass_alone_fail_once_joined(self):
        r = random.Random(5)
        with tempfile.TemporaryDirectory(prefix="anon_link_") as d:
            ids = ["%032x" % r.getrandbits(128) for _ in range(600)]
            a, b, t = (os.path.join(d, n) for n in ("a.csv", "b.csv", "test.csv"))
            write_csv(a, ["patient_id", "age_band", "sexe"],
                      [[i, r.choice(["40-49", "50-59", "60-69"]), r.choice("MF")] for i in ids])
            write_csv(b, ["patient_id", "code_postal", "diagnostic"],
                      [[i, r.choice(["75", "69", "13", "33", "59", "31"]), r.choice(["C50", "C43", "C61"])] for i in ids])
            write_csv(t, ["patient_id", "code_postal", "diagnostic"],  # other subjects: nothing links
                      [["%032x" % r.getrandbits(128), r.choice(["75", "69"]), "C50"] for _ in range(600)])
            p = subprocess.run([CLI, "dataset", "check", "--json", a, b, t], capture_output=True, text=True,
                               timeout=300)
            out = json.loads(p.stdout)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertTrue(all(f["passed"] for f in out["files"]))  # alone, each passes
            self.assertEqual(len(out["links"]), 1, out["links"])
            link = out["links"][0]
            self.assertEqual((link["files"], link["on"], link["joined_records"], link["passed"]),
                             ([a, b], "patient_id", 600, False))
            self.assertEqual(sorted(link["quasi_identifiers"]), ["age_band", "code_postal", "diagnostic", "sexe"])
            self.assertLess(link["k_anonymity"], 5)


class Formats(unittest.TestCase):
    """Every file is checked by its real format, whatever its name; what cannot be read is refused."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="anon_formats_")
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def run_check(self, name):
        p = subprocess.run([CLI, "dataset", "check", "--json", self.path(name)], capture_output=True, text=True,
                           timeout=300)
        return p.returncode, (json.loads(p.stdout) if p.stdout else None), p.stderr

    def assert_found(self, name, column, rule, fmt):
        rc, rep, err = self.run_check(name)
        self.assertEqual(rc, 1, err)
        self.assertEqual(rep["format"], fmt)
        self.assertIn((column, rule), findings(rep), json.dumps(rep["direct_identifiers"]))
        return rep

    def test_delimited_tables(self):
        with open(self.path("semi.csv"), "w") as f:
            f.write("id;courriel;age\n1;jean.martin@exemple.fr;40\n")
        self.assert_found("semi.csv", "courriel", "email", "csv")
        with open(self.path("t.tsv"), "w") as f:
            f.write("id\ttel\n1\t06 12 34 56 78\n")
        self.assert_found("t.tsv", "tel", "phone", "tsv")

    def test_gzip_and_zip_members(self):
        fixtures.gz(self.path("g.csv.gz"), "id,nir\n1,%s\n" % gen_corpus.nir(random.Random(3)))
        rep = self.assert_found("g.csv.gz", "nir", "nir", "csv")
        self.assertEqual(rep["compression"], "gzip")
        fixtures.zipped(self.path("a.zip"), [("data/clean.csv", "age,sexe\n" + "40-49,F\n" * 10),
                                            ("notes/cr.txt", "RAS\nCourrier adressé au Dr Lefebvre.\n")])
        rc, rep, err = self.run_check("a.zip")
        self.assertEqual((rc, rep["format"]), (1, "zip"), err)
        self.assertEqual([m["passed"] for m in rep["members"]], [True, False])
        self.assertIn(("notes/cr.txt: text", "free_text_names"), findings(rep))
        # a zip inside a zip (a starting kit's sample submission) is checked member by member, and its findings
        # fail the outer one; a third level is refused
        fixtures.zipped(self.path("nested.zip"), [("inner.zip", open(self.path("a.zip"), "rb").read())])
        rc, rep, err = self.run_check("nested.zip")
        self.assertEqual(rc, 1, err)
        self.assertEqual([m["passed"] for m in rep["members"][0]["members"]], [True, False])
        fixtures.zipped(self.path("deep.zip"), [("nested.zip", open(self.path("nested.zip"), "rb").read())])
        rc, rep, err = self.run_check("deep.zip")
        self.assertEqual(rc, 2)
        self.assertIn("an archive inside an archive inside an archive", err)

    def test_text_and_json_lines(self):
        with open(self.path("cr.txt"), "w") as f:
            f.write("Patiente née le 3 avril 1957, suivie depuis 2015.\nRAS\n")
        rep = self.assert_found("cr.txt", "text", "birth_date_in_text", "text")
        self.assertNotIn("k-anonymity", " ".join(rep["failures"]))
        with open(self.path("r.jsonl"), "w") as f:
            f.write('{"id": 1, "email": "a.b@exemple.fr"}\n{"id": 2, "remarque": "vu par Mme Durand"}\n')
        self.assert_found("r.jsonl", "email", "email", "jsonl")
        self.assert_found("r.jsonl", "(other keys)", "free_text_names", "jsonl")

    def test_tiff_tags_and_label_images(self):
        fixtures.tiff(self.path("clean.tif"), software="ScanScope v1")
        rc, rep, err = self.run_check("clean.tif")
        self.assertEqual((rc, rep["format"], rep["pages"]), (0, "tiff", 1), err)
        fixtures.tiff(self.path("slide.svs"), fixtures.APERIO_DESC,
                      pages=["Aperio Image Library v12.0.5\nlabel 387x463", "Aperio Image Library v12.0.5\nmacro"])
        rep = self.assert_found("slide.svs", "page 1 tag ImageDescription", "names", "tiff")
        self.assertEqual(rep["pages"], 3)
        self.assertIn(("page 2", "tiff:label_image"), findings(rep))
        self.assertIn(("page 3", "tiff:macro_image"), findings(rep))
        self.assertIn(("page 1 tag ImageDescription: Patient Name", "column_name:surname"), findings(rep))
        self.assertTrue(all(e["fix"] == "strip" for e in rep["direct_identifiers"]))
        self.assertNotIn("Dupont", json.dumps(rep))  # never a value

    def test_names_in_file_names(self):
        fixtures.tiff(self.path("DUPONT_J_biopsy_2019.tif"))
        rep = self.assert_found("DUPONT_J_biopsy_2019.tif", "(file name)", "file_name:names", "tiff")
        self.assertEqual(rep["direct_identifiers"][-1]["fix"], "rename")

    def test_dicom_basic_profile(self):
        fixtures.dicom(self.path("ct.dcm"), [("0010,0010", "PN", "DUPONT^JEAN"), ("0010,0030", "DA", "19620314"),
                                              ("0010,1040", "LO", "12 rue de la Paix, Paris"),
                                              ("0010,0040", "CS", "M"), ("0009,0010", "LO", "ACME"),
                                              ("0009,1001", "LO", "note"), ("0028,0301", "CS", "YES")])
        rep = self.assert_found("ct.dcm", "(0010,0010) PatientName", "dicom:basic_profile", "dicom")
        self.assertIn(("(0010,0010) PatientName", "names"), findings(rep))
        self.assertIn(("private elements", "dicom:private_tags"), findings(rep))
        self.assertTrue(any("BurnedInAnnotation" in f for f in rep["failures"]))
        self.assertTrue(any(w.startswith("PatientSex") for w in rep["warnings"]))
        self.assertNotIn("DUPONT", json.dumps(rep))
        fixtures.dicom(self.path("clean.dcm"), [("0010,0040", "CS", "F"), ("0028,0301", "CS", "NO")])
        rc, rep, err = self.run_check("clean.dcm")
        self.assertEqual((rc, rep["passed"]), (0, True), err)

    def test_png_text_chunks(self):
        fixtures.png(self.path("thumb.png"), [("Comment", "Patient DUPONT Jean, ne le 14/03/1962")])
        self.assert_found("thumb.png", "text chunk Comment", "names", "png")
        fixtures.png(self.path("clean.png"))
        rc, rep, err = self.run_check("clean.png")
        self.assertEqual(rc, 0, err)

    def test_strip_tiff_keeps_pixels_and_drops_what_identifies(self):
        src, out = self.path("slide.svs"), self.path("clean.svs")
        fixtures.jpeg_slide(src, fixtures.APERIO_DESC, artist="Dr Martin")
        self.assertEqual(self.run_check("slide.svs")[0], 1)
        p = subprocess.run([CLI, "dataset", "strip-tiff", src, out], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("1 page(s) kept, 1 label or macro page(s) removed", p.stdout)
        rc, rep, err = self.run_check("clean.svs")
        self.assertEqual((rc, rep["pages"]), (0, 1), json.dumps(rep))
        props = subprocess.run(["openslide-show-properties", out], capture_output=True, text=True, timeout=60)
        self.assertEqual(props.returncode, 0, props.stderr)  # still a slide OpenSlide opens, as an Aperio one
        self.assertIn("aperio.AppMag: '20'", props.stdout)
        self.assertNotIn("DUPONT", props.stdout)
        hashes = []
        for path in (src, out):  # the main image's pixels, decoded by OpenSlide, are the same
            png = path + ".png"
            subprocess.run(["openslide-write-png", path, "0", "0", "0", "64", "64", png], check=True, timeout=60)
            with open(png, "rb") as f:
                hashes.append(hashlib.sha256(f.read()).hexdigest())
        self.assertEqual(hashes[0], hashes[1])
        with open(self.path("not.tif"), "w") as f:
            f.write("a,b\n")
        p = subprocess.run([CLI, "dataset", "strip-tiff", self.path("not.tif"), self.path("o.tif")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("not a readable TIFF file", p.stderr)
        self.assertEqual([n for n in os.listdir(self.dir) if n.startswith("o.tif")], [])  # nothing half written

    def test_deidentify_dicom_keeps_a_study_together(self):
        study = "1.2.826.0.1.3680043.8.498.77"
        for i in (1, 2):
            fixtures.dicom(self.path("s%d.dcm" % i), [
                ("0010,0010", "PN", "DUPONT^JEAN"), ("0010,0020", "LO", "8012345678"),
                ("0010,0030", "DA", "19620314"), ("0010,1040", "LO", "12 rue de la Paix, Paris"),
                ("0008,0080", "LO", "CHU de Lyon"), ("0008,0090", "PN", "MARTIN^PAUL"),
                ("0008,0020", "DA", "20190314"), ("0020,000d", "UI", study),
                ("0008,0018", "UI", "%s.%d" % (study, i)), ("0009,0010", "LO", "ACME"), ("0009,1001", "LO", "x")])
        key_file = self.path("pseudonym.key")
        uids = []
        for i in (1, 2):
            p = subprocess.run([CLI, "dataset", "deidentify-dicom", self.path("s%d.dcm" % i), self.path("d%d.dcm" % i),
                                "--key-file", key_file], capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            rc, rep, err = self.run_check("d%d.dcm" % i)
            self.assertEqual((rc, rep["direct_identifiers"]), (0, []), err)
            dump = subprocess.run(["dcmdump", "-q", self.path("d%d.dcm" % i)], capture_output=True, text=True,
                                  timeout=60).stdout
            fields = {line.split("#")[-1].split()[-1]: line.split("[", 1)[1].split("]", 1)[0]
                      for line in dump.splitlines() if line.startswith("(") and "[" in line}
            uids.append((fields["StudyInstanceUID"], fields["SOPInstanceUID"]))
            with open(key_file, "rb") as f:
                key = f.read()

            def mac(value):
                return hmac.new(key, b"concours-pseudonym-v1\x00" + value.encode(), hashlib.sha256).digest()
            h = mac("8012345678")
            self.assertEqual(fields["PatientID"], h[:16].hex())
            self.assertEqual(fields["PatientName"], h[:16].hex())
            self.assertEqual(fields["StudyInstanceUID"], "2.25.%d" % int.from_bytes(mac("uid:" + study)[:16], "big"))
            u = int.from_bytes(h[16:24], "big")
            shift = (1 + (u >> 1) % 365) * (-1 if u & 1 else 1)
            want = datetime.date(2019, 3, 14) + datetime.timedelta(days=shift)
            self.assertEqual(fields["StudyDate"], want.strftime("%Y%m%d"))
            self.assertEqual(fields["PatientIdentityRemoved"], "YES")
            self.assertNotIn("(0009,", dump)
            self.assertNotIn("DUPONT", dump)
        self.assertEqual(uids[0][0], uids[1][0])  # one study still
        self.assertNotEqual(uids[0][1], uids[1][1])
        fixtures.dicom(self.path("noid.dcm"), [("0010,0010", "PN", "DUPONT^JEAN")])
        p = subprocess.run([CLI, "dataset", "deidentify-dicom", self.path("noid.dcm"), self.path("o.dcm"),
                            "--key-file", key_file], capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 2)
        self.assertIn("no PatientID", p.stderr)
        self.assertFalse(any(n.startswith("o.dcm") for n in os.listdir(self.dir)))

    def test_html_report_escapes_and_never_shows_values(self):
        with open(self.path("x.csv"), "w") as f:
            f.write('"<script>alert(1)</script>email",age\n"a.b@exemple.fr",40\n')
        p = subprocess.run([CLI, "dataset", "check", "--html", self.path("x.csv")], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertTrue(p.stdout.startswith("<!doctype html>"))
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;email", p.stdout)
        self.assertNotIn("<script>", p.stdout)
        self.assertNotIn("exemple.fr", p.stdout)
        self.assertIn("<code>email</code>", p.stdout)

    def test_hostile_files_are_refused_with_a_reason(self):
        """Truncated or forged files of every new format end in exit 2 with the file named, never a crash."""
        cases = {
            "cut.tif": (b"II*\x00" + b"\xff" * 64, "not a readable TIFF file"),
            "forged.dcm": (bytes(128) + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff" + b"\x00" * 40, "DICOM"),
            "junk.csv.gz": (b"\x1f\x8b\x08\x00" + b"\x00" * 40, "junk.csv.gz"),
            "cut.png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00", "not a readable PNG file"),
            "lines.jsonl": (b'{"id": 1}\n[1, 2]\n', "line 2: not a JSON object"),
            "long.jsonl": (b'{"id": "' + b"x" * 200 + b'"}\n', "longer than 64 bytes"),
        }
        for name, (data, want) in cases.items():
            with open(self.path(name), "wb") as f:
                f.write(data)
            p = subprocess.run([CLI, "dataset", "check", "--max-record-bytes", "64", self.path(name)],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 2, "%s: %s %s" % (name, p.stdout, p.stderr))
            self.assertIn(want, p.stderr, name)
        link = zipfile.ZipInfo("data/link.csv")
        link.external_attr = (0o120777 << 16)  # a symbolic link member
        with zipfile.ZipFile(self.path("links.zip"), "w") as z:
            z.writestr(link, "/etc/passwd")
        rc, rep, err = self.run_check("links.zip")
        self.assertEqual(rc, 2)
        self.assertIn("not a regular file", err)

    def test_unknown_binary_is_refused(self):
        with open(self.path("model.bin"), "wb") as f:
            f.write(b"\x00\x01\x02binary")
        rc, rep, err = self.run_check("model.bin")
        self.assertEqual(rc, 2)
        self.assertIn("a format concours cannot check", err)


class Redaction(unittest.TestCase):
    """pseudonymize --redact: free text keeps its sense, loses names, dates and identifiers (issue 15, item 6)."""

    def test_redacted_text_passes_the_check_and_clean_text_is_kept(self):
        r = random.Random(11)
        with tempfile.TemporaryDirectory(prefix="anon_redact_") as d:
            src, out = os.path.join(d, "notes.csv"), os.path.join(d, "notes.out.csv")
            rows = []
            for i in range(300):
                planted = " ".join([gen_corpus.name_in_text(r), gen_corpus.birth_in_text(r),
                                    "Joindre au %s ou %s." % (gen_corpus.phone(r), gen_corpus.stripped_mobile(r)),
                                    "NIR %s, IBAN %s, courriel p%d@exemple.fr, poste %s." % (
                                        gen_corpus.nir_written(r), gen_corpus.iban(r, "FR", 27), i,
                                        gen_corpus.ipv6(r)),
                                    "Document %s." % gen_corpus.national(r)])
                rows.append(["%d" % (1000 + i // 2) if i % 3 else " %d " % (1000 + i // 2), planted,
                             r.choice(gen_corpus.NOTES_CLEAN)])
            write_csv(src, ["patient_id", "note", "conclusion"], rows)
            self.assertEqual(check(src)["passed"], False)
            p = subprocess.run([CLI, "dataset", "pseudonymize", src, out, "--id", "patient_id", "--redact", "note",
                                "--key-file", os.path.join(d, "k.key")], capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(out, newline="", encoding="utf-8") as f:
                got = list(csv.DictReader(f))
            report = check(out)
            self.assertNotIn("note", {e["column"] for e in report["direct_identifiers"]},
                             json.dumps(report["direct_identifiers"]))
            for placeholder in ("<NOM>", "<DATE>", "<TEL>", "<NIR>", "<IBAN>", "<EMAIL>", "<IP>", "<ID>"):
                self.assertTrue(any(placeholder in g["note"] for g in got), placeholder)
            self.assertEqual([g["conclusion"] for g in got], [row[2] for row in rows])  # other columns untouched
            # ids are normalised before hashing: " 1000 " and "1000" are one subject
            self.assertEqual(got[0]["patient_id"], got[1]["patient_id"])
            self.assertEqual(len({g["patient_id"] for g in got}), 150)


if __name__ == "__main__":
    CLI, GEN = sys.argv[1], sys.argv[2]
    del sys.argv[1:3]
    sys.path.insert(0, os.path.dirname(os.path.abspath(GEN)))
    import gen_corpus  # noqa: E402 (the generator's own functions plant the values)
    import fixtures  # noqa: E402 (files of every format, made with Debian's tools)
    unittest.main(verbosity=2)
