/* csvout.h: CSV exports for spreadsheets. Every cell is quoted per RFC 4180, and a cell that a spreadsheet would
 * run as a formula (starting with =, +, -, @, tab or CR) is prefixed with ' (SECURITY.md §23). */
#ifndef CONCOURS_CSVOUT_H
#define CONCOURS_CSVOUT_H

#include <jansson.h>
#include <stddef.h>

/* Renders ROWS (an array of objects) as CSV with the header COLS (N column names, also the object keys).
 * Numbers use up to 15 significant digits, true/false as 1/0, null and absent as empty cells, arrays and objects
 * as their compact JSON. Returns a malloc'd NUL-terminated string (*LEN its length) the caller frees, or NULL. */
char *csvout_render(json_t *rows, const char *const cols[], size_t n, size_t *len);
/* The same, the header row only when HEADER: the parts of a CSV streamed in batches. */
char *csvout_render_rows(json_t *rows, const char *const cols[], size_t n, int header, size_t *len);

#endif
