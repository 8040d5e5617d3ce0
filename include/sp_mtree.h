/*
 * sp_mtree.h — the audit log's Merkle tree, tree heads and indexes in LMDB.
 *
 * Everything lives in SP_DB_AUDIX, one key prefix per table:
 *   'm' level(1) be64(index)   hash of a perfect subtree (level 0 = leaf hash)
 *   'h' be64(tree_size)        SignedTreeHead bytes (broker)
 *   'p' pseudonym(32) be64(seq)  who-saw index: records about a subject
 *   's' signal_id(16) be64(seq)  records about a signal
 * Perfect-subtree hashes are written as leaves are appended (two puts per
 * record amortised), so roots and RFC 9162 proofs take O(log n) lookups.
 * The cache is derived data: audit verify recomputes the tree from the
 * records themselves and never trusts it.
 */
#ifndef SP_MTREE_H
#define SP_MTREE_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_merkle.h"
#include "sp_store.h"

#define SP_MTREE_NODE 'm'
#define SP_MTREE_STH 'h'
#define SP_MTREE_BY_PSEUDO 'p'
#define SP_MTREE_BY_SIGNAL 's'

/* Record seq (1-based) becomes leaf seq-1. Inside the append transaction. */
int sp_mtree_append(sp_txn *t, uint64_t seq, const void *rec, size_t len) SP_MUST_CHECK;
/* The same with the leaf hash (sp_merkle_leaf of the record) already known. */
int sp_mtree_append_leaf(sp_txn *t, uint64_t seq, const uint8_t leaf[SP_MERKLE_HASH]) SP_MUST_CHECK;
int sp_mtree_root(sp_txn *t, uint64_t size, uint8_t out[SP_MERKLE_HASH]) SP_MUST_CHECK;
int sp_mtree_inclusion(sp_txn *t, uint64_t index, uint64_t size, sp_merkle_hash *proof,
                       size_t *n) SP_MUST_CHECK;
int sp_mtree_consistency(sp_txn *t, uint64_t m, uint64_t size, sp_merkle_hash *proof,
                         size_t *n) SP_MUST_CHECK;

/* Secondary index entry: prefix || key || be64(seq). */
int sp_mtree_index_put(sp_txn *t, char prefix, const uint8_t *key, size_t klen,
                       uint64_t seq) SP_MUST_CHECK;
/* Visit the seqs under prefix || key in order; fn nonzero stops. */
typedef int (*sp_mtree_seq_fn)(void *ctx, uint64_t seq);
int sp_mtree_index_foreach(sp_txn *t, char prefix, const uint8_t *key, size_t klen,
                           sp_mtree_seq_fn fn, void *ctx);

#endif
