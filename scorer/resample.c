/*
 * resample.c: what the jury's statistics build on, beside the score (see resample.h): the percentile bootstrap
 * interval of a metric, resampled on both cores, and the per-case file (score.h) of a submission.
 */
#include "resample.h"
#include "arc.h"
#include "mem.h"
#include "par.h"
#include "score.h" /* the per-case file's layout */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z;

	*s += UINT64_C(0x9E3779B97F4A7C15);
	z = *s;
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

/* numpy's default (linear) percentile of sorted V[0..N). */
static double percentile(const double *v, size_t n, double q)
{
	double pos = q * (double)(n - 1);
	size_t lo = (size_t)pos;
	double frac = pos - (double)lo;

	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + (v[lo + 1] - v[lo]) * frac;
}

/* Little-endian U into 4 bytes at P. */
static void put_u32(unsigned char *p, uint32_t u)
{
	int k;

	for (k = 0; k < 4; k++)
		p[k] = (unsigned char)(u >> (8 * k));
}

/* Bytes bound for a FILE, gathered into chunks: one fwrite() a chunk. */
struct chunk_out {
	FILE *f;
	size_t fill;
	int rc; /* 0, or -1 once a write failed */
	unsigned char buf[32768];
};

/* Writes O's gathered bytes. Returns O's status. */
static int chunk_flush(struct chunk_out *o)
{
	if (o->rc == 0 && o->fill > 0 && fwrite(o->buf, 1, o->fill, o->f) != o->fill)
		o->rc = -1;
	o->fill = 0;
	return o->rc;
}

/* Appends LEN bytes to O (more than its chunk: written at once). */
static void chunk_put(struct chunk_out *o, const void *bytes, size_t len)
{
	if (o->fill + len > sizeof o->buf)
		chunk_flush(o);
	if (len > sizeof o->buf) {
		if (o->rc == 0 && fwrite(bytes, 1, len, o->f) != len)
			o->rc = -1;
		return;
	}
	memcpy(o->buf + o->fill, bytes, len);
	o->fill += len;
}

/* Appends the N elements of SIZE bytes at BASE picked by ROWS (NULL: the first N) to O. */
static void put_rows(struct chunk_out *o, const void *base, size_t size, const uint32_t *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		chunk_put(o, (const unsigned char *)base + (size_t)(rows ? rows[i] : i) * size, size);
}

/* Appends the values of rows ROWS[0..N) (NULL: the first N) of D to O, NCOL doubles a row. */
static void put_values(struct chunk_out *o, const struct score_data *d, const uint32_t *rows, size_t n)
{
	size_t ncol = (size_t)d->ncol;
	size_t i;
	size_t c;

	if (d->p) {
		put_rows(o, d->p, ncol * sizeof *d->p, rows, n);
		return;
	}
	for (i = 0; i < n; i++) {
		size_t r = rows ? rows[i] : i;

		for (c = 0; c < ncol; c++) {
			double v = score_value(d, r * ncol + c);

			chunk_put(o, &v, sizeof v);
		}
	}
}

/*
 * Writes the per-case file (score.h) of metric M over ROWS[0..N) (NULL: rows 0..N-1) of D to PATH: for a mean (or
 * root-mean-square) metric each case's term, the metric over that one case (squared for a root mean square); for
 * the others the metric's inputs of those cases. Returns 0, or -1 with MSG set (nothing is left at PATH).
 */
int score_write_per_case(const char *path, const struct score_metric *m, const struct score_data *d,
                         const uint32_t *rows, size_t n, char *msg, size_t msglen)
{
	unsigned char head[SCORE_PER_CASE_HEADER + SCORE_PER_CASE_DATA_HEADER];
	uint32_t kind = m->combine == SCORE_COMBINE_RMS    ? SCORE_PER_CASE_RMS
	                : m->combine == SCORE_COMBINE_MEAN ? SCORE_PER_CASE_MEAN
	                                                   : SCORE_PER_CASE_DATA;
	uint64_t n64 = (uint64_t)n;
	size_t hlen = kind == SCORE_PER_CASE_DATA ? sizeof head : SCORE_PER_CASE_HEADER;
	struct chunk_out *o = malloc(sizeof *o); /* not on the stack: the calling thread may be a server's */
	size_t i;
	int k;
	int fd;
	int rc = -1;

	if (!o) {
		snprintf(msg, msglen, "cannot write the per-case file: out of memory");
		return -1;
	}
	fd = arc_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	o->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!o->f && fd >= 0)
		close(fd);
	o->fill = 0;
	o->rc = 0;
	if (!o->f) {
		snprintf(msg, msglen, "cannot write the per-case file: %s", strerror(errno));
		free(o);
		return -1;
	}
	memset(head, 0, sizeof head);
	memcpy(head, SCORE_PER_CASE_MAGIC, 4);
	put_u32(head + 4, kind);
	put_u32(head + 8, (uint32_t)m->higher_is_better);
	for (k = 0; k < 8; k++)
		head[16 + k] = (unsigned char)(n64 >> (8 * k));
	if (kind == SCORE_PER_CASE_DATA) {
		unsigned char *x = head + SCORE_PER_CASE_HEADER;
		int ncol = m->pred == SCORE_PRED_LABEL ? 0 : d->ncol;

		put_u32(x, (uint32_t)m->truth);
		put_u32(x + 4, (uint32_t)m->pred);
		put_u32(x + 8, (uint32_t)d->nclass);
		put_u32(x + 12, (uint32_t)d->binary_pos);
		put_u32(x + 16, (uint32_t)ncol);
		put_u32(x + 20, d->cost != NULL);
		snprintf((char *)x + 24, 32, "%s", m->name);
	}
	chunk_put(o, head, hlen);
	if (kind != SCORE_PER_CASE_DATA) {
		for (i = 0; o->rc == 0 && i < n; i++) {
			uint32_t r = rows ? rows[i] : (uint32_t)i;
			double v = NAN;
			char why[64];

			if (m->fn(d, &r, 1, &v, why, sizeof why) != SCORE_FN_OK)
				v = NAN;
			if (kind == SCORE_PER_CASE_RMS)
				v *= v;
			chunk_put(o, &v, sizeof v);
		}
	} else {
		if (m->truth == SCORE_TRUTH_LABEL)
			put_rows(o, d->y, sizeof *d->y, rows, n);
		else
			put_rows(o, d->yv, sizeof *d->yv, rows, n);
		if (m->truth == SCORE_TRUTH_SURVIVAL)
			put_rows(o, d->event, sizeof *d->event, rows, n);
		if (m->pred == SCORE_PRED_LABEL)
			put_rows(o, d->yhat, sizeof *d->yhat, rows, n);
		else
			put_values(o, d, rows, n);
		if (d->cost != NULL)
			chunk_put(o, d->cost, (size_t)d->nclass * (size_t)d->nclass * sizeof *d->cost);
	}
	rc = chunk_flush(o);
	if (fclose(o->f) != 0)
		rc = -1;
	if (rc != 0) {
		snprintf(msg, msglen, "cannot write the per-case file: %s", strerror(errno));
		remove(path);
	}
	free(o);
	return rc;
}

/* Resamples [FIRST, LAST) of one bootstrap, run by one thread; VALS[it] gets NAN when undefined. */
struct resampler {
	const struct score_metric *m;
	const struct score_data *d;
	const uint32_t *rows;
	size_t n;
	uint64_t seed;
	unsigned first;
	unsigned last;
	double *vals;
	int nomem;
};

static void *resample(void *arg)
{
	struct resampler *rs = arg;
	uint32_t *sample = score_big_raw(rs->n, sizeof *sample);
	unsigned it;

	if (!sample) {
		rs->nomem = 1;
		return NULL;
	}
	for (it = rs->first; it < rs->last; it++) {
		/* each resample has its own stream: the result does not depend on how work is split */
		uint64_t s = rs->seed ^ (UINT64_C(0xD1B54A32D192ED03) * (it + 1));
		enum score_fn_status fs;
		char why[256];
		double v = NAN;
		size_t i;

		for (i = 0; i < rs->n; i++) {
			size_t k = (size_t)(splitmix64(&s) % rs->n);

			sample[i] = rs->rows ? rs->rows[k] : (uint32_t)k;
		}
		fs = rs->m->fn(rs->d, sample, rs->n, &v, why, sizeof why);
		if (fs == SCORE_FN_NOMEM) {
			rs->nomem = 1;
			break;
		}
		rs->vals[it] = fs == SCORE_FN_OK && isfinite(v) ? v : NAN;
	}
	score_big_free(sample);
	return NULL;
}

/*
 * Percentile 95 % bootstrap interval of the metric over ROWS[0..N) (NULL: all rows), B resamples split
 * between two threads. Resamples where the metric is undefined are skipped. Returns 0 with LO/HI, 1 when no
 * resample was defined, -1 on no memory.
 */
int score_bootstrap(const struct score_metric *m, const struct score_data *d, const uint32_t *rows, size_t n,
                    unsigned b, uint64_t seed, double *lo, double *hi)
{
	double *vals = malloc((b ? b : 1) * sizeof *vals);
	struct resampler half[2];
	size_t got = 0;
	unsigned it;
	int rc = -1;

	if (!vals || n == 0)
		goto out;
	for (it = 0; it < 2; it++) {
		half[it] = (struct resampler){m, d, rows, n, seed, it == 0 ? 0 : b / 2, it == 0 ? b / 2 : b, vals, 0};
	}
	score_par2(resample, &half[0], resample, &half[1]);
	if (half[0].nomem || half[1].nomem)
		goto out;
	for (it = 0; it < b; it++) {
		if (!isnan(vals[it]))
			vals[got++] = vals[it];
	}
	rc = 1;
	if (got == 0)
		goto out;
	qsort(vals, got, sizeof *vals, cmp_double);
	*lo = percentile(vals, got, 0.025);
	*hi = percentile(vals, got, 0.975);
	rc = 0;
out:
	free(vals);
	return rc;
}
