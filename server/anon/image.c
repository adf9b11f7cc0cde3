/* image.c: the anonymity check of TIFF / whole-slide images (libtiff) and PNG images (libpng).
 *
 * Slide scanners write the patient's name, the accession number and the scan date into TIFF tags
 * (ImageDescription, Artist, DocumentName, XMP, vendor private tags) and store a photograph of the glass
 * slide's label as an associated "label" or "macro" image. Every directory of the file is read: each text tag
 * is scanned with the value rules, "key = value" pairs inside it (Aperio's '|'-separated description, Philips'
 * XML attributes...) are classified by key like column names, a non-empty Artist names a person, and label and
 * macro images fail the file (fix: strip). PNG text chunks (tEXt, zTXt, iTXt) are scanned the same way. Pixel
 * data is never read: burned-in text is named in a warning, as it cannot be checked here.
 */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#include "anon_internal.h"

#define TEXT_MAX ((size_t)4 << 20)           /* a text tag longer than this is scanned up to here */
#define TIFF_MAX_ALLOC ((tmsize_t)256 << 20) /* libtiff refuses larger single allocations (hostile files) */
#define MAX_DIRECTORIES 4096

static const struct {
  unsigned bit;
  const char *rule;
} bit_rules[] = {
  {ANON_V_EMAIL, "email"},
  {ANON_V_PHONE, "phone"},
  {ANON_V_NIR, "nir"},
  {ANON_V_IPV4, "ipv4"},
  {ANON_V_IPV6, "ipv6"},
  {ANON_V_IBAN, "iban"},
  {ANON_V_NATIONAL_ID, "national_id"},
  {ANON_V_NAMES, "names"},
  {ANON_V_BIRTH_TEXT, "birth_date_in_text"},
};

/* Appends a finding {"column": where, "rule", "count": 1, "fix"} to the report and fails it. */
static int finding(json_t *rep, const char *where, const char *rule, const char *fix)
{
  json_t *e = json_pack("{s:s, s:s, s:i, s:s}", "column", where, "rule", rule, "count", 1, "fix", fix);

  if (e == NULL || json_array_append_new(json_object_get(rep, "direct_identifiers"), e) != 0)
    return -1;
  return json_object_set_new(rep, "passed", json_false());
}

static int add_text(json_t *rep, const char *list, const char *msg)
{
  return json_array_append_new(json_object_get(rep, list), json_string(msg));
}

/* Classifies "key = value" / "key: value" / key="value" pairs of a segment by key. */
static int scan_pair(json_t *rep, const char *where, const char *seg, size_t len)
{
  char key[128], at[384];
  size_t k = 0, i = 0;
  const char *category;

  while (i < len && (seg[i] == ' ' || seg[i] == '<' || seg[i] == '\t'))
    i++;
  while (i < len && k + 1 < sizeof(key) && seg[i] != '=' && seg[i] != ':' && seg[i] != '>')
    key[k++] = seg[i++];
  if (i >= len || (seg[i] != '=' && seg[i] != ':'))
    return 0;
  while (k > 0 && key[k - 1] == ' ')
    k--;
  key[k] = '\0';
  i++;
  while (i < len && (seg[i] == ' ' || seg[i] == '"'))
    i++;
  if (k == 0 || i >= len || seg[i] == '"' || seg[i] == '<')
    return 0; /* no value */
  if (anon_name_classify(key, &category) != ANON_NAME_DIRECT && !(anon_name_classify(key, &category) == ANON_NAME_ID))
    return 0;
  (void)snprintf(at, sizeof(at), "%s: %.100s", where, key);
  {
    char rule[64];

    (void)snprintf(rule, sizeof(rule), "column_name:%s", category);
    return finding(rep, at, rule, "strip");
  }
}

/* Scans one text value found at `where` (a tag or chunk): value rules on the whole text, keys of its pairs. */
int anon_scan_text_field(json_t *rep, const char *where, const char *text, size_t len)
{
  unsigned bits;
  size_t start = 0;

  if (len > TEXT_MAX)
    len = TEXT_MAX;
  /* Split on '|', line ends and XML element boundaries; each segment is a value of its own. */
  for (size_t i = 0; i <= len; i++) {
    if (i < len && text[i] != '|' && text[i] != '\n' && text[i] != '\r' && !(text[i] == '<' && i > start))
      continue;
    if (i > start && scan_pair(rep, where, text + start, i - start) != 0)
      return -1;
    start = i + 1;
  }
  bits = anon_value_scan(text, len, NULL);
  for (size_t r = 0; r < sizeof(bit_rules) / sizeof(bit_rules[0]); r++) {
    if ((bits & bit_rules[r].bit) && finding(rep, where, bit_rules[r].rule, "strip") != 0)
      return -1;
  }
  return 0;
}

/* Copies s to a valid UTF-8 text of at most TEXT_MAX bytes (invalid bytes and NULs as '?'). Caller frees. */
static char *utf8_copy(const char *s, size_t len, size_t *out_len)
{
  char *t;
  size_t i = 0;

  if (len > TEXT_MAX)
    len = TEXT_MAX;
  while (len > 0 && s[len - 1] == '\0') /* a TIFF string's terminator */
    len--;
  t = malloc(len + 1);
  if (t == NULL)
    return NULL;
  memcpy(t, s, len);
  while (i < len) {
    i += anon_utf8_valid_prefix((const unsigned char *)t + i, len - i);
    if (i < len)
      t[i++] = '?';
  }
  t[len] = '\0';
  *out_len = len;
  return t;
}

/* ---- TIFF ---- */

/* libtiff's first error goes to user (ANON_TIFF_MSG bytes); nothing reaches stderr. */
static int tiff_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
  char *msg = user;

  (void)tif;
  (void)module;
  if (msg[0] == '\0')
    (void)vsnprintf(msg, ANON_TIFF_MSG, fmt, ap);
  return 1;
}

static int tiff_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
  (void)tif;
  (void)user;
  (void)module;
  (void)fmt;
  (void)ap;
  return 1; /* unknown vendor tags are expected: not worth a line on stderr */
}

static const struct {
  ttag_t tag;
  const char *name;
} tiff_text_tags[] = {
  {TIFFTAG_DOCUMENTNAME, "DocumentName"},
  {TIFFTAG_IMAGEDESCRIPTION, "ImageDescription"},
  {TIFFTAG_MAKE, "Make"},
  {TIFFTAG_MODEL, "Model"},
  {TIFFTAG_PAGENAME, "PageName"},
  {TIFFTAG_SOFTWARE, "Software"},
  {TIFFTAG_ARTIST, "Artist"},
  {TIFFTAG_HOSTCOMPUTER, "HostComputer"},
  {TIFFTAG_COPYRIGHT, "Copyright"},
};

static int known_text_tag(uint32_t tag)
{
  for (size_t t = 0; t < sizeof(tiff_text_tags) / sizeof(tiff_text_tags[0]); t++) {
    if (tiff_text_tags[t].tag == tag)
      return 1;
  }
  return tag == TIFFTAG_DATETIME;
}

/* Is this directory an associated label or macro image? Returns "label", "macro" or NULL. */
/* Does a line of desc start with word, followed by a blank, a digit or the end ("label 387x463", "macro")? */
static int line_starts_with(const char *desc, const char *word)
{
  size_t n = strlen(word);

  for (const char *l = desc; l != NULL; l = strchr(l, '\n') != NULL ? strchr(l, '\n') + 1 : NULL) {
    if (strncmp(l, word, n) == 0 && (l[n] == '\0' || l[n] == ' ' || l[n] == '\r' || l[n] == '\n'))
      return 1;
  }
  return 0;
}

const char *anon_tiff_associated_kind(const char *desc)
{
  if (desc == NULL)
    return NULL;
  if (line_starts_with(desc, "label"))
    return "label";
  if (line_starts_with(desc, "macro"))
    return "macro";
  /* Aperio: "Aperio Image Library ...\nlabel 387x463"; Ventana / others: "Label Image", "Macro"; Philips keeps
     them in its XML ("LABELIMAGE", "MACROIMAGE"), which is scanned for pairs instead. */
  if (strstr(desc, "\nlabel ") != NULL || strncmp(desc, "label", 5) == 0 || strstr(desc, "Label Image") != NULL ||
      strstr(desc, "LABELIMAGE") != NULL || strcmp(desc, "Label") == 0)
    return "label";
  if (strstr(desc, "\nmacro ") != NULL || strncmp(desc, "macro", 5) == 0 || strstr(desc, "Macro Image") != NULL ||
      strstr(desc, "MACROIMAGE") != NULL || strcmp(desc, "Macro") == 0)
    return "macro";
  return NULL;
}

/* Scans the text tags of the current directory (page is 1-based). */
static int tiff_directory(TIFF *tif, int page, json_t *rep)
{
  char where[160];
  const char *desc = NULL, *kind;
  char *text;
  size_t len;

  for (size_t t = 0; t < sizeof(tiff_text_tags) / sizeof(tiff_text_tags[0]); t++) {
    char *v = NULL;

    if (TIFFGetField(tif, tiff_text_tags[t].tag, &v) != 1 || v == NULL || v[0] == '\0')
      continue;
    if (tiff_text_tags[t].tag == TIFFTAG_IMAGEDESCRIPTION)
      desc = v;
    (void)snprintf(where, sizeof(where), "page %d tag %s", page, tiff_text_tags[t].name);
    text = utf8_copy(v, strlen(v), &len);
    if (text == NULL || anon_scan_text_field(rep, where, text, len) != 0) {
      free(text);
      return -1;
    }
    free(text);
    if (tiff_text_tags[t].tag == TIFFTAG_ARTIST && finding(rep, where, "tiff:artist", "strip") != 0)
      return -1;
  }
  {
    char *v = NULL;

    if (TIFFGetField(tif, TIFFTAG_DATETIME, &v) == 1 && v != NULL && v[0] != '\0' && page == 1 &&
        add_text(rep, "warnings", "tag DateTime holds the scan date, a quasi-identifier: strip it or shift it") != 0)
      return -1;
  }
  /* XMP and the tags libtiff does not know (vendors' private tags), when they hold text. */
  for (int i = 0, n = TIFFGetTagListCount(tif); i < n; i++) {
    uint32_t tag = TIFFGetTagListEntry(tif, i);
    const TIFFField *fi = TIFFFieldWithTag(tif, tag);
    void *data = NULL;
    uint32_t count = 0;
    int got;

    if (fi == NULL || (TIFFFieldDataType(fi) != TIFF_ASCII && tag != TIFFTAG_XMLPACKET) || known_text_tag(tag))
      continue;
    if (TIFFFieldPassCount(fi)) {
      if (TIFFFieldReadCount(fi) == TIFF_VARIABLE2) {
        got = TIFFGetField(tif, tag, &count, &data);
      } else {
        uint16_t c16 = 0;

        got = TIFFGetField(tif, tag, &c16, &data);
        count = c16;
      }
    } else {
      got = TIFFGetField(tif, tag, &data);
      count = data != NULL ? (uint32_t)strlen(data) : 0;
    }
    if (got != 1 || data == NULL || count == 0)
      continue;
    (void)snprintf(where, sizeof(where), "page %d tag %s (%u)", page, TIFFFieldName(fi), tag);
    text = utf8_copy(data, count, &len);
    if (text == NULL || anon_scan_text_field(rep, where, text, len) != 0) {
      free(text);
      return -1;
    }
    free(text);
  }
  kind = anon_tiff_associated_kind(desc);
  if (kind != NULL) {
    (void)snprintf(where, sizeof(where), "page %d", page);
    if (finding(rep, where, strcmp(kind, "label") == 0 ? "tiff:label_image" : "tiff:macro_image", "strip") != 0)
      return -1;
  }
  return 0;
}

TIFFOpenOptions *anon_tiff_options(char msg[ANON_TIFF_MSG])
{
  TIFFOpenOptions *o = TIFFOpenOptionsAlloc();

  msg[0] = '\0';
  if (o == NULL)
    return NULL;
  TIFFOpenOptionsSetMaxSingleMemAlloc(o, TIFF_MAX_ALLOC);
  TIFFOpenOptionsSetErrorHandlerExtR(o, tiff_error, msg);
  TIFFOpenOptionsSetWarningHandlerExtR(o, tiff_warning, NULL);
  return o;
}

int anon_check_tiff(const char *path, const char *name, json_t **report, char *err, size_t errlen)
{
  char msg[ANON_TIFF_MSG];
  TIFFOpenOptions *o = anon_tiff_options(msg);
  json_t *rep = anon_report_new(name, "tiff");
  TIFF *tif = NULL;
  int page = 0, rc = ANON_ERROR;

  if (o == NULL || rep == NULL) {
    anon_errf(err, errlen, "%s: out of memory", name);
    goto out;
  }
  tif = TIFFOpenExt(path, "r", o);
  if (tif == NULL) {
    anon_errf(err, errlen, "%s: not a readable TIFF file: %s", name, msg[0] != '\0' ? msg : "?");
    goto out;
  }
  do {
    if (++page > MAX_DIRECTORIES) {
      anon_errf(err, errlen, "%s: more than %d directories", name, MAX_DIRECTORIES);
      goto out;
    }
    if (tiff_directory(tif, page, rep) != 0) {
      anon_errf(err, errlen, "%s: out of memory", name);
      goto out;
    }
  } while (TIFFReadDirectory(tif) == 1);
  if (json_object_set_new(rep, "pages", json_integer(page)) != 0 ||
      add_text(rep, "warnings", "pixel data is not checked: text burned into the image cannot be seen here") != 0) {
    anon_errf(err, errlen, "%s: out of memory", name);
    goto out;
  }
  if (!json_is_true(json_object_get(rep, "passed")) &&
      add_text(rep, "failures", "identifying tags or associated label / macro images (strip them)") != 0) {
    anon_errf(err, errlen, "%s: out of memory", name);
    goto out;
  }
  *report = rep;
  rep = NULL;
  rc = json_is_true(json_object_get(*report, "passed")) ? ANON_PASS : ANON_FAIL;
out:
  if (tif != NULL)
    TIFFClose(tif);
  if (o != NULL)
    TIFFOpenOptionsFree(o);
  json_decref(rep);
  return rc;
}

/* ---- PNG ---- */

struct png_err {
  jmp_buf jump;
  char msg[256];
};

static void png_fail(png_structp png, png_const_charp msg)
{
  struct png_err *e = png_get_error_ptr(png);

  (void)snprintf(e->msg, sizeof(e->msg), "%s", msg);
  longjmp(e->jump, 1);
}

static void png_warn(png_structp png, png_const_charp msg)
{
  (void)png;
  (void)msg;
}

int anon_check_png(const char *path, const char *name, json_t **report, char *err, size_t errlen)
{
  static struct png_err perr; /* static: setjmp must not clobber what the error path reads */
  png_structp png = NULL;
  png_infop info = NULL;
  json_t *rep = anon_report_new(name, "png");
  FILE *f = fopen(path, "rbe");
  int rc = ANON_ERROR;

  memset(&perr, 0, sizeof(perr));
  if (f == NULL || rep == NULL) {
    anon_errf(err, errlen, "%s: cannot open", name);
    goto out;
  }
  png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &perr, png_fail, png_warn);
  info = png != NULL ? png_create_info_struct(png) : NULL;
  if (info == NULL) {
    anon_errf(err, errlen, "%s: out of memory", name);
    goto out;
  }
  if (setjmp(perr.jump) != 0) {
    anon_errf(err, errlen, "%s: not a readable PNG file: %s", name, perr.msg);
    goto out;
  }
  png_set_user_limits(png, 1000000, 1000000);
  png_set_chunk_malloc_max(png, TEXT_MAX);
  png_init_io(png, f);
  png_read_info(png, info);
  {
    png_textp texts = NULL;
    int n = 0;
    char where[160];

    (void)png_get_text(png, info, &texts, &n);
    for (int i = 0; i < n; i++) {
      size_t len;
      char *text = utf8_copy(texts[i].text != NULL ? texts[i].text : "",
                             texts[i].itxt_length > 0 ? texts[i].itxt_length : texts[i].text_length, &len);

      (void)snprintf(where, sizeof(where), "text chunk %.64s", texts[i].key);
      if (text == NULL || anon_scan_text_field(rep, where, text, len) != 0) {
        free(text);
        anon_errf(err, errlen, "%s: out of memory", name);
        goto out;
      }
      free(text);
    }
  }
  if (add_text(rep, "warnings", "pixel data is not checked: text burned into the image cannot be seen here") != 0 ||
      (!json_is_true(json_object_get(rep, "passed")) &&
       add_text(rep, "failures", "identifying text chunks (strip them)") != 0)) {
    anon_errf(err, errlen, "%s: out of memory", name);
    goto out;
  }
  *report = rep;
  rep = NULL;
  rc = json_is_true(json_object_get(*report, "passed")) ? ANON_PASS : ANON_FAIL;
out:
  if (png != NULL)
    png_destroy_read_struct(&png, info != NULL ? &info : NULL, NULL);
  if (f != NULL)
    (void)fclose(f);
  json_decref(rep);
  return rc;
}
