/* formats.c: every file checked by its real format (issue 15).
 *
 * anon_check_path() looks at a file's first bytes, not only its name, and hands it to the check that reads
 * that format: delimited tables (the delimiter sniffed from the header line), plain text and JSON lines
 * (check.c through the table reader, gzip-compressed or not), zip archives (each member extracted to a
 * private temporary folder and checked in turn; archives inside archives are refused), TIFF and pyramidal
 * whole-slide images (tiff.c, libtiff), PNG (image.c, libpng) and DICOM (dicom.c, DCMTK's dcmdump). Anything
 * else is refused with ANON_ERROR: what cannot be read cannot be said to be anonymous. The file's own name is
 * scanned too ("DUPONT_J_biopsy_2019.tif").
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "anon_internal.h"

#define HEAD_BYTES 4096
#define ZIP_MAX_MEMBERS 100000
#define ZIP_MAX_DEPTH 1 /* a zip inside a zip (a starting kit's sample submission) is checked; one more is refused */
#define ZIP_MAX_MEMBER_BYTES ((long long)4 << 30) /* a member inflating past this is refused (zip bomb) */

/* Reads up to n bytes at the start of path (decompressed when gzip). Returns the count, or -1. */
static long read_head(const char *path, int gzip, unsigned char *buf, size_t n)
{
  long got = -1;

  if (gzip) {
    gzFile gz = gzopen(path, "rb");

    if (gz == NULL)
      return -1;
    got = gzread(gz, buf, (unsigned)n);
    (void)gzclose(gz);
    return got;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return -1;
  got = (long)read(fd, buf, n);
  (void)close(fd);
  return got;
}

static int has_ext(const char *name, const char *ext)
{
  size_t n = strlen(name), e = strlen(ext);

  return n > e && strcasecmp(name + n - e, ext) == 0;
}

/* Is buf[0..n) UTF-8 text (a character cut at the end allowed) without NUL? */
static int looks_like_text(const unsigned char *buf, long n)
{
  long i = 0;

  while (i < n) {
    unsigned char c = buf[i];
    long need = c < 0x80 ? 0 : c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC2 ? 1 : -1;

    if (c == 0 || need < 0)
      return 0;
    if (i + need >= n)
      return 1; /* cut by the head's end */
    for (long j = 1; j <= need; j++) {
      if ((buf[i + j] & 0xC0) != 0x80)
        return 0;
    }
    i += need + 1;
  }
  return 1;
}

/* The delimiter of a table's header line: the most frequent of ',', ';', tab and '|' outside quotes. */
static unsigned char sniff_delim(const unsigned char *buf, long n)
{
  static const unsigned char cands[] = {',', ';', '\t', '|'};
  long count[4] = {0, 0, 0, 0}, best = 0;
  int quoted = 0;

  for (long i = 0; i < n && (buf[i] != '\n' || quoted); i++) {
    if (buf[i] == '"')
      quoted = !quoted;
    for (int k = 0; k < 4 && !quoted; k++)
      count[k] += buf[i] == cands[k];
  }
  for (int k = 1; k < 4; k++) {
    if (count[k] > count[best])
      best = k;
  }
  return cands[best];
}

/* Chooses how to read a text file named name (without any .gz) whose first bytes are head. */
static void text_spec(const char *name, const unsigned char *head, long n, struct anon_table_spec *spec)
{
  if (has_ext(name, ".jsonl") || has_ext(name, ".ndjson")) {
    spec->kind = ANON_TABLE_JSONL;
  } else if (has_ext(name, ".tsv") || has_ext(name, ".tab")) {
    spec->kind = ANON_TABLE_CSV;
    spec->delim = '\t';
  } else if (has_ext(name, ".csv")) {
    spec->kind = ANON_TABLE_CSV;
    spec->delim = sniff_delim(head, n);
  } else {
    spec->kind = ANON_TABLE_TEXT;
  }
}

static int is_gzip(const unsigned char *head, long n)
{
  return n >= 2 && head[0] == 0x1F && head[1] == 0x8B;
}

/* How to read the text file path named name, whose first n bytes are head: through gzip when head says so, by the
   name without .gz then. Fills spec (spec->name = name). Returns 0, or -1 when the content is not text. */
static int text_table(const char *path, const char *name, unsigned char *head, long n, struct anon_table_spec *spec)
{
  char inner[1024];
  size_t len = strlen(name);

  memset(spec, 0, sizeof(*spec));
  spec->name = name;
  if (is_gzip(head, n)) {
    (void)snprintf(inner, sizeof(inner), "%.*s", (int)(has_ext(name, ".gz") ? len - 3 : len), name);
    spec->gzip = 1;
    n = read_head(path, 1, head, HEAD_BYTES);
    name = inner;
  }
  if (n < 0 || !looks_like_text(head, n))
    return -1;
  text_spec(name, head, n, spec);
  return 0;
}

/* Adds to rep the direct identifiers found in the file's own name (its last path component). */
static int check_file_name(const char *name, json_t *rep)
{
  static const struct {
    unsigned bit;
    const char *rule;
  } rules[] = {{ANON_V_NAMES, "file_name:names"},           {ANON_V_NIR, "file_name:nir"},
               {ANON_V_EMAIL, "file_name:email"},           {ANON_V_PHONE, "file_name:phone"},
               {ANON_V_BIRTH_TEXT, "file_name:birth_date"}, {ANON_V_NATIONAL_ID, "file_name:national_id"}};
  const char *base = strrchr(name, '/');
  json_t *direct = json_object_get(rep, "direct_identifiers");
  json_t *failures = json_object_get(rep, "failures");
  unsigned bits;
  int found = 0;

  base = base != NULL ? base + 1 : name;
  bits = anon_value_scan(base, strlen(base), NULL);
  for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
    if (!(bits & rules[i].bit))
      continue;
    found = 1;
    if (!json_is_array(direct) ||
        json_array_append_new(direct, json_pack("{s:s, s:s, s:i, s:s}", "column", "(file name)", "rule", rules[i].rule,
                                                "count", 1, "fix", "rename")) != 0)
      return -1;
  }
  if (found && (!json_is_array(failures) ||
                json_array_append_new(failures, json_string("the file's name holds a direct identifier")) != 0 ||
                json_object_set_new(rep, "passed", json_false()) != 0))
    return -1;
  return 0;
}

/* A new report skeleton for formats that are not tables: {"file","format","passed":true,"failures":[],
   "warnings":[],"direct_identifiers":[]}. NULL when out of memory. */
json_t *anon_report_new(const char *name, const char *format)
{
  return json_pack("{s:s, s:s, s:b, s:[], s:[], s:[]}", "file", name, "format", format, "passed", 1, "failures",
                   "warnings", "direct_identifiers");
}

static int check_any(const char *path, const char *name, const struct anon_check_options *opt, int depth,
                     json_t **report, char *err, size_t errlen);

/* Copies the current entry of a to a new file in dir named after index and the member's extension. */
static int extract_member(struct archive *a, struct archive_entry *e, const char *dir, size_t index, char *out,
                          size_t outlen, char *err, size_t errlen)
{
  const char *mname = archive_entry_pathname(e), *dot = mname != NULL ? strrchr(mname, '.') : NULL;
  char buf[65536];
  long long total = 0;
  ssize_t n;
  int fd, rc = -1;

  if (dot == NULL || strchr(dot, '/') != NULL || strlen(dot) > 16)
    dot = "";
  if (snprintf(out, outlen, "%s/m%zu%s", dir, index, dot) >= (int)outlen) {
    anon_errf(err, errlen, "temporary path too long");
    return -1;
  }
  fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    anon_errf(err, errlen, "cannot create a temporary file: %s", strerror(errno));
    return -1;
  }
  for (;;) {
    n = archive_read_data(a, buf, sizeof(buf));
    if (n == 0)
      break;
    if (n < 0) {
      anon_errf(err, errlen, "member \"%.100s\": %s", mname, archive_error_string(a));
      goto out;
    }
    total += n;
    if (total > ZIP_MAX_MEMBER_BYTES) {
      anon_errf(err, errlen, "member \"%.100s\": larger than %lld bytes once inflated", mname, ZIP_MAX_MEMBER_BYTES);
      goto out;
    }
    if (write(fd, buf, (size_t)n) != n) {
      anon_errf(err, errlen, "cannot write a temporary file: %s", strerror(errno));
      goto out;
    }
  }
  rc = 0;
out:
  (void)close(fd);
  return rc;
}

/* Lifts a member's report into the archive's: its failures and direct identifiers, prefixed by its name. */
static int lift_member(json_t *rep, const char *mname, json_t *member)
{
  size_t i;
  json_t *e;
  char msg[512];

  json_array_foreach(json_object_get(member, "failures"), i, e)
  {
    (void)snprintf(msg, sizeof(msg), "%.200s: %s", mname, json_string_value(e));
    if (json_array_append_new(json_object_get(rep, "failures"), json_string(msg)) != 0)
      return -1;
  }
  json_array_foreach(json_object_get(member, "direct_identifiers"), i, e)
  {
    json_t *copy = json_deep_copy(e);

    (void)snprintf(msg, sizeof(msg), "%.200s: %s", mname, json_string_value(json_object_get(e, "column")));
    if (copy == NULL || json_object_set_new(copy, "column", json_string(msg)) != 0 ||
        json_array_append_new(json_object_get(rep, "direct_identifiers"), copy) != 0)
      return -1;
  }
  if (!json_is_true(json_object_get(member, "passed")) && json_object_set_new(rep, "passed", json_false()) != 0)
    return -1;
  return json_array_append(json_object_get(rep, "members"), member);
}

/* Checks every member of the zip archive at path. Members that fail make the archive fail; a member that cannot
   be checked makes it an error (as a file on its own would be). */
static int check_zip(const char *path, const char *name, const struct anon_check_options *opt, int depth,
                     json_t **report, char *err, size_t errlen)
{
  const char *tmp = getenv("TMPDIR");
  char dir[4096], member_path[4200], mname[1024], merr[512];
  struct archive *a = archive_read_new();
  struct archive_entry *e;
  json_t *rep = anon_report_new(name, "zip");
  size_t index = 0;
  int rc = ANON_ERROR, r;

  if (snprintf(dir, sizeof(dir), "%s/concours-anon-XXXXXX", tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp") >=
      (int)sizeof(dir)) {
    anon_errf(err, errlen, "%s: temporary folder path too long", name);
    goto done;
  }
  if (a == NULL || rep == NULL || json_object_set_new(rep, "members", json_array()) != 0) {
    anon_errf(err, errlen, "%s: out of memory", name);
    goto done;
  }
  if (depth > ZIP_MAX_DEPTH) {
    anon_errf(err, errlen, "%s: an archive inside an archive inside an archive is not checked: unpack it in the bundle",
              name);
    goto done;
  }
  if (mkdtemp(dir) == NULL) {
    anon_errf(err, errlen, "%s: cannot create a temporary folder: %s", name, strerror(errno));
    goto done;
  }
  (void)archive_read_support_format_zip(a);
  if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
    anon_errf(err, errlen, "%s: not a readable zip archive: %s", name, archive_error_string(a));
    goto cleanup;
  }
  while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
    json_t *mrep = NULL;
    const char *p = archive_entry_pathname(e);

    if (archive_entry_filetype(e) == AE_IFDIR)
      continue;
    if (++index > ZIP_MAX_MEMBERS) {
      anon_errf(err, errlen, "%s: more than %d members", name, ZIP_MAX_MEMBERS);
      goto cleanup;
    }
    (void)snprintf(mname, sizeof(mname), "%s:%s", name, p != NULL ? p : "?");
    if (archive_entry_filetype(e) != AE_IFREG) {
      anon_errf(err, errlen, "%s: not a regular file (links and devices are refused)", mname);
      goto cleanup;
    }
    if (extract_member(a, e, dir, index, member_path, sizeof(member_path), merr, sizeof(merr)) != 0) {
      (void)unlink(member_path);
      anon_errf(err, errlen, "%s: %s", name, merr);
      goto cleanup;
    }
    r = check_any(member_path, mname, opt, depth + 1, &mrep, err, errlen);
    (void)unlink(member_path);
    if (r == ANON_ERROR)
      goto cleanup;
    r = lift_member(rep, p != NULL ? p : "?", mrep);
    json_decref(mrep);
    if (r != 0) {
      anon_errf(err, errlen, "%s: out of memory", name);
      goto cleanup;
    }
  }
  if (r != ARCHIVE_EOF) {
    anon_errf(err, errlen, "%s: damaged zip archive: %s", name, archive_error_string(a));
    goto cleanup;
  }
  *report = rep;
  rep = NULL;
  rc = json_is_true(json_object_get(*report, "passed")) ? ANON_PASS : ANON_FAIL;
cleanup:
  (void)rmdir(dir);
done:
  archive_read_free(a);
  json_decref(rep);
  return rc;
}

static int check_any(const char *path, const char *name, const struct anon_check_options *opt, int depth,
                     json_t **report, char *err, size_t errlen)
{
  unsigned char head[HEAD_BYTES];
  struct anon_table_spec spec;
  struct stat st;
  long n;
  int rc;

  *report = NULL;
  if (stat(path, &st) != 0) {
    anon_errf(err, errlen, "%s: cannot open: %s", name, strerror(errno));
    return ANON_ERROR;
  }
  if (!S_ISREG(st.st_mode)) {
    anon_errf(err, errlen, "%s: not a regular file", name);
    return ANON_ERROR;
  }
  n = read_head(path, 0, head, sizeof(head));
  if (n < 0) {
    anon_errf(err, errlen, "%s: cannot open: %s", name, strerror(errno));
    return ANON_ERROR;
  }
  if (is_gzip(head, n)) {
    if (text_table(path, name, head, n, &spec) != 0) {
      anon_errf(err, errlen, "%s: compressed content that is not text: decompress it in the bundle", name);
      return ANON_ERROR;
    }
    rc = anon_check_table(path, &spec, opt, report, err, errlen);
  } else if (n >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5)) {
    rc = check_zip(path, name, opt, depth, report, err, errlen);
  } else if (n >= 4 && ((head[0] == 'I' && head[1] == 'I' && (head[2] == 42 || head[2] == 43) && head[3] == 0) ||
                        (head[0] == 'M' && head[1] == 'M' && head[2] == 0 && (head[3] == 42 || head[3] == 43)))) {
    rc = anon_check_tiff(path, name, report, err, errlen);
  } else if (n >= 132 && memcmp(head + 128, "DICM", 4) == 0) {
    rc = anon_check_dicom(path, name, report, err, errlen);
  } else if (n >= 8 && memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0) {
    rc = anon_check_png(path, name, report, err, errlen);
  } else if (text_table(path, name, head, n, &spec) == 0) {
    rc = anon_check_table(path, &spec, opt, report, err, errlen);
  } else {
    anon_errf(err, errlen,
              "%s: a format concours cannot check (not a table, text, JSON lines, gzip, zip, TIFF, PNG or DICOM "
              "file): it is refused unless the organizer overrides the check",
              name);
    return ANON_ERROR;
  }
  if (rc == ANON_ERROR)
    return rc;
  if (check_file_name(name, *report) != 0) {
    json_decref(*report);
    *report = NULL;
    anon_errf(err, errlen, "%s: out of memory", name);
    return ANON_ERROR;
  }
  return json_is_true(json_object_get(*report, "passed")) ? ANON_PASS : ANON_FAIL;
}

int anon_table_spec_for(const char *path, const char *name, struct anon_table_spec *spec)
{
  unsigned char head[HEAD_BYTES];
  long n = read_head(path, 0, head, sizeof(head));

  return n >= 0 && text_table(path, name, head, n, spec) == 0 && spec->kind != ANON_TABLE_TEXT ? 0 : -1;
}

int anon_check_path(const char *path, const char *name, const struct anon_check_options *opt, json_t **report,
                    char *err, size_t errlen)
{
  struct anon_check_options defaults;

  if (opt == NULL) {
    anon_check_options_init(&defaults);
    opt = &defaults;
  }
  return check_any(path, name != NULL ? name : path, opt, 0, report, err, errlen);
}
