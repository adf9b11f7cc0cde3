"""fixtures.py: files of every format the anonymity check reads, made with Debian's own tools (issue 15).

TIFF with libtiff-tools (raw2tiff, tiffset, tiffcp), DICOM with DCMTK (dump2dcm), PNG, zip and gzip with the
Python standard library. Every identifier in them is invented.
"""
import gzip
import os
import struct
import subprocess
import zipfile
import zlib

APERIO_DESC = ("Aperio Image Library v12.0.5\r\n46920x33014 [0,100 46000x32914] (256x256) JPEG/RGB Q=30"
               "|AppMag = 20|StripeWidth = 2040|ScanScope ID = SS1234|Filename = DUPONT_J_biopsy_2019"
               "|Date = 03/14/19|Time = 11:02:57|User = b414003d-95c6-48b0-9369-8010ed517ba7"
               "|Patient Name = Jean Dupont")


def tiff(path, description=None, pages=(), software=None):
    """A 4x4 grey TIFF at path; description sets ImageDescription; pages adds more directories, each given by
    its own description (an Aperio label page: "Aperio Image Library v12.0.5\\nlabel 387x463")."""
    d = os.path.dirname(path)
    raw = os.path.join(d, ".raw")
    with open(raw, "wb") as f:
        f.write(bytes(range(16)))
    parts = []
    for i, desc in enumerate([description] + list(pages)):
        p = "%s.p%d.tif" % (path, i)
        subprocess.run(["raw2tiff", "-w", "4", "-l", "4", raw, p], check=True, timeout=60)
        if desc is not None:
            subprocess.run(["tiffset", "-s", "270", desc, p], check=True, timeout=60)
        if software is not None and i == 0:
            subprocess.run(["tiffset", "-s", "305", software, p], check=True, timeout=60)
        parts.append(p)
    subprocess.run(["tiffcp"] + parts + [path], check=True, timeout=60)
    for p in parts + [raw]:
        os.unlink(p)


def dicom(path, elements):
    """A DICOM file at path from (tag, vr, value) triples, written by dump2dcm."""
    lines = ["(0008,0016) UI =SecondaryCaptureImageStorage", "(0008,0018) UI [1.2.826.0.1.3680043.8.498.1]",
             "(0028,0002) US 1", "(0028,0004) CS [MONOCHROME2]", "(0028,0010) US 2", "(0028,0011) US 2",
             "(0028,0100) US 8", "(0028,0101) US 8", "(0028,0102) US 7", "(0028,0103) US 0"]
    given = {tag.lower() for tag, _, _ in elements}
    lines = [line for line in lines if line[1:10].lower() not in given]
    lines += ["(%s) %s [%s]" % (tag, vr, value) for tag, vr, value in elements]
    lines.append("(7fe0,0010) OB 00\\01\\02\\03")
    dump = path + ".dump"
    with open(dump, "w") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run(["dump2dcm", "-q", "+te", dump, path], check=True, timeout=60)
    os.unlink(dump)


def png(path, texts=()):
    """A 4x4 grey PNG with tEXt chunks (key, text)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    body = b"".join(b"\x00" + bytes(4) for _ in range(4))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0))
    for key, text in texts:
        out += chunk(b"tEXt", key.encode("latin-1") + b"\x00" + text.encode("latin-1"))
    out += chunk(b"IDAT", zlib.compress(body)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(out)


def gz(path, text):
    with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
        f.write(text)


def zipped(path, members):
    """A zip of (name, bytes or str) members."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)


def jpeg_slide(path, description, label=True, artist=None):
    """A 64x64 RGB slide with 16x16 JPEG tiles (tiffcp -c jpeg), an ImageDescription, an optional Artist and an
    Aperio label page."""
    d = os.path.dirname(path)
    raw, rgb, tiled = os.path.join(d, ".rgb"), os.path.join(d, ".rgb.tif"), os.path.join(d, ".tiled.tif")
    with open(raw, "wb") as f:
        f.write(bytes((i * 7) % 256 for i in range(64 * 64 * 3)))
    subprocess.run(["raw2tiff", "-w", "64", "-l", "64", "-b", "3", "-p", "rgb", raw, rgb], check=True, timeout=60)
    subprocess.run(["tiffcp", "-t", "-w", "16", "-l", "16", "-c", "jpeg", rgb, tiled], check=True, timeout=60)
    subprocess.run(["tiffset", "-s", "270", description, tiled], check=True, timeout=60)
    if artist is not None:
        subprocess.run(["tiffset", "-s", "315", artist, tiled], check=True, timeout=60)
    parts = [tiled]
    if label:
        lab = os.path.join(d, ".label.tif")
        tiff(lab, "Aperio Image Library v12.0.5\nlabel 387x463")
        parts.append(lab)
    subprocess.run(["tiffcp"] + parts + [path], check=True, timeout=60)
    for p in [raw, rgb] + parts:
        os.unlink(p)
