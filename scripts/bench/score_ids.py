#!/usr/bin/env python3
"""Rewrites the ids of scripts/bench/score.sh's binary files into other shapes, for the join's benchmarks.

score.sh writes ids as `id_000000000`, consecutive, in the ground truth's order: they join from their text. Real
files have other ids. From BENCH_DIR/binary_N_{truth,pred,pred_shuffled}.csv (run score.sh first) this writes, for
each shape asked, SHAPE_binary_N_{truth,pred,pred_shuffled}.csv with the same rows and values:
  int     integers without leading zeros, 0 to N-1 (the same order)
  sparse  increasing integers with gaps of 1 to 5, from 1,000 (a test split's ids)
  perm    the `id_...` ids, the ground truth's rows in a random order, `pred` in that order too and
          `pred_shuffled` as score.sh shuffled it
  uuid    32 hexadecimal digits, random (the keyed join)
Then, e.g.: CASES="uuid_binary:aligned:roc_auc uuid_binary:shuffled:roc_auc" scripts/bench/score_ab.sh OLD NEW
Usage: scripts/bench/score_ids.py [--rows 10000000] [--shapes int,sparse,perm,uuid] [--dir /tmp/concours-bench]
About 35 s a shape for 10M rows. Not a test: it writes files.
"""
import argparse
import os
import random
import sys
import uuid


def rewrite(src, dst, new_id):
    """Copies the CSV SRC to DST with each row's first field (an `id_` number) replaced by new_id(number)."""
    with open(src) as f, open(dst + ".tmp", "w") as g:
        g.write(f.readline())
        for line in f:
            i, rest = line.split(",", 1)
            g.write(new_id(int(i[3:])) + "," + rest)
    os.replace(dst + ".tmp", dst)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10000000)
    ap.add_argument("--shapes", default="int,sparse,perm,uuid")
    ap.add_argument("--dir", default=os.environ.get("BENCH_DIR", "/tmp/concours-bench"))
    a = ap.parse_args()
    base = os.path.join(a.dir, f"binary_{a.rows}")
    for part in ("truth", "pred", "pred_shuffled"):
        if not os.path.exists(f"{base}_{part}.csv"):
            sys.exit(f"missing {base}_{part}.csv: run SIZES={a.rows} KINDS=binary BASELINE=0 REPEAT=1 "
                     "scripts/bench/score.sh first")
    rnd = random.Random(7)
    for shape in a.shapes.split(","):
        out = os.path.join(a.dir, f"{shape}_binary_{a.rows}")
        if shape == "int":
            ids = None
            new_id = str
        elif shape == "sparse":
            ids, v = [], 1000
            for _ in range(a.rows):
                v += 1 + (rnd.random() < 0.5) * rnd.randint(1, 4)
                ids.append(str(v))
            new_id = ids.__getitem__
        elif shape == "uuid":
            ids = [uuid.UUID(int=rnd.getrandbits(128), version=4).hex for _ in range(a.rows)]
            new_id = ids.__getitem__
        elif shape == "perm":
            order = list(range(a.rows))
            rnd.shuffle(order)
            for part in ("truth", "pred"):
                with open(f"{base}_{part}.csv") as f:
                    head = f.readline()
                    rows = f.readlines()
                with open(f"{out}_{part}.csv.tmp", "w") as g:
                    g.write(head)
                    g.writelines(rows[i] for i in order)
                os.replace(f"{out}_{part}.csv.tmp", f"{out}_{part}.csv")
            with open(f"{base}_pred_shuffled.csv") as f, open(f"{out}_pred_shuffled.csv", "w") as g:
                g.write(f.read())
            print(f"{shape}: {out}_*.csv")
            continue
        else:
            sys.exit(f"unknown shape {shape!r}: int, sparse, perm or uuid")
        for part in ("truth", "pred", "pred_shuffled"):
            rewrite(f"{base}_{part}.csv", f"{out}_{part}.csv", new_id)
        print(f"{shape}: {out}_*.csv")


if __name__ == "__main__":
    main()
