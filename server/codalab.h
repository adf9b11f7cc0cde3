/* codalab.h: imports a CodaLab v1.5 competition bundle (competition.yaml with its scoring_program and
 * reference_data zips, phases and leaderboard columns) by converting it into a concours bundle folder that
 * bundle_run then validates like any other. What maps: title, description, the overview / evaluation / terms
 * pages (HTML turned into text), phases (label, start, submission limits), the scoring program (run under the
 * same CodaLab contract), the reference data (one CSV, the ground truth), the leaderboard column of rank 1 (its
 * key, sort order and numeric format). A Codabench v2 bundle (`version: 2`: tasks, phases naming their task,
 * Markdown pages, leaderboards with columns) maps the same way (docs/bundle.md has the table). Everything else is
 * listed as ignored on stdout; what cannot be mapped is a problem naming its key. */
#ifndef CONCOURS_CODALAB_H
#define CONCOURS_CODALAB_H

#include <stddef.h>

#include <sqlite3.h>

#include "bundle.h"

/* 1 when the folder DIR holds competition.yaml (and no challenge.json), 0 otherwise. */
int codalab_is_bundle(const char *dir);

/* Converts the CodaLab bundle folder SRC into the new folder DST (must not exist; created 0700). Every mapping
 * decision is printed on stdout, prefixed "codalab: ", and written to DST/CONVERSION.md. ONLY_PHASE > 0 keeps only
 * that phase (1-based, in phase order: one track of parallel phases), its name appended to the title. Returns 0, 1
 * when the bundle cannot be mapped (problems listed in P, with the file and field), -1 on an internal error (in P). */
int codalab_convert(const char *src, const char *dst, int only_phase, struct bundle_problems *p);

#endif
