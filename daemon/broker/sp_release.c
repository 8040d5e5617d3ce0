/* sp_release.c — queue grants a recipient becomes entitled to after submit. */
#include "sp_release.h"
#include "sp_meta_keys.h"

#include <stdlib.h>
#include <string.h>

#include "sp_queue.h"
#include "sp_signal.h"
#include "sp_util.h"
#include "sp_wire.h"
#include "sp_withdraw.h"

#define ORG_MAX 64
#define RULE_MAX 64
#define AKEY_MAX SP_QUEUE_IDKEY_MAX
#define QKEY_MAX SP_QUEUE_KEY_MAX

int sp_release_index_add(sp_txn *t, const Seinpost__SignalHeader *h)
{
	uint8_t k[2 + 32 + 16], v[8 + 1 + ORG_MAX];
	size_t sl = strlen(h->sender);
	if (h->pseudonym.len != 32 || sl > ORG_MAX)
		return SP_EINVAL;
	memcpy(k, SP_MK_SUBJECT, 2);
	memcpy(k + 2, h->pseudonym.data, 32);
	memcpy(k + 34, h->id.data, 16);
	sp_be64_put(v, h->created);
	v[8] = (uint8_t)h->weight;
	memcpy(v + 9, h->sender, sl);
	return sp_store_put(t, SP_DB_META, k, sizeof k, v, 9 + sl, 0);
}

int sp_release_index_del(sp_txn *t, const Seinpost__SignalHeader *h)
{
	uint8_t k[2 + 32 + 16];
	int rc;
	if (h->pseudonym.len != 32 || h->id.len != 16)
		return SP_EINVAL;
	memcpy(k, SP_MK_SUBJECT, 2);
	memcpy(k + 2, h->pseudonym.data, 32);
	memcpy(k + 34, h->id.data, 16);
	rc = sp_store_del(t, SP_DB_META, k, sizeof k);
	return rc == SP_ENOTFOUND ? SP_OK : rc;
}

struct subj_ctx {
	sp_subject_fn fn;
	void *ctx;
};

static int subj_visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct subj_ctx *c = ctx;
	char sender[ORG_MAX + 1];
	sp_subject_sig s;
	if (kl != 50 || vl < 9 || vl > 9 + ORG_MAX)
		return 0;
	memcpy(sender, (const uint8_t *)v + 9, vl - 9);
	sender[vl - 9] = '\0';
	s.id = (const uint8_t *)k + 34;
	s.created = sp_be64_get(v);
	s.weight = ((const uint8_t *)v)[8];
	s.sender = sender;
	return c->fn(c->ctx, &s);
}

int sp_release_subject_foreach(sp_txn *t, const uint8_t pseudonym[32], sp_subject_fn fn, void *ctx)
{
	uint8_t prefix[34];
	struct subj_ctx c = { fn, ctx };
	memcpy(prefix, SP_MK_SUBJECT, 2);
	memcpy(prefix + 2, pseudonym, 32);
	return sp_store_foreach(t, SP_DB_META, prefix, sizeof prefix, subj_visit, &c);
}

static int enqueue(sp_txn *t, const Seinpost__Signal *sig, const uint8_t id[16], const char *to,
                   unsigned mode_mask, const char *rule_id, const Seinpost__Referral *ref)
{
	/* immediate grants always travel along with a release */
	return sp_queue_put(t, sig, id, to, mode_mask | SP_MODE_BIT(1), rule_id, ref);
}

/* Deferred record: modes(1) [tiers(1)] rule-len(1) rule referral-bytes; bit
 * 0x80 of modes says a tiers byte follows (on-escalation grants only of the
 * tiers in it: a table's ceiling, sp_tables.c). A later release of the same
 * signal to the same org widens modes and tiers; the newest referral and
 * rule win (they describe the latest reason). */
#define DEFER_TIERS 0x80u
#define ESC_BIT SP_MODE_BIT(SP_WHEN_ON_ESCALATION)

static int defer(sp_txn *t, const char *to, const uint8_t id[16], unsigned mode_mask, unsigned esc_tiers,
                 const char *rule_id, const Seinpost__Referral *ref)
{
	uint8_t k[AKEY_MAX], *v = NULL, *rb = NULL;
	const void *old;
	size_t kl = sp_queue_idkey(k, 'r', to, id), ol, rl = strlen(rule_id ? rule_id : ""), rbl = 0, off;
	int rc;
	if (rl > RULE_MAX)
		return SP_EINVAL;
	esc_tiers &= SP_RELEASE_ALL_TIERS;
	if (sp_store_get(t, SP_DB_META, k, kl, &old, &ol) == SP_OK && ol >= 1) {
		const uint8_t *o = old;
		unsigned om = o[0] & ~DEFER_TIERS, ot = (o[0] & DEFER_TIERS) && ol >= 2 ? o[1] : SP_RELEASE_ALL_TIERS;
		/* A ceiling only matters where on-escalation grants go along. */
		if (!(mode_mask & ESC_BIT))
			esc_tiers = ot;
		else if (om & ESC_BIT)
			esc_tiers |= ot;
		mode_mask |= om;
	}
	if (ref && (rc = sp_wire_pack(&ref->base, &rb, &rbl)) != SP_OK)
		return rc;
	v = malloc(3 + rl + rbl + 1);
	if (!v) {
		free(rb);
		return SP_ENOMEM;
	}
	off = 0;
	v[off++] = (uint8_t)(mode_mask & 0x7fu) | (esc_tiers != SP_RELEASE_ALL_TIERS ? DEFER_TIERS : 0);
	if (esc_tiers != SP_RELEASE_ALL_TIERS)
		v[off++] = (uint8_t)esc_tiers;
	v[off++] = (uint8_t)rl;
	memcpy(v + off, rule_id ? rule_id : "", rl);
	if (rbl)
		memcpy(v + off + rl, rb, rbl);
	rc = sp_store_put(t, SP_DB_META, k, kl, v, off + rl + rbl, 0);
	free(v);
	free(rb);
	return rc;
}

static int load_signal(sp_txn *t, const uint8_t id[16], Seinpost__BrokerSignal **out)
{
	const void *v;
	size_t vl;
	int rc = sp_store_get(t, SP_DB_SIGNALS, id, 16, &v, &vl);
	if (rc != SP_OK)
		return rc;
	*out = seinpost__broker_signal__unpack(NULL, vl, v);
	if (*out && (*out)->withdrawn)
		return SP_ENOTFOUND; /* withdrawn by its sender: never released again (sp_withdraw.h) */
	return *out && (*out)->signal ? SP_OK : SP_ECORRUPT;
}

/* Queue sig's share for `to` without the on-escalation grants of tiers
 * outside esc_tiers (a shallow copy: the grants stay sig's). */
static int enqueue_tiers(sp_txn *t, const Seinpost__Signal *sig, const uint8_t id[16], const char *to,
                         unsigned mode_mask, unsigned esc_tiers, const char *rule_id,
                         const Seinpost__Referral *ref)
{
	Seinpost__Signal copy;
	Seinpost__Grant **g;
	size_t n = 0;
	int rc;
	if ((esc_tiers & SP_RELEASE_ALL_TIERS) == SP_RELEASE_ALL_TIERS)
		return enqueue(t, sig, id, to, mode_mask, rule_id, ref);
	g = calloc(sig->n_grants ? sig->n_grants : 1, sizeof *g);
	if (!g)
		return SP_ENOMEM;
	for (size_t i = 0; i < sig->n_grants; i++) {
		const Seinpost__Grant *x = sig->grants[i];
		if (x && x->recipient && strcmp(x->recipient, to) == 0 && (int)x->mode == SP_WHEN_ON_ESCALATION &&
		    (x->tier >= 32 || !(esc_tiers & (1u << x->tier))))
			continue;
		g[n++] = sig->grants[i];
	}
	copy = *sig;
	copy.grants = g;
	copy.n_grants = n;
	rc = enqueue(t, &copy, id, to, mode_mask, rule_id, ref);
	free(g);
	return rc;
}

int sp_release_share_tiers(sp_txn *t, const uint8_t id[16], const char *to, unsigned mode_mask,
                           unsigned esc_tiers, const char *rule_id, const Seinpost__Referral *ref)
{
	uint8_t akey[AKEY_MAX];
	const void *v;
	size_t vl;
	Seinpost__BrokerSignal *bs = NULL;
	int rc;

	if (!to || strlen(to) > ORG_MAX)
		return SP_EINVAL;
	if (sp_store_get(t, SP_DB_META, akey, sp_queue_idkey(akey, 'q', to, id), &v, &vl) == SP_OK)
		return defer(t, to, id, mode_mask, esc_tiers, rule_id, ref);
	rc = load_signal(t, id, &bs);
	if (rc == SP_OK)
		rc = enqueue_tiers(t, bs->signal, id, to, mode_mask, esc_tiers, rule_id, ref);
	if (bs)
		seinpost__broker_signal__free_unpacked(bs, NULL);
	return rc;
}

int sp_release_share(sp_txn *t, const uint8_t id[16], const char *to, unsigned mode_mask,
                     const char *rule_id, const Seinpost__Referral *ref)
{
	return sp_release_share_tiers(t, id, to, mode_mask, SP_RELEASE_ALL_TIERS, rule_id, ref);
}

int sp_release_deferred_limit(sp_txn *t, const char *to, const uint8_t id[16], unsigned esc_tiers)
{
	uint8_t k[AKEY_MAX], *v;
	const void *old;
	size_t kl, ol;
	unsigned modes, tiers;
	int rc;
	if (!to || strlen(to) > ORG_MAX)
		return SP_EINVAL;
	kl = sp_queue_idkey(k, 'r', to, id);
	if ((rc = sp_store_get(t, SP_DB_META, k, kl, &old, &ol)) != SP_OK || ol < 2)
		return rc == SP_ENOTFOUND || rc == SP_OK ? SP_OK : rc;
	modes = ((const uint8_t *)old)[0] & ~DEFER_TIERS;
	tiers = ((const uint8_t *)old)[0] & DEFER_TIERS ? ((const uint8_t *)old)[1] : SP_RELEASE_ALL_TIERS;
	if (!(modes & ESC_BIT) || (tiers & ~esc_tiers & SP_RELEASE_ALL_TIERS) == 0)
		return SP_OK; /* nothing above the new ceiling is held */
	tiers &= esc_tiers;
	if (!tiers)
		modes &= ~ESC_BIT;
	if (!(modes & ~SP_MODE_BIT(SP_WHEN_IMMEDIATELY)))
		return sp_store_del(t, SP_DB_META, k, kl); /* only what it already has */
	/* rewrite: modes, tiers, then the old rule and referral */
	{
		size_t skip = ((const uint8_t *)old)[0] & DEFER_TIERS ? 2 : 1;
		v = malloc(ol + 2);
		if (!v)
			return SP_ENOMEM;
		v[0] = (uint8_t)modes | (tiers != SP_RELEASE_ALL_TIERS ? DEFER_TIERS : 0);
		size_t off = 1;
		if (tiers != SP_RELEASE_ALL_TIERS)
			v[off++] = (uint8_t)tiers;
		memcpy(v + off, (const uint8_t *)old + skip, ol - skip);
		rc = sp_store_put(t, SP_DB_META, k, kl, v, off + ol - skip, 0);
		free(v);
	}
	return rc;
}

struct pending {
	uint8_t *key;
	size_t klen;
	uint8_t *val;
	size_t vlen;
	struct pending *next;
};

static int collect(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct pending **head = ctx, *p = calloc(1, sizeof *p);
	if (!p)
		return 1;
	p->key = malloc(kl);
	p->val = malloc(vl + 1);
	if (!p->key || !p->val) {
		free(p->key);
		free(p->val);
		free(p);
		return 1;
	}
	memcpy(p->key, k, kl);
	memcpy(p->val, v, vl);
	p->klen = kl;
	p->vlen = vl;
	p->next = *head;
	*head = p;
	return 0;
}

int sp_release_flush(sp_txn *t, size_t *queued)
{
	struct pending *head = NULL, *p;
	int rc = SP_OK;
	*queued = 0;
	/* Copy out first: we modify META while walking it otherwise. */
	(void)sp_store_foreach(t, SP_DB_META, SP_MK_HELD, 2, collect, &head);
	for (p = head; p && rc == SP_OK; p = p->next) {
		char org[ORG_MAX + 1], rule[RULE_MAX + 1];
		uint8_t akey[AKEY_MAX], id[16];
		const uint8_t *nul = memchr(p->key + 2, '\0', p->klen - 2);
		const void *v;
		size_t ol, vl, rl = 0, off = p->vlen >= 1 && (p->val[0] & DEFER_TIERS) ? 2 : 1;
		unsigned tiers = off == 2 ? p->val[1] : SP_RELEASE_ALL_TIERS;
		Seinpost__Referral *ref = NULL;
		if (!nul || (size_t)(nul - p->key - 2) > ORG_MAX || p->klen != (size_t)(nul - p->key) + 17 ||
		    p->vlen < off + 1 || (rl = p->val[off]) > RULE_MAX || off + 1 + rl > p->vlen) {
			rc = sp_store_del(t, SP_DB_META, p->key, p->klen); /* malformed: drop */
			continue;
		}
		ol = (size_t)(nul - p->key - 2);
		memcpy(org, p->key + 2, ol);
		org[ol] = '\0';
		memcpy(id, nul + 1, 16);
		if (sp_store_get(t, SP_DB_META, akey, sp_queue_idkey(akey, 'q', org, id), &v, &vl) == SP_OK)
			continue; /* still in flight */
		memcpy(rule, p->val + off + 1, rl);
		rule[rl] = '\0';
		if (p->vlen > off + 1 + rl)
			ref = seinpost__referral__unpack(NULL, p->vlen - off - 1 - rl, p->val + off + 1 + rl);
		rc = sp_store_del(t, SP_DB_META, p->key, p->klen);
		if (rc == SP_OK) {
			rc = sp_release_share_tiers(t, id, org, p->val[0] & ~DEFER_TIERS, tiers, rule, ref);
			if (rc == SP_ENOTFOUND)
				rc = SP_OK; /* expired meanwhile */
			else if (rc == SP_OK)
				(*queued)++;
		}
		if (ref)
			seinpost__referral__free_unpacked(ref, NULL);
	}
	while (head) {
		p = head->next;
		free(head->key);
		free(head->val);
		free(head);
		head = p;
	}
	return rc;
}

int sp_release_drop_signal(sp_txn *t, const sp_roster *r, const uint8_t id[16])
{
	int frc = sp_withdraw_forget(t, id);
	if (frc != SP_OK)
		return frc;
	for (size_t i = 0; i < sp_roster_count(r); i++) {
		const char *org = sp_roster_at(r, i)->id;
		uint8_t akey[AKEY_MAX], key[QKEY_MAX];
		size_t al;
		const void *v;
		size_t vl;
		int rc;
		if (strlen(org) > ORG_MAX)
			continue;
		al = sp_queue_idkey(akey, 'r', org, id);
		rc = sp_store_del(t, SP_DB_META, akey, al);
		if (rc != SP_OK && rc != SP_ENOTFOUND)
			return rc;
		al = sp_queue_idkey(akey, 'q', org, id);
		if (sp_store_get(t, SP_DB_META, akey, al, &v, &vl) != SP_OK || vl < 8)
			continue;
		rc = sp_store_del(t, SP_DB_QUEUE, key, sp_queue_key(key, org, sp_be64_get(v)));
		if (rc != SP_OK && rc != SP_ENOTFOUND)
			return rc;
		rc = sp_store_del(t, SP_DB_META, akey, al);
		if (rc != SP_OK)
			return rc;
	}
	return SP_OK;
}

static void esckey(uint8_t k[50], const uint8_t pseudonym[32], const uint8_t id[16])
{
	memcpy(k, SP_MK_ESCALATED, 2);
	memcpy(k + 2, pseudonym, 32);
	memcpy(k + 34, id, 16);
}

int sp_release_mark_escalated(sp_txn *t, const uint8_t pseudonym[32], const uint8_t id[16],
                              const uint8_t ref_id[16])
{
	uint8_t k[50];
	esckey(k, pseudonym, id);
	return sp_store_put(t, SP_DB_META, k, sizeof k, ref_id, 16, 0);
}

struct esc_walk {
	const uint8_t *ref;
	int (*fn)(void *ctx, const uint8_t id[16]);
	void *ctx;
};

static int esc_visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct esc_walk *w = ctx;
	if (kl != 50 || vl != 16 || memcmp(v, w->ref, 16) != 0)
		return 0;
	return w->fn(w->ctx, (const uint8_t *)k + 34);
}

int sp_release_escalated_foreach(sp_txn *t, const uint8_t pseudonym[32], const uint8_t ref_id[16],
                                 int (*fn)(void *ctx, const uint8_t id[16]), void *ctx)
{
	uint8_t prefix[34];
	struct esc_walk w = { ref_id, fn, ctx };
	memcpy(prefix, SP_MK_ESCALATED, 2);
	memcpy(prefix + 2, pseudonym, 32);
	int rc = sp_store_foreach(t, SP_DB_META, prefix, sizeof prefix, esc_visit, &w);
	return rc < 0 ? rc : SP_OK;
}

int sp_release_escalation_of(sp_txn *t, const uint8_t pseudonym[32], const uint8_t id[16], uint8_t ref_id[16])
{
	uint8_t k[50];
	const void *v;
	size_t vl;
	int rc;
	esckey(k, pseudonym, id);
	rc = sp_store_get(t, SP_DB_META, k, sizeof k, &v, &vl);
	if (rc != SP_OK)
		return rc;
	if (vl != 16)
		return SP_ECORRUPT;
	memcpy(ref_id, v, 16);
	return SP_OK;
}

int sp_release_unmark_escalated(sp_txn *t, const uint8_t pseudonym[32], const uint8_t id[16])
{
	uint8_t k[50];
	esckey(k, pseudonym, id);
	int rc = sp_store_del(t, SP_DB_META, k, sizeof k);
	return rc == SP_ENOTFOUND ? SP_OK : rc;
}

int sp_release_is_escalated(sp_txn *t, const uint8_t pseudonym[32], const uint8_t id[16])
{
	uint8_t k[50];
	const void *v;
	size_t vl;
	esckey(k, pseudonym, id);
	return sp_store_get(t, SP_DB_META, k, sizeof k, &v, &vl) == SP_OK;
}

int sp_release_held_rekey(sp_txn *t, void (*fn)(void *ctx, uint8_t p[32]), void *ctx, uint64_t *count)
{
	struct pending *head = NULL, *p;
	int rc = SP_OK;
	if (sp_store_foreach(t, SP_DB_META, SP_MK_HELD, 2, collect, &head) < 0)
		rc = SP_EIO;
	for (p = head; p && rc == SP_OK; p = p->next) {
		size_t off = p->vlen >= 1 && (p->val[0] & DEFER_TIERS) ? 2 : 1, pre, rbl = 0;
		Seinpost__Referral *ref;
		uint8_t *rb = NULL, *v;
		if (p->vlen < off + 1 || (pre = off + 1 + p->val[off]) >= p->vlen)
			continue; /* no referral (or malformed: sp_release_flush drops it) */
		if (!(ref = seinpost__referral__unpack(NULL, p->vlen - pre, p->val + pre)))
			continue;
		if (ref->pseudonym.len == 32) {
			fn(ctx, ref->pseudonym.data);
			rc = sp_wire_pack(&ref->base, &rb, &rbl);
		}
		seinpost__referral__free_unpacked(ref, NULL);
		if (rc != SP_OK || !rb)
			continue;
		if ((v = malloc(pre + rbl)) == NULL)
			rc = SP_ENOMEM;
		else {
			memcpy(v, p->val, pre);
			memcpy(v + pre, rb, rbl);
			rc = sp_store_put(t, SP_DB_META, p->key, p->klen, v, pre + rbl, 0);
			free(v);
			(*count)++;
		}
		free(rb);
	}
	while (head) {
		p = head->next;
		free(head->key);
		free(head->val);
		free(head);
		head = p;
	}
	return rc;
}
