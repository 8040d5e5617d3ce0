/*
 * sp_r255.c — ristretto255 over PUBLIC data, variable time (sp_r255.h).
 *
 * Field elements mod p = 2^255 - 19 in five 51-bit limbs, products in
 * unsigned __int128. Every add and sub carries, so limbs stay below 2^52
 * and the products below 2^116: no bound needs tracking across calls.
 * Points: extended coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z, on
 * -x^2 + y^2 = 1 + d·x^2·y^2. The addition and doubling formulas are
 * Hisil–Wong–Carter–Dawson's for a = -1, complete on this curve (d is not
 * a square), so the identity and equal inputs need no special case.
 * Encoding and decoding: RFC 9496 §4.3.
 */
#include "sp_r255.h"

#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;
typedef sp_r255_fe fe;
#define MASK51 ((1ULL << 51) - 1)

static const fe FE_D = { { 0x34dca135978a3ULL, 0x1a8283b156ebdULL, 0x5e7a26001c029ULL, 0x739c663a03cbbULL,
	                   0x52036cee2b6ffULL } };
static const fe FE_D2 = { { 0x69b9426b2f159ULL, 0x35050762add7aULL, 0x3cf44c0038052ULL, 0x6738cc7407977ULL,
	                    0x2406d9dc56dffULL } };
static const fe FE_SQRT_M1 = { { 0x61b274a0ea0b0ULL, 0xd5a5fc8f189dULL, 0x7ef5e9cbd0c60ULL, 0x78595a6804c9eULL,
	                         0x2b8324804fc1dULL } };
static const fe FE_INVSQRT_A_MINUS_D = { { 0xfdaa805d40eaULL, 0x2eb482e57d339ULL, 0x7610274bc58ULL,
	                                   0x6510b613dc8ffULL, 0x786c8905cfaffULL } };
static const fe FE_ONE = { { 1, 0, 0, 0, 0 } };
static const fe FE_ZERO = { { 0, 0, 0, 0, 0 } };

static void fe_carry(fe *h)
{
	uint64_t c;
	c = h->v[0] >> 51; h->v[0] &= MASK51; h->v[1] += c;
	c = h->v[1] >> 51; h->v[1] &= MASK51; h->v[2] += c;
	c = h->v[2] >> 51; h->v[2] &= MASK51; h->v[3] += c;
	c = h->v[3] >> 51; h->v[3] &= MASK51; h->v[4] += c;
	c = h->v[4] >> 51; h->v[4] &= MASK51; h->v[0] += 19 * c;
	c = h->v[0] >> 51; h->v[0] &= MASK51; h->v[1] += c;
}

static void fe_add(fe *h, const fe *f, const fe *g)
{
	for (int i = 0; i < 5; i++)
		h->v[i] = f->v[i] + g->v[i];
	fe_carry(h);
}

/* f - g + 4p: limbs of g are below 2^52 < those of 4p */
static void fe_sub(fe *h, const fe *f, const fe *g)
{
	h->v[0] = f->v[0] + 0x1fffffffffffb4ULL - g->v[0];
	for (int i = 1; i < 5; i++)
		h->v[i] = f->v[i] + 0x1ffffffffffffcULL - g->v[i];
	fe_carry(h);
}

static void fe_neg(fe *h, const fe *f)
{
	fe_sub(h, &FE_ZERO, f);
}

static void fe_reduce_wide(fe *h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
	uint64_t c;
	r1 += (uint64_t)(r0 >> 51);
	r2 += (uint64_t)(r1 >> 51);
	r3 += (uint64_t)(r2 >> 51);
	r4 += (uint64_t)(r3 >> 51);
	c = (uint64_t)(r4 >> 51);
	h->v[0] = ((uint64_t)r0 & MASK51) + 19 * c;
	h->v[1] = (uint64_t)r1 & MASK51;
	h->v[2] = (uint64_t)r2 & MASK51;
	h->v[3] = (uint64_t)r3 & MASK51;
	h->v[4] = (uint64_t)r4 & MASK51;
	c = h->v[0] >> 51;
	h->v[0] &= MASK51;
	h->v[1] += c;
}

static void fe_mul(fe *h, const fe *f, const fe *g)
{
	const uint64_t *a = f->v, *b = g->v;
	uint64_t b1 = 19 * b[1], b2 = 19 * b[2], b3 = 19 * b[3], b4 = 19 * b[4];
	u128 r0 = (u128)a[0] * b[0] + (u128)a[1] * b4 + (u128)a[2] * b3 + (u128)a[3] * b2 + (u128)a[4] * b1;
	u128 r1 = (u128)a[0] * b[1] + (u128)a[1] * b[0] + (u128)a[2] * b4 + (u128)a[3] * b3 + (u128)a[4] * b2;
	u128 r2 = (u128)a[0] * b[2] + (u128)a[1] * b[1] + (u128)a[2] * b[0] + (u128)a[3] * b4 + (u128)a[4] * b3;
	u128 r3 = (u128)a[0] * b[3] + (u128)a[1] * b[2] + (u128)a[2] * b[1] + (u128)a[3] * b[0] + (u128)a[4] * b4;
	u128 r4 = (u128)a[0] * b[4] + (u128)a[1] * b[3] + (u128)a[2] * b[2] + (u128)a[3] * b[1] + (u128)a[4] * b[0];
	fe_reduce_wide(h, r0, r1, r2, r3, r4);
}

static void fe_sq(fe *h, const fe *f)
{
	const uint64_t *a = f->v;
	uint64_t d0 = 2 * a[0], d1 = 2 * a[1], a3_19 = 19 * a[3], a4_19 = 19 * a[4];
	u128 r0 = (u128)a[0] * a[0] + (u128)d1 * a4_19 + (u128)(2 * a[2]) * a3_19;
	u128 r1 = (u128)d0 * a[1] + (u128)a[3] * a3_19 + (u128)(2 * a[2]) * a4_19;
	u128 r2 = (u128)d0 * a[2] + (u128)a[1] * a[1] + (u128)(2 * a[3]) * a4_19;
	u128 r3 = (u128)d0 * a[3] + (u128)d1 * a[2] + (u128)a[4] * a4_19;
	u128 r4 = (u128)d0 * a[4] + (u128)d1 * a[3] + (u128)a[2] * a[2];
	fe_reduce_wide(h, r0, r1, r2, r3, r4);
}

static void fe_sqn(fe *h, const fe *f, int n)
{
	fe_sq(h, f);
	while (--n > 0)
		fe_sq(h, h);
}

static void fe_frombytes(fe *h, const uint8_t s[32])
{
	uint64_t w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = 0;
		for (int j = 7; j >= 0; j--)
			w[i] = w[i] << 8 | s[8 * i + j];
	}
	h->v[0] = w[0] & MASK51;
	h->v[1] = (w[0] >> 51 | w[1] << 13) & MASK51;
	h->v[2] = (w[1] >> 38 | w[2] << 26) & MASK51;
	h->v[3] = (w[2] >> 25 | w[3] << 39) & MASK51;
	h->v[4] = (w[3] >> 12) & MASK51; /* bit 255 dropped */
}

static void fe_tobytes(uint8_t s[32], const fe *f)
{
	fe h = *f;
	uint64_t q, w[4];
	fe_carry(&h);
	/* h < 2^255 + small: subtract p once when h >= p */
	q = (h.v[0] + 19) >> 51;
	q = (h.v[1] + q) >> 51;
	q = (h.v[2] + q) >> 51;
	q = (h.v[3] + q) >> 51;
	q = (h.v[4] + q) >> 51;
	h.v[0] += 19 * q;
	h.v[1] += h.v[0] >> 51; h.v[0] &= MASK51;
	h.v[2] += h.v[1] >> 51; h.v[1] &= MASK51;
	h.v[3] += h.v[2] >> 51; h.v[2] &= MASK51;
	h.v[4] += h.v[3] >> 51; h.v[3] &= MASK51;
	h.v[4] &= MASK51; /* drop 2^255 */
	w[0] = h.v[0] | h.v[1] << 51;
	w[1] = h.v[1] >> 13 | h.v[2] << 38;
	w[2] = h.v[2] >> 26 | h.v[3] << 25;
	w[3] = h.v[3] >> 39 | h.v[4] << 12;
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 8; j++)
			s[8 * i + j] = (uint8_t)(w[i] >> (8 * j));
}

static int fe_isneg(const fe *f)
{
	uint8_t s[32];
	fe_tobytes(s, f);
	return s[0] & 1;
}

static int fe_iszero(const fe *f)
{
	uint8_t s[32], z = 0;
	fe_tobytes(s, f);
	for (int i = 0; i < 32; i++)
		z |= s[i];
	return z == 0;
}

static int fe_eq(const fe *f, const fe *g)
{
	fe d;
	fe_sub(&d, f, g);
	return fe_iszero(&d);
}

static void fe_abs(fe *h, const fe *f)
{
	if (fe_isneg(f))
		fe_neg(h, f);
	else
		*h = *f;
}

/* z^((p-5)/8) = z^(2^252 - 3) */
static void fe_pow22523(fe *out, const fe *z)
{
	fe z2, z9, z11, t, z5, z10, z20, z50, z100;
	fe_sq(&z2, z);
	fe_sqn(&t, &z2, 2);
	fe_mul(&z9, &t, z);
	fe_mul(&z11, &z9, &z2);
	fe_sq(&t, &z11);
	fe_mul(&z5, &t, &z9);       /* 2^5 - 1 */
	fe_sqn(&t, &z5, 5);
	fe_mul(&z10, &t, &z5);      /* 2^10 - 1 */
	fe_sqn(&t, &z10, 10);
	fe_mul(&z20, &t, &z10);     /* 2^20 - 1 */
	fe_sqn(&t, &z20, 20);
	fe_mul(&t, &t, &z20);       /* 2^40 - 1 */
	fe_sqn(&t, &t, 10);
	fe_mul(&z50, &t, &z10);     /* 2^50 - 1 */
	fe_sqn(&t, &z50, 50);
	fe_mul(&z100, &t, &z50);    /* 2^100 - 1 */
	fe_sqn(&t, &z100, 100);
	fe_mul(&t, &t, &z100);      /* 2^200 - 1 */
	fe_sqn(&t, &t, 50);
	fe_mul(&t, &t, &z50);       /* 2^250 - 1 */
	fe_sqn(&t, &t, 2);
	fe_mul(out, &t, z);         /* 2^252 - 3 */
}

/* RFC 9496 §4.2 SQRT_RATIO_M1: 1 when u/v is square, r = |sqrt(u/v)|
 * (or |sqrt(i·u/v)| when it is not). */
static int sqrt_ratio_m1(fe *r, const fe *u, const fe *v)
{
	fe v3, v7, t, check, nu, nui, rp;
	int correct, flipped, flipped_i;
	fe_sq(&t, v);
	fe_mul(&v3, &t, v);
	fe_sq(&t, &v3);
	fe_mul(&v7, &t, v);
	fe_mul(&t, u, &v7);
	fe_pow22523(&t, &t);
	fe_mul(&t, &t, &v3);
	fe_mul(r, &t, u); /* (u·v^3)·(u·v^7)^((p-5)/8) */
	fe_sq(&t, r);
	fe_mul(&check, v, &t);
	fe_neg(&nu, u);
	fe_mul(&nui, &nu, &FE_SQRT_M1);
	correct = fe_eq(&check, u);
	flipped = fe_eq(&check, &nu);
	flipped_i = fe_eq(&check, &nui);
	if (flipped || flipped_i) {
		fe_mul(&rp, r, &FE_SQRT_M1);
		*r = rp;
	}
	fe_abs(r, r);
	return correct || flipped;
}

int sp_r255_decode(sp_r255_pt *p, const uint8_t in[32])
{
	fe s, ss, u1, u2, u2s, v, t, inv, denx, deny, x, y;
	uint8_t chk[32];
	fe_frombytes(&s, in);
	fe_tobytes(chk, &s);
	if (memcmp(chk, in, 32) != 0 || (in[0] & 1))
		return SP_ECRYPTO; /* not canonical, or negative */
	fe_sq(&ss, &s);
	fe_sub(&u1, &FE_ONE, &ss);
	fe_add(&u2, &FE_ONE, &ss);
	fe_sq(&u2s, &u2);
	fe_sq(&t, &u1);
	fe_mul(&t, &t, &FE_D);
	fe_add(&t, &t, &u2s);
	fe_neg(&v, &t); /* -(D·u1^2) - u2^2 */
	fe_mul(&t, &v, &u2s);
	int was_square = sqrt_ratio_m1(&inv, &FE_ONE, &t);
	fe_mul(&denx, &inv, &u2);
	fe_mul(&t, &inv, &denx);
	fe_mul(&deny, &t, &v);
	fe_add(&t, &s, &s);
	fe_mul(&t, &t, &denx);
	fe_abs(&x, &t);
	fe_mul(&y, &u1, &deny);
	fe_mul(&t, &x, &y);
	if (!was_square || fe_isneg(&t) || fe_iszero(&y))
		return SP_ECRYPTO;
	p->x = x;
	p->y = y;
	p->z = FE_ONE;
	p->t = t;
	return SP_OK;
}

void sp_r255_encode(uint8_t out[32], const sp_r255_pt *p)
{
	fe u1, u2, t, inv, den1, den2, zinv, ix, iy, enchanted, x, y, deninv, s;
	fe_add(&t, &p->z, &p->y);
	fe_sub(&u1, &p->z, &p->y);
	fe_mul(&u1, &u1, &t);
	fe_mul(&u2, &p->x, &p->y);
	fe_sq(&t, &u2);
	fe_mul(&t, &t, &u1);
	(void)sqrt_ratio_m1(&inv, &FE_ONE, &t);
	fe_mul(&den1, &inv, &u1);
	fe_mul(&den2, &inv, &u2);
	fe_mul(&t, &den1, &den2);
	fe_mul(&zinv, &t, &p->t);
	fe_mul(&ix, &p->x, &FE_SQRT_M1);
	fe_mul(&iy, &p->y, &FE_SQRT_M1);
	fe_mul(&enchanted, &den1, &FE_INVSQRT_A_MINUS_D);
	fe_mul(&t, &p->t, &zinv);
	if (fe_isneg(&t)) {
		x = iy;
		y = ix;
		deninv = enchanted;
	} else {
		x = p->x;
		y = p->y;
		deninv = den2;
	}
	fe_mul(&t, &x, &zinv);
	if (fe_isneg(&t))
		fe_neg(&y, &y);
	fe_sub(&t, &p->z, &y);
	fe_mul(&t, &deninv, &t);
	fe_abs(&s, &t);
	fe_tobytes(out, &s);
}

void sp_r255_identity(sp_r255_pt *p)
{
	p->x = FE_ZERO;
	p->y = FE_ONE;
	p->z = FE_ONE;
	p->t = FE_ZERO;
}

/* add-2008-hwcd-3 (a = -1) */
void sp_r255_add(sp_r255_pt *r, const sp_r255_pt *p, const sp_r255_pt *q)
{
	fe a, b, c, d, e, f, g, h, t;
	fe_sub(&a, &p->y, &p->x);
	fe_sub(&t, &q->y, &q->x);
	fe_mul(&a, &a, &t);
	fe_add(&b, &p->y, &p->x);
	fe_add(&t, &q->y, &q->x);
	fe_mul(&b, &b, &t);
	fe_mul(&c, &p->t, &q->t);
	fe_mul(&c, &c, &FE_D2);
	fe_mul(&d, &p->z, &q->z);
	fe_add(&d, &d, &d);
	fe_sub(&e, &b, &a);
	fe_sub(&f, &d, &c);
	fe_add(&g, &d, &c);
	fe_add(&h, &b, &a);
	fe_mul(&r->x, &e, &f);
	fe_mul(&r->y, &g, &h);
	fe_mul(&r->t, &e, &h);
	fe_mul(&r->z, &f, &g);
}

void sp_r255_sub(sp_r255_pt *r, const sp_r255_pt *p, const sp_r255_pt *q)
{
	sp_r255_pt nq = *q;
	fe_neg(&nq.x, &q->x);
	fe_neg(&nq.t, &q->t);
	sp_r255_add(r, p, &nq);
}

/* dbl-2008-hwcd (a = -1) */
void sp_r255_dbl(sp_r255_pt *r, const sp_r255_pt *p)
{
	fe a, b, c, e, g, f, h, t;
	fe_sq(&a, &p->x);
	fe_sq(&b, &p->y);
	fe_sq(&c, &p->z);
	fe_add(&c, &c, &c);
	fe_add(&t, &p->x, &p->y);
	fe_sq(&t, &t);
	fe_sub(&e, &t, &a);
	fe_sub(&e, &e, &b);   /* 2xy */
	fe_sub(&g, &b, &a);   /* a·A + B */
	fe_sub(&f, &g, &c);
	fe_add(&h, &a, &b);
	fe_neg(&h, &h);       /* a·A - B */
	fe_mul(&r->x, &e, &f);
	fe_mul(&r->y, &g, &h);
	fe_mul(&r->t, &e, &h);
	fe_mul(&r->z, &f, &g);
}

void sp_r255_mul_small(sp_r255_pt *out, const sp_r255_pt *p, int64_t k)
{
	sp_r255_pt acc, base = *p;
	uint64_t m = k < 0 ? (uint64_t)(-k) : (uint64_t)k;
	int any = 0;
	sp_r255_identity(&acc);
	for (int bit = 63; bit >= 0; bit--) {
		if (any)
			sp_r255_dbl(&acc, &acc);
		if (m >> bit & 1) {
			if (any)
				sp_r255_add(&acc, &acc, &base);
			else
				acc = base;
			any = 1;
		}
	}
	if (k < 0) {
		fe_neg(&acc.x, &acc.x);
		fe_neg(&acc.t, &acc.t);
	}
	*out = acc;
}

/* Bits [off, off + c) of a 32-byte little-endian scalar, c <= 16. */
static unsigned digit(const uint8_t *s, unsigned off, unsigned c)
{
	unsigned byte = off / 8, sh = off % 8;
	uint32_t w = 0;
	for (unsigned i = 0; i < 4 && byte + i < 32; i++)
		w |= (uint32_t)s[byte + i] << (8 * i);
	return (w >> sh) & ((1u << c) - 1);
}

#define SCALAR_BITS 253

/* Few terms: Straus with 4-bit windows, a table of 0..15 multiples per
 * point and the 252 doublings shared (one term costs about what one
 * libsodium scalar multiplication does; Pippenger's buckets would cost
 * several times more). */
#define STRAUS_MAX 16

static int straus(sp_r255_pt *out, const uint8_t *scalars, const sp_r255_pt *pts, size_t n)
{
	sp_r255_pt *tab = malloc(sizeof *tab * 16 * n), acc;
	int any = 0;
	if (!tab)
		return SP_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		sp_r255_pt *t = tab + 16 * i;
		t[1] = pts[i];
		sp_r255_dbl(&t[2], &pts[i]);
		for (int k = 3; k < 16; k++)
			sp_r255_add(&t[k], &t[k - 1], &pts[i]);
	}
	sp_r255_identity(&acc);
	for (unsigned w = (SCALAR_BITS + 3) / 4; w-- > 0;) {
		if (any)
			for (int k = 0; k < 4; k++)
				sp_r255_dbl(&acc, &acc);
		for (size_t i = 0; i < n; i++) {
			unsigned d = digit(scalars + 32 * i, 4 * w, 4);
			if (!d)
				continue;
			if (any)
				sp_r255_add(&acc, &acc, &tab[16 * i + d]);
			else
				acc = tab[16 * i + d];
			any = 1;
		}
	}
	*out = acc;
	free(tab);
	return SP_OK;
}

/* Pippenger: windows of c bits from the top; in each, every point goes to
 * the bucket of its digit, then Σ j·bucket_j by a running sum. */
int sp_r255_msm(sp_r255_pt *out, const uint8_t *scalars, const sp_r255_pt *pts, size_t n)
{
	unsigned c = 1, windows;
	double best = 0;
	sp_r255_pt *bucket = NULL, acc, run, sum;
	unsigned char *used = NULL;
	int any_acc = 0;

	sp_r255_identity(out);
	if (n == 0)
		return SP_OK;
	if (n <= STRAUS_MAX)
		return straus(out, scalars, pts, n);
	/* cost ≈ windows·(n + 2^(c+1)) additions + 253 doublings */
	for (unsigned k = 1; k <= 12; k++) {
		double cost = (double)((SCALAR_BITS + k - 1) / k) * ((double)n + (double)(2u << k));
		if (k == 1 || cost < best) {
			best = cost;
			c = k;
		}
	}
	windows = (SCALAR_BITS + c - 1) / c;
	bucket = malloc(sizeof *bucket << c);
	used = malloc((size_t)1 << c);
	if (!bucket || !used) {
		free(bucket);
		free(used);
		return SP_ENOMEM;
	}
	sp_r255_identity(&acc);
	for (unsigned w = windows; w-- > 0;) {
		int any_run = 0, any_sum = 0;
		if (any_acc)
			for (unsigned k = 0; k < c; k++)
				sp_r255_dbl(&acc, &acc);
		memset(used, 0, (size_t)1 << c);
		for (size_t i = 0; i < n; i++) {
			unsigned d = digit(scalars + 32 * i, w * c, c);
			if (!d)
				continue;
			if (used[d]) {
				sp_r255_add(&bucket[d], &bucket[d], &pts[i]);
			} else {
				bucket[d] = pts[i];
				used[d] = 1;
			}
		}
		for (unsigned j = (1u << c) - 1; j >= 1; j--) {
			if (used[j]) {
				if (any_run)
					sp_r255_add(&run, &run, &bucket[j]);
				else
					run = bucket[j];
				any_run = 1;
			}
			if (any_run) {
				if (any_sum)
					sp_r255_add(&sum, &sum, &run);
				else
					sum = run;
				any_sum = 1;
			}
		}
		if (any_sum) {
			if (any_acc)
				sp_r255_add(&acc, &acc, &sum);
			else
				acc = sum;
			any_acc = 1;
		}
	}
	*out = acc;
	free(bucket);
	free(used);
	return SP_OK;
}
