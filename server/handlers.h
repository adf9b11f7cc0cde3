/* handlers.h: every API handler, grouped by resource (h_auth.c, h_challenges.c, h_submissions.c). Each is
 * called by the dispatcher in routes.c after the route's checks passed, and replies exactly once. */
#ifndef CONCOURS_HANDLERS_H
#define CONCOURS_HANDLERS_H

#include "http.h"

/* h_auth.c */
void h_users_create(struct req *r);
void h_sessions_create(struct req *r);
void h_sessions_delete(struct req *r);
void h_me(struct req *r);
void h_tokens_create(struct req *r);
void h_tokens_list(struct req *r);
void h_password_reset(struct req *r);
void h_password_reset_confirm(struct req *r);
void h_notifications(struct req *r);
void h_me_language(struct req *r);
void h_me_password(struct req *r);
void h_me_email(struct req *r);
void h_me_delete(struct req *r);
void h_announce(struct req *r);
void h_verify_resend(struct req *r);
void h_verify_confirm(struct req *r);
void h_token_revoke(struct req *r);

/* h_challenges.c */
void h_challenges_list(struct req *r);
void h_challenge_get(struct req *r);
void h_terms_accept(struct req *r);
void h_files_list(struct req *r);
void h_file_get(struct req *r);
void h_leaderboard(struct req *r);

/* h_submissions.c */
void h_submission_create(struct req *r);
void h_submissions_list(struct req *r);
void h_submission_get(struct req *r);

/* h_organizer.c: a challenge's state and staff */
void h_challenge_state(struct req *r);
void h_staff_list(struct req *r);
void h_staff_set(struct req *r);

/* h_teams.c */
void h_team_get(struct req *r);
void h_team_create(struct req *r);
void h_team_join(struct req *r);
void h_team_leave(struct req *r);
void h_selection_get(struct req *r);
void h_selection_put(struct req *r);

/* h_jury.c */
void h_review(struct req *r);
void h_review_export(struct req *r);
void h_submission_disqualify(struct req *r);
void h_submission_reinstate(struct req *r);
void h_team_disqualify(struct req *r);
void h_team_reinstate(struct req *r);
void h_submission_rescore(struct req *r);
void h_note_add(struct req *r);
void h_publish(struct req *r);
void h_ranking(struct req *r);
void h_ranking_sig(struct req *r);
void h_signing_key(struct req *r);
/* Replies ROWS (stolen) as JSON or, with ?format=csv, as a neutralised CSV attachment NAME.csv of columns COLS;
 * EXTRA: more header lines (each ending in CRLF) or NULL. */
void export_reply(struct req *r, json_t *rows, const char *const cols[], size_t ncols, const char *name,
                  const char *extra_headers);
/* The ?format= of an export: 1 for csv, 0 for json (the default), -1 after a 400 reply. */
int export_format_or_reply(struct req *r);

/* h_organizer.c */
void h_phase_update(struct req *r);
void h_challenge_rescore(struct req *r);
void h_queue_stats(struct req *r);
void h_export(struct req *r);
void h_submission_log(struct req *r);
/* remote workers (h_worker.c) */
void h_worker_claim(struct req *r);
void h_worker_file(struct req *r);
void h_worker_heartbeat(struct req *r);
void h_worker_log(struct req *r);
void h_worker_inputs(struct req *r);
void h_worker_release(struct req *r);
void h_worker_result(struct req *r);
void h_worker_failed(struct req *r);
void h_audit_list(struct req *r);
void h_role_set(struct req *r);

/* h_submissions.c (more) */
void h_submission_cancel(struct req *r);
void h_submission_cancel_staff(struct req *r);
void h_review_stability(struct req *r);
struct store_upload;
/* Begins U, streams the request body into it (at most MAX bytes) and finishes it (fsynced, SHA-256 computed): the
 * one way an upload arrives. Returns APP_OK, APP_TOO_LARGE, APP_EMPTY_FILE, APP_NO_SPACE, APP_INTERNAL, or
 * APP_BAD_REQUEST when the client went away before its Content-Length. The caller commits or aborts U (abort is
 * safe after any return). */
enum app_status receive_body(struct req *r, struct store_upload *u, long long max);

/* h_factsheet.c: method descriptions (docs/factsheets.md) */
void h_fact_sheet_put(struct req *r);
void h_fact_sheet_get(struct req *r);
void h_fact_sheet_file(struct req *r);
void h_fact_sheet_staff_file(struct req *r);
void h_fact_sheet_accept(struct req *r);
void h_fact_sheet_refuse(struct req *r);

/* h_organizer.c (more) */
void h_challenge_import(struct req *r);
void h_challenge_anonymity(struct req *r);
void h_downloads_export(struct req *r);

/* Loads the challenge named by r->param[0] into C, or replies 404 and returns -1. */
int challenge_or_reply(struct req *r, struct challenge *c);
/* 0 when C may change (terms, submissions, teams); replies 403 challenge_archived and returns -1 when archived. */
int challenge_writable_or_reply(struct req *r, const struct challenge *c);
/* The metric's name as participants read it: the built-in metric's, or the score key of the organizer's program
 * (copied into BUF, size N). */
const char *challenge_metric_label(const struct challenge *c, char *buf, size_t n);
/* 1 when a phase of C hides its results from participants until the jury publishes ("hide_results"). */
int challenge_hides_results(const struct challenge *c);
/* 1 when the caller accepted C's current terms; replies 403 terms_not_accepted (or 500) and returns 0 if not. */
int terms_accepted_or_reply(struct req *r, const struct challenge *c);
/* 1 when the caller is organizer, jury or admin, server-wide or of the challenge the request is about. */
int req_is_staff(const struct req *r);

#endif
