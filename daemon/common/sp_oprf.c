/*
 * sp_oprf.c — RFC 9497 OPRF/VOPRF over ristretto255 with SHA-512, built on
 * libsodium's crypto_core_ristretto255_* and crypto_scalarmult_ristretto255.
 *
 * libsodium 1.0.18 has no hash-to-group with a domain separation tag, so
 * expand_message_xmd (RFC 9380 §5.3.1) is written here over
 * crypto_hash_sha512, and its 64 bytes go to crypto_core_ristretto255_
 * from_hash (the RFC 9496 one-way map that RFC 9497 names).
 *
 * Transcripts are fed to SHA-512 in pieces (struct part) rather than
 * concatenated, so a batch of thousands of elements needs no big buffer.
 *
 * The identity element: crypto_scalarmult_ristretto255 fails when its
 * result is the identity, and every element from outside passes
 * sp_oprf_element_ok, which refuses it. Composite sums start from their
 * first term, never from the identity.
 */
#include "sp_oprf.h"

#include <sodium.h>
#include "sp_r255.h"
#include <stdlib.h>
#include <string.h>

#define SHA512_BYTES 64
#define SHA512_BLOCK 128
#define SUITE "ristretto255-SHA512"
#define CTX_MAX 64

struct part {
	const uint8_t *p;
	size_t n;
};

/* contextString = "OPRFV1-" ‖ I2OSP(mode, 1) ‖ "-" ‖ identifier */
static size_t context_string(int mode, const char *prefix, uint8_t *out, size_t outlen)
{
	size_t pl = strlen(prefix), sl = strlen(SUITE), n = 0;
	if (pl + 7 + 1 + 1 + sl > outlen)
		return 0;
	memcpy(out, prefix, pl);
	n = pl;
	memcpy(out + n, "OPRFV1-", 7);
	n += 7;
	out[n++] = (uint8_t)mode;
	out[n++] = '-';
	memcpy(out + n, SUITE, sl);
	return n + sl;
}

static int mode_ok(int mode)
{
	return mode == SP_OPRF_MODE_BASE || mode == SP_OPRF_MODE_VERIFIABLE;
}

static void i2osp2(uint8_t out[2], size_t v)
{
	out[0] = (uint8_t)(v >> 8);
	out[1] = (uint8_t)v;
}

static int xmd_parts(uint8_t *out, size_t outlen, const struct part *msg, size_t nparts,
                     const uint8_t *dst, size_t dstlen)
{
	crypto_hash_sha512_state st;
	uint8_t b0[SHA512_BYTES], bi[SHA512_BYTES], x[SHA512_BYTES];
	uint8_t zpad[SHA512_BLOCK] = { 0 }, lib[2], one, dlen;
	size_t ell, i, j, done = 0;

	if (!out || outlen == 0 || outlen > 65535 || !dst || dstlen == 0 || dstlen > 255)
		return SP_EINVAL;
	ell = (outlen + SHA512_BYTES - 1) / SHA512_BYTES;
	if (ell > 255)
		return SP_EINVAL;
	dlen = (uint8_t)dstlen;
	i2osp2(lib, outlen);

	/* b_0 = H(Z_pad ‖ msg ‖ I2OSP(len, 2) ‖ I2OSP(0, 1) ‖ DST_prime) */
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, zpad, sizeof zpad);
	for (i = 0; i < nparts; i++)
		if (msg[i].n)
			crypto_hash_sha512_update(&st, msg[i].p, msg[i].n);
	crypto_hash_sha512_update(&st, lib, 2);
	one = 0;
	crypto_hash_sha512_update(&st, &one, 1);
	crypto_hash_sha512_update(&st, dst, dstlen);
	crypto_hash_sha512_update(&st, &dlen, 1);
	crypto_hash_sha512_final(&st, b0);

	/* b_i = H((b_0 xor b_{i-1}) ‖ I2OSP(i, 1) ‖ DST_prime), b_1 with b_0 alone */
	for (i = 1; i <= ell; i++) {
		if (i == 1) {
			memcpy(x, b0, sizeof x);
		} else {
			for (j = 0; j < SHA512_BYTES; j++)
				x[j] = b0[j] ^ bi[j];
		}
		one = (uint8_t)i;
		crypto_hash_sha512_init(&st);
		crypto_hash_sha512_update(&st, x, sizeof x);
		crypto_hash_sha512_update(&st, &one, 1);
		crypto_hash_sha512_update(&st, dst, dstlen);
		crypto_hash_sha512_update(&st, &dlen, 1);
		crypto_hash_sha512_final(&st, bi);
		j = outlen - done < SHA512_BYTES ? outlen - done : SHA512_BYTES;
		memcpy(out + done, bi, j);
		done += j;
	}
	sodium_memzero(b0, sizeof b0);
	sodium_memzero(bi, sizeof bi);
	sodium_memzero(x, sizeof x);
	sodium_memzero(&st, sizeof st);
	return SP_OK;
}

int sp_oprf_expand_xmd(uint8_t *out, size_t outlen, const uint8_t *msg, size_t msglen,
                       const uint8_t *dst, size_t dstlen)
{
	struct part p = { msg, msglen };
	if (!msg && msglen)
		return SP_EINVAL;
	return xmd_parts(out, outlen, &p, 1, dst, dstlen);
}

static int h2s_parts(int mode, const char *prefix, const struct part *msg, size_t n,
                     uint8_t out[SP_OPRF_SCALARBYTES])
{
	uint8_t dst[CTX_MAX], wide[64];
	size_t dl = context_string(mode, prefix, dst, sizeof dst);
	int rc;
	if (!dl)
		return SP_EINVAL;
	rc = xmd_parts(wide, sizeof wide, msg, n, dst, dl);
	if (rc == SP_OK)
		crypto_core_ristretto255_scalar_reduce(out, wide); /* little-endian mod L */
	sodium_memzero(wide, sizeof wide);
	return rc;
}

int sp_oprf_hash_to_scalar(int mode, const uint8_t *in, size_t inlen,
                           uint8_t out[SP_OPRF_SCALARBYTES])
{
	struct part p = { in, inlen };
	if (!mode_ok(mode) || (!in && inlen) || !out)
		return SP_EINVAL;
	return h2s_parts(mode, "HashToScalar-", &p, 1, out);
}

int sp_oprf_hash_to_group(int mode, const uint8_t *in, size_t inlen,
                          uint8_t out[SP_OPRF_ELEMBYTES])
{
	uint8_t dst[CTX_MAX], wide[crypto_core_ristretto255_HASHBYTES];
	struct part p = { in, inlen };
	size_t dl;
	int rc;
	if (!mode_ok(mode) || (!in && inlen) || !out)
		return SP_EINVAL;
	if (sodium_init() < 0)
		return SP_ECRYPTO;
	dl = context_string(mode, "HashToGroup-", dst, sizeof dst);
	rc = xmd_parts(wide, sizeof wide, &p, 1, dst, dl);
	if (rc != SP_OK)
		return rc;
	rc = crypto_core_ristretto255_from_hash(out, wide) == 0 ? SP_OK : SP_ECRYPTO;
	sodium_memzero(wide, sizeof wide);
	if (rc == SP_OK && sodium_is_zero(out, SP_OPRF_ELEMBYTES))
		rc = SP_ECRYPTO; /* InvalidInputError: the identity */
	return rc;
}

/* RFC 9496 refuses an encoding with bit 255 set (not canonical); libsodium
 * 1.0.18 ignores that bit, so it is checked here. */
static int canonical_top(const uint8_t p[SP_OPRF_ELEMBYTES])
{
	return !(p[31] & 0x80);
}

int sp_oprf_element_ok(const uint8_t p[SP_OPRF_ELEMBYTES])
{
	if (!p || sodium_is_zero(p, SP_OPRF_ELEMBYTES) || !canonical_top(p))
		return 0;
	return crypto_core_ristretto255_is_valid_point(p) == 1;
}

/* 1 when s is a canonical (fully reduced) scalar. */
static int scalar_canonical(const uint8_t s[SP_OPRF_SCALARBYTES])
{
	uint8_t wide[64] = { 0 }, red[32];
	memcpy(wide, s, 32);
	crypto_core_ristretto255_scalar_reduce(red, wide);
	return sodium_memcmp(red, s, 32) == 0;
}

int sp_oprf_derive_keypair(int mode, const uint8_t seed[32], const uint8_t *info, size_t infolen,
                           uint8_t sk[SP_OPRF_SCALARBYTES], uint8_t pk[SP_OPRF_ELEMBYTES])
{
	uint8_t ilen[2], counter;
	struct part parts[4];
	int rc = SP_ECRYPTO;
	unsigned c;

	if (!mode_ok(mode) || !seed || (!info && infolen) || infolen > 65535 || !sk || !pk)
		return SP_EINVAL;
	if (sodium_init() < 0)
		return SP_ECRYPTO;
	i2osp2(ilen, infolen);
	/* deriveInput = seed ‖ I2OSP(len(info), 2) ‖ info; then ‖ I2OSP(counter, 1) */
	for (c = 0; c <= 255; c++) {
		counter = (uint8_t)c;
		parts[0] = (struct part){ seed, 32 };
		parts[1] = (struct part){ ilen, 2 };
		parts[2] = (struct part){ info, infolen };
		parts[3] = (struct part){ &counter, 1 };
		rc = h2s_parts(mode, "DeriveKeyPair", parts, 4, sk);
		if (rc != SP_OK)
			return rc;
		if (!sodium_is_zero(sk, SP_OPRF_SCALARBYTES))
			break;
	}
	if (c > 255)
		return SP_ECRYPTO; /* DeriveKeyPairError */
	if (crypto_scalarmult_ristretto255_base(pk, sk) != 0) {
		sodium_memzero(sk, SP_OPRF_SCALARBYTES);
		return SP_ECRYPTO;
	}
	return SP_OK;
}

int sp_oprf_keypair(uint8_t sk[SP_OPRF_SCALARBYTES], uint8_t pk[SP_OPRF_ELEMBYTES])
{
	if (!sk || !pk)
		return SP_EINVAL;
	if (sodium_init() < 0)
		return SP_ECRYPTO;
	do {
		crypto_core_ristretto255_scalar_random(sk);
	} while (sodium_is_zero(sk, SP_OPRF_SCALARBYTES));
	if (crypto_scalarmult_ristretto255_base(pk, sk) != 0)
		return SP_ECRYPTO;
	return SP_OK;
}

int sp_oprf_blind(int mode, const uint8_t *in, size_t inlen, const uint8_t *blind_in,
                  uint8_t blind_out[SP_OPRF_SCALARBYTES], uint8_t blinded[SP_OPRF_ELEMBYTES])
{
	uint8_t h[SP_OPRF_ELEMBYTES];
	int rc;
	if (!mode_ok(mode) || (!in && inlen) || !blind_out || !blinded)
		return SP_EINVAL;
	rc = sp_oprf_hash_to_group(mode, in, inlen, h);
	if (rc != SP_OK)
		return rc;
	if (blind_in) {
		if (sodium_is_zero(blind_in, SP_OPRF_SCALARBYTES) || !scalar_canonical(blind_in))
			return SP_EINVAL;
		if (blind_in != blind_out)
			memcpy(blind_out, blind_in, SP_OPRF_SCALARBYTES);
	} else {
		do {
			crypto_core_ristretto255_scalar_random(blind_out);
		} while (sodium_is_zero(blind_out, SP_OPRF_SCALARBYTES));
	}
	rc = crypto_scalarmult_ristretto255(blinded, blind_out, h) == 0 ? SP_OK : SP_ECRYPTO;
	sodium_memzero(h, sizeof h);
	return rc;
}

struct eval_job {
	const uint8_t *sk, *in;
	uint8_t *out;
	int failed;
};

static void eval_one(void *ctx, size_t i)
{
	struct eval_job *j = ctx;
	if (crypto_scalarmult_ristretto255(j->out + 32 * i, j->sk, j->in + 32 * i) != 0)
		__atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
}

int sp_oprf_evaluate(const uint8_t sk[SP_OPRF_SCALARBYTES], const uint8_t *blinded, size_t n,
                     uint8_t *evaluated)
{
	return sp_oprf_evaluate_w(sk, blinded, n, evaluated, NULL);
}

int sp_oprf_evaluate_w(const uint8_t sk[SP_OPRF_SCALARBYTES], const uint8_t *blinded, size_t n,
                       uint8_t *evaluated, sp_workers *w)
{
	struct eval_job j = { sk, blinded, evaluated, 0 };
	size_t i;
	if (!sk || !blinded || !evaluated || n == 0 || n > SP_OPRF_MAX_BATCH)
		return SP_EINVAL;
	/* crypto_scalarmult_ristretto255 decodes every element (refusing an
	 * invalid one) and fails on an identity result, which for a nonzero
	 * key in a prime-order group means an identity input: only the bit
	 * that libsodium ignores is checked here, not a second decode. */
	for (i = 0; i < n; i++)
		if (!canonical_top(blinded + 32 * i))
			return SP_ECRYPTO;
	if (w)
		sp_workers_run(w, eval_one, &j, n);
	else
		for (i = 0; i < n; i++)
			eval_one(&j, i);
	if (j.failed) {
		sodium_memzero(evaluated, 32 * n);
		return SP_ECRYPTO;
	}
	return SP_OK;
}

/* ComputeComposites: seed = SHA-512(I2OSP(32,2) ‖ pk ‖ I2OSP(len,2) ‖
 * "Seed-" ‖ ctx); d_i = HashToScalar(I2OSP(64,2) ‖ seed ‖ I2OSP(i,2) ‖
 * I2OSP(32,2) ‖ C_i ‖ I2OSP(32,2) ‖ D_i ‖ "Composite"); M = Σ d_i·C_i and,
 * when want_z, Z = Σ d_i·D_i. The prover passes want_z = 0 and takes
 * Z = k·M (ComputeCompositesFast).
 *
 * Every d_i, C_i and D_i is public (on the wire, or hashed from it), so the
 * sums are multi-scalar multiplications in variable time (sp_r255.h):
 * Pippenger's buckets cost ≈ 13 µs per term at a few thousand terms where
 * a libsodium scalar multiplication plus an addition cost ≈ 75 µs. The
 * decoding of C_i (and D_i) there is the validity check. With workers, the
 * hashes and decodings are split over two threads, then the two sums (or
 * the two halves of M) run one per thread. */
struct comp_job {
	int mode, want_z;
	const uint8_t *seed, *c_elems, *d_elems;
	uint8_t *d;            /* n × 32 composite scalars */
	sp_r255_pt *pc, *pd;   /* decoded C_i, D_i */
	size_t n;
	sp_r255_pt part[2];    /* the two sums (or halves) */
	int failed;
};

static void comp_term(void *ctx, size_t i)
{
	struct comp_job *j = ctx;
	uint8_t l32[2], l64[2], idx[2];
	struct part parts[8];
	i2osp2(l32, 32);
	i2osp2(l64, 64);
	i2osp2(idx, i);
	parts[0] = (struct part){ l64, 2 };
	parts[1] = (struct part){ j->seed, SHA512_BYTES };
	parts[2] = (struct part){ idx, 2 };
	parts[3] = (struct part){ l32, 2 };
	parts[4] = (struct part){ j->c_elems + 32 * i, 32 };
	parts[5] = (struct part){ l32, 2 };
	parts[6] = (struct part){ j->d_elems + 32 * i, 32 };
	parts[7] = (struct part){ (const uint8_t *)"Composite", 9 };
	if (h2s_parts(j->mode, "HashToScalar-", parts, 8, j->d + 32 * i) != SP_OK ||
	    sp_r255_decode(&j->pc[i], j->c_elems + 32 * i) != SP_OK ||
	    (j->want_z && sp_r255_decode(&j->pd[i], j->d_elems + 32 * i) != SP_OK))
		__atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED); /* either thread may set it */
}

/* part 0: M (or its first half), part 1: Z (or M's second half) */
static void comp_sum(void *ctx, size_t which)
{
	struct comp_job *j = ctx;
	int rc;
	if (j->want_z)
		rc = sp_r255_msm(&j->part[which], j->d, which ? j->pd : j->pc, j->n);
	else if (which == 0)
		rc = sp_r255_msm(&j->part[0], j->d, j->pc, j->n / 2);
	else
		rc = sp_r255_msm(&j->part[1], j->d + 32 * (j->n / 2), j->pc + j->n / 2, j->n - j->n / 2);
	if (rc != SP_OK)
		__atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
}

static int composites(int mode, const uint8_t pk[32], const uint8_t *c_elems,
                      const uint8_t *d_elems, size_t n, int want_z, uint8_t m_out[32],
                      uint8_t z_out[32], sp_workers *w)
{
	crypto_hash_sha512_state st;
	uint8_t sdst[CTX_MAX], seed[SHA512_BYTES], l2[2], l32[2];
	struct comp_job j = { .mode = mode, .want_z = want_z, .seed = seed, .c_elems = c_elems,
		              .d_elems = d_elems, .n = n };
	size_t sl;
	int rc = SP_ENOMEM;

	sl = context_string(mode, "Seed-", sdst, sizeof sdst);
	i2osp2(l32, 32);
	i2osp2(l2, sl);
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, l32, 2);
	crypto_hash_sha512_update(&st, pk, 32);
	crypto_hash_sha512_update(&st, l2, 2);
	crypto_hash_sha512_update(&st, sdst, sl);
	crypto_hash_sha512_final(&st, seed);

	if (n == 1) {
		/* one term (a submit): libsodium's single multiplication is faster
		 * than a one-term sum, and it decodes (checks) C_0 and D_0 */
		uint8_t d0[32];
		struct comp_job one = j;
		one.d = d0;
		one.pc = &j.part[0];
		one.pd = &j.part[1];
		comp_term(&one, 0); /* d_0, and the decoding check */
		rc = SP_ECRYPTO;
		if (one.failed || crypto_scalarmult_ristretto255(m_out, d0, c_elems) != 0 ||
		    (want_z && crypto_scalarmult_ristretto255(z_out, d0, d_elems) != 0))
			goto out;
		rc = sp_oprf_element_ok(m_out) && (!want_z || sp_oprf_element_ok(z_out)) ? SP_OK : SP_ECRYPTO;
		goto out;
	}
	if (!(j.d = malloc(32 * n)) || !(j.pc = malloc(sizeof *j.pc * n)) ||
	    (want_z && !(j.pd = malloc(sizeof *j.pd * n))))
		goto out;
	if (w && n > 1)
		sp_workers_run(w, comp_term, &j, n);
	else
		for (size_t i = 0; i < n; i++)
			comp_term(&j, i);
	rc = SP_ECRYPTO;
	if (j.failed)
		goto out;
	if (w && n >= 64) {
		sp_workers_run(w, comp_sum, &j, 2);
	} else if (want_z) {
		comp_sum(&j, 0);
		comp_sum(&j, 1);
	} else {
		if (sp_r255_msm(&j.part[0], j.d, j.pc, n) != SP_OK)
			goto out;
		sp_r255_identity(&j.part[1]);
	}
	if (j.failed)
		goto out;
	if (want_z) {
		sp_r255_encode(m_out, &j.part[0]);
		sp_r255_encode(z_out, &j.part[1]);
	} else {
		sp_r255_add(&j.part[0], &j.part[0], &j.part[1]);
		sp_r255_encode(m_out, &j.part[0]);
	}
	/* a sum that lands on the identity is refused like any identity */
	if (!sp_oprf_element_ok(m_out) || (want_z && !sp_oprf_element_ok(z_out)))
		goto out;
	rc = SP_OK;
out:
	free(j.d);
	free(j.pc);
	free(j.pd);
	sodium_memzero(&st, sizeof st);
	return rc;
}

/* c = HashToScalar(I2OSP(32,2) ‖ pk ‖ … M … Z … t2 … t3 ‖ "Challenge") */
static int challenge(int mode, const uint8_t pk[32], const uint8_t m[32], const uint8_t z[32],
                     const uint8_t t2[32], const uint8_t t3[32], uint8_t c[32])
{
	uint8_t l32[2];
	struct part parts[11];
	i2osp2(l32, 32);
	parts[0] = (struct part){ l32, 2 };
	parts[1] = (struct part){ pk, 32 };
	parts[2] = (struct part){ l32, 2 };
	parts[3] = (struct part){ m, 32 };
	parts[4] = (struct part){ l32, 2 };
	parts[5] = (struct part){ z, 32 };
	parts[6] = (struct part){ l32, 2 };
	parts[7] = (struct part){ t2, 32 };
	parts[8] = (struct part){ l32, 2 };
	parts[9] = (struct part){ t3, 32 };
	parts[10] = (struct part){ (const uint8_t *)"Challenge", 9 };
	return h2s_parts(mode, "HashToScalar-", parts, 11, c);
}

int sp_oprf_prove(int mode, const uint8_t sk[SP_OPRF_SCALARBYTES],
                  const uint8_t pk[SP_OPRF_ELEMBYTES], const uint8_t *c_elems,
                  const uint8_t *d_elems, size_t n, const uint8_t *r_in,
                  uint8_t proof[SP_OPRF_PROOFBYTES])
{
	return sp_oprf_prove_w(mode, sk, pk, c_elems, d_elems, n, r_in, proof, NULL);
}

int sp_oprf_prove_w(int mode, const uint8_t sk[SP_OPRF_SCALARBYTES],
                    const uint8_t pk[SP_OPRF_ELEMBYTES], const uint8_t *c_elems,
                    const uint8_t *d_elems, size_t n, const uint8_t *r_in,
                    uint8_t proof[SP_OPRF_PROOFBYTES], sp_workers *w)
{
	uint8_t m[32], z[32], r[32], t2[32], t3[32], c[32], ck[32];
	int rc = SP_ECRYPTO;
	size_t i;

	if (!mode_ok(mode) || !sk || !pk || !c_elems || !d_elems || !proof || n == 0 ||
	    n > SP_OPRF_MAX_BATCH)
		return SP_EINVAL;
	if (!sp_oprf_element_ok(pk))
		return SP_ECRYPTO;
	/* the identity is refused here; composites() decodes every C_i (the
	 * validity check); the D_i are the prover's own evaluations, hashed */
	for (i = 0; i < n; i++)
		if (sodium_is_zero(c_elems + 32 * i, 32) || sodium_is_zero(d_elems + 32 * i, 32) ||
		    !canonical_top(d_elems + 32 * i))
			return SP_ECRYPTO;
	if (composites(mode, pk, c_elems, d_elems, n, 0, m, NULL, w) != SP_OK)
		goto out;
	if (crypto_scalarmult_ristretto255(z, sk, m) != 0)
		goto out;
	if (r_in) {
		memcpy(r, r_in, 32);
	} else {
		do {
			crypto_core_ristretto255_scalar_random(r);
		} while (sodium_is_zero(r, 32));
	}
	if (crypto_scalarmult_ristretto255_base(t2, r) != 0 ||
	    crypto_scalarmult_ristretto255(t3, r, m) != 0)
		goto out;
	if (challenge(mode, pk, m, z, t2, t3, c) != SP_OK)
		goto out;
	/* s = r - c·k */
	crypto_core_ristretto255_scalar_mul(ck, c, sk);
	memcpy(proof, c, 32);
	crypto_core_ristretto255_scalar_sub(proof + 32, r, ck);
	rc = SP_OK;
out:
	sodium_memzero(r, sizeof r);
	sodium_memzero(ck, sizeof ck);
	return rc;
}

/* r = a·P + b·Q, where a·P may be the base point when p == NULL */
static int lincomb(uint8_t out[32], const uint8_t a[32], const uint8_t *p, const uint8_t b[32],
                   const uint8_t q[32])
{
	uint8_t x[32], y[32];
	int ok = p ? crypto_scalarmult_ristretto255(x, a, p) : crypto_scalarmult_ristretto255_base(x, a);
	if (ok != 0 || crypto_scalarmult_ristretto255(y, b, q) != 0)
		return SP_ECRYPTO;
	return crypto_core_ristretto255_add(out, x, y) == 0 ? SP_OK : SP_ECRYPTO;
}

int sp_oprf_verify(int mode, const uint8_t pk[SP_OPRF_ELEMBYTES], const uint8_t *c_elems,
                   const uint8_t *d_elems, size_t n, const uint8_t proof[SP_OPRF_PROOFBYTES])
{
	return sp_oprf_verify_w(mode, pk, c_elems, d_elems, n, proof, NULL);
}

int sp_oprf_verify_w(int mode, const uint8_t pk[SP_OPRF_ELEMBYTES], const uint8_t *c_elems,
                     const uint8_t *d_elems, size_t n, const uint8_t proof[SP_OPRF_PROOFBYTES],
                     sp_workers *w)
{
	uint8_t m[32], z[32], t2[32], t3[32], c[32];
	size_t i;

	if (!mode_ok(mode) || !pk || !c_elems || !d_elems || !proof || n == 0 ||
	    n > SP_OPRF_MAX_BATCH)
		return SP_EINVAL;
	if (!sp_oprf_element_ok(pk) || !scalar_canonical(proof) || !scalar_canonical(proof + 32))
		return SP_ECRYPTO;
	/* the identity is refused here; composites() decodes every C_i and
	 * D_i, which is the validity check */
	for (i = 0; i < n; i++)
		if (sodium_is_zero(c_elems + 32 * i, 32) || sodium_is_zero(d_elems + 32 * i, 32))
			return SP_ECRYPTO;
	if (composites(mode, pk, c_elems, d_elems, n, 1, m, z, w) != SP_OK)
		return SP_ECRYPTO;
	/* t2 = s·G + c·pk, t3 = s·M + c·Z */
	if (lincomb(t2, proof + 32, NULL, proof, pk) != SP_OK ||
	    lincomb(t3, proof + 32, m, proof, z) != SP_OK)
		return SP_ECRYPTO;
	if (challenge(mode, pk, m, z, t2, t3, c) != SP_OK)
		return SP_ECRYPTO;
	return sodium_memcmp(c, proof, 32) == 0 ? SP_OK : SP_ECRYPTO;
}

int sp_oprf_unblind(const uint8_t blind[SP_OPRF_SCALARBYTES],
                    const uint8_t evaluated[SP_OPRF_ELEMBYTES], uint8_t out[SP_OPRF_ELEMBYTES])
{
	uint8_t inv[32];
	int rc;
	if (!blind || !evaluated || !out)
		return SP_EINVAL;
	if (!sp_oprf_element_ok(evaluated))
		return SP_ECRYPTO;
	if (crypto_core_ristretto255_scalar_invert(inv, blind) != 0)
		return SP_ECRYPTO;
	rc = crypto_scalarmult_ristretto255(out, inv, evaluated) == 0 ? SP_OK : SP_ECRYPTO;
	sodium_memzero(inv, sizeof inv);
	return rc;
}

int sp_oprf_invert_batch(const uint8_t *scalars, size_t n, uint8_t *inv)
{
	uint8_t acc[32], t[32];
	int rc = SP_ECRYPTO;
	if (!scalars || !inv || n == 0)
		return SP_EINVAL;
	/* inv_i holds the prefix product s_0·…·s_{i-1} first */
	memcpy(acc, scalars, 32);
	for (size_t i = 1; i < n; i++) {
		memcpy(inv + 32 * i, acc, 32);
		crypto_core_ristretto255_scalar_mul(acc, acc, scalars + 32 * i);
	}
	if (crypto_core_ristretto255_scalar_invert(acc, acc) != 0)
		goto out; /* a zero scalar somewhere */
	for (size_t i = n; i-- > 1;) {
		crypto_core_ristretto255_scalar_mul(t, acc, inv + 32 * i); /* s_i⁻¹ */
		crypto_core_ristretto255_scalar_mul(acc, acc, scalars + 32 * i);
		memcpy(inv + 32 * i, t, 32);
	}
	memcpy(inv, acc, 32);
	rc = SP_OK;
out:
	sodium_memzero(acc, sizeof acc);
	sodium_memzero(t, sizeof t);
	if (rc != SP_OK)
		sodium_memzero(inv, 32 * n);
	return rc;
}

struct unblind_job {
	const uint8_t *inv, *ev;
	uint8_t *out;
	int failed;
};

static void unblind_one(void *ctx, size_t i)
{
	struct unblind_job *j = ctx;
	/* decodes Z_i (refusing an invalid one); fails on an identity result */
	if (!canonical_top(j->ev + 32 * i) ||
	    crypto_scalarmult_ristretto255(j->out + 32 * i, j->inv + 32 * i, j->ev + 32 * i) != 0)
		__atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
}

int sp_oprf_unblind_batch(const uint8_t *blinds, const uint8_t *evaluated, size_t n, uint8_t *out,
                          sp_workers *w)
{
	struct unblind_job j = { NULL, evaluated, out, 0 };
	uint8_t small[32 * 16], *inv = small;
	int rc;
	if (!blinds || !evaluated || !out || n == 0)
		return SP_EINVAL;
	if (sodium_init() < 0)
		return SP_ECRYPTO;
	/* sodium_malloc costs system calls (guard pages, mlock): a submit's
	 * one element uses the stack, wiped below */
	if (n > 16 && !(inv = sodium_malloc(32 * n)))
		return SP_ENOMEM;
	if ((rc = sp_oprf_invert_batch(blinds, n, inv)) == SP_OK) {
		j.inv = inv;
		if (w && n > 1)
			sp_workers_run(w, unblind_one, &j, n);
		else
			for (size_t i = 0; i < n; i++)
				unblind_one(&j, i);
		rc = j.failed ? SP_ECRYPTO : SP_OK;
	}
	if (inv == small)
		sodium_memzero(small, sizeof small);
	else
		sodium_free(inv);
	if (rc != SP_OK)
		sodium_memzero(out, 32 * n);
	return rc;
}
