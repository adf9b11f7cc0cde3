/* html.c: `concours dataset check --html`, the reports as one self-contained HTML page.
 *
 * For an organizer who prefers a browser to a terminal: per file its verdict, what was found where (column,
 * tag or attribute), by which rule, in which first rows, and the suggested fix; then warnings and failures.
 * Every string comes from a report (column names, tag names, file names: organizer data) and is HTML-escaped;
 * no cell value is ever in a report, so none is in the page.
 */
#include <stdio.h>
#include <string.h>

#include "anon_internal.h"

/* Writes s HTML-escaped. */
static int esc(FILE *out, const char *s)
{
  for (; s != NULL && *s != '\0'; s++) {
    const char *e = *s == '&'    ? "&amp;"
                    : *s == '<'  ? "&lt;"
                    : *s == '>'  ? "&gt;"
                    : *s == '"'  ? "&quot;"
                    : *s == '\'' ? "&#39;"
                                 : NULL;

    if (e != NULL ? fputs(e, out) < 0 : fputc(*s, out) < 0)
      return -1;
  }
  return 0;
}

static const char *str(const json_t *o, const char *key)
{
  const char *s = json_string_value(json_object_get(o, key));

  return s != NULL ? s : "";
}

/* A <ul class=cls> of the strings of list, or nothing when it is empty. */
static int string_list(FILE *out, const json_t *list, const char *cls)
{
  size_t i;
  json_t *e;

  if (json_array_size(list) == 0)
    return 0;
  if (fprintf(out, "<ul class=\"%s\">", cls) < 0)
    return -1;
  json_array_foreach(list, i, e)
  {
    if (fputs("<li>", out) < 0 || esc(out, json_string_value(e)) != 0 || fputs("</li>", out) < 0)
      return -1;
  }
  return fputs("</ul>\n", out) < 0 ? -1 : 0;
}

static int findings(FILE *out, const json_t *list)
{
  size_t i, r;
  json_t *e, *row;

  if (json_array_size(list) == 0)
    return 0;
  if (fputs("<table><thead><tr><th>where</th><th>rule</th><th>values</th><th>first rows</th><th>fix</th></tr>"
            "</thead><tbody>\n",
            out) < 0)
    return -1;
  json_array_foreach(list, i, e)
  {
    if (fputs("<tr><td>", out) < 0 || esc(out, str(e, "column")) != 0 || fputs("</td><td><code>", out) < 0 ||
        esc(out, str(e, "rule")) != 0 ||
        fprintf(out, "</code></td><td>%lld</td><td>", (long long)json_integer_value(json_object_get(e, "count"))) < 0)
      return -1;
    json_array_foreach(json_object_get(e, "rows"), r, row)
    {
      if (fprintf(out, "%s%lld", r == 0 ? "" : ", ", (long long)json_integer_value(row)) < 0)
        return -1;
    }
    if (fputs("</td><td>", out) < 0 || esc(out, str(e, "fix")) != 0 || fputs("</td></tr>\n", out) < 0)
      return -1;
  }
  return fputs("</tbody></table>\n", out) < 0 ? -1 : 0;
}

int anon_report_write_html(FILE *out, const json_t *reports)
{
  size_t i;
  json_t *rep;

  if (fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Anonymity check</title>\n"
            "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}"
            "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:.2rem .5rem;text-align:left}"
            ".failed{color:#a00}.passed{color:#060}.warnings{color:#555}</style></head><body>\n"
            "<h1>Anonymity check</h1>\n",
            out) < 0)
    return -1;
  json_array_foreach(reports, i, rep)
  {
    int passed = json_is_true(json_object_get(rep, "passed"));

    if (fputs("<section><h2>", out) < 0 || esc(out, str(rep, "file")) != 0 ||
        fprintf(out, " <span class=\"%s\">%s</span> <small>", passed ? "passed" : "failed",
                passed ? "passed" : "failed") < 0 ||
        esc(out, str(rep, "format")) != 0 || fputs("</small></h2>\n", out) < 0)
      return -1;
    if (json_object_get(rep, "k") != NULL && fprintf(out, "<p>%lld rows; k-anonymity %lld (k = %lld)</p>\n",
                                                     (long long)json_integer_value(json_object_get(rep, "rows")),
                                                     (long long)json_integer_value(json_object_get(rep, "k_anonymity")),
                                                     (long long)json_integer_value(json_object_get(rep, "k"))) < 0)
      return -1;
    if (findings(out, json_object_get(rep, "direct_identifiers")) != 0 ||
        string_list(out, json_object_get(rep, "failures"), "failures") != 0 ||
        string_list(out, json_object_get(rep, "warnings"), "warnings") != 0 || fputs("</section>\n", out) < 0)
      return -1;
  }
  return fputs("</body></html>\n", out) < 0 ? -1 : 0;
}
