/* codalab_parts.c: a competition's phases as the converters read them, and the challenges it makes: one per track
 * (phases starting together) and one per other scorer within a track (codalab_parts()), each named and slugged
 * apart, linked by the definition's "competition" object. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app.h"
#include "codalab.h"
#include "codalab_internal.h"
#include "util.h"

/* The phases of the bundle in phasenumber order (a new array of borrowed objects). */
static json_t *sorted_phases(json_t *phases)
{
  json_t *out = json_array();
  const char *key;
  json_t *ph;
  size_t i;
  if (json_is_array(phases)) {
    json_array_foreach(phases, i, ph) json_array_append(out, ph);
    return out;
  }
  for (int want = 0; want <= 1000 && json_array_size(out) < json_object_size(phases); want++) {
    json_object_foreach(phases, key, ph)
    {
      if (codalab_int(json_object_get(ph, "phasenumber"), codalab_int_str(key, -1)) == want)
        json_array_append(out, ph);
    }
  }
  return out;
}

/* TITLE in lower-case letters, digits and single dashes, at most MAX characters, into SLUG (size N). Returns its
 * length. */
static size_t slugify(const char *title, char *slug, size_t n, size_t max)
{
  size_t o = 0;
  for (size_t i = 0; title != NULL && title[i] != '\0' && o + 1 < n && o < max; i++) {
    char c = title[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
      slug[o++] = c;
    else if (o > 0 && slug[o - 1] != '-')
      slug[o++] = '-';
  }
  while (o > 0 && slug[o - 1] == '-')
    o--;
  slug[o] = '\0';
  return o;
}

void codalab_slug_of(const char *title, char *slug, size_t n)
{
  if (slugify(title, slug, n, 48) < 2)
    util_strlcpy(slug, "codalab-import", n);
}

int codalab_takes_code(json_t *ph)
{
  json_t *only = json_object_get(ph, "is_scoring_only");
  int scoring_only = only == NULL || codalab_truthy(only);
  return json_object_get(ph, "ingestion_program") != NULL && json_object_get(ph, "input_data") != NULL &&
         !scoring_only && !codalab_truthy(json_object_get(ph, "ingestion_program_only_during_scoring"));
}

json_t *codalab_task_of(json_t *tasks, int index)
{
  size_t i;
  json_t *t;
  json_array_foreach(tasks, i, t)
  {
    if (codalab_int(json_object_get(t, "index"), (int)i) == index)
      return t;
  }
  return NULL;
}

int64_t codalab_phase_start(json_t *ph, int v2)
{
  return v2 ? codalab_date_v2(json_string_value(json_object_get(ph, "start")))
            : codalab_date(json_string_value(json_object_get(ph, "start_date")));
}

int64_t codalab_next_start(json_t *all, int64_t t0, int v2)
{
  int64_t best = -1;
  for (size_t i = 0; i < json_array_size(all); i++) {
    int64_t t = codalab_phase_start(json_array_get(all, i), v2);
    if (t > t0 && (best < 0 || t < best))
      best = t;
  }
  return best;
}

size_t codalab_phase_pos(json_t *all, json_t *ph, size_t fallback)
{
  for (size_t i = 0; i < json_array_size(all); i++) {
    if (json_array_get(all, i) == ph)
      return i;
  }
  return fallback;
}

json_t *codalab_phases(json_t *y, int v2)
{
  if (!v2) {
    json_t *sorted = sorted_phases(json_object_get(y, "phases")), *out = json_array(), *ph, *prog = NULL, *ref = NULL;
    size_t i;
    json_array_foreach(sorted, i, ph)
    {
      json_t *copy = json_copy(ph);
      prog = json_object_get(ph, "scoring_program") != NULL ? json_object_get(ph, "scoring_program") : prog;
      ref = json_object_get(ph, "reference_data") != NULL ? json_object_get(ph, "reference_data") : ref;
      if (copy != NULL && prog != NULL)
        json_object_set(copy, "scoring_program", prog);
      if (copy != NULL && ref != NULL)
        json_object_set(copy, "reference_data", ref);
      json_array_append_new(out, copy);
    }
    json_decref(sorted);
    return out;
  }
  json_t *in = json_object_get(y, "phases"), *out = json_array(), *ph, *t;
  size_t i, k;
  json_array_foreach(in, i, ph)
  {
    json_t *tasks = json_object_get(ph, "tasks");
    if (json_array_size(tasks) <= 1 || json_array_size(tasks) > CODALAB_MAX_PARTS) {
      json_array_append(out, ph); /* checked (one task per phase) by codalab_convert_v2 */
      continue;
    }
    json_array_foreach(tasks, k, t)
    {
      json_t *copy = json_copy(ph);
      if (copy == NULL)
        break;
      json_object_set_new(copy, "tasks", json_pack("[O]", t));
      json_array_append_new(out, copy);
    }
  }
  return out;
}

/* Groups the phases (in order) into runs of consecutive phases that start at the same date (CodaLab's parallel
 * phases). FIRST (NPH + 1 entries) gets each group's first index, then NPH. Returns the group count. */
static size_t phase_groups(json_t *phases, int v2, size_t *first)
{
  size_t nph = json_array_size(phases), g = 0;
  int64_t at = -1;
  for (size_t i = 0; i < nph; i++) {
    int64_t t = codalab_phase_start(json_array_get(phases, i), v2);
    if (i == 0 || t < 0 || t != at)
      first[g++] = i;
    at = t;
  }
  first[g] = nph;
  return g;
}

/* The track count of PHASES (FIRST and NG from phase_groups): K when every group of parallel phases holds 1 or K
 * phases (track T is then made of each group's only phase, or its Tth), 1 when no phases run in parallel, 0 (a
 * problem noted) when groups hold other counts. *WIDEST gets the first group of K. */
static int track_count(const size_t *first, size_t ng, size_t *widest, struct bundle_problems *p)
{
  size_t k = 1;
  *widest = 0;
  for (size_t g = 0; g < ng; g++) {
    if (first[g + 1] - first[g] > k) {
      k = first[g + 1] - first[g];
      *widest = g;
    }
  }
  for (size_t g = 0; g < ng; g++) {
    size_t n = first[g + 1] - first[g];
    if (n != 1 && n != k) {
      codalab_note(
        p, "phases",
        "phases %zu to %zu start together (%zu tracks) but phases %zu to %zu are %zu in parallel: every group of "
        "phases starting at one date must hold one phase per track (or a single phase, shared by every track); "
        "import one phase with --phase N",
        first[*widest] + 1, first[*widest] + k, k, first[g] + 1, first[g] + n, n);
      return 0;
    }
  }
  return (int)k;
}

/* The name of track T (1-based) of PHASES, FIRST being the first of a group of K phases starting together: its phase's
 * name there (LABEL_KEY), or, when these phases share one name (a Codabench phase running several tasks), the name of
 * its task in Y (NULL when it has none). */
static const char *track_label(json_t *y, json_t *phases, size_t first, int k, int t, int v2, const char *label_key)
{
  json_t *ph = json_array_get(phases, first + (size_t)t - 1);
  const char *label = json_string_value(json_object_get(ph, label_key));
  int shared = 1;
  for (int u = 0; u < k && v2; u++) {
    const char *other = json_string_value(json_object_get(json_array_get(phases, first + (size_t)u), label_key));
    shared &= label != NULL && other != NULL && strcmp(label, other) == 0;
  }
  if (!v2 || !shared)
    return label;
  json_t *task =
    codalab_task_of(json_object_get(y, "tasks"), codalab_int(json_array_get(json_object_get(ph, "tasks"), 0), -1));
  return json_string_value(json_object_get(task, "name"));
}

/* What scores phase PH (of codalab_phases) of competition Y, as a comparable string in BUF (size N): CodaLab's
 * scoring_program, reference_data and the input data when it takes code; Codabench's task's program, reference and
 * input data. Paths compare without their trailing '/'. */
static void phase_scorer(json_t *y, json_t *ph, int v2, char *buf, size_t n)
{
  json_t *from =
    v2 ? codalab_task_of(json_object_get(y, "tasks"), codalab_int(json_array_get(json_object_get(ph, "tasks"), 0), -1))
       : ph;
  const char *program = json_string_value(json_object_get(from, "scoring_program"));
  const char *reference = json_string_value(json_object_get(from, "reference_data"));
  const char *code = v2 || codalab_takes_code(ph) ? json_string_value(json_object_get(from, "input_data")) : NULL;
  size_t np = program != NULL ? strlen(program) : 0, nr = reference != NULL ? strlen(reference) : 0;
  while (np > 0 && program[np - 1] == '/')
    np--;
  while (nr > 0 && reference[nr - 1] == '/')
    nr--;
  snprintf(buf, n, "%.*s\n%.*s\n%s", (int)np, program != NULL ? program : "", (int)nr,
           reference != NULL ? reference : "", code != NULL ? code : "");
}

/* Appends to PARTS the part {"phases": [the indices IDX[0..N) whose scorer is WANT], "label": LABEL or null, "why":
 * WHY, "scorer": WANT}, unless a part already there has the same scorer and every one of these phases (a phase that
 * several tracks share, scored as one of them scores it, is not made a challenge again). */
static void add_part(json_t *parts, const size_t *idx, char (*scorer)[512], size_t n, const char *want,
                     const char *label, const char *why)
{
  json_t *list = json_array(), *other;
  size_t i, j;
  for (i = 0; i < n; i++) {
    if (strcmp(scorer[i], want) == 0)
      json_array_append_new(list, json_integer((json_int_t)idx[i]));
  }
  json_array_foreach(parts, i, other)
  {
    size_t found = 0;
    for (j = 0; j < json_array_size(list) && strcmp(json_string_value(json_object_get(other, "scorer")), want) == 0;
         j++) {
      json_t *mine = json_array_get(list, j), *theirs;
      size_t k;
      json_array_foreach(json_object_get(other, "phases"), k, theirs) found += json_equal(mine, theirs) ? 1 : 0;
    }
    if (json_array_size(list) > 0 && found == json_array_size(list)) {
      json_decref(list);
      return;
    }
  }
  json_array_append_new(parts,
                        json_pack("{s:o,s:s?,s:s,s:s}", "phases", list, "label", label, "why", why, "scorer", want));
}

/* The challenges competition Y (PHASES from codalab_phases) converts into, as CodaLab and Codabench showed a
 * leaderboard per phase: each track (phases starting together, track_count) is a challenge, and within a track the
 * phases scored by another program, reference or kind of submission than its last phase form challenges of their
 * own (one per scorer, named after their first phase), after the track's main one. A new array of
 * {"phases": [indices], "label": appended to the title or null, "why"}, or NULL (a problem noted in P). */
static json_t *plan_parts(json_t *y, json_t *phases, int v2, struct bundle_problems *p)
{
  size_t nph = json_array_size(phases), widest;
  size_t *first = malloc((nph + 1) * sizeof(*first)), *idx = malloc((nph + 1) * sizeof(*idx));
  char(*scorer)[512] = malloc((nph + 1) * sizeof(*scorer));
  json_t *parts = json_array();
  const char *label_key = v2 ? "name" : "label";
  int k = 0;
  if (first == NULL || idx == NULL || scorer == NULL || parts == NULL)
    goto fail;
  size_t ng = phase_groups(phases, v2, first);
  k = track_count(first, ng, &widest, p);
  if (k == 0)
    goto fail;
  for (int t = 1; t <= k && ng > 0; t++) { /* no phase: one challenge, which the conversion refuses */
    const char *label = k > 1 ? track_label(y, phases, first[widest], k, t, v2, label_key) : NULL;
    char name[32];
    snprintf(name, sizeof(name), "track %d", t);
    for (size_t g = 0; g < ng; g++) {
      idx[g] = first[g] + (first[g + 1] - first[g] == 1 ? 0 : (size_t)t - 1);
      phase_scorer(y, json_array_get(phases, idx[g]), v2, scorer[g], sizeof(scorer[0]));
    }
    add_part(parts, idx, scorer, ng, scorer[ng - 1], k > 1 ? (label != NULL ? label : name) : NULL,
             k > 1 ? "a track (phases starting together)" : "the last phase's scorer");
    for (size_t g = 0; g + 1 < ng; g++) { /* each other scorer, at its first phase */
      int seen = strcmp(scorer[g], scorer[ng - 1]) == 0;
      for (size_t h = 0; h < g && !seen; h++)
        seen = strcmp(scorer[h], scorer[g]) == 0;
      if (!seen)
        add_part(parts, idx, scorer, ng, scorer[g],
                 json_string_value(json_object_get(json_array_get(phases, idx[g]), label_key)),
                 "scored apart on CodaLab (its own program, reference or kind of submission), with a leaderboard of "
                 "its own");
    }
  }
  if (ng == 0)
    json_array_append_new(parts, json_pack("{s:[],s:s,s:s}", "phases", "why", "no phase", "scorer", ""));
  if (json_array_size(parts) > CODALAB_MAX_PARTS) {
    codalab_note(p, "phases",
                 "the competition makes %zu challenges (tracks and phases scored apart): at most %d are imported "
                 "from one bundle; import one phase with --phase N",
                 json_array_size(parts), CODALAB_MAX_PARTS);
    goto fail;
  }
  free(first);
  free(idx);
  free(scorer);
  return parts;
fail:
  free(first);
  free(idx);
  free(scorer);
  json_decref(parts);
  return NULL;
}

/* The name of challenge PART (1-based) made from the competition titled TITLE (NULL: "Competition") under LABEL
 * (NULL: the main one, named as the competition): its title into BUF (size N), its slug into SLUG (size 64). The
 * label's last words tell challenges apart ("... First Task", "... Second Task"), so the slug keeps them and cuts the
 * title's words; a label without letters or digits gives "part-PART". */
static void part_name(const char *title, const char *label, int part, char *buf, size_t n, char *slug)
{
  char base[64], tail[64];
  codalab_slug_of(title, base, sizeof(base));
  util_strlcpy(slug, base, 64);
  snprintf(buf, n, "%s", title != NULL ? title : "Competition");
  if (label == NULL)
    return;
  size_t nt = slugify(label, tail, sizeof(tail), sizeof(tail));
  if (nt == 0)
    nt = (size_t)snprintf(tail, sizeof(tail), "part-%d", part);
  size_t from = nt > 24 ? nt - 24 : 0;
  while (from > 0 && from < nt && tail[from - 1] != '-')
    from++;
  size_t keep = strlen(base) < 62 - (nt - from) ? strlen(base) : 62 - (nt - from);
  while (keep < strlen(base) && keep > 0 && base[keep] != '-') /* cut between words */
    keep--;
  while (keep > 0 && base[keep - 1] == '-')
    keep--;
  snprintf(slug, 64, "%.*s-%s", (int)keep, base, tail + from);
  snprintf(buf, n, "%s \u2014 %s", title != NULL ? title : "Competition", label);
}

int codalab_keep_part(json_t *y, json_t **phases, int v2, int part, const char **title, char *buf, size_t n, char *slug,
                      json_t **competition, FILE *log, struct bundle_problems *p)
{
  if (part <= 0)
    return 0;
  json_t *parts = plan_parts(y, *phases, v2, p), *kept = json_array(), *v, *list = json_array();
  json_t *one = json_array_get(parts, (size_t)part - 1);
  size_t i;
  if (one == NULL || kept == NULL || list == NULL) {
    if (parts != NULL)
      codalab_note(p, "phases", "part %d: the competition makes %zu challenge(s)", part, json_array_size(parts));
    json_decref(parts);
    json_decref(kept);
    json_decref(list);
    return -1;
  }
  json_array_foreach(json_object_get(one, "phases"), i, v)
    json_array_append(kept, json_array_get(*phases, (size_t)json_integer_value(v)));
  json_array_foreach(parts, i, v)
  {
    char other_title[320], other_slug[64];
    part_name(*title, json_string_value(json_object_get(v, "label")), (int)i + 1, other_title, sizeof(other_title),
              other_slug);
    json_array_append_new(list, json_pack("{s:s,s:s%}", "slug", other_slug, "title", other_title,
                                          strlen(other_title) > 200 ? (size_t)200 : strlen(other_title)));
  }
  *competition =
    json_pack("{s:s%,s:o}", "title", *title != NULL ? *title : "Competition",
              *title != NULL && strlen(*title) > 200 ? (size_t)200 : strlen(*title != NULL ? *title : "Competition"),
              "challenges", list);
  part_name(*title, json_string_value(json_object_get(one, "label")), part, buf, n, slug);
  *title = buf;
  codalab_say(log, "challenge %d of %zu made from this competition (%s): %zu phase(s), as \"%s\" (%s)", part,
              json_array_size(parts), json_string_value(json_object_get(one, "why")), json_array_size(kept), buf, slug);
  json_decref(parts);
  json_decref(*phases);
  *phases = kept;
  return 0;
}

int codalab_parts(const char *src, struct bundle_problems *p)
{
  char path[APP_PATH_MAX], err[512];
  if (util_fmt(path, sizeof(path), "%s/competition.yaml", src) != 0)
    return 1;
  json_t *y = codalab_load_yaml(path, err, sizeof(err));
  if (y == NULL)
    return 1; /* codalab_convert names the problem */
  const char *version = json_string_value(json_object_get(y, "version"));
  int v2 = version != NULL && strcmp(version, "2") == 0;
  json_t *phases = codalab_phases(y, v2);
  json_t *parts = phases != NULL ? plan_parts(y, phases, v2, p) : NULL;
  int n = parts != NULL ? (int)json_array_size(parts) : p->n > 0 ? 0 : -1;
  json_decref(parts);
  json_decref(phases);
  json_decref(y);
  return n;
}
