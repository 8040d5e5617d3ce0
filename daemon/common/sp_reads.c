/*
 * sp_reads.c — read receipts (sp_reads.h).
 *
 * The broker records only what the reader's node signed: a broker cannot
 * invent reads, and a node cannot deny the ones it reported. The user name
 * is the organisation's account name for the person who opened the signal;
 * it goes into the audit record (that is the point of "who saw what") but
 * never into a log line.
 */
#include "sp_reads.h"

#include <stdlib.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "sp_audit.h"
#include "sp_kh.h"
#include "sp_log.h"
#include "sp_mtree.h"
#include "sp_util.h"
#include "sp_translate.h"
#include "sp_wire.h"

#define C "reads"
#define DOMAIN_LEN (sizeof SP_READ_DOMAIN - 1)
#define QKEY 25 /* 'r' be64(time) id(16) */

static int sign_event(const uint8_t *ev, size_t len, const uint8_t sk[64], uint8_t sig[64])
{
	uint8_t *m = malloc(DOMAIN_LEN + len);
	if (!m)
		return SP_ENOMEM;
	memcpy(m, SP_READ_DOMAIN, DOMAIN_LEN);
	memcpy(m + DOMAIN_LEN, ev, len);
	crypto_sign_detached(sig, NULL, m, DOMAIN_LEN + len, sk);
	free(m);
	return SP_OK;
}

static int verify_event(const uint8_t *ev, size_t len, const uint8_t *sig, const uint8_t pk[32])
{
	int ok;
	uint8_t *m = malloc(DOMAIN_LEN + len);
	if (!m)
		return SP_ENOMEM;
	memcpy(m, SP_READ_DOMAIN, DOMAIN_LEN);
	memcpy(m + DOMAIN_LEN, ev, len);
	ok = crypto_sign_verify_detached(sig, m, DOMAIN_LEN + len, pk) == 0;
	free(m);
	return ok ? SP_OK : SP_ESIG;
}

static int queue(sp_txn *t, const uint8_t *sign_sk, sp_kh *kh, const char *org, const char *user,
                 const uint8_t signal_id[16], uint32_t tiers)
{
	Seinpost__ReadEvent ev = SEINPOST__READ_EVENT__INIT;
	Seinpost__ReadReceipt rr = SEINPOST__READ_RECEIPT__INIT;
	uint8_t id[16], sig[64], key[QKEY], *evb = NULL, *rb = NULL;
	size_t evl, rl;
	int rc;

	if (!t || (!sign_sk && !kh) || !org || !user || !signal_id)
		return SP_EINVAL;
	randombytes_buf(id, sizeof id);
	ev.id = (ProtobufCBinaryData){ 16, id };
	ev.signal_id = (ProtobufCBinaryData){ 16, (uint8_t *)signal_id };
	ev.org = (char *)org;
	ev.user = (char *)user;
	ev.time = sp_now_ms();
	ev.tiers = tiers;
	/* Beside the stated name: the Unix account of the process that
	 * recorded the read (the CLI's caller, or the daemon for a hook). */
	{
		struct passwd *pw = getpwuid(getuid());
		if (pw && sp_user_ok(pw->pw_name) && strlen(pw->pw_name) <= 32)
			ev.unix_user = pw->pw_name;
	}
	if ((rc = sp_wire_pack(&ev.base, &evb, &evl)) != SP_OK)
		goto out;
	rc = kh ? sp_kh_sign(kh, SP_KH_DOM_READ, evb, evl, sig) : sign_event(evb, evl, sign_sk, sig);
	if (rc != SP_OK)
		goto out;
	rr.event = (ProtobufCBinaryData){ evl, evb };
	rr.signature = (ProtobufCBinaryData){ 64, sig };
	if ((rc = sp_wire_pack(&rr.base, &rb, &rl)) != SP_OK)
		goto out;
	key[0] = 'r';
	sp_be64_put(key + 1, ev.time);
	memcpy(key + 9, id, 16);
	rc = sp_store_put(t, SP_DB_AUDIX, key, sizeof key, rb, rl, 0);
out:
	free(evb);
	free(rb);
	return rc;
}

int sp_reads_queue(sp_txn *t, const uint8_t sign_sk[64], const char *org, const char *user,
                   const uint8_t signal_id[16], uint32_t tiers)
{
	if (!sign_sk)
		return SP_EINVAL;
	return queue(t, sign_sk, NULL, org, user, signal_id, tiers);
}

int sp_reads_queue_kh(sp_txn *t, sp_kh *kh, const char *org, const char *user, const uint8_t signal_id[16],
                      uint32_t tiers)
{
	if (!kh)
		return SP_EINVAL;
	return queue(t, NULL, kh, org, user, signal_id, tiers);
}

struct each {
	sp_reads_fn fn;
	void *ctx;
	const uint8_t *find;     /* acked: id to find */
	uint8_t found[QKEY];
	int have;
	uint64_t n;
};

static int each_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct each *e = ctx;
	Seinpost__ReadReceipt *r;
	int rc;
	if (kl != QKEY)
		return 0;
	e->n++;
	if (e->find) {
		if (memcmp((const uint8_t *)k + 9, e->find, 16) == 0) {
			memcpy(e->found, k, QKEY);
			e->have = 1;
			return 1;
		}
		return 0;
	}
	if (!e->fn)
		return 0;
	r = seinpost__read_receipt__unpack(NULL, vl, v);
	if (!r)
		return 0;
	rc = e->fn(e->ctx, r);
	seinpost__read_receipt__free_unpacked(r, NULL);
	return rc;
}

int sp_reads_foreach(sp_txn *t, sp_reads_fn fn, void *ctx)
{
	struct each e = { .fn = fn, .ctx = ctx };
	uint8_t p = 'r';
	if (!t || !fn)
		return SP_EINVAL;
	return sp_store_foreach(t, SP_DB_AUDIX, &p, 1, each_one, &e);
}

int sp_reads_pending(sp_txn *t, uint64_t *n)
{
	struct each e = { 0 };
	uint8_t p = 'r';
	int rc = sp_store_foreach(t, SP_DB_AUDIX, &p, 1, each_one, &e);
	*n = e.n;
	return rc;
}

int sp_reads_acked(sp_txn *t, const uint8_t id[16])
{
	struct each e = { .find = id };
	uint8_t p = 'r';
	int rc = sp_store_foreach(t, SP_DB_AUDIX, &p, 1, each_one, &e);
	if (rc < 0)
		return rc;
	if (!e.have)
		return SP_OK; /* a repeated ack */
	return sp_store_del(t, SP_DB_AUDIX, e.found, QKEY);
}

struct delivered_ctx {
	sp_txn *t;
	const char *org;
	int found;
};

static int delivered_one(void *ctx, uint64_t seq)
{
	struct delivered_ctx *c = ctx;
	uint8_t key[8];
	const void *v;
	size_t vl;
	Seinpost__AuditRecord *r;
	sp_be64_put(key, seq);
	if (sp_store_get(c->t, SP_DB_AUDIT, key, 8, &v, &vl) != SP_OK)
		return 0;
	r = seinpost__audit_record__unpack(NULL, vl, v);
	if (r && r->event == SEINPOST__AUDIT_EVENT__AUDIT_DELIVERED && strcmp(r->recipient, c->org) == 0)
		c->found = 1;
	if (r)
		seinpost__audit_record__free_unpacked(r, NULL);
	return c->found;
}

/* Did the broker's log record a delivery of this signal to org? */
static int was_delivered(sp_txn *t, const uint8_t signal_id[16], const char *org)
{
	struct delivered_ctx c = { t, org, 0 };
	(void)sp_mtree_index_foreach(t, SP_MTREE_BY_SIGNAL, signal_id, SP_ID_BYTES, delivered_one, &c);
	return c.found;
}

int sp_reads_accept(sp_txn *t, const sp_roster *roster, const char *from,
                    const Seinpost__ReadReceipt *r, uint8_t id_out[16])
{
	const sp_org *org = sp_roster_find(roster, from);
	Seinpost__ReadEvent *ev = NULL;
	Seinpost__BrokerSignal *bs = NULL;
	Seinpost__SignalHeader *h = NULL;
	uint8_t dkey[17];
	const void *v;
	size_t vl;
	int rc;

	if (!t || !org || !r || r->signature.len != 64)
		return SP_EMALFORMED;
	if ((rc = verify_event(r->event.data, r->event.len, r->signature.data, org->sign_pk)) != SP_OK) {
		sp_log_event(LOG_WARNING, C, from, NULL, "read receipt signature does not verify; ignored");
		return rc;
	}
	ev = seinpost__read_event__unpack(NULL, r->event.len, r->event.data);
	if (!ev || ev->id.len != 16 || ev->signal_id.len != SP_ID_BYTES || !ev->user[0] ||
	    !sp_text_ok(ev->user, 64, 0) || ev->time == 0) {
		rc = SP_EMALFORMED;
		goto out;
	}
	if (strcmp(ev->org, from) != 0) {
		rc = SP_ESENDER; /* a node reports only its own users' reads */
		goto out;
	}
	memcpy(id_out, ev->id.data, 16);
	dkey[0] = 'd';
	memcpy(dkey + 1, ev->id.data, 16);
	rc = sp_store_put(t, SP_DB_AUDIX, dkey, sizeof dkey, "", 0, SP_PUT_NOOVERWRITE);
	if (rc == SP_EEXIST) {
		rc = SP_OK; /* a retry: recorded before, acknowledge again */
		goto out;
	}
	if (rc != SP_OK)
		goto out;
	/* The subject and category come from the signal the broker holds, not
	 * from the reader: the receipt only says who opened which signal. */
	rc = sp_store_get(t, SP_DB_SIGNALS, ev->signal_id.data, SP_ID_BYTES, &v, &vl);
	if (rc == SP_OK) {
		bs = seinpost__broker_signal__unpack(NULL, vl, v);
		if (bs && bs->signal)
			h = sp_wire_header_of(bs->signal, NULL);
		if (h && sp_translate_header(h) != SP_OK) { /* the current key epoch's, as the stores */
			seinpost__signal_header__free_unpacked(h, NULL);
			h = NULL;
		}
	} else if (rc != SP_ENOTFOUND) {
		goto out;
	}
	{
		/* A read is recorded even when no delivery to this organisation is
		 * on record (who saw what must stay complete), but flagged for the
		 * privacy officer: it should not happen. */
		int delivered = was_delivered(t, ev->signal_id.data, from);
		if (!delivered)
			sp_log_event(LOG_WARNING, C, from, NULL, "read receipt for a signal not delivered to this organisation");
		sp_audit_entry e = {
			.event = SEINPOST__AUDIT_EVENT__AUDIT_READ,
			.reason = delivered ? NULL : "no delivery of this signal to the reader on record",
			.actor = from,
			/* the node checks user names; a bad one still records the read */
			.user = sp_user_ok(ev->user) ? ev->user : "(withheld: not a valid user name)",
			.unix_user = sp_user_ok(ev->unix_user) && strlen(ev->unix_user) <= 32 ? ev->unix_user : NULL,
			.signal_id = ev->signal_id.data,
			.pseudonym = h && h->pseudonym.len == 32 ? h->pseudonym.data : NULL,
			.category = h ? h->category : NULL,
			.weight = h ? h->weight : 0,
			.policy_hash = h && h->policy_hash.len == 32 ? h->policy_hash.data : NULL,
			.tiers = ev->tiers,
			.event_time_ms = ev->time,
		};
		rc = sp_audit_append(t, &e, NULL);
	}
out:
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	if (bs)
		seinpost__broker_signal__free_unpacked(bs, NULL);
	if (ev)
		seinpost__read_event__free_unpacked(ev, NULL);
	return rc;
}
