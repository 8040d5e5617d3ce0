/*
 * sp_stats.h — trend figures (M-VIK) as a two-way table with small-cell
 * suppression (docs/stats.md).
 *
 * The table has one row per period (fixed calendar months or quarters) and
 * one column per group (a combination of category, weight, role), with a
 * total per row, a total per column and a grand total. sp_stats_suppress
 * hides every entry below k (primary suppression) and then, line by line
 * (each row and column with its total), hides further entries until no
 * hidden entry can be recomputed from what is shown: a line with a shown
 * total has no hidden entry, or at least two whose sum is at least k
 * (complementary suppression). Pure: no files, no clock.
 */
#ifndef SP_STATS_H
#define SP_STATS_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"

typedef struct sp_stats sp_stats; /* opaque */

int sp_stats_new(sp_stats **out) SP_MUST_CHECK;
void sp_stats_free(sp_stats **t);

/* Count one event in (period, group); both strings are copied. Periods and
 * groups sort as strings. SP_ENOMEM or SP_EINVAL (empty name). */
int sp_stats_add(sp_stats *t, const char *period, const char *group) SP_MUST_CHECK;
/* Make sure a period or group row/column exists (a month with no signals is
 * a real zero and a cell like any other). */
int sp_stats_touch_period(sp_stats *t, const char *period) SP_MUST_CHECK;
int sp_stats_touch_group(sp_stats *t, const char *group) SP_MUST_CHECK;

/* Apply suppression with threshold k (>= 1). Idempotent. */
void sp_stats_suppress(sp_stats *t, unsigned k);

size_t sp_stats_periods(const sp_stats *t);
size_t sp_stats_groups(const sp_stats *t);
const char *sp_stats_period(const sp_stats *t, size_t i); /* borrowed */
const char *sp_stats_group(const sp_stats *t, size_t j);  /* borrowed */

/* An entry: period i (or SP_STATS_TOTAL for the column total), group j (or
 * SP_STATS_TOTAL for the row total). Returns 1 and sets *count when shown, 0
 * when suppressed. */
#define SP_STATS_TOTAL ((size_t)-1)
int sp_stats_get(const sp_stats *t, size_t i, size_t j, uint64_t *count);
/* Entries hidden by the last sp_stats_suppress (primary + complementary). */
size_t sp_stats_hidden(const sp_stats *t);

#endif
