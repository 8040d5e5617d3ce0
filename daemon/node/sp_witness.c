/*
 * sp_witness.c — a node witnessing the broker's audit log (sp_witness.h).
 *
 * Why nodes: the broker holds the key that signs its heads, so a broker that
 * rewrites its log can re-sign a consistent-looking new history. What it
 * cannot do is make the new history consistent with heads it already handed
 * out; every node keeping the last head it saw turns that into evidence.
 */
#include "sp_witness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sp_log.h"
#include "sp_merkle.h"
#include "sp_sth.h"
#include "sp_util.h"
#include "sp_wire.h"

#define C "witness"
static const char k_head[] = "wHEAD";
static const char k_alarm[] = "wALARM";
static const char k_evidence[] = "wEVIDENCE";
static const char k_count[] = "wCOUNT";

static int get_head(sp_txn *t, Seinpost__SignedTreeHead **out)
{
	const void *v;
	size_t vl;
	int rc = sp_store_get(t, SP_DB_AUDIX, k_head, strlen(k_head), &v, &vl);
	*out = NULL;
	if (rc != SP_OK)
		return rc;
	*out = seinpost__signed_tree_head__unpack(NULL, vl, v);
	return *out ? SP_OK : SP_ECORRUPT;
}

static int put_msg(sp_txn *t, const char *key, const ProtobufCMessage *m)
{
	uint8_t *buf = NULL;
	size_t len;
	int rc = sp_wire_pack(m, &buf, &len);
	if (rc == SP_OK)
		rc = sp_store_put(t, SP_DB_AUDIX, key, strlen(key), buf, len, 0);
	free(buf);
	return rc;
}

static int bump(sp_txn *t)
{
	const void *v;
	size_t vl;
	uint8_t b[8];
	uint64_t n = 0;
	if (sp_store_get(t, SP_DB_AUDIX, k_count, strlen(k_count), &v, &vl) == SP_OK && vl == 8)
		n = sp_be64_get(v);
	sp_be64_put(b, n + 1);
	return sp_store_put(t, SP_DB_AUDIX, k_count, strlen(k_count), b, 8, 0);
}

static int alarmed(sp_txn *t)
{
	const void *v;
	size_t vl;
	return sp_store_get(t, SP_DB_AUDIX, k_alarm, strlen(k_alarm), &v, &vl) == SP_OK;
}

static int raise_alarm(sp_txn *t, const Seinpost__SignedTreeHead *h, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int raise_alarm(sp_txn *t, const Seinpost__SignedTreeHead *h, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	int rc;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	sp_log(LOG_CRIT, C, "ALARM: the broker's audit history %s", why);
	if (alarmed(t))
		return SP_OK; /* keep the first alarm and its evidence */
	rc = sp_store_put(t, SP_DB_AUDIX, k_alarm, strlen(k_alarm), why, strlen(why), 0);
	if (rc == SP_OK && h)
		rc = put_msg(t, k_evidence, &h->base);
	return rc;
}

static int keep(sp_txn *t, const Seinpost__SignedTreeHead *h)
{
	int rc = put_msg(t, k_head, &h->base);
	return rc == SP_OK ? bump(t) : rc;
}

int sp_witness_size(sp_txn *t, uint64_t *size)
{
	Seinpost__SignedTreeHead *k = NULL;
	int rc = get_head(t, &k);
	*size = 0;
	if (rc == SP_ENOTFOUND)
		return SP_OK;
	if (rc == SP_OK)
		*size = k->tree_size;
	if (k)
		seinpost__signed_tree_head__free_unpacked(k, NULL);
	return rc;
}

/* Shared checks of a new head against the kept one. Returns SP_OK with
 * *newer = 1 when a consistency proof decides; alarms otherwise. */
static int compare(sp_txn *t, const uint8_t *const *pks, size_t npks, const Seinpost__SignedTreeHead *h,
                   Seinpost__SignedTreeHead **kept_out, int *newer)
{
	Seinpost__SignedTreeHead *k = NULL;
	int rc;

	*newer = 0;
	*kept_out = NULL;
	if (alarmed(t))
		return SP_OK; /* evidence frozen until an operator investigates */
	/* Any of the broker's sign keys on the roster: after a broker key
	 * rotation, heads signed by the old key are still in flight and kept. */
	int sig_ok = 0;
	for (size_t i = 0; i < npks && !sig_ok; i++)
		sig_ok = sp_sth_verify(h, pks[i]) == SP_OK;
	if (!sig_ok)
		return raise_alarm(t, h, "carries a tree head (size %llu) without a valid broker signature",
		                   (unsigned long long)h->tree_size);
	rc = get_head(t, &k);
	if (rc == SP_ENOTFOUND)
		return keep(t, h);
	if (rc != SP_OK)
		return rc;
	if (h->tree_size < k->tree_size)
		rc = raise_alarm(t, h, "shrank: signed head of size %llu after we saw size %llu",
		                 (unsigned long long)h->tree_size, (unsigned long long)k->tree_size);
	else if (h->tree_size == k->tree_size) {
		if (sodium_memcmp(h->root_hash.data, k->root_hash.data, 32) != 0)
			rc = raise_alarm(t, h, "forked: two different signed roots for size %llu",
			                 (unsigned long long)h->tree_size);
	} else {
		*newer = 1;
		*kept_out = k;
		return SP_OK;
	}
	seinpost__signed_tree_head__free_unpacked(k, NULL);
	return rc;
}

int sp_witness_seen(sp_txn *t, const uint8_t *const *pks, size_t npks, const Seinpost__SignedTreeHead *h,
                    int *need_proof)
{
	Seinpost__SignedTreeHead *k = NULL;
	int rc;
	*need_proof = 0;
	if (!t || !pks || !npks || !h)
		return SP_EINVAL;
	rc = compare(t, pks, npks, h, &k, need_proof);
	if (k)
		seinpost__signed_tree_head__free_unpacked(k, NULL);
	return rc;
}

int sp_witness_proof(sp_txn *t, const uint8_t *const *pks, size_t npks, const Seinpost__AuditProof *p)
{
	Seinpost__SignedTreeHead *k = NULL;
	sp_merkle_hash proof[SP_MERKLE_MAX_PROOF];
	int newer, rc;

	if (!t || !pks || !npks || !p || !p->sth)
		return SP_EINVAL;
	rc = compare(t, pks, npks, p->sth, &k, &newer);
	if (rc != SP_OK || !newer)
		goto out;
	if (p->from_size != k->tree_size)
		goto out; /* answers an older request; the next round asks again */
	if (p->n_consistency > SP_MERKLE_MAX_PROOF) {
		rc = raise_alarm(t, p->sth, "sent an oversized consistency proof");
		goto out;
	}
	for (size_t i = 0; i < p->n_consistency; i++) {
		if (p->consistency[i].len != 32) {
			rc = raise_alarm(t, p->sth, "sent a malformed consistency proof");
			goto out;
		}
		memcpy(proof[i], p->consistency[i].data, 32);
	}
	if (sp_merkle_consistency_verify(k->tree_size, p->sth->tree_size, k->root_hash.data,
	                                 p->sth->root_hash.data, proof, p->n_consistency) != SP_OK) {
		rc = raise_alarm(t, p->sth, "forked: head of size %llu is not an extension of the head of size %llu we saw",
		                 (unsigned long long)p->sth->tree_size, (unsigned long long)k->tree_size);
		goto out;
	}
	rc = keep(t, p->sth);
out:
	if (k)
		seinpost__signed_tree_head__free_unpacked(k, NULL);
	return rc;
}

int sp_witness_status(sp_store *s, sp_witness_state *out)
{
	Seinpost__SignedTreeHead *k = NULL;
	sp_txn *t = NULL;
	const void *v;
	size_t vl;
	int rc;

	if (!s || !out)
		return SP_EINVAL;
	memset(out, 0, sizeof *out);
	if ((rc = sp_txn_begin(s, 0, &t)) != SP_OK)
		return rc;
	rc = get_head(t, &k);
	if (rc == SP_OK) {
		out->have_head = 1;
		out->size = k->tree_size;
		out->time = k->timestamp;
		if (k->root_hash.len == 32)
			memcpy(out->root, k->root_hash.data, 32);
	} else if (rc != SP_ENOTFOUND) {
		goto out;
	}
	if (sp_store_get(t, SP_DB_AUDIX, k_count, strlen(k_count), &v, &vl) == SP_OK && vl == 8)
		out->checked = sp_be64_get(v);
	if (sp_store_get(t, SP_DB_AUDIX, k_alarm, strlen(k_alarm), &v, &vl) == SP_OK) {
		out->alarm = 1;
		snprintf(out->reason, sizeof out->reason, "%.*s", (int)vl, (const char *)v);
	}
	rc = SP_OK;
out:
	if (k)
		seinpost__signed_tree_head__free_unpacked(k, NULL);
	sp_txn_abort(&t);
	return rc;
}
