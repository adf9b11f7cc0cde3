/* main.c: the `concours` command: parses the subcommand and hands over to cli.c. */
#include <stdio.h>
#include <string.h>

#include "anon.h"
#include "cli.h"

int main(int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    cli_usage();
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("concours %s\n", CONCOURS_VERSION);
    return 0;
  }
  if (strcmp(argv[1], "serve") == 0)
    return cli_serve(argc - 1, argv + 1);
  if (strcmp(argv[1], "challenge") == 0)
    return cli_challenge(argc - 1, argv + 1);
  if (strcmp(argv[1], "user") == 0)
    return cli_user(argc - 1, argv + 1);
  if (strcmp(argv[1], "verify") == 0)
    return cli_verify(argc - 1, argv + 1);
  if (strcmp(argv[1], "audit") == 0)
    return cli_audit(argc - 1, argv + 1);
  if (strcmp(argv[1], "backup") == 0 || strcmp(argv[1], "restore") == 0)
    return cli_backup(argc - 1, argv + 1);
  if (strcmp(argv[1], "runtime") == 0)
    return cli_runtime(argc - 1, argv + 1);
  if (strcmp(argv[1], "worker-token") == 0)
    return cli_worker_token(argc - 1, argv + 1);
  if (strcmp(argv[1], "worker") == 0)
    return worker_main(argc - 1, argv + 1);
  if (strcmp(argv[1], "dataset") == 0)
    return anon_cli_main(argc - 1, argv + 1);
  fprintf(stderr, "concours: unknown command %s (see concours --help)\n", argv[1]);
  return 2;
}
