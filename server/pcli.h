/* pcli.h: `concours-cli`, the participant's command line (see pcli.c and docs/cli.md). */
#ifndef CONCOURS_PCLI_H
#define CONCOURS_PCLI_H

/* Runs concours-cli with ARGC/ARGV; returns its exit code (0 done, 1 the submission failed, 2 usage, 3 refused by
 * the server, 4 the server cannot be reached or failed). */
int pcli_main(int argc, char **argv);

#endif
