/* strip.c: `concours dataset strip-tiff IN OUT`, the de-identification of TIFF and whole-slide images.
 *
 * Writes a copy of IN without what identifies a patient: associated label and macro pages are left out, and each
 * kept page gets only the tags that describe its pixels (size, samples, compression, photometric, tiling or
 * strips, predictor, resolution, YCbCr, JPEG tables, colour map, ICC profile) plus a cleaned ImageDescription:
 * Aperio's first line when it names nobody and its key = value pairs of an allow-list (magnification, microns
 * per pixel, scanning parameters), nothing of other descriptions that name anyone. Every other tag (Artist,
 * DateTime, DocumentName, HostComputer, Software, Make, Model, XMP, vendors' private tags) is dropped. Pixel data
 * is copied tile by tile (or strip by strip) as raw compressed bytes, so the image is bit-identical. The output
 * is written to a temporary file beside OUT, fsynced and renamed: OUT is never half written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tiffio.h>
#include <unistd.h>

#include "anon_internal.h"

#define DESC_MAX 65536
#define RAW_MAX ((tmsize_t)1 << 30) /* a tile or strip larger than this is refused */

/* Aperio description keys that say how the slide was scanned, not who or where. */
static const char *const kept_keys[] = {"AppMag",
                                        "MPP",
                                        "StripeWidth",
                                        "Exposure Time",
                                        "Exposure Scale",
                                        "Gamma",
                                        "Focus Offset",
                                        "Left",
                                        "Top",
                                        "LineCameraSkew",
                                        "LineAreaXOffset",
                                        "LineAreaYOffset",
                                        "OriginalWidth",
                                        "OriginalHeight",
                                        "Filtered",
                                        "ICC Profile",
                                        "Original Width",
                                        "Original Height",
                                        NULL};

static int kept_key(const char *seg, size_t len)
{
  size_t k = 0;

  while (k < len && seg[k] != '=')
    k++;
  while (k > 0 && seg[k - 1] == ' ')
    k--;
  for (size_t i = 0; kept_keys[i] != NULL; i++) {
    if (strlen(kept_keys[i]) == k && strncasecmp(seg, kept_keys[i], k) == 0)
      return 1;
  }
  return 0;
}

static int names_nobody(const char *s, size_t len)
{
  unsigned direct = ANON_V_EMAIL | ANON_V_PHONE | ANON_V_NIR | ANON_V_IPV4 | ANON_V_IPV6 | ANON_V_IBAN |
                    ANON_V_NATIONAL_ID | ANON_V_NAMES | ANON_V_BIRTH_TEXT;

  return (anon_value_scan(s, len, NULL) & direct) == 0;
}

/* Writes into out the description to keep (possibly empty). */
static void clean_description(const char *desc, char *out, size_t outlen)
{
  size_t o = 0, len = strlen(desc);
  const char *bar = strchr(desc, '|');

  out[0] = '\0';
  if (bar == NULL) { /* not Aperio's: kept whole when it names nobody and holds no key = value pair */
    if (len < outlen && names_nobody(desc, len) && strchr(desc, '=') == NULL && strchr(desc, '<') == NULL)
      memcpy(out, desc, len + 1);
    return;
  }
  for (const char *seg = desc; seg != NULL && *seg != '\0';) {
    const char *end = strchr(seg, '|');
    size_t n = end != NULL ? (size_t)(end - seg) : strlen(seg);
    int keep = seg == desc ? names_nobody(seg, n) : kept_key(seg, n) && names_nobody(seg, n);

    if (keep && o + n + 2 < outlen) {
      if (o > 0)
        out[o++] = '|';
      memcpy(out + o, seg, n);
      o += n;
      out[o] = '\0';
    }
    seg = end != NULL ? end + 1 : NULL;
  }
}

/* Copies a one-value tag of type TYPE from the current directory of in to out when it is set. */
#define COPY(type, tag)                                                                                                \
  do {                                                                                                                 \
    type v;                                                                                                            \
    if (TIFFGetField(in, tag, &v) == 1 && TIFFSetField(out, tag, v) != 1)                                              \
      return -1;                                                                                                       \
  } while (0)
#define COPY16(tag) COPY(uint16_t, tag)
#define COPY32(tag) COPY(uint32_t, tag)
#define COPYF(tag) COPY(float, tag)

/* The tags that describe the pixels of the current directory. */
static int copy_pixel_tags(TIFF *in, TIFF *out, const char *desc)
{
  uint16_t photometric = 0, n_extra = 0, *extra = NULL, *red, *green, *blue, s1, s2;
  uint32_t count = 0;
  void *data = NULL;
  float *refbw = NULL;

  COPY32(TIFFTAG_SUBFILETYPE);
  COPY32(TIFFTAG_IMAGEWIDTH);
  COPY32(TIFFTAG_IMAGELENGTH);
  COPY32(TIFFTAG_IMAGEDEPTH);
  COPY16(TIFFTAG_BITSPERSAMPLE);
  COPY16(TIFFTAG_SAMPLESPERPIXEL);
  COPY16(TIFFTAG_COMPRESSION); /* before the codec's own tags (JPEG tables, predictor) */
  COPY16(TIFFTAG_PHOTOMETRIC);
  COPY16(TIFFTAG_PLANARCONFIG);
  COPY16(TIFFTAG_ORIENTATION);
  COPY16(TIFFTAG_SAMPLEFORMAT);
  COPY16(TIFFTAG_PREDICTOR);
  COPY16(TIFFTAG_RESOLUTIONUNIT);
  COPYF(TIFFTAG_XRESOLUTION);
  COPYF(TIFFTAG_YRESOLUTION);
  COPY16(TIFFTAG_YCBCRPOSITIONING);
  if (TIFFIsTiled(in)) {
    COPY32(TIFFTAG_TILEWIDTH);
    COPY32(TIFFTAG_TILELENGTH);
    COPY32(TIFFTAG_TILEDEPTH);
  } else {
    COPY32(TIFFTAG_ROWSPERSTRIP);
  }
  if (TIFFGetField(in, TIFFTAG_YCBCRSUBSAMPLING, &s1, &s2) == 1 &&
      TIFFSetField(out, TIFFTAG_YCBCRSUBSAMPLING, s1, s2) != 1)
    return -1;
  if (TIFFGetField(in, TIFFTAG_REFERENCEBLACKWHITE, &refbw) == 1 && refbw != NULL &&
      TIFFSetField(out, TIFFTAG_REFERENCEBLACKWHITE, refbw) != 1)
    return -1;
  if (TIFFGetField(in, TIFFTAG_EXTRASAMPLES, &n_extra, &extra) == 1 &&
      TIFFSetField(out, TIFFTAG_EXTRASAMPLES, n_extra, extra) != 1)
    return -1;
  if (TIFFGetField(in, TIFFTAG_JPEGTABLES, &count, &data) == 1 && count > 0 &&
      TIFFSetField(out, TIFFTAG_JPEGTABLES, count, data) != 1)
    return -1;
  if (TIFFGetField(in, TIFFTAG_ICCPROFILE, &count, &data) == 1 && count > 0 &&
      TIFFSetField(out, TIFFTAG_ICCPROFILE, count, data) != 1)
    return -1;
  (void)TIFFGetField(in, TIFFTAG_PHOTOMETRIC, &photometric);
  if (photometric == PHOTOMETRIC_PALETTE && TIFFGetField(in, TIFFTAG_COLORMAP, &red, &green, &blue) == 1 &&
      TIFFSetField(out, TIFFTAG_COLORMAP, red, green, blue) != 1)
    return -1;
  if (desc != NULL && desc[0] != '\0' && TIFFSetField(out, TIFFTAG_IMAGEDESCRIPTION, desc) != 1)
    return -1;
  return 0;
}

/* Copies the current directory's tiles or strips as raw bytes. */
static int copy_raw(TIFF *in, TIFF *out, char *err, size_t errlen)
{
  int tiled = TIFFIsTiled(in);
  uint32_t n = tiled ? TIFFNumberOfTiles(in) : TIFFNumberOfStrips(in);
  uint64_t *counts = NULL;
  unsigned char *buf = NULL;
  tmsize_t cap = 0;
  int rc = -1;

  if (TIFFGetField(in, tiled ? TIFFTAG_TILEBYTECOUNTS : TIFFTAG_STRIPBYTECOUNTS, &counts) != 1 || counts == NULL) {
    anon_errf(err, errlen, "no %s byte counts", tiled ? "tile" : "strip");
    return -1;
  }
  for (uint32_t i = 0; i < n; i++) {
    tmsize_t size = (tmsize_t)counts[i], got;

    if (counts[i] > (uint64_t)RAW_MAX) {
      anon_errf(err, errlen, "a %s of %llu bytes", tiled ? "tile" : "strip", (unsigned long long)counts[i]);
      goto out;
    }
    if (size > cap) {
      unsigned char *bigger = realloc(buf, (size_t)size);

      if (bigger == NULL) {
        anon_errf(err, errlen, "out of memory");
        goto out;
      }
      buf = bigger;
      cap = size;
    }
    got = size == 0 ? 0 : tiled ? TIFFReadRawTile(in, i, buf, size) : TIFFReadRawStrip(in, i, buf, size);
    if (got != size ||
        (size > 0 && (tiled ? TIFFWriteRawTile(out, i, buf, size) : TIFFWriteRawStrip(out, i, buf, size)) != size)) {
      anon_errf(err, errlen, "%s %u could not be copied", tiled ? "tile" : "strip", i);
      goto out;
    }
  }
  rc = 0;
out:
  free(buf);
  return rc;
}

int anon_strip_tiff(const char *in_path, const char *out_path, struct anon_strip_stats *stats, char *err, size_t errlen)
{
  char tmp[4200], msg[ANON_TIFF_MSG], desc_clean[DESC_MAX];
  TIFFOpenOptions *o = anon_tiff_options(msg);
  TIFF *in = NULL, *out = NULL;
  int fd = -1, rc = ANON_ERROR, page = 0, created = 0;

  memset(stats, 0, sizeof(*stats));
  if (o == NULL || snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", out_path) >= (int)sizeof(tmp)) {
    anon_errf(err, errlen, "%s: out of memory or path too long", out_path);
    goto out;
  }
  in = TIFFOpenExt(in_path, "r", o);
  if (in == NULL) {
    anon_errf(err, errlen, "%s: not a readable TIFF file: %s", in_path, msg);
    goto out;
  }
  fd = mkstemp(tmp);
  created = fd >= 0;
  if (fd < 0) {
    anon_errf(err, errlen, "%s: cannot create a temporary file beside it: %s", out_path, strerror(errno));
    goto out;
  }
  out = TIFFFdOpenExt(fd, tmp, TIFFIsBigTIFF(in) ? "w8" : "w", o);
  if (out == NULL) {
    anon_errf(err, errlen, "%s: cannot write: %s", out_path, msg);
    goto out;
  }
  do {
    const char *desc = NULL;
    char *d = NULL;
    int pg = ++page;

    if (TIFFGetField(in, TIFFTAG_IMAGEDESCRIPTION, &d) == 1)
      desc = d;
    if (anon_tiff_associated_kind(desc) != NULL) {
      stats->pages_dropped++;
      continue;
    }
    clean_description(desc != NULL ? desc : "", desc_clean, sizeof(desc_clean));
    if (desc != NULL && strcmp(desc, desc_clean) != 0)
      stats->descriptions_cleaned++;
    if (copy_pixel_tags(in, out, desc_clean) != 0 || copy_raw(in, out, msg, sizeof(msg)) != 0 ||
        TIFFWriteDirectory(out) != 1) {
      anon_errf(err, errlen, "%s: page %d: %s", in_path, pg, msg[0] != '\0' ? msg : "its tags could not be copied");
      goto out;
    }
    stats->pages_kept++;
  } while (TIFFReadDirectory(in) == 1);
  if (stats->pages_kept == 0) {
    anon_errf(err, errlen, "%s: no page left once label and macro images are removed", in_path);
    goto out;
  }
  TIFFClose(out); /* closes fd */
  out = NULL;
  fd = -1;
  if (anon_publish(tmp, out_path, err, errlen) != 0)
    goto out;
  created = 0;
  rc = ANON_PASS;
out:
  if (out != NULL)
    TIFFClose(out); /* closes fd too */
  else if (fd >= 0)
    (void)close(fd);
  if (created)
    (void)unlink(tmp);
  if (in != NULL)
    TIFFClose(in);
  if (o != NULL)
    TIFFOpenOptionsFree(o);
  return rc;
}
