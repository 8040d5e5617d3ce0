/*
 * sp_toprf.h — the threshold side of the OPRF: Shamir shares of the key k
 * over ristretto255's scalar field, Feldman commitments, a joint-Feldman
 * (Pedersen) distributed key generation, combination of t partial
 * evaluations, and key rotation by translation with a re-sharing of zero.
 *
 * Indices of instances are 1..n (never 0: the secret lives at x = 0).
 * A polynomial of degree t-1 is t scalars a_0..a_{t-1}; its commitments are
 * C_j = a_j·G. The group key is C_0 = k·G; instance i's public share is
 * s_i·G = Σ_j i^j·C_j, which anyone can compute from the commitments, so a
 * partial evaluation's DLEQ proof against s_i·G ties it to the group key.
 *
 * Ownership: every buffer is the caller's. Secret buffers (coefficients,
 * shares) should be sodium_malloc memory; scratch here is wiped.
 */
#ifndef SP_TOPRF_H
#define SP_TOPRF_H

#include <stdint.h>
#include <stddef.h>
#include "sp_error.h"
#include "sp_workers.h"

#define SP_TOPRF_MAX_N 16

/* Scalar encoding of a small integer (little-endian). */
void sp_toprf_scalar_u32(uint8_t out[32], uint32_t v);

/* f(x) for coefficients a (t*32 bytes). */
int sp_toprf_poly_eval(const uint8_t *a, uint32_t t, uint32_t x, uint8_t out[32]) SP_MUST_CHECK;
/* commits (t*32) = a_j·G. SP_ECRYPTO if a coefficient is zero. */
int sp_toprf_poly_commit(const uint8_t *a, uint32_t t, uint8_t *commits) SP_MUST_CHECK;
/* s_i·G from the commitments. */
int sp_toprf_public_share(const uint8_t *commits, uint32_t t, uint32_t index,
                          uint8_t out[32]) SP_MUST_CHECK;
/* SP_OK when share·G equals the commitments at index (Feldman check). */
int sp_toprf_verify_share(const uint8_t *commits, uint32_t t, uint32_t index,
                          const uint8_t share[32]) SP_MUST_CHECK;

/* Lagrange coefficient at 0 of idx[which] among idx[0..m-1] (distinct,
 * non-zero). */
int sp_toprf_lagrange0(const uint32_t *idx, size_t m, size_t which, uint8_t out[32]) SP_MUST_CHECK;

/* Trusted dealer (tests and single-host set-ups only): shares of k. */
int sp_toprf_split(const uint8_t k[32], uint32_t t, uint32_t n, uint8_t *shares,
                   uint8_t *commits) SP_MUST_CHECK;

/* One dealer's round of the DKG: a random polynomial of degree t-1 (its
 * constant term zero when zero_secret, for re-sharing), its commitments
 * (t*32; with zero_secret C_0 is left all-zero) and the sub-share for each
 * of the n instances (n*32, sub-share j-1 goes privately to instance j). */
int sp_toprf_dkg_deal(uint32_t t, uint32_t n, int zero_secret, uint8_t *commits,
                      uint8_t *subshares) SP_MUST_CHECK;
/* Instance `index` checks a sub-share against its dealer's commitments;
 * a failure is a complaint against that dealer. */
int sp_toprf_dkg_check(const uint8_t *commits, uint32_t t, uint32_t index, int zero_secret,
                       const uint8_t subshare[32]) SP_MUST_CHECK;
/* Run the whole DKG among n local instances (the demo's `net init`):
 * shares (n*32) and the summed commitments (t*32). No party, this process
 * included, forms k: it exists only as the sum of the dealers' a_0. */
int sp_toprf_dkg_local(uint32_t t, uint32_t n, uint8_t *shares, uint8_t *commits) SP_MUST_CHECK;

/* Verify instance `index`'s batch answer: its DLEQ proof against s_i·G
 * computed from the commitments. */
int sp_toprf_verify_partial(const uint8_t *commits, uint32_t t, uint32_t index,
                            const uint8_t *blinded, const uint8_t *evaluated, size_t n,
                            const uint8_t proof[64]) SP_MUST_CHECK;

/* Combine the answers of m = t instances idx[0..m-1] (evals[i] is n*32
 * bytes) for n blinded elements with blinds (n*32): out_e = Σ_i (λ_i·r_e⁻¹)·
 * Z_{i,e} — the unblinding folded into the Lagrange coefficients. */
int sp_toprf_combine(const uint32_t *idx, size_t m, const uint8_t *const *evals,
                     const uint8_t *blinds, size_t n, uint8_t *out) SP_MUST_CHECK;

/* The same result for a whole batch, faster: the Lagrange coefficients
 * scaled by a common denominator g are small integers c_i, so
 * Y_e = Σ_i c_i·Z_{i,e} is a few additions over public elements (variable
 * time, sp_r255.h), then out_e = (g·r_e)⁻¹·Y_e is one constant-time scalar
 * multiplication per element, with one scalar inversion for the batch.
 * Indices too large for 62-bit coefficients fall back to sp_toprf_combine.
 * With w, the elements are split over two threads. */
int sp_toprf_combine_batch(const uint32_t *idx, size_t m, const uint8_t *const *evals,
                           const uint8_t *blinds, size_t n, uint8_t *out, sp_workers *w) SP_MUST_CHECK;

/* Rotation by translation among n local instances: a random δ (the product
 * of each instance's contribution), s_i' = δ·s_i + Σ_d z_d(i) with fresh
 * sharings of zero, and the new commitments. delta_out (32) is what the
 * broker receives: P' = δ·P. */
int sp_toprf_rotate_local(uint32_t t, uint32_t n, uint8_t *shares, uint8_t *commits,
                          uint8_t delta_out[32]) SP_MUST_CHECK;

/* P' = δ·P for one element (the broker's translation). */
int sp_toprf_translate(const uint8_t delta[32], const uint8_t p[32], uint8_t out[32]) SP_MUST_CHECK;

/* ---- rotation proofs (rotate) ----------------------------------------------
 * A DLEQ proof (RFC 9497's batched GenerateProof/VerifyProof) that
 * b_e = δ·a_e for every e and d = δ·G: the ceremony proves the new group key
 * is the old one times δ (a = C_0, b = C_0'), the broker proves an earlier
 * pseudonym (a = P_old, b = P) for who-saw. d_out may be NULL. */
int sp_toprf_dleq_prove(const uint8_t delta[32], const uint8_t *a, const uint8_t *b, size_t n,
                        uint8_t d_out[32], uint8_t proof[64]) SP_MUST_CHECK;
int sp_toprf_dleq_verify(const uint8_t d[32], const uint8_t *a, const uint8_t *b, size_t n,
                         const uint8_t proof[64]) SP_MUST_CHECK;

/* Point arithmetic for the ceremony between machines (sp_ceremony.c), with
 * the identity written as 32 zero bytes (a sharing of zero commits to it):
 * out = a + b, out = s·p. out may alias an input. */
int sp_toprf_point_add(uint8_t out[32], const uint8_t a[32], const uint8_t b[32]) SP_MUST_CHECK;
int sp_toprf_point_mul(uint8_t out[32], const uint8_t s[32], const uint8_t p[32]) SP_MUST_CHECK;

#endif
