/* cli.c: option parsing for `concours serve`, `concours challenge import` and `concours user add`. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "backup.h"
#include "bundle.h"
#include "db.h"
#include "db_workers.h"
#include "def.h"
#include "sandbox.h"
#include "server.h"
#include "sign.h"
#include "mail.h"
#include "util.h"
#include "versions.h"

void cli_usage(void)
{
  printf("concours %s: a self-hosted server for data challenges\n\n"
         "usage:\n"
         "  concours serve [--data DIR] [--listen ADDR:PORT] [--challenges DIR] [--workers N]\n"
         "                 [--max-upload-mb N] [--web DIR] [--scorer PATH] [--score-timeout S]\n"
         "                 [--http-threads N] [--secure-cookies] [--trusted-proxy ADDR] [--insecure-no-sandbox]\n"
         "                 [--local-runs N] [--lease-seconds S]   (code runs here; the rest to workers)\n"
         "                 [--smtp smtp://HOST:587 [--smtp-user U --smtp-password-file F]] [--mail-from ADDR]\n"
         "                 [--mail-dir DIR]   (each mail written there instead: development, tests)\n"
         "                 [--public-url URL]   (the address in mails' links; default http://LISTEN)\n"
         "                 [--verify-email]   (new participants confirm their address before taking part)\n"
         "                 [--test-clock FILE]   (tests only: read \"now\" from FILE)\n"
         "                 [--test-ready-file FILE]   (tests only: the API stays \"starting\" until FILE exists)\n"
         "  concours challenge import DIR|ARCHIVE [--data DIR] [--apply] [--rescore] [--draft]\n"
         "                 [--anonymity-override REASON] [--actor NAME]\n"
         "  concours challenge check DIR|ARCHIVE   validate a bundle without importing it\n"
         "  concours challenge keys    every key of challenge.json (Markdown)\n"
         "  concours runtime build DIR|ARCHIVE [--data DIR]   build a challenge's runtimes ahead of import\n"
         "  concours worker-token add NAME [--queue Q] [--data DIR] | revoke NAME   remote workers' tokens\n"
         "  concours worker --server URL --token-file F [--queue Q] [--once] [--idle-exit S] [--work DIR]\n"
         "  concours challenge state SLUG draft|open|archived [--reason R] [--data DIR]\n"
         "  concours challenge staff SLUG USERNAME --role organizer|jury|none [--reason R] [--data DIR]\n"
         "  concours user add NAME --role participant|organizer|jury|admin [--data DIR]\n"
         "                 [--email E] [--password-stdin]\n"
         "  concours dataset check FILE... [--quasi COL,...] [--k 5] [--sensitive COL] [--json]\n"
         "  concours dataset pseudonymize IN OUT --id COL [--key-file F] [--drop COL,...]\n"
         "                 [--shift-dates COL,...] [--generalize age:5,postcode:2]\n"
         "  concours verify RANKING SIG KEY   check a published ranking's Ed25519 signature\n"
         "  concours audit verify [--data DIR] check the audit log's hash chain\n"
         "  concours backup DEST [--data DIR]  a consistent backup, also while the server runs\n"
         "  concours backup verify DIR | concours restore SRC [--data DIR]\n"
         "  concours --version | --help\n\n"
         "Defaults: --data ./concours-data, --listen 127.0.0.1:8080, --workers = CPU count (and as many\n"
         "threads again, 8 at least, 64 threads in all at most, for prediction files up to 8 MiB; each scores in a\n"
         "warm sandbox of its own), --max-upload-mb 200, --score-timeout 600.\n"
         "See docs/api.md for the HTTP API.\n",
         CONCOURS_VERSION);
}

/* Reads the value of option ARGV[*I] into OUT; returns 0, or -1 after printing an error. */
static int opt_value(int argc, char **argv, int *i, char *out, size_t n)
{
  if (*i + 1 >= argc) {
    fprintf(stderr, "concours: %s needs a value\n", argv[*i]);
    return -1;
  }
  if (util_strlcpy(out, argv[*i + 1], n) != 0) {
    fprintf(stderr, "concours: the value of %s is too long\n", argv[*i]);
    return -1;
  }
  (*i)++;
  return 0;
}

static int opt_int(int argc, char **argv, int *i, long long min, long long max, long long *out)
{
  char buf[32];
  if (opt_value(argc, argv, i, buf, sizeof(buf)) != 0)
    return -1;
  if (util_parse_ll(buf, min, max, out) != 0) {
    fprintf(stderr, "concours: %s must be an integer from %lld to %lld (got \"%s\")\n", argv[*i - 1], min, max, buf);
    return -1;
  }
  return 0;
}

/* The concours-score next to this executable. */
static void default_scorer(char *out, size_t n)
{
  char self[APP_PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) {
    util_strlcpy(out, "/usr/local/bin/concours-score", n);
    return;
  }
  self[len] = '\0';
  char *slash = strrchr(self, '/');
  if (slash != NULL)
    *slash = '\0';
  if (util_fmt(out, n, "%s/concours-score", self) != 0)
    util_strlcpy(out, "concours-score", n);
}

int cli_serve(int argc, char **argv)
{
  struct app_config cfg;
  long long v;
  int insecure = 0;
  app_config_defaults(&cfg);
  default_scorer(cfg.scorer_path, sizeof(cfg.scorer_path));
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int rc = 0;
    if (strcmp(a, "--data") == 0) {
      rc = opt_value(argc, argv, &i, cfg.data_dir, sizeof(cfg.data_dir));
    } else if (strcmp(a, "--listen") == 0) {
      rc = opt_value(argc, argv, &i, cfg.listen, sizeof(cfg.listen));
    } else if (strcmp(a, "--challenges") == 0) {
      rc = opt_value(argc, argv, &i, cfg.challenges_dir, sizeof(cfg.challenges_dir));
    } else if (strcmp(a, "--web") == 0) {
      rc = opt_value(argc, argv, &i, cfg.web_dir, sizeof(cfg.web_dir));
    } else if (strcmp(a, "--scorer") == 0) {
      rc = opt_value(argc, argv, &i, cfg.scorer_path, sizeof(cfg.scorer_path));
    } else if (strcmp(a, "--workers") == 0) {
      rc = opt_int(argc, argv, &i, 1, 64, &v);
      cfg.workers = (int)v;
    } else if (strcmp(a, "--local-runs") == 0) {
      rc = opt_int(argc, argv, &i, 0, 64, &v);
      cfg.local_runs = (int)v;
    } else if (strcmp(a, "--lease-seconds") == 0) {
      rc = opt_int(argc, argv, &i, 3, 3600, &v);
      cfg.lease_s = (int)v;
    } else if (strcmp(a, "--http-threads") == 0) {
      rc = opt_int(argc, argv, &i, 2, 1024, &v);
      cfg.http_threads = (int)v;
    } else if (strcmp(a, "--max-upload-mb") == 0) {
      rc = opt_int(argc, argv, &i, 1, 100000, &v);
      cfg.max_upload_bytes = v * 1024 * 1024;
    } else if (strcmp(a, "--score-timeout") == 0) {
      rc = opt_int(argc, argv, &i, 1, 86400, &v);
      cfg.score_timeout_s = (int)v;
    } else if (strcmp(a, "--test-clock") == 0) {
      rc = opt_value(argc, argv, &i, cfg.test_clock, sizeof(cfg.test_clock));
    } else if (strcmp(a, "--test-ready-file") == 0) {
      rc = opt_value(argc, argv, &i, cfg.test_ready_file, sizeof(cfg.test_ready_file));
    } else if (strcmp(a, "--trusted-proxy") == 0) {
      rc = opt_value(argc, argv, &i, cfg.trusted_proxy, sizeof(cfg.trusted_proxy));
    } else if (strcmp(a, "--smtp") == 0) {
      rc = opt_value(argc, argv, &i, cfg.smtp_url, sizeof(cfg.smtp_url));
    } else if (strcmp(a, "--smtp-user") == 0) {
      rc = opt_value(argc, argv, &i, cfg.smtp_user, sizeof(cfg.smtp_user));
    } else if (strcmp(a, "--smtp-password-file") == 0) {
      char path[APP_PATH_MAX];
      size_t len = 0;
      rc = opt_value(argc, argv, &i, path, sizeof(path));
      char *text = rc == 0 ? util_read_file(path, sizeof(cfg.smtp_password) - 1, &len) : NULL;
      if (rc == 0 && text == NULL) {
        fprintf(stderr, "concours serve: cannot read the SMTP password from %s\n", path);
        rc = -1;
      }
      while (text != NULL && len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
      if (text != NULL)
        util_strlcpy(cfg.smtp_password, text, sizeof(cfg.smtp_password));
      free(text);
    } else if (strcmp(a, "--mail-from") == 0) {
      rc = opt_value(argc, argv, &i, cfg.mail_from, sizeof(cfg.mail_from));
    } else if (strcmp(a, "--mail-dir") == 0) {
      rc = opt_value(argc, argv, &i, cfg.mail_dir, sizeof(cfg.mail_dir));
    } else if (strcmp(a, "--public-url") == 0) {
      rc = opt_value(argc, argv, &i, cfg.public_url, sizeof(cfg.public_url));
    } else if (strcmp(a, "--verify-email") == 0) {
      cfg.verify_email = 1;
    } else if (strcmp(a, "--secure-cookies") == 0) {
      cfg.secure_cookies = 1;
    } else if (strcmp(a, "--insecure-no-sandbox") == 0) {
      insecure = 1;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      cli_usage();
      return 0;
    } else {
      fprintf(stderr, "concours serve: unknown option %s (see concours --help)\n", a);
      return 2;
    }
    if (rc != 0)
      return 2;
  }
  if (cfg.public_url[0] == '\0')
    util_fmt(cfg.public_url, sizeof(cfg.public_url), "http://%s", cfg.listen);
  size_t pl = strlen(cfg.public_url);
  while (pl > 0 && cfg.public_url[pl - 1] == '/')
    cfg.public_url[--pl] = '\0';
  if (cfg.mail_from[0] == '\0')
    util_strlcpy(cfg.mail_from, "concours@localhost", sizeof(cfg.mail_from));
  if (!mail_address_ok(cfg.mail_from)) {
    fprintf(stderr, "concours serve: --mail-from needs one address like concours@example.org\n");
    return 2;
  }
  if (access(cfg.scorer_path, X_OK) != 0) {
    fprintf(stderr, "concours: the scorer %s is not executable (build it, or pass --scorer PATH)\n", cfg.scorer_path);
    return 2;
  }
  char why[1024];
  if (sandbox_init(insecure, why, sizeof(why)) != 0) {
    fprintf(stderr,
            "concours: refusing to start: the scoring sandbox cannot be set up: %s\n"
            "(--insecure-no-sandbox runs scorers unconfined: for development only)\n",
            why);
    return 1;
  }
  return server_run(&cfg);
}

static void print_problems(const char *path, const struct bundle_problems *p)
{
  fprintf(stderr, "%s: the bundle has %d problem(s):\n", path, p->n + p->dropped);
  for (int k = 0; k < p->n; k++)
    fprintf(stderr, "  %s\n", p->text[k]);
  if (p->dropped > 0)
    fprintf(stderr, "  ... and %d more\n", p->dropped);
}

/* `concours challenge state SLUG STATE` and `concours challenge staff SLUG USER --role R`: audited as "cli". */
static int cli_challenge_admin(int argc, char **argv)
{
  static const char usage[] =
    "usage: concours challenge state SLUG draft|open|archived [--reason R] [--data DIR]\n"
    "       concours challenge staff SLUG USERNAME --role organizer|jury|none [--reason R] [--data DIR]\n";
  struct app_config cfg;
  char slug[64] = "", user[64] = "", value[32] = "", reason[1001] = "changed with the command line";
  int staff = strcmp(argv[1], "staff") == 0, npos = 0, rc = 1;
  app_config_defaults(&cfg);
  for (int i = 2; i < argc; i++) {
    int bad = 0;
    if (strcmp(argv[i], "--data") == 0)
      bad = opt_value(argc, argv, &i, cfg.data_dir, sizeof(cfg.data_dir));
    else if (strcmp(argv[i], "--reason") == 0)
      bad = opt_value(argc, argv, &i, reason, sizeof(reason)) != 0 || reason[0] == '\0';
    else if (staff && strcmp(argv[i], "--role") == 0)
      bad = opt_value(argc, argv, &i, value, sizeof(value));
    else if (argv[i][0] != '-' && npos == 0)
      bad = util_strlcpy(slug, argv[i], sizeof(slug)) != 0;
    else if (argv[i][0] != '-' && npos == 1)
      bad = util_strlcpy(staff ? user : value, argv[i], staff ? sizeof(user) : sizeof(value)) != 0;
    else
      bad = 1;
    if (argv[i][0] != '-' && strcmp(argv[i - 1], "--data") != 0 && strcmp(argv[i - 1], "--reason") != 0 &&
        strcmp(argv[i - 1], "--role") != 0)
      npos++;
    if (bad) {
      fputs(usage, stderr);
      return 2;
    }
  }
  enum challenge_state state = CHALLENGE_OPEN;
  enum app_role role = ROLE_PARTICIPANT;
  if (npos != 2 || (!staff && db_challenge_state_parse(value, &state) != 0) ||
      (staff && strcmp(value, "none") != 0 &&
       (app_role_parse(value, &role) != 0 || (role != ROLE_ORGANIZER && role != ROLE_JURY)))) {
    fputs(usage, stderr);
    return 2;
  }
  if (server_open_data(&cfg, 1, 0) != 0)
    return 1;
  sqlite3 *db = db_acquire();
  struct challenge *c = malloc(sizeof(*c));
  enum app_status s = c != NULL ? db_challenge_get(db, slug, c) : APP_INTERNAL;
  const char *missing = "no such challenge";
  if (s == APP_OK) {
    missing = "no such user";
    s = staff ? db_staff_set(db, c, user, role, "cli", reason, app_now())
              : db_challenge_state_set(db, c, state, "cli", reason, app_now());
  }
  if (s == APP_OK) {
    if (staff)
      printf("%s: %s is now %s\n", slug, user, value);
    else
      printf("%s is now %s\n", slug, value);
    rc = 0;
  } else {
    fprintf(stderr, "concours challenge %s: %s\n", argv[1],
            s == APP_NOT_FOUND ? missing : "the database refused the change");
    rc = s == APP_NOT_FOUND ? 2 : 1;
  }
  free(c);
  db_release(db);
  db_pool_close();
  return rc;
}

/* The value of "--phase N" at argv[*I] (1 to 1000) into *OUT, *I moved past it. 0, or -1 with a message. */
static int phase_option(int argc, char **argv, int *i, int *out)
{
  long long v;
  if (*i + 1 >= argc || util_parse_ll(argv[*i + 1], 1, 1000, &v) != 0) {
    fprintf(stderr, "concours challenge: --phase needs a phase number from 1 (the first phase) to 1000\n");
    return -1;
  }
  *out = (int)v;
  (*i)++;
  return 0;
}

/* concours challenge convert BUNDLE DIR: the CodaLab / Codabench bundle (folder or zip) converted into the new
 * folder DIR with its report, then checked like an import would. 0 when valid, 2 with the problems, 1 on a fault. */
static int challenge_convert(int argc, char **argv, const char *usage)
{
  struct bundle_options opts;
  struct bundle_result res;
  struct stat st;
  memset(&opts, 0, sizeof(opts));
  for (int i = 4; i < argc; i++) {
    if (strcmp(argv[i], "--phase") != 0 || phase_option(argc, argv, &i, &opts.codalab_phase) != 0) {
      fputs(usage, stderr);
      return 2;
    }
  }
  if (argc < 4 || argv[2][0] == '-' || argv[3][0] == '-') {
    fputs(usage, stderr);
    return 2;
  }
  if (lstat(argv[3], &st) == 0) {
    fprintf(stderr, "concours challenge convert: %s exists: give a new folder\n", argv[3]);
    return 2;
  }
  opts.mode = BUNDLE_CHECK;
  opts.convert_to = argv[3];
  struct bundle_problems *p = malloc(sizeof(*p));
  if (p == NULL)
    return 1;
  int rc = bundle_run(NULL, argv[2], &opts, &res, p);
  if (rc == 0 && res.parts != NULL) {
    printf("converted %s into %s: %zu challenges (tracks, or phases scored apart), one folder each:\n", argv[2],
           argv[3], json_array_size(res.parts));
    for (size_t i = 0; i < json_array_size(res.parts); i++) {
      const char *slug = json_string_value(json_object_get(json_array_get(res.parts, i), "slug"));
      printf("  %s/%s: challenge %s; every decision is in %s/%s/CONVERSION.md\n", argv[3], slug, slug, argv[3], slug);
    }
  } else if (rc == 0) {
    printf("converted %s into %s (challenge %s); every decision is in %s/CONVERSION.md\n", argv[2], argv[3], res.slug,
           argv[3]);
  } else {
    print_problems(argv[2], p);
  }
  bundle_result_free(&res);
  free(p);
  return rc == 0 ? 0 : rc == 1 ? 2 : 1;
}

int cli_challenge(int argc, char **argv)
{
  static const char usage[] =
    "usage: concours challenge import DIR|ARCHIVE [--data DIR] [--apply] [--rescore] [--draft]\n"
    "                                 [--anonymity-override REASON] [--actor NAME] [--phase N]\n"
    "       concours challenge check DIR|ARCHIVE\n"
    "       concours challenge state SLUG draft|open|archived [--reason R] [--data DIR]\n"
    "       concours challenge staff SLUG USERNAME --role organizer|jury|none [--reason R] [--data DIR]\n"
    "       concours challenge convert BUNDLE DIR [--phase N]   (a CodaLab / Codabench bundle into the new\n"
    "                 concours bundle folder DIR, with its CONVERSION.md report, then checked; a competition\n"
    "                 with tracks or phases scored apart makes one folder DIR/SLUG per challenge)\n"
    "       concours challenge keys           (the challenge.json reference, Markdown)\n"
    "  A CodaLab / Codabench competition imports as one challenge per track or phase scored apart.\n"
    "  --phase N: of a CodaLab / Codabench bundle, only its Nth phase, as a challenge of its own\n";
  struct app_config cfg;
  char dir[APP_PATH_MAX] = "", reason[1001] = "", actor[64] = "cli";
  struct bundle_options opts;
  struct bundle_result res;
  app_config_defaults(&cfg);
  memset(&opts, 0, sizeof(opts));
  opts.actor = actor;
  if (argc >= 2 && (strcmp(argv[1], "state") == 0 || strcmp(argv[1], "staff") == 0))
    return cli_challenge_admin(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "keys") == 0) {
    def_markdown(stdout);
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "convert") == 0)
    return challenge_convert(argc, argv, usage);
  int check = argc >= 2 && strcmp(argv[1], "check") == 0;
  if (argc < 2 || (!check && strcmp(argv[1], "import") != 0)) {
    fputs(usage, stderr);
    return 2;
  }
  opts.mode = check ? BUNDLE_CHECK : BUNDLE_ADD;
  for (int i = 2; i < argc; i++) {
    if (!check && strcmp(argv[i], "--data") == 0) {
      if (opt_value(argc, argv, &i, cfg.data_dir, sizeof(cfg.data_dir)) != 0)
        return 2;
    } else if (!check && strcmp(argv[i], "--apply") == 0) {
      opts.mode = BUNDLE_APPLY;
    } else if (!check && strcmp(argv[i], "--rescore") == 0) {
      opts.rescore = 1;
    } else if (!check && strcmp(argv[i], "--draft") == 0) {
      opts.draft = 1;
    } else if (!check && strcmp(argv[i], "--anonymity-override") == 0) {
      if (opt_value(argc, argv, &i, reason, sizeof(reason)) != 0)
        return 2;
      if (reason[0] == '\0') {
        fprintf(stderr, "concours challenge import: --anonymity-override needs a reason\n");
        return 2;
      }
      opts.anonymity_override = reason;
    } else if (!check && strcmp(argv[i], "--phase") == 0) {
      if (phase_option(argc, argv, &i, &opts.codalab_phase) != 0)
        return 2;
    } else if (!check && strcmp(argv[i], "--actor") == 0) {
      if (opt_value(argc, argv, &i, actor, sizeof(actor)) != 0)
        return 2;
      if (actor[0] == '\0') {
        fprintf(stderr, "concours challenge import: --actor needs a name\n");
        return 2;
      }
    } else if (argv[i][0] != '-' && dir[0] == '\0') {
      util_strlcpy(dir, argv[i], sizeof(dir));
    } else {
      fprintf(stderr, "concours challenge %s: unexpected argument %s\n", argv[1], argv[i]);
      fputs(usage, stderr);
      return 2;
    }
  }
  if (dir[0] == '\0') {
    fputs(usage, stderr);
    return 2;
  }
  if (opts.rescore && opts.mode != BUNDLE_APPLY) {
    fprintf(stderr, "concours challenge import: --rescore goes with --apply\n");
    return 2;
  }
  struct bundle_problems *p = malloc(sizeof(*p));
  if (p == NULL)
    return 1;
  if (!check && server_open_data(&cfg, 1, 0) != 0) {
    free(p);
    return 1;
  }
  sqlite3 *db = check ? NULL : db_acquire();
  int rc = bundle_run(db, dir, &opts, &res, p);
  if (db != NULL && rc == 0) { /* the version it replaced goes now when no server runs; else the server removes it */
    int lock = server_lock_try(cfg.data_dir);
    if (lock >= 0) {
      versions_sweep(db);
      close(lock);
    }
  }
  if (db != NULL) {
    db_release(db);
    db_pool_close();
  }
  if (rc == 0) {
    server_print_import(dir, &res, cfg.data_dir);
    bundle_result_free(&res);
  } else {
    print_problems(dir, p);
  }
  free(p);
  return rc == 0 ? 0 : rc == 1 ? 2 : 1;
}

/* concours runtime build DIR [--data DIR]: builds (debian) or unpacks (oci) the runtimes of a bundle (the code's and
 * the scoring program's) into the data folder's cache ahead of its import, with progress on stderr. */
int cli_runtime(int argc, char **argv)
{
  static const char usage[] = "usage: concours runtime build DIR|ARCHIVE [--data DIR]\n"
                              "  builds (runtime \"debian\", with mmdebstrap) or unpacks (runtime \"oci\") the\n"
                              "  runtimes of a challenge bundle (submission.runtime, metric.runtime) into\n"
                              "  DATA/runtimes, ahead of its import\n";
  struct app_config cfg;
  char dir[APP_PATH_MAX] = "";
  struct bundle_options opts;
  struct bundle_result res;
  app_config_defaults(&cfg);
  memset(&opts, 0, sizeof(opts));
  if (argc < 2 || strcmp(argv[1], "build") != 0) {
    fputs(usage, stderr);
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--data") == 0) {
      if (opt_value(argc, argv, &i, cfg.data_dir, sizeof(cfg.data_dir)) != 0)
        return 2;
    } else if (argv[i][0] != '-' && dir[0] == '\0') {
      util_strlcpy(dir, argv[i], sizeof(dir));
    } else {
      fputs(usage, stderr);
      return 2;
    }
  }
  if (dir[0] == '\0') {
    fputs(usage, stderr);
    return 2;
  }
  opts.mode = BUNDLE_CHECK;
  opts.build_runtime = 1;
  struct bundle_problems *p = malloc(sizeof(*p));
  if (p == NULL || server_open_data(&cfg, 1, 0) != 0) {
    free(p);
    return 1;
  }
  int rc = bundle_run(NULL, dir, &opts, &res, p);
  db_pool_close();
  if (rc == 0)
    printf("%s: runtime ready for challenge %s\n", dir, res.slug);
  else
    print_problems(dir, p);
  bundle_result_free(&res);
  free(p);
  return rc == 0 ? 0 : rc == 1 ? 2 : 1;
}

/* concours worker-token add NAME --queue Q | revoke NAME [--data DIR]: the tokens remote workers authenticate with
 * (docs/workers.md); a new token is printed once, and only its hash is kept. */
int cli_worker_token(int argc, char **argv)
{
  static const char usage[] = "usage: concours worker-token add NAME [--queue Q] [--data DIR]\n"
                              "       concours worker-token revoke NAME [--data DIR]\n";
  struct app_config cfg;
  char name[64] = "", queue[64] = "default";
  app_config_defaults(&cfg);
  int add = argc >= 2 && strcmp(argv[1], "add") == 0, revoke = argc >= 2 && strcmp(argv[1], "revoke") == 0;
  if (!add && !revoke) {
    fputs(usage, stderr);
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--data") == 0) {
      if (opt_value(argc, argv, &i, cfg.data_dir, sizeof(cfg.data_dir)) != 0)
        return 2;
    } else if (add && strcmp(argv[i], "--queue") == 0) {
      if (opt_value(argc, argv, &i, queue, sizeof(queue)) != 0)
        return 2;
    } else if (argv[i][0] != '-' && name[0] == '\0' && strlen(argv[i]) < sizeof(name)) {
      util_strlcpy(name, argv[i], sizeof(name));
    } else {
      fputs(usage, stderr);
      return 2;
    }
  }
  if (name[0] == '\0' || queue[0] == '\0') {
    fputs(usage, stderr);
    return 2;
  }
  if (server_open_data(&cfg, 1, 0) != 0)
    return 1;
  sqlite3 *db = db_acquire();
  char token[128];
  enum app_status s = add ? db_worker_token_add(db, name, queue, app_now(), token, sizeof(token))
                          : db_worker_token_revoke(db, name, app_now());
  db_release(db);
  db_pool_close();
  if (s == APP_CONFLICT || s == APP_NOT_FOUND) {
    fprintf(stderr, "concours worker-token: %s\n",
            s == APP_CONFLICT ? "a token of that name exists (revoke it, or choose another name)" : "no such token");
    return 2;
  }
  if (s != APP_OK) {
    fprintf(stderr, "concours worker-token: the database refused the change\n");
    return 1;
  }
  if (add)
    printf("%s\n", token); /* shown once: only its hash is kept */
  else
    printf("worker token %s revoked: its workers get 401 from now on\n", name);
  return 0;
}

/* Reads one line (the password) from stdin into OUT. Returns 0 or -1. */
static int read_password_stdin(char *out, size_t n)
{
  if (fgets(out, (int)n, stdin) == NULL)
    return -1;
  out[strcspn(out, "\r\n")] = '\0';
  return 0;
}

int cli_user(int argc, char **argv)
{
  struct app_config cfg;
  char name[64] = "", role_name[32] = "", email[300] = "", password[300] = "", hash[AUTH_HASH_MAX];
  int from_stdin = 0;
  enum app_role role;
  int64_t id = 0;
  app_config_defaults(&cfg);
  if (argc < 2 || strcmp(argv[1], "add") != 0) {
    fprintf(stderr, "usage: concours user add NAME --role participant|organizer|jury|admin [--data DIR] "
                    "[--email E] [--password-stdin]\n");
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    int rc = 0;
    if (strcmp(argv[i], "--data") == 0)
      rc = opt_value(argc, argv, &i, cfg.data_dir, sizeof(cfg.data_dir));
    else if (strcmp(argv[i], "--role") == 0)
      rc = opt_value(argc, argv, &i, role_name, sizeof(role_name));
    else if (strcmp(argv[i], "--email") == 0)
      rc = opt_value(argc, argv, &i, email, sizeof(email));
    else if (strcmp(argv[i], "--password-stdin") == 0)
      from_stdin = 1;
    else if (argv[i][0] != '-' && name[0] == '\0')
      rc = util_strlcpy(name, argv[i], sizeof(name));
    else {
      fprintf(stderr, "concours user add: unexpected argument %s\n", argv[i]);
      return 2;
    }
    if (rc != 0)
      return 2;
  }
  if (auth_check_username(name) != APP_OK) {
    fprintf(stderr, "concours user add: NAME must be 3 to 32 characters among A-Z a-z 0-9 _ . -\n");
    return 2;
  }
  if (app_role_parse(role_name, &role) != 0) {
    fprintf(stderr, "concours user add: --role must be participant, organizer, jury or admin\n");
    return 2;
  }
  if (email[0] == '\0')
    snprintf(email, sizeof(email), "%s@localhost", name);
  if (auth_check_email(email) != APP_OK) {
    fprintf(stderr, "concours user add: --email must look like name@example.org\n");
    return 2;
  }
  if (from_stdin) {
    if (read_password_stdin(password, sizeof(password)) != 0 || auth_check_password(password) != APP_OK) {
      fprintf(stderr, "concours user add: the password on stdin must be 10 to 256 characters, "
                      "not one character repeated\n");
      return 2;
    }
  } else if (util_random_token(15, password, sizeof(password)) != 0) {
    fprintf(stderr, "concours user add: cannot generate a password\n");
    return 1;
  }
  if (auth_hash_password(password, hash) != 0) {
    fprintf(stderr, "concours user add: cannot hash the password\n");
    return 1;
  }
  if (server_open_data(&cfg, 1, 0) != 0)
    return 1;
  sqlite3 *db = db_acquire();
  enum app_status s = db_user_create(db, name, email, role, hash, &id);
  db_release(db);
  db_pool_close();
  if (s == APP_USERNAME_TAKEN) {
    fprintf(stderr, "concours user add: the username %s is taken\n", name);
    return 2;
  }
  if (s != APP_OK) {
    fprintf(stderr, "concours user add: cannot create the user\n");
    return 1;
  }
  printf("created %s %s (id %lld)\n", app_role_name(role), name, (long long)id);
  if (!from_stdin)
    printf("password: %s\n(shown once: store it now)\n", password);
  return 0;
}

int cli_verify(int argc, char **argv)
{
  size_t len = 0;
  char *doc = NULL, *sig = NULL, *pem = NULL;
  int rc = 2;
  if (argc != 4) {
    fprintf(stderr, "usage: concours verify RANKING SIG KEY\n"
                    "  RANKING: the bytes of GET /api/v1/challenges/SLUG/ranking\n"
                    "  SIG: GET .../ranking.sig (base64)   KEY: GET /api/v1/signing-key (PEM)\n");
    return 2;
  }
  doc = util_read_file(argv[1], 64 * 1024 * 1024, &len);
  sig = util_read_file(argv[2], 4096, NULL);
  pem = util_read_file(argv[3], 65536, NULL);
  if (doc == NULL || sig == NULL || pem == NULL) {
    fprintf(stderr, "concours verify: cannot read %s\n", doc == NULL ? argv[1] : sig == NULL ? argv[2] : argv[3]);
    goto out;
  }
  int ok = sign_verify(doc, len, sig, pem);
  if (ok == 1) {
    printf("signature OK: %s was signed by this key\n", argv[1]);
    rc = 0;
  } else {
    fprintf(stderr, "concours verify: signature INVALID (%s)\n",
            ok == 0 ? "the file or signature was changed, or "
                      "another key signed it"
                    : "the key could not be read");
    rc = 1;
  }
out:
  free(doc);
  free(sig);
  free(pem);
  return rc;
}

int cli_audit(int argc, char **argv)
{
  struct app_config cfg;
  int64_t bad = 0;
  app_config_defaults(&cfg);
  if (argc < 2 || strcmp(argv[1], "verify") != 0) {
    fprintf(stderr, "usage: concours audit verify [--data DIR]\n");
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--data") == 0) {
      if (opt_value(argc, argv, &i, cfg.data_dir, sizeof(cfg.data_dir)) != 0)
        return 2;
    } else {
      fprintf(stderr, "concours audit verify: unexpected argument %s\n", argv[i]);
      return 2;
    }
  }
  if (server_open_data(&cfg, 1, 0) != 0)
    return 2;
  sqlite3 *db = db_acquire();
  int64_t n = db_audit_verify(db, &bad);
  db_release(db);
  db_pool_close();
  if (n >= 0) {
    printf("audit log intact: %lld entries, hash chain verified\n", (long long)n);
    return 0;
  }
  if (bad > 0)
    fprintf(stderr,
            "concours audit verify: entry %lld does not match its hash: the log was altered at or before "
            "it\n",
            (long long)bad);
  else
    fprintf(stderr, "concours audit verify: cannot read the audit log\n");
  return 1;
}

int cli_backup(int argc, char **argv)
{
  static const char usage[] = "usage: concours backup DEST [--data DIR]      (while the server runs)\n"
                              "       concours backup verify DIR\n"
                              "       concours restore SRC [--data DIR]     (into a new or empty data folder)\n";
  struct app_config cfg;
  struct backup_report rep;
  char err[1024] = "", target[APP_PATH_MAX] = "";
  int restore = strcmp(argv[0], "restore") == 0, verify = !restore && argc >= 2 && strcmp(argv[1], "verify") == 0;
  app_config_defaults(&cfg);
  for (int i = verify ? 2 : 1; i < argc; i++) {
    if (!verify && strcmp(argv[i], "--data") == 0) {
      if (opt_value(argc, argv, &i, cfg.data_dir, sizeof(cfg.data_dir)) != 0)
        return 2;
    } else if (argv[i][0] != '-' && target[0] == '\0') {
      if (util_strlcpy(target, argv[i], sizeof(target)) != 0) {
        fprintf(stderr, "concours %s: the path is too long\n", argv[0]);
        return 2;
      }
    } else {
      fputs(usage, stderr);
      return 2;
    }
  }
  if (target[0] == '\0') {
    fputs(usage, stderr);
    return 2;
  }
  int rc = verify    ? backup_verify(target, &rep, err, sizeof(err))
           : restore ? backup_restore(target, cfg.data_dir, &rep, err, sizeof(err))
                     : backup_create(cfg.data_dir, target, &rep, err, sizeof(err));
  if (rc != 0) {
    fprintf(stderr, "concours %s: %s\n", verify ? "backup verify" : argv[0], err);
    return 1;
  }
  printf("%s %s: %ld submissions, %ld challenges, %ld files, %lld bytes, integrity and SHA-256 checked\n",
         verify    ? "verified"
         : restore ? "restored into"
                   : "backed up into",
         verify || !restore ? target : cfg.data_dir, rep.submissions, rep.challenges, rep.files, (long long)rep.bytes);
  return 0;
}
