/* test_i18n.c: the server's French messages (server/i18n.c). A test catalogue in a temporary web folder: the
 * language an Accept-Language asks for (q-values, regions, wildcards, junk), a format translated with its
 * conversions kept, a translation whose conversions differ dropped at load (it could read past the arguments), and
 * a message written earlier in English translated back line by line, its values (one of them a message itself)
 * carried over. Then the real catalogue of the tree (web/i18n/fr.json) loads with nothing dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "i18n.h"

static int write_catalogue(const char *dir, const char *json)
{
  char path[512];
  snprintf(path, sizeof(path), "%s/i18n", dir);
  if (mkdir(path, 0700) != 0)
    return -1;
  snprintf(path, sizeof(path), "%s/i18n/fr.json", dir);
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return -1;
  fputs(json, f);
  return fclose(f);
}

static const char catalogue[] =
  "{\"ui\": {\"Submit\": \"Soumettre\"}, \"server\": {"
  "\"no such challenge\": \"ce challenge n’existe pas\","
  "\"line %zu: %s\": \"ligne %zu : %s\","
  "\"line %zu: the id is %s\": \"ligne %zu : l’identifiant est %s\","
  "\"the line is too long\": \"la ligne est trop longue\", \"empty\": \"vide\","
  "\"%zu problems in the prediction file:\": \"%zu problèmes dans le fichier de prédictions :\","
  "\"... and %zu more\": \"... et %zu de plus\","
  "\"header: column '%s' appears twice\": \"en-tête : la colonne '%s' apparaît deux fois\","
  "\"bad %d then %s\": \"mauvais %s puis %d\","
  "\"100%% sure of %s\": \"sûr à 100%% de %s\""
  "}}";

int main(int argc, char **argv)
{
  char out[512];
  size_t dropped = 99;
  char err[256];
  if (check_begin() != 0)
    return 1;

  /* the language of an Accept-Language header */
  CHECK(i18n_pick(NULL) == I18N_EN);
  CHECK(i18n_pick("") == I18N_EN);
  CHECK(i18n_pick("fr") == I18N_FR);
  CHECK(i18n_pick("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7") == I18N_FR);
  CHECK(i18n_pick("en-GB,fr;q=0.9") == I18N_EN);
  CHECK(i18n_pick("de-DE,fr;q=0.5,en;q=0.4") == I18N_FR); /* German unknown: the best of the two */
  CHECK(i18n_pick("en;q=0.2, FR-ca;q=0.8") == I18N_FR);
  CHECK(i18n_pick("en;q=0.9, fr; q=0.95") == I18N_FR); /* a space after ';' */
  CHECK(i18n_pick("fr ; q=0.1, en ; q=0.5") == I18N_EN);
  CHECK(i18n_pick("fr;q=0, en") == I18N_EN); /* q=0: not acceptable */
  CHECK(i18n_pick("fr;q=0.000") == I18N_EN);
  CHECK(i18n_pick("french") == I18N_EN); /* "fr" must be a whole subtag */
  CHECK(i18n_pick("*;q=0.5, fr;q=0.6") == I18N_FR);
  CHECK(i18n_pick(";;;,,,q=,fr;q=1.5") == I18N_FR);
  char junk[4096];
  memset(junk, 'x', sizeof(junk) - 1);
  junk[sizeof(junk) - 1] = '\0';
  CHECK(i18n_pick(junk) == I18N_EN);

  /* before any catalogue: English, whatever is asked */
  CHECK(strcmp(i18n_format(I18N_FR, "no such challenge"), "no such challenge") == 0);
  i18n_text(I18N_FR, "line 3: the id is empty", out, sizeof(out));
  CHECK(strcmp(out, "line 3: the id is empty") == 0);

  /* a missing catalogue is an error that says which file */
  CHECK(i18n_load(tmpdir, NULL, err, sizeof(err)) == -1 && strstr(err, "fr.json") != NULL);

  CHECK(write_catalogue(tmpdir, catalogue) == 0);
  CHECK(i18n_load(tmpdir, &dropped, err, sizeof(err)) == 0);
  CHECK(dropped == 1); /* "bad %d then %s" swaps its conversions */
  CHECK(!i18n_has("bad %d then %s"));
  CHECK(i18n_has("line %zu: %s"));
  CHECK(!i18n_has("Submit")); /* the pages' texts are not the server's */

  /* formats */
  CHECK(strcmp(i18n_format(I18N_FR, "no such challenge"), "ce challenge n’existe pas") == 0);
  CHECK(strcmp(i18n_format(I18N_EN, "no such challenge"), "no such challenge") == 0);
  CHECK(strcmp(i18n_format(I18N_FR, "not in the catalogue"), "not in the catalogue") == 0);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral" /* the point: a translated format, checked at load */
  snprintf(out, sizeof(out), i18n_format(I18N_FR, "line %zu: the id is %s"), (size_t)12, "vide");
#pragma GCC diagnostic pop
  CHECK(strcmp(out, "ligne 12 : l’identifiant est vide") == 0);

  /* written messages, matched back */
  i18n_text(I18N_FR, "no such challenge", out, sizeof(out));
  CHECK(strcmp(out, "ce challenge n’existe pas") == 0);
  i18n_text(I18N_FR, "line 7: the line is too long", out, sizeof(out)); /* a value that is a message itself */
  CHECK(strcmp(out, "ligne 7 : la ligne est trop longue") == 0);
  i18n_text(I18N_FR, "line 7: something else", out, sizeof(out)); /* a value that is not: kept */
  CHECK(strcmp(out, "ligne 7 : something else") == 0);
  i18n_text(I18N_FR, "line x: something", out, sizeof(out)); /* %zu takes digits only */
  CHECK(strcmp(out, "line x: something") == 0);
  i18n_text(I18N_FR,
            "3 problems in the prediction file:\n- line 2: the id is empty\n- header: column 'p' appears "
            "twice\n- ... and 1 more",
            out, sizeof(out));
  CHECK(strcmp(out, "3 problèmes dans le fichier de prédictions :\n- ligne 2 : l’identifiant est vide\n- en-tête : "
                    "la colonne 'p' apparaît deux fois\n- ... et 1 de plus") == 0);
  i18n_text(I18N_FR, "100% sure of it", out, sizeof(out));
  CHECK(strcmp(out, "sûr à 100% de it") == 0);
  i18n_text(I18N_FR, "an unknown message\n\nand an empty line", out, sizeof(out));
  CHECK(strcmp(out, "an unknown message\n\nand an empty line") == 0);
  i18n_text(I18N_EN, "no such challenge", out, sizeof(out));
  CHECK(strcmp(out, "no such challenge") == 0);
  /* a short buffer: cut, terminated */
  char small[8];
  i18n_text(I18N_FR, "no such challenge", small, sizeof(small));
  CHECK(strlen(small) == 7);
  /* a long line of many colons does not make the matcher crawl or crash */
  static char colons[4000];
  memset(colons, ':', sizeof(colons) - 1);
  memcpy(colons, "line 1: ", 8);
  i18n_text(I18N_FR, colons, out, sizeof(out));
  CHECK(strncmp(out, "line 1: ", 8) == 0); /* longer than a line is matched: kept */

  /* a broken catalogue: an error, and the server keeps English */
  char path[512];
  snprintf(path, sizeof(path), "%s/i18n/fr.json", tmpdir);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f != NULL) {
    fputs("{\"server\": {\"a\": 1}}", f);
    fclose(f);
  }
  CHECK(i18n_load(tmpdir, NULL, err, sizeof(err)) == -1 && strstr(err, "not a string") != NULL);
  CHECK(strcmp(i18n_format(I18N_FR, "no such challenge"), "no such challenge") == 0);

  /* the tree's own catalogue: every translation keeps its key's conversions */
  if (argc > 1) {
    CHECK(i18n_load(argv[1], &dropped, err, sizeof(err)) == 0);
    CHECK(dropped == 0);
    CHECK(i18n_has("no such challenge"));
  }
  i18n_free();
  return check_end("i18n");
}
