/*
 * par.h: running two halves of a job on the machine's two cores.
 *
 * Exists because the scorer splits several phases in two (reading the two files, the repeat check, the
 * sorts of the ranking metrics, bootstrap resamples) and each needs the same start-a-thread, do-my-half,
 * join-or-fall-back dance.
 */
#ifndef CONCOURS_PAR_H
#define CONCOURS_PAR_H

#define SCORE_PAR_MIN_ROWS 65536 /* below this many rows, a second thread costs more than the half it takes */

/*
 * Runs FN(A) in a new thread and FN_B(B) in the calling one, and returns when both are done. When no thread
 * can be started, runs both in the calling thread, one after the other. A and B are the callers'.
 */
void score_par2(void *(*fn_a)(void *), void *a, void *(*fn_b)(void *), void *b);

/*
 * score_par2() when THREADS is 2; with 1, FN_B(B) then FN_A(A) in the calling thread (a caller that already
 * shares the machine with another thread). With CONCOURS_SCORE_PAR_TEST set (tests), score_par2() whatever THREADS.
 */
void score_par2_on(int threads, void *(*fn_a)(void *), void *a, void *(*fn_b)(void *), void *b);

#endif
