/*
 * sp_sth.c — signed tree heads of the broker's audit log (sp_sth.h).
 *
 * Only the broker signs (its Ed25519 key, the one that signs the roster as
 * operator); nodes verify with the broker sign key from the signed roster.
 */
#include "sp_sth.h"
#include "sp_meta_keys.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sp_audit.h"
#include "sp_log.h"
#include "sp_mtree.h"
#include "sp_util.h"
#include "sp_wire.h"

#define MSG_LEN (sizeof SP_STH_DOMAIN - 1 + 8 + 8 + 32)

static void sth_message(uint8_t m[MSG_LEN], uint64_t size, uint64_t time_ms, const uint8_t root[32])
{
	size_t d = sizeof SP_STH_DOMAIN - 1;
	memcpy(m, SP_STH_DOMAIN, d);
	sp_be64_put(m + d, size);
	sp_be64_put(m + d + 8, time_ms);
	memcpy(m + d + 16, root, 32);
}

void sp_sth_sign_raw(uint64_t size, uint64_t time_ms, const uint8_t root[32],
                     const uint8_t sign_sk[64], uint8_t sig[64])
{
	uint8_t m[MSG_LEN];
	sth_message(m, size, time_ms, root);
	crypto_sign_detached(sig, NULL, m, sizeof m, sign_sk);
}

int sp_sth_verify(const Seinpost__SignedTreeHead *h, const uint8_t sign_pk[32])
{
	uint8_t m[MSG_LEN];
	if (!h || h->root_hash.len != 32 || h->signature.len != 64)
		return SP_EMALFORMED;
	sth_message(m, h->tree_size, h->timestamp, h->root_hash.data);
	if (crypto_sign_verify_detached(h->signature.data, m, sizeof m, sign_pk) != 0)
		return SP_ESIG;
	return SP_OK;
}

struct last {
	uint64_t size, time;
	int have;
};

static int last_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct last *l = ctx;
	Seinpost__SignedTreeHead *h;
	if (kl != 9)
		return 0;
	h = seinpost__signed_tree_head__unpack(NULL, vl, v);
	if (!h)
		return 0;
	l->size = h->tree_size;
	l->time = h->timestamp;
	l->have = 1;
	seinpost__signed_tree_head__free_unpacked(h, NULL);
	return 0;
}

/* The head with the largest size: the last 'h' key. A cursor walk over all
 * heads would be O(heads); seek to the first key past the 'h' range instead
 * is not offered by sp_store, so keep it simple and read the remembered
 * size from META. */
#define LAST_KEY SP_MK_STH_LAST

static int latest_bytes(sp_txn *t, const void **v, size_t *vl)
{
	const void *lv;
	size_t ll;
	uint8_t k[9];
	int rc = sp_store_get(t, SP_DB_META, LAST_KEY, strlen(LAST_KEY), &lv, &ll);
	if (rc != SP_OK)
		return rc;
	if (ll != 8)
		return SP_ECORRUPT;
	k[0] = SP_MTREE_STH;
	memcpy(k + 1, lv, 8);
	rc = sp_store_get(t, SP_DB_AUDIX, k, sizeof k, v, vl);
	return rc == SP_ENOTFOUND ? SP_ECORRUPT : rc;
}

int sp_sth_last_time(sp_txn *t, uint64_t *time_ms)
{
	const void *v;
	size_t vl;
	struct last l = { 0 };
	int rc = latest_bytes(t, &v, &vl);
	*time_ms = 0;
	if (rc != SP_OK)
		return rc;
	(void)last_one(&l, "h12345678", 9, v, vl);
	*time_ms = l.time;
	return l.have ? SP_OK : SP_ECORRUPT;
}

int sp_sth_latest(sp_txn *t, Seinpost__SignedTreeHead **out)
{
	const void *v;
	size_t vl;
	int rc;
	*out = NULL;
	if ((rc = latest_bytes(t, &v, &vl)) != SP_OK)
		return rc;
	*out = seinpost__signed_tree_head__unpack(NULL, vl, v);
	return *out ? SP_OK : SP_ECORRUPT;
}

int sp_sth_maybe_sign(sp_txn *t, const uint8_t sign_sk[64], uint32_t every_records,
                      uint64_t every_ms, int force, int *signed_out)
{
	Seinpost__SignedTreeHead h = SEINPOST__SIGNED_TREE_HEAD__INIT;
	struct last l = { 0 };
	uint8_t root[32], sig[64], k[9], *buf = NULL;
	const void *v;
	size_t vl, len;
	uint64_t size, now = sp_now_ms();
	int rc;

	if (signed_out)
		*signed_out = 0;
	if ((rc = sp_audit_size(t, &size)) != SP_OK)
		return rc;
	rc = latest_bytes(t, &v, &vl);
	if (rc == SP_OK)
		(void)last_one(&l, "h12345678", 9, v, vl);
	else if (rc != SP_ENOTFOUND)
		return rc;
	if (size == 0 || (l.have && size <= l.size))
		return SP_OK;
	/* A head's time never goes below the last one's, whatever the wall
	 * clock does (a step back, NTP correcting a fast clock): verifiers
	 * check that order, and the last head is durable, so the clamp holds
	 * across restarts. The broker records the step itself in the log
	 * (AUDIT_CLOCK_STEP), which `audit verify` reports. */
	if (l.have && now < l.time)
		now = l.time;
	if (!force && l.have && size - l.size < every_records && now - l.time < every_ms)
		return SP_OK;
	if ((rc = sp_mtree_root(t, size, root)) != SP_OK)
		return rc;
	sp_sth_sign_raw(size, now, root, sign_sk, sig);
	h.tree_size = size;
	h.timestamp = now;
	h.root_hash = (ProtobufCBinaryData){ 32, root };
	h.signature = (ProtobufCBinaryData){ 64, sig };
	if ((rc = sp_wire_pack(&h.base, &buf, &len)) != SP_OK)
		return rc;
	k[0] = SP_MTREE_STH;
	sp_be64_put(k + 1, size);
	rc = sp_store_put(t, SP_DB_AUDIX, k, sizeof k, buf, len, 0);
	if (rc == SP_OK)
		rc = sp_store_put(t, SP_DB_META, LAST_KEY, strlen(LAST_KEY), k + 1, 8, 0);
	free(buf);
	if (rc == SP_OK && signed_out)
		*signed_out = 1;
	return rc;
}

struct each {
	sp_sth_visit_fn fn;
	void *ctx;
};

static int each_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct each *e = ctx;
	Seinpost__SignedTreeHead *h;
	int r;
	if (kl != 9)
		return 0;
	h = seinpost__signed_tree_head__unpack(NULL, vl, v);
	r = e->fn(e->ctx, sp_be64_get((const uint8_t *)k + 1), h);
	if (h)
		seinpost__signed_tree_head__free_unpacked(h, NULL);
	return r;
}

int sp_sth_foreach(sp_txn *t, sp_sth_visit_fn fn, void *ctx)
{
	uint8_t p = SP_MTREE_STH;
	struct each e = { fn, ctx };
	if (!t || !fn)
		return SP_EINVAL;
	return sp_store_foreach(t, SP_DB_AUDIX, &p, 1, each_one, &e);
}
