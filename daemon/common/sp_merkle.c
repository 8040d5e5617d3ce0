/*
 * sp_merkle.c — RFC 9162 §2.1 Merkle tree hashing and proofs.
 *
 * The proof builders follow the RFC's recursive definitions (PATH and
 * SUBPROOF) with a leaf offset, asking the caller only for perfect-subtree
 * hashes: with those cached (sp_mtree.c) a proof costs O(log n) lookups,
 * which keeps witnessing cheap on a million-record log. The verifiers are
 * the RFC's iterative algorithms, which need nothing but the proof.
 *
 * SHA-256 comes from OpenSSL's libcrypto (SHA-NI / AVX2 where the CPU has
 * them): every audit record is hashed when written and when verified, and
 * libsodium's portable SHA-256 made that the cost of `audit verify`
 * (docs/performance.md: 1.35 us vs 0.33 us per record on the build machine).
 * Should libcrypto ever fail (it allocates), libsodium computes the same
 * hash, so these functions cannot fail.
 */
#include "sp_merkle.h"

#include <pthread.h>
#include <string.h>
#include <sodium.h>
#include <openssl/evp.h>

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256; /* fetched once, kept for the process lifetime */

static void md_fetch(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void sha256(uint8_t out[SP_MERKLE_HASH], const void *data, size_t len)
{
	unsigned int n = 0;
	pthread_once(&md_once, md_fetch);
	if (md_sha256 && EVP_Digest(data, len, out, &n, md_sha256, NULL) == 1 && n == SP_MERKLE_HASH)
		return;
	crypto_hash_sha256(out, data, len);
}

void sp_merkle_leaf(const void *data, size_t len, uint8_t out[SP_MERKLE_HASH])
{
	uint8_t buf[1024];
	if (len < sizeof buf) {
		/* one contiguous input: 0x00 || record (audit records are ~200 B) */
		buf[0] = 0x00;
		memcpy(buf + 1, data, len);
		sha256(out, buf, len + 1);
		return;
	}
	crypto_hash_sha256_state st;
	static const uint8_t pfx = 0x00;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &pfx, 1);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, out);
}

void sp_merkle_node(const uint8_t l[SP_MERKLE_HASH], const uint8_t r[SP_MERKLE_HASH],
                    uint8_t out[SP_MERKLE_HASH])
{
	uint8_t buf[1 + 2 * SP_MERKLE_HASH];
	buf[0] = 0x01;
	memcpy(buf + 1, l, SP_MERKLE_HASH);
	memcpy(buf + 1 + SP_MERKLE_HASH, r, SP_MERKLE_HASH);
	sha256(out, buf, sizeof buf);
}

void sp_merkle_empty_root(uint8_t out[SP_MERKLE_HASH])
{
	crypto_hash_sha256(out, (const uint8_t *)"", 0);
}

/* Largest power of two strictly smaller than n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

static int is_pow2(uint64_t n)
{
	return n && !(n & (n - 1));
}

static unsigned log2u(uint64_t n)
{
	unsigned l = 0;
	while (n >>= 1)
		l++;
	return l;
}

/* MTH(D[lo:lo+n]), n >= 1: one lookup when the range is an aligned
 * perfect subtree, otherwise split as the RFC does. */
static int range_hash(sp_merkle_node_fn fn, void *ctx, uint64_t lo, uint64_t n,
                      uint8_t out[SP_MERKLE_HASH])
{
	uint8_t l[SP_MERKLE_HASH], r[SP_MERKLE_HASH];
	uint64_t k;
	int rc;

	if (is_pow2(n) && lo % n == 0)
		return fn(ctx, log2u(n), lo / n, out);
	k = split_point(n);
	if ((rc = range_hash(fn, ctx, lo, k, l)) != SP_OK)
		return rc;
	if ((rc = range_hash(fn, ctx, lo + k, n - k, r)) != SP_OK)
		return rc;
	sp_merkle_node(l, r, out);
	return SP_OK;
}

int sp_merkle_root(sp_merkle_node_fn fn, void *ctx, uint64_t size, uint8_t out[SP_MERKLE_HASH])
{
	if (!fn || !out)
		return SP_EINVAL;
	if (size == 0) {
		sp_merkle_empty_root(out);
		return SP_OK;
	}
	return range_hash(fn, ctx, 0, size, out);
}

static int push(sp_merkle_hash *proof, size_t *n, const uint8_t h[SP_MERKLE_HASH])
{
	if (*n >= SP_MERKLE_MAX_PROOF)
		return SP_ESIZE;
	memcpy(proof[*n], h, SP_MERKLE_HASH);
	(*n)++;
	return SP_OK;
}

/* PATH(m, D[lo:lo+n]) */
static int path(sp_merkle_node_fn fn, void *ctx, uint64_t m, uint64_t lo, uint64_t n,
                sp_merkle_hash *proof, size_t *np)
{
	uint8_t h[SP_MERKLE_HASH];
	uint64_t k;
	int rc;

	if (n <= 1)
		return SP_OK;
	k = split_point(n);
	if (m < k) {
		if ((rc = path(fn, ctx, m, lo, k, proof, np)) != SP_OK)
			return rc;
		rc = range_hash(fn, ctx, lo + k, n - k, h);
	} else {
		if ((rc = path(fn, ctx, m - k, lo + k, n - k, proof, np)) != SP_OK)
			return rc;
		rc = range_hash(fn, ctx, lo, k, h);
	}
	return rc != SP_OK ? rc : push(proof, np, h);
}

int sp_merkle_inclusion_proof(sp_merkle_node_fn fn, void *ctx, uint64_t index, uint64_t size,
                              sp_merkle_hash *proof, size_t *n)
{
	if (!fn || !proof || !n || index >= size)
		return SP_EINVAL;
	*n = 0;
	return path(fn, ctx, index, 0, size, proof, n);
}

/* SUBPROOF(m, D[lo:lo+n], b) */
static int subproof(sp_merkle_node_fn fn, void *ctx, uint64_t m, uint64_t lo, uint64_t n, int b,
                    sp_merkle_hash *proof, size_t *np)
{
	uint8_t h[SP_MERKLE_HASH];
	uint64_t k;
	int rc;

	if (m == n) {
		if (b)
			return SP_OK;
		if ((rc = range_hash(fn, ctx, lo, n, h)) != SP_OK)
			return rc;
		return push(proof, np, h);
	}
	k = split_point(n);
	if (m <= k) {
		if ((rc = subproof(fn, ctx, m, lo, k, b, proof, np)) != SP_OK)
			return rc;
		rc = range_hash(fn, ctx, lo + k, n - k, h);
	} else {
		if ((rc = subproof(fn, ctx, m - k, lo + k, n - k, 0, proof, np)) != SP_OK)
			return rc;
		rc = range_hash(fn, ctx, lo, k, h);
	}
	return rc != SP_OK ? rc : push(proof, np, h);
}

int sp_merkle_consistency_proof(sp_merkle_node_fn fn, void *ctx, uint64_t m, uint64_t size,
                                sp_merkle_hash *proof, size_t *n)
{
	if (!fn || !proof || !n || m == 0 || m > size)
		return SP_EINVAL;
	*n = 0;
	return subproof(fn, ctx, m, 0, size, 1, proof, n);
}

int sp_merkle_inclusion_verify(uint64_t index, uint64_t size, const uint8_t leaf[SP_MERKLE_HASH],
                               const sp_merkle_hash *proof, size_t n,
                               const uint8_t root[SP_MERKLE_HASH])
{
	uint8_t r[SP_MERKLE_HASH];
	uint64_t fn, sn;

	if (index >= size || (n && !proof))
		return SP_ECORRUPT;
	fn = index;
	sn = size - 1;
	memcpy(r, leaf, SP_MERKLE_HASH);
	for (size_t i = 0; i < n; i++) {
		if (sn == 0)
			return SP_ECORRUPT;
		if ((fn & 1) || fn == sn) {
			sp_merkle_node(proof[i], r, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			sp_merkle_node(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || sodium_memcmp(r, root, SP_MERKLE_HASH) != 0)
		return SP_ECORRUPT;
	return SP_OK;
}

int sp_merkle_consistency_verify(uint64_t m, uint64_t size, const uint8_t root_m[SP_MERKLE_HASH],
                                 const uint8_t root_n[SP_MERKLE_HASH],
                                 const sp_merkle_hash *proof, size_t n)
{
	uint8_t fr[SP_MERKLE_HASH], sr[SP_MERKLE_HASH];
	uint64_t fn, sn;
	size_t i = 0;

	if (m > size)
		return SP_ECORRUPT;
	if (m == 0)
		return n == 0 ? SP_OK : SP_ECORRUPT;
	if (m == size)
		return n == 0 && sodium_memcmp(root_m, root_n, SP_MERKLE_HASH) == 0 ? SP_OK : SP_ECORRUPT;
	if (n == 0 || !proof)
		return SP_ECORRUPT;
	/* A first tree that is a perfect subtree is its own first proof node. */
	if (is_pow2(m)) {
		memcpy(fr, root_m, SP_MERKLE_HASH);
	} else {
		memcpy(fr, proof[0], SP_MERKLE_HASH);
		i = 1;
	}
	memcpy(sr, fr, SP_MERKLE_HASH);
	fn = m - 1;
	sn = size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < n; i++) {
		if (sn == 0)
			return SP_ECORRUPT;
		if ((fn & 1) || fn == sn) {
			sp_merkle_node(proof[i], fr, fr);
			sp_merkle_node(proof[i], sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			sp_merkle_node(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || sodium_memcmp(fr, root_m, SP_MERKLE_HASH) != 0 ||
	    sodium_memcmp(sr, root_n, SP_MERKLE_HASH) != 0)
		return SP_ECORRUPT;
	return SP_OK;
}

void sp_merkle_frontier_init(sp_merkle_frontier *f)
{
	memset(f, 0, sizeof *f);
}

void sp_merkle_frontier_push(sp_merkle_frontier *f, const uint8_t leaf[SP_MERKLE_HASH])
{
	uint8_t cur[SP_MERKLE_HASH];
	unsigned l = 0;
	memcpy(cur, leaf, SP_MERKLE_HASH);
	/* Carry like binary addition: each set low bit merges a perfect subtree. */
	while (f->size & ((uint64_t)1 << l)) {
		sp_merkle_node(f->level[l], cur, cur);
		l++;
	}
	memcpy(f->level[l], cur, SP_MERKLE_HASH);
	f->size++;
}

void sp_merkle_frontier_root(const sp_merkle_frontier *f, uint8_t out[SP_MERKLE_HASH])
{
	uint8_t r[SP_MERKLE_HASH];
	int have = 0;
	if (f->size == 0) {
		sp_merkle_empty_root(out);
		return;
	}
	for (unsigned l = 0; l < 64; l++) {
		if (!(f->size & ((uint64_t)1 << l)))
			continue;
		if (!have) {
			memcpy(r, f->level[l], SP_MERKLE_HASH);
			have = 1;
		} else {
			sp_merkle_node(f->level[l], r, r);
		}
	}
	memcpy(out, r, SP_MERKLE_HASH);
}
