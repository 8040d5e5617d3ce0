/*
 * sp_withdrawn.c — withdrawal of a signal, node side (sp_withdrawn.h).
 */
#include "sp_withdrawn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_audit.h"
#include "sp_feedback_keep.h"
#include "sp_hook.h"
#include "sp_log.h"
#include "sp_orgverify.h"
#include "sp_util.h"
#include "sp_wire.h"
#include "sp_withdraw.h"

#define C "withdraw"

static int outbox_get(sp_txn *t, const uint8_t id[16], Seinpost__OutboxEntry **e)
{
	const void *v;
	size_t vl;
	int rc = sp_store_get(t, SP_DB_OUTBOX, id, 16, &v, &vl);
	*e = NULL;
	if (rc != SP_OK)
		return rc;
	*e = seinpost__outbox_entry__unpack(NULL, vl, v);
	return *e && (*e)->signal ? SP_OK : SP_ECORRUPT;
}

int sp_withdrawn_prepare(sp_store *s, const Seinpost__Withdraw *w, char *why, size_t whylen)
{
	Seinpost__OutboxEntry *e = NULL;
	sp_txn *t = NULL;
	char idhex[SP_ID_HEX], when[32];
	int rc;

	if ((rc = sp_withdraw_reason_check(w->reason, why, whylen)) != SP_OK)
		return rc;
	if (w->user[0] && !sp_user_ok(w->user)) {
		snprintf(why, whylen, "--user must be printable, without a run of 8 or more digits");
		return SP_EINVAL;
	}
	sp_hex(w->signal_id.data, 16, idhex);
	if ((rc = sp_txn_begin(s, 0, &t)) != SP_OK) {
		snprintf(why, whylen, "cannot read the outbox: %s", sp_strerror(rc));
		return rc;
	}
	rc = outbox_get(t, w->signal_id.data, &e);
	if (rc == SP_ENOTFOUND)
		snprintf(why, whylen, "no signal %s in this node's outbox: only the organisation that sent a signal "
		         "may withdraw it", idhex);
	else if (rc != SP_OK)
		snprintf(why, whylen, "cannot read the outbox entry: %s", sp_strerror(rc));
	else if (e->state == SEINPOST__OUTBOX_STATE__OUTBOX_WITHDRAWN) {
		rc = SP_EEXIST;
		snprintf(why, whylen, "signal %s was already withdrawn at %s; nothing changed", idhex,
		         sp_iso_time(e->settled, when, sizeof when));
	} else if (e->state == SEINPOST__OUTBOX_STATE__OUTBOX_REJECTED) {
		rc = SP_EINVAL;
		snprintf(why, whylen, "signal %s was rejected by the broker: nobody received it, nothing to withdraw",
		         idhex);
	} else if (e->state != SEINPOST__OUTBOX_STATE__OUTBOX_ACCEPTED) {
		rc = SP_EINVAL;
		snprintf(why, whylen, "signal %s is not accepted by the broker yet: withdraw it once it is (see "
		         "`seinpost outbox`)", idhex);
	}
	if (e)
		seinpost__outbox_entry__free_unpacked(e, NULL);
	sp_txn_abort(&t);
	return rc;
}

int sp_withdrawn_acked(sp_store *s, const Seinpost__WithdrawAck *a, const char *our_role, int hook)
{
	Seinpost__OutboxEntry *e = NULL;
	Seinpost__FeedbackItem it = SEINPOST__FEEDBACK_ITEM__INIT;
	sp_txn *t = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	if (a->code != SP_OK)
		return SP_OK; /* refused: nothing changes here either */
	if ((rc = sp_txn_begin(s, 1, &t)) != SP_OK)
		return rc;
	rc = outbox_get(t, a->signal_id.data, &e);
	if (rc == SP_ENOTFOUND) {
		rc = SP_OK; /* past retention here already */
		goto out;
	}
	if (rc != SP_OK)
		goto out;
	if (e->state != SEINPOST__OUTBOX_STATE__OUTBOX_WITHDRAWN) {
		char *own = e->reason;
		e->state = SEINPOST__OUTBOX_STATE__OUTBOX_WITHDRAWN;
		e->settled = a->time;
		e->code = 0;
		e->reason = a->reason;
		rc = sp_wire_pack(&e->base, &buf, &len);
		e->reason = own;
		if (rc == SP_OK)
			rc = sp_store_put(t, SP_DB_OUTBOX, a->signal_id.data, 16, buf, len, 0);
	}
	/* Feedback: the same key as the broker's events, by its audit seq. */
	it.seq = a->audit_seq;
	it.signal_id = a->signal_id;
	it.event = "withdrawn";
	it.role = (char *)(our_role ? our_role : "");
	it.time = a->time;
	if (rc == SP_OK && a->audit_seq)
		rc = sp_feedback_note(t, &it, hook, sp_now_ms());
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
out:
	free(buf);
	if (e)
		seinpost__outbox_entry__free_unpacked(e, NULL);
	sp_txn_abort(&t);
	return rc;
}

int sp_withdrawn_entry(const void *v, size_t vl)
{
	Seinpost__InboxEntry *e = seinpost__inbox_entry__unpack(NULL, vl, v);
	int w = e && e->withdrawn;
	if (e)
		seinpost__inbox_entry__free_unpacked(e, NULL);
	return w;
}

/* The tombstone of h: header, signature, rules and referral, no tier, no
 * grant; ref replaces the referral when set. */
static int tombstone(sp_txn *t, const Seinpost__InboxEntry *old, const Seinpost__Delivery *d, uint64_t received)
{
	Seinpost__InboxEntry e = SEINPOST__INBOX_ENTRY__INIT;
	Seinpost__Delivery nd = SEINPOST__DELIVERY__INIT;
	Seinpost__Signal bare = SEINPOST__SIGNAL__INIT;
	Seinpost__SignalHeader *h = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc;
	bare.header = d->signal->header;
	bare.signature = d->signal->signature;
	nd.signal = &bare;
	nd.withdrawn = d->withdrawn;
	if (old && old->delivery) {
		nd.n_rule_ids = old->delivery->n_rule_ids;
		nd.rule_ids = old->delivery->rule_ids;
		nd.referral = old->delivery->referral;
	}
	if (d->referral)
		nd.referral = d->referral;
	/* our own pseudonym of the subject stays with the tombstone (issue 13) */
	if (d->recipient_pseudonym.len) {
		nd.recipient_pseudonym = d->recipient_pseudonym;
		nd.recipient_pseudonym_sig = d->recipient_pseudonym_sig;
	} else if (old && old->delivery) {
		nd.recipient_pseudonym = old->delivery->recipient_pseudonym;
		nd.recipient_pseudonym_sig = old->delivery->recipient_pseudonym_sig;
	}
	e.delivery = &nd;
	e.received = received;
	e.withdrawn = d->withdrawn;
	h = seinpost__signal_header__unpack(NULL, bare.header.len, bare.header.data);
	if (!h)
		return SP_EMALFORMED;
	rc = sp_wire_pack(&e.base, &buf, &len);
	if (rc == SP_OK)
		rc = sp_store_put(t, SP_DB_INBOX, h->id.data, 16, buf, len, 0);
	free(buf);
	seinpost__signal_header__free_unpacked(h, NULL);
	return rc;
}

int sp_withdrawn_delivery(sp_txn *batch, const sp_config *cfg, const sp_roster *roster,
                          const Seinpost__SignalHeader *h, const Seinpost__Delivery *d, uint8_t receipt[16],
                          int *done, int *hooked)
{
	Seinpost__InboxEntry *old = NULL;
	sp_txn *t = NULL;
	const void *v;
	size_t vl;
	char idhex[SP_ID_HEX];
	int rc;

	*done = 0;
	*hooked = 0;
	memset(receipt, 0, 16);
	rc = sp_store_get(batch, SP_DB_INBOX, h->id.data, 16, &v, &vl);
	if (rc != SP_OK && rc != SP_ENOTFOUND)
		return rc;
	if (rc == SP_OK && !(old = seinpost__inbox_entry__unpack(NULL, vl, v)))
		return SP_ECORRUPT;
	rc = SP_OK;
	sp_hex(h->id.data, 16, idhex);
	if (!d->withdrawn) {
		if (old && old->withdrawn) {
			/* A late delivery or release of a signal its sender withdrew:
			 * receipted (the broker stops sending) but never stored. */
			*done = 1;
			memcpy(receipt, h->id.data, 16);
		}
		goto out;
	}
	*done = 1;
	{
		/* The header must be the sender's: a withdrawal removes exactly the
		 * signal it names. */
		const sp_org *sender = sp_roster_find(roster, h->sender);
		if (sender && sp_org_verify_signal(sender, d->signal, h, 0) != SP_OK) {
			sp_log_event(LOG_ERR, C, h->sender, idhex, "withdrawal does not verify against the sender's key; "
			             "ignored");
			goto out;
		}
	}
	sp_withdraw_receipt_id(h->id.data, receipt);
	if (old && old->withdrawn && !d->referral)
		goto out; /* a repeat: receipt again */
	if ((rc = sp_txn_begin_child(batch, &t)) != SP_OK)
		goto out;
	rc = tombstone(t, old, d, old ? old->received : sp_now_ms());
	if (rc == SP_OK && !(old && old->withdrawn)) {
		sp_audit_entry a = {
			.event = SEINPOST__AUDIT_EVENT__AUDIT_WITHDRAWN,
			.actor = h->sender,
			.recipient = cfg->org,
			.pseudonym = h->pseudonym.data,
			.signal_id = h->id.data,
			.category = h->category,
			.weight = h->weight,
			.policy_hash = h->policy_hash.data,
			.reason = old ? "withdrawn by its sender: our copy deleted" : "withdrawn by its sender before it "
			                                                              "reached us: nothing stored",
		};
		rc = sp_audit_append(t, &a, NULL);
		if (rc == SP_OK && old && sp_hook_enabled(cfg)) {
			rc = sp_hook_enqueue(t, h->id.data, SEINPOST__HOOK_KIND__HOOK_WITHDRAWN, sp_now_ms());
			*hooked = rc == SP_OK;
		}
	}
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	if (rc == SP_OK)
		sp_log_event(LOG_INFO, C, h->sender, idhex, "withdrawn by its sender: %s", old ? "copy deleted" : "tombstone kept");
	else
		*hooked = 0;
out:
	if (old)
		seinpost__inbox_entry__free_unpacked(old, NULL);
	return rc;
}

json_t *sp_withdrawn_hook_json(sp_txn *t, const uint8_t id[16])
{
	const void *v;
	size_t vl;
	Seinpost__InboxEntry *e = NULL;
	Seinpost__SignalHeader *h = NULL;
	char idhex[SP_ID_HEX], when[32];
	json_t *o = NULL;
	if (sp_store_get(t, SP_DB_INBOX, id, 16, &v, &vl) != SP_OK)
		return NULL;
	e = seinpost__inbox_entry__unpack(NULL, vl, v);
	if (!e || !e->withdrawn || !e->delivery || !e->delivery->signal)
		goto out;
	h = seinpost__signal_header__unpack(NULL, e->delivery->signal->header.len, e->delivery->signal->header.data);
	if (!h)
		goto out;
	o = json_pack("{s:s,s:s,s:s,s:i,s:s}", "signal_id", sp_hex(id, 16, idhex), "from", h->sender, "category",
	              h->category, "weight", (int)h->weight, "withdrawn_at", sp_iso_time(e->withdrawn, when, sizeof when));
out:
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	if (e)
		seinpost__inbox_entry__free_unpacked(e, NULL);
	return o;
}
