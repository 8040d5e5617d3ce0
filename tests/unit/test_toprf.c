/* test_toprf.c — threshold OPRF: Shamir/Feldman, the local DKG, combining
 * partial evaluations, rotation by translation. The RFC 9497 vectors cover
 * only the single-key path (test_oprf.c); here the property is that every
 * t-subset of instances gives the element of the single-key path with k. */
#include "sp_test.h"
#include "sp_oprf.h"
#include "sp_toprf.h"

#include <sodium.h>

#define MODE SP_OPRF_MODE_VERIFIABLE

/* Test only: k from any t shares (never done in seinpost itself). */
static void reconstruct(const uint8_t *shares, const uint32_t *idx, size_t m, uint8_t k[32])
{
	uint8_t l[32], term[32];
	memset(k, 0, 32);
	for (size_t i = 0; i < m; i++) {
		ck_assert_int_eq(sp_toprf_lagrange0(idx, m, i, l), SP_OK);
		crypto_core_ristretto255_scalar_mul(term, l, shares + 32 * (idx[i] - 1));
		crypto_core_ristretto255_scalar_add(k, k, term);
	}
}

/* Next m-subset of 1..n in lexicographic order; 0 when done. */
static int next_subset(uint32_t *idx, size_t m, uint32_t n)
{
	size_t i = m;
	while (i-- > 0) {
		if (idx[i] < n - (m - 1 - i)) {
			idx[i]++;
			for (size_t j = i + 1; j < m; j++)
				idx[j] = idx[j - 1] + 1;
			return 1;
		}
	}
	return 0;
}

/* Ask the instances idx (their shares), verify each proof against the
 * commitments, combine; out gets NB pseudonyms. */
#define NB 6
static int pseudonyms_via(const uint8_t *shares, const uint8_t *commits, uint32_t t,
                          const uint32_t *idx, size_t m, uint8_t out[NB * 32])
{
	uint8_t blinds[NB * 32], b[NB * 32], ev[SP_TOPRF_MAX_N][NB * 32], proof[64], pk[32];
	const uint8_t *evp[SP_TOPRF_MAX_N];
	char in[16];
	for (int e = 0; e < NB; e++) {
		snprintf(in, sizeof in, "\x01%09d", 111222333 + e);
		ck_assert_int_eq(sp_oprf_blind(MODE, (uint8_t *)in, 10, NULL, blinds + 32 * e,
		                               b + 32 * e),
		                 SP_OK);
	}
	for (size_t i = 0; i < m; i++) {
		const uint8_t *s = shares + 32 * (idx[i] - 1);
		ck_assert_int_eq(sp_toprf_public_share(commits, t, idx[i], pk), SP_OK);
		ck_assert_int_eq(sp_oprf_evaluate(s, b, NB, ev[i]), SP_OK);
		ck_assert_int_eq(sp_oprf_prove(MODE, s, pk, b, ev[i], NB, NULL, proof), SP_OK);
		ck_assert_int_eq(sp_toprf_verify_partial(commits, t, idx[i], b, ev[i], NB, proof),
		                 SP_OK);
		evp[i] = ev[i];
	}
	{
		/* the batched combination gives the same, with and without a second thread */
		uint8_t out2[NB * 32];
		sp_workers *w = NULL;
		ck_assert_int_eq(sp_workers_new(&w), SP_OK);
		ck_assert_int_eq(sp_toprf_combine_batch(idx, m, evp, blinds, NB, out2, NULL), SP_OK);
		ck_assert_int_eq(sp_toprf_combine(idx, m, evp, blinds, NB, out), SP_OK);
		ck_assert_mem_eq(out, out2, sizeof out2);
		ck_assert_int_eq(sp_toprf_combine_batch(idx, m, evp, blinds, NB, out2, w), SP_OK);
		ck_assert_mem_eq(out, out2, sizeof out2);
		sp_workers_free(&w);
	}
	return SP_OK;
}

static void single_key(const uint8_t k[32], uint8_t out[NB * 32])
{
	uint8_t h[32];
	char in[16];
	for (int e = 0; e < NB; e++) {
		snprintf(in, sizeof in, "\x01%09d", 111222333 + e);
		ck_assert_int_eq(sp_oprf_hash_to_group(MODE, (uint8_t *)in, 10, h), SP_OK);
		ck_assert_int_eq(crypto_scalarmult_ristretto255(out + 32 * e, k, h), 0);
	}
}

static void every_subset_matches(uint32_t t, uint32_t n, const uint8_t *shares,
                                 const uint8_t *commits, const uint8_t k[32])
{
	uint8_t want[NB * 32], got[NB * 32], gk[32];
	uint32_t idx[SP_TOPRF_MAX_N];
	int subsets = 0;
	/* the group key is C_0 = k·G */
	ck_assert_int_eq(crypto_scalarmult_ristretto255_base(gk, k), 0);
	ck_assert_mem_eq(gk, commits, 32);
	single_key(k, want);
	for (uint32_t i = 0; i < t; i++)
		idx[i] = i + 1;
	do {
		ck_assert_int_eq(pseudonyms_via(shares, commits, t, idx, t, got), SP_OK);
		ck_assert_mem_eq(got, want, sizeof want);
		subsets++;
	} while (next_subset(idx, t, n));
	ck_assert_int_gt(subsets, 0);
	/* fewer than t instances give something else */
	if (t > 1) {
		for (uint32_t i = 0; i < t - 1; i++)
			idx[i] = i + 1;
		ck_assert_int_eq(pseudonyms_via(shares, commits, t, idx, t - 1, got), SP_OK);
		ck_assert(memcmp(got, want, sizeof want) != 0);
	}
}

/* combine_batch = combine for any elements and index sets, also for
 * indices whose integer coefficients do not fit (the fallback), and it
 * refuses what combine refuses */
START_TEST(combine_batch_equals_combine)
{
	static const uint32_t sets[][3] = { { 1, 2, 3 }, { 2, 5, 9 }, { 7, 1, 4 }, { 65536, 3, 100000 },
		                            { 2000000000u, 2100000000u, 5 } };
	enum { N = 9 };
	uint8_t ev[3][N * 32], blinds[N * 32], a[N * 32], b[N * 32];
	const uint8_t *evp[3] = { ev[0], ev[1], ev[2] };
	for (int i = 0; i < 3; i++)
		for (int e = 0; e < N; e++)
			crypto_core_ristretto255_random(ev[i] + 32 * e);
	for (int e = 0; e < N; e++)
		crypto_core_ristretto255_scalar_random(blinds + 32 * e);
	for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++)
		for (size_t m = 1; m <= 3; m++) {
			ck_assert_int_eq(sp_toprf_combine(sets[k], m, evp, blinds, N, a), SP_OK);
			ck_assert_int_eq(sp_toprf_combine_batch(sets[k], m, evp, blinds, N, b, NULL), SP_OK);
			ck_assert_mem_eq(a, b, sizeof a);
		}
	/* an identity or invalid partial is refused, the output wiped */
	memset(ev[1] + 32 * 4, 0, 32);
	ck_assert_int_eq(sp_toprf_combine_batch(sets[0], 2, evp, blinds, N, b, NULL), SP_ECRYPTO);
	ck_assert_int_eq(sodium_is_zero(b, sizeof b), 1);
	memset(ev[1] + 32 * 4, 0xff, 32);
	ck_assert_int_eq(sp_toprf_combine_batch(sets[0], 2, evp, blinds, N, b, NULL), SP_ECRYPTO);
	/* an index twice or zero */
	static const uint32_t dup[2] = { 3, 3 }, zero[2] = { 0, 1 };
	ck_assert_int_eq(sp_toprf_combine_batch(dup, 2, evp, blinds, N, b, NULL), SP_EINVAL);
	ck_assert_int_eq(sp_toprf_combine_batch(zero, 2, evp, blinds, N, b, NULL), SP_EINVAL);
}
END_TEST

START_TEST(dealer_split_every_subset)
{
	static const uint32_t tn[][2] = { { 2, 3 }, { 3, 5 }, { 1, 2 }, { 4, 4 } };
	for (size_t c = 0; c < sizeof tn / sizeof tn[0]; c++) {
		uint8_t k[32], pk[32], shares[SP_TOPRF_MAX_N * 32], commits[SP_TOPRF_MAX_N * 32];
		ck_assert_int_eq(sp_oprf_keypair(k, pk), SP_OK);
		ck_assert_int_eq(sp_toprf_split(k, tn[c][0], tn[c][1], shares, commits), SP_OK);
		for (uint32_t i = 1; i <= tn[c][1]; i++)
			ck_assert_int_eq(sp_toprf_verify_share(commits, tn[c][0], i, shares + 32 * (i - 1)),
			                 SP_OK);
		every_subset_matches(tn[c][0], tn[c][1], shares, commits, k);
	}
}
END_TEST

START_TEST(dkg_every_subset)
{
	static const uint32_t tn[][2] = { { 2, 3 }, { 3, 5 } };
	for (size_t c = 0; c < sizeof tn / sizeof tn[0]; c++) {
		uint32_t t = tn[c][0], n = tn[c][1], idx[SP_TOPRF_MAX_N], idx2[SP_TOPRF_MAX_N];
		uint8_t shares[SP_TOPRF_MAX_N * 32], commits[SP_TOPRF_MAX_N * 32], k[32], k2[32];
		ck_assert_int_eq(sp_toprf_dkg_local(t, n, shares, commits), SP_OK);
		/* every t-subset of shares determines the same k (test only) */
		for (uint32_t i = 0; i < t; i++)
			idx[i] = i + 1;
		reconstruct(shares, idx, t, k);
		memcpy(idx2, idx, sizeof idx2);
		while (next_subset(idx2, t, n)) {
			reconstruct(shares, idx2, t, k2);
			ck_assert_mem_eq(k, k2, 32);
		}
		every_subset_matches(t, n, shares, commits, k);
	}
}
END_TEST

START_TEST(feldman_refusals)
{
	uint8_t shares[3 * 32], commits[2 * 32], bad[32], ev[NB * 32], proof[64], pk[32];
	uint8_t b[32], blind[32], s[32];
	uint32_t idx[2] = { 1, 3 }, dup[2] = { 2, 2 }, zero[2] = { 0, 1 };
	ck_assert_int_eq(sp_toprf_dkg_local(2, 3, shares, commits), SP_OK);
	/* a wrong share, at the wrong index */
	memcpy(bad, shares, 32);
	bad[0] ^= 1;
	ck_assert_int_eq(sp_toprf_verify_share(commits, 2, 1, bad), SP_ECRYPTO);
	ck_assert_int_eq(sp_toprf_verify_share(commits, 2, 2, shares), SP_ECRYPTO);
	ck_assert_int_eq(sp_toprf_verify_share(commits, 2, 0, shares), SP_EINVAL);
	/* Lagrange: indices distinct and non-zero */
	ck_assert_int_eq(sp_toprf_lagrange0(idx, 2, 0, s), SP_OK);
	ck_assert_int_eq(sp_toprf_lagrange0(dup, 2, 0, s), SP_EINVAL);
	ck_assert_int_eq(sp_toprf_lagrange0(zero, 2, 0, s), SP_EINVAL);
	/* an instance answering with a key other than its share is caught by
	 * its proof against s_i·G, even with a valid proof for its own key */
	ck_assert_int_eq(sp_oprf_blind(MODE, (const uint8_t *)"x", 1, NULL, blind, b), SP_OK);
	ck_assert_int_eq(sp_toprf_public_share(commits, 2, 2, pk), SP_OK);
	ck_assert_int_eq(sp_oprf_evaluate(shares + 32, b, 1, ev), SP_OK);
	ck_assert_int_eq(sp_oprf_prove(MODE, shares + 32, pk, b, ev, 1, NULL, proof), SP_OK);
	ck_assert_int_eq(sp_toprf_verify_partial(commits, 2, 2, b, ev, 1, proof), SP_OK);
	ck_assert_int_eq(sp_toprf_verify_partial(commits, 2, 1, b, ev, 1, proof), SP_ECRYPTO);
	/* a dealer's sub-share that does not match its commitments is a complaint */
	{
		uint8_t dc[2 * 32], sub[3 * 32];
		ck_assert_int_eq(sp_toprf_dkg_deal(2, 3, 0, dc, sub), SP_OK);
		ck_assert_int_eq(sp_toprf_dkg_check(dc, 2, 2, 0, sub + 32), SP_OK);
		sub[32] ^= 1;
		ck_assert_int_eq(sp_toprf_dkg_check(dc, 2, 2, 0, sub + 32), SP_ECRYPTO);
		/* a "sharing of zero" that commits to a non-zero secret is refused */
		ck_assert_int_eq(sp_toprf_dkg_check(dc, 2, 1, 1, sub), SP_ECRYPTO);
		ck_assert_int_eq(sp_toprf_dkg_deal(2, 3, 1, dc, sub), SP_OK);
		ck_assert(sodium_is_zero(dc, 32));
		ck_assert_int_eq(sp_toprf_dkg_check(dc, 2, 3, 1, sub + 64), SP_OK);
	}
	ck_assert_int_eq(sp_toprf_dkg_local(3, 2, shares, commits), SP_EINVAL);
	ck_assert_int_eq(sp_toprf_dkg_local(0, 2, shares, commits), SP_EINVAL);
}
END_TEST

/* P' = δ·P, every subset of the new shares agrees, and an old share times
 * δ is not the new share (the re-sharing of zero). */
START_TEST(rotation_translates)
{
	uint32_t t = 2, n = 3, idx[2] = { 1, 2 };
	uint8_t shares[3 * 32], old[3 * 32], commits[2 * 32], oldc[2 * 32], delta[32];
	uint8_t k[32], k2[32], before[NB * 32], after[NB * 32], moved[32], naive[32];
	ck_assert_int_eq(sp_toprf_dkg_local(t, n, shares, commits), SP_OK);
	memcpy(old, shares, sizeof old);
	memcpy(oldc, commits, sizeof oldc);
	reconstruct(shares, idx, t, k);
	single_key(k, before);
	ck_assert_int_eq(sp_toprf_rotate_local(t, n, shares, commits, delta), SP_OK);
	reconstruct(shares, idx, t, k2);
	every_subset_matches(t, n, shares, commits, k2);
	single_key(k2, after);
	for (int e = 0; e < NB; e++) {
		ck_assert_int_eq(sp_toprf_translate(delta, before + 32 * e, moved), SP_OK);
		ck_assert_mem_eq(moved, after + 32 * e, 32);
	}
	for (uint32_t i = 0; i < n; i++) {
		crypto_core_ristretto255_scalar_mul(naive, old + 32 * i, delta);
		ck_assert(memcmp(naive, shares + 32 * i, 32) != 0);
		/* the old share no longer matches the new commitments */
		ck_assert_int_eq(sp_toprf_verify_share(commits, t, i + 1, old + 32 * i), SP_ECRYPTO);
	}
	ck_assert(memcmp(oldc, commits, 32) != 0);
	ck_assert_int_eq(sp_toprf_translate(delta, (const uint8_t[32]){ 0 }, moved), SP_ECRYPTO);
}
END_TEST

/* The rotation proof: new group key = δ·old, d = δ·G; a proof for another
 * δ, another key, or a bit flipped does not verify. */
START_TEST(rotation_proof)
{
	uint32_t t = 2, n = 3;
	uint8_t shares[3 * 32], commits[2 * 32], c0[32], delta[32], d[32], proof[64], bad[64], other[32];
	ck_assert_int_eq(sp_toprf_dkg_local(t, n, shares, commits), SP_OK);
	memcpy(c0, commits, 32);
	ck_assert_int_eq(sp_toprf_rotate_local(t, n, shares, commits, delta), SP_OK);
	ck_assert_int_eq(sp_toprf_dleq_prove(delta, c0, commits, 1, d, proof), SP_OK);
	ck_assert_int_eq(sp_toprf_dleq_verify(d, c0, commits, 1, proof), SP_OK);
	/* the new key against itself, or the old key as the new: refused */
	ck_assert_int_eq(sp_toprf_dleq_verify(d, commits, c0, 1, proof), SP_ECRYPTO);
	memcpy(bad, proof, 64);
	bad[5] ^= 1;
	ck_assert_int_eq(sp_toprf_dleq_verify(d, c0, commits, 1, bad), SP_ECRYPTO);
	/* another scalar: a key of one's own with an honest proof for it is
	 * still not a proof about this old key's multiple by d's δ */
	crypto_core_ristretto255_scalar_random(other);
	ck_assert_int_eq(sp_toprf_dleq_prove(other, c0, commits, 1, NULL, bad), SP_OK);
	ck_assert_int_eq(sp_toprf_dleq_verify(d, c0, commits, 1, bad), SP_ECRYPTO);
	/* the earlier pseudonym for who-saw: P_old = δ⁻¹·P, proven */
	uint8_t p[32], inv[32], pold[32];
	crypto_core_ristretto255_random(p);
	ck_assert_int_eq(crypto_core_ristretto255_scalar_invert(inv, delta), 0);
	ck_assert_int_eq(sp_toprf_translate(inv, p, pold), SP_OK);
	ck_assert_int_eq(sp_toprf_dleq_prove(delta, pold, p, 1, NULL, proof), SP_OK);
	ck_assert_int_eq(sp_toprf_dleq_verify(d, pold, p, 1, proof), SP_OK);
	ck_assert_int_eq(sp_toprf_dleq_verify(d, p, pold, 1, proof), SP_ECRYPTO);
}
END_TEST

static Suite *toprf_suite(void)
{
	Suite *s = suite_create("toprf");
	TCase *tc = tcase_create("threshold");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, combine_batch_equals_combine);
	tcase_add_test(tc, dealer_split_every_subset);
	tcase_add_test(tc, dkg_every_subset);
	tcase_add_test(tc, feldman_refusals);
	tcase_add_test(tc, rotation_translates);
	tcase_add_test(tc, rotation_proof);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(toprf_suite)
