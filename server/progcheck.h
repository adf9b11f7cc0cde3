/* progcheck.h: what an organizer's scoring program needs, checked at import rather than found out by the first
 * submission's crash (issue 13: CodaLab programs in Python 2, in Ruby, or importing packages the host lacks).
 *
 * Two checks, neither of which runs the organizer's code:
 * - the command's interpreter (its first word, after NAME=value assignments) must exist in the host's /usr,
 *   which is what the sandbox sees (or in the program's runtime, metric.runtime): `ruby`, `Rscript` or `octave` on a host without them is named;
 * - every .py file of the program is parsed by the host's python3 (ast.parse: nothing is executed) for Python 2
 *   syntax and other syntax errors, naming the file and line, and its module-level imports (outside try blocks
 *   that catch ImportError) are looked up with importlib.util.find_spec: a module neither the host's Python nor
 *   the program's own files provide is named with its line. */
#ifndef CONCOURS_PROGCHECK_H
#define CONCOURS_PROGCHECK_H

#include "bundle.h"

/* Which organizer's program is checked: it decides whether imports are looked up and which runtime key messages
 * name. */
enum progcheck_program {
  PROGCHECK_SCORING,  /* the scoring program: its imports are looked up; its runtime is metric.runtime */
  PROGCHECK_INGESTION /* an ingestion program: it imports the participant's code, unknown at import, so its imports
                         are not looked up; it runs on the code's runtime, submission.runtime */
};

/* Checks the program folder DIR of kind WHICH (its files named in problems as PREFIX/relpath, e.g.
 * "scoring_program") run by the command CMD (as sandbox_program_command read it) on ROOTFS: NULL for the host's
 * /usr, the root file system of the program's runtime (its commands and its Python folders are looked up instead;
 * the host's python3 still does the parsing), or "" for a runtime not built yet (syntax only). Each finding is added
 * to P. Returns the number added, or -1 when the Python check could not run (nothing added: the import goes on
 * without it). */
int progcheck_run(const char *dir, const char *prefix, const char *cmd, const char *rootfs,
                  enum progcheck_program which, struct bundle_problems *p);

#endif
