/* sp_broker_receipts.c — recipients' signed receipts: verified, audited as
 * `delivered` once, dequeued (the broker's event loop calls these). */
#include "sp_broker_int.h"
#include "sp_translate.h"
#include "sp_wire.h"

static uint32_t mask_of_grants(const Seinpost__Signal *s)
{
	uint32_t m = 1u; /* existence */
	for (size_t i = 0; i < s->n_grants; i++)
		m |= 1u << s->grants[i]->tier;
	return m;
}

/* The network pseudonym of a queued delivery's signal, for its audit
 * record: the queued copy holds the recipient's own pseudonym only (issue
 * 13); the broker's copy of the signal holds P. Without that copy (past its
 * retention) the record names no subject, as before. */
static int subject_of(sp_txn *t, Seinpost__SignalHeader *h)
{
	const void *v;
	size_t vl;
	Seinpost__SignalHeader *full = NULL;
	int rc = sp_store_get(t, SP_DB_SIGNALS, h->id.data, SP_ID_BYTES, &v, &vl);
	if (rc == SP_ENOTFOUND)
		return SP_OK;
	if (rc != SP_OK)
		return rc;
	if (sp_wire_stored_signal_header(v, vl, &full) != SP_OK)
		return SP_OK; /* damaged: the status checks report it */
	if (full->pseudonym.len == 32 && sp_translate_header(full) == SP_OK) { /* the current key epoch's, as every store */
		h->pseudonym = full->pseudonym; /* moved: freed with h */
		full->pseudonym.data = NULL;
		full->pseudonym.len = 0;
	}
	seinpost__signal_header__free_unpacked(full, NULL);
	return SP_OK;
}

/* A verified receipt for one id: audit `delivered` once, dequeue. */
static int receipt_apply(struct broker *b, sp_txn *t, const sp_org *from, const uint8_t id[16])
{
	uint8_t akey[SP_QUEUE_IDKEY_MAX], key[SP_QUEUE_KEY_MAX];
	const void *v;
	size_t vl, al, kl;
	Seinpost__Delivery *d = NULL;
	Seinpost__SignalHeader *h = NULL;
	char idhex[SP_ID_HEX];
	uint8_t subj[32];
	int rc, have_p = 0;

	al = sp_queue_idkey(akey, 'q', from->id, id);
	rc = sp_store_get(t, SP_DB_META, akey, al, &v, &vl);
	if (rc == SP_ENOTFOUND)
		return SP_OK; /* already dequeued: a repeated receipt */
	if (rc != SP_OK || vl < 8)
		return rc != SP_OK ? rc : SP_ECORRUPT;
	if (vl == 8 + 8 + 32) /* the subject, kept at queueing (sp_queue_append) */
		have_p = sp_translate_to_current((uint32_t)sp_be64_get((const uint8_t *)v + 8), (const uint8_t *)v + 16,
		                                 subj) == SP_OK;
	kl = sp_queue_key(key, from->id, sp_be64_get(v));
	rc = sp_store_get(t, SP_DB_QUEUE, key, kl, &v, &vl);
	if (rc != SP_OK)
		return rc;
	d = seinpost__delivery__unpack(NULL, vl, v);
	if (!d || !d->signal) {
		rc = SP_ECORRUPT;
		goto out;
	}
	h = seinpost__signal_header__unpack(NULL, d->signal->header.len, d->signal->header.data);
	if (!h) {
		rc = SP_ECORRUPT;
		goto out;
	}
	if (have_p) {
		h->pseudonym.data = malloc(32); /* freed with h */
		if (!h->pseudonym.data) {
			rc = SP_ENOMEM;
			goto out;
		}
		memcpy(h->pseudonym.data, subj, 32);
		h->pseudonym.len = 32;
	} else if (h->subject_commitment.len && (rc = subject_of(t, h)) != SP_OK)
		goto out;
	{
		const sp_policy_rule *rule = NULL;
		for (size_t i = 0; i < sp_policy_rule_count(b->policy); i++)
			if (d->n_rule_ids && strcmp(sp_policy_rule_at(b->policy, i)->id, d->rule_ids[0]) == 0)
				rule = sp_policy_rule_at(b->policy, i);
		sp_audit_entry e = {
			.event = d->withdrawn ? SEINPOST__AUDIT_EVENT__AUDIT_WITHDRAWAL_DELIVERED : SEINPOST__AUDIT_EVENT__AUDIT_DELIVERED,
			.actor = "broker",
			.recipient = from->id,
			.pseudonym = h->pseudonym.len == 32 ? h->pseudonym.data : NULL,
			.signal_id = h->id.data,
			/* the figures tell resident reports apart (docs/stats.md) */
			.reason = h->resident_report ? "resident report" : NULL,
			.category = h->category,
			.weight = h->weight,
			.tiers = mask_of_grants(d->signal),
			.rule_id = rule ? rule->id : NULL,
			.legal_basis = rule ? rule->basis : NULL,
			.policy_hash = h->policy_hash.data,
		};
		rc = sp_audit_append(t, &e, NULL);
		if (rc != SP_OK)
			goto out;
	}
	rc = sp_store_del(t, SP_DB_QUEUE, key, kl);
	if (rc == SP_OK)
		rc = sp_store_del(t, SP_DB_META, akey, al);
	if (rc == SP_OK) {
		struct peer *p = sp_broker_peer_of(b, from->id);
		b->delivered++;
		if (p) {
			if (p->inflight)
				p->inflight--;
			p->last_progress = sp_mono_ms();
			p->stalls = 0;
		}
		sp_log_event(LOG_DEBUG, C, from->id, sp_hex(id, 16, idhex), "delivered");
	}
out:
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	if (d)
		seinpost__delivery__free_unpacked(d, NULL);
	return rc;
}

int sp_broker_receipt(struct broker *b, sp_txn *t, const sp_msg *m, const Seinpost__DeliveryAck *a)
{
	const sp_org *from = sp_roster_find(b->roster, m->user);
	char idhex[SP_ID_HEX];
	if (!from)
		return SP_OK;
	int verified = b->cur_pre && b->cur_pre->kind == PRE_RECEIPT && b->cur_pre->ok;
	if (!verified && sp_org_verify_receipt(from, a->id.data, a->time, a->signature.data, sp_now_s()) != SP_OK) {
		sp_log_event(LOG_WARNING, C, from->id, sp_hex(a->id.data, 16, idhex),
		             "receipt signature does not verify; ignored");
		return SP_OK;
	}
	return receipt_apply(b, t, from, a->id.data);
}

int sp_broker_receipts_verify(const sp_org *from, const Seinpost__DeliveryAckBatch *a)
{
	const uint8_t *ids[SP_RECEIPT_BATCH_MAX];
	if (a->n_ids < 1 || a->n_ids > SP_RECEIPT_BATCH_MAX)
		return SP_EINVAL;
	for (size_t i = 0; i < a->n_ids; i++)
		ids[i] = a->ids[i].data;
	return sp_org_verify_receipts(from, a->time, ids, a->n_ids, a->signature.data, sp_now_s());
}

/* One signature over many ids; each id still dequeued and audited on its
 * own. All ids in one child transaction; should that fail (one damaged queue
 * entry), each id again in its own child, so one id cannot hold back the rest
 * of the batch, as with one receipt per id. */
int sp_broker_receipts(struct broker *b, sp_txn *t, const sp_msg *m, const Seinpost__DeliveryAckBatch *a)
{
	const sp_org *from = sp_roster_find(b->roster, m->user);
	uint64_t del = b->delivered;
	struct peer *p;
	uint32_t inflight;
	sp_txn *c = NULL;
	int rc;
	if (!from)
		return SP_OK;
	p = sp_broker_peer_of(b, from->id);
	inflight = p ? p->inflight : 0;
	int verified = b->cur_pre && b->cur_pre->kind == PRE_RECEIPT && b->cur_pre->ok;
	if (!verified && sp_broker_receipts_verify(from, a) != SP_OK) {
		sp_log_event(LOG_WARNING, C, from->id, NULL, "receipt batch (%zu ids) signature does not verify; ignored",
		             a->n_ids);
		return SP_OK;
	}
	rc = sp_txn_begin_child(t, &c);
	for (size_t i = 0; rc == SP_OK && i < a->n_ids; i++)
		rc = receipt_apply(b, c, from, a->ids[i].data);
	if (rc == SP_OK)
		rc = sp_txn_commit(&c);
	sp_txn_abort(&c);
	if (rc == SP_OK || a->n_ids == 1)
		return rc;
	b->delivered = del; /* undo the counts of the aborted attempt */
	if (p)
		p->inflight = inflight;
	for (size_t i = 0; i < a->n_ids; i++) {
		char idhex[SP_ID_HEX];
		uint64_t d1 = b->delivered;
		rc = sp_txn_begin_child(t, &c);
		if (rc == SP_OK)
			rc = receipt_apply(b, c, from, a->ids[i].data);
		if (rc == SP_OK)
			rc = sp_txn_commit(&c);
		sp_txn_abort(&c);
		if (rc != SP_OK) {
			b->delivered = d1;
			sp_log_event(LOG_ERR, C, from->id, sp_hex(a->ids[i].data, 16, idhex),
			             "receipt not applied: %s (%s)", sp_strerror(rc), sp_store_last_error());
		}
	}
	return SP_OK;
}
