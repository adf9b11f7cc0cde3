/* versions.c: see versions.h. */
#include "versions.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "util.h"

#define VERSIONS_HOLDS_MAX 128 /* each queue thread holds one version at a time: 64 at most */

/* The version folders runs of this process read, with their counts. LOCK also makes a hold's read of the row and
 * the sweep's look at a folder (its holds, its row, its rename) happen one after the other. */
static struct {
  pthread_mutex_t lock;
  struct {
    char dir[sizeof(((struct challenge *)0)->dir)];
    int count;
  } held[VERSIONS_HOLDS_MAX];
} v = {PTHREAD_MUTEX_INITIALIZER, {{"", 0}}};

enum app_status versions_get_held(sqlite3 *db, const char *slug, struct challenge *c)
{
  pthread_mutex_lock(&v.lock);
  enum app_status s = db_challenge_get(db, slug, c);
  int free_slot = -1, i;
  for (i = 0; s == APP_OK && i < VERSIONS_HOLDS_MAX; i++) {
    if (v.held[i].count > 0 && strcmp(v.held[i].dir, c->dir) == 0)
      break;
    if (v.held[i].count == 0 && free_slot < 0)
      free_slot = i;
  }
  if (s == APP_OK && i < VERSIONS_HOLDS_MAX) {
    v.held[i].count++;
  } else if (s == APP_OK && free_slot >= 0) {
    util_strlcpy(v.held[free_slot].dir, c->dir, sizeof(v.held[free_slot].dir));
    v.held[free_slot].count = 1;
  } else if (s == APP_OK) {
    s = APP_INTERNAL;
  }
  pthread_mutex_unlock(&v.lock);
  return s;
}

void versions_release(const char *dir)
{
  pthread_mutex_lock(&v.lock);
  for (int i = 0; i < VERSIONS_HOLDS_MAX; i++) {
    if (v.held[i].count > 0 && strcmp(v.held[i].dir, dir) == 0) {
      v.held[i].count--;
      break;
    }
  }
  pthread_mutex_unlock(&v.lock);
}

/* The import lock's file of the data folder DATA_DIR, or of the store's when it is NULL (DATA/import.lock), opened
 * with FLAGS (O_RDWR | O_CREAT, or O_RDONLY: enough for a flock) for a flock of its own. Returns the descriptor, or
 * -1 (errno set by open() when the path fits). */
static int lock_file(const char *data_dir, int flags)
{
  char path[APP_PATH_MAX];
  if (data_dir != NULL ? util_fmt(path, sizeof(path), "%s/import.lock", data_dir) != 0
                       : store_path(path, sizeof(path), "import.lock") != 0)
    return -1;
  return open(path, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* FD (a lock file's descriptor, or -1) locked shared. Returns it, or -1 (closed). */
static int lock_shared(int fd)
{
  while (fd >= 0 && flock(fd, LOCK_SH) != 0) {
    if (errno != EINTR) {
      close(fd);
      return -1;
    }
  }
  return fd;
}

int versions_import_begin(void)
{
  return lock_shared(lock_file(NULL, O_RDWR | O_CREAT));
}

int versions_keep_all(const char *data_dir)
{
  struct stat st;
  /* read-only: the server's lock file stays as it is, whoever runs the backup */
  int fd = lock_file(data_dir, O_RDONLY);
  if (fd < 0 && errno == ENOENT) {
    fd = lock_file(data_dir, O_RDWR | O_CREAT);
    /* created here: the data folder's owner keeps the right to open it (a backup run as root beside a server
     * that is not) */
    if (fd >= 0 && stat(data_dir, &st) == 0 && fchown(fd, st.st_uid, st.st_gid) != 0) {
      /* only root may give a file away: for anyone else it stays theirs, and the backup goes on */
    }
  }
  return lock_shared(fd);
}

void versions_import_end(int fd)
{
  if (fd >= 0)
    close(fd); /* the lock goes with its descriptor */
}

/* Whether the version folder REL may go: no hold, no row (the caller holds v.lock). 1 yes, 0 no, -1 unknown. */
static int unused(sqlite3 *db, const char *rel)
{
  for (int i = 0; i < VERSIONS_HOLDS_MAX; i++)
    if (v.held[i].count > 0 && strcmp(v.held[i].dir, rel) == 0)
      return 0;
  int current = db_challenge_dir_current(db, rel);
  return current < 0 ? -1 : !current;
}

/* Sweeps the version folders of the challenge folder SLUG: each unused one is renamed into tmp/ under v.lock, then
 * removed. Adds to *REMOVED; returns -1 when the database could not say of one. */
static int sweep_slug(sqlite3 *db, const char *slug, int *removed)
{
  char rel[APP_PATH_MAX], path[APP_PATH_MAX], gone[APP_PATH_MAX], rnd[32];
  int rc = 0;
  if (util_fmt(rel, sizeof(rel), "challenges/%s", slug) != 0 || store_path(path, sizeof(path), rel) != 0)
    return 0;
  DIR *d = opendir(path);
  if (d == NULL)
    return 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || util_fmt(rel, sizeof(rel), "challenges/%s/%s", slug, e->d_name) != 0 ||
        store_path(path, sizeof(path), rel) != 0)
      continue;
    pthread_mutex_lock(&v.lock);
    int may = unused(db, rel);
    int moved = may == 1 && util_random_token(9, rnd, sizeof(rnd)) == 0 &&
                util_fmt(gone, sizeof(gone), "%s/tmp/gone-%s", store_data_dir(), rnd) == 0 && rename(path, gone) == 0;
    pthread_mutex_unlock(&v.lock);
    if (may < 0)
      rc = -1;
    if (moved) {
      store_remove_tree(gone);
      (*removed)++;
    }
  }
  closedir(d);
  return rc;
}

int versions_sweep(sqlite3 *db)
{
  char root[APP_PATH_MAX];
  int fd = lock_file(NULL, O_RDWR | O_CREAT), removed = 0, rc = 0;
  if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) { /* an import runs: its folder has no row yet */
    if (fd >= 0)
      close(fd);
    return fd >= 0 ? 0 : -1;
  }
  DIR *d = store_path(root, sizeof(root), "challenges") == 0 ? opendir(root) : NULL;
  struct dirent *e;
  while (d != NULL && (e = readdir(d)) != NULL) {
    if (e->d_name[0] != '.' && sweep_slug(db, e->d_name, &removed) != 0)
      rc = -1;
  }
  if (d != NULL)
    closedir(d);
  close(fd);
  return rc < 0 ? -1 : removed;
}
