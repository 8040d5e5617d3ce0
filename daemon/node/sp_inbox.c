/* sp_inbox.c — the node's inbox: merging a later delivery of a signal we
 * already hold (sp_inbox.h). Moved from the broker's sp_release.c: the
 * broker releases, the node merges. */
#include "sp_inbox.h"

#include <stdlib.h>
#include <string.h>

#include "sp_store.h"
#include "sp_util.h"
#include "sp_wire.h"

int sp_inbox_merge(const Seinpost__InboxEntry *old, const Seinpost__Delivery *d,
                   uint8_t **out, size_t *outlen, int *changed)
{
	const Seinpost__Signal *a = old->delivery->signal, *b = d->signal;
	Seinpost__Grant **g = NULL;
	Seinpost__TierBox **tb = NULL;
	char **rules = NULL;
	size_t ng = 0, nt = 0, nr = 0;
	int rc = SP_ENOMEM;

	*out = NULL;
	*changed = 0;
	if (!a || !b || a->header.len != b->header.len || memcmp(a->header.data, b->header.data, a->header.len))
		return SP_EINVAL;
	g = calloc(a->n_grants + b->n_grants + 1, sizeof *g);
	tb = calloc(a->n_tiers + b->n_tiers + 1, sizeof *tb);
	rules = calloc(old->delivery->n_rule_ids + d->n_rule_ids + 1, sizeof *rules);
	if (!g || !tb || !rules)
		goto out;
	for (size_t i = 0; i < a->n_grants; i++)
		g[ng++] = a->grants[i];
	for (size_t i = 0; i < b->n_grants; i++) {
		size_t j;
		for (j = 0; j < a->n_grants; j++)
			if (a->grants[j]->tier == b->grants[i]->tier &&
			    strcmp(a->grants[j]->recipient, b->grants[i]->recipient) == 0)
				break;
		if (j == a->n_grants) {
			g[ng++] = b->grants[i];
			*changed = 1;
		}
	}
	for (size_t i = 0; i < a->n_tiers; i++)
		tb[nt++] = a->tiers[i];
	for (size_t i = 0; i < b->n_tiers; i++) {
		size_t j;
		for (j = 0; j < a->n_tiers; j++)
			if (a->tiers[j]->tier == b->tiers[i]->tier)
				break;
		if (j == a->n_tiers)
			tb[nt++] = b->tiers[i];
	}
	for (size_t i = 0; i < old->delivery->n_rule_ids; i++)
		rules[nr++] = old->delivery->rule_ids[i];
	for (size_t i = 0; i < d->n_rule_ids; i++) {
		size_t j;
		for (j = 0; j < nr; j++)
			if (strcmp(rules[j], d->rule_ids[i]) == 0)
				break;
		if (j == nr)
			rules[nr++] = d->rule_ids[i];
	}
	if (d->referral && (!old->delivery->referral ||
	                    d->referral->n_signal_ids >= old->delivery->referral->n_signal_ids))
		*changed = 1;
	{
		Seinpost__Signal s = *a;
		Seinpost__Delivery nd = *old->delivery;
		Seinpost__InboxEntry ne = *old;
		s.grants = g;
		s.n_grants = ng;
		s.tiers = tb;
		s.n_tiers = nt;
		nd.signal = &s;
		nd.rule_ids = rules;
		nd.n_rule_ids = nr;
		if (d->referral && *changed)
			nd.referral = d->referral;
		ne.delivery = &nd;
		rc = sp_wire_pack(&ne.base, out, outlen);
	}
out:
	free(g);
	free(tb);
	free(rules);
	return rc;
}

int sp_inbox_merge_stored(sp_txn *t, const Seinpost__SignalHeader *h, const Seinpost__Delivery *d, int *changed)
{
	const void *v;
	size_t vl, len;
	uint8_t *buf = NULL;
	Seinpost__InboxEntry *old = NULL;
	int rc = sp_store_get(t, SP_DB_INBOX, h->id.data, SP_ID_BYTES, &v, &vl);
	if (rc != SP_OK)
		return rc;
	old = seinpost__inbox_entry__unpack(NULL, vl, v);
	if (!old || !old->delivery || !old->delivery->signal)
		rc = SP_ECORRUPT;
	if (rc == SP_OK)
		rc = sp_inbox_merge(old, d, &buf, &len, changed);
	if (rc == SP_OK && *changed)
		rc = sp_store_put(t, SP_DB_INBOX, h->id.data, SP_ID_BYTES, buf, len, 0);
	free(buf);
	if (old)
		seinpost__inbox_entry__free_unpacked(old, NULL);
	return rc;
}

/* A plain repeat of a delivery we hold: the broker resends its whole window
 * when receipts are late (a slow or frozen recipient), so repeats can
 * outnumber new deliveries. Same header and signature bytes as our
 * verified copy and nothing new to merge (sp_inbox_merge: no grant, tier
 * box, rule or referral we lack) → only the receipt is due, without a
 * second Ed25519 check. Anything else takes the full path. */
int sp_inbox_plain_repeat(sp_txn *t, const Seinpost__SignalHeader *h, const Seinpost__Delivery *d)
{
	const void *v;
	size_t vl, len;
	uint8_t *buf = NULL;
	int changed = 1, same = 0;
	Seinpost__InboxEntry *old;
	if (sp_store_get(t, SP_DB_INBOX, h->id.data, SP_ID_BYTES, &v, &vl) != SP_OK)
		return 0;
	old = seinpost__inbox_entry__unpack(NULL, vl, v);
	if (old && old->delivery && old->delivery->signal) {
		const Seinpost__Signal *a = old->delivery->signal, *b = d->signal;
		same = a->header.len == b->header.len && a->signature.len == b->signature.len &&
		       memcmp(a->header.data, b->header.data, a->header.len) == 0 &&
		       memcmp(a->signature.data, b->signature.data, a->signature.len) == 0;
		if (same && sp_inbox_merge(old, d, &buf, &len, &changed) != SP_OK)
			changed = 1;
	}
	free(buf);
	if (old)
		seinpost__inbox_entry__free_unpacked(old, NULL);
	return same && !changed;
}
