/* sp_node_deliver.c — what the broker delivers: verify, store in the inbox
 * (or refuse for good), queue the hook hand-over, and send one signed
 * receipt per committed batch. */
#include "sp_node_int.h"

/* One signed receipt over every id the batch just committed: one signature
 * here and one verification at the broker per batch, not per delivery. */
void sp_node_send_receipts(struct node *n)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__DeliveryAckBatch a = SEINPOST__DELIVERY_ACK_BATCH__INIT;
	static ProtobufCBinaryData ids[FRAMES_MAX];
	const uint8_t *idp[FRAMES_MAX];
	uint8_t sig[64];
	for (size_t i = 0; i < n->nreceipts; i++) {
		ids[i] = (ProtobufCBinaryData){ SP_ID_BYTES, n->receipts[i] };
		idp[i] = n->receipts[i];
	}
	a.n_ids = n->nreceipts;
	a.ids = ids;
	a.time = sp_now_ms();
	if (sp_receipts_sign_kh(n->cfg->org, a.time, idp, n->nreceipts, n->kh, sig) != SP_OK)
		return; /* not sent: the broker resends, we receipt again */
	a.signature.data = sig;
	a.signature.len = 64;
	f.body_case = SEINPOST__FRAME__BODY_DELIVERY_ACKS;
	f.delivery_acks = &a;
	(void)sp_node_send_frame(n, &f);
}

void sp_node_sweep(struct node *n)
{
	sp_txn *t = NULL;
	size_t expired = 0, pruned = 0;
	int rc = sp_txn_begin(n->store, 1, &t);
	if (rc == SP_OK)
		rc = sp_retention_sweep_node(t, n->policy, n->cfg->org, sp_now_s(), &expired);
	if (rc == SP_OK && (!n->last_prune || sp_mono_ms() - n->last_prune >= PRUNE_MS)) {
		rc = sp_spool_prune(t, sp_now_s(), &pruned);
		n->last_prune = sp_mono_ms();
	}
	if (rc == SP_OK && (expired || pruned)) {
		rc = sp_txn_commit(&t);
		if (rc == SP_OK && expired)
			sp_log(LOG_INFO, C, "retention: deleted %zu expired signal copies", expired);
		if (rc == SP_OK && pruned)
			sp_log(LOG_INFO, C, "retention: forgot %zu idempotency keys of expired signals", pruned);
	}
	sp_txn_abort(&t);
	n->last_sweep = sp_mono_ms();
}

static void queue_receipt(struct node *n, const uint8_t id[16])
{
	if (n->nreceipts < FRAMES_MAX)
		memcpy(n->receipts[n->nreceipts++], id, SP_ID_BYTES);
}

/* A delivery carrying a referral is handed over as one; released grants
 * merged into a signal we already held as an update. */
static int hook_enqueue(struct node *n, sp_txn *t, const Seinpost__SignalHeader *h, const Seinpost__Delivery *d,
                        int merged)
{
	Seinpost__HookKind kind = d->referral ? SEINPOST__HOOK_KIND__HOOK_REFERRAL
	                          : merged    ? SEINPOST__HOOK_KIND__HOOK_UPDATE
	                                      : SEINPOST__HOOK_KIND__HOOK_SIGNAL;
	n->hook_new = 1;
	return sp_hook_enqueue(t, h->id.data, kind, sp_now_ms());
}

/* Tell the broker we will never store this delivery; log it once per id
 * (the broker resends until it quarantines it). */
static void refuse_delivery(struct node *n, const Seinpost__SignalHeader *h, const char *idhex, int code)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__DeliveryRefusal r = SEINPOST__DELIVERY_REFUSAL__INIT;
	size_t i, k = sizeof n->refused / sizeof n->refused[0];
	for (i = 0; i < k && i < n->nrefused; i++)
		if (memcmp(n->refused[i], h->id.data, SP_ID_BYTES) == 0)
			break;
	if (i == k || i == n->nrefused) {
		memcpy(n->refused[n->nrefused++ % k], h->id.data, SP_ID_BYTES);
		sp_log_event(LOG_ERR, C, h->sender, idhex, "delivery %s; refused (logged once per delivery)",
		             code == SP_EORG ? "names a sender not on the roster"
		                             : "does not verify against the sender's key");
	}
	r.id = h->id;
	r.code = code;
	f.body_case = SEINPOST__FRAME__BODY_DELIVERY_REFUSAL;
	f.delivery_refusal = &r;
	(void)sp_node_send_frame(n, &f);
}

/* Issue 13: the broker signed our pseudonym of the subject (any key of its
 * transition chain: deliveries queued before a broker key rotation). */
static int recipient_pseudonym_ok(const struct node *n, const Seinpost__SignalHeader *h, const Seinpost__Delivery *d)
{
	const uint8_t *bk[SP_BROKER_KEYS_MAX];
	size_t nbk = sp_roster_broker_keys(n->roster, bk, SP_BROKER_KEYS_MAX);
	if (!nbk && (bk[0] = sp_roster_broker_sign(n->roster)) != NULL)
		nbk = 1;
	for (size_t i = 0; i < nbk; i++)
		if (sp_recip_pseudonym_verify(h->id.data, n->cfg->org, d->recipient_pseudonym.data,
		                              d->recipient_pseudonym_sig.data, bk[i]) == SP_OK)
			return 1;
	return 0;
}

/* Delivery: check the sender's signature, store once (dedup by id) in a
 * child of the batch transaction; the receipt goes out only after the batch
 * commits. A repeat (e.g. we crashed between commit and receipt) is
 * receipted again without storing, so the application sees it once. */
int sp_node_handle_delivery(struct node *n, sp_txn *batch, const Seinpost__Delivery *d)
{
	Seinpost__SignalHeader *h = NULL;
	const sp_org *sender;
	sp_txn *t = NULL;
	uint8_t *buf = NULL;
	size_t len;
	char why[256], idhex[SP_ID_HEX];
	uint8_t wid[SP_ID_BYTES];
	int rc, done = 0, hooked = 0;

	rc = sp_wire_delivery_header(d, &h, why, sizeof why); /* h->pseudonym: ours (P_R), never P */
	if (rc != SP_OK) {
		sp_log(LOG_WARNING, C, "delivery malformed: %s", why);
		return SP_OK;
	}
	sp_hex(h->id.data, SP_ID_BYTES, idhex);
	if ((rc = sp_withdrawn_delivery(batch, n->cfg, n->roster, h, d, wid, &done, &hooked)) != SP_OK || done) {
		if (rc == SP_OK && !sodium_is_zero(wid, sizeof wid))
			queue_receipt(n, wid); /* a withdrawal, or a delivery of a withdrawn signal (sp_withdrawn.h) */
		n->hook_new |= hooked;
		goto out;
	}
	if (sp_inbox_plain_repeat(batch, h, d)) {
		queue_receipt(n, h->id.data);
		goto out;
	}
	sender = sp_roster_find(n->roster, h->sender);
	if (!sender || sp_org_verify_signal(sender, d->signal, h, 0) != SP_OK) {
		/* No receipt: a refusal instead. The broker sets the delivery
		 * aside after max_refusals (sp_quarantine.h), with an audit record:
		 * a forged or damaged delivery stays visible there. */
		refuse_delivery(n, h, idhex, sender ? SP_ESIG : SP_EORG);
		goto out;
	}
	if (d->recipient_pseudonym.len && !recipient_pseudonym_ok(n, h, d)) {
		sp_log_event(LOG_WARNING, C, h->sender, idhex, "delivery refused: our pseudonym of the subject is not "
		             "signed by the broker");
		refuse_delivery(n, h, idhex, SP_ESIG);
		goto out;
	}
	{
		Seinpost__InboxEntry e = SEINPOST__INBOX_ENTRY__INIT;
		e.delivery = (Seinpost__Delivery *)d;
		e.received = sp_now_ms();
		rc = sp_wire_pack(&e.base, &buf, &len);
	}
	if (rc == SP_OK)
		rc = sp_txn_begin_child(batch, &t);
	if (rc == SP_OK)
		rc = sp_store_put(t, SP_DB_INBOX, h->id.data, SP_ID_BYTES, buf, len, SP_PUT_NOOVERWRITE);
	if (rc == SP_EEXIST) {
		/* Released later (involvement, match, escalation): merge the new
		 * grants into our copy, then receipt. */
		int changed = 0;
		rc = sp_inbox_merge_stored(t, h, d, &changed);
		if (rc == SP_OK && changed)
			rc = sp_node_local_audit(t, n, SEINPOST__AUDIT_EVENT__AUDIT_RECEIVED, h, NULL, 0, "released grants merged");
		if (rc == SP_OK && changed && sp_hook_enabled(n->cfg))
			rc = hook_enqueue(n, t, h, d, 1);
		if (rc == SP_OK && changed)
			rc = sp_txn_commit(&t);
		sp_txn_abort(&t);
		if (rc == SP_OK)
			queue_receipt(n, h->id.data);
		rc = SP_OK;
		goto out;
	}
	if (rc == SP_OK)
		rc = sp_node_local_audit(t, n, SEINPOST__AUDIT_EVENT__AUDIT_RECEIVED, h, NULL, 0, NULL);
	/* The hook item in the same child as the inbox entry: what is
	 * acknowledged cannot miss its hand-over. */
	if (rc == SP_OK && sp_hook_enabled(n->cfg))
		rc = hook_enqueue(n, t, h, d, 0);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	if (rc != SP_OK) {
		/* No receipt: the broker keeps it queued and sends it again.
		 * Logged once per episode, not per delivery and retry. */
		snprintf(why, sizeof why, "inbox write failed: %s (%s); deliveries not acknowledged",
		         sp_strerror(rc), sp_store_last_error());
		sp_episode_fail(&n->health.storage, 0, 0, why);
		rc = SP_OK;
		goto out;
	}
	n->received++;
	sp_log_event(LOG_INFO, C, h->sender, idhex, "received %s weight %u", h->category, h->weight);
	queue_receipt(n, h->id.data);
out:
	free(buf);
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	return rc;
}
