/*
 * sp_policy_print.c — the who-may-see-what table a privacy officer reads
 * (`seinpost policy check FILE`), from the policy's public accessors.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sp_limits.h"
#include "sp_policy.h"
#include "sp_policy_tables.h"
#include "sp_signal.h"
#include "sp_util.h"

/* ---- the table a privacy officer reads ------------------------------------ */

static void print_weight(const sp_policy *p, const sp_policy_category *cat, int kind, int w, FILE *out)
{
	const char *roles[64];
	size_t nroles = 0;
	int any = 0;

	/* Roles in the order the file first names them. */
	for (size_t i = 0; i < sp_policy_rule_count(p); i++) {
		const sp_policy_rule *r = sp_policy_rule_at(p, i);
		size_t j;
		if (strcmp(r->category, cat->id) != 0 || !(r->weight_mask & (1u << w)) ||
		    !(r->kind_mask & SP_POLICY_KIND_BIT(kind)))
			continue;
		for (j = 0; j < nroles; j++)
			if (strcmp(roles[j], r->role) == 0)
				break;
		if (j == nroles && nroles < sizeof roles / sizeof roles[0])
			roles[nroles++] = r->role;
	}
	fprintf(out, "  weight %d%s\n", w, w == cat->default_weight ? " (default)" : "");
	for (size_t j = 0; j < nroles; j++) {
		sp_entitlement e;
		const sp_policy_rule *prev = NULL;
		int first = 1;
		sp_policy_entitlement(p, kind, cat->id, w, roles[j], &e);
		for (int t = 0; t < SP_TIER_COUNT; t++) {
			const sp_policy_rule *r = e.rule[t];
			if (!e.when[t])
				continue;
			fprintf(out, "    %-14s %-10s %-14s rule %s%s\n",
			        first ? roles[j] : "", sp_tier_name(t), sp_when_name(e.when[t]),
			        r->id, (r->tiers_mask & (1u << t)) ? "" : " (implied)");
			/* The legal basis once per rule, not once per tier. */
			if (r != prev)
				fprintf(out, "    %-14s basis: %s\n", "", r->basis);
			prev = r;
			first = 0;
			any = 1;
		}
	}
	if (!any)
		fprintf(out, "    (no recipients: the signal stays with the sender)\n");
}

static const char *duration_text(uint64_t s, char *buf, size_t len)
{
	if (s % 86400 == 0)
		snprintf(buf, len, "%llu days", (unsigned long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, len, "%llu hours", (unsigned long long)(s / 3600));
	else
		snprintf(buf, len, "%llu seconds", (unsigned long long)s);
	return buf;
}

static void print_retention(const sp_policy *p, const sp_policy_category *cat, FILE *out)
{
	char a[32], b[32], c[32], d[32];
	fprintf(out, "  default weight %d; retention w1 %s, w2 %s, w3 %s",
	        cat->default_weight, duration_text(sp_policy_retention_s(p, cat->id, 1, 0), a, sizeof a),
	        duration_text(sp_policy_retention_s(p, cat->id, 2, 0), b, sizeof b),
	        duration_text(sp_policy_retention_s(p, cat->id, 3, 0), c, sizeof c));
	if (cat->retention_escalated)
		fprintf(out, ", escalated %s", duration_text(cat->retention_escalated, d, sizeof d));
	fputc('\n', out);
}

static void print_escalations(const sp_policy *p, FILE *out)
{
	fprintf(out, "\nescalation (per subject, over the signals in the window; all conditions must hold):\n");
	if (!sp_policy_escalation_count(p))
		fprintf(out, "  (none: no referrals; on-escalation grants are never released)\n");
	for (size_t i = 0; i < sp_policy_escalation_count(p); i++) {
		const sp_policy_escalation *e = sp_policy_escalation_at(p, i);
		fprintf(out, "  %s (line %d): within %u days", e->id, e->line, e->window_days);
		if (e->min_orgs)
			fprintf(out, ", >= %u distinct organisations", e->min_orgs);
		if (e->min_weight_sum)
			fprintf(out, ", summed weight >= %u", e->min_weight_sum);
		if (e->min_weight)
			fprintf(out, ", a signal of weight >= %d", e->min_weight);
		if (e->table)
			fprintf(out, "\n    -> referral to role %s at table %s; releases what that table's members may see\n",
			        e->to_role, e->table);
		else
			fprintf(out, "\n    -> referral to role %s; releases its on-escalation grants\n", e->to_role);
		fprintf(out, "    basis: %s\n    purpose: %s\n", e->basis, e->purpose);
	}
	fprintf(out, "\nmatch notices (Verwijsindex-like):\n");
	if (!sp_policy_match_count(p))
		fprintf(out, "  (none)\n");
	for (size_t i = 0; i < sp_policy_match_count(p); i++) {
		const sp_policy_match *m = sp_policy_match_at(p, i);
		fprintf(out, "  %s (line %d): an organisation that signalled about a subject within %u days\n"
		        "    counts as involved: if-involved grants flow between the signallers\n"
		        "    basis: %s\n    purpose: %s\n", m->id, m->line, m->window_days, m->basis, m->purpose);
	}
}

void sp_policy_print(const sp_policy *p, FILE *out)
{
	char hex[SP_POLICY_HASH_BYTES * 2 + 1];
	if (!p || !out)
		return;
	fprintf(out, "policy:  %s\nversion: %s\nowner:   %s\nhash:    %s\n",
	        sp_policy_name(p), sp_policy_version(p), sp_policy_owner(p),
	        sp_hex(sp_policy_hash(p), SP_POLICY_HASH_BYTES, hex));
	fprintf(out, "%zu categories, %zu rules. Any tier implies existence (the header).\n",
	        sp_policy_category_count(p), sp_policy_rule_count(p));
	for (size_t i = 0; i < sp_policy_category_count(p); i++) {
		const sp_policy_category *cat = sp_policy_category_at(p, i);
		fprintf(out, "\ncategory %s: %s\n", cat->id, cat->description);
		print_retention(p, cat, out);
		/* One table per subject kind the category's rules name; persons
		 * when none does (then nobody receives anything). */
		unsigned used = 0;
		for (size_t r = 0; r < sp_policy_rule_count(p); r++)
			if (strcmp(sp_policy_rule_at(p, r)->category, cat->id) == 0)
				used |= sp_policy_rule_at(p, r)->kind_mask;
		if (!used)
			used = SP_POLICY_KIND_DEFAULT;
		for (int k = 1; k <= 4; k++) {
			int kind = k % 4; /* person, business, location, then none */
			if (!(used & SP_POLICY_KIND_BIT(kind)))
				continue;
			if (used != SP_POLICY_KIND_DEFAULT)
				fprintf(out, "  subject: %s\n", sp_policy_kind_name(kind));
			for (int w = 1; w <= 3; w++)
				print_weight(p, cat, kind, w, out);
		}
	}
	print_escalations(p, out);
	sp_policy_tables_print(p, out);
	sp_limits_print(p, out);
	fprintf(out, "\nrules and their purposes:\n");
	for (size_t i = 0; i < sp_policy_rule_count(p); i++)
		fprintf(out, "  %s (line %d): %s\n", sp_policy_rule_at(p, i)->id, sp_policy_rule_at(p, i)->line,
		        sp_policy_rule_at(p, i)->purpose);
}
