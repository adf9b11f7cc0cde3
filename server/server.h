/* server.h: `concours serve`: opens the data folder and database, imports the bundles, starts CivetWeb and
 * the scoring workers, and stops all of it cleanly on SIGINT/SIGTERM. */
#ifndef CONCOURS_SERVER_H
#define CONCOURS_SERVER_H

#include "app.h"

/* Runs the server with CFG until SIGINT or SIGTERM. Returns the process exit code (0 after a clean stop). */
int server_run(struct app_config *cfg);

/* Opens the data folder and the database pool for CFG (shared by serve and the admin commands). Returns 0, or
 * -1 after printing why. */
int server_open_data(struct app_config *cfg, int pool_size);

#endif
