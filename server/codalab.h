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

/* At most this many tracks (phases starting together) are imported from one bundle. */
#define CODALAB_MAX_TRACKS 16

/* The tracks of the CodaLab / Codabench bundle folder SRC: consecutive phases starting at the same date run in
 * parallel (CodaLab's tracks); when every such group holds one phase per track (or a single phase, which every track
 * shares), the bundle has that many tracks, each imported as a challenge of its own with its own leaderboard. Returns
 * the count (1: no parallel phases, or an unreadable competition.yaml that codalab_convert reports), 0 when the groups
 * do not line up (a problem noted in P, naming the phases), -1 out of memory. */
int codalab_tracks(const char *src, struct bundle_problems *p);

/* Converts the CodaLab bundle folder SRC into the new folder DST (must not exist; created 0700). Every mapping
 * decision is printed on stdout, prefixed "codalab: ", and written to DST/CONVERSION.md. ONLY_PHASE > 0 keeps only
 * that phase (1-based, in phase order), its name appended to the title; TRACK > 0 keeps only the phases of that track
 * (1-based, of codalab_tracks' count), the name of its first parallel phase appended to the title (and so to the
 * slug). Returns 0, 1 when the bundle cannot be mapped (problems listed in P, with the file and field), -1 on an
 * internal error (in P). */
int codalab_convert(const char *src, const char *dst, int only_phase, int track, struct bundle_problems *p);

#endif
