/*
 * sp_stats.c — trend figures with small-cell suppression (sp_stats.h).
 *
 * The table is kept as an (R+1) x (C+1) grid: rows are periods, columns are
 * groups, the last row holds the column totals and the last column the row
 * totals, so the grand total sits at (R, C). Every "line" — a row, a column,
 * the totals row and the totals column — is an equation "entries sum to the
 * line's total". Suppression only has to make each equation unsolvable for
 * any hidden entry: a reader who sees the total and all but one entry of a
 * line knows the last one, and one who sees all but two entries summing to
 * less than k learns that both are small. This is the usual row/column
 * heuristic of statistical offices (a guard rail, not a proof against a
 * reader who combines many published tables; docs/stats.md).
 */
#include "sp_stats.h"

#include <stdlib.h>
#include <string.h>

struct sp_stats {
	char **periods, **groups;
	size_t np, ng, cap_p, cap_g;
	uint64_t *count; /* (np+1) x (ng+1), rebuilt on demand */
	unsigned char *hidden;
	uint64_t *raw; /* np_cap x ng_cap counts, row-major over capacities */
	size_t raw_p, raw_g;
	size_t nhidden;
};

int sp_stats_new(sp_stats **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? SP_OK : SP_ENOMEM;
}

void sp_stats_free(sp_stats **tp)
{
	if (!tp || !*tp)
		return;
	sp_stats *t = *tp;
	for (size_t i = 0; i < t->np; i++)
		free(t->periods[i]);
	for (size_t j = 0; j < t->ng; j++)
		free(t->groups[j]);
	free(t->periods);
	free(t->groups);
	free(t->count);
	free(t->hidden);
	free(t->raw);
	free(t);
	*tp = NULL;
}

/* Sorted insert of name into names[0..*n); returns its index or -1. */
static long name_index(char ***names, size_t *n, size_t *cap, const char *name, int *inserted)
{
	size_t lo = 0, hi = *n;
	*inserted = 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp((*names)[mid], name);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		char **nn = realloc(*names, nc * sizeof *nn);
		if (!nn)
			return -1;
		*names = nn;
		*cap = nc;
	}
	char *copy = strdup(name);
	if (!copy)
		return -1;
	memmove(*names + lo + 1, *names + lo, (*n - lo) * sizeof **names);
	(*names)[lo] = copy;
	(*n)++;
	*inserted = 1;
	return (long)lo;
}

/* Keep raw counts addressable by (period index, group index) while indexes
 * shift on sorted inserts: raw is np x ng, rebuilt on every insert. Inserts
 * are rare (a period or a group appears once), counts are many. */
static int raw_insert(sp_stats *t, long pi, int new_p, long gj, int new_g)
{
	size_t op = t->np - (new_p ? 1 : 0), og = t->ng - (new_g ? 1 : 0);
	size_t n = t->np * t->ng;
	uint64_t *nr = calloc(n ? n : 1, sizeof *nr);
	if (!nr)
		return SP_ENOMEM;
	for (size_t i = 0; i < op; i++)
		for (size_t j = 0; j < og; j++) {
			size_t ni = i + (new_p && (long)i >= pi ? 1 : 0);
			size_t nj = j + (new_g && (long)j >= gj ? 1 : 0);
			nr[ni * t->ng + nj] = t->raw[i * og + j];
		}
	free(t->raw);
	t->raw = nr;
	return SP_OK;
}

static int touch(sp_stats *t, const char *period, const char *group, long *pi, long *gj)
{
	int np = 0, ng = 0;
	*pi = *gj = -1;
	if (period) {
		if (!period[0])
			return SP_EINVAL;
		if ((*pi = name_index(&t->periods, &t->np, &t->cap_p, period, &np)) < 0)
			return SP_ENOMEM;
	}
	if (group) {
		if (!group[0])
			return SP_EINVAL;
		if ((*gj = name_index(&t->groups, &t->ng, &t->cap_g, group, &ng)) < 0)
			return SP_ENOMEM;
	}
	if (np || ng)
		return raw_insert(t, *pi, np, *gj, ng);
	return SP_OK;
}

int sp_stats_touch_period(sp_stats *t, const char *period)
{
	long pi, gj;
	return touch(t, period, NULL, &pi, &gj);
}

int sp_stats_touch_group(sp_stats *t, const char *group)
{
	long pi, gj;
	return touch(t, NULL, group, &pi, &gj);
}

int sp_stats_add(sp_stats *t, const char *period, const char *group)
{
	long pi, gj;
	if (!period || !group)
		return SP_EINVAL;
	int rc = touch(t, period, group, &pi, &gj);
	if (rc != SP_OK)
		return rc;
	t->raw[(size_t)pi * t->ng + (size_t)gj]++;
	return SP_OK;
}

#define AT(t, i, j) ((i) * ((t)->ng + 1) + (j))

/* One line: n entries at idx[], total at tot. Hides the smallest shown
 * entries until the line is safe; returns 1 if it hid anything. */
static int protect_line(sp_stats *t, const size_t *idx, size_t n, size_t tot, unsigned k)
{
	int changed = 0;
	if (t->hidden[tot])
		return 0; /* the equation has two unknowns already: its total is one */
	for (;;) {
		size_t nh = 0;
		uint64_t sum = 0;
		for (size_t e = 0; e < n; e++)
			if (t->hidden[idx[e]]) {
				nh++;
				sum += t->count[idx[e]];
			}
		if (nh == 0 || (nh >= 2 && sum >= k))
			return changed;
		/* Hide the smallest shown entry; prefer a non-zero one once the
		 * hidden sum is what is short (a zero adds nothing to it). */
		size_t best = (size_t)-1;
		for (int pass = 0; pass < 2 && best == (size_t)-1; pass++)
			for (size_t e = 0; e < n; e++) {
				size_t x = idx[e];
				if (t->hidden[x])
					continue;
				if (pass == 0 && nh >= 2 && t->count[x] == 0)
					continue;
				if (best == (size_t)-1 || t->count[x] < t->count[best])
					best = x;
			}
		if (best == (size_t)-1) {
			/* Every entry is hidden yet they sum below k: the total
			 * itself would give them away. */
			t->hidden[tot] = 1;
			return 1;
		}
		t->hidden[best] = 1;
		changed = 1;
	}
}

void sp_stats_suppress(sp_stats *t, unsigned k)
{
	size_t R = t->np, C = t->ng, cells = (R + 1) * (C + 1);
	uint64_t *cnt = calloc(cells, sizeof *cnt);
	unsigned char *hid = calloc(cells, 1);
	size_t *idx = malloc((R > C ? R : C) * sizeof *idx + sizeof *idx);
	if (!cnt || !hid || !idx) {
		/* Out of memory: show nothing rather than too much. */
		free(cnt);
		free(idx);
		free(t->count);
		free(t->hidden);
		t->count = NULL;
		t->hidden = hid;
		t->nhidden = (size_t)-1;
		return;
	}
	free(t->count);
	free(t->hidden);
	t->count = cnt;
	t->hidden = hid;
	for (size_t i = 0; i < R; i++)
		for (size_t j = 0; j < C; j++) {
			uint64_t v = t->raw[i * C + j];
			cnt[AT(t, i, j)] = v;
			cnt[AT(t, i, C)] += v;
			cnt[AT(t, R, j)] += v;
			cnt[AT(t, R, C)] += v;
		}
	if (k < 1)
		k = 1;
	for (size_t x = 0; x < cells; x++)
		hid[x] = cnt[x] < k; /* primary: a zero is a cell like any other */
	for (int changed = 1; changed;) {
		changed = 0;
		for (size_t i = 0; i <= R; i++) { /* rows, and the totals row */
			for (size_t j = 0; j < C; j++)
				idx[j] = AT(t, i, j);
			changed |= protect_line(t, idx, C, AT(t, i, C), k);
		}
		for (size_t j = 0; j <= C; j++) { /* columns, and the totals column */
			for (size_t i = 0; i < R; i++)
				idx[i] = AT(t, i, j);
			changed |= protect_line(t, idx, R, AT(t, R, j), k);
		}
	}
	t->nhidden = 0;
	for (size_t x = 0; x < cells; x++)
		t->nhidden += hid[x];
	free(idx);
}

size_t sp_stats_periods(const sp_stats *t) { return t->np; }
size_t sp_stats_groups(const sp_stats *t) { return t->ng; }
const char *sp_stats_period(const sp_stats *t, size_t i) { return i < t->np ? t->periods[i] : NULL; }
const char *sp_stats_group(const sp_stats *t, size_t j) { return j < t->ng ? t->groups[j] : NULL; }
size_t sp_stats_hidden(const sp_stats *t) { return t->nhidden; }

int sp_stats_get(const sp_stats *t, size_t i, size_t j, uint64_t *count)
{
	if (i == SP_STATS_TOTAL)
		i = t->np;
	if (j == SP_STATS_TOTAL)
		j = t->ng;
	if (!t->count || i > t->np || j > t->ng)
		return 0;
	size_t x = AT(t, i, j);
	if (t->hidden[x])
		return 0;
	*count = t->count[x];
	return 1;
}
