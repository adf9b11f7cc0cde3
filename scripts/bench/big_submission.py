#!/usr/bin/env python3
"""A large prediction file through the server: the upload, the sandboxed scoring with a bundle's default limits
(memory_mb 4096 is the run's address space), the score, against concours-score on the same files outside the
server (issue 18).

Writes --rows rows of ground truth and predictions with score_gen (--kind multi: 5 classes, or binary; --digits 17
as pandas writes floats, 6, or exp: values below 1e-4 with an exponent), into a copy of challenges/visiomel-demo whose
ground truth, sample submission (the rows in order), metric (log_loss) and team storage (unlimited) are replaced;
serves it with --max-upload-mb above the file's size; uploads the shuffled predictions as a participant and waits
for the score.
Prints the upload's MB/s, the time from the end of the upload to the score (the queue, the sandbox, the scorer),
concours-score's own time on the same files (best of --rounds; with --per-case, as the server asks for log_loss: the
jury's per-case terms) and the ratio, and whether both gave the same public
score (the leaderboard's 4 places). Not a test: it prints figures. Until 2026-12-06, 10M 5-class rows of 17 digits
failed here (out of memory: the scorer reserved 8 GiB of address space).
Usage: scripts/bench/big_submission.py [--rows 10000000] [--kind multi] [--digits 17] [--rounds 3]
                                       [--concours build/concours]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "http"))
import harness  # noqa: E402

FORMS = {"6": [], "17": ["full"], "exp": ["exp"]}


def make_bundle(work, args):
    """The demo bundle with score_gen's files: returns (bundle folder, shuffled predictions' path)."""
    gen = os.path.join(work, "score_gen")
    subprocess.run(["cc", "-O2", "-o", gen, os.path.join(HERE, "score_gen.c"), "-lm"], check=True)
    bundle = os.path.join(work, "bundle")
    shutil.copytree(harness.demo_dir(), bundle)
    truth = os.path.join(bundle, "private", "solution.csv")
    sample = os.path.join(bundle, "data", "sample_submission.csv")
    shuffled = os.path.join(work, "pred.csv")
    form = FORMS[args.digits]
    subprocess.run([gen, args.kind, str(args.rows), "42", truth, sample, "inorder"] + form, check=True)
    subprocess.run([gen, args.kind, str(args.rows), "42", truth, shuffled, "shuffle"] + form, check=True)
    path = os.path.join(bundle, "challenge.json")
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    spec.update({"id_column": "id", "metric": {"name": "log_loss", "params": {}},
                 "storage": {"team_mb": 0}})  # a 10M-row 5-class file is above the 1,024 MB a team may keep
    with open(path, "w", encoding="utf-8") as f:
        json.dump(spec, f, indent=2)
    return bundle, shuffled


def scorer_alone(concours, truth, pred, rounds, work):
    """concours-score's best wall time of ROUNDS runs on TRUTH and PRED, and its public score. With --per-case, as the
    server runs it for a mean over cases (the jury's paired statistics: a double per private row, written out)."""
    scorer = os.path.join(os.path.dirname(os.path.abspath(concours)), "concours-score")
    best = None
    out = None
    for _ in range(rounds):
        t0 = time.monotonic()
        r = subprocess.run([scorer, "--truth", truth, "--pred", pred, "--metric", "log_loss", "--per-case",
                            os.path.join(work, "per_case.cpc")], capture_output=True, check=True)
        secs = time.monotonic() - t0
        best = secs if best is None or secs < best else best
        out = json.loads(r.stdout)
    return best, out["public"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10000000)
    ap.add_argument("--kind", choices=["multi", "binary"], default="multi")
    ap.add_argument("--digits", choices=sorted(FORMS), default="17")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concours", default=os.path.join(ROOT, "build", "concours"))
    args = ap.parse_args()
    harness.ARGS = argparse.Namespace(concours=os.path.abspath(args.concours), source=ROOT)
    harness.START_TIMEOUT = 1800  # the import checks and scores the sample submission: as large as the upload
    work = tempfile.mkdtemp(prefix="concours-bench-big-")
    server = None
    try:
        bundle, pred = make_bundle(work, args)
        size = os.path.getsize(pred)
        truth_size = os.path.getsize(os.path.join(bundle, "private", "solution.csv"))
        print("%d %s rows (%s digits), shuffled: predictions %.0f MB, ground truth %.0f MB"
              % (args.rows, "5-class" if args.kind == "multi" else "binary", args.digits, size / 1e6, truth_size / 1e6))
        server = harness.Server(bundles=[], max_upload_mb=size // (1 << 20) + 16)
        harness.make_bundle(server.challenges, harness.DEMO_SLUG, src=bundle)
        server.start()
        c = server.client()
        assert c.register("big000").status == 201 and c.login("big000").status == 200
        assert c.accept_terms(harness.DEMO_SLUG).status == 204
        with open(pred, "rb") as f:
            body = f.read()
        t0 = time.monotonic()
        r = c.upload(body)
        t1 = time.monotonic()
        if r.status != 201:
            raise SystemExit("the upload answered %d: %s" % (r.status, r.body[:300]))
        done = c.wait_done(r.json()["id"], timeout=1800)
        t2 = time.monotonic()
        server.stop(check=False)
        server = None
        if done["status"] != "scored":
            raise SystemExit("the submission %s: %s" % (done["status"], json.dumps(done)[:600]))
        alone, public = scorer_alone(args.concours, os.path.join(bundle, "private", "solution.csv"), pred, args.rounds,
                                     work)
        print("upload: %.2f s (%.0f MB/s)" % (t1 - t0, size / 1e6 / (t1 - t0)))
        print("after the upload, scored in %.2f s (the queue, the sandbox and the scorer; polled every 0.2 s)"
              % (t2 - t1))
        print("concours-score alone (with --per-case, as the server runs it), best of %d: %.2f s; through the server: "
              "%.2fx that" % (args.rounds, alone, (t2 - t1) / alone))
        same = done.get("public_score") == round(public, 4)
        print("public score: server %s, concours-score %.4f: %s" % (done.get("public_score"), public,
                                                                   "the same" if same else "DIFFERENT"))
        return 0 if same else 1
    finally:
        if server is not None:
            server.stop(check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
