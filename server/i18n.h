/* i18n.h: the server's messages in the reader's language (English or French).
 *
 * The catalogues are data, one file per language: WEB/i18n/en.json and WEB/i18n/fr.json, the same files the
 * browser pages read (their "ui" part; the server reads the "server" part). Each maps a key, the English source
 * text, to the text in its language (as gettext's msgid does). A key may hold printf conversions ("line %zu: the id is %s"); its translation must then hold the same
 * conversions, in the same order, or it is dropped at load (and tests/i18n refuses the catalogue), so a
 * catalogue can never make a message read past its arguments.
 *
 * Two ways in: i18n_format gives the translated format of a message about to be written; i18n_text translates
 * a message written earlier in English (the scorer's errors stored with a submission), line by line, by matching
 * each line against the keys and re-filling the translation with the values it held.
 *
 * The catalogue is loaded once before the server's threads start and only read afterwards. */
#ifndef CONCOURS_I18N_H
#define CONCOURS_I18N_H

#include <stddef.h>

enum i18n_lang { I18N_EN = 0, I18N_FR = 1 };

/* Loads the "server" part of WEB_DIR/i18n/fr.json (English needs none: its texts are the keys). 0 on success; -1 with ERR filled
 * when the file is missing or not a JSON object of strings. Entries whose conversions differ from their key's are
 * skipped and counted in *DROPPED (may be NULL). Calling it again replaces the catalogue. */
int i18n_load(const char *web_dir, size_t *dropped, char *err, size_t errlen);

/* Frees the catalogue (safe when none is loaded). */
void i18n_free(void);

/* The language an Accept-Language header asks for (RFC 9110 §12.5.4, q-values honoured, the first of the best
 * among "fr" and "en"); English when the header is NULL, empty, malformed or names neither. */
enum i18n_lang i18n_pick(const char *accept_language);

/* "en" or "fr". */
const char *i18n_code(enum i18n_lang lang);

/* The format to use for FMT in LANG: its translation (same conversions), or FMT itself when LANG is English or
 * the catalogue has no such key. Never NULL; the pointer lives as long as the catalogue. */
const char *i18n_format(enum i18n_lang lang, const char *fmt);

/* snprintf into OUT (size N) with FMT's format in LANG (i18n_format): the mails the server writes. */
void i18n_snprintf(enum i18n_lang lang, char *out, size_t n, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

/* 1 when FMT is a key of the catalogue (for LANG French), else 0. */
int i18n_has(const char *fmt);

/* Translates TEXT, written in English, into OUT (size N, always terminated; cut at N-1 bytes): each line (a
 * leading "- " kept) that is a key, or that a key with conversions matches, becomes its translation with the
 * values it held, a value that is itself a key translated too. Lines that match nothing are kept as they are.
 * With LANG English OUT is TEXT. */
void i18n_text(enum i18n_lang lang, const char *text, char *out, size_t n);

#endif
