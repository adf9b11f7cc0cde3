"""docs/bundle.md holds, between its keys:begin and keys:end markers, exactly what `concours challenge keys`
prints from the key table of server/def.c: a key added to the table without its documentation (or documented
and not in the table) fails here.

    python3 test_docs.py --concours build/concours --doc docs/bundle.md
"""
import argparse
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--concours", required=True)
ap.add_argument("--doc", required=True)
args = ap.parse_args()
want = subprocess.run([args.concours, "challenge", "keys"], capture_output=True, text=True, check=True).stdout
with open(args.doc, encoding="utf-8") as f:
    doc = f.read()
begin, end = "<!-- keys:begin -->\n", "<!-- keys:end -->"
if begin not in doc or end not in doc:
    sys.exit("docs/bundle.md: the keys:begin / keys:end markers are missing")
got = doc.split(begin, 1)[1].split(end, 1)[0]
if got != want:
    import difflib
    sys.stdout.writelines(difflib.unified_diff(got.splitlines(True), want.splitlines(True), "docs/bundle.md",
                                               "concours challenge keys"))
    sys.exit("docs/bundle.md drifted from the key table: regenerate the block with `concours challenge keys`")
keys = want.count("\n| `")
print("docs/bundle.md matches the key table (%d keys)" % keys)
print("1 passed, 0 failed")
