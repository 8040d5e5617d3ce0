/*
 * sp_toprf.c — Shamir/Feldman threshold OPRF keys over ristretto255.
 *
 * Sums of points may pass through the identity (a sharing of zero commits
 * to C_0 = identity), which libsodium's ristretto255 API cannot take as an
 * operand; struct pacc carries "is identity" beside the encoding so the
 * arithmetic never hands libsodium the all-zero string. What leaves this
 * module towards the OPRF (public shares, combined elements) is refused
 * when it is the identity.
 */
#include "sp_toprf.h"
#include "sp_oprf.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "sp_r255.h"

struct pacc {
	uint8_t p[32];
	int id; /* 1: the identity, p unused */
};

static int pacc_add(struct pacc *acc, const uint8_t q[32])
{
	if (sodium_is_zero(q, 32))
		return SP_OK; /* + identity */
	if (acc->id) {
		memcpy(acc->p, q, 32);
		acc->id = 0;
		return SP_OK;
	}
	if (crypto_core_ristretto255_add(acc->p, acc->p, q) != 0)
		return SP_ECRYPTO;
	acc->id = sodium_is_zero(acc->p, 32);
	return SP_OK;
}

static int pacc_mul(struct pacc *acc, const uint8_t s[32])
{
	if (acc->id)
		return SP_OK;
	if (sodium_is_zero(s, 32)) {
		acc->id = 1;
		return SP_OK;
	}
	if (crypto_scalarmult_ristretto255(acc->p, s, acc->p) != 0)
		return SP_ECRYPTO;
	return SP_OK;
}

static void pacc_out(const struct pacc *acc, uint8_t out[32])
{
	if (acc->id)
		memset(out, 0, 32);
	else
		memcpy(out, acc->p, 32);
}

void sp_toprf_scalar_u32(uint8_t out[32], uint32_t v)
{
	memset(out, 0, 32);
	out[0] = (uint8_t)v;
	out[1] = (uint8_t)(v >> 8);
	out[2] = (uint8_t)(v >> 16);
	out[3] = (uint8_t)(v >> 24);
}

static int tn_ok(uint32_t t, uint32_t n)
{
	return t >= 1 && n >= t && n <= SP_TOPRF_MAX_N;
}

static void random_nonzero(uint8_t s[32])
{
	do {
		crypto_core_ristretto255_scalar_random(s);
	} while (sodium_is_zero(s, 32));
}

int sp_toprf_poly_eval(const uint8_t *a, uint32_t t, uint32_t x, uint8_t out[32])
{
	uint8_t xs[32], acc[32];
	uint32_t j;
	if (!a || !out || t == 0 || t > SP_TOPRF_MAX_N || x == 0)
		return SP_EINVAL;
	sp_toprf_scalar_u32(xs, x);
	memcpy(acc, a + 32 * (t - 1), 32);
	for (j = t - 1; j-- > 0;) { /* Horner: acc = acc·x + a_j */
		crypto_core_ristretto255_scalar_mul(acc, acc, xs);
		crypto_core_ristretto255_scalar_add(acc, acc, a + 32 * j);
	}
	memcpy(out, acc, 32);
	sodium_memzero(acc, sizeof acc);
	return SP_OK;
}

int sp_toprf_poly_commit(const uint8_t *a, uint32_t t, uint8_t *commits)
{
	uint32_t j;
	if (!a || !commits || t == 0 || t > SP_TOPRF_MAX_N)
		return SP_EINVAL;
	for (j = 0; j < t; j++)
		if (crypto_scalarmult_ristretto255_base(commits + 32 * j, a + 32 * j) != 0)
			return SP_ECRYPTO;
	return SP_OK;
}

/* Σ_j x^j·C_j by Horner over points; identity allowed on the way. */
static int commits_eval(const uint8_t *commits, uint32_t t, uint32_t x, struct pacc *acc)
{
	uint8_t xs[32];
	uint32_t j;
	sp_toprf_scalar_u32(xs, x);
	acc->id = 1;
	if (pacc_add(acc, commits + 32 * (t - 1)) != SP_OK)
		return SP_ECRYPTO;
	for (j = t - 1; j-- > 0;) {
		if (pacc_mul(acc, xs) != SP_OK || pacc_add(acc, commits + 32 * j) != SP_OK)
			return SP_ECRYPTO;
	}
	return SP_OK;
}

int sp_toprf_public_share(const uint8_t *commits, uint32_t t, uint32_t index, uint8_t out[32])
{
	struct pacc acc;
	if (!commits || !out || t == 0 || t > SP_TOPRF_MAX_N || index == 0)
		return SP_EINVAL;
	if (commits_eval(commits, t, index, &acc) != SP_OK || acc.id)
		return SP_ECRYPTO;
	pacc_out(&acc, out);
	return SP_OK;
}

static int check_share(const uint8_t *commits, uint32_t t, uint32_t index, int allow_id_c0,
                       const uint8_t share[32])
{
	struct pacc acc;
	uint8_t sg[32];
	uint32_t j;
	if (!commits || !share || t == 0 || t > SP_TOPRF_MAX_N || index == 0)
		return SP_EINVAL;
	for (j = 0; j < t; j++) {
		int zero = sodium_is_zero(commits + 32 * j, 32);
		if (zero && !(j == 0 && allow_id_c0))
			return SP_ECRYPTO;
		if (!zero && !sp_oprf_element_ok(commits + 32 * j))
			return SP_ECRYPTO;
	}
	if (allow_id_c0 && !sodium_is_zero(commits, 32))
		return SP_ECRYPTO; /* a sharing of zero must commit to zero */
	if (commits_eval(commits, t, index, &acc) != SP_OK)
		return SP_ECRYPTO;
	if (sodium_is_zero(share, 32))
		return acc.id ? SP_OK : SP_ECRYPTO;
	if (acc.id || crypto_scalarmult_ristretto255_base(sg, share) != 0)
		return SP_ECRYPTO;
	return sodium_memcmp(sg, acc.p, 32) == 0 ? SP_OK : SP_ECRYPTO;
}

int sp_toprf_verify_share(const uint8_t *commits, uint32_t t, uint32_t index,
                          const uint8_t share[32])
{
	return check_share(commits, t, index, 0, share);
}

int sp_toprf_lagrange0(const uint32_t *idx, size_t m, size_t which, uint8_t out[32])
{
	uint8_t num[32], den[32], xj[32], xi[32], diff[32], inv[32];
	size_t j;
	if (!idx || !out || m == 0 || m > SP_TOPRF_MAX_N || which >= m)
		return SP_EINVAL;
	for (j = 0; j < m; j++) {
		if (idx[j] == 0)
			return SP_EINVAL;
		for (size_t k = j + 1; k < m; k++)
			if (idx[j] == idx[k])
				return SP_EINVAL;
	}
	/* λ_i = Π_{j≠i} x_j / (x_j − x_i) */
	sp_toprf_scalar_u32(num, 1);
	sp_toprf_scalar_u32(den, 1);
	sp_toprf_scalar_u32(xi, idx[which]);
	for (j = 0; j < m; j++) {
		if (j == which)
			continue;
		sp_toprf_scalar_u32(xj, idx[j]);
		crypto_core_ristretto255_scalar_mul(num, num, xj);
		crypto_core_ristretto255_scalar_sub(diff, xj, xi);
		crypto_core_ristretto255_scalar_mul(den, den, diff);
	}
	if (crypto_core_ristretto255_scalar_invert(inv, den) != 0)
		return SP_ECRYPTO;
	crypto_core_ristretto255_scalar_mul(out, num, inv);
	return SP_OK;
}

static int split_poly(uint8_t *a, uint32_t t, uint32_t n, uint8_t *shares, uint8_t *commits,
                      int zero_secret)
{
	uint32_t i;
	int rc;
	for (i = 1; i < t; i++)
		random_nonzero(a + 32 * i);
	for (i = 1; i <= n; i++)
		if ((rc = sp_toprf_poly_eval(a, t, i, shares + 32 * (i - 1))) != SP_OK)
			return rc;
	if (zero_secret) {
		memset(commits, 0, 32);
		return t > 1 ? sp_toprf_poly_commit(a + 32, t - 1, commits + 32) : SP_OK;
	}
	return sp_toprf_poly_commit(a, t, commits);
}

int sp_toprf_split(const uint8_t k[32], uint32_t t, uint32_t n, uint8_t *shares,
                   uint8_t *commits)
{
	uint8_t *a;
	int rc;
	if (!k || !shares || !commits || !tn_ok(t, n) || sodium_is_zero(k, 32))
		return SP_EINVAL;
	if (sodium_init() < 0 || !(a = sodium_malloc(32 * (size_t)t)))
		return SP_ENOMEM;
	memcpy(a, k, 32);
	rc = split_poly(a, t, n, shares, commits, 0);
	sodium_free(a);
	return rc;
}

int sp_toprf_dkg_deal(uint32_t t, uint32_t n, int zero_secret, uint8_t *commits,
                      uint8_t *subshares)
{
	uint8_t *a;
	int rc;
	if (!commits || !subshares || !tn_ok(t, n))
		return SP_EINVAL;
	if (sodium_init() < 0 || !(a = sodium_malloc(32 * (size_t)t)))
		return SP_ENOMEM;
	if (zero_secret)
		memset(a, 0, 32);
	else
		random_nonzero(a);
	rc = split_poly(a, t, n, subshares, commits, zero_secret);
	sodium_free(a);
	return rc;
}

int sp_toprf_dkg_check(const uint8_t *commits, uint32_t t, uint32_t index, int zero_secret,
                       const uint8_t subshare[32])
{
	return check_share(commits, t, index, zero_secret, subshare);
}

/* Every dealer deals; every instance checks every sub-share it receives
 * and sums them; the commitments are summed coefficient-wise. zero_secret
 * deals sharings of zero (re-sharing on rotation). */
static int dkg_round(uint32_t t, uint32_t n, int zero_secret, uint8_t *shares_sum,
                     struct pacc *commit_sum)
{
	uint8_t *sub = NULL, commits[SP_TOPRF_MAX_N * 32];
	uint32_t d, i, j;
	int rc = SP_ENOMEM;
	if (!(sub = sodium_malloc(32 * (size_t)n)))
		goto out;
	for (d = 0; d < n; d++) {
		if ((rc = sp_toprf_dkg_deal(t, n, zero_secret, commits, sub)) != SP_OK)
			goto out;
		for (i = 1; i <= n; i++) {
			/* in production each instance receives only its own sub-share */
			if ((rc = sp_toprf_dkg_check(commits, t, i, zero_secret, sub + 32 * (i - 1))) !=
			    SP_OK)
				goto out;
			crypto_core_ristretto255_scalar_add(shares_sum + 32 * (i - 1),
			                                    shares_sum + 32 * (i - 1), sub + 32 * (i - 1));
		}
		for (j = 0; j < t; j++)
			if ((rc = pacc_add(&commit_sum[j], commits + 32 * j)) != SP_OK)
				goto out;
	}
	rc = SP_OK;
out:
	sodium_free(sub);
	return rc;
}

int sp_toprf_dkg_local(uint32_t t, uint32_t n, uint8_t *shares, uint8_t *commits)
{
	struct pacc sum[SP_TOPRF_MAX_N];
	uint32_t j;
	int rc;
	if (!shares || !commits || !tn_ok(t, n))
		return SP_EINVAL;
	if (sodium_init() < 0)
		return SP_ECRYPTO;
	memset(shares, 0, 32 * (size_t)n);
	for (j = 0; j < t; j++)
		sum[j].id = 1;
	if ((rc = dkg_round(t, n, 0, shares, sum)) != SP_OK)
		goto fail;
	for (j = 0; j < t; j++) {
		if (sum[j].id) {
			rc = SP_ECRYPTO;
			goto fail;
		}
		pacc_out(&sum[j], commits + 32 * j);
	}
	for (j = 1; j <= n; j++)
		if ((rc = sp_toprf_verify_share(commits, t, j, shares + 32 * (j - 1))) != SP_OK)
			goto fail;
	return SP_OK;
fail:
	sodium_memzero(shares, 32 * (size_t)n);
	return rc;
}

int sp_toprf_verify_partial(const uint8_t *commits, uint32_t t, uint32_t index,
                            const uint8_t *blinded, const uint8_t *evaluated, size_t n,
                            const uint8_t proof[64])
{
	uint8_t pk[32];
	int rc = sp_toprf_public_share(commits, t, index, pk);
	if (rc != SP_OK)
		return rc;
	return sp_oprf_verify(SP_OPRF_MODE_VERIFIABLE, pk, blinded, evaluated, n, proof);
}

int sp_toprf_combine(const uint32_t *idx, size_t m, const uint8_t *const *evals,
                     const uint8_t *blinds, size_t n, uint8_t *out)
{
	uint8_t lambda[SP_TOPRF_MAX_N][32], inv[32], coef[32], term[32];
	struct pacc acc;
	size_t e, i;
	int rc = SP_ECRYPTO;
	if (!idx || !evals || !blinds || !out || m == 0 || m > SP_TOPRF_MAX_N || n == 0)
		return SP_EINVAL;
	for (i = 0; i < m; i++)
		if ((rc = sp_toprf_lagrange0(idx, m, i, lambda[i])) != SP_OK)
			return rc;
	for (e = 0; e < n; e++) {
		if (crypto_core_ristretto255_scalar_invert(inv, blinds + 32 * e) != 0)
			goto out;
		acc.id = 1;
		for (i = 0; i < m; i++) {
			const uint8_t *z = evals[i] + 32 * e;
			if (!sp_oprf_element_ok(z))
				goto out;
			crypto_core_ristretto255_scalar_mul(coef, lambda[i], inv);
			if (crypto_scalarmult_ristretto255(term, coef, z) != 0 ||
			    pacc_add(&acc, term) != SP_OK)
				goto out;
		}
		if (acc.id)
			goto out;
		pacc_out(&acc, out + 32 * e);
	}
	rc = SP_OK;
out:
	sodium_memzero(inv, sizeof inv);
	sodium_memzero(coef, sizeof coef);
	if (rc != SP_OK)
		sodium_memzero(out, 32 * n);
	return rc;
}

int sp_toprf_rotate_local(uint32_t t, uint32_t n, uint8_t *shares, uint8_t *commits,
                          uint8_t delta_out[32])
{
	struct pacc sum[SP_TOPRF_MAX_N];
	uint8_t *zsum = NULL, delta[32], part[32];
	uint32_t i, j;
	int rc = SP_ENOMEM;
	if (!shares || !commits || !delta_out || !tn_ok(t, n))
		return SP_EINVAL;
	if (sodium_init() < 0 || !(zsum = sodium_malloc(32 * (size_t)n)))
		return SP_ENOMEM;
	/* δ = Π δ_d: random as long as one instance is honest */
	sp_toprf_scalar_u32(delta, 1);
	for (i = 0; i < n; i++) {
		random_nonzero(part);
		crypto_core_ristretto255_scalar_mul(delta, delta, part);
	}
	/* new commitments start as δ·C_j, then the zero-sharings are added */
	for (j = 0; j < t; j++) {
		memcpy(sum[j].p, commits + 32 * j, 32);
		sum[j].id = sodium_is_zero(sum[j].p, 32);
		if ((rc = pacc_mul(&sum[j], delta)) != SP_OK)
			goto out;
	}
	memset(zsum, 0, 32 * (size_t)n);
	if ((rc = dkg_round(t, n, 1, zsum, sum)) != SP_OK)
		goto out;
	for (j = 0; j < t; j++) {
		if (sum[j].id) {
			rc = SP_ECRYPTO;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		crypto_core_ristretto255_scalar_mul(shares + 32 * i, shares + 32 * i, delta);
		crypto_core_ristretto255_scalar_add(shares + 32 * i, shares + 32 * i, zsum + 32 * i);
	}
	for (j = 0; j < t; j++)
		pacc_out(&sum[j], commits + 32 * j);
	for (i = 1; i <= n; i++)
		if ((rc = sp_toprf_verify_share(commits, t, i, shares + 32 * (i - 1))) != SP_OK)
			goto out;
	memcpy(delta_out, delta, 32);
	rc = SP_OK;
out:
	sodium_memzero(delta, sizeof delta);
	sodium_memzero(part, sizeof part);
	sodium_free(zsum);
	return rc;
}

int sp_toprf_translate(const uint8_t delta[32], const uint8_t p[32], uint8_t out[32])
{
	if (!delta || !p || !out)
		return SP_EINVAL;
	if (!sp_oprf_element_ok(p) || sodium_is_zero(delta, 32))
		return SP_ECRYPTO;
	return crypto_scalarmult_ristretto255(out, delta, p) == 0 ? SP_OK : SP_ECRYPTO;
}

int sp_toprf_dleq_prove(const uint8_t delta[32], const uint8_t *a, const uint8_t *b, size_t n,
                        uint8_t d_out[32], uint8_t proof[64])
{
	uint8_t d[32];
	int rc;
	if (!delta || !a || !b || !proof || n == 0)
		return SP_EINVAL;
	if (sodium_is_zero(delta, 32) || crypto_scalarmult_ristretto255_base(d, delta) != 0)
		return SP_ECRYPTO;
	rc = sp_oprf_prove(SP_OPRF_MODE_VERIFIABLE, delta, d, a, b, n, NULL, proof);
	if (rc == SP_OK && d_out)
		memcpy(d_out, d, 32);
	return rc;
}

int sp_toprf_dleq_verify(const uint8_t d[32], const uint8_t *a, const uint8_t *b, size_t n,
                         const uint8_t proof[64])
{
	if (!d || !a || !b || !proof || n == 0)
		return SP_EINVAL;
	return sp_oprf_verify(SP_OPRF_MODE_VERIFIABLE, d, a, b, n, proof);
}

int sp_toprf_point_add(uint8_t out[32], const uint8_t a[32], const uint8_t b[32])
{
	struct pacc acc = { .id = 1 };
	int rc;
	if (!out || !a || !b)
		return SP_EINVAL;
	if ((!sodium_is_zero(a, 32) && !sp_oprf_element_ok(a)) || (!sodium_is_zero(b, 32) && !sp_oprf_element_ok(b)))
		return SP_ECRYPTO;
	if ((rc = pacc_add(&acc, a)) != SP_OK || (rc = pacc_add(&acc, b)) != SP_OK)
		return rc;
	pacc_out(&acc, out);
	return SP_OK;
}

int sp_toprf_point_mul(uint8_t out[32], const uint8_t s[32], const uint8_t p[32])
{
	struct pacc acc;
	int rc;
	if (!out || !s || !p)
		return SP_EINVAL;
	if (!sodium_is_zero(p, 32) && !sp_oprf_element_ok(p))
		return SP_ECRYPTO;
	memcpy(acc.p, p, 32);
	acc.id = sodium_is_zero(p, 32);
	if ((rc = pacc_mul(&acc, s)) != SP_OK)
		return rc;
	pacc_out(&acc, out);
	return SP_OK;
}

/* Integer Lagrange coefficients at 0 over a common denominator:
 * λ_i = c_i / g. 0 when they do not fit in 62 bits. */
static int lagrange_ints(const uint32_t *idx, size_t m, int64_t *c, int64_t *g_out)
{
	int64_t num[SP_TOPRF_MAX_N], den[SP_TOPRF_MAX_N], g = 1;
	const int64_t lim = (int64_t)1 << 62;
	for (size_t i = 0; i < m; i++) {
		num[i] = 1;
		den[i] = 1;
		for (size_t j = 0; j < m; j++) {
			if (j == i)
				continue;
			if (__builtin_mul_overflow(num[i], (int64_t)idx[j], &num[i]) ||
			    __builtin_mul_overflow(den[i], (int64_t)idx[j] - (int64_t)idx[i], &den[i]))
				return 0;
		}
		if (den[i] == 0 || num[i] >= lim || den[i] >= lim || den[i] <= -lim)
			return 0;
	}
	for (size_t i = 0; i < m; i++) { /* g = lcm |den_i| */
		int64_t a = g, b = den[i] < 0 ? -den[i] : den[i], r;
		while (b) {
			r = a % b;
			a = b;
			b = r;
		}
		if (__builtin_mul_overflow(g / a, den[i] < 0 ? -den[i] : den[i], &g) || g >= lim)
			return 0;
	}
	for (size_t i = 0; i < m; i++)
		if (__builtin_mul_overflow(num[i], g / den[i], &c[i]) || c[i] >= lim || c[i] <= -lim)
			return 0;
	*g_out = g;
	return 1;
}

struct comb_job {
	size_t m;
	const int64_t *c;
	const uint8_t *const *evals;
	const uint8_t *s;  /* (g·r_e)⁻¹ */
	uint8_t *out;
	int failed;
};

static void comb_one(void *ctx, size_t e)
{
	struct comb_job *j = ctx;
	sp_r255_pt y, z, term;
	uint8_t yb[32];
	for (size_t i = 0; i < j->m; i++) {
		const uint8_t *ze = j->evals[i] + 32 * e;
		/* every partial must be a valid non-identity element */
		if (sodium_is_zero(ze, 32) || sp_r255_decode(&z, ze) != SP_OK) {
			__atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
			return;
		}
		sp_r255_mul_small(&term, &z, j->c[i]);
		if (i == 0)
			y = term;
		else
			sp_r255_add(&y, &y, &term);
	}
	sp_r255_encode(yb, &y);
	/* Y = k·B_e is public (any t answers on the wire give it); the secret
	 * r_e⁻¹ only enters the constant-time multiplication, which fails on
	 * the identity */
	if (sodium_is_zero(yb, 32) ||
	    crypto_scalarmult_ristretto255(j->out + 32 * e, j->s + 32 * e, yb) != 0)
		__atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
}

int sp_toprf_combine_batch(const uint32_t *idx, size_t m, const uint8_t *const *evals,
                           const uint8_t *blinds, size_t n, uint8_t *out, sp_workers *w)
{
	int64_t c[SP_TOPRF_MAX_N], g;
	uint8_t gs[32] = { 0 }, ginv[32], *s = NULL;
	struct comb_job j;
	int rc;
	if (!idx || !evals || !blinds || !out || m == 0 || m > SP_TOPRF_MAX_N || n == 0)
		return SP_EINVAL;
	for (size_t i = 0; i < m; i++) {
		if (idx[i] == 0)
			return SP_EINVAL;
		for (size_t k = i + 1; k < m; k++)
			if (idx[i] == idx[k])
				return SP_EINVAL;
	}
	if (sodium_init() < 0)
		return SP_ECRYPTO;
	if (!lagrange_ints(idx, m, c, &g))
		return sp_toprf_combine(idx, m, evals, blinds, n, out);
	for (int b = 0; b < 8; b++)
		gs[b] = (uint8_t)((uint64_t)g >> (8 * b));
	if (crypto_core_ristretto255_scalar_invert(ginv, gs) != 0)
		return SP_ECRYPTO;
	uint8_t small[32 * 16];
	if (n <= 16)
		s = small; /* a submit's one element: no sodium_malloc system calls */
	else if (!(s = sodium_malloc(32 * n)))
		return SP_ENOMEM;
	if ((rc = sp_oprf_invert_batch(blinds, n, s)) == SP_OK) {
		for (size_t e = 0; e < n; e++)
			crypto_core_ristretto255_scalar_mul(s + 32 * e, s + 32 * e, ginv);
		j = (struct comb_job){ m, c, evals, s, out, 0 };
		if (w && n > 1)
			sp_workers_run(w, comb_one, &j, n);
		else
			for (size_t e = 0; e < n; e++)
				comb_one(&j, e);
		rc = j.failed ? SP_ECRYPTO : SP_OK;
	}
	if (s == small)
		sodium_memzero(small, sizeof small);
	else
		sodium_free(s);
	sodium_memzero(ginv, sizeof ginv);
	if (rc != SP_OK)
		sodium_memzero(out, 32 * n);
	return rc;
}
