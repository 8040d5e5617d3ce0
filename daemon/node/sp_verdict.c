/* sp_verdict.c — the broker's verdict on one of our signals, applied at the node. */
#include "sp_verdict.h"
#include "sp_meta_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sp_audit.h"
#include "sp_log.h"
#include "sp_outbox.h"
#include "sp_util.h"
#include "sp_wire.h"

#define C "node"
#define K_REJ SP_MK_REJECTIONS /* META: be64(final rejections) || be64(unix ms of the last) */
#define RECENT_MS (24u * 3600u * 1000u)

/* Count a final rejection for `seinpost status` (O(1), not a history scan). */
static int count_rejection(sp_txn *t, uint64_t now_ms)
{
	const void *v;
	size_t vl;
	uint8_t b[16];
	uint64_t n = 0;
	int rc = sp_store_get(t, SP_DB_META, K_REJ, strlen(K_REJ), &v, &vl);
	if (rc == SP_OK && vl == 16)
		n = sp_be64_get(v);
	else if (rc != SP_OK && rc != SP_ENOTFOUND)
		return rc;
	sp_be64_put(b, n + 1);
	sp_be64_put(b + 8, now_ms);
	return sp_store_put(t, SP_DB_META, K_REJ, strlen(K_REJ), b, sizeof b, 0);
}

struct deferred_ctx {
	uint64_t n;
};

static int count_deferred(void *ctx, uint64_t pos, const uint8_t id[16], const void *v, size_t vl)
{
	struct deferred_ctx *c = ctx;
	Seinpost__OutboxEntry *e = seinpost__outbox_entry__unpack(NULL, vl, v);
	if (e && e->state == SEINPOST__OUTBOX_STATE__OUTBOX_DEFERRED)
		c->n++;
	if (e)
		seinpost__outbox_entry__free_unpacked(e, NULL);
	return 0;
}

int sp_verdict_status(const sp_status_src *src, sp_status *st)
{
	struct deferred_ctx d = { 0 };
	const void *v;
	size_t vl;
	uint64_t rejected = 0, last = 0, now = src->opts->now_ms ? src->opts->now_ms : sp_now_ms();
	char when[SP_ISO_TIME];
	int rc = sp_outbox_foreach_pending(src->txn, 0, count_deferred, &d);
	if (rc != SP_OK)
		return rc;
	if (sp_store_get(src->txn, SP_DB_META, K_REJ, strlen(K_REJ), &v, &vl) == SP_OK && vl == 16) {
		rejected = sp_be64_get(v);
		last = sp_be64_get((const uint8_t *)v + 8);
	}
	rc = sp_status_add(st, "outbox", "deferred", d.n ? SP_STATUS_WARN : SP_STATUS_OK,
	                   d.n ? "%llu refused by the broker for now (clock or policy version), retried; "
	                         "see seinpost outbox" : "%llu",
	                   (unsigned long long)d.n);
	if (rc == SP_OK)
		rc = sp_status_add(st, "outbox", "rejected", last && now - last < RECENT_MS ? SP_STATUS_WARN : SP_STATUS_OK,
		                   rejected ? "%llu by the broker, the last at %s (reasons: seinpost outbox)" : "%llu",
		                   (unsigned long long)rejected, sp_iso_time(last, when, sizeof when));
	return rc;
}

int sp_verdict_temporary(int code)
{
	return code == SP_ECLOCK || code == SP_EPOLICYVER;
}

/* retry_ms doubling per attempt, a quarter of jitter, at most the cap. */
static uint64_t backoff_ms(const sp_verdict_ctx *c, uint32_t attempts)
{
	uint64_t d = c->retry_ms ? c->retry_ms : 1000;
	for (uint32_t i = 1; i < attempts && d < SP_VERDICT_BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > SP_VERDICT_BACKOFF_MAX_MS)
		d = SP_VERDICT_BACKOFF_MAX_MS;
	return d + randombytes_uniform((uint32_t)(d / 4 + 1));
}

int sp_verdict_due(const Seinpost__OutboxEntry *e, uint64_t now_ms)
{
	if (e->state != SEINPOST__OUTBOX_STATE__OUTBOX_DEFERRED)
		return 1;
	return e->next_attempt <= now_ms ||
	       e->next_attempt > now_ms + SP_VERDICT_BACKOFF_MAX_MS + SP_VERDICT_BACKOFF_MAX_MS / 4;
}

static int audit(sp_txn *t, const sp_verdict_ctx *c, int event, const Seinpost__SignalHeader *h,
                 const uint8_t *id, const char *recipient, int code, const char *reason)
{
	sp_audit_entry e = {
		.event = event,
		.actor = c->org,
		.recipient = recipient,
		.pseudonym = h && h->pseudonym.len == 32 ? h->pseudonym.data : NULL,
		.signal_id = id,
		.category = h ? h->category : NULL,
		.weight = h ? h->weight : 0,
		.policy_hash = h && h->policy_hash.len == 32 ? h->policy_hash.data : NULL,
		.code = code,
		.reason = reason,
	};
	return sp_audit_append(t, &e, NULL);
}

/* Too old to wait for: the broker would refuse it by age, or it expired. */
static int past_retrying(const sp_verdict_ctx *c, const Seinpost__SignalHeader *h, uint64_t now_ms)
{
	uint64_t now_s = now_ms / 1000u;
	return !h || h->created + c->max_age_s < now_s || h->expires <= now_s;
}

int sp_verdict_apply(sp_txn *t, const sp_verdict_ctx *c, const Seinpost__SubmitAck *a, uint64_t now_ms,
                     int *outcome, char *reason_out, size_t reasonlen)
{
	const void *v;
	size_t vl, len;
	Seinpost__OutboxEntry *e = NULL;
	Seinpost__SignalHeader *h = NULL;
	sp_txn *ch = NULL;
	uint8_t *buf = NULL;
	char idhex[SP_ID_HEX], why[512], since[SP_ISO_TIME];
	char *keep_reason = NULL;
	int have_keep = 0, rc, out = SP_VERDICT_NONE, settle = 1;

	if (outcome)
		*outcome = SP_VERDICT_NONE;
	if (reason_out && reasonlen)
		reason_out[0] = '\0';
	if (a->id.len != SP_ID_BYTES)
		return SP_OK;
	sp_hex(a->id.data, SP_ID_BYTES, idhex);
	rc = sp_txn_begin_child(t, &ch);
	if (rc != SP_OK)
		return rc;
	rc = sp_store_get(ch, SP_DB_OUTBOX, a->id.data, SP_ID_BYTES, &v, &vl);
	if (rc == SP_ENOTFOUND) {
		rc = SP_OK; /* not ours (any more): nothing to record */
		goto out;
	}
	if (rc != SP_OK)
		goto out;
	e = seinpost__outbox_entry__unpack(NULL, vl, v);
	if (!e || !e->signal) {
		sp_log_event(LOG_ERR, C, c->org, idhex, "outbox entry damaged: the broker's verdict cannot be "
		             "recorded (left as it is)");
		goto out;
	}
	if (e->state != SEINPOST__OUTBOX_STATE__OUTBOX_PENDING && e->state != SEINPOST__OUTBOX_STATE__OUTBOX_DEFERRED)
		goto out; /* already settled; a repeated ack */
	h = seinpost__signal_header__unpack(NULL, e->signal->header.len, e->signal->header.data);
	have_keep = 1;
	/* Never free or overwrite e->reason in place: protobuf-c decodes an
	 * absent string as its static empty string. Point it at our own text
	 * while packing, and put the decoded one back before the free. */
	keep_reason = e->reason;
	if (a->status != SEINPOST__STATUS__STATUS_REJECTED) {
		e->state = SEINPOST__OUTBOX_STATE__OUTBOX_ACCEPTED;
		e->code = 0;
		e->settled = now_ms;
		e->next_attempt = 0;
		e->reason = (char *)(e->attempts ? "accepted after temporary rejections" : "");
		rc = audit(ch, c, SEINPOST__AUDIT_EVENT__AUDIT_SENT, h, a->id.data, "broker", 0, NULL);
		sp_log_event(e->attempts ? LOG_NOTICE : LOG_INFO, C, c->org, idhex, "accepted by broker%s",
		             e->attempts ? " after temporary rejections" : "");
		out = SP_VERDICT_ACCEPTED;
	} else if (sp_verdict_temporary(a->code) && !past_retrying(c, h, now_ms)) {
		int first = e->state != SEINPOST__OUTBOX_STATE__OUTBOX_DEFERRED;
		e->state = SEINPOST__OUTBOX_STATE__OUTBOX_DEFERRED;
		e->code = a->code;
		e->attempts++;
		if (first)
			e->first_refusal = now_ms;
		e->next_attempt = now_ms + backoff_ms(c, e->attempts);
		snprintf(why, sizeof why, "%s (temporary: retried until the signal is %u s old)", a->reason,
		         c->max_age_s);
		e->reason = why;
		/* Audited and logged once, not at every retry. */
		if (first) {
			rc = audit(ch, c, SEINPOST__AUDIT_EVENT__AUDIT_REJECTED, h, a->id.data, NULL, a->code, why);
			sp_log_event(LOG_WARNING, C, c->org, idhex, "broker refused our signal for now: %s; retrying",
			             a->reason);
		} else {
			sp_log_event(LOG_DEBUG, C, c->org, idhex, "refused again (%u): %s", e->attempts, a->reason);
		}
		settle = 0; /* stays in the pending index */
		out = SP_VERDICT_DEFERRED;
	} else {
		if (sp_verdict_temporary(a->code))
			snprintf(why, sizeof why, "%s (gave up after %u attempt(s) since %s: the signal is too old "
			         "to be accepted)", a->reason, e->attempts + 1,
			         sp_iso_time(e->first_refusal ? e->first_refusal : now_ms, since, sizeof since));
		else
			snprintf(why, sizeof why, "%s", a->reason);
		e->state = SEINPOST__OUTBOX_STATE__OUTBOX_REJECTED;
		e->code = a->code;
		e->settled = now_ms;
		e->next_attempt = 0;
		e->reason = why;
		rc = audit(ch, c, SEINPOST__AUDIT_EVENT__AUDIT_REJECTED, h, a->id.data, NULL, a->code, why);
		if (rc == SP_OK)
			rc = count_rejection(ch, now_ms);
		sp_log_event(LOG_WARNING, C, c->org, idhex, "broker rejected our signal: %s", why);
		if (reason_out && reasonlen)
			snprintf(reason_out, reasonlen, "%s", why);
		out = SP_VERDICT_REJECTED;
	}
	if (rc == SP_OK)
		rc = sp_wire_pack(&e->base, &buf, &len);
	if (rc == SP_OK)
		rc = settle ? sp_outbox_settle(ch, a->id.data, buf, len)
		            : sp_store_put(ch, SP_DB_OUTBOX, a->id.data, SP_ID_BYTES, buf, len, 0);
	if (rc == SP_OK)
		rc = sp_txn_commit(&ch);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "recording the broker's verdict failed: %s (%s)", sp_strerror(rc),
		       sp_store_last_error());
		out = SP_VERDICT_NONE;
	}
out:
	sp_txn_abort(&ch);
	if (have_keep)
		e->reason = keep_reason;
	free(buf);
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	if (e)
		seinpost__outbox_entry__free_unpacked(e, NULL);
	if (outcome)
		*outcome = out;
	return rc;
}

void sp_verdict_notify(const sp_verdict_ctx *c, const uint8_t id[16], const char *reason)
{
	if (c->spool)
		sp_spool_verdict(c->spool, id, reason);
}

int sp_verdict_intact(const Seinpost__Signal *sig)
{
	Seinpost__SignalHeader *h = NULL;
	char why[128];
	int ok = sig && sp_wire_check_signal(sig, &h, why, sizeof why) == SP_OK;
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	return ok;
}

void sp_verdict_settle_damaged(sp_store *s, const sp_verdict_ctx *c, const uint8_t (*ids)[16], size_t n)
{
	static const char why[] = "the stored copy of this signal is damaged and cannot be sent; "
	                          "nothing reached the broker: submit it again";
	for (size_t i = 0; i < n; i++) {
		Seinpost__SubmitAck a = SEINPOST__SUBMIT_ACK__INIT;
		sp_txn *t = NULL;
		int outcome = 0;
		char reason[300];
		a.id = (ProtobufCBinaryData){ SP_ID_BYTES, (uint8_t *)ids[i] };
		a.status = SEINPOST__STATUS__STATUS_REJECTED;
		a.code = SP_ECORRUPT;
		a.reason = (char *)why;
		if (sp_txn_begin(s, 1, &t) != SP_OK)
			return;
		if (sp_verdict_apply(t, c, &a, sp_now_ms(), &outcome, reason, sizeof reason) == SP_OK &&
		    sp_txn_commit(&t) == SP_OK && outcome == SP_VERDICT_REJECTED)
			sp_verdict_notify(c, ids[i], reason);
		sp_txn_abort(&t);
	}
}
