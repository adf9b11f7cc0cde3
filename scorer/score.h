/*
 * score.h: one scoring run, from file paths to the JSON object concours-score prints.
 *
 * Exists so that the command-line scorer, the server (through that command) and the tests share one
 * pipeline: load the ground truth and the prediction file (arc.h, csv.h), validate the predictions with
 * messages a participant can act on, join them to the ground truth by id, and compute the metric
 * (metrics.h) on the whole file, the public split and the private split, with an optional bootstrap
 * confidence interval.
 */
#ifndef CONCOURS_SCORE_H
#define CONCOURS_SCORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes of concours-score, and results of score_run(). */
enum score_status {
	SCORE_OK = 0,      /* scored */
	SCORE_INVALID = 1, /* the prediction file is invalid: the participant's to fix */
	SCORE_CONFIG = 2,  /* usage or configuration error: ground truth, metric, params, files */
	SCORE_INTERNAL = 3 /* out of memory or another internal failure */
};

/* Most problems listed in one error; the rest are only counted. */
#define SCORE_MAX_PROBLEMS 20

struct score_limits {
	uint64_t max_bytes;   /* per input file, compressed and decompressed (at most 4 GiB - 1) */
	size_t max_rows;      /* data rows per file */
	size_t max_record;    /* bytes in one CSV record */
	unsigned max_entries; /* entries in an archive */
	unsigned max_ratio;   /* decompressed bytes per compressed byte (+1 MiB); 0: no ratio cap */
};

struct score_request {
	const char *truth_path;
	const char *pred_path;
	const char *metric;
	const char *params_json;  /* metric parameters as JSON text, or NULL */
	const char *id_column;    /* NULL: the ground truth's first column */
	const char *split_column; /* NULL: "Usage" (used only when the ground truth has it) */
	unsigned bootstrap;       /* resamples for the confidence interval; 0: none */
	uint64_t seed;
	const char *per_case_path; /* metrics that are a mean over cases: each case's term is written here (see
	                            * score_write_per_case() in resample.h); NULL: not written */
	struct score_limits lim;
};

/* Fills L with the defaults: 2 GiB, 100 million rows, 256 KiB records, 16 archive entries. */
void score_limits_default(struct score_limits *l);

/*
 * Scores REQ. Always sets *OUT to a new JSON object the caller prints and frees with json_decref() (NULL
 * only when even that allocation failed): on SCORE_OK the result ({"metric","higher_is_better","rows",
 * "score","public","private","ci"}), otherwise {"error":{"code","message","line","column",
 * "problems","problem_count"}}. Messages of SCORE_INVALID are fit to show a participant; those of
 * SCORE_CONFIG and SCORE_INTERNAL are for the organizer and may name ground-truth content.
 */
enum score_status score_run(const struct score_request *req, json_t **out);

/* The per-case file (`concours-score --per-case`): the magic "CPC1", then little-endian u32 kind, u32
 * higher_is_better, u32 0, u64 n, then what the metric needs for each case of the private split (every case
 * without a split), in the ground truth's row order, so that the files of two submissions pair case by case:
 * - SCORE_PER_CASE_MEAN, SCORE_PER_CASE_RMS: n doubles, the metric's term per case; the score is their mean (or its
 *   square root);
 * - SCORE_PER_CASE_DATA (every other metric): the metric's inputs, to compute it again on resampled cases: a block
 *   of u32 truth kind, u32 prediction kind, u32 nclass, i32 binary_pos, u32 ncol, u32 has_cost, 32 bytes of the
 *   metric's name (NUL-padded), then the truth (LABEL: n i32 class indices; NUMBER: n doubles; SURVIVAL: n doubles
 *   and n bytes 0/1), the predictions (LABEL: n i32; else n * ncol doubles) and, with has_cost, nclass * nclass
 *   doubles. Every value is written as the host holds it (little-endian on the machines concours runs on). */
#define SCORE_PER_CASE_MAGIC "CPC1"
#define SCORE_PER_CASE_HEADER 24
#define SCORE_PER_CASE_DATA_HEADER 56
enum score_per_case_kind { SCORE_PER_CASE_MEAN = 1, SCORE_PER_CASE_RMS = 2, SCORE_PER_CASE_DATA = 3 };

/*
 * Checks the ground truth of REQ alone (REQ->pred_path is not read): the metric exists, its params are valid
 * (shape of a cost matrix, its labels against the truth's classes), the truth parses with the id column and a
 * target the metric can read, ids are unique, split values are Public or Private. Sets *OUT as score_run()
 * does: on SCORE_OK {"rows","public_rows","private_rows","split":bool,"classes":[...]?}, otherwise the error
 * object (SCORE_CONFIG for the organizer's files). REQ->split_column "" means: no split column.
 */
enum score_status score_check_truth(const struct score_request *req, json_t **out);

/*
 * Fills REQ's truth path, metric, params, id and split columns from the bundle at DIR (challenge.json,
 * API.md section 2). Strings are stored in *HOLD, which the caller keeps alive while REQ is used and then
 * frees with json_decref(). Returns SCORE_OK, or SCORE_CONFIG with MSG (bounded by MSGLEN) saying why.
 */
enum score_status score_request_from_challenge(const char *dir, struct score_request *req, json_t **hold, char *msg,
                                               size_t msglen);

#endif
