/* test_stats.c — small-cell suppression of trend figures (sp_stats). */
#include "sp_test.h"
#include "sp_stats.h"

#include <stdint.h>

/* The table as a reader sees it: value or -1 when hidden. */
static long shown(const sp_stats *t, size_t i, size_t j)
{
	uint64_t v;
	return sp_stats_get(t, i, j, &v) ? (long)v : -1;
}

/* The reader's attack: any line (row, column, totals row, totals column)
 * with exactly one unknown gives that unknown; repeat until nothing new.
 * Returns the number of hidden entries the reader recovered. */
static size_t peel(const sp_stats *t)
{
	size_t R = sp_stats_periods(t), C = sp_stats_groups(t);
	long *v = malloc((R + 1) * (C + 1) * sizeof *v);
	size_t recovered = 0;
#define V(i, j) v[(i) * (C + 1) + (j)]
	for (size_t i = 0; i <= R; i++)
		for (size_t j = 0; j <= C; j++)
			V(i, j) = shown(t, i == R ? SP_STATS_TOTAL : i, j == C ? SP_STATS_TOTAL : j);
	for (int changed = 1; changed;) {
		changed = 0;
		for (size_t i = 0; i <= R; i++) { /* row i: cells 0..C-1, total C */
			size_t unknown = 0, at = 0;
			long sum = 0;
			for (size_t j = 0; j <= C; j++)
				if (V(i, j) < 0) {
					unknown++;
					at = j;
				} else if (j < C) {
					sum += V(i, j);
				}
			if (unknown == 1) {
				V(i, at) = at == C ? sum : V(i, C) - sum;
				recovered++;
				changed = 1;
			}
		}
		for (size_t j = 0; j <= C; j++) {
			size_t unknown = 0, at = 0;
			long sum = 0;
			for (size_t i = 0; i <= R; i++)
				if (V(i, j) < 0) {
					unknown++;
					at = i;
				} else if (i < R) {
					sum += V(i, j);
				}
			if (unknown == 1) {
				V(at, j) = at == R ? sum : V(R, j) - sum;
				recovered++;
				changed = 1;
			}
		}
	}
#undef V
	free(v);
	return recovered;
}

/* Every line with a shown total hides nothing, or at least two entries
 * that sum to at least k (else "both are small" leaks). */
static void check_lines(const sp_stats *t, unsigned k, const uint64_t *truth)
{
	size_t R = sp_stats_periods(t), C = sp_stats_groups(t);
	for (size_t i = 0; i <= R; i++) {
		if (shown(t, i == R ? SP_STATS_TOTAL : i, SP_STATS_TOTAL) < 0)
			continue;
		size_t nh = 0;
		uint64_t sum = 0;
		for (size_t j = 0; j < C; j++)
			if (shown(t, i == R ? SP_STATS_TOTAL : i, j) < 0) {
				nh++;
				sum += truth[i * (C + 1) + j];
			}
		ck_assert(nh == 0 || (nh >= 2 && sum >= k));
	}
	for (size_t j = 0; j <= C; j++) {
		if (shown(t, SP_STATS_TOTAL, j == C ? SP_STATS_TOTAL : j) < 0)
			continue;
		size_t nh = 0;
		uint64_t sum = 0;
		for (size_t i = 0; i < R; i++)
			if (shown(t, i, j == C ? SP_STATS_TOTAL : j) < 0) {
				nh++;
				sum += truth[i * (C + 1) + j];
			}
		ck_assert(nh == 0 || (nh >= 2 && sum >= k));
	}
}

static void add_n(sp_stats *t, const char *p, const char *g, int n)
{
	for (int x = 0; x < n; x++)
		ck_assert_int_eq(sp_stats_add(t, p, g), SP_OK);
}

START_TEST(primary_and_complementary)
{
	sp_stats *t = NULL;
	ck_assert_int_eq(sp_stats_new(&t), SP_OK);
	/* month 2026-10: gia 12, weapon 3 (small), drugs 20 */
	add_n(t, "2026-10", "gia", 12);
	add_n(t, "2026-10", "weapon", 3);
	add_n(t, "2026-10", "drugs", 20);
	add_n(t, "2026-11", "gia", 9);
	add_n(t, "2026-11", "weapon", 8);
	add_n(t, "2026-11", "drugs", 30);
	sp_stats_suppress(t, 5);
	ck_assert_uint_eq(sp_stats_periods(t), 2);
	ck_assert_uint_eq(sp_stats_groups(t), 3);
	/* groups sort: drugs, gia, weapon */
	ck_assert_str_eq(sp_stats_group(t, 2), "weapon");
	ck_assert_int_eq(shown(t, 0, 2), -1);      /* 3 < 5: hidden */
	ck_assert_int_eq(shown(t, 0, SP_STATS_TOTAL), 35);
	/* weapon's 3 must not follow from 35 - 12 - 20: a second cell of
	 * that month is hidden too, and of the weapon column */
	size_t hidden_oct = 0;
	for (size_t j = 0; j < 3; j++)
		hidden_oct += shown(t, 0, j) < 0;
	ck_assert_uint_ge(hidden_oct, 2);
	ck_assert_uint_eq(peel(t), 0);
	sp_stats_free(&t);
	ck_assert_ptr_null(t);
}
END_TEST

START_TEST(small_total_hides_line)
{
	sp_stats *t = NULL;
	ck_assert_int_eq(sp_stats_new(&t), SP_OK);
	add_n(t, "2026-Q3", "gia", 2);
	add_n(t, "2026-Q3", "weapon", 1);
	add_n(t, "2026-Q4", "gia", 40);
	add_n(t, "2026-Q4", "weapon", 41);
	ck_assert_int_eq(sp_stats_touch_period(t, "2026-Q2"), SP_OK); /* a real zero */
	sp_stats_suppress(t, 5);
	ck_assert_uint_eq(sp_stats_periods(t), 3);
	ck_assert_int_eq(shown(t, 1, SP_STATS_TOTAL), -1); /* Q3 total 3 */
	ck_assert_int_eq(shown(t, 0, SP_STATS_TOTAL), -1); /* Q2 total 0 */
	ck_assert_uint_eq(peel(t), 0);
	sp_stats_free(&t);
}
END_TEST

START_TEST(nothing_small_nothing_hidden)
{
	sp_stats *t = NULL;
	ck_assert_int_eq(sp_stats_new(&t), SP_OK);
	add_n(t, "2026-11", "a", 10);
	add_n(t, "2026-11", "b", 7);
	add_n(t, "2026-12", "a", 5);
	add_n(t, "2026-12", "b", 6);
	sp_stats_suppress(t, 5);
	ck_assert_uint_eq(sp_stats_hidden(t), 0);
	ck_assert_int_eq(shown(t, SP_STATS_TOTAL, SP_STATS_TOTAL), 28);
	ck_assert_int_eq(sp_stats_add(t, "", "a"), SP_EINVAL);
	sp_stats_free(&t);
}
END_TEST

/* Property: on random sparse tables (many small cells), no line leaks and
 * the peeling attack recovers nothing. */
START_TEST(random_tables_leak_nothing)
{
	unsigned seed = 12345;
	for (int round = 0; round < 400; round++) {
		sp_stats *t = NULL;
		ck_assert_int_eq(sp_stats_new(&t), SP_OK);
		size_t R = 1 + rand_r(&seed) % 6, C = 1 + rand_r(&seed) % 7;
		unsigned k = 2 + rand_r(&seed) % 9;
		char p[32], g[32];
		for (size_t i = 0; i < R; i++) {
			snprintf(p, sizeof p, "2026-%02zu", i + 1);
			ck_assert_int_eq(sp_stats_touch_period(t, p), SP_OK);
		}
		for (size_t j = 0; j < C; j++) {
			snprintf(g, sizeof g, "g%zu", j);
			ck_assert_int_eq(sp_stats_touch_group(t, g), SP_OK);
		}
		uint64_t *truth = calloc((R + 1) * (C + 1), sizeof *truth);
		for (size_t i = 0; i < R; i++)
			for (size_t j = 0; j < C; j++) {
				unsigned r = rand_r(&seed) % 10;
				int n = r < 4 ? (int)(rand_r(&seed) % 4) : r < 8 ? (int)(rand_r(&seed) % 15) : 30;
				snprintf(p, sizeof p, "2026-%02zu", i + 1);
				snprintf(g, sizeof g, "g%zu", j);
				add_n(t, p, g, n);
				truth[i * (C + 1) + j] += (uint64_t)n;
				truth[i * (C + 1) + C] += (uint64_t)n;
				truth[R * (C + 1) + j] += (uint64_t)n;
				truth[R * (C + 1) + C] += (uint64_t)n;
			}
		sp_stats_suppress(t, k);
		/* shown values are the truth, and nothing below k is shown */
		for (size_t i = 0; i <= R; i++)
			for (size_t j = 0; j <= C; j++) {
				long v = shown(t, i == R ? SP_STATS_TOTAL : i, j == C ? SP_STATS_TOTAL : j);
				if (v >= 0) {
					ck_assert_int_eq(v, (long)truth[i * (C + 1) + j]);
					ck_assert_int_ge(v, (long)k);
				}
			}
		check_lines(t, k, truth);
		ck_assert_uint_eq(peel(t), 0);
		free(truth);
		sp_stats_free(&t);
	}
}
END_TEST

static Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, primary_and_complementary);
	tcase_add_test(tc, small_total_hides_line);
	tcase_add_test(tc, nothing_small_nothing_hidden);
	tcase_add_test(tc, random_tables_leak_nothing);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(stats_suite)
