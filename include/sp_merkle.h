/*
 * sp_merkle.h — RFC 9162 §2.1 Merkle tree hashing and proofs (SHA-256).
 *
 *   leaf  = SHA-256(0x00 || data)
 *   node  = SHA-256(0x01 || left || right)
 *   MTH({}) = SHA-256("")
 *
 * Storage-independent: proofs are built from a callback that returns the
 * hash of a perfect subtree (2^level leaves starting at index << level), so
 * the LMDB-backed tree (sp_mtree.h) and the unit tests share one algorithm.
 * Proof hashes are ordered as RFC 9162 lists them (leaf side first).
 */
#ifndef SP_MERKLE_H
#define SP_MERKLE_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"

#define SP_MERKLE_HASH 32
#define SP_MERKLE_MAX_PROOF 128 /* 2 * 64 levels: enough for any uint64 size */

typedef uint8_t sp_merkle_hash[SP_MERKLE_HASH];

void sp_merkle_leaf(const void *data, size_t len, uint8_t out[SP_MERKLE_HASH]);
void sp_merkle_node(const uint8_t l[SP_MERKLE_HASH], const uint8_t r[SP_MERKLE_HASH],
                    uint8_t out[SP_MERKLE_HASH]);
void sp_merkle_empty_root(uint8_t out[SP_MERKLE_HASH]);

/* Hash of the perfect subtree of 2^level leaves starting at leaf
 * index << level. Returns 0 or a negative SP_E*. */
typedef int (*sp_merkle_node_fn)(void *ctx, unsigned level, uint64_t index,
                                 uint8_t out[SP_MERKLE_HASH]);

/* MTH(D[0:size]). */
int sp_merkle_root(sp_merkle_node_fn fn, void *ctx, uint64_t size,
                   uint8_t out[SP_MERKLE_HASH]) SP_MUST_CHECK;
/* PATH(index, D[0:size]) into proof[*n]. SP_EINVAL when index >= size. */
int sp_merkle_inclusion_proof(sp_merkle_node_fn fn, void *ctx, uint64_t index, uint64_t size,
                              sp_merkle_hash *proof, size_t *n) SP_MUST_CHECK;
/* PROOF(m, D[0:size]) for 0 < m <= size. */
int sp_merkle_consistency_proof(sp_merkle_node_fn fn, void *ctx, uint64_t m, uint64_t size,
                                sp_merkle_hash *proof, size_t *n) SP_MUST_CHECK;

/* RFC 9162 §2.1.3.2. SP_OK or SP_ECORRUPT. */
int sp_merkle_inclusion_verify(uint64_t index, uint64_t size, const uint8_t leaf[SP_MERKLE_HASH],
                               const sp_merkle_hash *proof, size_t n,
                               const uint8_t root[SP_MERKLE_HASH]) SP_MUST_CHECK;
/* RFC 9162 §2.1.4.2. m == 0 is trivially consistent (empty proof). */
int sp_merkle_consistency_verify(uint64_t m, uint64_t size, const uint8_t root_m[SP_MERKLE_HASH],
                                 const uint8_t root_n[SP_MERKLE_HASH],
                                 const sp_merkle_hash *proof, size_t n) SP_MUST_CHECK;

/* Streaming root over leaves pushed in order: O(log n) memory, one node
 * hash per leaf amortised. Used by audit verify and the export check. */
typedef struct sp_merkle_frontier {
	uint64_t size;
	sp_merkle_hash level[64]; /* level[i] valid when bit i of size is set */
} sp_merkle_frontier;

void sp_merkle_frontier_init(sp_merkle_frontier *f);
void sp_merkle_frontier_push(sp_merkle_frontier *f, const uint8_t leaf[SP_MERKLE_HASH]);
void sp_merkle_frontier_root(const sp_merkle_frontier *f, uint8_t out[SP_MERKLE_HASH]);

#endif
