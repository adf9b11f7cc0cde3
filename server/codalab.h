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

/* At most this many challenges are made from one competition. */
#define CODALAB_MAX_PARTS 16

/* How many challenges the CodaLab / Codabench bundle folder SRC converts into, as CodaLab and Codabench showed a
 * leaderboard per phase: each track (consecutive phases starting at the same date, one per track in each such group,
 * a group of one phase being shared; a Codabench phase running several tasks is one track per task) is a challenge,
 * and within a track each phase scored by another program, reference or kind of submission than its last phase
 * makes a challenge of its own (one per scorer). Part 1 is the first track's main challenge. Returns the count (1:
 * the whole competition is one challenge, or competition.yaml is unreadable, which codalab_convert reports), 0 when
 * the tracks do not line up or they are more than CODALAB_MAX_PARTS (a problem noted in P, naming the phases), -1 out
 * of memory. */
int codalab_parts(const char *src, struct bundle_problems *p);

/* Converts the CodaLab bundle folder SRC into the new folder DST (must not exist; created 0700). Every mapping
 * decision is printed on stdout, prefixed "codalab: ", and written to DST/CONVERSION.md. ONLY_PHASE > 0 keeps only
 * that phase (1-based, in phase order), its name appended to the title; PART > 0 keeps only the phases of that part
 * (1-based, of codalab_parts' count), its label appended to the title and the slug. Returns 0, 1 when the bundle
 * cannot be mapped (problems listed in P, with the file and field), -1 on an internal error (in P). */
int codalab_convert(const char *src, const char *dst, int only_phase, int part, struct bundle_problems *p);

#endif
