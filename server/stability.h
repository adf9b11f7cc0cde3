/* stability.h: whether a final ranking is real (API.md section 6), the way challengeR analyses a challenge: a
 * paired bootstrap that resamples the same cases for every team (rank frequencies, 95 % rank intervals, Kendall's
 * tau between the full and each bootstrap ranking) and one-sided Wilcoxon signed-rank tests between every two teams
 * on their per-case scores, Holm-adjusted. The per-case scores are the files `concours-score --per-case` writes
 * (scorer/score.h), one per scored submission in DATA/percase/ID.cpc; metrics that are not a mean over cases have
 * none, and the analysis says so. The statistics themselves (stability_wilcoxon_greater, stability_holm,
 * stability_kendall_tau_b) are exported for the unit tests, which compare them with SciPy's. */
#ifndef CONCOURS_STABILITY_H
#define CONCOURS_STABILITY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define STABILITY_BOOTSTRAP_DEFAULT 1000
#define STABILITY_BOOTSTRAP_MAX 10000
#define STABILITY_SEED_DEFAULT 1
#define STABILITY_ALPHA 0.05              /* tie groups: adjusted p at or above this is "not shown apart" */
#define STABILITY_MAX_VALUES (64LL << 20) /* teams x cases held in memory (512 MiB of doubles) */

/* DATA/percase/ID.cpc into OUT (size N), creating DATA/percase. 0, or -1 when it does not fit or cannot be made. */
int stability_per_case_path(int64_t submission_id, char *out, size_t n);
/* 1 when PATH is a whole per-case file (its header and size agree), 0 when not, -1 when it cannot be read. */
int stability_per_case_valid(const char *path);

/* One team of the final ranking, as the jury sees it. */
struct stability_team {
  const char *name;
  int rank; /* in the full ranking (ties share a rank) */
  double score;
  int64_t submission_id;
};

/* Analyses TEAMS[0..N) (the ranked, not disqualified rows of the final ranking) with B bootstrap samples drawn
 * from SEED (reproducible: the same B and SEED give the same figures, whatever the number of threads). Returns
 * the object of API.md section 6 ({"split","bootstrap","seed","teams","kendall_tau","pairs"}, plus "test",
 * "cases", "groups" and "missing": the teams without per-case scores, left out; and "rank_then_aggregate": for a
 * metric that is a mean over cases, {"kendall_tau","teams_moved"} between the official ranking and challengeR's
 * rank-then-aggregate one, each team row then holding its "rank_then_aggregate" and "mean_case_rank"; null for the
 * other metrics), owned by the caller; or NULL with a sentence in WHY (size WHYLEN): no per-case scores for this
 * metric, files that do not pair, too large. */
json_t *stability_analyse(const struct stability_team *teams, size_t n, unsigned b, uint64_t seed, char *why,
                          size_t whylen);

/* stability_analyse, kept in DATA/stability/ (at most 64 analyses) under a key of everything its result depends on:
 * the teams, their ranks, scores and submissions, their per-case files (size and modification time), B and SEED.
 * A re-score, a disqualification or a new selection makes a new key. Same ownership and errors. */
json_t *stability_analyse_cached(const struct stability_team *teams, size_t n, unsigned b, uint64_t seed, char *why,
                                 size_t whylen);

/* The one-sided p-value of R's wilcox.test(x, y, paired=TRUE, alternative="greater", exact=FALSE, correct=TRUE):
 * D[i] = x[i] - y[i] for i < N, zero differences dropped, average ranks of |D|, normal approximation with the tie
 * and continuity corrections. *P_LESS gets the p-value of the opposite alternative (y greater) from the same ranks.
 * 1 when no difference is left. SCRATCH holds 3 * N uint64_t. Returns 0, or -1 when a value is not finite. */
int stability_wilcoxon_greater(const double *x, const double *y, size_t n, uint64_t *scratch, double *p_greater,
                               double *p_less);
/* Holm's step-down adjustment of P[0..N) into ADJ[0..N) (R's p.adjust(p, "holm")). 0, or -1 out of memory. */
int stability_holm(const double *p, double *adj, size_t n);
/* Kendall's tau-b between the rankings A and B of N items (ties allowed); 1 when either ranking is all ties. */
double stability_kendall_tau_b(const int *a, const int *b, size_t n);

#endif
