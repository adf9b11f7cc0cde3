#!/usr/bin/env python3
"""Generates the synthetic data of challenges/tissuenet-code-demo (seeded, standard library only).

A code-execution challenge (API.md section 4) in the spirit of TissueNet: each "slide" is a small 8-bit grayscale
PNG tile whose brightness and texture drift with the grade (0 benign, 1 low-grade, 2 high-grade, 3 invasive).
No real patient data. Writes:
  data/train/*.png, data/train_labels.csv      public training tiles with their grades
  data/sample_submission.csv                   the shape of /output/submission.csv
  smoke/*.png, smoke/test_metadata.csv,        the public smoke sample (smoke runs see these at /data)
  smoke/solution.csv                           its ground truth (never shown to the code: concours keeps it aside)
  hidden/*.png, hidden/test_metadata.csv       the hidden test tiles (full runs see these at /data; never served)
  private/solution.csv                         their ground truth, with the Usage split
  baseline/main.py                             the baseline, also in overview.md
Rerunning rewrites the same files. Usage: scripts/gen_tissuenet_code_demo.py
"""
import csv
import os
import random
import shutil
import struct
import zlib

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "challenges", "tissuenet-code-demo")
SIZE = 32
rng = random.Random(20261203)


def png(path, pixels):
    """Writes a SIZE x SIZE 8-bit grayscale PNG (filter 0 on every row)."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(pixels[y * SIZE:(y + 1) * SIZE]) for y in range(SIZE))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def tile(grade):
    """Darker and busier with the grade (more nuclei), with enough noise that grades overlap."""
    mean = 200 - 32 * grade + rng.gauss(0, 14)
    spread = 10 + 6 * grade
    return [max(0, min(255, round(rng.gauss(mean, spread)))) for _ in range(SIZE * SIZE)]


def grade():
    return rng.choices([0, 1, 2, 3], weights=[40, 25, 20, 15])[0]


def one_hot(g):
    return [1 if k == g else 0 for k in range(4)]


def reset(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)


def main():
    for sub in ("data/train", "smoke", "hidden", "private"):
        reset(os.path.join(HERE, sub))
    train = []
    for i in range(24):
        g = grade()
        name = f"T{i:04d}.png"
        png(os.path.join(HERE, "data", "train", name), tile(g))
        train.append((name, g))
    with open(os.path.join(HERE, "data", "train_labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["filename", "0", "1", "2", "3"])
        for name, g in train:
            w.writerow([name] + one_hot(g))
    for folder, prefix, n in (("smoke", "S", 8), ("hidden", "H", 80)):
        rows = []
        for i in range(n):
            g = grade()
            name = f"{prefix}{i:04d}.png"
            png(os.path.join(HERE, folder, name), tile(g))
            rows.append((name, g))
        with open(os.path.join(HERE, folder, "test_metadata.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["filename"])
            for name, _ in rows:
                w.writerow([name])
        truth = os.path.join(HERE, "smoke", "solution.csv") if folder == "smoke" else \
            os.path.join(HERE, "private", "solution.csv")
        with open(truth, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["filename", "0", "1", "2", "3"] + (["Usage"] if folder == "hidden" else []))
            for k, (name, g) in enumerate(rows):
                w.writerow([name] + one_hot(g) + (["Public" if k % 2 == 0 else "Private"] if folder == "hidden" else []))
        if folder == "hidden":
            with open(os.path.join(HERE, "data", "sample_submission.csv"), "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["filename", "0", "1", "2", "3"])
                for name, _ in rows:
                    w.writerow([name, 1, 0, 0, 0])


if __name__ == "__main__":
    main()
