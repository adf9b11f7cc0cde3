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

/* Loads the challenge named by r->param[0] into C, or replies 404 and returns -1. */
int challenge_or_reply(struct req *r, struct challenge *c);
/* The phase of C open at NOW, or NULL. */
const struct phase *challenge_open_phase(const struct challenge *c, int64_t now);
/* 1 when the caller accepted C's current terms; replies 403 terms_not_accepted (or 500) and returns 0 if not. */
int terms_accepted_or_reply(struct req *r, const struct challenge *c);
/* 1 when the caller is organizer, jury or admin. */
int req_is_staff(const struct req *r);

#endif
