/*
 * sp_audit_tamper — damage a stopped process's audit log on purpose, for
 * the tamper tests (tests/e2e/test_audit_tamper.sh). Never used in
 * production.
 *
 *   sp_audit_tamper STATE_DIR modify SEQ     change record SEQ's actor
 *   sp_audit_tamper STATE_DIR delete SEQ     remove record SEQ
 *   sp_audit_tamper STATE_DIR swap A B       exchange records A and B
 *   sp_audit_tamper STATE_DIR truncate N     keep records 1..N, fix the chain head
 *   sp_audit_tamper STATE_DIR head SIZE      replace that tree head (other key)
 *   sp_audit_tamper STATE_DIR backdate KEYS_DIR   re-sign the latest tree head with the
 *        broker's real key and a time 1 s before the head before it (a
 *        dishonest broker, or one whose clock went back without the clamp)
 *   sp_audit_tamper STATE_DIR rewrite KEYS_DIR
 *        a dishonest broker: drop every read record and rebuild chain, Merkle
 *        tree and tree heads, signed with the broker's real key
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "seinpost.pb-c.h"
#include "sp_audit.h"
#include "sp_keys.h"
#include "sp_merkle.h"
#include "sp_mtree.h"
#include "sp_sth.h"
#include "sp_store.h"
#include "sp_util.h"
#include "sp_wire.h"

struct keys {
	uint8_t (*k)[80];
	size_t *len, n, cap;
};

static int collect(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct keys *c = ctx;
	(void)v;
	(void)vl;
	if (kl > 80)
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->k = realloc(c->k, c->cap * sizeof *c->k);
		c->len = realloc(c->len, c->cap * sizeof *c->len);
		if (!c->k || !c->len)
			exit(1);
	}
	memcpy(c->k[c->n], k, kl);
	c->len[c->n++] = kl;
	return 0;
}

static void wipe(sp_txn *t, enum sp_db db, const void *prefix, size_t plen)
{
	struct keys c = { 0 };
	if (sp_store_foreach(t, db, prefix, plen, collect, &c) < 0)
		exit(1);
	for (size_t i = 0; i < c.n; i++)
		if (sp_store_del(t, db, c.k[i], c.len[i]) != SP_OK)
			exit(1);
	free(c.k);
	free(c.len);
}

struct two_heads {
	uint64_t size[2], time[2];
	int n;
};

static int last_two(void *ctx, uint64_t key_size, const Seinpost__SignedTreeHead *h)
{
	struct two_heads *c = ctx;
	if (!h)
		return 0;
	c->size[0] = c->size[1];
	c->time[0] = c->time[1];
	c->size[1] = h->tree_size;
	c->time[1] = h->timestamp;
	c->n++;
	return 0;
}

static int die(const char *m)
{
	fprintf(stderr, "sp_audit_tamper: %s\n", m);
	return 1;
}

int main(int argc, char **argv)
{
	sp_store *s = NULL;
	sp_txn *t = NULL;
	const void *v;
	size_t vl;
	uint8_t key[9];
	int rc;

	if (sodium_init() < 0 || argc < 4)
		return die("usage: STATE_DIR modify|delete|swap|truncate|head|rewrite ARGS");
	if (sp_store_open(argv[1], 0, 0, &s) != SP_OK || sp_txn_begin(s, 1, &t) != SP_OK)
		return die("cannot open the state");
	const char *op = argv[2];
	uint64_t a = strtoull(argv[3], NULL, 10), b = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
	if (strcmp(op, "modify") == 0) {
		Seinpost__AuditRecord *r;
		uint8_t *buf = NULL;
		size_t len;
		sp_be64_put(key, a);
		if (sp_store_get(t, SP_DB_AUDIT, key, 8, &v, &vl) != SP_OK || !(r = seinpost__audit_record__unpack(NULL, vl, v)))
			return die("no such record");
		char *orig = r->actor;
		r->actor = "someone-else";
		if (sp_wire_pack(&r->base, &buf, &len) != SP_OK ||
		    sp_store_put(t, SP_DB_AUDIT, key, 8, buf, len, 0) != SP_OK)
			return die("write failed");
		free(buf);
		r->actor = orig;
		seinpost__audit_record__free_unpacked(r, NULL);
	} else if (strcmp(op, "delete") == 0) {
		sp_be64_put(key, a);
		if (sp_store_del(t, SP_DB_AUDIT, key, 8) != SP_OK)
			return die("no such record");
	} else if (strcmp(op, "swap") == 0) {
		uint8_t ka[8], kb[8], *va, *vb;
		size_t la, lb;
		sp_be64_put(ka, a);
		sp_be64_put(kb, b);
		if (sp_store_get(t, SP_DB_AUDIT, ka, 8, &v, &la) != SP_OK || !(va = malloc(la)))
			return die("no record A");
		memcpy(va, v, la);
		if (sp_store_get(t, SP_DB_AUDIT, kb, 8, &v, &lb) != SP_OK || !(vb = malloc(lb)))
			return die("no record B");
		memcpy(vb, v, lb);
		if (sp_store_put(t, SP_DB_AUDIT, ka, 8, vb, lb, 0) != SP_OK ||
		    sp_store_put(t, SP_DB_AUDIT, kb, 8, va, la, 0) != SP_OK)
			return die("write failed");
		free(va);
		free(vb);
	} else if (strcmp(op, "truncate") == 0) {
		uint64_t size;
		uint8_t head[40];
		if (sp_audit_size(t, &size) != SP_OK)
			return die("no head");
		for (uint64_t q = a + 1; q <= size; q++) {
			sp_be64_put(key, q);
			if (sp_store_del(t, SP_DB_AUDIT, key, 8) != SP_OK)
				return die("delete failed");
		}
		/* Cover the tracks of the simple chain head too. */
		sp_be64_put(key, a);
		if (sp_store_get(t, SP_DB_AUDIT, key, 8, &v, &vl) != SP_OK)
			return die("no record N");
		sp_be64_put(head, a);
		sp_merkle_leaf(v, vl, head + 8); /* the chain hash is the leaf hash */
		if (sp_store_put(t, SP_DB_META, "audit.head", 10, head, 40, 0) != SP_OK)
			return die("write failed");
	} else if (strcmp(op, "head") == 0) {
		Seinpost__SignedTreeHead *h;
		uint8_t pk[32], sk[64], *buf = NULL;
		size_t len;
		key[0] = SP_MTREE_STH;
		sp_be64_put(key + 1, a);
		if (sp_store_get(t, SP_DB_AUDIX, key, 9, &v, &vl) != SP_OK ||
		    !(h = seinpost__signed_tree_head__unpack(NULL, vl, v)))
			return die("no such head");
		h->root_hash.data[0] ^= 1;
		crypto_sign_keypair(pk, sk);
		sp_sth_sign_raw(h->tree_size, h->timestamp, h->root_hash.data, sk, h->signature.data);
		if (sp_wire_pack(&h->base, &buf, &len) != SP_OK || sp_store_put(t, SP_DB_AUDIX, key, 9, buf, len, 0) != SP_OK)
			return die("write failed");
		free(buf);
		seinpost__signed_tree_head__free_unpacked(h, NULL);
	} else if (strcmp(op, "backdate") == 0) {
		struct two_heads two = { 0 };
		Seinpost__SignedTreeHead *h;
		sp_keyset *k = NULL;
		uint8_t *buf = NULL;
		size_t len;
		if (sp_keys_load(argv[3], &k) != SP_OK || sp_sth_foreach(t, last_two, &two) != SP_OK || two.n < 2)
			return die("keys, or fewer than two heads");
		key[0] = SP_MTREE_STH;
		sp_be64_put(key + 1, two.size[1]);
		if (sp_store_get(t, SP_DB_AUDIX, key, 9, &v, &vl) != SP_OK ||
		    !(h = seinpost__signed_tree_head__unpack(NULL, vl, v)))
			return die("no such head");
		h->timestamp = two.time[0] - 1000;
		sp_sth_sign_raw(h->tree_size, h->timestamp, h->root_hash.data, k->sign_sk, h->signature.data);
		if (sp_wire_pack(&h->base, &buf, &len) != SP_OK || sp_store_put(t, SP_DB_AUDIX, key, 9, buf, len, 0) != SP_OK)
			return die("write failed");
		printf("head of size %llu re-signed at %llu (the head of size %llu: %llu)\n",
		       (unsigned long long)h->tree_size, (unsigned long long)h->timestamp,
		       (unsigned long long)two.size[0], (unsigned long long)two.time[0]);
		free(buf);
		seinpost__signed_tree_head__free_unpacked(h, NULL);
		sp_keys_free(&k);
	} else if (strcmp(op, "rewrite") == 0) {
		sp_keyset *k = NULL;
		Seinpost__AuditRecord **recs = NULL;
		uint64_t size;
		uint8_t p;
		if (sp_keys_load(argv[3], &k) != SP_OK || sp_audit_size(t, &size) != SP_OK)
			return die("keys or head");
		recs = calloc(size + 1, sizeof *recs);
		for (uint64_t q = 1; q <= size; q++) {
			sp_be64_put(key, q);
			if (sp_store_get(t, SP_DB_AUDIT, key, 8, &v, &vl) != SP_OK ||
			    !(recs[q] = seinpost__audit_record__unpack(NULL, vl, v)))
				return die("read failed");
		}
		wipe(t, SP_DB_AUDIT, NULL, 0);
		wipe(t, SP_DB_AUDIX, NULL, 0);
		if (sp_store_del(t, SP_DB_META, "audit.head", 10) != SP_OK ||
		    sp_store_del(t, SP_DB_META, "audit.sth.last", 14) != SP_OK)
			return die("meta");
		(void)p;
		for (uint64_t q = 1; q <= size; q++) {
			const Seinpost__AuditRecord *r = recs[q];
			if (r->event == SEINPOST__AUDIT_EVENT__AUDIT_READ)
				continue; /* "nobody ever opened it" */
			sp_audit_entry e = {
				.event = r->event, .actor = r->actor, .user = r->user, .recipient = r->recipient,
				.pseudonym = r->pseudonym.len == 32 ? r->pseudonym.data : NULL,
				.signal_id = r->signal_id.len == 16 ? r->signal_id.data : NULL,
				.category = r->category, .weight = r->weight, .tiers = r->tiers, .rule_id = r->rule_id,
				.policy_hash = r->policy_hash.len == 32 ? r->policy_hash.data : NULL,
				.legal_basis = r->legal_basis, .reason = r->reason, .code = r->code, .time_ms = r->time,
				.event_time_ms = r->event_time,
			};
			if (sp_audit_append(t, &e, NULL) != SP_OK)
				return die("append failed");
		}
		rc = sp_sth_maybe_sign(t, k->sign_sk, 1, 0, 1, NULL);
		if (rc != SP_OK)
			return die("sign failed");
		for (uint64_t q = 1; q <= size; q++)
			seinpost__audit_record__free_unpacked(recs[q], NULL);
		free(recs);
		sp_keys_free(&k);
	} else {
		return die("unknown operation");
	}
	rc = sp_txn_commit(&t);
	sp_store_close(&s);
	return rc == SP_OK ? 0 : die("commit failed");
}
