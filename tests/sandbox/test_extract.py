"""extract.c, the safe archive extractor used for submissions unpacked into a scoring program's $input/res
(SECURITY.md 11-13): zip slip in every spelling, links, devices and FIFOs, duplicate entries, byte and entry
bombs, bad names and foreign formats are refused, the destination is left empty and a canary outside it is
never touched; a clean archive unpacks as it is.

usage: python3 test_extract.py --driver BUILD/extract_driver [unittest args]
"""
import argparse
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile

ARGS = None


def zip_bytes(entries):
    """ENTRIES: [(name, data)] or [(ZipInfo, data)]."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


def tar_bytes(members, mode="w"):
    """MEMBERS: [(TarInfo, data or None)]."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            else:
                t.addfile(info)
    return buf.getvalue()


def reg(name):
    return tarfile.TarInfo(name)


def special(name, kind, target=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


class Extract(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="concours-extract-")
        self.dest = os.path.join(self.tmp, "work", "dest")
        os.makedirs(self.dest)
        self.canary = os.path.join(self.tmp, "canary.txt")
        with open(self.canary, "w") as f:
            f.write("untouched")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def extract(self, data, *limits):
        path = os.path.join(self.tmp, "archive")
        with open(path, "wb") as f:
            f.write(data)
        p = subprocess.run([ARGS.driver, path, self.dest] + [str(x) for x in limits], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def assert_refused(self, data, words, *limits):
        r = self.extract(data, *limits)
        self.assertEqual(r["rc"], 1, r)
        self.assertTrue(any(w in r["error"] for w in words), r)
        self.assertEqual(os.listdir(self.dest), [], "the destination was not emptied")
        with open(self.canary) as f:
            self.assertEqual(f.read(), "untouched")
        self.assertEqual(sorted(os.listdir(self.tmp)), ["archive", "canary.txt", "work"])

    def test_clean_zip_and_tar_gz(self):
        r = self.extract(zip_bytes([("a.csv", "id,p\n1,0.5\n"), ("sub/b.txt", "x")]))
        self.assertEqual(r["rc"], 0, r)
        self.assertEqual(sorted(os.listdir(self.dest)), ["a.csv", "sub"])
        self.assertEqual(oct(os.stat(os.path.join(self.dest, "a.csv")).st_mode & 0o777), "0o644")
        shutil.rmtree(self.dest)
        os.mkdir(self.dest)
        r = self.extract(tar_bytes([(reg("dir/c.csv"), b"id\n1\n")], "w:gz"))
        self.assertEqual(r["rc"], 0, r)
        with open(os.path.join(self.dest, "dir", "c.csv")) as f:
            self.assertEqual(f.read(), "id\n1\n")

    def test_zip_slip(self):
        for name in ("../canary.txt", "../../canary.txt", "/etc/evil", "a/../../canary.txt", "C:\\evil.txt",
                     "..\\..\\canary.txt", "./a/./b", "a//b"):
            with self.subTest(name=name):
                self.assert_refused(zip_bytes([("ok.csv", "x"), (name, "evil")]),
                                    ["absolute", "backslash", "segment"])

    def test_links_devices_fifos(self):
        for info in (special("link", tarfile.SYMTYPE, "/etc/passwd"), special("hard", tarfile.LNKTYPE, "ok.csv"),
                     special("dev", tarfile.CHRTYPE), special("blk", tarfile.BLKTYPE),
                     special("fifo", tarfile.FIFOTYPE)):
            with self.subTest(kind=info.type):
                self.assert_refused(tar_bytes([(reg("ok.csv"), b"x"), (info, None)]), ["link, device or FIFO"])
        # a symlink inside a zip (unix mode in the external attributes)
        link = zipfile.ZipInfo("link")
        link.external_attr = (0o120777 << 16)
        self.assert_refused(zip_bytes([(link, "/etc/passwd")]), ["link, device or FIFO"])

    def test_duplicate_and_overlapping_entries(self):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("a.csv", "one")
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                z.writestr("a.csv", "two")
        self.assert_refused(buf.getvalue(), ["twice"])
        # a file, then a folder of the same name
        self.assert_refused(zip_bytes([("a", "x"), ("a/b", "y")]), ["folder cannot be created"])

    def test_byte_bomb(self):
        """64 MiB of zeros in a ~64 KiB tar.gz stops at a 1 MiB cap (bytes counted as decompressed)."""
        zeros = tar_bytes([(reg("zeros.csv"), bytes(64 << 20))], "w:gz")
        self.assertLess(len(zeros), 1 << 20)
        self.assert_refused(zeros, ["more than"], 1 << 20)

    def test_lying_size_zip(self):
        """A zip whose header declares 100 bytes for a 10 MiB entry: refused by what is read, not declared."""
        data = bytearray(zip_bytes([("big.csv", bytes(10 << 20))]))
        local = data.find(b"PK\x03\x04")
        central = data.find(b"PK\x01\x02")
        data[local + 22:local + 26] = (100).to_bytes(4, "little")     # uncompressed size, local header
        data[central + 24:central + 28] = (100).to_bytes(4, "little")  # and in the central directory
        self.assert_refused(bytes(data), ["more than", "damaged"], 1 << 20)

    def test_entry_bomb_and_names(self):
        self.assert_refused(zip_bytes([("f%d" % i, "") for i in range(200)]), ["more than 100 entries"])
        self.assert_refused(zip_bytes([("x" * 300, "y")]), ["too long"])
        raw = zip_bytes([("name-XX.csv", "y")]).replace(b"name-XX", b"name-\xff\xfe")
        self.assert_refused(raw, ["UTF-8"])
        self.assert_refused(zip_bytes([("tab\there", "y")]), ["UTF-8"])

    def test_foreign_formats(self):
        """rar, 7z, cpio, iso, plain gzip text or text named .zip: not an archive of an accepted form."""
        for data in (b"Rar!\x1a\x07\x00" + bytes(600), b"7z\xbc\xaf\x27\x1c" + bytes(600), b"070707" + bytes(600),
                     bytes(0x8001) + b"CD001" + bytes(600), b"id,p\n1,0.5\n", gzip.compress(b"id,p\n1,0.5\n")):
            with self.subTest(head=data[:8]):
                self.assert_refused(data, ["not a zip", "damaged", "cannot be read"])


def main():
    global ARGS
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--driver", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
