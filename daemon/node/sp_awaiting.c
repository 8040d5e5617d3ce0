/* sp_awaiting.c — submits held, encrypted, until the pseudonymisation
 * service gives their pseudonym (sp_awaiting.h). */
#include "sp_awaiting.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sp_audit.h"
#include "sp_log.h"
#include "sp_node_oprf.h"
#include "sp_outbox.h"
#include "sp_spool.h"
#include "sp_submit.h"
#include "sp_util.h"
#include "sp_wire.h"

#define C "node"
#define AD_PREFIX "seinpost/awaiting/v1"
#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEALED (crypto_box_SEALBYTES + 32)
#define RETRY_MAX_MS 60000u /* and at most 30 x retry_ms */

struct sp_awaiting {
	sp_awaiting_opts o;
	sp_backoff retry;
	uint64_t answered;    /* sp_node_oprf_answered() at the last round */
};

int sp_awaiting_new(const sp_awaiting_opts *o, sp_awaiting **out)
{
	*out = NULL;
	if (!sp_kh_uses_oprf(o->kh))
		return SP_OK;
	if (!(*out = calloc(1, sizeof **out)))
		return SP_ENOMEM;
	(*out)->o = *o;
	uint32_t base = o->retry_ms ? o->retry_ms : 1000;
	sp_backoff_init(&(*out)->retry, base, base * 30 < RETRY_MAX_MS ? base * 30 : RETRY_MAX_MS);
	return SP_OK;
}

void sp_awaiting_free(sp_awaiting **a)
{
	if (!a || !*a)
		return;
	free(*a);
	*a = NULL;
}

static void ad_make(const uint8_t id[16], uint8_t ad[sizeof AD_PREFIX - 1 + 16])
{
	memcpy(ad, AD_PREFIX, sizeof AD_PREFIX - 1);
	memcpy(ad + sizeof AD_PREFIX - 1, id, 16);
}

/* The protobuf-c strings of an opened request: wiped before they are freed. */
static void request_wipe_free(Seinpost__SubmitRequest *r)
{
	char *f[8];
	if (!r)
		return;
	f[0] = r->subject_id, f[1] = r->name, f[2] = r->birthdate, f[3] = r->address;
	f[4] = r->summary, f[5] = r->contact, f[6] = r->narrative, f[7] = r->idempotency_key;
	for (size_t i = 0; i < 8; i++)
		if (f[i])
			sodium_memzero(f[i], strlen(f[i]));
	seinpost__submit_request__free_unpacked(r, NULL);
}

/* Encrypt req to our own box key: sealed key (80) and nonce||ciphertext. */
static int request_seal(sp_awaiting *a, const Seinpost__SubmitRequest *req, const uint8_t id[16],
                        uint8_t sealed[SEALED], uint8_t **box, size_t *boxlen)
{
	uint8_t key[32], ad[sizeof AD_PREFIX - 1 + 16], *plain = NULL;
	size_t len = seinpost__submit_request__get_packed_size(req);
	const uint8_t *box_pk = sp_kh_box_pk(a->o.kh);
	int rc = SP_ECRYPTO;

	*box = NULL;
	if (!box_pk)
		return SP_EKEY;
	if (!(plain = sodium_malloc(len ? len : 1)) || !(*box = malloc(NONCE + len + crypto_aead_xchacha20poly1305_ietf_ABYTES))) {
		rc = SP_ENOMEM;
		goto out;
	}
	seinpost__submit_request__pack(req, plain);
	crypto_aead_xchacha20poly1305_ietf_keygen(key);
	randombytes_buf(*box, NONCE);
	ad_make(id, ad);
	unsigned long long clen;
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(*box + NONCE, &clen, plain, len, ad, sizeof ad, NULL, *box,
	                                               key) != 0 ||
	    crypto_box_seal(sealed, key, sizeof key, box_pk) != 0)
		goto out;
	*boxlen = NONCE + (size_t)clen;
	rc = SP_OK;
out:
	sodium_memzero(key, sizeof key);
	if (plain) {
		sodium_memzero(plain, len ? len : 1);
		sodium_free(plain);
	}
	if (rc != SP_OK) {
		free(*box);
		*box = NULL;
	}
	return rc;
}

/* Open a held request through the key holder (UNSEAL of the data key). */
static int request_open(sp_awaiting *a, const Seinpost__AwaitingEntry *e, const uint8_t id[16],
                        Seinpost__SubmitRequest **out)
{
	uint8_t key[32], ad[sizeof AD_PREFIX - 1 + 16], *plain = NULL;
	unsigned long long plen = 0;
	int rc;

	*out = NULL;
	if (e->sealed_key.len != SEALED || e->box.len < NONCE + crypto_aead_xchacha20poly1305_ietf_ABYTES)
		return SP_ECORRUPT;
	if ((rc = sp_kh_unseal(a->o.kh, e->sealed_key.data, key)) != SP_OK)
		return rc;
	if (!(plain = sodium_malloc(e->box.len))) {
		rc = SP_ENOMEM;
		goto out;
	}
	ad_make(id, ad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL, e->box.data + NONCE, e->box.len - NONCE, ad,
	                                               sizeof ad, e->box.data, key) != 0) {
		rc = SP_ECRYPTO;
		goto out;
	}
	*out = seinpost__submit_request__unpack(NULL, (size_t)plen, plain);
	rc = *out ? SP_OK : SP_ECORRUPT;
out:
	sodium_memzero(key, sizeof key);
	if (plain) {
		sodium_memzero(plain, e->box.len);
		sodium_free(plain);
	}
	return rc;
}

static int reply_pack(int code, const char *msg, const uint8_t *id, int waiting, uint8_t **out, size_t *len)
{
	Seinpost__LocalReply r = SEINPOST__LOCAL_REPLY__INIT;
	r.code = code;
	r.message = (char *)msg;
	if (id) {
		r.id.data = (uint8_t *)id;
		r.id.len = 16;
	}
	r.waiting = waiting;
	return sp_wire_pack(&r.base, out, len);
}

int sp_awaiting_held(sp_txn *t, const uint8_t id[16])
{
	const void *v;
	size_t vl;
	Seinpost__AwaitingEntry *e;
	int held;
	if (sp_store_get(t, SP_DB_AWAITING, id, 16, &v, &vl) != SP_OK)
		return 0;
	e = seinpost__awaiting_entry__unpack(NULL, vl, v);
	held = e && e->sealed_key.len;
	if (e)
		seinpost__awaiting_entry__free_unpacked(e, NULL);
	return held;
}

int sp_awaiting_hold(sp_awaiting *a, const Seinpost__SubmitRequest *req, uint8_t **reply, size_t *replylen)
{
	Seinpost__AwaitingEntry e = SEINPOST__AWAITING_ENTRY__INIT;
	const sp_policy_category *cat;
	uint8_t id[16], sealed[SEALED], key[SP_SPOOL_KEY_BYTES], *box = NULL, *buf = NULL;
	size_t boxlen = 0, len = 0;
	sp_txn *t = NULL;
	int weight, rc, dup = 0, waiting = 1;
	char idhex[SP_ID_HEX], msg[200];
	uint64_t now = sp_now_ms();

	*reply = NULL;
	if (!a)
		return SP_ENOTFOUND;
	/* sp_submit_build checked category and weight before it asked the service */
	if (!(cat = sp_policy_category_find(a->o.policy, req->category)))
		return SP_ENOTFOUND;
	weight = req->weight ? (int)req->weight : cat->default_weight;
	randombytes_buf(id, sizeof id);
	rc = request_seal(a, req, id, sealed, &box, &boxlen);
	e.held = now;
	e.expires = now / 1000 + sp_policy_retention_s(a->o.policy, cat->id, weight, 0);
	e.category = (char *)cat->id;
	e.weight = (uint32_t)weight;
	e.sealed_key = (ProtobufCBinaryData){ SEALED, sealed };
	e.box = (ProtobufCBinaryData){ boxlen, box };
	if (rc == SP_OK)
		rc = sp_wire_pack(&e.base, &buf, &len);
	if (rc == SP_OK)
		rc = sp_txn_begin(a->o.store, 1, &t);
	if (rc == SP_OK && req->idempotency_key && req->idempotency_key[0]) {
		/* the same key space as outbox submits: the key exists exactly when
		 * the signal (held or built) does */
		const void *v;
		size_t vl;
		sp_spool_key(req->idempotency_key, key);
		rc = sp_store_get(t, SP_DB_SPOOL, key, sizeof key, &v, &vl);
		if (rc == SP_OK && vl == SP_SPOOL_KEY_VALUE) {
			memcpy(id, v, 16);
			dup = 1;
			waiting = sp_awaiting_held(t, id);
		} else if (rc == SP_ENOTFOUND) {
			uint8_t kv[SP_SPOOL_KEY_VALUE];
			sp_spool_key_value(id, e.expires, kv);
			rc = sp_store_put(t, SP_DB_SPOOL, key, sizeof key, kv, sizeof kv, 0);
		} else if (rc == SP_OK)
			rc = SP_ECORRUPT;
	}
	if (rc == SP_OK && !dup)
		rc = sp_store_put(t, SP_DB_AWAITING, id, 16, buf, len, SP_PUT_NOOVERWRITE);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	sp_hex(id, 16, idhex);
	if (rc != SP_OK) {
		snprintf(msg, sizeof msg, "the pseudonymisation service gave no pseudonym and the submit could not be "
		         "held: %s; nothing was stored", sp_strerror(rc));
		sp_log(LOG_ERR, C, "holding a submit for the pseudonymisation service failed: %s", sp_strerror(rc));
		rc = reply_pack(rc, msg, NULL, 0, reply, replylen);
	} else if (dup) {
		sp_log_event(LOG_INFO, C, a->o.org, idhex, "idempotency key seen before: answered with the existing signal");
		rc = reply_pack(SP_OK, "already stored (same idempotency key); nothing new was sent", id, waiting, reply,
		                replylen);
	} else {
		sp_log_event(LOG_WARNING, C, a->o.org, idhex, "the pseudonymisation service gave no pseudonym: "
		             "submit held (encrypted) as waiting, retried");
		rc = reply_pack(SP_OK, "waiting: the pseudonymisation service cannot be reached; the submit is held "
		                "encrypted and sent once its pseudonym can be computed", id, 1, reply, replylen);
		sp_backoff_ok(&a->retry, sp_mono_ms()); /* retries start from their first interval */
	}
	sodium_memzero(sealed, sizeof sealed);
	free(box);
	free(buf);
	return rc;
}

/* Give up on a held submit: its data goes, a tombstone says why. */
static int reject(sp_txn *t, const uint8_t id[16], Seinpost__AwaitingEntry *e, const char *reason)
{
	Seinpost__AwaitingEntry z = *e;
	uint8_t *buf = NULL;
	size_t len;
	int rc;
	z.sealed_key = (ProtobufCBinaryData){ 0, NULL };
	z.box = (ProtobufCBinaryData){ 0, NULL };
	z.reason = (char *)reason;
	rc = sp_wire_pack(&z.base, &buf, &len);
	if (rc == SP_OK)
		rc = sp_store_put(t, SP_DB_AWAITING, id, 16, buf, len, 0);
	free(buf);
	return rc;
}

/* The built signal into the outbox, the held entry gone: one transaction. */
static int move(sp_awaiting *a, const uint8_t id[16], const uint8_t *sigbuf, size_t siglen, char *why,
                size_t whylen)
{
	Seinpost__Signal *sig = NULL;
	Seinpost__SignalHeader *h = NULL;
	Seinpost__OutboxEntry oe = SEINPOST__OUTBOX_ENTRY__INIT;
	uint8_t *ebuf = NULL;
	size_t elen = 0;
	sp_txn *t = NULL;
	int rc = sp_wire_decode_signal(sigbuf, siglen, &sig, &h, why, whylen);
	if (rc == SP_OK) {
		oe.signal = sig;
		oe.queued = sp_now_ms();
		oe.state = SEINPOST__OUTBOX_STATE__OUTBOX_PENDING;
		rc = sp_wire_pack(&oe.base, &ebuf, &elen);
	}
	if (rc == SP_OK)
		rc = sp_txn_begin(a->o.store, 1, &t);
	if (rc == SP_OK)
		rc = sp_outbox_add(t, id, ebuf, elen);
	if (rc == SP_OK) {
		sp_audit_entry ae = {
			.event = SEINPOST__AUDIT_EVENT__AUDIT_SUBMITTED,
			.actor = a->o.org,
			.pseudonym = h->pseudonym.len == 32 ? h->pseudonym.data : NULL,
			.signal_id = h->id.data,
			.category = h->category,
			.weight = h->weight,
			.policy_hash = h->policy_hash.data,
		};
		rc = sp_audit_append(t, &ae, NULL);
	}
	if (rc == SP_OK)
		rc = sp_store_del(t, SP_DB_AWAITING, id, 16);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	if (sig)
		seinpost__signal__free_unpacked(sig, NULL);
	free(ebuf);
	return rc;
}

struct due {
	uint8_t id[16];
	uint8_t *v;
	size_t vl;
};

struct collect {
	struct due d[SP_AWAITING_SCAN];
	size_t n, nbuild;
	uint64_t now_s;
	uint32_t max_age_s;
};

/* What this round looks at: every entry due for deletion (a tombstone past
 * its retention, a held submit past max_age_s), up to SP_AWAITING_SCAN, and
 * at most SP_AWAITING_BATCH to build. Tombstones still kept are skipped, so
 * however many there are they never hide a held submit. */
static int collect_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct collect *c = ctx;
	Seinpost__AwaitingEntry *e;
	int take = 0, build = 0;
	if (kl != 16 || !(e = seinpost__awaiting_entry__unpack(NULL, vl, v)))
		return 0;
	if (c->now_s >= e->expires || (e->sealed_key.len && c->now_s > e->held / 1000 + c->max_age_s))
		take = 1;
	else if (e->sealed_key.len && c->nbuild < SP_AWAITING_BATCH)
		take = build = 1;
	seinpost__awaiting_entry__free_unpacked(e, NULL);
	if (!take)
		return 0;
	if (c->n == SP_AWAITING_SCAN || !(c->d[c->n].v = malloc(vl ? vl : 1)))
		return 1;
	memcpy(c->d[c->n].id, k, 16);
	memcpy(c->d[c->n].v, v, vl);
	c->d[c->n++].vl = vl;
	c->nbuild += (size_t)build;
	return 0;
}

/* One held entry: build, reject, or leave it (the service still away).
 * Returns 1 moved, 0 nothing to do, -1 the service gave no pseudonym. */
static int try_one(sp_awaiting *a, const struct due *d, int away)
{
	Seinpost__AwaitingEntry *e = seinpost__awaiting_entry__unpack(NULL, d->vl, d->v);
	Seinpost__SubmitRequest *req = NULL;
	uint8_t *sigbuf = NULL;
	size_t siglen = 0;
	char idhex[SP_ID_HEX], why[256] = "", reason[300] = "";
	uint64_t now_s = sp_now_s();
	sp_txn *t = NULL;
	int rc, ret = 0;

	sp_hex(d->id, 16, idhex);
	if (!e) {
		sp_log_event(LOG_ERR, C, a->o.org, idhex, "a held submit does not decode; left as it is");
		return 0;
	}
	if (!e->sealed_key.len) { /* a tombstone: kept until its retention ends */
		if (now_s >= e->expires && sp_txn_begin(a->o.store, 1, &t) == SP_OK &&
		    sp_store_del(t, SP_DB_AWAITING, d->id, 16) == SP_OK && sp_txn_commit(&t) == SP_OK)
			sp_log_event(LOG_INFO, C, a->o.org, idhex, "retention: forgot a rejected held submit");
		sp_txn_abort(&t);
		goto out;
	}
	if (now_s >= e->expires || now_s > e->held / 1000 + a->o.max_age_s) {
		snprintf(reason, sizeof reason, "the pseudonymisation service gave no pseudonym within %u s "
		         "(max_age_s); the held submit was deleted and nothing was sent", a->o.max_age_s);
		rc = SP_OK;
		goto reject;
	}
	if (away)
		goto out; /* the service failed this round: only what is due for deletion */
	rc = request_open(a, e, d->id, &req);
	if (rc == SP_OK) {
		sp_submit_ctx ctx = {
			.org = a->o.org, .kh = a->o.kh, .roster = *a->o.roster, .policy = a->o.policy,
			.now_s = e->held / 1000, .id = d->id,
		};
		rc = sp_submit_build(&ctx, req, &sigbuf, &siglen, (uint8_t[16]){ 0 }, why, sizeof why);
	}
	if (rc == SP_ETIMEOUT) {
		ret = -1;
		goto out; /* the service is still away: the next round */
	}
	if (rc == SP_OK)
		rc = move(a, d->id, sigbuf, siglen, why, sizeof why);
	if (rc == SP_OK) {
		sp_log_event(LOG_INFO, C, a->o.org, idhex, "pseudonym computed: the held submit is queued %s weight %u",
		             e->category, e->weight);
		ret = 1;
		goto out;
	}
	if (rc == SP_ENOMEM || rc == SP_EIO || rc == SP_EDB || rc == SP_EMAPFULL || rc == SP_ECORRUPT ||
	    rc == SP_EKEY) {
		sp_log_event(LOG_ERR, C, a->o.org, idhex, "a held submit could not be built or stored: %s; retried",
		             sp_strerror(rc));
		ret = -1;
		goto out;
	}
	/* refused for good (the service refused, the policy changed): say why */
	snprintf(reason, sizeof reason, "%s", why[0] ? why : sp_strerror(rc));
reject:
	if (sp_txn_begin(a->o.store, 1, &t) == SP_OK && reject(t, d->id, e, reason) == SP_OK &&
	    sp_txn_commit(&t) == SP_OK)
		sp_log_event(LOG_WARNING, C, a->o.org, idhex, "held submit rejected: %s", reason);
	sp_txn_abort(&t);
out:
	request_wipe_free(req);
	free(sigbuf);
	seinpost__awaiting_entry__free_unpacked(e, NULL);
	return ret;
}

size_t sp_awaiting_tick(sp_awaiting *a, uint64_t now_mono_ms)
{
	struct collect c = { .n = 0, .now_s = sp_now_s(), .max_age_s = a ? a->o.max_age_s : 0 };
	sp_txn *t = NULL;
	size_t moved = 0;
	int away = 0;
	if (!a)
		return 0;
	if (!sp_backoff_due(&a->retry, now_mono_ms) && sp_node_oprf_answered() == a->answered)
		return 0; /* not due, and the service gave no pseudonym since: still away */
	a->answered = sp_node_oprf_answered();
	if (sp_txn_begin(a->o.store, 0, &t) != SP_OK)
		return 0;
	(void)sp_store_foreach(t, SP_DB_AWAITING, NULL, 0, collect_one, &c);
	sp_txn_abort(&t);
	for (size_t i = 0; i < c.n; i++) {
		/* once the service failed this round, only the due rejections */
		int r = try_one(a, &c.d[i], away);
		if (r > 0)
			moved++;
		else if (r < 0)
			away = 1;
		free(c.d[i].v);
	}
	if (away)
		sp_backoff_fail(&a->retry, sp_mono_ms());
	else
		sp_backoff_ok(&a->retry, sp_mono_ms());
	return moved;
}

struct visit {
	sp_awaiting_visit_fn fn;
	void *ctx;
};

static int visit_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct visit *vi = ctx;
	Seinpost__AwaitingEntry *e;
	int r;
	if (kl != 16 || !(e = seinpost__awaiting_entry__unpack(NULL, vl, v)))
		return 0;
	r = vi->fn(vi->ctx, k, e->held, e->category, e->weight, e->sealed_key.len ? "waiting" : "rejected",
	           e->reason);
	seinpost__awaiting_entry__free_unpacked(e, NULL);
	return r;
}

int sp_awaiting_foreach(sp_txn *t, sp_awaiting_visit_fn fn, void *ctx)
{
	struct visit vi = { fn, ctx };
	return sp_store_foreach(t, SP_DB_AWAITING, NULL, 0, visit_one, &vi);
}

struct count {
	size_t waiting, rejected;
	uint64_t oldest;
};

static int count_one(void *ctx, const uint8_t id[16], uint64_t held_ms, const char *category, uint32_t weight,
                     const char *state, const char *reason)
{
	struct count *c = ctx;
	(void)id, (void)category, (void)weight, (void)reason;
	if (strcmp(state, "waiting") == 0) {
		c->waiting++;
		if (!c->oldest || held_ms < c->oldest)
			c->oldest = held_ms;
	} else
		c->rejected++;
	return 0;
}

int sp_awaiting_status(const sp_status_src *src, sp_status *st)
{
	struct count c = { 0, 0, 0 };
	uint64_t now = src->opts->now_ms ? src->opts->now_ms : sp_now_ms(), age;
	char agebuf[32];
	int rc, level;
	if (!src->cfg->oprf_service[0] || !src->txn)
		return SP_OK;
	(void)sp_awaiting_foreach(src->txn, count_one, &c);
	age = c.oldest && now > c.oldest ? now - c.oldest : 0;
	level = !c.waiting ? SP_STATUS_OK
	        : age / 1000 > src->opts->max_age_s ? SP_STATUS_BAD
	        : age / 1000 > SP_AWAITING_WARN_S ? SP_STATUS_WARN : SP_STATUS_OK;
	sp_status_num(st, "awaiting", "waiting", (double)c.waiting);
	sp_status_num(st, "awaiting", "oldest_age_s", (double)(age / 1000));
	sp_status_num(st, "awaiting", "rejected", (double)c.rejected);
	rc = sp_status_add(st, "awaiting", "waiting", level, "%zu submits waiting for the pseudonymisation service%s%s",
	                   c.waiting, c.waiting ? ", oldest " : "", c.waiting ? sp_status_age(age, agebuf, sizeof agebuf) : "");
	if (rc == SP_OK)
		rc = sp_status_add(st, "awaiting", "rejected", c.rejected ? SP_STATUS_WARN : SP_STATUS_OK,
		                   "%zu held submits given up (no pseudonym within max_age_s; see `seinpost outbox`)",
		                   c.rejected);
	return rc;
}
