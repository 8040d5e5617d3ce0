/* sp_auditcheck.c — the hash chain over the audit log's tail, at start. See
 * sp_auditcheck.h; the layout is sp_audit.c's (record n under be64(n) in
 * SP_DB_AUDIT, prev_hash = SHA-256(0x00 || stored bytes of n-1),
 * "audit.head" = be64(last) || hash of the last). */
#include "sp_auditcheck.h"
#include "sp_meta_keys.h"

#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "seinpost.pb-c.h"
#include "sp_mtree.h"
#include "sp_sth.h"
#include "sp_util.h"

#define HASH_LEN crypto_hash_sha256_BYTES

static void leaf(uint8_t out[HASH_LEN], const void *rec, size_t len)
{
	crypto_hash_sha256_state st;
	const uint8_t zero = 0;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &zero, 1);
	crypto_hash_sha256_update(&st, rec, len);
	crypto_hash_sha256_final(&st, out);
}

struct walk {
	uint64_t expect;
	uint8_t prev[HASH_LEN];
	int have_prev;
	uint64_t checked;
	char *why;
	size_t whylen;
};

static int visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct walk *w = ctx;
	Seinpost__AuditRecord *r;
	uint64_t seq;
	int ok;
	if (kl != 8) {
		snprintf(w->why, w->whylen, "a key of %zu bytes in the audit log", kl);
		return 2;
	}
	seq = sp_be64_get(k);
	if (seq != w->expect) {
		snprintf(w->why, w->whylen, "record %llu missing", (unsigned long long)w->expect);
		return 2;
	}
	r = seinpost__audit_record__unpack(NULL, vl, v);
	ok = r && r->seq == seq;
	if (ok && w->have_prev)
		ok = r->prev_hash.len == HASH_LEN && sodium_memcmp(r->prev_hash.data, w->prev, HASH_LEN) == 0;
	if (r)
		seinpost__audit_record__free_unpacked(r, NULL);
	if (!ok) {
		snprintf(w->why, w->whylen, "record %llu does not decode or does not chain to record %llu "
		         "(record %llu or %llu was altered)", (unsigned long long)seq, (unsigned long long)(seq - 1),
		         (unsigned long long)(seq - 1), (unsigned long long)seq);
		return 2;
	}
	leaf(w->prev, v, vl);
	w->have_prev = 1;
	w->expect++;
	w->checked++;
	return 0;
}

int sp_auditcheck_tail(sp_store *s, const uint8_t *sign_pk, uint64_t *checked, char *why, size_t whylen)
{
	sp_txn *t = NULL;
	Seinpost__SignedTreeHead *h = NULL;
	const void *hv;
	size_t hl;
	uint64_t last, from;
	uint8_t key[8], root[32];
	struct walk w = { .why = why, .whylen = whylen };
	int rc;

	*checked = 0;
	why[0] = '\0';
	if ((rc = sp_txn_begin(s, 0, &t)) != SP_OK)
		return rc;
	rc = sp_store_get(t, SP_DB_META, SP_MK_AUDIT_HEAD, strlen(SP_MK_AUDIT_HEAD), &hv, &hl);
	if (rc == SP_ENOTFOUND) {
		rc = SP_OK; /* an empty log */
		goto out;
	}
	if (rc != SP_OK)
		goto out;
	if (hl != 8 + HASH_LEN) {
		snprintf(why, whylen, "the audit head is malformed");
		rc = SP_ECORRUPT;
		goto out;
	}
	last = sp_be64_get(hv);
	from = last > SP_AUDITCHECK_MIN ? last - SP_AUDITCHECK_MIN : 1;
	if (sp_sth_latest(t, &h) == SP_OK) {
		if (sign_pk && sp_sth_verify(h, sign_pk) != SP_OK) {
			snprintf(why, whylen, "the latest signed tree head (size %llu) does not verify",
			         (unsigned long long)h->tree_size);
			rc = SP_ECORRUPT;
			goto out;
		}
		if (h->tree_size && h->tree_size <= last &&
		    (sp_mtree_root(t, h->tree_size, root) != SP_OK || h->root_hash.len != 32 ||
		     sodium_memcmp(root, h->root_hash.data, 32) != 0)) {
			snprintf(why, whylen, "the stored Merkle tree does not match the signed head of size %llu",
			         (unsigned long long)h->tree_size);
			rc = SP_ECORRUPT;
			goto out;
		}
		if (h->tree_size && h->tree_size < from)
			from = h->tree_size; /* the record the head covers last, then the tail */
	}
	w.expect = from;
	sp_be64_put(key, from);
	rc = sp_store_foreach_from(t, SP_DB_AUDIT, NULL, 0, key, 8, visit, &w);
	if (rc == 2) {
		rc = SP_ECORRUPT;
		goto out;
	}
	if (rc != SP_OK)
		goto out;
	*checked = w.checked;
	if (w.expect != last + 1) {
		snprintf(why, whylen, "the audit head names record %llu, the log ends at %llu",
		         (unsigned long long)last, (unsigned long long)(w.expect - 1));
		rc = SP_ECORRUPT;
	} else if (!w.have_prev || sodium_memcmp(w.prev, (const uint8_t *)hv + 8, HASH_LEN) != 0) {
		snprintf(why, whylen, "record %llu (the last) does not match the audit head (altered)",
		         (unsigned long long)last);
		rc = SP_ECORRUPT;
	}
out:
	if (h)
		seinpost__signed_tree_head__free_unpacked(h, NULL);
	sp_txn_abort(&t);
	return rc;
}
