/* pcli_main.c: the entry of `concours-cli` (pcli.c), a program of its own so that participants install a small
 * client, not the server. */
#include "pcli.h"

int main(int argc, char **argv)
{
  return pcli_main(argc, argv);
}
