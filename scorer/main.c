/*
 * main.c: the concours-score command (API.md section 1).
 *
 * Only parses options and prints: the work is score_run() in the library, which the server reaches by
 * running this command. Exit codes: 0 scored, 1 invalid prediction file, 2 usage or configuration error,
 * 3 internal error; stdout always holds one JSON object.
 */
#include "exec_server.h"
#include "metrics.h"
#include "score.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	const struct score_metric *m;

	fputs("usage: concours-score --truth FILE --pred FILE --metric NAME [--params JSON]\n"
	      "                      [--id-column C] [--split-column S] [--bootstrap N --seed S]\n"
	      "                      [--per-case FILE]\n"
	      "       concours-score --challenge DIR --pred FILE [--bootstrap N --seed S] [--per-case FILE]\n"
	      "\n"
	      "Scores one prediction file against a ground truth and prints one JSON object:\n"
	      "  {\"metric\",\"higher_is_better\",\"rows\",\"score\",\"public\",\"private\"[,\"ci\"]}\n"
	      "public/private appear when the ground truth has the split column (default 'Usage',\n"
	      "values Public/Private, any case); score is over all rows. With --bootstrap N, \"ci\" holds\n"
	      "{\"score\":[lo,hi],\"public\":[lo,hi],\"private\":[lo,hi]}, the percentile 95 % interval of N\n"
	      "resamples drawn with --seed (default 0).\n"
	      "With --per-case FILE, metrics that are a mean over cases (or the root of one: rmse) also\n"
	      "write each case's term, for the private split's rows (all rows without a split) in the\n"
	      "ground truth's order: the jury's paired statistics. FILE: \"CPC1\", then little-endian\n"
	      "u32 kind (1 mean, 2 root of the mean), u32 higher_is_better, u32 0, u64 n, n doubles.\n"
	      "Other metrics write no FILE.\n"
	      "\n"
	      "Exit codes: 0 scored; 1 invalid prediction file, stdout holds\n"
	      "  {\"error\":{\"code\",\"message\",\"line\",\"column\",\"problems\":[...],\"problem_count\"}}\n"
	      "  (the first 20 problems are listed, all are counted); 2 usage or configuration error;\n"
	      "  3 internal error.\n"
	      "\n"
	      "Files: CSV per RFC 4180 (comma, header row, optional UTF-8 BOM, LF or CRLF, quoted fields).\n"
	      "The prediction file may also be gzip-compressed, or a zip, tar or tar.gz holding exactly one\n"
	      "CSV (format from magic bytes; rar, 7z, cpio, iso... refused; only regular files with safe\n"
	      "names; decompressed bytes capped). Ground truth: id column (default: first), optional split\n"
	      "column, then the target column(s). Predictions: the id column (same name), then the\n"
	      "prediction column(s). Every id exactly once. A FILE written /dev/fd/N is the open file N\n"
	      "itself (never opened again by name: an exec server's run gets its files so).\n"
	      "\n"
	      "concours-score --exec-server: the program of the server's warm sandboxes (server/sandbox_warm.h,\n"
	      "scorer/exec_server.h), run only as the init of a PID namespace.\n"
	      "\n"
	      "Environment: CONCOURS_SCORE_TIMING=1 prints each phase's wall time, CPU time and resident\n"
	      "memory to stderr; CONCOURS_SCORE_HUGE_PAGES=0 stops asking for transparent huge pages for\n"
	      "arrays and mapped input files of 4 MiB and more (docs/scorer.md); CONCOURS_SCORE_RECACHE=0\n"
	      "leaves an input the page cache holds in small pages so (=1 drops it from the cache once read,\n"
	      "for the next run to read it into 2 MiB pages, without measuring first: for tests);\n"
	      "CONCOURS_SCORE_SHORT_TAGS=1 keys ids by 32-bit hash tags whatever the row count, so that\n"
	      "ids meet on a tag more often (for tests);\n"
	      "CONCOURS_SCORE_SPLIT_TEST=1 has the second thread read the second half of any prediction\n"
	      "file, however small (for tests: large files are read that way when it pays);\n"
	      "CONCOURS_SCORE_CHECK_IDS=1 checks that the ground truth's ids are distinct by their hashes,\n"
	      "whatever their order or form (for tests: ids in increasing order are distinct without a check,\n"
	      "numbered ones by their table);\n"
	      "CONCOURS_SCORE_NO_DENSE=1 joins numbered ids (a prefix and numbers, all written alike) by their\n"
	      "hashes like any others (for tests: each such id says its row);\n"
	      "CONCOURS_SCORE_NO_BINS=1 sorts roc_auc's and average_precision's values even when they are all\n"
	      "decimals of six places at most (for tests: from 250,000 rows such values are counted by bin);\n"
	      "CONCOURS_SCORE_BINS_TEST=1 counts such values by bin however few the rows (for tests);\n"
	      "CONCOURS_SCORE_PAR_TEST=1 runs on two threads every step that splits its rows in halves,\n"
	      "however few the rows (for tests: from 65,536 rows they do);\n"
	      "CONCOURS_SCORE_NO_MICRO=1 keeps probabilities as doubles even when they are all decimals of six\n"
	      "places at most (for tests: such values are kept in millionths, half the memory);\n"
	      "CONCOURS_SCORE_KEEP_IDS=1 keeps where each ground-truth id lies in the file even when the ids\n"
	      "are numbered in increasing order (for tests: each row's id is then written from its number).\n"
	      "\n"
	      "Metrics (--metric NAME):\n",
	      out);
	for (m = score_metric_table(); m->name; m++)
		fprintf(out, "  %s (%s is better)\n      %s\n", m->name, m->higher_is_better ? "higher" : "lower",
		        m->help);
	fputs("\n"
	      "Truth and prediction columns per metric:\n"
	      "  label metrics (accuracy ... kappas, cost_matrix): truth one label column, or one column per\n"
	      "    class (the maximum wins); prediction one label column, or one column per class named by\n"
	      "    class (highest wins, ties to the leftmost).\n"
	      "  roc_auc, average_precision, log_loss, brier: truth 0/1 (or class labels); prediction one\n"
	      "    probability column (binary; positive class = the greater label) or one column per class.\n"
	      "    Probabilities must lie in [0,1].\n"
	      "  rmse, mae, r2, mape: truth one number column; prediction one number column.\n"
	      "  c_index: truth two columns time,event (event 0/1; a column named 'event' is the event);\n"
	      "    prediction one risk column (higher risk = earlier event).\n"
	      "\n"
	      "Params (--params JSON): cost_matrix takes {\"matrix\":[[c00,c01,...],...],\"labels\":[l0,l1,...]};\n"
	      "  matrix[i][j] is the cost of predicting labels[j] when the truth is labels[i]; score = 1 - mean\n"
	      "  cost. Other metrics take {}.\n"
	      "\n"
	      "Limits: --max-bytes N (per file, compressed and decompressed; default 2147483648),\n"
	      "  --max-rows N (default 100000000), --max-line N (bytes per record; default 262144),\n"
	      "  --max-entries N (archive entries; default 16), --max-ratio N (a compressed file may grow at most\n"
	      "  N times, plus 1 MiB, when decompressed; default 100; 0: no ratio cap).\n",
	      out);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	if (!s || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || !end || *end != '\0')
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int print_and_exit(json_t *obj, int code)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;

	if (text) {
		puts(text);
	} else {
		puts("{\"error\":{\"code\":\"internal_error\",\"message\":\"out of "
		     "memory\",\"line\":0,\"column\":\"\"}}");
		code = SCORE_INTERNAL;
	}
	free(text);
	json_decref(obj);
	if (fflush(stdout) != 0)
		return SCORE_INTERNAL;
	return code;
}

/* Prints a usage error: WHAT, then ARG quoted if not NULL. */
static int usage_error(const char *what, const char *arg)
{
	char msg[300];
	json_t *obj;

	snprintf(msg, sizeof msg, "%s%s%.200s%s", what, arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
	fprintf(stderr, "concours-score: %s (see --help)\n", msg);
	obj = json_pack("{s:{s:s, s:s, s:i, s:s}}", "error", "code", "usage", "message", msg, "line", 0, "column", "");
	return print_and_exit(obj, SCORE_CONFIG);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"truth", required_argument, NULL, 't'},
	        {"pred", required_argument, NULL, 'p'},
	        {"metric", required_argument, NULL, 'm'},
	        {"params", required_argument, NULL, 'P'},
	        {"id-column", required_argument, NULL, 'i'},
	        {"split-column", required_argument, NULL, 's'},
	        {"challenge", required_argument, NULL, 'c'},
	        {"bootstrap", required_argument, NULL, 'b'},
	        {"seed", required_argument, NULL, 'S'},
	        {"per-case", required_argument, NULL, 'C'},
	        {"max-bytes", required_argument, NULL, 'B'},
	        {"max-rows", required_argument, NULL, 'R'},
	        {"max-line", required_argument, NULL, 'L'},
	        {"max-entries", required_argument, NULL, 'E'},
	        {"max-ratio", required_argument, NULL, 'X'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	struct score_request req;
	const char *challenge = NULL;
	json_t *hold = NULL;
	json_t *result = NULL;
	enum score_status st;
	int code;
	int c;

	if (argc == 2 && strcmp(argv[1], "--exec-server") == 0) /* a warm sandbox's init (exec_server.h) */
		return exec_server_main();
	memset(&req, 0, sizeof req);
	score_limits_default(&req.lim);
	opterr = 0;
	for (;;) {
		uint64_t v = 0;

		c = getopt_long(argc, argv, "h", opts, NULL);
		if (c == -1)
			break;
		switch (c) {
		case 't':
			req.truth_path = optarg;
			break;
		case 'p':
			req.pred_path = optarg;
			break;
		case 'm':
			req.metric = optarg;
			break;
		case 'P':
			req.params_json = optarg;
			break;
		case 'i':
			req.id_column = optarg[0] ? optarg : NULL;
			break; /* "": the first column */
		case 's':
			req.split_column = optarg[0] ? optarg : NULL;
			break; /* "": Usage */
		case 'c':
			challenge = optarg;
			break;
		case 'C':
			req.per_case_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'b':
		case 'S':
		case 'B':
		case 'R':
		case 'L':
		case 'E':
		case 'X':
			if (parse_u64(optarg, &v) != 0)
				return usage_error("bad number", optarg);
			if (c == 'b')
				req.bootstrap = v > 1000000 ? 1000000 : (unsigned)v;
			else if (c == 'S')
				req.seed = v;
			else if (c == 'B')
				req.lim.max_bytes = v;
			else if (c == 'R')
				req.lim.max_rows = (size_t)v;
			else if (c == 'L')
				req.lim.max_record = v < 64 ? 64 : (size_t)v;
			else if (c == 'X')
				req.lim.max_ratio = v > 1000000 ? 1000000 : (unsigned)v;
			else
				req.lim.max_entries = v > 100000 ? 100000 : (unsigned)v;
			break;
		default:
			return usage_error("unknown or incomplete option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (challenge) {
		char msg[512];

		if (req.truth_path || req.metric)
			return usage_error("--challenge takes the ground truth and the metric from the bundle", NULL);
		st = score_request_from_challenge(challenge, &req, &hold, msg, sizeof msg);
		if (st != SCORE_OK) {
			fprintf(stderr, "concours-score: %s\n", msg);
			return print_and_exit(json_pack("{s:{s:s, s:s, s:i, s:s}}", "error", "code",
			                                "configuration_error", "message", msg, "line", 0, "column", ""),
			                      st);
		}
	}
	if (!req.truth_path || !req.pred_path || !req.metric)
		return usage_error("--truth, --pred and --metric are required (or --challenge DIR --pred FILE)", NULL);
	if (req.per_case_path)
		signal(SIGXFSZ, SIG_IGN); /* a file size limit makes the write fail (the score still stands) */
	st = score_run(&req, &result);
	if (st == SCORE_CONFIG || st == SCORE_INTERNAL) {
		json_t *m = json_object_get(json_object_get(result, "error"), "message");

		fprintf(stderr, "concours-score: %s\n", m ? json_string_value(m) : "error");
	}
	code = print_and_exit(result, st);
	json_decref(hold);
	return code;
}
