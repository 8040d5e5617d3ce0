/*
 * sp_escalate.c — the broker's policy engine after admission.
 *
 * Markers in SP_DB_META (binary keys, no personal data):
 *   "i:" org '\0' id(16)      if-involved grants of signal id released to org
 *   "a:" pseudonym pseudonym  the two pseudonyms name one subject (epochs)
 *   "f:" pseudonym            the subject's open Referral
 * Involvements: SP_DB_INVOLVE, pseudonym(32) org -> Involvement.
 */
#include "sp_escalate.h"
#include "sp_meta_keys.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_audit.h"
#include "sp_limits.h"
#include "sp_log.h"
#include "sp_release.h"
#include "sp_signal.h"
#include "sp_tables.h"
#include "sp_translate.h"
#include "sp_kh.h"
#include "sp_util.h"
#include "sp_wire.h"

#define C "engine"
#define ORG_MAX 64
#define MAX_INVOLVE_S (5u * 366u * 86400u) /* an involvement is renewed, not forever */
#define MAX_SUBJECT_SIGNALS 4096

#define IMM SP_MODE_BIT(SP_WHEN_IMMEDIATELY)
#define IFI SP_MODE_BIT(SP_WHEN_IF_INVOLVED)
#define ESC SP_MODE_BIT(SP_WHEN_ON_ESCALATION)

struct sig_ref {
	uint8_t id[16];
	uint8_t pseudonym[32];
	uint64_t created;
	int weight;
	char sender[ORG_MAX + 1];
};

struct sig_list {
	struct sig_ref *v;
	size_t n, cap;
	const uint8_t *pseudonym;
};

static int audit(sp_txn *t, int event, const char *to, const Seinpost__SignalHeader *h,
                 const uint8_t *pseudonym, unsigned tiers, const char *rule, const char *basis,
                 const char *reason, const uint8_t *policy_hash)
{
	sp_audit_entry a = {
		.event = event,
		.actor = "broker",
		.recipient = to,
		.pseudonym = h ? h->pseudonym.data : pseudonym,
		.signal_id = h ? h->id.data : NULL,
		.category = h ? h->category : NULL,
		.weight = h ? h->weight : 0,
		.tiers = tiers,
		.rule_id = rule,
		.legal_basis = basis,
		.reason = reason,
		.policy_hash = policy_hash,
	};
	return sp_audit_append(t, &a, NULL);
}

/* Tiers a role may receive in mode `when` (bit 0 = existence), and the rule
 * of the lowest such tier. */
static unsigned tiers_when(const sp_policy *p, const char *role, int kind, const char *cat, int weight,
                           int when, const sp_policy_rule **rule)
{
	sp_entitlement en;
	unsigned m = 0;
	*rule = NULL;
	sp_policy_entitlement(p, kind, cat, weight, role, &en);
	for (int t = 0; t < SP_TIER_COUNT; t++) {
		if (en.when[t] != when)
			continue;
		m |= 1u << t;
		if (!*rule)
			*rule = en.rule[t];
	}
	return m;
}

static size_t involve_key(uint8_t *k, const uint8_t pseudonym[32], const char *org)
{
	size_t n = strlen(org);
	memcpy(k, pseudonym, 32);
	memcpy(k + 32, org, n);
	return 32 + n;
}

int sp_escalate_involved(sp_txn *t, const uint8_t pseudonym[32], const char *org, uint64_t now_s)
{
	uint8_t k[32 + ORG_MAX];
	const void *v;
	size_t vl;
	Seinpost__Involvement *inv;
	int yes;
	if (strlen(org) > ORG_MAX || sp_store_get(t, SP_DB_INVOLVE, k, involve_key(k, pseudonym, org), &v, &vl) != SP_OK)
		return 0;
	inv = seinpost__involvement__unpack(NULL, vl, v);
	yes = inv && inv->until > now_s;
	if (inv)
		seinpost__involvement__free_unpacked(inv, NULL);
	return yes;
}

static size_t mark_key(uint8_t *k, const char *org, const uint8_t id[16])
{
	size_t n = strlen(org);
	memcpy(k, SP_MK_IF_INVOLVED, 2);
	memcpy(k + 2, org, n);
	k[2 + n] = '\0';
	memcpy(k + 3 + n, id, 16);
	return n + 19;
}

static int marked(sp_txn *t, const char *org, const uint8_t id[16])
{
	uint8_t k[2 + ORG_MAX + 1 + 16];
	const void *v;
	size_t vl;
	return sp_store_get(t, SP_DB_META, k, mark_key(k, org, id), &v, &vl) == SP_OK;
}

static int mark(sp_txn *t, const char *org, const uint8_t id[16])
{
	uint8_t k[2 + ORG_MAX + 1 + 16];
	return sp_store_put(t, SP_DB_META, k, mark_key(k, org, id), "", 0, 0);
}

static int list_add(void *ctx, const sp_subject_sig *s)
{
	struct sig_list *l = ctx;
	struct sig_ref *r;
	if (l->n >= MAX_SUBJECT_SIGNALS)
		return 1;
	if (l->n == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 16;
		void *a = realloc(l->v, c * sizeof *l->v);
		if (!a)
			return 1;
		l->v = a;
		l->cap = c;
	}
	r = &l->v[l->n++];
	memcpy(r->id, s->id, 16);
	memcpy(r->pseudonym, l->pseudonym, 32);
	r->created = s->created;
	r->weight = s->weight;
	/* a copy, not snprintf: this runs for every indexed signal of the subject */
	strncpy(r->sender, s->sender ? s->sender : "", sizeof r->sender - 1);
	r->sender[sizeof r->sender - 1] = '\0';
	return 0;
}

#define MAX_ALIASES 16

struct aliases {
	uint8_t p[MAX_ALIASES][32];
	size_t n;
};

static int alias_visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct aliases *a = ctx;
	if (kl != 66)
		return 0;
	if (a->n >= MAX_ALIASES)
		return 1;
	memcpy(a->p[a->n++], (const uint8_t *)k + 34, 32);
	return 0;
}

/* Every indexed signal about the subject, under every epoch we linked. */
static void subject_signals(sp_txn *t, const uint8_t pseudonym[32], struct sig_list *l)
{
	uint8_t prefix[34];
	struct aliases a = { .n = 0 };
	l->pseudonym = pseudonym;
	(void)sp_release_subject_foreach(t, pseudonym, list_add, l);
	memcpy(prefix, SP_MK_ALIAS, 2);
	memcpy(prefix + 2, pseudonym, 32);
	(void)sp_store_foreach(t, SP_DB_META, prefix, sizeof prefix, alias_visit, &a);
	for (size_t i = 0; i < a.n; i++) {
		l->pseudonym = a.p[i];
		(void)sp_release_subject_foreach(t, a.p[i], list_add, l);
	}
	l->pseudonym = NULL;
}

static int load_header(sp_txn *t, const uint8_t id[16], Seinpost__SignalHeader **h)
{
	const void *v;
	size_t vl;
	int rc = sp_store_get(t, SP_DB_SIGNALS, id, 16, &v, &vl);
	*h = NULL;
	if (rc != SP_OK)
		return rc;
	/* P beside the header filled in (sp_wire.h), under the current key epoch */
	if ((rc = sp_wire_stored_signal_header(v, vl, h)) == SP_OK && sp_translate_header(*h) != SP_OK) {
		seinpost__signal_header__free_unpacked(*h, NULL);
		*h = NULL;
		rc = SP_ECORRUPT;
	}
	return rc;
}

/* Release a signal's if-involved grants to org once; `why` names the cause
 * (a registered involvement, or a match rule). */
static int release_involved(const sp_engine *e, sp_txn *t, const Seinpost__SignalHeader *h,
                            const sp_org *to, const sp_policy_match *match)
{
	const sp_policy_rule *rule;
	unsigned tiers;
	char why[160];
	int rc;

	if (strcmp(to->id, h->sender) == 0 || strcmp(to->role, "privacy-officer") == 0 ||
	    marked(t, to->id, h->id.data))
		return SP_OK;
	tiers = tiers_when(e->policy, to->role, (int)h->subject_kind, h->category, (int)h->weight, SP_WHEN_IF_INVOLVED, &rule);
	if (!tiers)
		return SP_OK;
	rc = sp_release_share(t, h->id.data, to->id, IMM | IFI, rule->id, NULL);
	if (rc == SP_OK)
		rc = mark(t, to->id, h->id.data);
	if (rc == SP_OK && match)
		rc = audit(t, SEINPOST__AUDIT_EVENT__AUDIT_MATCHED, to->id, h, NULL, tiers, match->id,
		           match->basis, "both organisations signalled about this subject", h->policy_hash.data);
	if (rc == SP_OK) {
		snprintf(why, sizeof why, "if-involved: %s", match ? "match rule" : "registered involvement");
		rc = audit(t, SEINPOST__AUDIT_EVENT__AUDIT_RELEASED, to->id, h, NULL, tiers, rule->id,
		           rule->basis, why, h->policy_hash.data);
	}
	if (rc == SP_OK)
		sp_log_event(LOG_INFO, C, to->id, NULL, "released if-involved tiers (rule %s)", rule->id);
	return rc;
}

/* The match rule under which `org` counts as involved through a signal of
 * its own about the subject (other than `except`), or NULL. */
static const sp_policy_match *signalled(const sp_engine *e, const struct sig_list *l, const char *org,
                                        const uint8_t *except)
{
	for (size_t m = 0; m < sp_policy_match_count(e->policy); m++) {
		const sp_policy_match *mr = sp_policy_match_at(e->policy, m);
		uint64_t from = e->now_s > mr->window_days * 86400ull ? e->now_s - mr->window_days * 86400ull : 0;
		for (size_t i = 0; i < l->n; i++)
			if (strcmp(l->v[i].sender, org) == 0 && l->v[i].created >= from &&
			    (!except || memcmp(l->v[i].id, except, 16) != 0))
				return mr;
	}
	return NULL;
}

static int route_involved(const sp_engine *e, sp_txn *t, const Seinpost__SignalHeader *h,
                          const struct sig_list *l)
{
	const sp_org *sender = sp_roster_find(e->roster, h->sender);
	int rc = SP_OK;
	/* This signal to every org involved (registered, or by match). */
	for (size_t i = 0; i < sp_roster_count(e->roster) && rc == SP_OK; i++) {
		const sp_org *o = sp_roster_at(e->roster, i);
		if (sp_escalate_involved(t, h->pseudonym.data, o->id, e->now_s))
			rc = release_involved(e, t, h, o, NULL);
		else {
			const sp_policy_match *m = signalled(e, l, o->id, h->id.data);
			if (m)
				rc = release_involved(e, t, h, o, m);
		}
	}
	/* Match, the other way: the sender now learns of earlier signals by
	 * others, as far as its role's if-involved rules allow. */
	if (!sender || !sp_policy_match_count(e->policy))
		return rc;
	for (size_t i = 0; i < l->n && rc == SP_OK; i++) {
		Seinpost__SignalHeader *other = NULL;
		const sp_policy_match *m;
		if (memcmp(l->v[i].id, h->id.data, 16) == 0 || strcmp(l->v[i].sender, h->sender) == 0)
			continue;
		m = signalled(e, l, h->sender, NULL);
		if (!m || l->v[i].created + sp_policy_match_at(e->policy, 0)->window_days * 86400ull < e->now_s)
			continue;
		if (load_header(t, l->v[i].id, &other) != SP_OK)
			continue;
		rc = release_involved(e, t, other, sender, m);
		seinpost__signal_header__free_unpacked(other, NULL);
	}
	return rc;
}

/* ---- escalation ------------------------------------------------------------ */

static int fires(const sp_policy_escalation *r, const struct sig_list *l, uint64_t now,
                 unsigned *orgs, unsigned *sum)
{
	uint64_t from = now > r->window_days * 86400ull ? now - r->window_days * 86400ull : 0;
	int maxw = 0;
	*orgs = 0;
	*sum = 0;
	for (size_t i = 0; i < l->n; i++) {
		int seen = 0;
		if (l->v[i].created < from)
			continue;
		for (size_t j = 0; j < i; j++)
			if (l->v[j].created >= from && strcmp(l->v[j].sender, l->v[i].sender) == 0)
				seen = 1;
		*orgs += !seen;
		*sum += (unsigned)l->v[i].weight;
		if (l->v[i].weight > maxw)
			maxw = l->v[i].weight;
	}
	if (r->min_orgs && *orgs < r->min_orgs)
		return 0;
	if (r->min_weight_sum && *sum < r->min_weight_sum)
		return 0;
	if (r->min_weight && maxw < r->min_weight)
		return 0;
	return *orgs > 0;
}

static int load_referral(sp_txn *t, const uint8_t pseudonym[32], Seinpost__Referral **out)
{
	uint8_t k[34];
	const void *v;
	size_t vl;
	memcpy(k, SP_MK_REFERRAL, 2);
	memcpy(k + 2, pseudonym, 32);
	*out = NULL;
	if (sp_store_get(t, SP_DB_META, k, sizeof k, &v, &vl) != SP_OK)
		return SP_ENOTFOUND;
	*out = seinpost__referral__unpack(NULL, vl, v);
	return *out ? SP_OK : SP_ECORRUPT;
}

static int save_referral(sp_txn *t, const Seinpost__Referral *r)
{
	uint8_t k[34], *buf = NULL;
	size_t len;
	int rc;
	memcpy(k, SP_MK_REFERRAL, 2);
	memcpy(k + 2, r->pseudonym.data, 32);
	rc = sp_wire_pack(&r->base, &buf, &len);
	if (rc == SP_OK)
		rc = sp_store_put(t, SP_DB_META, k, sizeof k, buf, len, 0);
	free(buf);
	return rc;
}

int sp_escalate_referral_load(sp_txn *t, const uint8_t pseudonym[32], Seinpost__Referral **out)
{
	return load_referral(t, pseudonym, out);
}

int sp_escalate_referral_save(sp_txn *t, const Seinpost__Referral *r)
{
	if (!r || r->pseudonym.len != 32 || r->id.len != 16)
		return SP_EINVAL;
	return save_referral(t, r);
}

struct find_ctx {
	const uint8_t *id;
	Seinpost__Referral *found;
};

static int find_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct find_ctx *c = ctx;
	Seinpost__Referral *r = seinpost__referral__unpack(NULL, vl, v);
	if (r && r->id.len == 16 && r->pseudonym.len == 32 && sodium_memcmp(r->id.data, c->id, 16) == 0) {
		c->found = r;
		return 1;
	}
	if (r)
		seinpost__referral__free_unpacked(r, NULL);
	return 0;
}

int sp_escalate_referral_find(sp_txn *t, const uint8_t id[16], Seinpost__Referral **out)
{
	/* A walk over the open referrals: a status change is a person's act,
	 * rare next to signals, so no second index to keep consistent. */
	struct find_ctx c = { .id = id };
	*out = NULL;
	(void)sp_store_foreach(t, SP_DB_META, SP_MK_REFERRAL, 2, find_one, &c);
	*out = c.found;
	return c.found ? SP_OK : SP_ENOTFOUND;
}

int sp_referral_ended(const Seinpost__Referral *r)
{
	return r && (strcmp(r->status, "closed") == 0 || strcmp(r->status, "declined") == 0);
}

/* The referral we build or extend: owns its arrays. */
struct referral {
	Seinpost__Referral r;
	uint8_t id[16];
	uint8_t pseudonym[32];
	uint8_t (*ids)[16];
	ProtobufCBinaryData *bins;
	size_t n;
	char rule[ORG_MAX + 1];
	char *basis;
	char status[32];     /* the coordinator's, kept when the referral grows */
};

static void referral_clear(struct referral *f)
{
	free(f->ids);
	free(f->bins);
	free(f->basis);
}

static int referral_add(struct referral *f, const uint8_t id[16])
{
	void *a = realloc(f->ids, (f->n + 1) * sizeof *f->ids), *b;
	if (!a)
		return SP_ENOMEM;
	f->ids = a;
	b = realloc(f->bins, (f->n + 1) * sizeof *f->bins);
	if (!b)
		return SP_ENOMEM;
	f->bins = b;
	memcpy(f->ids[f->n], id, 16);
	f->n++;
	for (size_t i = 0; i < f->n; i++) {
		f->bins[i].data = f->ids[i];
		f->bins[i].len = 16;
	}
	f->r.signal_ids = f->bins;
	f->r.n_signal_ids = f->n;
	return SP_OK;
}

static int escalate(const sp_engine *e, sp_txn *t, const Seinpost__SignalHeader *h,
                    const struct sig_list *l)
{
	const sp_policy_escalation *r = NULL;
	Seinpost__Referral *old = NULL;
	struct referral f;
	unsigned orgs = 0, sum = 0;
	uint64_t from;
	size_t newly = 0;
	uint8_t (*fresh)[16] = NULL;
	int rc = SP_OK, created = 0;
	char why[160];

	memset(&f, 0, sizeof f);
	for (size_t i = 0; i < sp_policy_escalation_count(e->policy) && !r; i++) {
		const sp_policy_escalation *x = sp_policy_escalation_at(e->policy, i);
		/* A rule for persons never fires on a location or a business
		 * (and nothing fires on an anonymous report). */
		if (!(x->kind_mask & SP_POLICY_KIND_BIT(h->subject_kind)))
			continue;
		if (fires(x, l, e->now_s, &orgs, &sum))
			r = x;
	}
	if (!r)
		return SP_OK; /* not (yet): nothing is released */
	from = e->now_s > r->window_days * 86400ull ? e->now_s - r->window_days * 86400ull : 0;

	seinpost__referral__init(&f.r);
	rc = load_referral(t, h->pseudonym.data, &old);
	if (rc == SP_OK && old->fired >= from && old->id.len == 16 && !sp_referral_ended(old)) {
		/* The subject already has an open referral: extend it. */
		memcpy(f.id, old->id.data, 16);
		snprintf(f.rule, sizeof f.rule, "%s", old->rule_id);
		snprintf(f.status, sizeof f.status, "%s", old->status);
		f.basis = strdup(old->basis);
		f.r.fired = old->fired;
		f.r.hidden = old->hidden;
		f.r.status_time = old->status_time;
		for (size_t i = 0; i < old->n_signal_ids && rc == SP_OK; i++)
			if (old->signal_ids[i].len == 16)
				rc = referral_add(&f, old->signal_ids[i].data);
	} else {
		randombytes_buf(f.id, sizeof f.id);
		snprintf(f.rule, sizeof f.rule, "%s", r->id);
		f.basis = strdup(r->basis);
		f.r.fired = e->now_s;
		created = 1;
		rc = SP_OK;
	}
	if (old)
		seinpost__referral__free_unpacked(old, NULL);
	if (rc != SP_OK || !f.basis) {
		rc = rc ? rc : SP_ENOMEM;
		goto out;
	}
	memcpy(f.pseudonym, h->pseudonym.data, 32);
	f.r.id.data = f.id;
	f.r.id.len = 16;
	f.r.rule_id = f.rule;
	f.r.basis = f.basis;
	f.r.status = f.status;
	f.r.pseudonym.data = f.pseudonym;
	f.r.pseudonym.len = 32;
	f.r.orgs = orgs;
	f.r.weight_sum = sum;
	fresh = calloc(l->n ? l->n : 1, sizeof *fresh);
	if (!fresh) {
		rc = SP_ENOMEM;
		goto out;
	}

	/* Which signals in the window join the referral; only those the
	 * receiving role may see are listed, the rest are counted. */
	for (size_t i = 0; i < l->n && rc == SP_OK; i++) {
		Seinpost__SignalHeader *sh = NULL;
		sp_entitlement en;
		if (l->v[i].created < from || sp_release_is_escalated(t, l->v[i].pseudonym, l->v[i].id))
			continue;
		if (load_header(t, l->v[i].id, &sh) != SP_OK)
			continue;
		rc = sp_release_mark_escalated(t, l->v[i].pseudonym, l->v[i].id, f.id);
		sp_policy_entitlement(e->policy, (int)sh->subject_kind, sh->category, (int)sh->weight, r->to_role, &en);
		if (rc == SP_OK && en.when[SP_TIER_EXISTENCE]) {
			rc = referral_add(&f, l->v[i].id);
			memcpy(fresh[newly++], l->v[i].id, 16);
		} else
			f.r.hidden++;
		seinpost__signal_header__free_unpacked(sh, NULL);
	}
	if (rc == SP_OK)
		rc = save_referral(t, &f.r);
	if (rc == SP_OK && created) {
		snprintf(why, sizeof why, "%u signals from %u organisations, summed weight %u; %zu listed, %u not shareable",
		         (unsigned)(f.n + f.r.hidden), orgs, sum, f.n, f.r.hidden);
		rc = audit(t, SEINPOST__AUDIT_EVENT__AUDIT_ESCALATED, NULL, NULL, h->pseudonym.data, 0, r->id,
		           r->basis, why, h->policy_hash.data);
		sp_log(LOG_NOTICE, C, "escalation rule %s fired: referral to role %s", r->id, r->to_role);
	}
	/* Release to every org of the role: its on-escalation grants (and what
	 * it already had) of each newly listed signal, carrying the referral.
	 * When the rule names a table, the table's members instead (sp_tables.c). */
	if (rc == SP_OK && sp_tables_govern(e->policy, f.r.rule_id))
		rc = sp_tables_on_escalate(e, t, &f.r, fresh, newly, (int)h->subject_kind);
	for (size_t i = 0; i < newly && rc == SP_OK && !sp_tables_govern(e->policy, f.r.rule_id); i++) {
		Seinpost__SignalHeader *sh = NULL;
		if (load_header(t, fresh[i], &sh) != SP_OK)
			continue;
		for (size_t o = 0; o < sp_roster_count(e->roster) && rc == SP_OK; o++) {
			const sp_org *to = sp_roster_at(e->roster, o);
			const sp_policy_rule *grule = NULL, *irule = NULL;
			unsigned modes = IMM | ESC, tiers;
			if (strcmp(to->role, r->to_role) != 0 || strcmp(to->id, sh->sender) == 0)
				continue;
			tiers = tiers_when(e->policy, to->role, (int)sh->subject_kind, sh->category, (int)sh->weight,
			                   SP_WHEN_ON_ESCALATION, &grule);
			if (tiers_when(e->policy, to->role, (int)sh->subject_kind, sh->category, (int)sh->weight, SP_WHEN_IF_INVOLVED, &irule) &&
			    sp_escalate_involved(t, sh->pseudonym.data, to->id, e->now_s))
				modes |= IFI;
			if (!grule)
				grule = irule;
			rc = sp_release_share(t, fresh[i], to->id, modes, grule ? grule->id : NULL, &f.r);
			if (rc == SP_OK) {
				snprintf(why, sizeof why, "escalation %s: on-escalation tiers per rule %s",
				         r->id, grule ? grule->id : "-");
				rc = audit(t, SEINPOST__AUDIT_EVENT__AUDIT_RELEASED, to->id, sh, NULL, tiers, r->id,
				           r->basis, why, sh->policy_hash.data);
			}
		}
		seinpost__signal_header__free_unpacked(sh, NULL);
	}
out:
	free(fresh);
	referral_clear(&f);
	return rc;
}

int sp_escalate_on_signal(const sp_engine *e, sp_txn *t, const Seinpost__SignalHeader *h)
{
	struct sig_list l = { 0 };
	int rc = sp_release_index_add(t, h);
	if (rc != SP_OK)
		return rc;
	subject_signals(t, h->pseudonym.data, &l);
	rc = route_involved(e, t, h, &l);
	if (rc == SP_OK)
		rc = escalate(e, t, h, &l);
	free(l.v);
	return rc;
}

int sp_escalate_rule_holds(const sp_engine *e, sp_txn *t, const uint8_t pseudonym[32], const char *rule_id)
{
	struct sig_list l = { 0 };
	unsigned orgs, sum;
	int holds = 0;
	for (size_t i = 0; i < sp_policy_escalation_count(e->policy); i++) {
		const sp_policy_escalation *x = sp_policy_escalation_at(e->policy, i);
		if (strcmp(x->id, rule_id) != 0)
			continue;
		subject_signals(t, pseudonym, &l);
		holds = fires(x, &l, e->now_s, &orgs, &sum);
		break;
	}
	free(l.v);
	return holds;
}

/* ---- involvement ----------------------------------------------------------- */

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* An involvement change, audited: who, which pseudonym, when, and the
 * rule (the role's [limits] section where the policy has one). */
static int audit_involve(const sp_engine *e, sp_txn *t, const sp_org *me, int event, const uint8_t *pseudo,
                         const char *reason, int code)
{
	char rule[80];
	snprintf(rule, sizeof rule, "%s %s", sp_policy_limits_find(e->policy, me->role) ? "limits" : "role", me->role);
	sp_audit_entry a = {
		.event = event,
		.actor = me->id,
		.pseudonym = pseudo,
		.rule_id = rule,
		.policy_hash = sp_policy_hash(e->policy),
		.reason = reason,
		.code = code,
	};
	return sp_audit_append(t, &a, NULL);
}

/* Store the "a:" link between two pseudonyms of one update (epochs), once,
 * and audit it under each: a link decides what escalation merges. */
static int link_alias(const sp_engine *e, sp_txn *t, const sp_org *me, const Seinpost__PseudonymAt *a,
                      const Seinpost__PseudonymAt *b)
{
	uint8_t ak[66];
	const void *v;
	size_t vl;
	char hex[17], why[160];
	int rc;
	memcpy(ak, SP_MK_ALIAS, 2);
	memcpy(ak + 2, a->pseudonym.data, 32);
	memcpy(ak + 34, b->pseudonym.data, 32);
	if ((rc = sp_store_get(t, SP_DB_META, ak, sizeof ak, &v, &vl)) != SP_ENOTFOUND)
		return rc;
	if ((rc = sp_store_put(t, SP_DB_META, ak, sizeof ak, "", 0, 0)) != SP_OK)
		return rc;
	snprintf(why, sizeof why, "epoch %u pseudonym linked to epoch %u pseudonym %s… by %s", a->epoch, b->epoch,
	         sp_hex(b->pseudonym.data, 8, hex), me->id);
	return audit_involve(e, t, me, SEINPOST__AUDIT_EVENT__AUDIT_ALIAS_LINKED, a->pseudonym.data, why, 0);
}

static int on_involve(const sp_engine *e, sp_txn *t, const char *org, const Seinpost__InvolveUpdate *u, char *why,
                      size_t whylen);

/* An update made under an older key epoch (in flight across a rotation) is
 * applied under the current one (sp_translate.h); the frame itself is left
 * as it came, so the acknowledgement names what the node sent. */
int sp_escalate_on_involve(const sp_engine *e, sp_txn *t, const char *org,
                           const Seinpost__InvolveUpdate *u, char *why, size_t whylen)
{
	Seinpost__InvolveUpdate c = *u;
	Seinpost__PseudonymAt at[16], *atp[16];
	uint8_t ps[16][32];
	if (u->n_pseudonyms > 16)
		return on_involve(e, t, org, u, why, whylen); /* refused there (sp_wire bounds it) */
	for (size_t i = 0; i < u->n_pseudonyms; i++) {
		at[i] = *u->pseudonyms[i];
		atp[i] = &at[i];
		if (at[i].pseudonym.len != 32)
			continue;
		if (sp_translate_to_current(at[i].epoch, at[i].pseudonym.data, ps[i]) != SP_OK) {
			WHY("pseudonym of key epoch %u, newer than the broker's translations", at[i].epoch);
			return SP_EINVAL;
		}
		at[i].pseudonym.data = ps[i];
		if (SP_PSEUDO_EPOCH_IS_OPRF(at[i].epoch))
			at[i].epoch = SP_PSEUDO_EPOCH_OPRF + sp_translate_epoch();
	}
	c.pseudonyms = atp;
	return on_involve(e, t, org, &c, why, whylen);
}

static int on_involve(const sp_engine *e, sp_txn *t, const char *org, const Seinpost__InvolveUpdate *u, char *why,
                      size_t whylen)
{
	const sp_org *me = sp_roster_find(e->roster, org);
	struct sig_list l = { 0 };
	uint8_t k0[32 + ORG_MAX];
	const void *v;
	size_t vl;
	uint64_t since;
	char until[32], reason[96];
	int rc = SP_OK, existed;

	if (!me) {
		WHY("organisation is not on the roster");
		return SP_EORG;
	}
	if (strcmp(me->role, "privacy-officer") == 0) {
		WHY("organisations of role privacy-officer register no involvements");
		return SP_EROLE;
	}
	if (!u->remove && u->until <= e->now_s) {
		WHY("involvement end date has already passed");
		return SP_EEXPIRED;
	}
	if (!u->remove && u->until > e->now_s + MAX_INVOLVE_S) {
		WHY("involvement may last at most 5 years; renew it instead");
		return SP_EINVAL;
	}
	/* One subject per update: its pseudonym under each key epoch, at most
	 * one per epoch. Two of one epoch are two subjects, and linking them
	 * would merge two children for escalation (issue 12, item 5). */
	for (size_t i = 0; i < u->n_pseudonyms; i++)
		for (size_t j = i + 1; j < u->n_pseudonyms; j++)
			if (u->pseudonyms[i]->epoch == u->pseudonyms[j]->epoch) {
				WHY("at most one pseudonym per key epoch in one update (pseudonyms %zu and %zu share "
				    "epoch %u)", i, j, u->pseudonyms[i]->epoch);
				return SP_EINVAL;
			}
	existed = sp_store_get(t, SP_DB_INVOLVE, k0, involve_key(k0, u->pseudonyms[0]->pseudonym.data, me->id),
	                       &v, &vl) == SP_OK;
	if (!u->remove && !existed) {
		rc = sp_limits_involve_check(t, e->policy, me->id, me->role, e->now_s, why, whylen);
		if (rc == SP_ELIMIT) {
			sp_log_event(LOG_WARNING, C, me->id, NULL, "involvement refused: %s", why);
			rc = audit_involve(e, t, me, SEINPOST__AUDIT_EVENT__AUDIT_REJECTED,
			                   u->pseudonyms[0]->pseudonym.data, why, SP_ELIMIT);
			return rc == SP_OK ? SP_ELIMIT : rc;
		}
		if (rc != SP_OK)
			return rc;
	}
	for (size_t i = 0; i < u->n_pseudonyms && rc == SP_OK; i++) {
		uint8_t k[32 + ORG_MAX];
		size_t kl = involve_key(k, u->pseudonyms[i]->pseudonym.data, me->id);
		if (u->remove) {
			rc = sp_store_del(t, SP_DB_INVOLVE, k, kl);
			if (rc == SP_ENOTFOUND)
				rc = SP_OK;
			continue;
		}
		Seinpost__Involvement inv = SEINPOST__INVOLVEMENT__INIT;
		uint8_t *buf = NULL;
		size_t len;
		inv.pseudonym = u->pseudonyms[i]->pseudonym;
		inv.pseudonym_epoch = u->pseudonyms[i]->epoch;
		inv.org = (char *)me->id;
		inv.until = u->until;
		rc = sp_wire_pack(&inv.base, &buf, &len);
		if (rc == SP_OK)
			rc = sp_store_put(t, SP_DB_INVOLVE, k, kl, buf, len, 0);
		free(buf);
		/* Link the subject's pseudonyms under different epochs. */
		for (size_t j = 0; j < u->n_pseudonyms && rc == SP_OK; j++)
			if (j != i)
				rc = link_alias(e, t, me, u->pseudonyms[i], u->pseudonyms[j]);
	}
	if (rc != SP_OK || !u->n_pseudonyms)
		return rc;
	if (u->remove) {
		if (!existed)
			return SP_OK;
		if ((rc = sp_limits_involve_count(t, me->id, -1, e->now_s)) == SP_OK)
			rc = audit_involve(e, t, me, SEINPOST__AUDIT_EVENT__AUDIT_UNINVOLVED,
			                   u->pseudonyms[0]->pseudonym.data, "involvement removed", 0);
		return rc;
	}
	snprintf(reason, sizeof reason, "%s until %s", existed ? "involvement renewed" : "involvement registered",
	         sp_iso_time(u->until * 1000u, until, sizeof until));
	if (!existed)
		rc = sp_limits_involve_count(t, me->id, 1, e->now_s);
	if (rc == SP_OK)
		rc = audit_involve(e, t, me, SEINPOST__AUDIT_EVENT__AUDIT_INVOLVED, u->pseudonyms[0]->pseudonym.data,
		                   reason, 0);
	if (rc != SP_OK)
		return rc;
	/* Registered after the signals: release what it may now see, no
	 * further back than the role's [limits] release_back_days. */
	since = sp_limits_release_since(e->policy, me->role, e->now_s);
	subject_signals(t, u->pseudonyms[0]->pseudonym.data, &l);
	for (size_t i = 0; i < l.n && rc == SP_OK; i++) {
		Seinpost__SignalHeader *h = NULL;
		if (load_header(t, l.v[i].id, &h) != SP_OK)
			continue;
		if (h->created >= since)
			rc = release_involved(e, t, h, me, NULL);
		seinpost__signal_header__free_unpacked(h, NULL);
	}
	free(l.v);
	return rc;
}

int sp_escalate_refusal(int rc)
{
	return rc == SP_EINVAL || rc == SP_EEXPIRED || rc == SP_EROLE || rc == SP_EORG || rc == SP_ELIMIT;
}
