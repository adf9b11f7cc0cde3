/* anon_cli_driver.c: runs `concours dataset ...` through anon_cli_main() until the server's main.c
 * dispatches to it, so the tests drive exactly the code path users will. No logic of its own. */
#include "anon.h"

int main(int argc, char **argv)
{
  return anon_cli_main(argc - 1, argv + 1);
}
