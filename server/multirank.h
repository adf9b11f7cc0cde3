/* multirank.h: several metrics per challenge (issue 14, docs/bundle.md "Several metrics"). A challenge has one
 * primary metric and up to DEF_MAX_SECONDARY secondary ones; its ranking rule is "primary" (the primary metric
 * ranks, as always) or "mean_rank": each metric ranks the teams (the best first, ties sharing the smallest rank, a
 * missing value last), the weighted mean of a team's ranks ranks the teams (the lowest first), and the primary
 * order breaks ties. The summary def.c builds (struct challenge's metrics_json) says which. */
#ifndef CONCOURS_MULTIRANK_H
#define CONCOURS_MULTIRANK_H

#include <jansson.h>

#include "db.h"

/* The metrics of C as the API shows them: {"metrics":[{"key","label","higher_is_better","precision","primary"}],
 * "rule","weights"}; for a challenge imported before several metrics existed, its primary metric alone. New
 * reference, or NULL out of memory. */
json_t *multirank_summary(const struct challenge *c);

/* Ranks ROWS (an array of objects, in the primary metric's order) by C's rule. Each row holds its primary value in
 * SCORE_FIELD and the others in "metrics": {"KEY": value}; rows with "disqualified": true stay last, unranked. With
 * "mean_rank" the rows are re-ordered, "rank" rewritten, and each ranked row gets "mean_rank" (its weighted mean
 * rank) and "primary_rank" (its rank by the primary metric alone), and 1 is returned; with "primary" nothing changes
 * and 0 is returned; -1 out of memory (ROWS unchanged). */
int multirank_apply(const struct challenge *c, json_t *rows, const char *score_field);

/* The rank each team would hold by each metric alone and by the rule, for the jury: {"rule","kendall_tau":{"KEY":
 * tau between that metric's ranking and the official one},"teams":[{"team","rank","by":{"KEY": rank}}]}, from ROWS
 * ranked by multirank_apply (SCORE_FIELD as there). NULL when C has a single metric, or out of memory. */
json_t *multirank_methods(const struct challenge *c, json_t *rows, const char *score_field);

#endif
