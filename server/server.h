/* server.h: `concours serve`: opens the data folder and database, imports the bundles, starts CivetWeb and
 * the scoring workers, and stops all of it cleanly on SIGINT/SIGTERM. */
#ifndef CONCOURS_SERVER_H
#define CONCOURS_SERVER_H

#include "app.h"
#include "bundle.h"

/* Runs the server with CFG until SIGINT or SIGTERM. Returns the process exit code (0 after a clean stop). */
int server_run(struct app_config *cfg);

/* Opens the data folder and the database pool for CFG (shared by serve and the admin commands). OWNER: the caller
 * holds the data folder's lock (server_lock_data), and the folder's leftovers in tmp/ go (store_init). Returns 0,
 * or -1 after printing why. */
int server_open_data(struct app_config *cfg, int pool_size, int owner);

/* Takes the data folder's lock (DATA/concours.lock, flock) for the life of the process, so that two servers
 * never share a data folder. Returns 0, or -1 after printing why (another server holds it). */
int server_lock_data(const char *data_dir);
/* Takes the data folder's lock when no server holds it, for a command that does what only the folder's owner may
 * (versions_sweep()). Returns its descriptor (close it to give the lock back), or -1 (a server runs). */
int server_lock_try(const char *data_dir);

/* Prints to stdout what the import RES of the bundle at PATH did (new, unchanged, changed and not applied with
 * the command that applies it, updated). */
void server_print_import(const char *path, const struct bundle_result *res, const char *data_dir);

#endif
