/*
 * rank.h: the ranking metrics of the metric table (metrics.c), computed in rank.c: roc_auc and average_precision,
 * binary or one class against the rest (macro average), with scikit-learn's semantics.
 */
#ifndef CONCOURS_RANK_H
#define CONCOURS_RANK_H

#include "metrics.h"

/* roc_auc and average_precision as score_fn (metrics.h): over rows ROWS[0..N) of D, or its first N rows. */
enum score_fn_status score_roc_auc(const struct score_data *d, const uint32_t *rows, size_t n, double *out, char *why,
                                   size_t whylen);
enum score_fn_status score_average_precision(const struct score_data *d, const uint32_t *rows, size_t n, double *out,
                                             char *why, size_t whylen);

/* The same as score_splits_fn (metrics.h): all rows, the public and the private split with one sort (or one count of
 * bins) per class. */
enum score_fn_status score_roc_auc_splits(const struct score_data *d, const uint8_t *split, double out[3], int *handled,
                                          char *why, size_t whylen);
enum score_fn_status score_average_precision_splits(const struct score_data *d, const uint8_t *split, double out[3],
                                                    int *handled, char *why, size_t whylen);

#endif
