/*
 * par.c: two halves of a job on two threads (see par.h).
 */
#include "par.h"

#include <pthread.h>
#include <stdlib.h>

void score_par2(void *(*fn_a)(void *), void *a, void *(*fn_b)(void *), void *b)
{
	pthread_t th;
	int threaded = pthread_create(&th, NULL, fn_a, a) == 0;

	fn_b(b);
	if (threaded)
		pthread_join(th, NULL);
	else
		fn_a(a);
}

void score_par2_on(int threads, void *(*fn_a)(void *), void *a, void *(*fn_b)(void *), void *b)
{
	/* CONCOURS_SCORE_PAR_TEST (tests): two threads whatever the size, so that the halves' code meets the small files
	 * of the tests and of the fuzz target; read at each call, as the fuzz target sets it between runs */
	if (threads == 2 || getenv("CONCOURS_SCORE_PAR_TEST")) {
		score_par2(fn_a, a, fn_b, b);
		return;
	}
	fn_b(b);
	fn_a(a);
}
