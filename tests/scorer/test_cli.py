#!/usr/bin/env python3
"""Black-box tests of concours-score (API.md section 1), standard library only.

Usage: test_cli.py PATH/TO/concours-score SECTION [SOURCE_DIR]
Sections: ref (metrics against committed scikit-learn references), validation (every rule of "Files the
scorer reads"), archives (SECURITY.md 11-14, hostile files generated on the fly), bootstrap, challenge.
Each check prints one line; the script exits 1 if any check failed.
"""
import gzip
import io
import json
import mmap
import os
import resource
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib

BIN = os.path.abspath(sys.argv[1])
SECTION = sys.argv[2]
SRC = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(SRC, "..", ".."))
REF = os.path.join(SRC, "ref")
failures = []
checks = 0


def check(cond, what, detail=""):
    global checks
    checks += 1
    if cond:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what} {detail}")
        failures.append(what)


def run(args, timeout=60, max_memory=None):
    """Runs concours-score; MAX_MEMORY caps its address space (bombs must stop at the byte cap)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
    t0 = time.monotonic()
    if os.environ.get("SCORER_SANITIZED"):  # ASan reserves terabytes of address space: no cap then
        max_memory = None
    p = subprocess.run([BIN] + args, capture_output=True, timeout=timeout, preexec_fn=limit if max_memory else None)
    out = None
    try:
        out = json.loads(p.stdout.decode("utf-8"))
    except ValueError:
        pass
    return p.returncode, out, p.stderr.decode("utf-8", "replace"), time.monotonic() - t0, p.stdout


def close(a, b, rel=1e-9):
    return a is not None and b is not None and abs(a - b) <= rel * max(1.0, abs(b))


class Tmp:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="scorer-test-")

    def path(self, name, content=None):
        p = os.path.join(self.dir, name)
        if content is not None:
            with open(p, "wb") as f:
                f.write(content.encode() if isinstance(content, str) else content)
        return p

    def done(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def section_ref():
    with open(os.path.join(REF, "cases.json")) as f:
        cases = json.load(f)
    for c in cases:
        args = ["--truth", os.path.join(REF, c["truth"]), "--pred", os.path.join(REF, c["pred"]),
                "--metric", c["metric"]]
        if "params" in c:
            args += ["--params", json.dumps(c["params"])]
        rc, out, err, _, raw = run(args)
        if rc != 0 or out is None:
            check(False, c["name"], f"rc={rc} out={raw[:300]!r} err={err[:300]}")
            continue
        ok = all(close(out.get(k), v) for k, v in c["expected"].items())
        ok = ok and set(k for k in ("score", "public", "private") if k in out) == set(c["expected"])
        check(ok, c["name"], f"got {out} expected {c['expected']}")
        if c["name"].startswith("multiclass") or c["name"].startswith("cost_matrix"):
            # the same rows in reverse order go through the hash join and give the same values
            with open(os.path.join(REF, c["pred"])) as f:
                lines = f.read().splitlines()
            with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
                f.write("\n".join([lines[0]] + lines[:0:-1]) + "\n")
            rc, out2, err, _, raw = run(args[:3] + [f.name] + args[4:])
            os.unlink(f.name)
            check(rc == 0 and out2 is not None and all(close(out2.get(k), v) for k, v in c["expected"].items()),
                  c["name"] + " (rows reversed)", raw[:300])


# ---- validation ----

TRUTH = "id,label,Usage\na,1,Public\nb,0,Public\nc,1,Private\nd,0,Private\n"


def expect_invalid(t, name, pred, code, substr=None, metric="roc_auc", truth=TRUTH, line=None, extra=()):
    tp = t.path("truth.csv", truth)
    pp = t.path("pred_" + str(abs(hash(name))) + ".csv", pred)
    rc, out, err, _, raw = run(["--truth", tp, "--pred", pp, "--metric", metric] + list(extra))
    e = (out or {}).get("error", {})
    ok = rc == 1 and e.get("code") == code and isinstance(e.get("message"), str)
    ok = ok and (substr is None or substr in e["message"])
    ok = ok and (line is None or e.get("line") == line) and "column" in e
    check(ok, f"invalid: {name}", f"rc={rc} out={raw[:400]!r}")
    return out


def expect_score(t, name, pred, value, metric="roc_auc", truth=TRUTH, key="score", extra=()):
    tp = t.path("truth.csv", truth)
    pp = t.path("pred_" + str(abs(hash(name))) + ".csv", pred)
    rc, out, err, _, raw = run(["--truth", tp, "--pred", pp, "--metric", metric] + list(extra))
    check(rc == 0 and out is not None and close(out.get(key), value), f"scores: {name}",
          f"rc={rc} out={raw[:300]!r} err={err[:200]}")
    return out


def section_validation():
    t = Tmp()
    good = "id,label\na,0.9\nb,0.1\nc,0.8\nd,0.3\n"
    out = expect_score(t, "plain file", good, 1.0)
    check(out is not None and out.get("public") == 1.0 and out.get("private") == 1.0 and out.get("rows") == 4
          and out.get("metric") == "roc_auc" and out.get("higher_is_better") is True, "result fields")
    expect_score(t, "UTF-8 BOM and CRLF", "\ufeffid,label\r\na,0.9\r\nb,0.1\r\nc,0.8\r\nd,0.3\r\n", 1.0)
    expect_score(t, "quoted fields with a quoted newline in the truth id", 'id,label\n"a\nx",0.9\nb,0.1\nc,0.8\nd,0.3\n',
                 1.0, truth='id,label,Usage\n"a\nx",1,Public\nb,0,Public\nc,1,Private\nd,0,Private\n')
    expect_score(t, "quoted values and escaped quotes", 'id,label\n"a",".9"\n"b",0.1\nc,"8e-1"\nd,0.3\n', 1.0)
    expect_score(t, "rows in any order", "id,label\nd,0.3\nc,0.8\nb,0.1\na,0.9\n", 1.0)
    expect_score(t, "no trailing newline, blank lines", "id,label\na,0.9\n\nb,0.1\nc,0.8\nd,0.3", 1.0)
    expect_score(t, "split column case-insensitive values", good, 1.0,
                 truth="id,label,Usage\na,1,PUBLIC\nb,0,public\nc,1,Private\nd,0,private\n", key="public")
    expect_invalid(t, "missing id", "id,label\na,0.9\nb,0.1\nc,0.8\n", "missing_id", "'d' is missing")
    expect_invalid(t, "extra id", good + "zz,0.5\n", "unknown_id", "id 'zz' is not in the test set", line=6)
    expect_invalid(t, "duplicate id", "id,label\na,0.9\nb,0.1\nc,0.8\nd,0.3\nb,0.2\n", "duplicate_id",
                   "line 6: id 'b' appears twice (first on line 3)", line=6)
    expect_invalid(t, "unparsable number", "id,label\na,0.9\nb,abc\nc,0.8\nd,0.3\n", "not_a_number",
                   "line 3, column 'label': 'abc' is not a number", line=3)
    for v in ["nan", "NaN", "inf", "-Infinity", "1e309"]:
        expect_invalid(t, f"non-finite {v}", f"id,label\na,0.9\nb,{v}\nc,0.8\nd,0.3\n", "not_finite", "not a finite number")
    expect_invalid(t, "probability above 1", "id,label\na,1.7\nb,0.1\nc,0.8\nd,0.3\n", "not_a_probability",
                   "column 'label': 1.7 is not a probability", line=2)
    expect_invalid(t, "negative probability", "id,label\na,-0.1\nb,0.1\nc,0.8\nd,0.3\n", "not_a_probability")
    expect_invalid(t, "hex is not a number", "id,label\na,0x1p-1\nb,0.1\nc,0.8\nd,0.3\n", "not_a_number")
    expect_invalid(t, "wrong id column name", "key,label\na,0.9\nb,0.1\nc,0.8\nd,0.3\n", "wrong_header",
                   "first column must be the id column 'id', found 'key'", line=1)
    expect_invalid(t, "no header row", "a,0.9\nb,0.1\nc,0.8\nd,0.3\n", "wrong_header")
    expect_invalid(t, "a pandas index column gets a hint", ",id,label\n0,a,0.9\n1,b,0.1\n2,c,0.8\n3,d,0.3\n",
                   "wrong_header", "to_csv(index=False)")
    expect_invalid(t, "semicolons get a hint", "id;label\na;0.9\nb;0.1\nc;0.8\nd;0.3\n", "wrong_header",
                   "separate columns with ';'")
    expect_invalid(t, "header with one column", "id\na\nb\n", "wrong_header")
    expect_invalid(t, "empty file", "", "empty_file", "empty")
    expect_invalid(t, "only a BOM", "\ufeff", "empty_file")
    expect_invalid(t, "wrong field count", "id,label\na,0.9,1\nb,0.1\nc,0.8\nd,0.3\n", "wrong_field_count",
                   "line 2 has 3 fields, expected 2", line=2)
    expect_invalid(t, "unterminated quote", 'id,label\na,"0.9\nb,0.1\n', "bad_csv")
    expect_invalid(t, "NUL byte", "id,label\na,0.9\x00\nb,0.1\n", "bad_csv", "NUL")
    big = "id,label\na," + "1" * (1 << 20) + "\nb,0.1\nc,0.8\nd,0.3\n"
    expect_invalid(t, "1 MiB line", big, "bad_csv", "too long", line=2)
    expect_invalid(t, "invalid UTF-8 id is echoed escaped", "id,label\na,0.9\n\xffb,0.1\nc,0.8\nd,0.3\n".encode("latin-1"),
                   "unknown_id", "\\xff")
    many = "id,label\n" + "".join(f"x{i},0.5\n" for i in range(100)) + good.split("\n", 1)[1]
    out = expect_invalid(t, "first 20 problems, then a count", many, "unknown_id", "100 problems")
    e = (out or {}).get("error", {})
    check(len(e.get("problems", [])) == 20 and e.get("problem_count") == 100 and "and 80 more" in e.get("message", ""),
          "problems list capped at 20 with the total count", str(e)[:300])
    out = expect_invalid(t, "rows shorter than any valid row (row arrays grow)", "id,label\n" + ",\n" * 5000, "bad_id")
    check(((out or {}).get("error") or {}).get("problem_count") == 10001, "every short row counted (the 4 missing ids are one problem)",
          str(((out or {}).get("error") or {}).get("problem_count")))
    # labels
    lt = "id,label\na,cat\nb,dog\nc,cat\nd,bird\n"
    expect_score(t, "accuracy with labels", "id,label\na,cat\nb,dog\nc,dog\nd,bird\n", 0.75, metric="accuracy", truth=lt)
    expect_invalid(t, "label file with a short row (found by fuzzing)", "id,label\na,cat\nb\nc,dog\nd,bird\n",
                   "wrong_field_count", "line 3 has 1 fields", metric="accuracy", truth=lt)
    expect_invalid(t, "unknown label", "id,label\na,cat\nb,cow\nc,dog\nd,bird\n", "unknown_label",
                   "'cow' is not one of the classes: bird, cat, dog", metric="accuracy", truth=lt)
    expect_score(t, "accuracy from one column per class (ties to the leftmost)",
                 "id,dog,cat,bird\na,0.1,0.8,0.1\nb,0.5,0.5,0\nc,0.2,0.2,0.6\nd,0,0,1\n", 0.75, metric="accuracy", truth=lt)
    expect_invalid(t, "class columns not matching the classes", "id,dog,cat,cow\na,1,0,0\nb,1,0,0\nc,1,0,0\nd,1,0,0\n",
                   "wrong_header", "column 'cow' is not a class", metric="accuracy", truth=lt)
    expect_invalid(t, "multiclass probabilities in one column", "id,label\na,0.1\nb,0.1\nc,0.1\nd,0.1\n", "wrong_header",
                   "one probability column per class", metric="log_loss", truth=lt)
    expect_invalid(t, "regression needs one column", "id,a,b\na,1,2\nb,1,2\nc,1,2\nd,1,2\n", "wrong_header",
                   "exactly one prediction column", metric="rmse", truth="id,y\na,1\nb,2\nc,3\nd,4\n")
    # configuration errors: exit 2, never exit 1
    tp = t.path("truth.csv", TRUTH)
    pp = t.path("good.csv", good)
    for name, args in [
        ("unknown metric", ["--truth", tp, "--pred", pp, "--metric", "nope"]),
        ("missing truth file", ["--truth", t.path("nope.csv"), "--pred", pp, "--metric", "roc_auc"]),
        ("missing --pred", ["--truth", tp, "--metric", "roc_auc"]),
        ("unknown option", ["--truth", tp, "--pred", pp, "--metric", "roc_auc", "--frobnicate"]),
        ("bad params JSON", ["--truth", tp, "--pred", pp, "--metric", "roc_auc", "--params", "{nope"]),
        ("cost_matrix without matrix", ["--truth", tp, "--pred", pp, "--metric", "cost_matrix"]),
        ("id column not in truth", ["--truth", tp, "--pred", pp, "--metric", "roc_auc", "--id-column", "zz"]),
    ]:
        rc, out, err, _, raw = run(args)
        check(rc == 2 and out is not None and "error" in out and err, f"exit 2: {name}", f"rc={rc} {raw[:200]!r}")
    one = "id,label\na,1\nb,1\n"
    rc, out, err, _, raw = run(["--truth", t.path("one.csv", one), "--pred", t.path("onep.csv", "id,label\na,0.2\nb,0.3\n"),
                                "--metric", "roc_auc"])
    check(rc == 2 and "undefined" in (out or {}).get("error", {}).get("message", ""),
          "roc_auc on a single-class truth says it is undefined", raw[:300])
    dup = "id,label\na,1\na,0\n"
    rc, out, err, _, raw = run(["--truth", t.path("dup.csv", dup), "--pred", pp, "--metric", "roc_auc"])
    check(rc == 2 and "more than once" in err, "duplicate id in the ground truth is a configuration error", err)
    big = "id,label\n" + "".join(f"row{i},{i % 2}\n" for i in range(60000)) + "row123,1\n"
    rc, out, err, _, raw = run(["--truth", t.path("bigdup.csv", big), "--pred", pp, "--metric", "roc_auc"])
    check(rc == 2 and "'row123' appears more than once" in err, "a repeated id among 60,001 ground-truth rows is found", err)
    # the same with a prediction file that takes far longer to read: the ground truth's thread checks the ids alone
    # meanwhile (the other path above); both name the same id
    long_pred = t.path("long_pred.csv", "id,label\n" + "row1,0.5\n" * 1000000)
    rc, out, err, _, raw = run(["--truth", t.path("bigdup.csv", big), "--pred", long_pred, "--metric", "roc_auc"])
    check(rc == 2 and "'row123' appears more than once" in err,
          "a repeated ground-truth id is found while a long prediction file is read", err)
    rc, out, err, _, raw = run(["--help"])
    text = raw.decode()
    check(rc == 0 and all(m in text for m in ["cost_matrix", "c_index", "quadratic_weighted_kappa", "tar.gz", "--params",
                                               "--bootstrap"]), "--help documents metrics, params and formats")
    check(all(v in text for v in ["CONCOURS_SCORE_TIMING", "CONCOURS_SCORE_HUGE_PAGES", "CONCOURS_SCORE_SHORT_TAGS",
                                  "CONCOURS_SCORE_SPLIT_TEST", "CONCOURS_SCORE_KEEP_IDS", "CONCOURS_SCORE_RECACHE",
                                  "CONCOURS_SCORE_PAR_TEST", "CONCOURS_SCORE_BINS_TEST"]),
          "--help documents the environment variables")
    # id column by name, custom split column
    rc, out, err, _, raw = run(["--truth", t.path("t2.csv", "label,key,Part\n1,a,Public\n0,b,Private\n1,c,Private\n0,d,Public\n"),
                                "--pred", t.path("p2.csv", "key,label\na,0.9\nb,0.1\nc,0.8\nd,0.3\n"),
                                "--metric", "roc_auc", "--id-column", "key", "--split-column", "Part"])
    check(rc == 0 and out and out.get("public") == 1.0 and out.get("private") == 1.0, "--id-column and --split-column", raw[:300])
    join_at_scale(t)
    two_readers(t)
    ranked_splits(t)
    c_index_reference(t)
    binned_ranks(t)
    exact_log_loss(t)
    micro_values(t)
    ordered_truth(t)
    dense_ids(t)
    truth_ids_unkept(t)
    written_forms(t)
    address_space(t)
    t.done()


def address_space(t):
    """A scoring run's address space is bounded (the bundle's memory_mb, 4 GiB by default, is RLIMIT_AS): the row
    arrays are sized from the file's mean line length, not from two bytes a field (8 GiB reserved for 10M 5-class rows
    of 17 digits, which then failed out of memory). 600,000 shuffled 5-class rows of 17 digits (81 MB with the ground
    truth) must score within twice the input plus 256 MiB (the build before needed 550 MiB)."""
    import random
    rnd = random.Random(31)
    n = 600000
    truth = t.path("as_truth.csv", "id,label,Usage\n" + "".join(
        f"id_{i:09d},{rnd.randrange(5)},{'Public' if rnd.random() < 0.3 else 'Private'}\n" for i in range(n)))
    order = list(range(n))
    rnd.shuffle(order)
    pred = t.path("as_pred.csv", "id,0,1,2,3,4\n" + "".join(
        f"id_{i:09d}," + ",".join(repr(rnd.random() / 5) for _ in range(5)) + "\n" for i in order))
    cap = 2 * (os.path.getsize(truth) + os.path.getsize(pred)) + (256 << 20)
    for metric in ("roc_auc", "log_loss"):
        rc, out, err, _, raw = run(["--truth", truth, "--pred", pred, "--metric", metric], max_memory=cap)
        check(rc == 0 and out and out.get("rows") == n,
              f"600,000 5-class rows of 17 digits score within {cap >> 20} MiB of address space: {metric}",
              err[:300] + raw[:300].decode("utf-8", "replace"))


def written_forms(t):
    """Files as R, Python and Excel write them are read by the fast readers (csv_next_plain(), csv_next_numbers()):
    quoted as R's write.csv() quotes them (the header and the text fields) and Python's csv.QUOTE_ALL (every field),
    values below 1e-4 with an exponent, as Python's repr() and pandas write them (7.785064452804982e-05), CRLF line
    ends. The answer, problems and their lines included, must be that of the plain file (the same decimals without
    exponent, LF line ends), byte for byte, for binary and 3-class files in order and shuffled."""
    import random
    from decimal import Decimal
    rnd = random.Random(23)
    n = 20000
    ids = [f"q{i:06d}" for i in range(n)]
    labels = [rnd.choice("abc") for _ in ids]
    splits = ["Public" if rnd.random() < 0.3 else "Private" for _ in ids]

    def quote(line, every):
        fields = line.split(",")
        return ",".join(f'"{f}"' if every or not f.replace(".", "", 1).isdigit() else f for f in fields)

    def write(name, lines, style):
        if style == "exponents":
            lines = [",".join(repr(float(f)) if "." in f else f for f in x.split(",")) for x in lines]
        end = "\r\n" if style == "crlf" else "\n"
        text = end.join(lines if style in ("plain", "exponents", "crlf") else [quote(x, style == "all") for x in lines])
        return t.path(f"{name}_{style}.csv", text + end)

    shuffled = list(range(n))
    rnd.shuffle(shuffled)
    for classes in ("ab", "abc"):
        truth = ["id,label,Usage"] + [f"{ids[i]},{labels[i] if classes == 'abc' else int(labels[i] != 'a')},"
                                      f"{splits[i]}" for i in range(n)]
        cols = ["label"] if classes == "ab" else list(classes)
        for order in ("aligned", "shuffled", "problems"):
            rows = shuffled if order == "shuffled" else range(n)
            pred = ["id," + ",".join(cols)] + [
                ids[i] + "," + ",".join(format(Decimal(repr(10 ** (-8 * rnd.random()))), "f") for _ in cols)
                for i in rows]
            if order == "problems":  # an empty value, a bad number and an unknown id, on known lines
                pred[5] = pred[5].rsplit(",", 1)[0] + ","
                pred[9000] = pred[9000].rsplit(",", 1)[0] + ",x1"
                pred[15000] = "zz" + pred[15000]
            answers = {}
            for style in ("plain", "r", "all", "exponents", "crlf"):
                truth_style = "plain" if style == "exponents" else style
                args = ["--truth", write(f"qt_{classes}", truth, truth_style), "--pred",
                        write(f"qp_{classes}_{order}", pred, style), "--metric",
                        "roc_auc" if classes == "ab" else "log_loss"]
                rc, _, _, _, raw = run(args)
                answers[style] = (rc, raw)
            want_rc = 1 if order == "problems" else 0
            check(answers["plain"][0] == want_rc and all(a == answers["plain"] for a in answers.values()),
                  f"quoted files, exponents and CRLF answer as plain ones: {classes}, {order}", repr(answers)[:600])


def join_at_scale(t):
    """The partitioned hash join (rows in another order than the ground truth) on 300,000 rows: the same values
    as in order, ids whose 32-bit hash tags collide settled by their bytes, and the problems of the rows
    worded as on the small files whichever of the two threads met them."""
    import random
    rnd = random.Random(7)
    n = 300000
    ids = [f"case-{i:07d}" for i in range(n)]
    truth = "id,label,Usage\n" + "".join(f"{i},{rnd.randint(0, 1)},{'Public' if rnd.random() < 0.3 else 'Private'}\n"
                                          for i in ids)
    rows = [f"{i},{rnd.random():.6f}\n" for i in ids]
    tp = t.path("big_truth.csv", truth)
    rc, inorder, err, _, raw = run(["--truth", tp, "--pred", t.path("big_inorder.csv", "id,label\n" + "".join(rows)),
                                    "--metric", "roc_auc"])
    # in order but for one unknown id late in the file: the check of the order (a half on each core) must see it
    late = rows[:]
    late[n - 1000] = "case-late,0.5\n"
    late_rc, _, _, _, late_raw = run(["--truth", tp, "--pred", t.path("big_late.csv", "id,label\n" + "".join(late)),
                                      "--metric", "roc_auc"])
    check(late_rc == 1 and "'case-late' is not in the test set" in late_raw.decode() and
          ids[n - 1000] in late_raw.decode(),
          "300,000 rows in order but one: the unknown id and the missing one are reported", late_raw[:400])
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    sp = t.path("big_shuffled.csv", "id,label\n" + "".join(shuffled))
    for short in ("0", "1"):
        # tags as wide as 300,000 rows allow (45 bits): ids almost never meet; 32-bit tags: some do. The ids are
        # dense (a prefix and consecutive numbers), which the join takes without keys: not here
        p = subprocess.run([BIN, "--truth", tp, "--pred", sp, "--metric", "roc_auc"], capture_output=True,
                           timeout=120, env=dict(os.environ, CONCOURS_SCORE_TIMING="1", CONCOURS_SCORE_SHORT_TAGS=short,
                                                 CONCOURS_SCORE_NO_DENSE="1"))
        out = json.loads(p.stdout or b"null")
        check(rc == 0 and p.returncode == 0 and inorder and out and
              all(close(out.get(k), inorder.get(k), 1e-12) for k in ("score", "public", "private")),
              f"300,000 rows shuffled score as in order (short tags: {short})", f"{inorder} {out} {p.stderr[-300:]!r}")
        # the ranking metrics need no row order: the labels go to the prediction rows, with the very same value
        check(b"reads the rows in the prediction file's order" in p.stderr and out and
              all(out.get(k) == inorder.get(k) for k in ("score", "public", "private")),
              f"roc_auc reads shuffled rows in the file's order, same value to the last bit (short tags: {short})",
              f"{inorder} {out}")
        shared = [int(line.split()[4]) for line in p.stderr.decode().splitlines() if "on a tag two ids share" in line]
        check(shared and (shared[0] > 0 if short == "1" else shared[0] < 10),
              f"ids sharing a hash tag were compared byte by byte (short tags: {short})", p.stderr.decode()[-400:])
    p = subprocess.run([BIN, "--truth", tp, "--pred", sp, "--metric", "roc_auc"], capture_output=True, timeout=120,
                       env=dict(os.environ, CONCOURS_SCORE_TIMING="1"))
    check(p.returncode == 0 and json.loads(p.stdout or b"null") == inorder and b"rows found from the ids' text" in p.stderr,
          "300,000 shuffled rows of dense ids: joined from the ids' text, the same values", p.stderr[-300:])
    # what needs the ground truth's order keeps it: a sum (log_loss), a bootstrap (resamples drawn by row), class
    # columns in another order than the classes
    classes = ["x", "y", "z"]
    ctruth = t.path("c_truth.csv", "id,label,Usage\n" + "".join(
        f"{i},{rnd.choice(classes)},{'Public' if rnd.random() < 0.3 else 'Private'}\n" for i in ids[:30000]))
    crows = [(i, [rnd.random() for _ in classes]) for i in ids[:30000]]
    cshuf = crows[:]
    rnd.shuffle(cshuf)
    files = {"in order": "id,x,y,z\n" + "".join(f"{i},{a:.6f},{b:.6f},{c:.6f}\n" for i, (a, b, c) in crows),
             "shuffled": "id,x,y,z\n" + "".join(f"{i},{a:.6f},{b:.6f},{c:.6f}\n" for i, (a, b, c) in cshuf),
             "columns swapped": "id,z,x,y\n" + "".join(f"{i},{c:.6f},{a:.6f},{b:.6f}\n" for i, (a, b, c) in cshuf)}
    # log_loss sums its terms exactly, in any order: shuffled rows are read in the file's order; a bootstrap, or
    # columns in another order, takes each row's term into the ground truth's order (one double a row, not the
    # three values); the values are the same to the last bit either way, bootstrap included
    for metric, extra, free, terms, swapped_terms in (("average_precision", [], True, False, False),
                                                      ("roc_auc", ["--bootstrap", "20"], False, False, False),
                                                      ("log_loss", [], True, False, True),
                                                      ("log_loss", ["--bootstrap", "20"], False, True, True)):
        got = {}
        for name, body in files.items():
            p = subprocess.run([BIN, "--truth", ctruth, "--pred", t.path("c_pred.csv", body), "--metric", metric] + extra,
                               capture_output=True, timeout=120, env=dict(os.environ, CONCOURS_SCORE_TIMING="1"))
            got[name] = (p.returncode, json.loads(p.stdout or b"null"),
                         b"reads the rows in the prediction file's order" in p.stderr,
                         b"per-row terms" in p.stderr)
        same = all(got[k][0] == 0 and got[k][1] and got["in order"][1] and
                   all(close(got[k][1].get(f), got["in order"][1].get(f), 0 if free or terms else 1e-12)
                       for f in ("score", "public", "private"))
                   and got[k][1].get("ci") == got["in order"][1].get("ci") for k in files)
        check(same and got["shuffled"][2] == free and not got["columns swapped"][2] and not got["in order"][2] and
              got["shuffled"][3] == terms and got["columns swapped"][3] == swapped_terms and not got["in order"][3],
              f"{metric} {' '.join(extra)}: shuffled rows and swapped columns score as in order, the file's order "
              f"read only where no order matters", repr(got)[:600])
    # the per-case file (the jury's paired statistics) lists the private rows in the ground truth's order, whatever
    # order the metric read them in
    for metric, path_said, size in (("roc_auc", b"reads the rows in the prediction file's order", 30000 * 8),
                                    ("log_loss", b"reads the rows in the prediction file's order", 30000 * 4)):
        cases, said = {}, {}
        for name in ("in order", "shuffled"):
            pc = t.path(f"c_{name[:2]}.cases")
            p = subprocess.run([BIN, "--truth", ctruth, "--pred", t.path("c_pred.csv", files[name]), "--metric", metric,
                                "--per-case", pc], capture_output=True, timeout=120,
                               env=dict(os.environ, CONCOURS_SCORE_TIMING="1"))
            with open(pc, "rb") as f:
                cases[name] = f.read()
            said[name] = path_said in p.stderr
        check(said["shuffled"] and not said["in order"] and len(cases["shuffled"]) > size and
              cases["shuffled"] == cases["in order"],
              f"{metric} --per-case: shuffled rows write the same per-case file as in order, byte for byte",
              f"{said} {len(cases['shuffled'])} {len(cases['in order'])}")
    # ids in quotes with doubled quotes, in the middle third of both files: the reader rewrites those bytes in
    # place, and their pages must survive the files being handed back to the page cache during the join
    def quoted(i):
        return f'"q""{i}""x"' if n // 3 <= int(i[5:]) < 2 * n // 3 else i
    qtruth = "id,label,Usage\n" + "".join(f"{quoted(line.split(',')[0])},{line.split(',', 1)[1]}"
                                          for line in truth.splitlines(True)[1:])
    qrows = [f"{quoted(r.split(',')[0])},{r.split(',', 1)[1]}" for r in shuffled]
    rc, out, err, _, raw = run(["--truth", t.path("q_truth.csv", qtruth), "--pred",
                                t.path("q_shuffled.csv", "id,label\n" + "".join(qrows)), "--metric", "roc_auc"])
    check(rc == 0 and out and all(close(out.get(k), inorder.get(k), 1e-12) for k in ("score", "public", "private")),
          "300,000 shuffled rows, a third of the ids quoted with doubled quotes, score as in order", raw[:400])
    # a repeated id in each half of the file, an unknown one, and the ids they took the place of missing (one
    # problem for all three)
    bad = shuffled[:]
    first_id = bad[10].split(",")[0]
    late_id = bad[n - 10].split(",")[0]
    lost = [bad[n // 2 + 5].split(",")[0], bad[20].split(",")[0]]
    bad[n // 2 + 5] = f"{first_id},0.5\n"
    bad[20] = f"{late_id},0.5\n"
    bad[n - 3] = "case-none,0.5\n"
    lost.append(shuffled[n - 3].split(",")[0])
    rc, out, err, _, raw = run(["--truth", tp, "--pred", t.path("big_bad.csv", "id,label\n" + "".join(bad)),
                                "--metric", "roc_auc"])
    e = (out or {}).get("error", {})
    text = json.dumps(e)
    check(rc == 1 and e.get("problem_count") == 4 and f"id '{first_id}' appears twice (first on line 12)" in text
          and f"id '{late_id}' appears twice" in text and "id 'case-none' is not in the test set" in text
          and all(f"'{i}'" in text for i in lost),
          "300,000 shuffled rows: repeats across halves, an unknown and missing ids all reported", raw[:600])
    # the same file through the hash join (the ids taken as keys), with tags as wide as the rows allow and 32-bit
    # ones (where an unknown id may share its tag with a ground-truth id, and a candidate's owner is another
    # row's): the join's check in the ground truth's order finds it unclean, and the second pass words the same
    # problems. Then a file in order for its first half, shuffled after, one row of the shuffled half repeating an
    # id of the half matched in place: the row claims a ground-truth row that its in-order twin owns, which leaves
    # another unowned.
    half = n // 2
    tail = rows[half:]
    rnd.shuffle(tail)
    claim = rows[:half] + tail
    claimed_id, lost_id = rows[77].split(",")[0], tail[1234].split(",")[0]
    claim[half + 1234] = f"{claimed_id},0.5\n"
    claim_path = t.path("big_claim.csv", "id,label\n" + "".join(claim))
    for short in ("0", "1"):
        env = dict(os.environ, CONCOURS_SCORE_TIMING="1", CONCOURS_SCORE_SHORT_TAGS=short, CONCOURS_SCORE_NO_DENSE="1")
        p = subprocess.run([BIN, "--truth", tp, "--pred", t.path("big_bad.csv"), "--metric", "roc_auc"],
                           capture_output=True, timeout=120, env=env)
        check(p.returncode == 1 and p.stdout.decode() == raw.decode() and b"join by hash" in p.stderr,
              f"300,000 shuffled rows joined by hash: the same problems, word for word (short tags: {short})",
              p.stdout[:300] + p.stderr[-300:])
        p = subprocess.run([BIN, "--truth", tp, "--pred", claim_path, "--metric", "roc_auc"], capture_output=True,
                           timeout=120, env=env)
        e = (json.loads(p.stdout or b"null") or {}).get("error", {})
        check(p.returncode == 1 and b"join by hash" in p.stderr and e.get("problem_count") == 2 and
              f"line {half + 1234 + 2}: id '{claimed_id}' appears twice (first on line 79)" in json.dumps(e) and
              f"id '{lost_id}' is missing" in json.dumps(e),
              f"a shuffled row repeating an id of the in-order prefix: the repeat and the missing id (short tags: "
              f"{short})", p.stdout[:400] + p.stderr[-300:])


def two_readers(t):
    """A large prediction file is read by two threads when the ground truth is read first: the second takes the
    second half of what is left (CONCOURS_SCORE_SPLIT_TEST makes it take any file). Whatever the file, the answer
    must be the one reader's, byte for byte: rows, lines in messages, problems and their order, limits."""
    import random
    rnd = random.Random(11)
    n = 3000
    ids = [f"s{i:05d}" for i in range(n)]
    classes = ["a", "b", "c"]
    truth = t.path("two_truth.csv", "id,label,Usage\n" + "".join(
        f"{i},{rnd.choice(classes)},{'Public' if rnd.random() < 0.4 else 'Private'}\n" for i in ids))

    def rows(order=None):
        return [f"{i},{rnd.random():.5f},{rnd.random():.5f},{rnd.random():.5f}" for i in (order or ids)]

    head = "id,a,b,c"
    shuffled = ids[:]
    rnd.shuffle(shuffled)
    base = rows()
    blanks = base[:]
    for k in (10, 11, 500, 2500):  # blank lines in both halves: the second reader's rows move down
        blanks[k] = "\n" + blanks[k]
    bad = base[:]
    for k in range(0, n, 97):  # problems in both halves, more than the 20 kept
        bad[k] = bad[k].replace(",", ",x", 1) if k % 2 else bad[k].rsplit(",", 1)[0]
    bad[1800] = "," + bad[1800].split(",", 1)[1]  # an empty id late in the file
    nul_late = base[:2400] + ["s02400,0.1,\x00,0.2"] + base[2401:]
    nul_early = base[:300] + ["s00300,0.1,\x00,0.2"] + base[301:]
    quoted_late = base[:2600] + [f'"{ids[2600]}",0.1,0.2,0.3'] + base[2601:]
    quoted_early = base[:20] + [f'"{ids[20]}",0.1,0.2,0.3'] + base[21:]
    doubled_late = base[:2600] + [f'"{ids[2600]}""x",0.1,0.2,0.3'] + base[2601:]  # an unknown id, in quotes
    # R's write.csv() quotes the header and the ids; Python's csv.QUOTE_ALL every field
    r_style = ['"' + r.replace(",", '",', 1) for r in base]
    quote_all = ['"' + r.replace(",", '","') + '"' for r in base]
    # line breaks in quoted fields (unknown ids) before the split: the second reader's rows and lines move
    quoted_breaks = base[:20] + [f'"{ids[20]}\r\nx",0.1,0.2,0.3', f'"{ids[21]}\n\nx",0.1,0.2,0.3'] + base[22:]
    quoted_breaks[2500] = "," + quoted_breaks[2500].split(",", 1)[1]  # and a problem after it
    # ids over 31 lines each: the line break the second reader would start after is in a quoted field
    tall = ['"' + i + "\n" * 30 + '",0.1,0.2,0.3' for i in ids]
    tall_body = head + "\n" + "\n".join(tall) + "\n"
    mid = tall_body.index("\n", len(head) + 1 + (len(tall_body) - len(head) - 1) // 2)
    assert tall_body[:mid].count('"') % 2 == 1  # inside the quotes
    cases = [  # name, body, extra options, whether the second reader must take part
        ("aligned", head + "\n" + "\n".join(base) + "\n", [], "yes"),
        ("shuffled", head + "\n" + "\n".join(rows(shuffled)) + "\n", [], "yes"),
        ("no final newline", head + "\n" + "\n".join(base), [], "yes"),
        ("blank lines", head + "\n" + "\n".join(blanks) + "\n", [], "yes"),
        ("CRLF", head + "\r\n" + "\r\n".join(base) + "\r\n\r\n", [], "yes"),
        ("lone CR", head + "\r" + "\r".join(base) + "\r", [], "no"),
        ("problems in both halves", head + "\n" + "\n".join(bad) + "\n", [], "yes"),
        ("a NUL byte late", head + "\n" + "\n".join(nul_late) + "\n", [], "yes"),
        ("a NUL byte early", head + "\n" + "\n".join(nul_early) + "\n", [], "no"),  # its rows are not used
        ("quotes late", head + "\n" + "\n".join(quoted_late) + "\n", [], "yes"),
        ("quotes early", head + "\n" + "\n".join(quoted_early) + "\n", [], "yes"),
        ("quoted ids (R)", '"id","a","b","c"\n' + "\n".join(r_style) + "\n", [], "yes"),
        ("every field quoted", '"id","a","b","c"\r\n' + "\r\n".join(quote_all) + "\r\n", [], "yes"),
        ("quoted line breaks early", head + "\n" + "\n".join(quoted_breaks) + "\n", [], "yes"),
        ("the split in a quoted field", tall_body, [], "no"),
        ("more rows than --max-rows", head + "\n" + "\n".join(base + base[:600]) + "\n", ["--max-rows", "3000"], "short"),
        # rows shorter than the arrays' first guess (empty fields): the second reader reaches its bound
        ("short rows", head + "\n" + "x,,,\n" * 12000, [], "short"),
        # a field with a doubled quote would be unescaped in place: the second reader stops before it, and the
        # first reads those bytes as they were written (they were read twice, rewritten, before)
        ("doubled quotes late", head + "\n" + "\n".join(doubled_late) + "\n", [], "short"),
        # (the second reader starts near row 6,000 and reaches its bound near 8,500)
        ("short rows, doubled quotes", head + "\n" + "x,,,\n" * 7000 + '"a""b",,,\n' + "x,,,\n" * 5000, [], "short"),
    ]
    # log_loss keeps every value; accuracy keeps each row's best column instead (struct pred.best)
    for (name, body, extra, helped), metric in [(c, m) for c in cases for m in ("log_loss", "accuracy")]:
        pred = t.path("two_pred.csv", body)
        args = ["--truth", truth, "--pred", pred, "--metric", metric] + extra
        one = subprocess.run([BIN] + args, capture_output=True, timeout=120)
        two = subprocess.run([BIN] + args, capture_output=True, timeout=120,
                             env=dict(os.environ, CONCOURS_SCORE_SPLIT_TEST="1", CONCOURS_SCORE_TIMING="1"))
        said = [line for line in two.stderr.decode().splitlines() if "read by the helper" in line]
        took = "no" if not said else "short" if "stopped short" in said[0] else "yes"
        check(one.returncode == two.returncode and one.stdout == two.stdout and took == helped,
              f"two readers answer as one: {name}, {metric} (rc {one.returncode}, second reader: {took})",
              f"{one.stdout[:300]!r} {two.stdout[:300]!r} {said}")
    # the label form (one column of labels) goes through the same readers
    labels = t.path("two_labels.csv", "id,label\n" + "".join(f"{i},{rnd.choice(classes)}\n" for i in shuffled))
    args = ["--truth", truth, "--pred", labels, "--metric", "accuracy"]
    one = subprocess.run([BIN] + args, capture_output=True, timeout=120)
    two = subprocess.run([BIN] + args, capture_output=True, timeout=120,
                         env=dict(os.environ, CONCOURS_SCORE_SPLIT_TEST="1", CONCOURS_SCORE_TIMING="1"))
    check(one.returncode == 0 and one.stdout == two.stdout and b"read by the helper" in two.stderr,
          "two readers answer as one: labels", f"{one.stdout[:300]!r} {two.stdout[:300]!r}")
    # the second reader's first byte right after one of four blank lines: the first reader reads past it in one record
    # (the blank lines, then the row after them) and drops the second reader's rows, whose places start one to three
    # above its own next ones. The second reader must not write a row before the first says it was not past that byte,
    # nor after the first went past it: the build before let both write the same places, and 1-3 % of the runs
    # answered a valid file with repeated and missing ids. 300 runs, each the one reader's answer.
    ids4 = [f"c{i:05d}" for i in range(4000)]
    truth4 = t.path("cross_truth.csv", "id,label\n" + "".join(f"{i},{rnd.randrange(2)}\n" for i in ids4))
    rows4 = [f"{i},{rnd.random():.6f}\n" for i in ids4]
    for pad in range(400):  # row 0's value grows until the middle of the rows' bytes is in the blank lines
        rows4[0] = f"{ids4[0]},0.{'0' * pad}5\n"
        before = "id,label\n" + "".join(rows4[:2000])
        body = before + "\n" * 4 + "".join(rows4[2000:])
        mid = 9 + (len(body) - 9) // 2
        if len(before) <= mid < len(before) + 3:
            break
    args = ["--truth", truth4, "--pred", t.path("cross_pred.csv", body), "--metric", "roc_auc"]
    one = subprocess.run([BIN] + args, capture_output=True, timeout=120)
    differ = [two.stdout for two in (subprocess.run([BIN] + args, capture_output=True, timeout=120,
                                                    env=dict(os.environ, CONCOURS_SCORE_SPLIT_TEST="1"))
                                     for _ in range(300)) if two.stdout != one.stdout]
    check(one.returncode == 0 and len(before) <= mid < len(before) + 3 and not differ,
          "two readers answer as one when the first reads past the second's first byte (300 runs)",
          f"{len(differ)} differ: {differ[:1]!r}")


def rank_reference(metric, rows, classes, keep):
    """roc_auc or average_precision over the rows KEEP accepts, computed here as scikit-learn defines them and with
    the scorer's arithmetic (exact pair counts, one division; the average precision summed highest threshold
    first), so that the scorer's value must match to the last digit it writes (15 significant): binary (CLASSES "0",
    "1", one column for "1") or each class against the rest, macro average over the classes present."""
    import bisect
    sel = [(lab, [float(v) for v in vals]) for _, lab, use, vals in rows if keep(use)]
    targets = ["1"] if classes == ["0", "1"] else classes
    total, used = 0.0, 0
    for c, target in enumerate(targets):
        pos = sorted(v[c] for lab, v in sel if lab == target)
        neg = sorted(v[c] for lab, v in sel if lab != target)
        if not pos:
            continue
        if metric == "roc_auc":
            twice = sum(bisect.bisect_left(neg, x) + bisect.bisect_right(neg, x) for x in pos)
            total += twice / (2 * len(pos) * len(neg))
        else:
            ap, tp, fp = 0.0, 0, 0
            counts = {}
            for x in pos:
                counts.setdefault(x, [0, 0])[0] += 1
            for x in neg:
                counts.setdefault(x, [0, 0])[1] += 1
            for x in sorted(counts, reverse=True):
                cp, cn = counts[x]
                tp += cp
                fp += cn
                if cp:
                    ap += (cp / float(len(pos))) * (tp / float(tp + fp))
            total += ap
        used += 1
    return float(f"{total / used:.15g}")


def ranked_splits(t):
    """roc_auc and average_precision over all rows take the runs' path (four runs per class, counted, gathered and
    walked on two threads from 65,536 rows; without a split column, each half of the rows stands for a split): the
    values with a split column, and without one, must be to the last digit those computed here on all rows, the
    public rows alone and the private rows alone (the public and private files without a split column). Values
    with three decimals tie often; class 'd' is in the private rows only."""
    import random
    rnd = random.Random(5)
    for n in (3000, 100000):
        for kind, classes in (("binary", ["0", "1"]), ("4-class", ["a", "b", "c", "d"])):
            rows = []
            for i in range(n):
                public = rnd.random() < 0.3
                label = rnd.choice(classes[:3] if public and len(classes) == 4 else classes)
                values = [f"{rnd.random():.3f}" for _ in (classes[1:] if kind == "binary" else classes)]
                rows.append((f"r{i:06d}", label, "Public" if public else "Private", values))
            rnd.shuffle(rows)
            order = rows[:]
            rnd.shuffle(order)  # the prediction file in another order: the join and the metric's own order
            head = "id," + ("1" if kind == "binary" else ",".join(classes)) + "\n"

            def files(tag, keep):
                # the public rows alone have no class 'd': their file has no column for it (each class's value
                # reads its own column only)
                ncol = 3 if tag == "public" and kind != "binary" else len(head.split(",")) - 1
                truth = t.path(f"rs_{tag}_truth.csv", "id,label" + (",Usage" if tag == "split" else "") + "\n" + "".join(
                    f"{i},{lab}" + (f",{use}" if tag == "split" else "") + "\n" for i, lab, use, _ in rows if keep(use)))
                pred = t.path(f"rs_{tag}_pred.csv", ",".join(head.split(",")[:ncol + 1]).rstrip("\n") + "\n" + "".join(
                    f"{i},{','.join(v[:ncol])}\n" for i, _, use, v in order if keep(use)))
                return truth, pred

            subsets = (("split", lambda u: True), ("all", lambda u: True),
                       ("public", lambda u: u == "Public"), ("private", lambda u: u == "Private"))
            for metric in ("roc_auc", "average_precision"):
                got = {}
                for tag, keep in subsets:
                    truth, pred = files(tag, keep)
                    rc, out, err, _, raw = run(["--truth", truth, "--pred", pred, "--metric", metric])
                    got[tag] = out if rc == 0 and out else {}
                want = {tag: rank_reference(metric, rows, classes[:3] if tag == "public" and kind != "binary"
                                            else classes, keep) for tag, keep in subsets}
                split = got["split"]
                check(split and [split.get("score"), split.get("public"), split.get("private")] ==
                      [want["all"], want["public"], want["private"]],
                      f"{metric}, {kind}, {n} rows: the split path's three values are the reference's",
                      json.dumps(got["split"])[:300] + " " + json.dumps(want)[:300])
                check([got[tag].get("score") for tag in ("all", "public", "private")] ==
                      [want["all"], want["public"], want["private"]],
                      f"{metric}, {kind}, {n} rows: without a split column, the values are the reference's",
                      json.dumps(got)[:600] + " " + json.dumps(want)[:300])


def c_index_brute(subjects):
    """Harrell's C over SUBJECTS (time, event, risk), pair by pair as docs/scorer.md and gen_refs.py define it: an
    event at t is comparable with every later time and with a censoring at t; the higher risk should have the
    earlier event; tied risks count 1/2. Written to the scorer's 15 significant digits."""
    num, den = 0.0, 0
    for ti, ei, ri in subjects:
        if not ei:
            continue
        for tj, ej, rj in subjects:
            if tj > ti or (tj == ti and not ej):
                den += 1
                num += 1.0 if ri > rj else 0.5 if ri == rj else 0.0
    return float(f"{num / den:.15g}")


def c_index_reference(t):
    """The c-index sorts its keys by radix and walks one word per subject (its time's and its risk's ranks, its
    event): with many tied times and risks, -0 among the zeros of both, the three values must be the pair-by-pair
    reference's to the last digit, for 300 subjects (splits of about 120 and 180) and 1,200."""
    import random
    rnd = random.Random(11)
    for n in (300, 1200):
        rows = []
        for i in range(n):
            time = rnd.choice(["-0.0", "0", f"{rnd.randint(1, 40)}", f"{rnd.randint(1, 40)}.5"])
            risk = rnd.choice(["-0.0", "0", f"{rnd.uniform(-2, 2):.2f}", f"{rnd.randint(-3, 3)}"])
            rows.append((f"s{i}", time, rnd.random() < 0.6, risk, "Public" if rnd.random() < 0.4 else "Private"))
        rnd.shuffle(rows)
        truth = t.path("ci_truth.csv", "id,time,event,Usage\n" + "".join(
            f"{i},{tm},{int(e)},{u}\n" for i, tm, e, _, u in rows))
        order = rows[:]
        rnd.shuffle(order)
        pred = t.path("ci_pred.csv", "id,risk\n" + "".join(f"{i},{r}\n" for i, _, _, r, _ in order))
        rc, out, err, _, raw = run(["--truth", truth, "--pred", pred, "--metric", "c_index"])

        def subset(keep):
            return [(float(tm), e, float(r)) for _, tm, e, r, u in rows if keep(u)]
        want = [c_index_brute(subset(lambda u: True)), c_index_brute(subset(lambda u: u == "Public")),
                c_index_brute(subset(lambda u: u == "Private"))]
        got = [(out or {}).get(k) for k in ("score", "public", "private")] if rc == 0 else [raw[:300]]
        check(got == want, f"c_index, {n} subjects with tied times and risks: the pair-by-pair values", f"{got} {want}")


def binned_ranks(t):
    """From 250,000 rows, roc_auc and average_precision count decimals of six places at most by bin (10^-6 wide)
    instead of sorting them: the values must be those of the sort (CONCOURS_SCORE_NO_BINS=1) to the last bit, with
    a split column and without, with ties (three decimals), with 0 and 1, and when a value that has no bin (seven or
    eight places) comes late, after some classes were counted and part of one."""
    import random
    rnd = random.Random(11)
    n = 260000
    classes = ["a", "b", "c", "d"]
    labels = [rnd.choice(classes) for _ in range(n)]
    public = [rnd.random() < 0.3 and lab != "d" for lab in labels]  # class 'd' in the private rows only
    three = [[f"{rnd.random():.3f}" for _ in classes] for _ in range(n)]
    six = [[f"{rnd.random():.6f}" for _ in classes] for _ in range(n)]
    for k in range(0, n, 997):
        six[k][k % 4] = rnd.choice(["0", "1", "1.000000", "0.000000", "0.5"])
    # the six-place neighbours of the odd values below, in many rows: a bin taken for them would tie them
    for k in rnd.sample(range(n), 400):
        six[k][k % 4] = rnd.choice(["0.123457", "0.123456", "1.000000", "0.000000", "0.999999", "0.000001"])
    variants = [("three decimals", three, None), ("six decimals, 0 and 1 among them", six, None),
                ("seven places in a late row of class c", six, (n - 5, 2, "0.1234567")),
                ("eight places in a late row of class a", six, (n - 9, 0, "0.12345678")),
                ("0.9999995 in the middle of class b", six, (n // 2, 1, "0.9999995")),
                ("1e-7 in the last row of class d", six, (n - 1, 3, "0.0000001")),
                ("0.9999996 in the first row of class c", six, (0, 2, "0.9999996"))]
    for name, values, odd in variants:
        for kind in ("4-class", "binary"):
            if kind == "binary" and name not in ("three decimals", "seven places in a late row of class c"):
                continue
            ncol = 4 if kind == "4-class" else 1
            col = 2 if kind == "binary" else None  # the binary file: class c's values, c against the rest

            def value(i, c):
                if odd and odd[0] == i and odd[1] == c:
                    return odd[2]
                return values[i][c]
            lab = (lambda i: labels[i]) if kind == "4-class" else (lambda i: "1" if labels[i] == "c" else "0")
            for split in (True, False):
                truth = t.path("bins_truth.csv", "id,label" + (",Usage" if split else "") + "\n" + "".join(
                    f"r{i},{lab(i)}" + ((",Public" if public[i] else ",Private") if split else "") + "\n"
                    for i in range(n)))
                head = "id," + (",".join(classes) if ncol == 4 else "1") + "\n"
                pred = t.path("bins_pred.csv", head + "".join(
                    f"r{i}," + (",".join(value(i, c) for c in range(4)) if ncol == 4 else value(i, col)) + "\n"
                    for i in range(n)))
                for metric in ("roc_auc", "average_precision"):
                    args = [BIN, "--truth", truth, "--pred", pred, "--metric", metric]
                    binned = subprocess.run(args, capture_output=True, timeout=120)
                    sorted_ = subprocess.run(args, capture_output=True, timeout=120,
                                             env=dict(os.environ, CONCOURS_SCORE_NO_BINS="1"))
                    check(binned.returncode == 0 and binned.returncode == sorted_.returncode and
                          binned.stdout == sorted_.stdout,
                          f"{metric} by bins, {kind}, {name}, {'a split' if split else 'no split'}: as sorted",
                          f"{binned.stdout[:300]!r} {sorted_.stdout[:300]!r} {binned.stderr[:300]!r}")


def micro_values(t):
    """A PROBA metric's values are kept in millionths (4 bytes instead of 8) while every value read is a decimal of six
    places at most: a file whose values are all such, or that has another value in its first row, in its first half
    (the reader's share) or its second (the helper's, CONCOURS_SCORE_SPLIT_TEST=1 splitting any file), in order or
    shuffled, must score, bootstrap and write its per-case file exactly as with doubles only
    (CONCOURS_SCORE_NO_MICRO=1), and keep millionths only in the first case (CONCOURS_SCORE_TIMING=1 says so)."""
    import random
    rnd = random.Random(17)
    n = 20000
    classes = ["a", "b", "c"]
    labels = [rnd.choice(classes) for _ in range(n)]
    truth3 = t.path("micro_truth3.csv", "id,label,Usage\n" + "".join(
        f"m{i},{labels[i]},{'Public' if rnd.random() < 0.3 else 'Private'}\n" for i in range(n)))
    truth2 = t.path("micro_truth2.csv", "id,label,Usage\n" + "".join(
        f"m{i},{1 if labels[i] == 'a' else 0},{'Public' if i % 3 == 0 else 'Private'}\n" for i in range(n)))
    six = [[f"{rnd.random():.6f}" for _ in classes] for _ in range(n)]
    for k in range(0, n, 101):
        six[k][k % 3] = rnd.choice(["0", "1", "0.5", "1.000000", "0.000001"])
    variants = [("six places everywhere", None, True), ("six places, blank lines in the reader's share", "blank", True),
                ("17 digits from the first row", "all", False),
                ("seven places in the reader's share", (n // 4, 1, "0.1234567"), False),
                ("seven places in the helper's share", (3 * n // 4, 0, "0.9999995"), False)]
    order = list(range(n))
    rnd.shuffle(order)
    for name, odd, kept in variants:
        def value(i, c):
            if odd == "all":
                return repr(float(six[i][c]) + 1e-9 * (c + 1)) if float(six[i][c]) < 0.99 else six[i][c]
            if odd and odd[0] == i and odd[1] == c:
                return odd[2]
            return six[i][c]
        for kind, truth in (("3-class", truth3), ("binary", truth2)):
            for rows_name, rows in (("in order", range(n)), ("shuffled", order)):
                if kind == "binary":
                    col = odd[1] if isinstance(odd, tuple) else 0  # the column with the odd value
                    body = "id,1\n" + "".join(f"m{i},{value(i, col)}\n" for i in rows)
                    metrics = ("roc_auc", "log_loss", "brier")
                else:
                    body = "id,a,b,c\n" + "".join(f"m{i},{value(i, 0)},{value(i, 1)},{value(i, 2)}\n" for i in rows)
                    metrics = ("roc_auc", "log_loss", "average_precision")
                if odd == "blank":  # the helper's rows then move down over the gap they leave
                    lines = body.split("\n")
                    body = "\n".join(lines[:n // 4] + [""] * 50 + lines[n // 4:])
                pred = t.path("micro_pred.csv", body)
                for metric in metrics:
                    for extra in ([], ["--bootstrap", "20"]):
                        out = {}
                        for mode, env in (("micro", {}), ("doubles", {"CONCOURS_SCORE_NO_MICRO": "1"})):
                            pc = t.path(f"micro_{mode}.cases")
                            p = subprocess.run([BIN, "--truth", truth, "--pred", pred, "--metric", metric,
                                                "--per-case", pc] + extra, capture_output=True, timeout=120,
                                               env=dict(os.environ, CONCOURS_SCORE_TIMING="1",
                                                        CONCOURS_SCORE_SPLIT_TEST="1", **env))
                            with open(pc, "rb") as f:
                                cases = f.read()
                            out[mode] = (p.returncode, p.stdout, cases,
                                         b"values kept in millionths" in p.stderr)
                        check(out["micro"][0] == 0 and out["micro"][:3] == out["doubles"][:3] and
                              len(out["micro"][2]) > 1000 and out["micro"][3] == kept and not out["doubles"][3],
                              f"{metric} {' '.join(extra)}, {kind}, {name}, {rows_name}: as with doubles only, "
                              f"millionths {'kept' if kept else 'not kept'}",
                              f"{out['micro'][1][:200]!r} {out['doubles'][1][:200]!r} {out['micro'][3]}")


def exact_log_loss(t):
    """log_loss sums its terms exactly and rounds once: the value is Python's math.fsum of the same terms (the same
    libm log), whatever the rows' order, with a split column and without, on one thread and on two (from 65,536
    rows). One large term comes first, then many tiny ones: a running sum in the ground truth's order would drop
    every tiny one (each below half a unit in the last place of the sum)."""
    import math
    import random
    rnd = random.Random(5)

    def clip(p):
        return 1e-15 if p < 1e-15 else (1.0 - 1e-15 if p > 1.0 - 1e-15 else p)

    def printed(v):  # concours-score prints 15 significant digits
        return float("%.15g" % v)
    for n in (1000, 100000):
        for kind in ("3-class", "binary"):
            classes = ["x", "y", "z"] if kind == "3-class" else ["0", "1"]
            cols = classes if kind == "3-class" else ["1"]
            labels = [rnd.choice(classes) for _ in range(n)]
            public = [rnd.random() < 0.3 for _ in range(n)]
            rows = []
            for i in range(n):
                if i == 0:  # the true class at 0: clipped to 1e-15, a term of about -34.5
                    v = {c: ("0" if c == labels[i] else "0.5") for c in cols}
                    if kind == "binary":
                        v = {"1": "0" if labels[i] == "1" else "1"}
                elif i % 50 == 0:
                    v = {c: f"{rnd.random():.6f}" for c in cols}
                else:  # the true class at 1 - 1.1e-16, the others at 0: a term of about -1e-15 or -2e-15
                    v = {c: ("0.9999999999999999" if c == labels[i] else "0") for c in cols}
                    if kind == "binary" and labels[i] == "0":
                        v = {"1": "0"}
                rows.append(v)
            terms = []
            for i in range(n):
                v = {c: float(x) for c, x in rows[i].items()}
                if kind == "binary":
                    p = clip(v["1"])
                    q = 1.0 - p
                    terms.append(math.log((p if labels[i] == "1" else q) / (q + p)))
                else:
                    s = 0.0
                    for c in classes:
                        s += clip(v[c])
                    terms.append(math.log(clip(v[labels[i]]) / s))
            want = {"score": printed((0.0 - math.fsum(terms)) / n)}
            for key, flag in (("public", True), ("private", False)):
                part = [terms[i] for i in range(n) if public[i] == flag]
                want[key] = printed((0.0 - math.fsum(part)) / len(part))
            naive = 0.0
            for x in terms:
                naive -= x
            order = list(range(n))
            rnd.shuffle(order)
            for split in (True, False):
                truth = t.path("xl_truth.csv", "id,label" + (",Usage" if split else "") + "\n" + "".join(
                    f"r{i},{labels[i]}" + ((",Public" if public[i] else ",Private") if split else "") + "\n"
                    for i in range(n)))
                for name, seq in (("in order", range(n)), ("shuffled", order)):
                    pred = t.path("xl_pred.csv", "id," + ",".join(cols) + "\n" + "".join(
                        f"r{i}," + ",".join(rows[i][c] for c in cols) + "\n" for i in seq))
                    p = subprocess.run([BIN, "--truth", truth, "--pred", pred, "--metric", "log_loss"],
                                       capture_output=True, timeout=120)
                    out = json.loads(p.stdout or b"null") if p.returncode == 0 else None
                    keys = ("score", "public", "private") if split else ("score",)
                    check(out is not None and all(out.get(k) == want[k] for k in keys) and
                          (split or "public" not in out) and printed(naive / n) != want["score"],
                          f"log_loss, {kind}, {n} rows, {name}, {'a split' if split else 'no split'}: the exact sum "
                          f"of the terms, rounded once", f"got {p.stdout[:300]!r} want {want} {p.stderr[-300:]!r}")


def ordered_truth(t):
    """Ground-truth ids in increasing order (byte by byte, or by length then bytes: integers) are distinct without
    the repeat check, and their keys are grouped only when a join needs them. Whatever the path, the answer must be
    the checked one's (CONCOURS_SCORE_CHECK_IDS=1), byte for byte; ids out of order, or repeated, are checked."""
    import random
    rnd = random.Random(23)
    n = 20000
    cases = [  # name, ids in file order, whether they count as in order
        ("zero-padded", [f"r{i:06d}" for i in range(n)], True),
        ("integers", [str(i) for i in range(1, n + 1)], True),
        ("sorted as text", sorted(str(i) for i in range(n)), True),
        ("shuffled", rnd.sample([f"r{i:06d}" for i in range(n)], n), False),
    ]
    for name, ids, ordered in cases:
        truth = t.path("ord_truth.csv", "id,label,Usage\n" + "".join(
            f"{i},{rnd.choice('ab')},{rnd.choice(['Public', 'Private'])}\n" for i in ids))
        shuffled = rnd.sample(ids, n)
        # a first row in place has the ground truth's thread leave the keys to the join (a guess that it follows)
        first_in_place = [ids[0]] + [i for i in shuffled if i != ids[0]]
        bodies = [("aligned", ids), ("shuffled", shuffled), ("shuffled but the first row", first_in_place),
                  ("shuffled, an unknown and a repeated id", shuffled[:-2] + ["nope", shuffled[0]])]
        for order, rows in bodies:
            pred = t.path("ord_pred.csv", "id,b\n" + "".join(f"{i},{rnd.random():.4f}\n" for i in rows))
            args = [BIN, "--truth", truth, "--pred", pred, "--metric", "roc_auc"]
            fast = subprocess.run(args, capture_output=True, timeout=120,
                                  env=dict(os.environ, CONCOURS_SCORE_TIMING="1"))
            checked = subprocess.run(args, capture_output=True, timeout=120,
                                     env=dict(os.environ, CONCOURS_SCORE_TIMING="1", CONCOURS_SCORE_CHECK_IDS="1"))
            said = b"ids are in order" in fast.stderr
            check(fast.returncode == checked.returncode and fast.stdout == checked.stdout and said == ordered
                  and b"ids are in order" not in checked.stderr,
                  f"ground-truth ids {name}, prediction {order}: as checked (rc {fast.returncode}, in order: {said})",
                  f"{fast.stdout[:300]!r} {checked.stdout[:300]!r}")
    for name, ids in (("repeated next to each other", ["1", "2", "2", "3"]), ("repeated later", ["1", "2", "3", "2"]),
                      ("repeated as text", ["a", "b", "c", "b"])):
        truth = t.path("ord_truth.csv", "id,label\n" + "".join(f"{i},{k % 2}\n" for k, i in enumerate(ids)))
        pred = t.path("ord_pred.csv", "id,1\n" + "".join(f"{i},0.5\n" for i in ids))
        rc, out, err, _, raw = run(["--truth", truth, "--pred", pred, "--metric", "roc_auc"])
        check(rc == 2 and b"appears more than once" in raw, f"ground-truth ids {name}: a configuration error",
              raw[:300])


def dense_ids(t):
    """Ground-truth ids that are a prefix and increasing numbers, all written alike (consecutive, or with gaps: a
    row is then its number's rank), let the join find each prediction row's ground-truth row from the id's text.
    Only the very same text may match: another writing of the number, another prefix, a number out of range or in
    a gap are unknown ids, worded as the keyed join words them (run with CONCOURS_SCORE_NO_DENSE=1), byte for byte,
    and so are repeated and missing ids."""
    import random
    rnd = random.Random(31)
    gapped = sorted(rnd.sample(range(7, 7000), 300))  # gaps of 1 to 100 or so: words of 64 numbers, empty ones too
    absent = next(v for v in range(gapped[0], gapped[-1]) if v not in gapped)
    styles = [  # name, ids, whether they count as dense, other writings of ids (or near ones) that must not match
        ("zero-padded", [f"id_{i:03d}" for i in range(1, 301)], True,
         ["id_0023", "id_23", "ID_023", "id_301", "id_000", "id_+23", "id-023", "id_02a"]),
        ("no leading zeros", [str(i) for i in range(95, 395)], True, ["0253", "00", "395", "94", "+253", "2530", "25 3"]),
        ("a prefix ending in a digit's neighbour", [f"x9-{i}" for i in range(0, 300)], True,
         ["x9-0200", "x9-", "x9-300", "x-200", "x9-00", "x9--1", "x99-1"]),
        ("widths mixed", [f"id_{i:02d}" if i < 150 else f"id_{i:03d}" for i in range(300)], False, ["id_023", "id_0"]),
        ("a gap", [f"id_{i:03d}" for i in range(300) if i != 150] + ["id_300"], True,
         ["id_150", "id_0300", "id_301", "id_15"]),
        ("gaps, no leading zeros", [str(v) for v in gapped], True,
         [str(absent), str(gapped[0] - 1), str(gapped[-1] + 1), "0" + str(gapped[3]), str(gapped[3]) + "0",
          str(gapped[63]), str(gapped[64] + 1)]),
        ("gaps, the first and last of 64-number words", [f"n{v:05d}" for v in (0, 63, 64, 127, 128, 191, 256, 4095)],
         True, ["n00001", "n00062", "n00065", "n00255", "n04094", "n04096"]),
        ("a gap too wide", [str(v) for v in range(1, 300)] + [str(10 ** 6)], False, [str(10 ** 6 - 1), "300"]),
        ("a prefix of 49 bytes", [("p" * 49) + f"{i:03d}" for i in range(300)], False, [("p" * 49) + "0300"]),
        # long numbers: read 8 digits at a time, up to 18 digits
        ("12 digits", [f"x{i:012d}" for i in range(10 ** 11, 10 ** 11 + 300)], True,
         ["x0100000000150", "x10000000015", f"x{10 ** 11 + 300:012d}", "x1000000001a0"]),
        ("18 digits", [str(10 ** 17 + 7 * i) for i in range(300)], True,
         [str(10 ** 17 + 8), str(10 ** 17 + 7 * 300), "0" + str(10 ** 17 + 7), str(10 ** 17 - 7)]),
        ("19 digits", [str(10 ** 18 + i) for i in range(300)], False, [str(10 ** 18 + 300)]),
        # numbers in any order: a table of rows, which also finds a number given twice
        ("numbers in any order", rnd.sample([f"id_{i:03d}" for i in range(300)], 300), True,
         ["id_300", "id_0150", "id_15", "id_-1"]),
        ("integers with gaps in any order", rnd.sample([str(v) for v in gapped], 300), True,
         [str(absent), "0" + str(gapped[3]), str(gapped[0] - 1), str(gapped[-1] + 1)]),
        ("numbers in any order, one twice", rnd.sample([str(v) for v in range(299)], 299) + ["17"], False, ["300"]),
        ("numbers in any order, too far apart", rnd.sample([str(v) for v in range(1, 300)] + [str(10 ** 6)], 300),
         False, [str(10 ** 6 - 1), "300"]),
        # in order, but the second number too far for a rank: the table takes them
        ("an early wide gap", ["0"] + [str(65600 + i) for i in range(299)], True, ["1", "65599", "65899", "065600"]),
    ]
    for name, ids, dense, others in styles:
        truth = t.path("dense_truth.csv", "id,label\n" + "".join(f"{i},{k % 2}\n" for k, i in enumerate(ids)))
        shuffled = rnd.sample(ids, len(ids))
        bodies = [("shuffled", shuffled),
                  ("a repeated id", shuffled[:-1] + [shuffled[0]]),
                  ("ten rows missing", shuffled[:-10]), ("a row too many", shuffled + [shuffled[7]])] + [
                  (f"'{o}' instead of '{shuffled[5]}'", shuffled[:5] + [o] + shuffled[6:]) for o in others + ["", " " + ids[1]]]
        for body_name, rows in bodies:
            pred = t.path("dense_pred.csv", "id,1\n" + "".join(f"{i},{rnd.random():.3f}\n" for i in rows))
            args = [BIN, "--truth", truth, "--pred", pred, "--metric", "roc_auc"]
            fast = subprocess.run(args, capture_output=True, timeout=60, env=dict(os.environ, CONCOURS_SCORE_TIMING="1"))
            keyed = subprocess.run(args, capture_output=True, timeout=60,
                                   env=dict(os.environ, CONCOURS_SCORE_NO_DENSE="1"))
            said = b"rows found from the ids' text" in fast.stderr
            check(fast.returncode == keyed.returncode and fast.stdout == keyed.stdout and said == dense,
                  f"dense ids, {name}, {body_name}: as the keyed join (rc {fast.returncode}, dense: {said})",
                  f"{fast.stdout[:300]!r} {keyed.stdout[:300]!r}")


def truth_ids_unkept(t):
    """Ground-truth ids numbered in increasing order are not kept (each row's id is written from its number): every
    answer is byte for byte the one with them kept (CONCOURS_SCORE_KEEP_IDS=1), messages naming ids included. Ids
    that leave the pattern late have the earlier rows' places found again by a second reader that splits those rows;
    after a doubled quote was unescaped in place, the ground truth is read again from its file instead."""
    import random
    rnd = random.Random(43)
    gapped = sorted(rnd.sample(range(3, 9000), 400))
    plain = ['"b c"', "a", '"d,e"']  # quoted, but nothing to unescape: no byte is rewritten
    doubled = ['"b""c"', "a", '"d,e"']
    cases = [  # name, ids, the line the ids leave the pattern on (0: never)
        ("zero-padded", [f"id_{i:05d}" for i in range(400)], 0),
        ("gaps, no leading zeros", [str(v) for v in gapped], 0),
        ("gaps, zero-padded, a prefix ending in a digit", [f"k7-{v:06d}" for v in gapped], 0),
        ("off the pattern at line 302, after doubled quotes", [f"id_{i}" for i in range(300)] + ["zz"] +
         [f"id_{i}" for i in range(300, 399)], 302),
        ("numbers going down at line 202", [f"n{2 * i}" for i in range(200)] + ["n7"] + [f"n{i}" for i in range(1000, 1199)],
         202),
        ("a prefix changed at the last line", [f"id_{i:03d}" for i in range(399)] + ["ie_399"], 401),
    ]
    for name, ids, line in cases:
        labels = doubled if "doubled quotes" in name else plain
        truth = t.path("unkept_truth.csv", "id,label\n" + "".join(f"{i},{labels[k % 3]}\n" for k, i in enumerate(ids)))
        rows = [(i, labels[k % 3] if k % 5 else "a") for k, i in enumerate(ids)]
        shuffled = rnd.sample(rows, len(rows))
        for body_name, body in [("in order", rows), ("shuffled", shuffled), ("in order, rows 7, 8 and 9 missing",
                                                                            rows[:7] + rows[10:]),
                                ("shuffled, three rows missing", shuffled[3:])]:
            pred = t.path("unkept_pred.csv", "id,label\n" + "".join(f"{i},{v}\n" for i, v in body))
            args = [BIN, "--truth", truth, "--pred", pred, "--metric", "accuracy"]
            fast = subprocess.run(args, capture_output=True, timeout=60, env=dict(os.environ, CONCOURS_SCORE_TIMING="1"))
            kept = subprocess.run(args, capture_output=True, timeout=60, env=dict(os.environ, CONCOURS_SCORE_KEEP_IDS="1"))
            again = f"line {line} is off the numbers".encode() in fast.stderr
            said = b"read again" in fast.stderr
            whole = b"ground truth read again, with its ids' places" in fast.stderr
            places = b"ground truth's id places read again" in fast.stderr
            missing = "missing" not in body_name or any(
                ("'%s'" % i).encode() in fast.stdout for i, _ in rows if (i, _) not in body)
            check(fast.returncode == kept.returncode and fast.stdout == kept.stdout and said == (line > 0) and
                  (line == 0 or again) and missing and (fast.returncode == 0) == ("missing" not in body_name) and
                  whole == (line > 0 and labels is doubled) and places == (line > 0 and labels is plain),
                  f"ground-truth ids not kept, {name}, {body_name}: as with them kept (rc {fast.returncode})",
                  f"{fast.stdout[:300]!r} {kept.stdout[:300]!r} {fast.stderr[-300:]!r}")


# ---- archives ----

CSV_BODY = "id,label\na,0.9\nb,0.1\nc,0.8\nd,0.3\n"


def zip_bytes(entries, compression=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


def tar_bytes(members, mode="w"):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def tinfo(name, data=b"", kind=tarfile.REGTYPE, link=""):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    ti.linkname = link
    return ti


def lying_zip(real_size=100 << 20, declared=100):
    """A zip whose headers declare DECLARED bytes for an entry that inflates to REAL_SIZE bytes."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"0" * (1 << 20)
    raw = comp.compress(b"id,label\n")
    crc = zlib.crc32(b"id,label\n")
    for _ in range(real_size >> 20):
        raw += comp.compress(chunk)
        crc = zlib.crc32(chunk, crc)
    raw += comp.flush()
    name = b"preds.csv"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(raw), declared, len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(raw), declared, len(name),
                          0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(raw), 0)
    return local + raw + central + end


def overlapping_zip(copies=1000):
    """A zip whose central directory lists COPIES entries that all point at the same compressed data."""
    data = CSV_BODY.encode() * 1000
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = comp.compress(data) + comp.flush()
    crc = zlib.crc32(data)
    name = b"preds.csv"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(raw), len(data), len(name), 0) + name
    central = b""
    for i in range(copies):
        n = b"p%04d.csv" % i
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(raw), len(data),
                               len(n), 0, 0, 0, 0, 0, 0) + n
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, copies, copies, len(central), len(local) + len(raw), 0)
    return local + raw + central + end


def zeros_tar_gz(path, total=10 << 30):
    """Writes a tar.gz holding one file of TOTAL zero bytes (10 GiB), fast: the header is one gzip member,
    then one precompressed member of 1 MiB of zeros repeated (concatenated members are valid gzip)."""
    ti = tarfile.TarInfo("preds.csv")
    ti.size = total
    header = ti.tobuf(format=tarfile.GNU_FORMAT)
    block = gzip.compress(b"\0" * (1 << 20), compresslevel=9)
    with open(path, "wb") as f:
        f.write(gzip.compress(header))
        for _ in range(total >> 20):
            f.write(block)


def lazy_libarchive(t, tp):
    """libarchive is loaded at the first archive only (scorer/arc.c): a plain CSV run does not need it at start,
    and when it cannot be loaded, an archive gets a clear error while a plain CSV still scores."""
    needed = subprocess.run(["readelf", "-d", BIN], capture_output=True, text=True, check=True).stdout
    check("libarchive" not in needed, "concours-score does not load libarchive at start",
          [ln for ln in needed.splitlines() if "NEEDED" in ln])
    fake = t.path("lib/libarchive.so.13", None)
    os.makedirs(os.path.dirname(fake), exist_ok=True)
    libz = next(p for p in ("/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1")
                if os.path.exists(p))
    shutil.copy(libz, fake)  # a real shared object, without libarchive's functions
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.dirname(fake))
    plain = subprocess.run([BIN, "--truth", tp, "--pred", t.path("plain.csv", CSV_BODY), "--metric", "roc_auc"],
                           capture_output=True, env=env, timeout=60)
    check(plain.returncode == 0, "a plain CSV scores without libarchive", plain.stderr[:300])
    packed = subprocess.run([BIN, "--truth", tp, "--pred", t.path("packed.csv.gz", gzip.compress(CSV_BODY.encode())),
                             "--metric", "roc_auc"], capture_output=True, env=env, timeout=60)
    text = (packed.stdout + packed.stderr).decode("utf-8", "replace")
    check(packed.returncode != 0 and "archives cannot be read here" in text and "libarchive.so.13" in text,
          "an archive without libarchive: a clear error", f"rc={packed.returncode} {text[:300]}")


def section_archives():
    t = Tmp()
    tp = t.path("truth.csv", TRUTH)

    def score(name, data, want_rc, substr=None, extra=(), timeout=60):
        pp = t.path(name.replace(" ", "_").replace("/", "_")[:60], data) if data is not None else name
        rc, out, err, dt, raw = run(["--truth", tp, "--pred", pp, "--metric", "roc_auc"] + list(extra), timeout=timeout,
                                    max_memory=512 << 20)
        msg = json.dumps(out)
        ok = rc == want_rc and out is not None and (substr is None or substr in msg)
        check(ok, f"archive: {name} -> exit {want_rc}", f"rc={rc} out={raw[:300]!r} err={err[:200]}")
        return rc, out, dt

    score("csv.gz", gzip.compress(CSV_BODY.encode()), 0)
    score("zip with one csv", zip_bytes([("preds.csv", CSV_BODY)]), 0)
    score("zip stored", zip_bytes([("preds.csv", CSV_BODY)], zipfile.ZIP_STORED), 0)
    score("zip with a folder and macOS noise", zip_bytes([("out/", ""), ("out/preds.csv", CSV_BODY),
                                                          ("__MACOSX/out/._preds.csv", "junk")]), 0)
    score("tar", tar_bytes([(tinfo("preds.csv", CSV_BODY.encode()), CSV_BODY.encode())]), 0)
    score("tar.gz", tar_bytes([(tinfo("preds.csv", CSV_BODY.encode()), CSV_BODY.encode())], "w:gz"), 0)
    lazy_libarchive(t, tp)
    score("zip with two csv", zip_bytes([("a.csv", CSV_BODY), ("b.csv", CSV_BODY)]), 1, "exactly one")
    score("empty zip", zip_bytes([]), 1, "no file")
    score("zip slip ../", zip_bytes([("../../evil.csv", CSV_BODY)]), 1, "unsafe")
    score("zip absolute path", zip_bytes([("/tmp/evil.csv", CSV_BODY)]), 1, "unsafe")
    score("zip drive letter", zip_bytes([("C:/evil.csv", CSV_BODY)]), 1, "unsafe")
    score("zip backslash path", zip_bytes([("..\\..\\evil.csv", CSV_BODY)]), 1, "unsafe")
    score("zip name with control char", zip_bytes([("a\x01.csv", CSV_BODY)]), 1, "unsafe")
    score("tar non-UTF-8 name", tar_bytes([(tinfo("pr\xe9ds.csv".encode("latin-1").decode("utf-8", "surrogateescape"),
                                                   CSV_BODY.encode()), CSV_BODY.encode())]), 1, "unsafe")
    score("tar huge name", tar_bytes([(tinfo("a/" * 200 + "p.csv", CSV_BODY.encode()), CSV_BODY.encode())]), 1, "unsafe")
    score("tar symlink", tar_bytes([(tinfo("preds.csv", kind=tarfile.SYMTYPE, link="/etc/passwd"), None)]), 1, "link")
    score("tar hardlink", tar_bytes([(tinfo("x.csv", CSV_BODY.encode()), CSV_BODY.encode()),
                                     (tinfo("preds.csv", kind=tarfile.LNKTYPE, link="x.csv"), None)]), 1)
    score("tar character device", tar_bytes([(tinfo("null", kind=tarfile.CHRTYPE), None)]), 1, "regular")
    score("tar FIFO", tar_bytes([(tinfo("fifo", kind=tarfile.FIFOTYPE), None)]), 1, "regular")
    zsym = io.BytesIO()
    with zipfile.ZipFile(zsym, "w") as z:
        zi = zipfile.ZipInfo("preds.csv")
        zi.create_system = 3
        zi.external_attr = (0o120777 << 16)
        z.writestr(zi, "/etc/passwd")
    score("zip symlink", zsym.getvalue(), 1, "link")
    many = zip_bytes([(f"f{i}/", "") for i in range(100000)], zipfile.ZIP_STORED)
    score("100k entries", many, 1, "entries")
    # formats outside the allow-list, named .zip
    foreign = {
        "rar": b"Rar!\x1a\x07\x01\x00" + b"\0" * 64,
        "7z": b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\0" * 64,
        "cpio": b"070701" + b"0" * 200,
        "xz": b"\xfd7zXZ\x00" + b"\0" * 64,
        "bzip2": b"BZh91AY&SY" + b"\0" * 64,
        "iso": b"\0" * 0x8001 + b"CD001" + b"\0" * 100,
    }
    for kind, data in foreign.items():
        score(f"{kind} named .zip", data, 1, "accepted forms")
    cpio_gz = gzip.compress(b"070701" + b"0" * 200)
    score("cpio inside gzip", cpio_gz, 1)
    # bombs
    rc, out, dt = score("lying-size zip bomb (100 bytes declared, 100 MiB real)", lying_zip(), 1, "larger than",
                        extra=["--max-bytes", str(8 << 20)])
    # bounded by bytes and memory, not by time (a loaded machine is slow): exit 1 "larger than" under a 512 MiB
    # address-space cap proves the 8 MiB byte cap stopped it
    print(f"info: lying-size zip refused in {dt:.1f}s")
    bomb = t.path("zeros.tar.gz")
    t0 = time.monotonic()
    zeros_tar_gz(bomb)
    gen = time.monotonic() - t0
    check(os.path.getsize(bomb) < 64 << 20, f"10 GiB-of-zeros tar.gz generated in {gen:.1f}s, "
          f"{os.path.getsize(bomb) >> 20} MiB on disk")
    rc, out, dt = score(bomb, None, 1, "larger than", extra=["--max-bytes", str(64 << 20)])
    print(f"info: 10 GiB tar.gz refused at the 64 MiB cap in {dt:.1f}s (512 MiB address space)")
    gz_bomb = t.path("zeros.csv.gz")
    with open(gz_bomb, "wb") as f:
        f.write(gzip.compress(b"id,label\na,"))
        block = gzip.compress(b"0" * (1 << 20), compresslevel=9)
        for _ in range(200):
            f.write(block)
    score(gz_bomb, None, 1, "larger than", extra=["--max-bytes", str(16 << 20)])
    # with no byte cap given, the ratio cap (100 times the compressed size, plus 1 MiB) stops a bomb: 200 MiB of
    # zeros in a ~200 KB gzip is refused at about 21 MiB, not at the 2 GiB default
    rc, out, _ = score(gz_bomb, None, 1, "larger than")
    cap = int(json.dumps(out).split("larger than ")[1].split(" ")[0]) if out else -1
    check(0 < cap <= 100 * os.path.getsize(gz_bomb) + (1 << 20), f"the ratio cap stopped the gzip bomb at {cap} bytes")
    score("overlapping-entry zip (1000 entries, one data block)", overlapping_zip(), 1)
    # nested archive: a zip inside the zip is just a file that is not a CSV
    score("nested zip", zip_bytes([("inner.zip", zip_bytes([("preds.csv", CSV_BODY)]))]), 1)
    score("truncated gzip", gzip.compress(CSV_BODY.encode() * 100)[:-20], 1)
    check(not os.path.exists("/tmp/evil.csv"), "no file was written outside the work folder")
    t.done()


def section_bootstrap():
    t = Tmp()
    n = 400
    lines = ["id,label,Usage"]
    plines = ["id,label"]
    for i in range(n):
        y = (i * 7919) % 3 == 0
        lines.append(f"r{i},{int(y)},{'Public' if i % 2 else 'Private'}")
        plines.append(f"r{i},{((i * 104729) % 1000) / 1000 * 0.6 + (0.4 if y else 0):.3f}")
    tp = t.path("t.csv", "\n".join(lines) + "\n")
    pp = t.path("p.csv", "\n".join(plines) + "\n")
    args = ["--truth", tp, "--pred", pp, "--metric", "roc_auc", "--bootstrap", "200", "--seed", "7"]
    rc, out, err, _, raw = run(args)
    ci = (out or {}).get("ci", {})
    ok = rc == 0 and all(k in ci and len(ci[k]) == 2 and ci[k][0] <= out[k] <= ci[k][1] for k in ("score", "public", "private"))
    check(ok, "bootstrap gives an interval around each split's score", raw[:400])
    rc2, out2, _, _, _ = run(args)
    check(out2 == out, "same seed, same interval")
    rc3, out3, _, _, _ = run(args[:-1] + ["8"])
    check(rc3 == 0 and out3.get("ci") != out.get("ci"), "another seed, another interval")
    for metric, pfile in [("log_loss", pp), ("accuracy", None), ("rmse", None)]:
        if pfile is None:
            pfile = t.path(metric + ".csv", "id,label\n" + "".join(f"r{i},{int((i * 7919) % 3 == 0 or i % 5 == 0)}\n"
                                                                   for i in range(n)))
        rc, out, _, _, raw = run(["--truth", tp, "--pred", pfile, "--metric", metric, "--bootstrap", "50"])
        check(rc == 0 and "ci" in out and out["ci"]["score"][0] <= out["ci"]["score"][1], f"bootstrap works for {metric}",
              raw[:300])
    t.done()


def section_challenge():
    for bundle, pred_name in [("tissuenet-demo", "sample_submission.csv"), ("sarcoma-survival-demo", "sample_submission.csv")]:
        d = os.path.join(REPO, "challenges", bundle)
        if not os.path.isdir(d):
            check(False, f"bundle {bundle} exists")
            continue
        rc, out, err, _, raw = run(["--challenge", d, "--pred", os.path.join(d, "data", pred_name)])
        check(rc == 0 and out and "public" in out and "private" in out, f"--challenge {bundle} scores its sample submission",
              f"rc={rc} {raw[:300]!r} {err[:300]}")
    t = Tmp()
    sol = os.path.join(REPO, "challenges", "tissuenet-demo", "private", "solution.csv")
    if os.path.exists(sol):
        with open(sol) as f:
            rows = [line.rstrip("\n").rsplit(",", 1)[0] for line in f]
        perfect = t.path("perfect.csv", "\n".join(rows) + "\n")
        rc, out, err, _, raw = run(["--challenge", os.path.join(REPO, "challenges", "tissuenet-demo"), "--pred", perfect])
        check(rc == 0 and out["score"] == 1.0 and out["public"] == 1.0, "tissuenet-demo: the solution itself scores 1",
              raw[:300])
        shuffled = t.path("shuffled.gz", gzip.compress(("\n".join([rows[0]] + rows[:0:-1]) + "\n").encode()))
        rc, out, err, _, raw = run(["--challenge", os.path.join(REPO, "challenges", "tissuenet-demo"), "--pred", shuffled])
        check(rc == 0 and out["score"] == 1.0, "tissuenet-demo: reversed rows, gzip-compressed, still 1", raw[:300])
    os.makedirs(os.path.join(t.dir, "b", "private"))
    with open(os.path.join(t.dir, "b", "challenge.json"), "w") as f:
        json.dump({"slug": "x", "ground_truth": "private/solution.csv", "id_column": "id", "split_column": "Usage",
                   "metric": {"name": "accuracy", "params": {}}}, f)
    with open(os.path.join(t.dir, "b", "private", "solution.csv"), "w") as f:
        f.write("id,y,Usage\na,1,Public\nb,2,Private\n")
    rc, out, err, _, raw = run(["--challenge", os.path.join(t.dir, "b"), "--pred", t.path("p.csv", "id,y\na,1\nb,1\n")])
    check(rc == 0 and out["public"] == 1.0 and out["private"] == 0.0, "--challenge reads metric, columns and truth", raw[:300])
    with open(os.path.join(t.dir, "b", "challenge.json"), "w") as f:
        json.dump({"slug": "x", "ground_truth": "../../etc/passwd", "metric": {"name": "accuracy"}}, f)
    rc, out, err, _, raw = run(["--challenge", os.path.join(t.dir, "b"), "--pred", t.path("p.csv")])
    check(rc == 2, "--challenge refuses a ground truth outside the bundle", raw[:200])
    t.done()


def pmd_mapped_kib(path, huge=False):
    """Maps PATH read-only (with HUGE, asking for huge pages: what the cache lacks is then read into 2 MiB pages),
    reads every page of it, and returns how many KiB of the mapping are in 2 MiB page-table entries (smaps'
    FilePmdMapped): the page cache holds those bytes in 2 MiB pages."""
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        if huge:
            m.madvise(mmap.MADV_HUGEPAGE)
        for off in range(0, len(m), 4096):
            m[off]
        real = os.path.realpath(path)
        kib, inside = 0, False
        with open("/proc/self/smaps") as sm:
            for line in sm:
                head = line.split()
                if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                    inside = line.rstrip("\n").endswith(" " + real)
                elif inside and line.startswith("FilePmdMapped:"):
                    kib += int(head[1])
        return kib


def write_in_pieces(path, data, piece, drop=True):
    """Writes DATA to PATH PIECE bytes per write(2) (the page cache then holds it in pages of at most that size) and
    flushes it to the disk; with DROP, then drops it from the page cache (clean pages of a file nobody maps go): the
    next read of it comes from the disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for off in range(0, len(data), piece):
            os.write(fd, data[off:off + piece])
        os.fdatasync(fd)
        if drop:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def section_pages():
    """A mapped input the page cache does not hold is read from the disk into 2 MiB pages (arc.c, MADV_HUGEPAGE):
    after a scoring, the prediction file is cached in 2 MiB pages, and without the request
    (CONCOURS_SCORE_HUGE_PAGES=0) it is not. One the cache holds in small pages is dropped from it once read
    (recache()), for the next read to fill 2 MiB pages, when asked (CONCOURS_SCORE_RECACHE=1), not when told not
    to (=0), and by default as its measure decides: the timing line's decision must then show in the cache. Every
    run scores the same. Where this kernel or file system never caches a file in 2 MiB pages (a control file read
    through a huge-page mapping stays in small ones), the section is skipped (exit 77)."""
    with tempfile.TemporaryDirectory() as d:
        n = 900000  # 41 MB of prediction: recache() measures files of 32 MiB and more
        truth = os.path.join(d, "truth.csv")
        pred = os.path.join(d, "pred.csv")
        ids = ["case-%030d" % i for i in range(n)]  # long ids, for the size
        write_in_pieces(truth, ("id,label\n" + "".join("%s,%d\n" % (ids[i], (i * 7919) % 2) for i in range(n)))
                        .encode(), 65536)
        data = ("id,score\n" + "".join("%s,0.%06d\n" % (ids[i], (i * 104729) % 1000000) for i in range(n))).encode()
        size_mib = len(data) >> 20
        # the control: the same bytes read from the disk through a huge-page mapping of this process
        control = os.path.join(d, "control.bin")
        write_in_pieces(control, data, 65536)
        if not hasattr(mmap, "MADV_HUGEPAGE") or pmd_mapped_kib(control, huge=True) < 1024 * (size_mib // 2):
            print("skipped: this kernel or file system does not cache a file read through a huge-page mapping "
                  "in 2 MiB pages")
            sys.exit(77)
        scores = []

        def score(what, **env):
            """Scores PRED with ENV added; checks the answer, keeps its score, returns the timing lines on PRED."""
            p = subprocess.run([BIN, "--truth", truth, "--pred", pred, "--metric", "roc_auc"], capture_output=True,
                               timeout=120, env=dict(os.environ, CONCOURS_SCORE_TIMING="1", **env))
            out = json.loads(p.stdout.decode() or "null")
            check(p.returncode == 0 and out and out["rows"] == n, "pages: scored (%s)" % what,
                  p.stdout.decode() + p.stderr.decode())
            scores.append(out and out.get("score"))
            return [line for line in p.stderr.decode().splitlines() if line.startswith("timing: %s " % pred)]

        for wanted in (True, False):
            write_in_pieces(pred, data, 65536)
            score("read from the disk, huge pages %s" % wanted,
                  **({} if wanted else {"CONCOURS_SCORE_HUGE_PAGES": "0"}))
            kib = pmd_mapped_kib(pred)
            if wanted:
                check(kib >= 1024 * (size_mib // 2), "pages: the prediction read from the disk is cached in 2 MiB "
                      "pages", "%d KiB of %d MiB" % (kib, size_mib))
            else:
                check(kib == 0, "pages: without the request it is cached in small pages (the control of the above)",
                      "%d KiB" % kib)
        for mode in ("0", "1", None):
            write_in_pieces(pred, data, 65536, drop=False)
            said = score("cached in small pages, RECACHE=%s" % mode,
                         **({} if mode is None else {"CONCOURS_SCORE_RECACHE": mode}))
            # read as the next run would: what the scorer dropped comes from the disk into 2 MiB pages
            kib = pmd_mapped_kib(pred, huge=True)
            if mode == "0":
                check(kib == 0, "pages: a file cached in small pages and RECACHE=0: left so", "%d KiB" % kib)
            elif mode == "1":
                check(kib >= 1024 * (size_mib // 2), "pages: a file cached in small pages and RECACHE=1: dropped "
                      "once read, the next read fills 2 MiB pages", "%d KiB of %d MiB" % (kib, size_mib))
            elif said and said[-1].endswith("for the next run to read it into 2 MiB pages"):
                check(kib >= 1024 * (size_mib // 2), "pages: measured and dropped once read: the next read fills "
                      "2 MiB pages", "%d KiB of %d MiB: %s" % (kib, size_mib, said))
            elif said:
                check(said[-1].endswith("kept as cached") and kib <= 4096, "pages: measured and kept: left in small "
                      "pages (but the window read again)", "%d KiB: %s" % (kib, said))
            else:
                print("note: reading it as cached cost too little to measure further (pages: %d KiB)" % kib)
        # a path of any bytes is shown escaped in the decision's line (RECACHE=1: a line whatever the machine)
        odd = os.path.join(d, "pred\x1b[31m\n.csv")
        write_in_pieces(odd, data, 65536, drop=False)
        p = subprocess.run([BIN, "--truth", truth, "--pred", odd, "--metric", "roc_auc"], capture_output=True,
                           timeout=120, env=dict(os.environ, CONCOURS_SCORE_TIMING="1", CONCOURS_SCORE_RECACHE="1"))
        lines = [line for line in p.stderr.decode().splitlines() if "dropped from the cache once read" in line
                 and "pred" in line]
        check(p.returncode == 0 and b"\x1b" not in p.stderr and len(lines) == 1
              and "pred\\x1b[31m\\x0a.csv" in lines[0], "pages: a path's control bytes are escaped in the timing line",
              str(lines))
        check(len(set(scores)) == 1 and scores[0] is not None, "pages: every run scores the same", str(scores))


SECTIONS = {"ref": section_ref, "validation": section_validation, "archives": section_archives,
            "bootstrap": section_bootstrap, "challenge": section_challenge, "pages": section_pages}

if __name__ == "__main__":
    SECTIONS[SECTION]()
    print(f"{checks - len(failures)}/{checks} checks passed")
    sys.exit(1 if failures else 0)
