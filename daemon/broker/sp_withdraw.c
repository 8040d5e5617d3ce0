/*
 * sp_withdraw.c — a signal withdrawn by its sender (sp_withdraw.h).
 *
 * Everything happens in the caller's write transaction: the stored signal
 * loses its tiers and grants, the queued withdrawals, the referral's new
 * state and the audit record commit together, or nothing does.
 */
#include "sp_withdraw.h"
#include "sp_subject.h"
#include "sp_meta_keys.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sp_audit.h"
#include "sp_log.h"
#include "sp_queue.h"
#include "sp_release.h"
#include "sp_translate.h"
#include "sp_util.h"
#include "sp_wire.h"

#define C "withdraw"
#define HOLDERS_MAX 256 /* organisations on a roster are far fewer */

void sp_withdraw_receipt_id(const uint8_t signal_id[16], uint8_t out[16])
{
	static const uint8_t ctx[] = "seinpost/withdraw/v1";
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 16);
	crypto_generichash_update(&st, ctx, sizeof ctx - 1);
	crypto_generichash_update(&st, signal_id, 16);
	crypto_generichash_final(&st, out, 16);
}

int sp_withdraw_reason_check(const char *reason, char *why, size_t whylen)
{
	const char *p = reason ? sp_text_problem(reason, SP_WITHDRAW_REASON_MAX, 0) : NULL;
	int run = 0;
	if (!reason || !reason[0]) {
		snprintf(why, whylen, "--reason is required: why the signal is withdrawn (kept in the audit log)");
		return SP_EINVAL;
	}
	if (p) {
		snprintf(why, whylen, "--reason: %s (one line of at most %d bytes)", p, SP_WITHDRAW_REASON_MAX);
		return SP_EINVAL;
	}
	for (const char *s = reason; *s; s++) {
		run = isdigit((unsigned char)*s) ? run + 1 : 0;
		if (run >= 8) {
			snprintf(why, whylen, "--reason must not hold a number of 8 or more digits (no BSN, phone or "
			                      "file numbers: the reason is kept in the audit log)");
			return SP_EINVAL;
		}
	}
	return SP_OK;
}

static size_t holder_key(uint8_t *k, const uint8_t id[16], const char *org)
{
	size_t n = org ? strnlen(org, SP_ID_MAX - 1) : 0;
	memcpy(k, SP_MK_WITHDRAW_NOTE, 2);
	memcpy(k + 2, id, 16);
	if (n)
		memcpy(k + 18, org, n);
	return 18 + n;
}

int sp_withdraw_note_holder(sp_txn *t, const uint8_t id[16], const char *org)
{
	uint8_t k[18 + SP_ID_MAX];
	return sp_store_put(t, SP_DB_META, k, holder_key(k, id, org), "", 0, 0);
}

struct holders {
	char org[HOLDERS_MAX][SP_ID_MAX];
	size_t n;
};

static int holder_visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct holders *h = ctx;
	(void)v;
	(void)vl;
	if (kl <= 18 || kl - 18 >= SP_ID_MAX)
		return 0;
	if (h->n >= HOLDERS_MAX)
		return 1;
	memcpy(h->org[h->n], (const uint8_t *)k + 18, kl - 18);
	h->org[h->n][kl - 18] = '\0';
	h->n++;
	return 0;
}

static int holders_of(sp_txn *t, const uint8_t id[16], struct holders *h)
{
	uint8_t prefix[18];
	h->n = 0;
	int rc = sp_store_foreach(t, SP_DB_META, prefix, holder_key(prefix, id, NULL), holder_visit, h);
	return rc == 1 ? SP_ESIZE : rc;
}

int sp_withdraw_forget(sp_txn *t, const uint8_t id[16])
{
	struct holders *h = malloc(sizeof *h);
	int rc;
	if (!h)
		return SP_ENOMEM;
	/* in rounds: a foreach must not delete under its own cursor */
	do {
		rc = holders_of(t, id, h);
		if (rc != SP_OK && rc != SP_ESIZE)
			break;
		for (size_t i = 0; i < h->n; i++) {
			uint8_t k[18 + SP_ID_MAX];
			int d = sp_store_del(t, SP_DB_META, k, holder_key(k, id, h->org[i]));
			if (d != SP_OK && d != SP_ENOTFOUND) {
				free(h);
				return d;
			}
		}
	} while (rc == SP_ESIZE);
	free(h);
	return rc;
}

static int ack(const Seinpost__Withdraw *w, int code, const char *msg, uint64_t time, uint64_t seq,
               uint32_t told, uint32_t closed, uint8_t **reply, size_t *len)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__WithdrawAck a = SEINPOST__WITHDRAW_ACK__INIT;
	a.id = w->id;
	a.signal_id = w->signal_id;
	a.code = code;
	a.message = (char *)msg;
	a.time = time;
	a.audit_seq = seq;
	a.recipients = told;
	a.referrals_closed = closed;
	a.reason = code == SP_OK ? w->reason : "";
	f.version = SP_WIRE_VERSION;
	f.body_case = SEINPOST__FRAME__BODY_WITHDRAW_ACK;
	f.withdraw_ack = &a;
	return sp_wire_pack(&f.base, reply, len);
}

/* Queue the withdrawal for one holder under its own receipt id. */
static int queue_withdrawal(sp_txn *t, const Seinpost__Signal *bare, uint64_t when, const char *to,
                            const Seinpost__Referral *ref)
{
	Seinpost__Delivery d = SEINPOST__DELIVERY__INIT;
	Seinpost__Signal sent = SEINPOST__SIGNAL__INIT;
	sp_subject_named named;
	Seinpost__SignalHeader *h = NULL;
	uint8_t wid[16];
	int rc;

	h = sp_wire_header_of(bare, NULL);
	if (!h || h->id.len != 16 || sp_translate_header(h) != SP_OK) {
		rc = SP_ECORRUPT;
		goto out;
	}
	sp_withdraw_receipt_id(h->id.data, wid);
	/* header and signature only: never the network pseudonym (issue 13);
	 * the recipient's own one, and in the referral too */
	sent.header = bare->header;
	sent.signature = bare->signature;
	d.signal = &sent;
	d.withdrawn = when;
	d.referral = (Seinpost__Referral *)ref;
	if ((rc = sp_subject_name_delivery(t, bare, to, &d, &named)) != SP_OK)
		goto out;
	rc = sp_queue_append(t, to, wid, &d, &named);
out:
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	return rc;
}

static const sp_policy_escalation *rule_of(const sp_policy *p, const char *id)
{
	for (size_t i = 0; id && i < sp_policy_escalation_count(p); i++)
		if (strcmp(sp_policy_escalation_at(p, i)->id, id) == 0)
			return sp_policy_escalation_at(p, i);
	return NULL;
}

/* The subject's open referral, if the withdrawn signal was part of it: the
 * signal leaves its list (or its hidden count); when the rule no longer
 * holds with what remains, the referral is closed, audited, and the
 * signallers learn it through their feedback (status record). *ref gets the
 * updated referral for the coordinator (caller frees), or NULL. */
static int reconsider(sp_txn *t, const sp_engine *e, const Seinpost__SignalHeader *h, uint64_t now_ms,
                      Seinpost__Referral **ref, int *closed)
{
	Seinpost__Referral *r = NULL;
	size_t keep = 0;
	int listed = 0, rc;
	char why[300];

	*ref = NULL;
	*closed = 0;
	if (!sp_release_is_escalated(t, h->pseudonym.data, h->id.data))
		return SP_OK;
	rc = sp_escalate_referral_load(t, h->pseudonym.data, &r);
	if (rc == SP_ENOTFOUND)
		return SP_OK;
	if (rc != SP_OK)
		return rc;
	if (sp_referral_ended(r)) {
		seinpost__referral__free_unpacked(r, NULL);
		return SP_OK;
	}
	/* drop the id in place: protobuf-c frees n_signal_ids entries, and
	 * the dropped one is swapped to the end where it is still freed */
	for (size_t i = 0; i < r->n_signal_ids; i++) {
		if (r->signal_ids[i].len == 16 && memcmp(r->signal_ids[i].data, h->id.data, 16) == 0) {
			listed = 1;
			continue;
		}
		ProtobufCBinaryData x = r->signal_ids[keep];
		r->signal_ids[keep++] = r->signal_ids[i];
		r->signal_ids[i] = x;
	}
	size_t n_all = r->n_signal_ids;
	if (!listed && r->hidden)
		r->hidden--;
	r->n_signal_ids = keep;
	char *own_status = r->status;
	if (!sp_escalate_rule_holds(e, t, h->pseudonym.data, r->rule_id)) {
		const sp_policy_escalation *esc = rule_of(e->policy, r->rule_id);
		r->status = "closed";
		r->status_time = now_ms;
		*closed = 1;
		snprintf(why, sizeof why, "closed: a signal was withdrawn by its sender; escalation rule %s no "
		         "longer holds with the remaining signals", r->rule_id);
		sp_audit_entry a = {
			.event = SEINPOST__AUDIT_EVENT__AUDIT_REFERRAL_STATUS,
			.actor = "broker",
			.pseudonym = r->pseudonym.data,
			.rule_id = r->rule_id,
			.legal_basis = esc ? esc->basis : r->basis,
			.reason = why,
			.policy_hash = sp_policy_hash(e->policy),
		};
		rc = sp_escalate_referral_save(t, r);
		if (rc == SP_OK)
			rc = sp_audit_append(t, &a, NULL);
		sp_log(LOG_NOTICE, C, "referral closed: rule %s no longer holds after a withdrawal", r->rule_id);
	} else {
		rc = sp_escalate_referral_save(t, r);
	}
	if (rc == SP_OK) {
		/* a copy for the coordinator's deliveries (r's own strings go back) */
		uint8_t *buf = NULL;
		size_t len;
		rc = sp_wire_pack(&r->base, &buf, &len);
		if (rc == SP_OK && !(*ref = seinpost__referral__unpack(NULL, len, buf)))
			rc = SP_ENOMEM;
		free(buf);
	}
	r->status = own_status;
	r->n_signal_ids = n_all;
	seinpost__referral__free_unpacked(r, NULL);
	return rc;
}

/* The coordinators of a referral that do not hold the withdrawn signal
 * learn its new state with a re-delivery of one of its remaining signals. */
static int tell_coordinators(sp_txn *t, const sp_engine *e, const Seinpost__Referral *ref,
                             const struct holders *hs, const char *sender)
{
	const sp_policy_escalation *esc = rule_of(e->policy, ref->rule_id);
	int rc = SP_OK;
	if (!esc || ref->n_signal_ids == 0 || ref->signal_ids[0].len != 16)
		return SP_OK; /* nothing listed: the coordinator never saw this referral */
	for (size_t i = 0; i < sp_roster_count(e->roster) && rc == SP_OK; i++) {
		const sp_org *o = sp_roster_at(e->roster, i);
		int holds = 0;
		if (strcmp(o->role, esc->to_role) != 0 || strcmp(o->id, sender) == 0)
			continue;
		for (size_t j = 0; j < hs->n && !holds; j++)
			holds = strcmp(hs->org[j], o->id) == 0;
		if (holds)
			continue; /* its withdrawal carries the referral */
		rc = sp_release_share(t, ref->signal_ids[0].data, o->id, SP_MODE_BIT(SEINPOST__GRANT_MODE__GRANT_IMMEDIATE),
		                      NULL, ref);
		if (rc == SP_ENOTFOUND)
			rc = SP_OK;
	}
	return rc;
}

int sp_withdraw_apply(sp_txn *t, const sp_engine *e, const char *org, const Seinpost__Withdraw *w,
                      uint8_t **reply, size_t *len)
{
	Seinpost__BrokerSignal *bs = NULL;
	Seinpost__SignalHeader *h = NULL;
	Seinpost__Referral *ref = NULL;
	struct holders *hs = NULL;
	const void *v;
	size_t vl;
	char why[300], idhex[SP_ID_HEX], when[32];
	uint64_t now = sp_now_ms(), seq = 0;
	uint32_t told = 0;
	int code, rc, closed = 0;

	*reply = NULL;
	*len = 0;
	if (!w || w->id.len != 16 || w->signal_id.len != 16) {
		code = SP_EMALFORMED;
		snprintf(why, sizeof why, "withdraw: ids must be 16 bytes");
		goto refuse;
	}
	sp_hex(w->signal_id.data, 16, idhex);
	if ((code = sp_withdraw_reason_check(w->reason, why, sizeof why)) != SP_OK)
		goto refuse;
	if (w->user[0] && !sp_user_ok(w->user)) {
		code = SP_EINVAL;
		snprintf(why, sizeof why, "--user must be printable, without a run of 8 or more digits");
		goto refuse;
	}
	rc = sp_store_get(t, SP_DB_SIGNALS, w->signal_id.data, 16, &v, &vl);
	if (rc == SP_ENOTFOUND) {
		code = SP_ENOTFOUND;
		snprintf(why, sizeof why, "no signal %s at the broker (never accepted, or past its retention)", idhex);
		goto refuse;
	}
	if (rc != SP_OK)
		return rc;
	bs = seinpost__broker_signal__unpack(NULL, vl, v);
	if (!bs || !bs->signal || sp_wire_check_signal(bs->signal, &h, why, sizeof why) != SP_OK) {
		rc = SP_ECORRUPT;
		goto out;
	}
	if (strcmp(h->sender, org) != 0) {
		code = SP_EROLE;
		snprintf(why, sizeof why, "signal %s was not sent by %s: only the organisation that sent a signal may "
		         "withdraw it", idhex, org);
		goto refuse;
	}
	if (bs->withdrawn) {
		code = SP_EEXIST;
		snprintf(why, sizeof why, "signal %s was already withdrawn at %s; nothing changed", idhex,
		         sp_iso_time(bs->withdrawn, when, sizeof when));
		goto refuse;
	}
	if (!(hs = malloc(sizeof *hs))) {
		rc = SP_ENOMEM;
		goto out;
	}
	/* Who holds (or may be about to hold) a copy, before the queue
	 * entries and their notes go. */
	if ((rc = holders_of(t, h->id.data, hs)) != SP_OK)
		goto out;
	if ((rc = sp_release_drop_signal(t, e->roster, h->id.data)) != SP_OK)
		goto out;
	{
		/* Header and signature only: no tier box, no grant, held or not. */
		Seinpost__Signal bare = SEINPOST__SIGNAL__INIT;
		Seinpost__BrokerSignal nb = SEINPOST__BROKER_SIGNAL__INIT;
		uint8_t *buf = NULL;
		size_t blen;
		bare.header = bs->signal->header;
		bare.signature = bs->signal->signature;
		bare.subject_pseudonym = bs->signal->subject_pseudonym; /* the broker keeps P; never forwarded */
		nb.signal = &bare;
		nb.accepted = bs->accepted;
		nb.expires = bs->expires;
		nb.withdrawn = now;
		rc = sp_wire_pack(&nb.base, &buf, &blen);
		if (rc == SP_OK)
			rc = sp_store_put(t, SP_DB_SIGNALS, h->id.data, 16, buf, blen, 0);
		free(buf);
		/* Matches and escalation no longer count it. */
		if (rc == SP_OK)
			rc = sp_release_index_del(t, h);
		if (rc == SP_OK)
			rc = reconsider(t, e, h, now, &ref, &closed);
		const sp_policy_escalation *esc = ref ? rule_of(e->policy, ref->rule_id) : NULL;
		for (size_t i = 0; i < hs->n && rc == SP_OK; i++) {
			const sp_org *o = sp_roster_find(e->roster, hs->org[i]);
			if (!o || strcmp(o->id, org) == 0)
				continue; /* revoked organisations get nothing more */
			rc = queue_withdrawal(t, &bare, now, o->id, esc && strcmp(o->role, esc->to_role) == 0 ? ref : NULL);
			told++;
		}
		if (rc == SP_OK && ref)
			rc = tell_coordinators(t, e, ref, hs, org);
	}
	if (rc != SP_OK)
		goto out;
	{
		sp_audit_entry a = {
			.event = SEINPOST__AUDIT_EVENT__AUDIT_WITHDRAWN,
			.actor = org,
			.user = w->user,
			.pseudonym = h->pseudonym.data,
			.signal_id = h->id.data,
			.category = h->category,
			.weight = h->weight,
			.reason = w->reason,
			.code = (int32_t)told,
			.policy_hash = sp_policy_hash(e->policy),
			.time_ms = now,
		};
		if ((rc = sp_audit_append(t, &a, &seq)) != SP_OK)
			goto out;
	}
	sp_log_event(LOG_INFO, C, org, idhex, "withdrawn: %u recipients told%s", told,
	             closed ? "; its referral closed" : "");
	snprintf(why, sizeof why, "signal %s withdrawn; %u organisation%s told to delete %s cop%s%s", idhex, told,
	         told == 1 ? "" : "s", told == 1 ? "its" : "their", told == 1 ? "y" : "ies",
	         closed ? "; the referral it carried no longer meets its rule and is closed" : "");
	rc = ack(w, SP_OK, why, now, seq, told, (uint32_t)closed, reply, len);
	goto out;
refuse:
	sp_log_event(LOG_NOTICE, C, org, NULL, "withdrawal refused: %s", sp_strerror(code));
	rc = ack(w, code, why, 0, 0, 0, 0, reply, len);
out:
	if (ref)
		seinpost__referral__free_unpacked(ref, NULL);
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	if (bs)
		seinpost__broker_signal__free_unpacked(bs, NULL);
	free(hs);
	return rc;
}
