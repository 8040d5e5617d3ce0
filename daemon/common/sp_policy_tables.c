/*
 * sp_policy_tables.c — [table] sections: members, ladders, and the rule
 * that a table can only release what was sealed at submit
 * (sp_policy_tables.h).
 */
#include "sp_policy_tables.h"

#include <stdio.h>
#include <string.h>

#include "sp_roster.h"
#include "sp_signal.h"
#include "sp_util.h"

size_t sp_policy_table_count(const sp_policy *p)
{
	return p ? sp_policy_tables_of(p)->n : 0;
}

const sp_policy_table *sp_policy_table_at(const sp_policy *p, size_t i)
{
	return p && i < sp_policy_tables_of(p)->n ? &sp_policy_tables_of(p)->v[i] : NULL;
}

const sp_policy_table *sp_policy_table_find(const sp_policy *p, const char *id)
{
	for (size_t i = 0; id && i < sp_policy_table_count(p); i++)
		if (strcmp(sp_policy_table_at(p, i)->id, id) == 0)
			return sp_policy_table_at(p, i);
	return NULL;
}

int sp_policy_table_tier(const sp_policy_table *t, const char *role)
{
	for (size_t i = 0; t && role && i < t->nmembers; i++)
		if (strcmp(t->members[i].role, role) == 0)
			return t->members[i].tier;
	return -1;
}

/* Is to reached from from by following `next` (at most n steps)? */
static int reaches(const sp_policy *p, const sp_policy_table *from, const sp_policy_table *to)
{
	const sp_policy_table *t = from;
	for (size_t steps = 0; t && t->next && steps <= sp_policy_table_count(p); steps++) {
		t = sp_policy_table_find(p, t->next);
		if (t == to)
			return 1;
	}
	return 0;
}

int sp_policy_table_direction(const sp_policy *p, const sp_policy_table *from, const sp_policy_table *to)
{
	if (!from || !to || from == to)
		return 0;
	if (reaches(p, from, to))
		return 1;
	if (reaches(p, to, from))
		return -1;
	return 0;
}

const sp_policy_table *sp_policy_table_below(const sp_policy *p, const sp_policy_table *t)
{
	for (size_t i = 0; t && i < sp_policy_table_count(p); i++)
		if (sp_policy_table_at(p, i)->next && strcmp(sp_policy_table_at(p, i)->next, t->id) == 0)
			return sp_policy_table_at(p, i);
	return NULL;
}

/* "zvh:summary, police:contact" -> members. */
const char *sp_policy_table_check(const void *obj)
{
	static char msg[200];
	sp_policy_table *t = (sp_policy_table *)obj; /* the reader's own, being finished */
	const char *s = t->members_text;
	t->nmembers = 0;
	if (t->requires_reason && strcmp(t->requires_reason, "facts") != 0)
		return "requires_reason: the only value is 'facts' (concrete feiten, recorded as the move's reason)";
	if (t->kind_mask & SP_POLICY_KIND_BIT(0))
		return "kind 'none' (anonymous reports) has no case to discuss at a table";
	while (s && *s) {
		char role[32], tier[32];
		size_t rn = 0, tn = 0;
		while (*s == ' ' || *s == ',')
			s++;
		if (!*s)
			break;
		while (*s && *s != ':' && *s != ',' && *s != ' ' && rn + 1 < sizeof role)
			role[rn++] = *s++;
		role[rn] = '\0';
		if (*s != ':')
			return "members: a comma list of role:tier (e.g. zvh:summary, police:contact)";
		s++;
		while (*s && *s != ',' && *s != ' ' && tn + 1 < sizeof tier)
			tier[tn++] = *s++;
		tier[tn] = '\0';
		if (*s && *s != ',' && *s != ' ')
			return "members: a comma list of role:tier (e.g. zvh:summary, police:contact)";
		if (!sp_role_known(role)) {
			snprintf(msg, sizeof msg, "members: unknown role '%.31s'", sp_ident_ok(role) ? role : "?");
			return msg;
		}
		if (strcmp(role, "privacy-officer") == 0)
			return "members: role privacy-officer receives no signals";
		if (sp_tier_parse(tier) < 0) {
			snprintf(msg, sizeof msg, "members: unknown tier '%.31s' for %s (existence, contact, summary, full)",
			         sp_ident_ok(tier) ? tier : "?", role);
			return msg;
		}
		if (sp_policy_table_tier(t, role) >= 0) {
			snprintf(msg, sizeof msg, "members: role %s listed twice", role);
			return msg;
		}
		if (t->nmembers == SP_TABLE_MEMBERS_MAX)
			return "members: at most 16 roles";
		snprintf(t->members[t->nmembers].role, sizeof t->members[t->nmembers].role, "%s", role);
		t->members[t->nmembers++].tier = sp_tier_parse(tier);
	}
	if (!t->nmembers)
		return "members: at least one role:tier";
	return NULL;
}

/* Does some rule seal `tier` for role, for subjects of `kind`, so that a
 * move can hand it over (on escalation, or already given at once)? */
static int sealed(const sp_policy *p, const char *role, int kind, int tier)
{
	for (size_t i = 0; i < sp_policy_rule_count(p); i++) {
		const sp_policy_rule *r = sp_policy_rule_at(p, i);
		unsigned need = tier == SP_TIER_EXISTENCE ? ~0u : 1u << tier;
		if (strcmp(r->role, role) == 0 && (r->kind_mask & SP_POLICY_KIND_BIT(kind)) &&
		    (r->tiers_mask & need) && (r->when == SP_WHEN_ON_ESCALATION || r->when == SP_WHEN_IMMEDIATELY))
			return 1;
	}
	return 0;
}

#define FAIL(l, ...) do { *line = (l); snprintf(msg, msglen, __VA_ARGS__); return -1; } while (0)

static const char *kinds_text(unsigned mask, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int k = 1; k <= 3; k++)
		if (mask & SP_POLICY_KIND_BIT(k))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? ", " : "", sp_policy_kind_name(k));
	return buf;
}

int sp_policy_tables_validate(const sp_policy *p, int *line, char *msg, size_t msglen)
{
	char a[40], b[40];
	for (size_t i = 0; i < sp_policy_table_count(p); i++) {
		const sp_policy_table *t = sp_policy_table_at(p, i), *n = NULL;
		if (t->next && !(n = sp_policy_table_find(p, t->next)))
			FAIL(t->line, "[table %s]: next names no [table %s]", t->id, t->next);
		if (t->next && reaches(p, n, t))
			FAIL(t->line, "[table %s]: its next chain loops back to it (scale-up must end at a top table)", t->id);
		if (t->next && (n->kind_mask & t->kind_mask) != t->kind_mask)
			FAIL(t->line, "[table %s]: next table %s does not take every subject kind this one does (%s; it takes %s)",
			     t->id, n->id, kinds_text(t->kind_mask, a, sizeof a), kinds_text(n->kind_mask, b, sizeof b));
		for (size_t m = 0; m < t->nmembers; m++)
			for (int k = 1; k <= 3; k++)
				if ((t->kind_mask & SP_POLICY_KIND_BIT(k)) &&
				    !sealed(p, t->members[m].role, k, t->members[m].tier))
					FAIL(t->line, "[table %s]: member %s:%s, but no rule seals %s for role %s on escalation "
					     "(kind %s): a move can only release grants sealed when the signal was submitted; "
					     "add a rule with when = on-escalation, or lower the tier",
					     t->id, t->members[m].role, sp_tier_name(t->members[m].tier),
					     sp_tier_name(t->members[m].tier), t->members[m].role, sp_policy_kind_name(k));
	}
	for (size_t i = 0; i < sp_policy_escalation_count(p); i++) {
		const sp_policy_escalation *e = sp_policy_escalation_at(p, i);
		const sp_policy_table *t;
		if (!e->table)
			continue;
		if (!(t = sp_policy_table_find(p, e->table)))
			FAIL(e->line, "[escalation %s]: table names no [table %s]", e->id, e->table);
		if ((t->kind_mask & e->kind_mask) != e->kind_mask)
			FAIL(e->line, "[escalation %s]: its subjects (%s) may not sit at table %s (kind %s)", e->id,
			     kinds_text(e->kind_mask, a, sizeof a), t->id, kinds_text(t->kind_mask, b, sizeof b));
		/* The coordinator follows its referral up and down the ladder. */
		for (size_t j = 0; j < sp_policy_table_count(p); j++) {
			const sp_policy_table *u = sp_policy_table_at(p, j);
			if ((u == t || sp_policy_table_direction(p, t, u)) && sp_policy_table_tier(u, e->to_role) < 0)
				FAIL(u->line, "[table %s]: the coordinator of escalation %s (role %s) must be a member of "
				     "every table on its ladder", u->id, e->id, e->to_role);
		}
	}
	return 0;
}

void sp_policy_tables_print(const sp_policy *p, FILE *out)
{
	char k[40];
	fprintf(out, "\ntables (a referral moves up along next, down back; a member sees what was sealed for its\n"
	             "role, up to its tier):\n");
	if (!sp_policy_table_count(p))
		fprintf(out, "  (none: a referral stays with its coordinator)\n");
	for (size_t i = 0; i < sp_policy_table_count(p); i++) {
		const sp_policy_table *t = sp_policy_table_at(p, i);
		fprintf(out, "  %s (line %d): %s; kind %s%s%s%s\n", t->id, t->line, t->name,
		        kinds_text(t->kind_mask, k, sizeof k), t->next ? "; up: " : "; top", t->next ? t->next : "",
		        t->requires_reason ? "; a move here needs concrete facts as its reason" : "");
		for (size_t m = 0; m < t->nmembers; m++)
			fprintf(out, "    %-14s up to %s\n", t->members[m].role, sp_tier_name(t->members[m].tier));
	}
}
