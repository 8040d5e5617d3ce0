/*
 * sp_mtree.c — the audit log's Merkle tree and indexes in LMDB (sp_mtree.h).
 */
#include "sp_mtree.h"

#include <string.h>

#include "sp_util.h"

#define NODE_KEY 10

static size_t node_key(uint8_t k[NODE_KEY], unsigned level, uint64_t index)
{
	k[0] = SP_MTREE_NODE;
	k[1] = (uint8_t)level;
	sp_be64_put(k + 2, index);
	return NODE_KEY;
}

static int node_get(void *ctx, unsigned level, uint64_t index, uint8_t out[SP_MERKLE_HASH])
{
	sp_txn *t = ctx;
	uint8_t k[NODE_KEY];
	const void *v;
	size_t vl;
	int rc = sp_store_get(t, SP_DB_AUDIX, k, node_key(k, level, index), &v, &vl);
	if (rc == SP_ENOTFOUND)
		return SP_ECORRUPT; /* the tree lost a node the log implies */
	if (rc != SP_OK)
		return rc;
	if (vl != SP_MERKLE_HASH)
		return SP_ECORRUPT;
	memcpy(out, v, SP_MERKLE_HASH);
	return SP_OK;
}

int sp_mtree_append(sp_txn *t, uint64_t seq, const void *rec, size_t len)
{
	uint8_t leaf[SP_MERKLE_HASH];
	if (!t || seq == 0 || (!rec && len))
		return SP_EINVAL;
	sp_merkle_leaf(rec, len, leaf);
	return sp_mtree_append_leaf(t, seq, leaf);
}

int sp_mtree_append_leaf(sp_txn *t, uint64_t seq, const uint8_t leaf[SP_MERKLE_HASH])
{
	uint8_t cur[SP_MERKLE_HASH], left[SP_MERKLE_HASH], k[NODE_KEY];
	uint64_t index;
	unsigned level = 0;
	int rc;

	if (!t || seq == 0 || !leaf)
		return SP_EINVAL;
	index = seq - 1;
	memcpy(cur, leaf, SP_MERKLE_HASH);
	rc = sp_store_put(t, SP_DB_AUDIX, k, node_key(k, 0, index), cur, sizeof cur, 0);
	/* A right child completes its parent: store every subtree it closes. */
	while (rc == SP_OK && (index & 1)) {
		rc = node_get(t, level, index - 1, left);
		if (rc != SP_OK)
			break;
		sp_merkle_node(left, cur, cur);
		level++;
		index >>= 1;
		rc = sp_store_put(t, SP_DB_AUDIX, k, node_key(k, level, index), cur, sizeof cur, 0);
	}
	return rc;
}

int sp_mtree_root(sp_txn *t, uint64_t size, uint8_t out[SP_MERKLE_HASH])
{
	return sp_merkle_root(node_get, t, size, out);
}

int sp_mtree_inclusion(sp_txn *t, uint64_t index, uint64_t size, sp_merkle_hash *proof, size_t *n)
{
	return sp_merkle_inclusion_proof(node_get, t, index, size, proof, n);
}

int sp_mtree_consistency(sp_txn *t, uint64_t m, uint64_t size, sp_merkle_hash *proof, size_t *n)
{
	return sp_merkle_consistency_proof(node_get, t, m, size, proof, n);
}

int sp_mtree_index_put(sp_txn *t, char prefix, const uint8_t *key, size_t klen, uint64_t seq)
{
	uint8_t k[1 + 64 + 8];
	if (!t || !key || klen == 0 || klen > 64)
		return SP_EINVAL;
	k[0] = (uint8_t)prefix;
	memcpy(k + 1, key, klen);
	sp_be64_put(k + 1 + klen, seq);
	return sp_store_put(t, SP_DB_AUDIX, k, klen + 9, "", 0, 0);
}

struct idx_ctx {
	size_t keylen;
	sp_mtree_seq_fn fn;
	void *ctx;
};

static int idx_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct idx_ctx *c = ctx;
	(void)v;
	(void)vl;
	if (kl != c->keylen + 8)
		return 0;
	return c->fn(c->ctx, sp_be64_get((const uint8_t *)k + c->keylen));
}

int sp_mtree_index_foreach(sp_txn *t, char prefix, const uint8_t *key, size_t klen,
                           sp_mtree_seq_fn fn, void *ctx)
{
	uint8_t k[1 + 64];
	struct idx_ctx c = { .keylen = klen + 1, .fn = fn, .ctx = ctx };
	if (!t || !key || !fn || klen == 0 || klen > 64)
		return SP_EINVAL;
	k[0] = (uint8_t)prefix;
	memcpy(k + 1, key, klen);
	return sp_store_foreach(t, SP_DB_AUDIX, k, klen + 1, idx_one, &c);
}
