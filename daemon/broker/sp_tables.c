/*
 * sp_tables.c — a referral at the seeds' tables, broker side (sp_tables.h).
 *
 * The broker decides from headers and the policy only. What a member gets
 * is computed per signal from the rules (sp_policy_entitlement) and capped
 * at the member's tier; sp_release_share_tiers then forwards exactly the
 * grants sealed for that organisation at submit, without the on-escalation
 * ones above the cap. Nothing here can create a grant.
 */
#include "sp_tables.h"
#include "sp_meta_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_audit.h"
#include "sp_log.h"
#include "sp_policy_tables.h"
#include "sp_referral_status.h"
#include "sp_release.h"
#include "sp_signal.h"
#include "sp_translate.h"
#include "sp_util.h"
#include "sp_wire.h"

#define C "tables"
#define IMM SP_MODE_BIT(SP_WHEN_IMMEDIATELY)
#define ESC SP_MODE_BIT(SP_WHEN_ON_ESCALATION)
#define UPTO(tier) ((tier) < 0 ? 0u : (2u << (tier)) - 1u)

static const sp_policy_escalation *esc_of(const sp_policy *p, const char *rule_id)
{
	for (size_t i = 0; rule_id && i < sp_policy_escalation_count(p); i++)
		if (strcmp(sp_policy_escalation_at(p, i)->id, rule_id) == 0)
			return sp_policy_escalation_at(p, i);
	return NULL;
}

int sp_tables_govern(const sp_policy *p, const char *rule_id)
{
	const sp_policy_escalation *e = esc_of(p, rule_id);
	return e && e->table;
}

/* ---- the current table ------------------------------------------------------ */

static size_t tkey(uint8_t k[3 + 16 + 16], const char *tag, const uint8_t ref[16], const uint8_t *id)
{
	memcpy(k, tag, 3);
	memcpy(k + 3, ref, 16);
	if (id)
		memcpy(k + 19, id, 16);
	return id ? 35 : 19;
}

int sp_tables_current(sp_txn *t, const uint8_t ref_id[16], char *out, size_t len, int *kind)
{
	uint8_t k[35];
	const void *v;
	size_t vl;
	int rc = sp_store_get(t, SP_DB_META, k, tkey(k, SP_MK_TABLE, ref_id, NULL), &v, &vl);
	out[0] = '\0';
	if (kind)
		*kind = 0;
	if (rc == SP_ENOTFOUND)
		return SP_OK;
	if (rc != SP_OK)
		return rc;
	if (vl < 2 || vl - 1 >= len || vl - 1 > SP_TABLE_ID_MAX)
		return SP_ECORRUPT;
	if (kind)
		*kind = ((const uint8_t *)v)[0];
	memcpy(out, (const uint8_t *)v + 1, vl - 1);
	out[vl - 1] = '\0';
	return SP_OK;
}

static int set_current(sp_txn *t, const uint8_t ref_id[16], int kind, const char *table)
{
	uint8_t k[35], v[1 + SP_TABLE_ID_MAX];
	size_t n = strlen(table);
	if (n > SP_TABLE_ID_MAX)
		return SP_EINVAL;
	v[0] = (uint8_t)kind;
	memcpy(v + 1, table, n);
	return sp_store_put(t, SP_DB_META, k, tkey(k, SP_MK_TABLE, ref_id, NULL), v, 1 + n, 0);
}

int sp_tables_forget_signal(sp_txn *t, const uint8_t ref_id[16], const uint8_t id[16])
{
	uint8_t k[35];
	int rc = sp_store_del(t, SP_DB_META, k, tkey(k, SP_MK_TABLE_SIGNAL, ref_id, id));
	return rc == SP_ENOTFOUND ? SP_OK : rc;
}

/* ---- releasing to a table's members ---------------------------------------- */

struct ctx {
	sp_txn *t;
	const sp_policy *p;
	const sp_roster *roster;
	const sp_policy_escalation *esc;
	const Seinpost__Referral *r;
	const sp_policy_table *table;
	const char *why;          /* "joined", "moved up", ... for the audit reason */
	size_t released;
	int rc;
};

static int load_header(sp_txn *t, const uint8_t id[16], Seinpost__SignalHeader **h)
{
	const void *v;
	size_t vl;
	int rc = sp_store_get(t, SP_DB_SIGNALS, id, 16, &v, &vl);
	*h = NULL;
	if (rc != SP_OK)
		return rc;
	if ((rc = sp_wire_stored_signal_header(v, vl, h)) == SP_OK && (rc = sp_translate_header(*h)) != SP_OK) {
		seinpost__signal_header__free_unpacked(*h, NULL);
		*h = NULL;
	}
	return rc;
}

/* The tiers of h that a member of role may see at tier `cap`: those a rule
 * gives it at once or on escalation (bit 1 << tier); *esc the on-escalation
 * ones among them (what a release hands over), *rule the highest's rule. */
static unsigned member_tiers(const sp_policy *p, const Seinpost__SignalHeader *h, const char *role, int cap,
                             unsigned *esc, const sp_policy_rule **rule)
{
	sp_entitlement en;
	unsigned m = 0;
	*esc = 0;
	*rule = NULL;
	sp_policy_entitlement(p, (int)h->subject_kind, h->category, (int)h->weight, role, &en);
	for (int tier = 0; tier <= cap && tier < SP_TIER_COUNT; tier++) {
		if (en.when[tier] != SP_WHEN_IMMEDIATELY && en.when[tier] != SP_WHEN_ON_ESCALATION)
			continue;
		m |= 1u << tier;
		if (en.when[tier] == SP_WHEN_ON_ESCALATION)
			*esc |= 1u << tier;
		*rule = en.rule[tier];
	}
	return m;
}

/* The referral as this member sees it: the signals its role may see, the
 * others counted; the current table; the time of this change. */
struct refcopy {
	Seinpost__Referral r;
	ProtobufCBinaryData *ids;
};

static int refcopy_make(const struct ctx *x, const char *role, struct refcopy *c)
{
	c->r = *x->r;
	c->ids = calloc(x->r->n_signal_ids ? x->r->n_signal_ids : 1, sizeof *c->ids);
	if (!c->ids)
		return SP_ENOMEM;
	c->r.n_signal_ids = 0;
	for (size_t i = 0; i < x->r->n_signal_ids; i++) {
		Seinpost__SignalHeader *h = NULL;
		unsigned esc;
		const sp_policy_rule *rule;
		if (x->r->signal_ids[i].len != 16 || load_header(x->t, x->r->signal_ids[i].data, &h) != SP_OK)
			continue;
		if (strcmp(role, x->esc->to_role) == 0 || member_tiers(x->p, h, role, SP_TIER_FULL, &esc, &rule))
			c->ids[c->r.n_signal_ids++] = x->r->signal_ids[i];
		else
			c->r.hidden++;
		seinpost__signal_header__free_unpacked(h, NULL);
	}
	c->r.signal_ids = c->ids;
	c->r.table = (char *)x->table->id;
	if (c->r.status_time < sp_now_ms())
		c->r.status_time = sp_now_ms();
	return SP_OK;
}

/* Hand one signal of the referral to the members of x->table: to each
 * organisation of a member role (not its sender), the grants sealed for it
 * up to its tier, when that includes something held on escalation. */
static int release_signal(void *ctx, const uint8_t id[16])
{
	struct ctx *x = ctx;
	Seinpost__SignalHeader *h = NULL;
	char why[200];
	int rc = load_header(x->t, id, &h);
	if (rc == SP_ENOTFOUND)
		return 0; /* expired meanwhile */
	if (rc != SP_OK)
		return x->rc = rc, 1;
	for (size_t o = 0; o < sp_roster_count(x->roster) && rc == SP_OK; o++) {
		const sp_org *to = sp_roster_at(x->roster, o);
		int cap = sp_policy_table_tier(x->table, to->role);
		const sp_policy_rule *rule;
		struct refcopy c;
		unsigned esc;
		/* The coordinator gets every signal it may see, carrying the
		 * referral (as escalate() does without tables); others only
		 * when something held on escalation comes free. */
		if (cap < 0 || strcmp(to->id, h->sender) == 0 || !member_tiers(x->p, h, to->role, cap, &esc, &rule) ||
		    (!esc && strcmp(to->role, x->esc->to_role) != 0))
			continue;
		if ((rc = refcopy_make(x, to->role, &c)) != SP_OK)
			break;
		rc = sp_release_share_tiers(x->t, id, to->id, IMM | ESC, UPTO(cap), rule ? rule->id : NULL, &c.r);
		free(c.ids);
		if (rc != SP_OK)
			break;
		snprintf(why, sizeof why, "table %s (%s): on-escalation tiers up to %s per rule %s", x->table->id, x->why,
		         sp_tier_name(cap), rule ? rule->id : "-");
		sp_audit_entry a = {
			.event = SEINPOST__AUDIT_EVENT__AUDIT_RELEASED,
			.actor = "broker",
			.recipient = to->id,
			.pseudonym = h->pseudonym.data,
			.signal_id = h->id.data,
			.category = h->category,
			.weight = h->weight,
			.tiers = esc,
			.rule_id = x->esc->id,
			.legal_basis = x->esc->basis,
			.reason = why,
			.policy_hash = h->policy_hash.data,
		};
		rc = sp_audit_append(x->t, &a, NULL);
		x->released++;
	}
	seinpost__signal_header__free_unpacked(h, NULL);
	if (rc != SP_OK)
		return x->rc = rc, 1;
	return 0;
}

/* A signal joins: once per signal and referral ("tbs:" marker), whether or
 * not the coordinator may see it (escalate() lists only those). */
static int join_signal(void *ctx, const uint8_t id[16])
{
	struct ctx *x = ctx;
	uint8_t k[35];
	const void *v;
	size_t vl;
	size_t kl = tkey(k, SP_MK_TABLE_SIGNAL, x->r->id.data, id);
	if (sp_store_get(x->t, SP_DB_META, k, kl, &v, &vl) == SP_OK)
		return 0;
	if ((x->rc = sp_store_put(x->t, SP_DB_META, k, kl, "", 0, 0)) != SP_OK)
		return 1;
	return release_signal(ctx, id);
}

int sp_tables_on_escalate(const sp_engine *e, sp_txn *t, const Seinpost__Referral *r, const uint8_t (*fresh)[16],
                          size_t n, int kind)
{
	struct ctx x = { t, e->policy, e->roster, esc_of(e->policy, r->rule_id), r, NULL, "joined", 0, SP_OK };
	char cur[SP_TABLE_ID_MAX + 1];
	int rc;
	(void)fresh;
	(void)n;
	if (!x.esc || !x.esc->table || r->id.len != 16 || r->pseudonym.len != 32)
		return SP_OK;
	if ((rc = sp_tables_current(t, r->id.data, cur, sizeof cur, NULL)) != SP_OK)
		return rc;
	if (!cur[0]) {
		snprintf(cur, sizeof cur, "%s", x.esc->table);
		if ((rc = set_current(t, r->id.data, kind, cur)) != SP_OK)
			return rc;
	}
	/* A table the policy no longer has: back to the entry table. */
	if (!(x.table = sp_policy_table_find(e->policy, cur)))
		x.table = sp_policy_table_find(e->policy, x.esc->table);
	if (!x.table)
		return SP_OK;
	rc = sp_release_escalated_foreach(t, r->pseudonym.data, r->id.data, join_signal, &x);
	return rc != SP_OK ? rc : x.rc;
}

/* ---- moves ---------------------------------------------------------------- */

/* Roles whose tier falls from `from` to `to` lose what was still held for
 * them: their deferred releases of the referral's signals are capped. */
struct stop_ctx {
	struct ctx *x;
	const sp_policy_table *from, *to;
};

static int stop_signal(void *ctx, const uint8_t id[16])
{
	struct stop_ctx *s = ctx;
	for (size_t o = 0; o < sp_roster_count(s->x->roster); o++) {
		const sp_org *org = sp_roster_at(s->x->roster, o);
		int a = sp_policy_table_tier(s->from, org->role), b = sp_policy_table_tier(s->to, org->role);
		if (b >= a)
			continue;
		if ((s->x->rc = sp_release_deferred_limit(s->x->t, org->id, id, UPTO(b))) != SP_OK)
			return 1;
	}
	return 0;
}

/* "zvh full->summary, municipality out" into buf. */
static void losses(const sp_policy_table *from, const sp_policy_table *to, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < from->nmembers && o < len; i++) {
		int b = sp_policy_table_tier(to, from->members[i].role);
		if (b >= from->members[i].tier)
			continue;
		o += (size_t)snprintf(buf + o, len - o, "%s%s %s", o ? ", " : "", from->members[i].role,
		                      b < 0 ? "out" : sp_tier_name(b));
	}
}

static int apply_move(struct ctx *x, int kind, const char *org, const char *user, const sp_policy_table *from,
                      int dir, const char *reason, char *lost, size_t lostlen)
{
	char text[SP_REFERRAL_REASON_MAX + 256];
	int rc;
	losses(from, x->table, lost, lostlen);
	snprintf(text, sizeof text, "%s %s -> %s%s%s%s: %s", dir > 0 ? "up" : "down", from->id, x->table->id,
	         lost[0] ? " (stops: " : "", lost, lost[0] ? ")" : "", reason);
	sp_audit_entry a = {
		.event = SEINPOST__AUDIT_EVENT__AUDIT_REFERRAL_MOVED,
		.actor = org,
		.user = user,
		.pseudonym = x->r->pseudonym.data,
		.rule_id = x->r->rule_id,
		.legal_basis = x->r->basis,
		.reason = text,
		.policy_hash = sp_policy_hash(x->p),
	};
	if ((rc = set_current(x->t, x->r->id.data, kind, x->table->id)) != SP_OK ||
	    (rc = sp_audit_append(x->t, &a, NULL)) != SP_OK)
		return rc;
	if (dir < 0) {
		struct stop_ctx s = { x, from, x->table };
		rc = sp_release_escalated_foreach(x->t, x->r->pseudonym.data, x->r->id.data, stop_signal, &s);
		if (rc == SP_OK)
			rc = x->rc;
		if (rc != SP_OK)
			return rc;
	}
	x->why = dir > 0 ? "moved up" : "moved down";
	rc = sp_release_escalated_foreach(x->t, x->r->pseudonym.data, x->r->id.data, release_signal, x);
	if (rc == SP_OK)
		rc = x->rc;
	if (rc == SP_OK)
		sp_log_event(LOG_INFO, C, org, NULL, "referral moved %s from table %s to %s; %zu releases",
		             dir > 0 ? "up" : "down", from->id, x->table->id, x->released);
	return rc;
}

/* Concrete facts ("concrete feiten") open the MOT: the reason names them. */
static int states_facts(const char *reason)
{
	const char *p = strncasecmp(reason, "facts:", 6) == 0 ? reason + 6
	              : strncasecmp(reason, "feiten:", 7) == 0 ? reason + 7 : NULL;
	if (!p)
		return 0;
	while (*p == ' ')
		p++;
	return strlen(p) >= 10;
}

int sp_tables_move(sp_txn *t, const sp_roster *roster, const sp_policy *policy, const char *org,
                   const Seinpost__ReferralUpdate *u, uint8_t **reply, size_t *len)
{
	Seinpost__Referral *r = NULL;
	const sp_org *o = sp_roster_find(roster, org);
	const sp_policy_table *from = NULL, *to = NULL;
	struct ctx x = { .t = t, .p = policy, .roster = roster };
	char why[400], cur[SP_TABLE_ID_MAX + 1], lost[160], kinds[8];
	int code, rc, kind = 0, dir;

	*reply = NULL;
	*len = 0;
	code = SP_EINVAL;
	if (u->status[0] || u->intervention[0]) {
		snprintf(why, sizeof why, "a move sets no status: use `referral status` for that");
		goto refuse;
	}
	if (!sp_ident_ok(u->table) || strlen(u->table) > SP_TABLE_ID_MAX) {
		snprintf(why, sizeof why, "TABLE is a table id of the policy (a-z, 0-9, '-', '.')");
		goto refuse;
	}
	if ((code = sp_referral_reason_check(u->reason, u->user, why, sizeof why)) != SP_OK)
		goto refuse;
	rc = sp_escalate_referral_find(t, u->referral_id.data, &r);
	if (rc == SP_ENOTFOUND) {
		code = SP_ENOTFOUND;
		snprintf(why, sizeof why, "no open referral with that id (expired, or superseded)");
		goto refuse;
	}
	if (rc != SP_OK)
		return rc;
	x.r = r;
	x.esc = esc_of(policy, r->rule_id);
	if (!o || !x.esc || strcmp(o->role, x.esc->to_role) != 0) {
		code = SP_EROLE;
		snprintf(why, sizeof why, "only the coordinator of this referral (role %s) may move it",
		         x.esc ? x.esc->to_role : "of its escalation rule");
		goto refuse;
	}
	code = SP_EINVAL;
	if (sp_referral_ended(r)) {
		snprintf(why, sizeof why, "the referral is %s: a new signal opens a new one", r->status);
		goto refuse;
	}
	if (!x.esc->table) {
		snprintf(why, sizeof why, "escalation rule %s names no table: this referral stays with its coordinator",
		         x.esc->id);
		goto refuse;
	}
	if ((rc = sp_tables_current(t, r->id.data, cur, sizeof cur, &kind)) != SP_OK)
		goto out;
	if (!cur[0] && r->n_signal_ids && r->signal_ids[0].len == 16) {
		/* placed before the policy had tables: the kind of its signals */
		Seinpost__SignalHeader *h = NULL;
		if (load_header(t, r->signal_ids[0].data, &h) == SP_OK)
			kind = (int)h->subject_kind;
		if (h)
			seinpost__signal_header__free_unpacked(h, NULL);
	}
	from = sp_policy_table_find(policy, cur[0] ? cur : x.esc->table);
	if (!(to = sp_policy_table_find(policy, u->table))) {
		code = SP_ENOTFOUND;
		snprintf(why, sizeof why, "no table '%s' in the policy (see `seinpost policy check`)", u->table);
		goto refuse;
	}
	if (!from) {
		snprintf(why, sizeof why, "the referral's table %s is no longer in the policy", cur);
		goto refuse;
	}
	if (!(to->kind_mask & SP_POLICY_KIND_BIT(kind))) {
		snprintf(kinds, sizeof kinds, "%s", sp_policy_kind_name(kind));
		snprintf(why, sizeof why, "table %s does not take this referral's subject (a %s): kind mismatch", to->id,
		         kinds);
		goto refuse;
	}
	if (to == from) {
		snprintf(why, sizeof why, "the referral is already at table %s", to->id);
		goto refuse;
	}
	if (!(dir = sp_policy_table_direction(policy, from, to))) {
		snprintf(why, sizeof why, "table %s is not on this referral's ladder (it sits at %s)", to->id, from->id);
		goto refuse;
	}
	if (dir > 0 && to->requires_reason && !states_facts(u->reason)) {
		snprintf(why, sizeof why, "table %s needs concrete facts: give --reason 'facts: WHAT' (at least 10 "
		         "characters after it; kept in the audit log, no personal data)", to->id);
		goto refuse;
	}
	x.table = to;
	if ((rc = apply_move(&x, kind, org, u->user, from, dir, u->reason, lost, sizeof lost)) != SP_OK)
		goto out;
	if (dir > 0)
		snprintf(why, sizeof why, "moved up from %s to %s; %zu release(s) to its members", from->id, to->id,
		         x.released);
	else
		snprintf(why, sizeof why, "moved down from %s to %s; further releases stopped for: %s (grants already "
		         "delivered cannot be recalled)", from->id, to->id, lost[0] ? lost : "nobody");
	seinpost__referral__free_unpacked(r, NULL);
	return sp_referral_ack(u, SP_OK, why, reply, len);
refuse:
	sp_log_event(LOG_NOTICE, C, org, NULL, "referral move refused: %s", sp_strerror(code));
	rc = sp_referral_ack(u, code, why, reply, len);
out:
	if (r)
		seinpost__referral__free_unpacked(r, NULL);
	return rc;
}

int sp_tables_on_scaled_down(sp_txn *t, const sp_roster *roster, const sp_policy *policy, const char *org,
                             const char *user, const Seinpost__Referral *r, const char *reason, char *moved_to,
                             size_t len)
{
	struct ctx x = { .t = t, .p = policy, .roster = roster, .r = r, .esc = esc_of(policy, r->rule_id) };
	const sp_policy_table *from;
	char cur[SP_TABLE_ID_MAX + 1], text[SP_REFERRAL_REASON_MAX + 32], lost[160];
	int rc, kind = 0;
	moved_to[0] = '\0';
	if (!x.esc || !x.esc->table)
		return SP_OK;
	if ((rc = sp_tables_current(t, r->id.data, cur, sizeof cur, &kind)) != SP_OK)
		return rc;
	if (!cur[0] && r->n_signal_ids && r->signal_ids[0].len == 16) {
		/* placed before the policy had tables: the kind of its signals */
		Seinpost__SignalHeader *h = NULL;
		if (load_header(t, r->signal_ids[0].data, &h) == SP_OK)
			kind = (int)h->subject_kind;
		if (h)
			seinpost__signal_header__free_unpacked(h, NULL);
	}
	from = sp_policy_table_find(policy, cur[0] ? cur : x.esc->table);
	if (!from || !(x.table = sp_policy_table_below(policy, from)))
		return SP_OK; /* at the bottom: the status alone */
	snprintf(text, sizeof text, "status scaled-down: %s", reason);
	if ((rc = apply_move(&x, kind, org, user, from, -1, text, lost, sizeof lost)) == SP_OK)
		snprintf(moved_to, len, "%s", x.table->id);
	return rc;
}
