/* names.c: the first-name and surname lists of the anonymity check.
 *
 * The lists (data/README.md: 7,675 first names and 5,563 surnames of French, Belgian, Swiss, English, German,
 * Spanish, Italian, Dutch and Portuguese use) are embedded gzip-compressed in the binary. The first lookup
 * inflates them once (pthread_once), normalises every name as column names are (lower case, Latin accents
 * stripped, separators as '_') and sorts them; lookups are binary searches. Nothing is read from disk.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "anon_internal.h"

extern const unsigned char anon_first_names_gz[];
extern const size_t anon_first_names_gz_len;
extern const unsigned char anon_last_names_gz[];
extern const size_t anon_last_names_gz_len;
extern const unsigned char anon_first_names_fr_gz[];
extern const size_t anon_first_names_fr_gz_len;
extern const unsigned char anon_last_names_fr_gz[];
extern const size_t anon_last_names_fr_gz_len;

#define NAME_MAX_BYTES 64
#define LIST_MAX_BYTES ((size_t)1 << 20) /* an inflated list larger than this is refused */

struct name_list {
  char *text;   /* inflated, one normalised name per NUL-terminated slot */
  char **names; /* sorted pointers into text */
  size_t n;
};

static struct name_list first_names, last_names;
static pthread_once_t lists_once = PTHREAD_ONCE_INIT;

/* Names that are more often places or words than people in clinical text ("CHU Nancy", "Paris Nord"). */
static const char *const not_names[] = {
  "paris",    "florence", "lorraine", "nancy",  "sydney", "victoria", "georgia", "virginia", "carolina", "austin",
  "dallas",   "houston",  "jordan",   "israel", "china",  "india",    "asia",    "africa",   "america",  "europa",
  "lourdes",  "grace",    "mercy",    "hope",   "will",   "mark",     "bill",    "chance",   "page",     "rich",
  "sterling", "may",      "june",     "april",  "august", "avril",    "mai",     "juin",     "normal",   "major",
  "minor",    "rose",     "france",   "lyon",   "nice",   "china",    NULL};

static int excluded(const char *norm)
{
  for (size_t i = 0; not_names[i] != NULL; i++) {
    if (strcmp(not_names[i], norm) == 0)
      return 1;
  }
  return 0;
}

static int cmp_name(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Inflates gz[0..len) after raw[0..*raw_len), within LIST_MAX_BYTES - 1. Returns 0 or -1. */
static int inflate_into(char *raw, size_t *raw_len, const unsigned char *gz, size_t len)
{
  z_stream z;
  int rc;

  memset(&z, 0, sizeof(z));
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
    return -1;
  z.next_in = (unsigned char *)gz;
  z.avail_in = (uInt)len;
  z.next_out = (unsigned char *)raw + *raw_len;
  z.avail_out = (uInt)(LIST_MAX_BYTES - 1 - *raw_len);
  rc = inflate(&z, Z_FINISH);
  *raw_len = LIST_MAX_BYTES - 1 - z.avail_out;
  inflateEnd(&z);
  return rc == Z_STREAM_END ? 0 : -1;
}

/* Inflates the lists gz[i][0..len[i]) into l, one after the other. On any failure l stays empty: lookups then
   find nothing, and the value rules that do not need names keep working. */
static void list_load(struct name_list *l, const unsigned char *const *gz, const size_t *len, size_t n_gz)
{
  char *raw = malloc(LIST_MAX_BYTES), *norm = NULL;
  size_t raw_len = 0, lines = 0, o = 0;

  if (raw == NULL)
    goto out;
  for (size_t g = 0; g < n_gz; g++) {
    if (inflate_into(raw, &raw_len, gz[g], len[g]) != 0)
      goto out;
  }
  raw[raw_len] = '\0';
  for (size_t i = 0; i < raw_len; i++)
    lines += raw[i] == '\n';
  norm = malloc(2 * raw_len + NAME_MAX_BYTES); /* a camelCase split can lengthen a name */
  l->names = calloc(lines + 1, sizeof(*l->names));
  if (norm == NULL || l->names == NULL)
    goto out;
  for (char *line = raw, *nl; *line != '\0'; line = nl + 1) {
    nl = strchr(line, '\n');
    if (nl == NULL)
      break;
    *nl = '\0';
    anon_name_normalize(line, norm + o, NAME_MAX_BYTES);
    if (norm[o] != '\0' && !excluded(norm + o)) {
      l->names[l->n++] = norm + o;
      o += strlen(norm + o) + 1;
    }
  }
  qsort(l->names, l->n, sizeof(*l->names), cmp_name); /* duplicates across lists do no harm to bsearch */
  l->text = norm;
  norm = NULL;
out:
  if (l->text == NULL) {
    free(l->names);
    l->names = NULL;
    l->n = 0;
  }
  free(norm);
  free(raw);
}

static void lists_load(void)
{
  const unsigned char *first_gz[] = {anon_first_names_gz, anon_first_names_fr_gz};
  const size_t first_len[] = {anon_first_names_gz_len, anon_first_names_fr_gz_len};

  list_load(&first_names, first_gz, first_len, 2);
  const unsigned char *last_gz[] = {anon_last_names_gz, anon_last_names_fr_gz};
  const size_t last_len[] = {anon_last_names_gz_len, anon_last_names_fr_gz_len};

  list_load(&last_names, last_gz, last_len, 2);
}

static int list_has(const struct name_list *l, const char *word, size_t len)
{
  char raw[NAME_MAX_BYTES], norm[NAME_MAX_BYTES];
  const char *key = norm;

  if (len < 3 || len >= sizeof(raw))
    return 0;
  memcpy(raw, word, len);
  raw[len] = '\0';
  anon_name_normalize(raw, norm, sizeof(norm));
  return l->n > 0 && bsearch(&key, l->names, l->n, sizeof(*l->names), cmp_name) != NULL;
}

int anon_is_first_name(const char *word, size_t len)
{
  pthread_once(&lists_once, lists_load);
  return list_has(&first_names, word, len);
}

int anon_is_last_name(const char *word, size_t len)
{
  pthread_once(&lists_once, lists_load);
  return list_has(&last_names, word, len);
}

size_t anon_name_list_size(int surnames)
{
  pthread_once(&lists_once, lists_load);
  return surnames ? last_names.n : first_names.n;
}
