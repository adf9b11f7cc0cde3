/* cli.h: the admin commands of `concours`: challenge import and user add. Each parses its own options and
 * returns the process exit code (0 ok, 1 failure, 2 usage or invalid input). */
#ifndef CONCOURS_CLI_H
#define CONCOURS_CLI_H

int cli_challenge(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_verify(int argc, char **argv);
int cli_audit(int argc, char **argv);
/* `concours backup DEST [--data DIR]`, `concours backup verify DIR`, `concours restore SRC [--data DIR]`. */
int cli_backup(int argc, char **argv);
int cli_runtime(int argc, char **argv);
int cli_worker_token(int argc, char **argv);
/* concours worker (worker.c). */
int worker_main(int argc, char **argv);
void cli_usage(void);

#endif
