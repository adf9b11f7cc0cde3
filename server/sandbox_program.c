/* sandbox_program.c: see sandbox_program.h. */
#include "sandbox_program.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "arc.h"
#include "csv.h"
#include "extract.h"
#include "sandbox.h"
#include "util.h"

#define METADATA_MAX (64 * 1024)
#define TRUTH_MAX_FIELDS 4096
#define TRUTH_MAX_BYTES (8ull << 30)
#define RES_MAX_BYTES (4ull << 30)

int sandbox_program_command(const char *program_dir, char *cmd, size_t n, char *err, size_t errlen)
{
  static const char *const names[] = {"metadata", "metadata.yaml"};
  char path[4096];
  char *text = NULL;
  int rc = -1;
  for (size_t i = 0; i < 2 && text == NULL; i++) {
    if (util_fmt(path, sizeof(path), "%s/%s", program_dir, names[i]) == 0)
      text = util_read_file(path, METADATA_MAX, NULL);
  }
  if (text == NULL) {
    snprintf(err, errlen, "scoring_program has no readable metadata or metadata.yaml file (at most %d bytes)",
             METADATA_MAX);
    return -1;
  }
  for (char *line = text; line != NULL && *line != '\0';) {
    char *next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    if (strncmp(line, "command:", 8) == 0) {
      char *v = line + 8;
      size_t len;
      while (*v == ' ' || *v == '\t')
        v++;
      len = strcspn(v, "\r");
      while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
      if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
        v++;
        len -= 2;
      }
      v[len] = '\0';
      if (len == 0) {
        snprintf(err, errlen, "the command: line of scoring_program/metadata is empty");
      } else if (strncmp(v, "python2", 7) == 0) {
        snprintf(err, errlen,
                 "the command: line of scoring_program/metadata runs python2: Python 2 programs are not "
                 "supported (port the program to Python 3)");
      } else if (strncmp(v, "python ", 7) ==
                 0) { /* CodaLab's images had python 3 as "python"; Debian calls it python3 */
        if (snprintf(cmd, n, "python3 %s", v + 7) >= (int)n)
          snprintf(err, errlen, "the command: line of scoring_program/metadata is too long");
        else
          rc = 0;
      } else if (util_strlcpy(cmd, v, n) != 0) {
        snprintf(err, errlen, "the command: line of scoring_program/metadata is too long");
      } else {
        rc = 0;
      }
      goto out;
    }
    line = next;
  }
  snprintf(err, errlen, "scoring_program/metadata has no command: line");
out:
  free(text);
  return rc;
}

int sandbox_program_expand(const char *cmd, const struct sandbox_program_vars *v, char *out, size_t n)
{
  const struct {
    const char *name;
    const char *value;
  } vars[] = {{"input", v->input},
              {"output", v->output},
              {"program", v->program},
              {"hidden", v->hidden},
              {"shared", v->shared},
              {"tmp", v->tmp},
              {"predictions", v->predictions},
              {"ingestion_program", v->ingestion_program},
              {"submission_program", v->submission_program}};
  size_t o = 0;
  for (const char *p = cmd; *p != '\0';) {
    const char *value = NULL;
    size_t skip = 0;
    if (*p == '$') {
      int braced = p[1] == '{';
      const char *w = p + 1 + braced;
      size_t wl = 0;
      while ((w[wl] >= 'a' && w[wl] <= 'z') || (w[wl] >= 'A' && w[wl] <= 'Z') || w[wl] == '_' ||
             (w[wl] >= '0' && w[wl] <= '9'))
        wl++;
      for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]) && value == NULL; i++) {
        if (strlen(vars[i].name) == wl && strncmp(w, vars[i].name, wl) == 0 && (!braced || w[wl] == '}')) {
          value = vars[i].value;
          skip = 1 + (size_t)braced * 2 + wl;
        }
      }
    }
    if (value != NULL) {
      size_t vl = strlen(value);
      if (o + vl >= n)
        return -1;
      memcpy(out + o, value, vl);
      o += vl;
      p += skip;
    } else {
      if (o + 1 >= n)
        return -1;
      out[o++] = *p++;
    }
  }
  out[o] = '\0';
  return 0;
}

/* Writes field S (LEN bytes) as one CSV field, quoted when it needs to be. */
static int put_field(FILE *f, const char *s, size_t len)
{
  if (memchr(s, ',', len) == NULL && memchr(s, '"', len) == NULL && memchr(s, '\n', len) == NULL &&
      memchr(s, '\r', len) == NULL)
    return fwrite(s, 1, len, f) == len ? 0 : -1;
  if (fputc('"', f) == EOF)
    return -1;
  for (size_t i = 0; i < len; i++) {
    if ((s[i] == '"' && fputc('"', f) == EOF) || fputc(s[i], f) == EOF)
      return -1;
  }
  return fputc('"', f) == EOF ? -1 : 0;
}

static int put_record(FILE *f, const struct csv_field *fields, int n, int skip)
{
  int first = 1;
  for (int i = 0; i < n; i++) {
    if (i == skip)
      continue;
    if ((!first && fputc(',', f) == EOF) || put_field(f, fields[i].s, fields[i].len) != 0)
      return -1;
    first = 0;
  }
  return fputc('\n', f) == EOF ? -1 : 0;
}

long sandbox_program_split_truth(const char *truth, const char *split_column, enum sandbox_split which, const char *dst,
                                 int *has_split, char *err, size_t errlen)
{
  struct arc_input in;
  struct arc_limits lim = {TRUTH_MAX_BYTES, 1, 0}; /* the organizer's own file: no ratio cap */
  struct csv_reader r;
  struct csv_field *fields = malloc(sizeof(*fields) * TRUTH_MAX_FIELDS);
  FILE *f = NULL;
  long rows = -1, written = 0;
  int nf = 0, split = -1, fd = -1;
  char msg[256];
  memset(&in, 0, sizeof(in));
  if (fields == NULL || arc_load(truth, &lim, &in, msg, sizeof(msg)) != ARC_OK) {
    snprintf(err, errlen, "cannot read the ground truth: %s", fields == NULL ? "out of memory" : msg);
    goto out;
  }
  csv_reader_init(&r, in.data, in.len, 1 << 20);
  if (csv_next(&r, fields, TRUTH_MAX_FIELDS, &nf) != CSV_OK || nf > TRUTH_MAX_FIELDS) {
    snprintf(err, errlen, "the ground truth has no readable header");
    goto out;
  }
  for (int i = 0; i < nf && split_column != NULL && split_column[0] != '\0'; i++) {
    if (fields[i].len == strlen(split_column) && csv_field_ieq(fields[i].s, fields[i].len, split_column))
      split = i;
  }
  if (has_split != NULL)
    *has_split = split >= 0;
  fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (f == NULL || fchmod(fd, 0644) != 0) {
    snprintf(err, errlen, "cannot write %s: %s", dst, strerror(errno));
    goto out;
  }
  fd = -1;
  if (put_record(f, fields, nf, split) != 0)
    goto write_fail;
  int header_n = nf;
  for (;;) {
    enum csv_status st = csv_next(&r, fields, TRUTH_MAX_FIELDS, &nf);
    if (st == CSV_EOF)
      break;
    if (st != CSV_OK || nf != header_n) {
      snprintf(err, errlen, "the ground truth line %zu is malformed", r.line);
      goto out;
    }
    if (split >= 0 && which != SANDBOX_SPLIT_ALL &&
        !csv_field_ieq(fields[split].s, fields[split].len, which == SANDBOX_SPLIT_PUBLIC ? "public" : "private"))
      continue;
    if (put_record(f, fields, nf, split) != 0)
      goto write_fail;
    written++;
  }
  if (fclose(f) != 0) {
    f = NULL;
    goto write_fail;
  }
  f = NULL;
  rows = written;
  goto out;
write_fail:
  snprintf(err, errlen, "cannot write %s: %s", dst, strerror(errno));
out:
  if (f != NULL)
    fclose(f);
  if (fd >= 0)
    close(fd);
  arc_input_free(&in);
  free(fields);
  return rows;
}

/* Writes the decompressed gzip PRED to DST. 0, 1 (refused, MSG for the participant) or -1. */
static int gunzip_to(const char *pred, const char *dst, char *msg, size_t msglen)
{
  struct arc_input in;
  struct arc_limits lim = {RES_MAX_BYTES, 1, 100}; /* a participant's file: bombs stop at 100 times */
  int rc = -1;
  memset(&in, 0, sizeof(in));
  enum arc_status st = arc_load(pred, &lim, &in, msg, msglen);
  if (st == ARC_ERR_REJECTED) {
    rc = 1;
  } else if (st == ARC_OK) {
    rc = util_write_file_atomic(dst, in.data, in.len, 0644) == 0 ? 0 : -1;
    if (rc != 0)
      snprintf(msg, msglen, "cannot write %s", dst);
  }
  arc_input_free(&in);
  return rc;
}

int sandbox_program_stage_submission(const char *pred, const char *res_dir, char *msg, size_t msglen)
{
  char dst[4096];
  int gzip = 0;
  struct extract_limits lim = {RES_MAX_BYTES, 10000, 255, 0644, 0755, 0};
  if (util_fmt(dst, sizeof(dst), "%s/predictions.csv", res_dir) != 0) {
    snprintf(msg, msglen, "path too long");
    return -1;
  }
  if (!extract_is_archive(pred, &gzip)) {
    if (sandbox_stage_file(pred, dst) != 0) {
      snprintf(msg, msglen, "cannot copy the submission: %s", strerror(errno));
      return -1;
    }
    return 0;
  }
  int rc = extract_archive(pred, res_dir, &lim, msg, msglen);
  if (rc == 1 && gzip) /* a gzip file that is not a tar: one compressed file */
    rc = gunzip_to(pred, dst, msg, msglen);
  return rc;
}

/* scores.txt: `key: value` or `key:value` per line; blank lines and # comments skipped. */
static int txt_score(const char *txt, const char *key, double *value, char *err, size_t errlen)
{
  size_t klen = strlen(key);
  int found = 0;
  for (const char *line = txt; *line != '\0';) {
    const char *end = strchr(line, '\n');
    size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
    const char *colon = memchr(line, ':', len);
    if (colon != NULL && line[0] != '#') {
      const char *k = line;
      size_t kl = (size_t)(colon - line);
      while (kl > 0 && (k[kl - 1] == ' ' || k[kl - 1] == '\t'))
        kl--;
      while (kl > 0 && (*k == ' ' || *k == '\t')) {
        k++;
        kl--;
      }
      if (kl == klen && strncmp(k, key, klen) == 0) {
        char num[64];
        size_t vl = len - (size_t)(colon + 1 - line);
        const char *v = colon + 1;
        while (vl > 0 && (*v == ' ' || *v == '\t')) {
          v++;
          vl--;
        }
        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
          vl--;
        if (found) {
          snprintf(err, errlen, "scores.txt gives \"%s\" twice", key);
          return -1;
        }
        if (vl == 0 || vl >= sizeof(num) || csv_parse_double(v, vl, value) != CSV_NUM_OK) {
          snprintf(err, errlen, "scores.txt: the value of \"%s\" is not a finite number", key);
          return -1;
        }
        memcpy(num, v, vl);
        num[vl] = '\0';
        found = 1;
      }
    }
    line += len + (end != NULL ? 1 : 0);
  }
  if (!found)
    snprintf(err, errlen, "scores.txt has no line \"%s: value\"", key);
  return found ? 0 : -1;
}

int sandbox_program_parse_scores(const char *json, const char *txt, const char *key, double *value, char *err,
                                 size_t errlen)
{
  if (json == NULL && txt == NULL) {
    snprintf(err, errlen, "the program wrote neither scores.json nor scores.txt in $output");
    return -1;
  }
  if (json == NULL)
    return txt_score(txt, key, value, err, errlen);
  json_error_t jerr;
  json_t *o = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
  int rc = -1;
  json_t *v = json_object_get(o, key);
  if (!json_is_object(o)) {
    snprintf(err, errlen, "scores.json is not a JSON object without duplicate keys: %.120s", jerr.text);
  } else if (!json_is_number(v) || !isfinite(json_number_value(v))) {
    snprintf(err, errlen, "scores.json has no finite number \"%s\"", key);
  } else {
    *value = json_number_value(v);
    rc = 0;
  }
  json_decref(o);
  return rc;
}

int sandbox_program_ingestion_command(const char *ingestion_dir, char *cmd, size_t n, char *err, size_t errlen)
{
  char raw[SANDBOX_PROGRAM_CMD_MAX];
  const struct sandbox_program_vars vars = {"/data", "/output", "/ingestion", NULL,   "/tmp",
                                            "/tmp",  NULL,      "/ingestion", "/code"};
  if (sandbox_program_command(ingestion_dir, raw, sizeof(raw), err, errlen) != 0)
    return -1;
  if (sandbox_program_expand(raw, &vars, cmd, n) != 0) {
    snprintf(err, errlen, "the ingestion program's command is too long once expanded");
    return -1;
  }
  return 0;
}
