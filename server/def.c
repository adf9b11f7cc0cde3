/* def.c: see def.h. The tables below are the definition of challenge.json: to add a key, add its row (and the
 * member it fills), then its line in docs/bundle.md follows from `concours challenge keys`. */
#include "def.h"
#include "def_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "metrics.h"
#include "sandbox.h"
#include "util.h"

enum kind {
  K_STRING,   /* a JSON string of MIN..MAX bytes, copied to a char[SIZE] at OFF */
  K_NSTRING,  /* the same, or null */
  K_INT,      /* an integer in MIN..MAX, stored as int at OFF */
  K_BOOL,     /* true or false, stored as int at OFF */
  K_TIME,     /* a UTC time string, stored as int64_t (seconds) at OFF */
  K_OBJECT,   /* an object whose keys are the level SUB */
  K_LIST,     /* a list of strings (SUB NULL), or of objects of level SUB stored at OFF, ELEM bytes each */
  K_FREE,     /* an object checked elsewhere (metric params, anonymity) */
  K_FREE_LIST /* a list checked elsewhere (metric failure values) */
};

#define F_REQUIRED 1u /* no default: a bundle without it is refused */
#define F_PATCH 2u    /* organizers may change it on a live challenge (PATCH .../phases/{name}) */
#define NOWHERE (-1)

struct level;

struct field {
  const char *key;
  enum kind kind;
  unsigned flags;
  long long min, max;  /* K_INT: the value; K_STRING: the length in bytes; K_LIST: the number of items */
  long long dflt;      /* K_INT and K_BOOL: the default */
  ptrdiff_t off;       /* in the level's base struct, NOWHERE when read by the code after the walk */
  size_t size;         /* K_STRING: the buffer; K_LIST of objects: the size of one element */
  ptrdiff_t count_off; /* K_LIST of objects: where the number of items goes (int) */
  const struct level *sub;
  const char *type;     /* for the docs and messages */
  const char *dflt_doc; /* the default as the docs show it */
  const char *doc;
};

struct level {
  const char *path; /* "" for the top level, "metric", "phases[]"... */
  const struct field *fields;
  size_t n;
};

#define DEF_OFF(member) ((ptrdiff_t)offsetof(struct challenge_def, member))
#define PH_OFF(member) ((ptrdiff_t)offsetof(struct phase, member))
#define SEC_OFF(member) ((ptrdiff_t)offsetof(struct def_metric, member))
#define RT_STR(member) (ptrdiff_t) offsetof(struct def_runtime, member), sizeof(((struct def_runtime *)0)->member)
#define STR(member) DEF_OFF(member), sizeof(((struct challenge_def *)0)->member)
#define LEVEL(path, rows)                                                                                              \
  {                                                                                                                    \
    path, rows, sizeof(rows) / sizeof(rows[0])                                                                         \
  }

static const struct field runtime_fields[] = {
  {"kind", K_STRING, 0, 1, 16, 0, RT_STR(kind), 0, NULL, "string", "`\"host\"`",
   "`\"host\"`: the server machine's own `/usr`, read-only; `\"debian\"`: a root file system built once from "
   "`packages` with mmdebstrap; `\"oci\"`: a container image (`archive`) as the root file system"},
  {"packages", K_LIST, 0, 0, 500, 0, NOWHERE, 0, 0, NULL, "list of strings", "`[]`",
   "`debian` runtimes: the Debian packages of the root file system"},
  {"archive", K_STRING, 0, 1, 200, 0, RT_STR(archive), 0, NULL, "path", "none",
   "`oci` runtimes: an OCI layout or `docker save` archive inside the bundle"},
};

static const struct level runtime_level = LEVEL("submission.runtime", runtime_fields);
static const struct level program_runtime_level = LEVEL("metric.runtime", runtime_fields);

static const struct field metric_fields[] = {
  {"name", K_STRING, 0, 1, 63, 0, STR(c.metric_name), 0, NULL, "string", "none",
   "a built-in metric (`concours-score --help` lists them: roc_auc, log_loss, cost_matrix, ...); "
   "give `name` or `program`"},
  {"params", K_FREE, 0, 0, 0, 0, NOWHERE, 0, 0, NULL, "object", "`{}`",
   "the metric's parameters, checked by the scorer at import: `cost_matrix` takes "
   "`{\"matrix\": [[0,1],[5,0]], \"labels\": [\"0\",\"1\"]}` (k x k costs, true class by row), labels that must "
   "be the ground truth's classes"},
  {"program", K_STRING, 0, 1, 63, 0, NOWHERE, 0, 0, NULL, "string", "none",
   "`\"scoring_program\"`: score with the organizer's program in that folder (CodaLab contract) instead of a "
   "built-in metric"},
  {"score_key", K_STRING, 0, 1, 64, 0, STR(score_key), 0, NULL, "string", "none (required with `program`)",
   "the key of the program's scores.txt / scores.json that is the leaderboard score"},
  {"higher_is_better", K_BOOL, 0, 0, 1, 0, NOWHERE, 0, 0, NULL, "boolean", "the metric's own direction",
   "required with `program`; with a built-in metric it may only repeat its "
   "direction"},
  {"show_errors", K_BOOL, 0, 0, 1, 0, DEF_OFF(show_errors), 0, 0, NULL, "boolean", "`false`",
   "with `program`: a failed scoring shows the participant the last lines of the program's error output (from the "
   "public split's run only, never the private one's); CodaLab conversions set it, as CodaLab showed them"},
  {"failure_values", K_FREE_LIST, 0, 0, 0, 0, NOWHERE, 0, 0, NULL, "array of numbers", "`[]`",
   "with `program`: scores that mean the program could not score the submission (CodaLab programs write `-1`); "
   "such a submission fails instead of ranking (at most 8 values)"},
  {"runs", K_STRING, 0, 1, 15, 0, STR(runs), 0, NULL, "string", "`\"per_split\"`",
   "with `program`: `\"per_split\"` runs the program once per split of a CSV ground truth, each run seeing only "
   "its rows (the public run gives the public score, the private run the private one); `\"full\"` runs it once "
   "on the whole ground truth, handed as it is (CodaLab's way; required when `ground_truth` is a folder of any "
   "files): its `score_key` is the score, or the public score when `private_score_key` is given"},
  {"private_score_key", K_STRING, 0, 1, 64, 0, STR(private_score_key), 0, NULL, "string", "none",
   "with `\"runs\": \"full\"` and a split column: the key of the private score the program writes after "
   "splitting the rows itself (never shown to participants before the jury publishes)"},
  {"runtime", K_OBJECT, 0, 0, 0, 0, DEF_OFF(program_runtime), 0, 0, &program_runtime_level, "object",
   "`{\"kind\": \"host\"}`",
   "with `program`: the root file system the program runs on, as `submission.runtime` (a Debian package list or a "
   "container image, for packages or a Python the host lacks)"},
};

static const struct field secondary_fields[] = {
  {"name", K_STRING, 0, 1, 63, 0, SEC_OFF(name), sizeof(((struct def_metric *)0)->name), 0, NULL, "string", "none",
   "a built-in metric (when the primary metric is one); give `name` or `score_key`"},
  {"params", K_FREE, 0, 0, 0, 0, NOWHERE, 0, 0, NULL, "object", "`{}`", "the built-in metric's parameters"},
  {"score_key", K_STRING, 0, 1, 64, 0, SEC_OFF(score_key), sizeof(((struct def_metric *)0)->score_key), 0, NULL,
   "string", "none", "a key of the scoring program's scores (when the primary metric is the program)"},
  {"higher_is_better", K_BOOL, 0, 0, 1, 0, NOWHERE, 0, 0, NULL, "boolean", "the metric's own direction",
   "required with `score_key`"},
  {"label", K_STRING, 0, 1, 64, 0, SEC_OFF(label), sizeof(((struct def_metric *)0)->label), 0, NULL, "string",
   "the name or key", "the column's title"},
  {"precision", K_INT, 0, 0, 12, -1, SEC_OFF(precision), 0, 0, NULL, "integer 0-12", "the leaderboard's",
   "decimals shown"},
};

static const struct field ranking_fields[] = {
  {"rule", K_STRING, 0, 1, 15, 0, STR(ranking_rule), 0, NULL, "string", "`\"primary\"`",
   "`\"primary\"`: the primary metric ranks (ties to the earlier submission); `\"mean_rank\"`: each metric ranks "
   "the teams' submissions and the (weighted) mean of those ranks ranks the teams, the primary metric breaking ties"},
  {"weights", K_FREE, 0, 0, 0, 0, NOWHERE, 0, 0, NULL, "object", "1 each",
   "`mean_rank`: a positive weight per metric key (the primary metric's name or score_key, each secondary's)"},
};

static const struct field leaderboard_fields[] = {
  {"precision", K_INT, 0, 0, 12, 4, DEF_OFF(c.precision), 0, 0, NULL, "integer 0-12", "4",
   "decimals shown; scores are ranked at this precision (ties go to the earlier submission)"},
};

static const struct field teams_fields[] = {
  {"max_size", K_INT, 0, 1, 1000, 1, DEF_OFF(c.team_max_size), 0, 0, NULL, "integer 1-1000", "1",
   "most members a team may have (1: everyone competes alone)"},
};

static const struct field phase_fields[] = {
  {"name", K_STRING, F_REQUIRED, 1, 63, 0, PH_OFF(name), sizeof(((struct phase *)0)->name), 0, NULL, "string", "none",
   "unique within the challenge; used in URLs"},
  {"start", K_TIME, F_REQUIRED | F_PATCH, 0, 0, 0, PH_OFF(start_at), 0, 0, NULL, "UTC time", "none",
   "`2026-01-01T00:00:00Z`: submissions are accepted from then"},
  {"end", K_TIME, F_REQUIRED | F_PATCH, 0, 0, 0, PH_OFF(end_at), 0, 0, NULL, "UTC time", "none",
   "after `start` and no later than the next phase's start; checked with the server's clock"},
  {"max_per_day", K_INT, F_PATCH, 0, 1000000, 0, PH_OFF(max_per_day), 0, 0, NULL, "integer >= 0", "0",
   "submissions per team per UTC day (0: unlimited); failed ones do not count"},
  {"max_total", K_INT, F_PATCH, 0, 1000000, 0, PH_OFF(max_total), 0, 0, NULL, "integer >= 0", "0",
   "submissions per team in the phase (0: unlimited)"},
  {"final_selection", K_INT, F_PATCH, 0, 1000, 0, PH_OFF(final_selection), 0, 0, NULL, "integer >= 0", "0",
   "submissions a team may pick for the final ranking (0: none; a team that picks none is ranked on its best "
   "public one)"},
  {"fact_sheet", K_STRING, 0, 1, 11, 0, PH_OFF(fact_sheet), sizeof(((struct phase *)0)->fact_sheet), 0, NULL, "string",
   "`\"none\"`",
   "`\"required\"`: every team in the final ranking sends a method description (a PDF or a Markdown file, with an "
   "optional link) that the jury accepts before it may publish; `\"optional\"`: teams may send one; `\"none\"` "
   "(docs/factsheets.md)"},
  {"closed", K_BOOL, F_PATCH, 0, 1, 0, PH_OFF(closed), 0, 0, NULL, "boolean", "`false`",
   "`true`: the phase accepts no submission (403 `phase_closed`) while its leaderboard stays as it is; CodaLab's "
   "`max_submissions: 0`"},
  {"hide_results", K_BOOL, F_PATCH, 0, 1, 0, PH_OFF(hide_results), 0, 0, NULL, "boolean", "`false`",
   "`true`: until the jury publishes the final ranking, participants see no score of the submissions made in this "
   "phase (their status only), nor the public leaderboard; staff see everything (CodaLab's "
   "`leaderboard_management_mode: hide_results`)"},
};

static const struct field limits_fields[] = {
  {"wall_s", K_INT, 0, 1, SANDBOX_WALL_MAX_S, 0, NOWHERE, 0, 0, NULL, "integer seconds", "`--score-timeout` (600)",
   "wall-clock limit of one scoring run"},
  {"cpu_s", K_INT, 0, 1, SANDBOX_WALL_MAX_S, 0, NOWHERE, 0, 0, NULL, "integer seconds", "`wall_s`",
   "CPU time limit of one scoring run"},
  {"memory_mb", K_INT, 0, SANDBOX_MEMORY_MIN_MB, SANDBOX_MEMORY_MAX_MB, SANDBOX_MEMORY_DEFAULT_MB, NOWHERE, 0, 0, NULL,
   "integer MB", "4096",
   "address-space limit of one scoring run (the built-in scorer needs up to about 1.8× its input, ground truth and "
   "prediction: 2.4 GiB for 10M 5-class rows of 17 digits)"},
};

static const struct field storage_fields[] = {
  {"team_mb", K_INT, 0, 0, 10000000, 1024, DEF_OFF(c.storage_team_mb), 0, 0, NULL, "integer MB", "1024",
   "submission files a team may keep (every upload counts, failed and cancelled ones too; 0: unlimited)"},
  {"challenge_mb", K_INT, 0, 0, 100000000, 0, DEF_OFF(c.storage_challenge_mb), 0, 0, NULL, "integer MB", "0",
   "submission files all teams together may keep (0: unlimited)"},
};

static const struct field inputs_fields[] = {
  {"test", K_STRING, 0, 1, 200, 0, STR(code.test_rel), 0, NULL, "folder", "none (required with `\"kind\": \"code\"`)",
   "the hidden inputs: a bundle folder that is never served, listed or readable but by the sandbox (`/data`)"},
  {"smoke", K_STRING, 0, 1, 200, 0, STR(code.smoke_rel), 0, NULL, "folder", "none (no smoke runs)",
   "a small public sample with its ground truth in `<smoke>/solution.csv` (same columns as the ground truth, no "
   "split column): `?mode=smoke` runs on it"},
};

static const struct field code_limits_fields[] = {
  {"wall_seconds", K_INT, 0, 1, SANDBOX_WALL_MAX_S, 3600, DEF_OFF(code.wall_s), 0, 0, NULL, "integer seconds", "3600",
   "wall-clock limit of a run on the hidden inputs"},
  {"smoke_wall_seconds", K_INT, 0, 1, SANDBOX_WALL_MAX_S, 600, DEF_OFF(code.smoke_wall_s), 0, 0, NULL,
   "integer seconds", "600", "wall-clock limit of a smoke run"},
  {"memory_mb", K_INT, 0, SANDBOX_MEMORY_MIN_MB, SANDBOX_MEMORY_MAX_MB, SANDBOX_MEMORY_DEFAULT_MB,
   DEF_OFF(code.memory_mb), 0, 0, NULL, "integer MB", "4096", "address-space limit of each process of a run"},
  {"gpus", K_INT, 0, 0, 16, 0, DEF_OFF(code.gpus), 0, 0, NULL, "integer", "0",
   "NVIDIA GPUs a run needs (refused at import on a machine without them)"},
  {"output_mb", K_INT, 0, 1, 4096, 256, DEF_OFF(code.output_mb), 0, 0, NULL, "integer MB", "256",
   "size of the writable `/output` (and of `/tmp`)"},
};

static const struct level inputs_level = LEVEL("submission.inputs", inputs_fields);
static const struct level code_limits_level = LEVEL("submission.limits", code_limits_fields);

static const struct field submission_fields[] = {
  {"kind", K_STRING, 0, 1, 32, 0, STR(code.kind), 0, NULL, "string", "`\"predictions\"`",
   "`\"predictions\"`: participants upload prediction files; `\"code\"`: they upload code that runs sandboxed "
   "on hidden inputs (API.md section 4, docs/code.md)"},
  {"command", K_STRING, 0, 1, 1024, 0, STR(code.command), 0, NULL, "string", "`\"python3 main.py\"`",
   "what runs in `/code` (by `/bin/sh -c`)"},
  {"runtime", K_OBJECT, 0, 0, 0, 0, DEF_OFF(code.runtime), 0, 0, &runtime_level, "object", "`{\"kind\": \"host\"}`",
   "the root file system the code runs on"},
  {"inputs", K_OBJECT, 0, 0, 0, 0, NOWHERE, 0, 0, &inputs_level, "object", "none", "the folders seen at `/data`"},
  {"output", K_STRING, 0, 1, 128, 0, STR(code.output), 0, NULL, "file name", "`\"submission.csv\"`",
   "the file the code writes in `/output`, scored like an uploaded prediction file"},
  {"output_folder", K_BOOL, 0, 0, 1, 0, DEF_OFF(code.output_folder), 0, 0, NULL, "boolean", "`false`",
   "`true`: the whole `/output` folder (regular files and folders), packed as a tar, is what is scored: the "
   "organizer's program (`metric.program`) finds it unpacked in `$input/res`, as CodaLab's scoring programs find "
   "an ingestion program's output"},
  {"ingestion", K_STRING, 0, 1, 200, 0, STR(code.ingestion_rel), 0, NULL, "folder", "none",
   "an organizer's ingestion program (CodaLab's code submissions): a bundle folder with a `metadata` `command:` "
   "that runs instead of `command`, in `/ingestion` (read-only), with `$input` = `/data`, `$output` = `/output`, "
   "`$program` = `$ingestion_program` = `/ingestion`, `$submission_program` = `/code` (the participant's code)"},
  {"limits", K_OBJECT, 0, 0, 0, 0, NOWHERE, 0, 0, &code_limits_level, "object", "`{}`", "limits of one code run"},
  {"participant_logs", K_STRING, 0, 1, 16, 0, STR(code.participant_logs), 0, NULL, "string", "`\"smoke\"`",
   "whose logs participants see: `\"smoke\"` (smoke runs only; full runs show a safe message), `\"all\"`, or "
   "`\"none\"`"},
  {"smoke_per_day", K_INT, 0, 0, 1000, 10, DEF_OFF(c.smoke_per_day), 0, 0, NULL, "integer", "10",
   "smoke runs per team and day (they never count against the phase quota)"},
  {"queue", K_STRING, 0, 1, 63, 0, STR(c.queue), 0, NULL, "string", "`\"default\"`",
   "the queue code runs go to: remote workers take runs of the queue their token names (docs/workers.md)"},
  {"max_code_mb", K_INT, 0, 1, 10240, 100, DEF_OFF(c.code_max_mb), 0, 0, NULL, "integer MB", "100",
   "size of an uploaded code archive, and of its unpacked content"},
};

static const struct field competition_challenge_fields[] = {
  {"slug", K_STRING, F_REQUIRED, 1, 63, 0, NOWHERE, 0, 0, NULL, "string", "none", "the challenge's slug"},
  {"title", K_STRING, F_REQUIRED, 1, 200, 0, NOWHERE, 0, 0, NULL, "string", "none", "its title"},
};
static const struct level competition_challenge_level = LEVEL("competition.challenges[]", competition_challenge_fields);

static const struct field competition_fields[] = {
  {"title", K_STRING, F_REQUIRED, 1, 200, 0, NOWHERE, 0, 0, NULL, "string", "none", "the competition's title"},
  {"challenges", K_LIST, F_REQUIRED, 1, 16, 0, NOWHERE, 0, NOWHERE, &competition_challenge_level, "list of objects",
   "none", "every challenge made from it (`slug`, `title`), this one included, the main one first"},
};

static const struct level metric_level = LEVEL("metric", metric_fields);
static const struct level secondary_level = LEVEL("secondary_metrics[]", secondary_fields);
static const struct level ranking_level = LEVEL("ranking", ranking_fields);
static const struct level leaderboard_level = LEVEL("leaderboard", leaderboard_fields);
static const struct level competition_level = LEVEL("competition", competition_fields);
static const struct level teams_level = LEVEL("teams", teams_fields);
static const struct level phase_level = LEVEL("phases[]", phase_fields);
static const struct level limits_level = LEVEL("limits", limits_fields);
static const struct level submission_level = LEVEL("submission", submission_fields);
static const struct level storage_level = LEVEL("storage", storage_fields);

static const struct field top_fields[] = {
  {"slug", K_STRING, F_REQUIRED, 2, 63, 0, STR(c.slug), 0, NULL, "string", "none",
   "the challenge's id in URLs: 2 to 63 of a-z 0-9 -, not starting with -"},
  {"title", K_STRING, F_REQUIRED, 1, 200, 0, STR(title), 0, NULL, "string", "none", "shown everywhere"},
  {"summary", K_STRING, 0, 0, 500, 0, STR(summary), 0, NULL, "string", "`\"\"`", "one line for the list"},
  {"terms_version", K_INT, F_REQUIRED, 1, 1000000, 0, DEF_OFF(c.terms_version), 0, 0, NULL, "integer >= 1", "none",
   "version of terms.md participants accept; raise it to make everyone accept again"},
  {"data", K_LIST, 0, 0, DEF_MAX_DATA_FILES, 0, NOWHERE, 0, 0, NULL, "list of paths", "`[]`",
   "public files under data/ served to participants who accepted the terms (each checked by the anonymity "
   "gate)"},
  {"ground_truth", K_STRING, F_REQUIRED, 1, 200, 0, STR(truth_rel), 0, NULL, "path", "none",
   "the ground truth CSV, outside data/ (never served): id column, optional split column, target column(s); with "
   "a program run `\"full\"`, a folder of any files (the reference, handed to the program as it is)"},
  {"sample_submission", K_STRING, 0, 1, 200, 0, STR(sample_rel), 0, NULL, "path",
   "`data/sample_submission.csv` when listed in `data`",
   "a valid prediction file: at import it must score against the ground truth"},
  {"id_column", K_STRING, 0, 1, 127, 0, STR(c.id_column), 0, NULL, "string", "the first column",
   "column joining predictions to the ground truth; its values must be unique"},
  {"split_column", K_NSTRING, 0, 1, 127, 0, STR(c.split_column), 0, NULL, "string or null", "`\"Usage\"`",
   "column of the ground truth with `Public` / `Private` per row (both must occur); `null`: no private part, "
   "every row is scored on the public leaderboard"},
  {"metric", K_OBJECT, F_REQUIRED, 0, 0, 0, NOWHERE, 0, 0, &metric_level, "object", "none",
   "how submissions are scored"},
  {"secondary_metrics", K_LIST, 0, 0, DEF_MAX_SECONDARY, 0, DEF_OFF(secondary), sizeof(struct def_metric),
   DEF_OFF(nsecondary), &secondary_level, "list of objects", "`[]`",
   "more metrics, shown beside the primary one on the leaderboard and in the review (docs/bundle.md, \"Several "
   "metrics\")"},
  {"ranking", K_OBJECT, 0, 0, 0, 0, NOWHERE, 0, 0, &ranking_level, "object", "`{\"rule\": \"primary\"}`",
   "how the teams are ranked, shown to participants from the start"},
  {"leaderboard", K_OBJECT, 0, 0, 0, 0, NOWHERE, 0, 0, &leaderboard_level, "object", "`{}`", "display"},
  {"phases", K_LIST, F_REQUIRED, 1, DB_MAX_PHASES, 0, DEF_OFF(c.phases), sizeof(struct phase), DEF_OFF(c.nphases),
   &phase_level, "list of objects", "none", "1 to 16 phases, in time order, not overlapping"},
  {"teams", K_OBJECT, 0, 0, 0, 0, NOWHERE, 0, 0, &teams_level, "object", "`{}`", "team rules"},
  {"limits", K_OBJECT, 0, 0, 0, 0, NOWHERE, 0, 0, &limits_level, "object", "`{}`",
   "resources of one scoring run (docs/sandbox.md)"},
  {"storage", K_OBJECT, 0, 0, 0, 0, NOWHERE, 0, 0, &storage_level, "object", "`{}`",
   "how many bytes of submission files are kept (a 403 storage_quota_exceeded past it)"},
  {"anonymity", K_FREE, 0, 0, 0, 0, NOWHERE, 0, 0, NULL, "object", "`{}`",
   "options of the anonymity gate: quasi-identifiers, k, sensitive column, l (docs/anonymity.md)"},
  {"submission", K_OBJECT, 0, 0, 0, 0, NOWHERE, 0, 0, &submission_level, "object", "`{\"kind\": \"predictions\"}`",
   "what participants upload"},
  {"competition", K_OBJECT, 0, 0, 0, 0, NOWHERE, 0, 0, &competition_level, "object", "none",
   "the competition this challenge was made from with others (a CodaLab / Codabench conversion: its tracks and "
   "phases scored apart); each one's page links the others"},
};

static const struct level top_level = LEVEL("", top_fields);

/* ------------------------------------------------------------------------------------------ helpers */

/* Edit distance of A and B (both at most 64 bytes; longer ones count as far apart). */
static size_t distance(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b), row[66];
  if (la > 64 || lb > 64)
    return 99;
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (row[j] + 1 < best)
        best = row[j] + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

const char *def_suggest(const char *key, const char *const *names, size_t n)
{
  const char *best = NULL;
  size_t best_d = 99, len = strlen(key);
  size_t allowed = len / 3 > 2 ? len / 3 : 2;
  for (size_t i = 0; i < n; i++) {
    size_t d = distance(key, names[i]);
    if (d < best_d) {
      best_d = d;
      best = names[i];
    }
  }
  return best_d <= allowed ? best : NULL;
}

static const struct field *find_field(const struct level *lv, const char *key)
{
  for (size_t i = 0; i < lv->n; i++) {
    if (strcmp(lv->fields[i].key, key) == 0)
      return &lv->fields[i];
  }
  return NULL;
}

/* "phases[2].max_per_day" from the prefix PREFIX ("" at the top) and KEY. */
static void field_path(char *out, size_t n, const char *prefix, const char *key)
{
  if (prefix[0] == '\0')
    snprintf(out, n, "%s", key);
  else
    snprintf(out, n, "%s.%s", prefix, key);
}

static const struct level *const all_levels[] = {
  &top_level,     &metric_level, &secondary_level,   &ranking_level,        &leaderboard_level,
  &phase_level,   &teams_level,  &limits_level,      &submission_level,     &storage_level,
  &runtime_level, &inputs_level, &code_limits_level, &program_runtime_level};

/* The key of another level nearest to KEY (a key written at the wrong level), or NULL; *WHERE gets its level. */
static const char *suggest_elsewhere(const struct level *lv, const char *key, const char **where)
{
  for (size_t i = 0; i < sizeof(all_levels) / sizeof(all_levels[0]); i++) {
    const struct level *other = all_levels[i];
    const char *names[32];
    size_t n = 0;
    if (other == lv)
      continue;
    for (size_t k = 0; k < other->n && n < 32; k++)
      names[n++] = other->fields[k].key;
    const char *near = def_suggest(key, names, n);
    if (near != NULL) {
      *where = other->path[0] != '\0' ? other->path : "the top level";
      return near;
    }
  }
  return NULL;
}

static void unknown_key(const struct level *lv, const char *file, const char *path, const char *key,
                        struct bundle_problems *p)
{
  const char *where = NULL, *elsewhere = NULL;
  const char *names[32];
  char known[512] = "";
  size_t n = lv->n < 32 ? lv->n : 32, used = 0;
  for (size_t i = 0; i < n; i++) {
    names[i] = lv->fields[i].key;
    int w = snprintf(known + used, sizeof(known) - used, "%s%s", i > 0 ? ", " : "", names[i]);
    if (w > 0 && (size_t)w < sizeof(known) - used)
      used += (size_t)w;
  }
  const char *near = def_suggest(key, names, n);
  if (near == NULL)
    elsewhere = suggest_elsewhere(lv, key, &where);
  if (near != NULL)
    bundle_problem(p, file, path, "unknown key: did you mean \"%s\"?", near);
  else if (elsewhere != NULL)
    bundle_problem(p, file, path, "unknown key here: did you mean \"%s\", which belongs in %s? (known here: %s)",
                   elsewhere, where, known);
  else
    bundle_problem(p, file, path, "unknown key (known here: %s)", known);
}

/* The phrase a type error ends with: "must be an integer from 0 to 12". */
static void expectation(const struct field *f, char *out, size_t n)
{
  switch (f->kind) {
  case K_STRING:
  case K_NSTRING:
    snprintf(out, n, "must be a string of %lld to %lld bytes%s", f->min, f->max,
             f->kind == K_NSTRING ? " or null" : "");
    break;
  case K_INT:
    snprintf(out, n, "must be an integer from %lld to %lld", f->min, f->max);
    break;
  case K_BOOL:
    snprintf(out, n, "must be true or false");
    break;
  case K_TIME:
    snprintf(out, n, "must be a UTC time like 2026-03-01T00:00:00Z");
    break;
  case K_OBJECT:
  case K_FREE:
    snprintf(out, n, "must be an object");
    break;
  case K_FREE_LIST:
    snprintf(out, n, "must be a list");
    break;
  case K_LIST:
    snprintf(out, n, "must be a list of %lld to %lld %s", f->min, f->max, f->sub != NULL ? "objects" : "strings");
    break;
  }
}

static int walk(const struct level *lv, json_t *obj, char *base, const char *prefix, const char *file,
                struct bundle_problems *p);

/* Checks V (not NULL) against F and stores it at BASE + F->off. Returns 0, or -1 after recording a problem. */
static int set_field(const struct field *f, json_t *v, char *base, const char *path, const char *file,
                     struct bundle_problems *p)
{
  char want[160];
  int ok = 0;
  expectation(f, want, sizeof(want));
  switch (f->kind) {
  case K_NSTRING:
    if (json_is_null(v))
      return 0; /* the caller reads the null */
    /* fall through */
  case K_STRING: {
    const char *s = json_string_value(v);
    size_t len = s != NULL ? json_string_length(v) : 0;
    ok = s != NULL && (long long)len >= f->min && (long long)len <= f->max && strlen(s) == len;
    if (ok && f->off != NOWHERE)
      util_strlcpy(base + f->off, s, f->size);
    break;
  }
  case K_INT:
    ok = json_is_integer(v) && json_integer_value(v) >= f->min && json_integer_value(v) <= f->max;
    if (ok && f->off != NOWHERE)
      *(int *)(void *)(base + f->off) = (int)json_integer_value(v);
    break;
  case K_BOOL:
    ok = json_is_boolean(v);
    if (ok && f->off != NOWHERE)
      *(int *)(void *)(base + f->off) = json_is_true(v);
    break;
  case K_TIME: {
    int64_t t = 0;
    ok = util_parse_iso8601(json_string_value(v), &t) == 0;
    if (ok && f->off != NOWHERE)
      *(int64_t *)(void *)(base + f->off) = t;
    break;
  }
  case K_FREE:
    ok = json_is_object(v);
    break;
  case K_FREE_LIST:
    ok = json_is_array(v);
    break;
  case K_OBJECT: /* its keys are stored in BASE, or in the struct at BASE + OFF */
    if (!json_is_object(v))
      break;
    return walk(f->sub, v, f->off != NOWHERE ? base + f->off : base, path, file, p);
  case K_LIST: {
    size_t n = json_array_size(v);
    ok = json_is_array(v) && (long long)n >= f->min && (long long)n <= f->max;
    if (!ok)
      break;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
      json_t *item = json_array_get(v, i);
      char ipath[160];
      snprintf(ipath, sizeof(ipath), "%s[%zu]", path, i);
      if (f->sub == NULL) {
        if (!json_is_string(item)) {
          bundle_problem(p, file, ipath, "must be a string");
          rc = -1;
        }
        continue;
      }
      if (!json_is_object(item)) {
        bundle_problem(p, file, ipath, "must be an object");
        rc = -1;
        continue;
      }
      char *elem = f->off != NOWHERE ? base + f->off + (ptrdiff_t)(i * f->size) : NULL; /* NULL: checked only */
      if (elem != NULL)
        memset(elem, 0, f->size);
      if (walk(f->sub, item, elem, ipath, file, p) != 0)
        rc = -1;
    }
    if (f->count_off != NOWHERE && f->sub != NULL)
      *(int *)(void *)(base + f->count_off) = (int)n;
    return rc;
  }
  }
  if (!ok) {
    bundle_problem(p, file, path, "%s", want);
    return -1;
  }
  return 0;
}

/* Checks the keys of OBJ against LV, storing values (and defaults) at BASE. OBJ NULL: an optional object that is
 * absent, whose defaults are stored and whose required keys are not asked for. 0, or -1 with problems recorded. */
static int walk(const struct level *lv, json_t *obj, char *base, const char *prefix, const char *file,
                struct bundle_problems *p)
{
  const char *key;
  json_t *v;
  char path[160];
  int rc = 0;
  json_object_foreach(obj, key, v)
  {
    field_path(path, sizeof(path), prefix, key);
    if (find_field(lv, key) == NULL) {
      unknown_key(lv, file, path, key, p);
      rc = -1;
    }
  }
  for (size_t i = 0; i < lv->n; i++) {
    const struct field *f = &lv->fields[i];
    field_path(path, sizeof(path), prefix, f->key);
    v = json_object_get(obj, f->key);
    if (v == NULL) {
      if ((f->flags & F_REQUIRED) != 0 && obj != NULL) {
        bundle_problem(p, file, path, "missing (required)");
        rc = -1;
      } else if ((f->kind == K_INT || f->kind == K_BOOL) && f->off != NOWHERE) {
        *(int *)(void *)(base + f->off) = (int)f->dflt;
      } else if (f->kind == K_OBJECT && walk(f->sub, NULL, f->off != NOWHERE ? base + f->off : base, path, file, p) !=
                                          0) { /* an absent object: its defaults */
        rc = -1;
      }
      continue;
    }
    if (set_field(f, v, base, path, file, p) != 0)
      rc = -1;
  }
  return rc;
}

/* ------------------------------------------------------------------------------------------ entry points */

int def_parse(const char *text, size_t len, const char *file, int default_wall_s, struct challenge_def *d,
              struct bundle_problems *p)
{
  json_error_t jerr;
  int before = p->n + p->dropped;
  memset(d, 0, sizeof(*d));
  if (util_json_depth_exceeds(text, len, DEF_MAX_DEPTH)) {
    bundle_problem(p, file, NULL, "nested more than %d levels deep", DEF_MAX_DEPTH);
    return 1;
  }
  d->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (d->root == NULL) {
    bundle_problem(p, file, NULL, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    return 1;
  }
  if (!json_is_object(d->root)) {
    bundle_problem(p, file, NULL, "must be a JSON object");
    return 1;
  }
  walk(&top_level, d->root, (char *)d, "", file, p);
  def_check_rules(d, file, default_wall_s, p);
  return p->n + p->dropped > before ? 1 : 0;
}

void def_free(struct challenge_def *d)
{
  if (d == NULL)
    return;
  json_decref(d->root);
  d->root = NULL;
  d->data = NULL;
  d->anonymity = NULL;
}

int def_phase_patch(struct phase *ph, json_t *body, char *err, size_t errlen)
{
  static const struct level patch_level = LEVEL("phases[]", phase_fields);
  struct bundle_problems *p = calloc(1, sizeof(*p));
  const char *key;
  json_t *v;
  int rc = -1;
  if (p == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  json_object_foreach(body, key, v)
  {
    const struct field *f = find_field(&patch_level, key);
    if (strcmp(key, "reason") == 0)
      continue; /* the audit reason, read by the handler */
    if (f == NULL || (f->flags & F_PATCH) == 0) {
      const char *names[16];
      size_t n = 0;
      for (size_t i = 0; i < patch_level.n; i++) {
        if ((phase_fields[i].flags & F_PATCH) != 0)
          names[n++] = phase_fields[i].key;
      }
      const char *near = f == NULL ? def_suggest(key, names, n) : NULL;
      snprintf(err, errlen, "\"%.60s\" %s%s%s", key,
               f != NULL      ? "cannot be changed on a live challenge"
               : near != NULL ? "is not a phase setting: did you mean \""
                              : "is not a phase setting "
                                "(start, end, max_per_day, max_total, final_selection)",
               near != NULL ? near : "", near != NULL ? "\"?" : "");
      goto out;
    }
    if (set_field(f, v, (char *)ph, key, "body", p) != 0) {
      snprintf(err, errlen, "%s", p->text[0] + strlen("body: "));
      goto out;
    }
  }
  rc = 0;
out:
  free(p);
  return rc;
}

json_t *def_phase_json(const struct phase *ph)
{
  json_t *o = json_object();
  char when[32];
  for (size_t i = 0; o != NULL && i < sizeof(phase_fields) / sizeof(phase_fields[0]); i++) {
    const struct field *f = &phase_fields[i];
    const char *base = (const char *)ph;
    json_t *v = NULL;
    if (f->kind == K_STRING)
      v = json_string(base + f->off);
    else if (f->kind == K_INT)
      v = json_integer(*(const int *)(const void *)(base + f->off));
    else if (f->kind == K_BOOL)
      v = json_boolean(*(const int *)(const void *)(base + f->off));
    else if (f->kind == K_TIME) {
      util_iso8601(*(const int64_t *)(const void *)(base + f->off), when);
      v = json_string(when);
    }
    if (v == NULL || json_object_set_new(o, f->key, v) != 0) {
      json_decref(o);
      return NULL;
    }
  }
  return o;
}

static void markdown_level(FILE *out, const struct level *lv)
{
  fprintf(out, "\n### `%s`\n\n| key | type | required | default | meaning |\n|---|---|---|---|---|\n",
          lv->path[0] != '\0' ? lv->path : "challenge.json");
  for (size_t i = 0; i < lv->n; i++) {
    const struct field *f = &lv->fields[i];
    fprintf(out, "| `%s` | %s | %s | %s | %s%s |\n", f->key, f->type, (f->flags & F_REQUIRED) != 0 ? "yes" : "no",
            f->dflt_doc, f->doc, (f->flags & F_PATCH) != 0 ? " (organizers may change it on a live challenge)" : "");
  }
  for (size_t i = 0; i < lv->n; i++) {
    if (lv->fields[i].sub != NULL)
      markdown_level(out, lv->fields[i].sub);
  }
}

void def_markdown(FILE *out)
{
  fprintf(out, "<!-- generated by `concours challenge keys`: edit server/def.c, then regenerate -->\n");
  markdown_level(out, &top_level);
}

/* ------------------------------------------------------------------------------------------ phases in SQL */

#define NPHASE_FIELDS (sizeof(phase_fields) / sizeof(phase_fields[0]))

/* The column of phase field F: its key, "_at" added for times. */
static void phase_column(const struct field *f, char *out, size_t n)
{
  snprintf(out, n, "%s%s", f->key, f->kind == K_TIME ? "_at" : "");
}

static char phase_columns[512], phase_marks[128];
static pthread_once_t phase_columns_once = PTHREAD_ONCE_INIT;

static void build_phase_columns(void)
{
  size_t used = 0;
  for (size_t i = 0; i < NPHASE_FIELDS; i++) {
    char col[80];
    phase_column(&phase_fields[i], col, sizeof(col));
    int w = snprintf(phase_columns + used, sizeof(phase_columns) - used, "%s%s", i > 0 ? "," : "", col);
    if (w > 0 && (size_t)w < sizeof(phase_columns) - used)
      used += (size_t)w;
    size_t m = strlen(phase_marks);
    snprintf(phase_marks + m, sizeof(phase_marks) - m, "%s?", i > 0 ? "," : "");
  }
}

const char *def_phase_sql_marks(void)
{
  pthread_once(&phase_columns_once, build_phase_columns);
  return phase_marks;
}

const char *def_phase_sql_columns(size_t *n)
{
  pthread_once(&phase_columns_once, build_phase_columns);
  *n = NPHASE_FIELDS;
  return phase_columns;
}

void def_phase_bind(sqlite3_stmt *st, int first, const struct phase *ph)
{
  const char *base = (const char *)ph;
  for (size_t i = 0; i < NPHASE_FIELDS; i++) {
    const struct field *f = &phase_fields[i];
    int at = first + (int)i;
    if (f->kind == K_STRING)
      sqlite3_bind_text(st, at, base + f->off, -1, SQLITE_TRANSIENT);
    else if (f->kind == K_TIME)
      sqlite3_bind_int64(st, at, *(const int64_t *)(const void *)(base + f->off));
    else
      sqlite3_bind_int(st, at, *(const int *)(const void *)(base + f->off));
  }
}

void def_phase_read(sqlite3_stmt *st, int first, struct phase *ph)
{
  char *base = (char *)ph;
  for (size_t i = 0; i < NPHASE_FIELDS; i++) {
    const struct field *f = &phase_fields[i];
    int at = first + (int)i;
    if (f->kind == K_STRING) {
      const unsigned char *t = sqlite3_column_text(st, at);
      util_strlcpy(base + f->off, t != NULL ? (const char *)t : "", f->size);
    } else if (f->kind == K_TIME) {
      *(int64_t *)(void *)(base + f->off) = sqlite3_column_int64(st, at);
    } else {
      *(int *)(void *)(base + f->off) = sqlite3_column_int(st, at);
    }
  }
}

int def_phase_migrate(sqlite3 *db, char *err, size_t errlen)
{
  for (size_t i = 0; i < NPHASE_FIELDS; i++) {
    const struct field *f = &phase_fields[i];
    char col[80], sql[256];
    sqlite3_stmt *st = NULL;
    phase_column(f, col, sizeof(col));
    int found = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('phases') WHERE name=?", -1, &st, NULL) != SQLITE_OK) {
      snprintf(err, errlen, "cannot read the phases table: %s", sqlite3_errmsg(db));
      return -1;
    }
    sqlite3_bind_text(st, 1, col, -1, SQLITE_STATIC);
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (found)
      continue;
    if (f->kind == K_STRING)
      snprintf(sql, sizeof(sql), "ALTER TABLE phases ADD COLUMN %s TEXT NOT NULL DEFAULT ''", col);
    else
      snprintf(sql, sizeof(sql), "ALTER TABLE phases ADD COLUMN %s INTEGER NOT NULL DEFAULT %lld", col, f->dflt);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
      snprintf(err, errlen, "cannot add the phase setting %s: %s", col, sqlite3_errmsg(db));
      return -1;
    }
  }
  return 0;
}
