/*
 * sp_policy_grants.c — the policy's answers about one signal: how long it
 * is kept, what a role is entitled to and when, and which grants a sender
 * must seal (moved out of sp_policy.c, which reads the file).
 */
#include <stdlib.h>
#include <string.h>

#include "sp_policy.h"
#include "sp_signal.h"

uint64_t sp_policy_retention_s(const sp_policy *p, const char *category, int weight,
                               int escalated)
{
	const sp_policy_category *c = sp_policy_category_find(p, category);
	uint64_t s;
	if (!c || weight < 1 || weight > 3)
		return 0;
	s = c->retention_w[weight] ? c->retention_w[weight] : (uint64_t)c->retention_days * 86400u;
	/* Escalation may only lengthen retention: a case under procesregie. */
	if (escalated && c->retention_escalated > s)
		s = c->retention_escalated;
	return s;
}

static void take(sp_entitlement *e, int tier, const sp_policy_rule *r)
{
	if (e->when[tier] == 0 || r->when < e->when[tier]) {
		e->when[tier] = r->when;
		e->rule[tier] = r;
	}
}

void sp_policy_entitlement(const sp_policy *p, int kind, const char *category, int weight,
                           const char *role, sp_entitlement *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof *out);
	if (!p || !category || !role || weight < 1 || weight > 3 || kind < 0 || kind > 3)
		return;
	for (size_t i = 0; i < sp_policy_rule_count(p); i++) {
		const sp_policy_rule *r = sp_policy_rule_at(p, i);
		if (!(r->kind_mask & SP_POLICY_KIND_BIT(kind)) ||
		    !(r->weight_mask & (1u << weight)) || strcmp(r->category, category) != 0 ||
		    strcmp(r->role, role) != 0)
			continue;
		for (int t = 0; t < SP_TIER_COUNT; t++)
			if (r->tiers_mask & (1u << t))
				take(out, t, r);
		/* Receiving any tier means receiving the header: existence is
		 * implied, with the same timing. */
		if (r->tiers_mask)
			take(out, SP_TIER_EXISTENCE, r);
	}
}

int sp_policy_allows(const sp_policy *p, int kind, const char *category, int weight,
                     const char *role, int tier, int mode,
                     const sp_policy_rule **rule_out)
{
	sp_entitlement e;
	if (rule_out)
		*rule_out = NULL;
	if (tier < 0 || tier >= SP_TIER_COUNT || mode < SP_WHEN_IMMEDIATELY ||
	    mode > SP_WHEN_ON_ESCALATION)
		return SP_EPOLICY;
	sp_policy_entitlement(p, kind, category, weight, role, &e);
	/* A grant may be stricter than the policy (held back longer), never
	 * more permissive. */
	if (e.when[tier] == 0 || mode < e.when[tier])
		return SP_EPOLICY;
	if (rule_out)
		*rule_out = e.rule[tier];
	return SP_OK;
}

int sp_policy_grants_for(const sp_policy *p, const sp_roster *r, const char *sender,
                         int kind, const char *category, int weight,
                         struct sp_grant_spec **out, size_t *n)
{
	sp_grant_spec *g = NULL;
	size_t cnt = 0, norgs;

	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (!p || !r || !sender || !category || !out || !n)
		return SP_EINVAL;
	if (!sp_policy_category_find(p, category))
		return SP_ECATEGORY;
	if (weight < 1 || weight > 3)
		return SP_EWEIGHT;
	if (!sp_roster_find(r, sender))
		return SP_EORG;
	norgs = sp_roster_count(r);
	if (norgs) {
		g = calloc(norgs * (SP_TIER_COUNT - 1), sizeof *g);
		if (!g)
			return SP_ENOMEM;
	}
	for (size_t i = 0; i < norgs; i++) {
		const sp_org *o = sp_roster_at(r, i);
		sp_entitlement e;
		if (strcmp(o->id, sender) == 0 || strcmp(o->role, "privacy-officer") == 0)
			continue;
		sp_policy_entitlement(p, kind, category, weight, o->role, &e);
		for (int t = SP_TIER_CONTACT; t < SP_TIER_COUNT; t++) {
			if (!e.when[t])
				continue;
			g[cnt].recipient = o->id;
			g[cnt].box_pk = o->box_pk;
			g[cnt].tier = t;
			g[cnt].mode = e.when[t];
			cnt++;
		}
	}
	if (cnt == 0) {
		free(g);
		g = NULL;
	}
	*out = g;
	*n = cnt;
	return SP_OK;
}
