/*
 * sp_limits.c — per-role limits from the policy (sp_limits.h).
 */
#include "sp_limits.h"
#include "sp_meta_keys.h"

#include <string.h>

#include "sp_util.h"

#define ORG_MAX 64

static size_t key(uint8_t *k, char kind, const char *org, uint64_t now_s)
{
	size_t ol = strlen(org), n;
	memcpy(k, SP_MK_LIMITS, 4);
	k[4] = (uint8_t)kind;
	memcpy(k + 5, org, ol);
	k[5 + ol] = 0;
	n = 6 + ol;
	if (kind == 'd') {
		uint32_t day = (uint32_t)(now_s / 86400u);
		k[n++] = (uint8_t)(day >> 24);
		k[n++] = (uint8_t)(day >> 16);
		k[n++] = (uint8_t)(day >> 8);
		k[n++] = (uint8_t)day;
	}
	return n;
}

static int get(sp_txn *t, char kind, const char *org, uint64_t now_s, uint64_t *out)
{
	uint8_t k[6 + ORG_MAX + 4];
	const void *v;
	size_t vl;
	int rc;
	*out = 0;
	if (strlen(org) > ORG_MAX)
		return SP_EINVAL;
	rc = sp_store_get(t, SP_DB_META, k, key(k, kind, org, now_s), &v, &vl);
	if (rc == SP_ENOTFOUND)
		return SP_OK;
	if (rc != SP_OK)
		return rc;
	if (vl != 8)
		return SP_ECORRUPT;
	*out = sp_be64_get(v);
	return SP_OK;
}

static int put(sp_txn *t, char kind, const char *org, uint64_t now_s, uint64_t val)
{
	uint8_t k[6 + ORG_MAX + 4], v[8];
	sp_be64_put(v, val);
	return sp_store_put(t, SP_DB_META, k, key(k, kind, org, now_s), v, 8, 0);
}

int sp_limits_involve_check(sp_txn *t, const sp_policy *p, const char *org, const char *role,
                            uint64_t now_s, char *why, size_t whylen)
{
	const sp_policy_limits *l = sp_policy_limits_find(p, role);
	uint64_t n = 0;
	int rc;
	if (!l)
		return SP_OK;
	if (l->max_involvements) {
		if ((rc = get(t, 'n', org, now_s, &n)) != SP_OK)
			return rc;
		if (n >= l->max_involvements) {
			snprintf(why, whylen, "limit reached: %llu active involvements, the policy allows %u per "
			         "organisation of role %s ([limits %s] max_involvements)", (unsigned long long)n,
			         l->max_involvements, role, role);
			return SP_ELIMIT;
		}
	}
	if (l->involvements_per_day) {
		if ((rc = get(t, 'd', org, now_s, &n)) != SP_OK)
			return rc;
		if (n >= l->involvements_per_day) {
			snprintf(why, whylen, "limit reached: %llu new involvements today, the policy allows %u per "
			         "day ([limits %s] involvements_per_day)", (unsigned long long)n,
			         l->involvements_per_day, role);
			return SP_ELIMIT;
		}
	}
	return SP_OK;
}

int sp_limits_involve_count(sp_txn *t, const char *org, int added, uint64_t now_s)
{
	uint64_t n = 0;
	int rc = get(t, 'n', org, now_s, &n);
	if (rc != SP_OK)
		return rc;
	if (added < 0)
		return put(t, 'n', org, now_s, n ? n - 1 : 0);
	if ((rc = put(t, 'n', org, now_s, n + 1)) != SP_OK)
		return rc;
	/* Yesterday's counter is not read again; retention of META keys is
	 * not worth a sweep for a few bytes per organisation and day. */
	if ((rc = get(t, 'd', org, now_s, &n)) != SP_OK)
		return rc;
	return put(t, 'd', org, now_s, n + 1);
}

uint64_t sp_limits_release_since(const sp_policy *p, const char *role, uint64_t now_s)
{
	const sp_policy_limits *l = sp_policy_limits_find(p, role);
	uint64_t back;
	if (!l || l->release_back_days == SP_LIMITS_UNSET)
		return 0;
	back = (uint64_t)l->release_back_days * 86400u;
	return now_s > back ? now_s - back : 0;
}

void sp_limits_print(const sp_policy *p, FILE *out)
{
	size_t n = sp_policy_limits_count(p);
	if (!n)
		return;
	fprintf(out, "\nlimits per organisation (0 or absent: none):\n");
	for (size_t i = 0; i < n; i++) {
		const sp_policy_limits *l = sp_policy_limits_at(p, i);
		fprintf(out, "  %s: at most %u active involvements, %u new per day; a new involvement releases ",
		        l->role, l->max_involvements, l->involvements_per_day);
		if (l->release_back_days == SP_LIMITS_UNSET)
			fprintf(out, "every older signal\n");
		else
			fprintf(out, "signals of the last %u days\n", l->release_back_days);
	}
}
