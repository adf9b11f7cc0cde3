/*
 * resample.h: the bootstrap interval of a metric and the per-case file (score.h), for score.c: what the jury's
 * statistics build on, kept apart from the pipeline that reads, joins and scores.
 */
#ifndef CONCOURS_RESAMPLE_H
#define CONCOURS_RESAMPLE_H

#include "metrics.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Writes the per-case file (score.h) of metric M over ROWS[0..N) (NULL: rows 0..N-1) of D to PATH: for a mean (or
 * root-mean-square) metric each case's term, the metric over that one case (squared for a root mean square); for
 * the others the metric's inputs of those cases. Returns 0, or -1 with MSG (MSGLEN bytes) set: nothing is left at
 * PATH.
 */
int score_write_per_case(const char *path, const struct score_metric *m, const struct score_data *d,
                         const uint32_t *rows, size_t n, char *msg, size_t msglen);

/*
 * Percentile 95 % bootstrap interval of M over ROWS[0..N) (NULL: all rows) of D, B resamples drawn from SEED (each
 * its own stream: the same interval however the work is split) between two threads. Resamples where the metric is
 * undefined are skipped. Returns 0 with *LO and *HI, 1 when no resample was defined, -1 on no memory.
 */
int score_bootstrap(const struct score_metric *m, const struct score_data *d, const uint32_t *rows, size_t n,
                    unsigned b, uint64_t seed, double *lo, double *hi);

#endif
