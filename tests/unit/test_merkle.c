/*
 * test_merkle.c — RFC 9162 / RFC 6962 Merkle hashing and proofs against the
 * certificate-transparency reference vectors (the 8-leaf sample tree), plus
 * exhaustive generate/verify round trips and tampering on small trees.
 */
#include <sodium.h>
#include "sp_test.h"
#include "sp_merkle.h"
#include "sp_util.h"

/* The CT sample tree's leaf inputs (hex). */
static const char *const leaves_hex[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};
/* MTH of the first 1..8 leaves. */
static const char *const roots_hex[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct vec {
	uint64_t a, b;          /* inclusion: index, size; consistency: m, n */
	size_t n;
	const char *h[4];
};

static const struct vec inclusion[] = {
	{ 0, 1, 0, { NULL } },
	{ 0, 8, 3, { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	{ 5, 8, 3, { "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	{ 2, 3, 1, { "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" } },
	{ 1, 5, 3, { "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
};

static const struct vec consistency[] = {
	{ 1, 1, 0, { NULL } },
	{ 1, 8, 3, { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
	{ 6, 8, 3, { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
	{ 2, 5, 2, { "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
};

/* In-memory tree over leaf hashes: perfect subtree hashes by recursion. */
struct mem {
	sp_merkle_hash *leaf;
	uint64_t n;
};

static int mem_node(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
	struct mem *m = ctx;
	uint8_t l[32], r[32];
	if (level == 0) {
		if (index >= m->n)
			return SP_EINVAL;
		memcpy(out, m->leaf[index], 32);
		return SP_OK;
	}
	if (mem_node(ctx, level - 1, index * 2, l) || mem_node(ctx, level - 1, index * 2 + 1, r))
		return SP_EINVAL;
	sp_merkle_node(l, r, out);
	return SP_OK;
}

static struct mem sample(void)
{
	static sp_merkle_hash lh[8];
	for (int i = 0; i < 8; i++) {
		uint8_t buf[16];
		size_t n = strlen(leaves_hex[i]) / 2;
		ck_assert_int_eq(n ? sp_unhex(leaves_hex[i], buf, n) : 0, SP_OK);
		sp_merkle_leaf(buf, n, lh[i]);
	}
	return (struct mem){ lh, 8 };
}

static void unhex32(const char *h, uint8_t out[32])
{
	ck_assert_int_eq(sp_unhex(h, out, 32), SP_OK);
}

START_TEST(test_roots)
{
	struct mem m = sample();
	uint8_t want[32], got[32];
	sp_merkle_frontier f;
	sp_merkle_frontier_init(&f);
	for (uint64_t n = 0; n <= 8; n++) {
		unhex32(roots_hex[n], want);
		m.n = n;
		ck_assert_int_eq(sp_merkle_root(mem_node, &m, n, got), SP_OK);
		ck_assert_mem_eq(got, want, 32);
		sp_merkle_frontier_root(&f, got);
		ck_assert_mem_eq(got, want, 32);
		if (n < 8)
			sp_merkle_frontier_push(&f, m.leaf[n]);
	}
}
END_TEST

START_TEST(test_inclusion_vectors)
{
	struct mem m = sample();
	sp_merkle_hash proof[SP_MERKLE_MAX_PROOF], want[4];
	uint8_t root[32];
	size_t n;
	for (size_t v = 0; v < sizeof inclusion / sizeof inclusion[0]; v++) {
		const struct vec *x = &inclusion[v];
		m.n = x->b;
		ck_assert_int_eq(sp_merkle_inclusion_proof(mem_node, &m, x->a, x->b, proof, &n), SP_OK);
		ck_assert_uint_eq(n, x->n);
		for (size_t i = 0; i < n; i++) {
			unhex32(x->h[i], want[i]);
			ck_assert_mem_eq(proof[i], want[i], 32);
		}
		unhex32(roots_hex[x->b], root);
		ck_assert_int_eq(sp_merkle_inclusion_verify(x->a, x->b, m.leaf[x->a], want, x->n, root), SP_OK);
		/* the proof for one leaf does not prove another */
		if (x->b > 1)
			ck_assert_int_eq(sp_merkle_inclusion_verify(x->a, x->b, m.leaf[(x->a + 1) % x->b],
			                                            want, x->n, root), SP_ECORRUPT);
	}
}
END_TEST

START_TEST(test_consistency_vectors)
{
	struct mem m = sample();
	sp_merkle_hash proof[SP_MERKLE_MAX_PROOF], want[4];
	uint8_t r1[32], r2[32];
	size_t n;
	for (size_t v = 0; v < sizeof consistency / sizeof consistency[0]; v++) {
		const struct vec *x = &consistency[v];
		m.n = x->b;
		ck_assert_int_eq(sp_merkle_consistency_proof(mem_node, &m, x->a, x->b, proof, &n), SP_OK);
		ck_assert_uint_eq(n, x->n);
		for (size_t i = 0; i < n; i++) {
			unhex32(x->h[i], want[i]);
			ck_assert_mem_eq(proof[i], want[i], 32);
		}
		unhex32(roots_hex[x->a], r1);
		unhex32(roots_hex[x->b], r2);
		ck_assert_int_eq(sp_merkle_consistency_verify(x->a, x->b, r1, r2, want, x->n), SP_OK);
		if (x->a != x->b) /* a forked first tree */
			ck_assert_int_eq(sp_merkle_consistency_verify(x->a, x->b, r2, r2, want, x->n), SP_ECORRUPT);
	}
}
END_TEST

/* Every (index, size) and (m, n) up to 33 leaves: generated proofs verify,
 * any flipped bit or wrong size fails. */
START_TEST(test_exhaustive)
{
	sp_merkle_hash lh[33], proof[SP_MERKLE_MAX_PROOF];
	uint8_t roots[34][32];
	struct mem m = { lh, 33 };
	size_t n;
	for (int i = 0; i < 33; i++) {
		uint8_t b = (uint8_t)i;
		sp_merkle_leaf(&b, 1, lh[i]);
	}
	for (uint64_t s = 0; s <= 33; s++)
		ck_assert_int_eq(sp_merkle_root(mem_node, &m, s, roots[s]), SP_OK);
	for (uint64_t s = 1; s <= 33; s++) {
		for (uint64_t i = 0; i < s; i++) {
			ck_assert_int_eq(sp_merkle_inclusion_proof(mem_node, &m, i, s, proof, &n), SP_OK);
			ck_assert_int_eq(sp_merkle_inclusion_verify(i, s, lh[i], proof, n, roots[s]), SP_OK);
			if (n) {
				proof[n / 2][3] ^= 1;
				ck_assert_int_eq(sp_merkle_inclusion_verify(i, s, lh[i], proof, n, roots[s]), SP_ECORRUPT);
			}
			ck_assert_int_eq(sp_merkle_inclusion_verify(i, s + 1, lh[i], proof, n, roots[s]), SP_ECORRUPT);
		}
		for (uint64_t a = 1; a <= s; a++) {
			ck_assert_int_eq(sp_merkle_consistency_proof(mem_node, &m, a, s, proof, &n), SP_OK);
			ck_assert_int_eq(sp_merkle_consistency_verify(a, s, roots[a], roots[s], proof, n), SP_OK);
			if (a < s) {
				ck_assert_int_eq(sp_merkle_consistency_verify(a, s, roots[a - 1], roots[s], proof, n),
				                 SP_ECORRUPT);
				proof[n - 1][0] ^= 0x80;
				ck_assert_int_eq(sp_merkle_consistency_verify(a, s, roots[a], roots[s], proof, n),
				                 SP_ECORRUPT);
			}
		}
	}
}
END_TEST

START_TEST(test_bad_args)
{
	struct mem m = sample();
	sp_merkle_hash proof[SP_MERKLE_MAX_PROOF];
	uint8_t r[32] = { 0 };
	size_t n;
	ck_assert_int_eq(sp_merkle_inclusion_proof(mem_node, &m, 8, 8, proof, &n), SP_EINVAL);
	ck_assert_int_eq(sp_merkle_consistency_proof(mem_node, &m, 0, 8, proof, &n), SP_EINVAL);
	ck_assert_int_eq(sp_merkle_consistency_proof(mem_node, &m, 9, 8, proof, &n), SP_EINVAL);
	ck_assert_int_eq(sp_merkle_inclusion_verify(3, 2, r, NULL, 0, r), SP_ECORRUPT);
	ck_assert_int_eq(sp_merkle_consistency_verify(5, 4, r, r, NULL, 0), SP_ECORRUPT);
	ck_assert_int_eq(sp_merkle_consistency_verify(2, 4, r, r, NULL, 0), SP_ECORRUPT);
}
END_TEST

static Suite *merkle_suite(void)
{
	Suite *s = suite_create("merkle");
	TCase *tc = tcase_create("rfc9162");
	tcase_add_test(tc, test_roots);
	tcase_add_test(tc, test_inclusion_vectors);
	tcase_add_test(tc, test_consistency_vectors);
	tcase_add_test(tc, test_exhaustive);
	tcase_add_test(tc, test_bad_args);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(merkle_suite)
