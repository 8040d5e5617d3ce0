/* test_workers.c — sp_workers: every index exactly once, on two threads. */
#include <pthread.h>
#include "sp_test.h"
#include "sp_workers.h"

struct job {
	unsigned *hits;
	pthread_t *who;
};

static void visit(void *ctx, size_t i)
{
	struct job *j = ctx;
	j->hits[i]++;
	j->who[i] = pthread_self();
}

START_TEST(each_index_once)
{
	sp_workers *w = NULL;
	static const size_t sizes[] = { 0, 1, 2, 3, 7, 512, 10000 };
	ck_assert_int_eq(sp_workers_new(&w), SP_OK);
	for (int round = 0; round < 50; round++) {
		for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
			size_t n = sizes[k];
			struct job j = { calloc(n + 1, sizeof *j.hits), calloc(n + 1, sizeof *j.who) };
			sp_workers_run(w, visit, &j, n);
			for (size_t i = 0; i < n; i++)
				ck_assert_uint_eq(j.hits[i], 1);
			/* the caller always takes the second half */
			if (n)
				ck_assert(pthread_equal(j.who[n - 1], pthread_self()));
			free(j.hits);
			free(j.who);
		}
	}
	sp_workers_free(&w);
	ck_assert_ptr_null(w);
	sp_workers_free(&w); /* NULL-safe */
}
END_TEST

static Suite *workers_suite(void)
{
	Suite *s = suite_create("workers");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, each_index_once);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(workers_suite)
