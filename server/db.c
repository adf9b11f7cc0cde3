/* db.c: the connection pool (see db.h) and the statements it keeps per connection, the query-plan check of the
 * tests, and the helpers every db_*.c file shares (db_internal.h). The schema and db_open() are in db_schema.c, the
 * queries in db_*.c, one file per resource (accounts, challenges, submissions, the queue, teams, the jury...).
 * Every statement is prepared with bound parameters; nothing is ever formatted into SQL. */
#include "db.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "db_internal.h"
#include "db_memo.h"
#include "util.h"

void dbi_log(sqlite3 *db, const char *what)
{
  fprintf(stderr, "concours: database: %s: %s\n", what, db != NULL ? sqlite3_errmsg(db) : "no connection");
}

/* ---------------------------------------------------------------- pool */

#define POOL_MAX 128
static struct {
  pthread_mutex_t lock;
  pthread_cond_t freed;
  sqlite3 *conns[POOL_MAX];
  int nfree;
  int size;
  sqlite3 *all[POOL_MAX]; /* every pooled connection, by slot: set at init, then read without the lock */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {NULL}, 0, 0, {NULL}};

/* Prepared statements kept per pooled connection (issue 18: parsing the same SQL on every request cost a third of
 * a cached leaderboard read): dbi_prepare hands out an idle one whose SQL is the same text, dbi_finalize resets
 * it instead of finalizing it. Only the thread holding the connection touches its slot's table. */
#define STMT_CACHE 64
static struct stmt_slot {
  struct {
    const char *key; /* the caller's SQL pointer (a literal), checked against the statement's own text */
    sqlite3_stmt *st;
    int in_use;
  } e[STMT_CACHE];
  int n;
} stmt_cache[POOL_MAX];

static struct stmt_slot *slot_of(sqlite3 *db)
{
  for (int i = 0; db != NULL && i < POOL_MAX && pool.all[i] != NULL; i++) {
    if (pool.all[i] == db)
      return &stmt_cache[i];
  }
  return NULL;
}

int db_pool_init(const char *path, int size, char *err, size_t errlen)
{
  if (size < 1 || size > POOL_MAX) {
    snprintf(err, errlen, "database pool size %d out of range", size);
    return -1;
  }
  for (int i = 0; i < size; i++) {
    sqlite3 *db = db_open(path, err, errlen);
    if (db == NULL) {
      db_pool_close();
      return -1;
    }
    pool.all[i] = db;
    pool.conns[pool.nfree++] = db;
    pool.size++;
  }
  if (db_memo_open(pool.all[0]) != 0) /* a pooled connection in WAL mode has the index mapped */
    fprintf(stderr, "concours: note: the WAL index of %s cannot be read: every read goes to the database\n", path);
  return 0;
}

sqlite3 *db_acquire(void)
{
  pthread_mutex_lock(&pool.lock);
  while (pool.nfree == 0)
    pthread_cond_wait(&pool.freed, &pool.lock);
  sqlite3 *db = pool.conns[--pool.nfree];
  pthread_mutex_unlock(&pool.lock);
  return db;
}

void db_release(sqlite3 *db)
{
  if (db == NULL)
    return;
  pthread_mutex_lock(&pool.lock);
  pool.conns[pool.nfree++] = db;
  pthread_cond_signal(&pool.freed);
  pthread_mutex_unlock(&pool.lock);
}

void db_pool_close(void)
{
  db_memo_close();
  pthread_mutex_lock(&pool.lock);
  for (int i = 0; i < pool.nfree; i++) { /* a connection still held elsewhere keeps its statements (as before) */
    struct stmt_slot *slot = slot_of(pool.conns[i]);
    for (int k = 0; slot != NULL && k < slot->n; k++)
      sqlite3_finalize(slot->e[k].st);
    if (slot != NULL)
      slot->n = 0;
    sqlite3_close(pool.conns[i]);
    pool.conns[i] = NULL;
  }
  memset(pool.all, 0, sizeof(pool.all));
  pool.nfree = 0;
  pool.size = 0;
  pthread_mutex_unlock(&pool.lock);
}

/* ---------------------------------------------------------------- helpers */

static atomic_long fault_after = -1; /* db_fault_inject: -1 off, else statements left before faults */

void db_fault_inject(long after)
{
  atomic_store(&fault_after, after);
}

/* 1 when the statement about to run must fail (db_fault_inject). */
static int fault_now(void)
{
  long left = atomic_load(&fault_after);
  while (left > 0) {
    if (atomic_compare_exchange_weak(&fault_after, &left, left - 1))
      return 0;
  }
  return left == 0;
}

/* ---------------------------------------------------------------- query plans (tests) */

/* Tables that grow with the submissions: a statement must reach their rows through an index. */
static const char *const big_tables[] = {"submissions", "audit_log"};

/* True if NAME[0..LEN) is TABLE or an alias SQL gives it ("FROM submissions s", "JOIN audit_log AS a"). */
static int names_big_table(const char *sql, const char *name, size_t len, const char *table)
{
  static const char *const not_alias[] = {"WHERE",  "JOIN",  "ON",     "GROUP",   "ORDER",  "LIMIT",
                                          "LEFT",   "INNER", "CROSS",  "USING",   "SET",    "VALUES",
                                          "WINDOW", "UNION", "EXCEPT", "NATURAL", "INDEXED"};
  size_t tl = strlen(table);
  if (len == tl && strncmp(name, table, len) == 0)
    return 1;
  for (const char *at = strstr(sql, table); at != NULL; at = strstr(at + tl, table)) {
    const char *p = at + tl;
    if (at > sql && (at[-1] == '_' || (at[-1] >= 'a' && at[-1] <= 'z')))
      continue;
    while (*p == ' ')
      p++;
    if (strncmp(p, "AS ", 3) == 0)
      p += 3;
    size_t n = 0;
    while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') || p[n] == '_' ||
           (n > 0 && p[n] >= '0' && p[n] <= '9'))
      n++;
    int keyword = 0;
    for (size_t k = 0; k < sizeof(not_alias) / sizeof(not_alias[0]); k++)
      keyword |= strlen(not_alias[k]) == n && strncmp(p, not_alias[k], n) == 0;
    if (n == len && !keyword && strncmp(p, name, n) == 0)
      return 1;
  }
  return 0;
}

/* True if the plan step DETAIL ("SCAN s USING INDEX name", "... COVERING INDEX name") reads a partial index: only
 * the rows its condition keeps (ci_pending>0, disqualified_at IS NOT NULL), few by design. */
static int partial_index_scan(sqlite3 *db, const char *detail)
{
  const char *at = strstr(detail, " INDEX ");
  if (at == NULL)
    return 0;
  char name[64];
  size_t n = strcspn(at + 7, " ");
  if (n == 0 || n >= sizeof(name))
    return 0;
  memcpy(name, at + 7, n);
  name[n] = '\0';
  int partial = 0;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "SELECT sql LIKE '% WHERE %' FROM sqlite_master WHERE type='index' AND name=?", -1, &st,
                         NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
      partial = sqlite3_column_int(st, 0);
  }
  sqlite3_finalize(st);
  return partial;
}

/* With CONCOURS_SQL_PLAN_CHECK set (the HTTP tests set it), prints to stderr every statement whose plan reads a big
 * table whole ("concours: sql plan: full scan of TABLE: SQL"); the tests' harness fails a server that printed one.
 * Run once per statement text and connection (prepared statements are kept). */
static void plan_check(sqlite3 *db, const char *sql)
{
  static atomic_int wanted = -1;
  int w = atomic_load(&wanted);
  if (w < 0) {
    w = getenv("CONCOURS_SQL_PLAN_CHECK") != NULL;
    atomic_store(&wanted, w);
  }
  if (!w || strncmp(sql, "EXPLAIN", 7) == 0)
    return;
  char buf[64];
  sqlite3_stmt *st = NULL;
  char *q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
  if (q == NULL || sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
    sqlite3_free(q);
    sqlite3_finalize(st);
    return;
  }
  sqlite3_free(q);
  /* rows read in rowid order up to a LIMIT, with no condition: the scan stops after LIMIT rows */
  int bounded = strstr(sql, " LIMIT ") != NULL && strstr(sql, " WHERE ") == NULL;
  while (!bounded && sqlite3_step(st) == SQLITE_ROW) {
    const char *detail = (const char *)sqlite3_column_text(st, 3);
    if (detail == NULL || strncmp(detail, "SCAN ", 5) != 0 || partial_index_scan(db, detail))
      continue;
    const char *name = detail + 5;
    size_t len = strcspn(name, " ");
    for (size_t k = 0; k < sizeof(big_tables) / sizeof(big_tables[0]); k++) {
      if (names_big_table(sql, name, len, big_tables[k]) && util_fmt(buf, sizeof(buf), "%s", big_tables[k]) == 0)
        fprintf(stderr, "concours: sql plan: full scan of %s (%s): %s\n", buf, detail, sql);
    }
  }
  sqlite3_finalize(st);
}

sqlite3_stmt *dbi_prepare(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  if (fault_now()) {
    fprintf(stderr, "concours: database: injected fault: %s\n", sql);
    return NULL;
  }
  struct stmt_slot *slot = slot_of(db);
  for (int k = 0; slot != NULL && k < slot->n; k++) {
    if (slot->e[k].key == sql && !slot->e[k].in_use && strcmp(sqlite3_sql(slot->e[k].st), sql) == 0) {
      slot->e[k].in_use = 1;
      return slot->e[k].st;
    }
  }
  int keep = slot != NULL && slot->n < STMT_CACHE;
  if (sqlite3_prepare_v3(db, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL) != SQLITE_OK) {
    dbi_log(db, sql);
    sqlite3_finalize(st);
    return NULL;
  }
  plan_check(db, sql);
  if (keep) {
    slot->e[slot->n].key = sql;
    slot->e[slot->n].st = st;
    slot->e[slot->n].in_use = 1;
    slot->n++;
  }
  return st;
}

void dbi_finalize(sqlite3_stmt *st)
{
  struct stmt_slot *slot = st != NULL ? slot_of(sqlite3_db_handle(st)) : NULL;
  for (int k = 0; slot != NULL && k < slot->n; k++) {
    if (slot->e[k].st == st) {
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      slot->e[k].in_use = 0;
      return;
    }
  }
  sqlite3_finalize(st);
}

/* Runs a statement that returns no rows. 0 ok, SQLITE_CONSTRAINT for a constraint, -1 other errors. */
int dbi_step_done(sqlite3 *db, sqlite3_stmt *st)
{
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE)
    return 0;
  if ((rc & 0xff) == SQLITE_CONSTRAINT)
    return SQLITE_CONSTRAINT;
  dbi_log(db, sqlite3_sql(st));
  return -1;
}

json_t *dbi_rows(sqlite3 *db, sqlite3_stmt *st, dbi_row_fn row, void *arg)
{
  json_t *arr = json_array();
  int rc = SQLITE_ERROR;
  if (st == NULL || arr == NULL)
    goto fail;
  for (rc = sqlite3_step(st); rc == SQLITE_ROW; rc = sqlite3_step(st)) {
    if (json_array_append_new(arr, row(st, arg)) != 0)
      goto fail;
  }
  if (rc != SQLITE_DONE) {
    dbi_log(db, sqlite3_sql(st));
    goto fail;
  }
  dbi_finalize(st);
  return arr;
fail:
  dbi_finalize(st);
  json_decref(arr);
  return NULL;
}

void dbi_bind_text(sqlite3_stmt *st, int i, const char *s)
{
  if (s == NULL)
    sqlite3_bind_null(st, i);
  else
    sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

const char *dbi_col_text(sqlite3_stmt *st, int i)
{
  const unsigned char *t = sqlite3_column_text(st, i);
  return t != NULL ? (const char *)t : "";
}

json_t *dbi_col_time(sqlite3_stmt *st, int i)
{
  char buf[32];
  if (sqlite3_column_type(st, i) == SQLITE_NULL)
    return json_null();
  util_iso8601(sqlite3_column_int64(st, i), buf);
  return json_string(buf);
}

/* Rounds V to PRECISION decimals the same way for every response (and for ranking). */
double dbi_round(double v, int precision)
{
  double p = pow(10.0, precision);
  return round(v * p) / p;
}

json_t *dbi_col_score(sqlite3_stmt *st, int i, int precision)
{
  if (sqlite3_column_type(st, i) == SQLITE_NULL)
    return json_null();
  return json_real(dbi_round(sqlite3_column_double(st, i), precision));
}

int dbi_exec(sqlite3 *db, const char *sql)
{
  /* a ROLLBACK always runs: a fault there would leave the transaction open for the next user of the connection */
  if ((strcmp(sql, "ROLLBACK") != 0 && fault_now()) || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
    dbi_log(db, sql);
    return -1;
  }
  return 0;
}

enum app_status dbi_begin(sqlite3 *db)
{
  return dbi_exec(db, "BEGIN IMMEDIATE") == 0 ? APP_OK : APP_INTERNAL;
}

enum app_status dbi_finish(sqlite3 *db, enum app_status s)
{
  if (s == APP_OK && dbi_exec(db, "COMMIT") == 0)
    return APP_OK;
  if (!sqlite3_get_autocommit(db)) /* a failed COMMIT may have ended the transaction already */
    dbi_exec(db, "ROLLBACK");
  return s == APP_OK ? APP_INTERNAL : s;
}

enum app_status dbi_row(sqlite3 *db, sqlite3_stmt *st, dbi_fill_fn fill, void *arg, const char *what)
{
  enum app_status s = APP_INTERNAL;
  if (st == NULL)
    return APP_INTERNAL;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    s = fill(st, arg) == 0 ? APP_OK : APP_INTERNAL;
  else if (rc == SQLITE_DONE)
    s = APP_NOT_FOUND;
  else
    dbi_log(db, what);
  dbi_finalize(st);
  return s;
}

int dbi_memo_stamp(sqlite3 *db, unsigned char stamp[DB_MEMO_STAMP])
{
  return sqlite3_get_autocommit(db) && db_memo_stamp(stamp) == 0;
}

enum app_status dbi_memo_record(sqlite3 *db, const char *key, void *rec, size_t len, dbi_memo_read_fn read,
                                const void *arg)
{
  unsigned char stamp[DB_MEMO_STAMP];
  int stamped = key != NULL && dbi_memo_stamp(db, stamp);
  if (stamped && db_memo_record_get(key, stamp, rec, len))
    return APP_OK;
  enum app_status s = read(db, arg, rec);
  if (s == APP_OK && stamped)
    db_memo_record_put(key, stamp, rec, len);
  return s;
}
