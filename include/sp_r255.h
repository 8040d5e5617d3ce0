/*
 * sp_r255.h — ristretto255 arithmetic for PUBLIC data, in variable time
 * (common/sp_r255.c).
 *
 * libsodium 1.0.18 exposes ristretto255 only one element at a time, each
 * call decoding and re-encoding (an inverse square root each way), and has
 * no multi-scalar multiplication. The DLEQ proofs of RFC 9497 need
 * M = Σ d_i·C_i and Z = Σ d_i·D_i over a whole batch, where every d_i, C_i
 * and D_i is public (they are on the wire or derived from it by hashing).
 * This module computes such sums with Pippenger's bucket method over
 * decoded points.
 *
 * WARNING: nothing here is constant time. Never pass a secret scalar or a
 * secret point (a key, a blind, an unblinded pseudonym, a hash of an
 * identifier): those stay with libsodium's constant-time functions.
 *
 * Decoding follows RFC 9496 §4.3.1 exactly (non-canonical or negative
 * encodings, and non-squares, are refused), so a successful decode is the
 * same validity check as crypto_core_ristretto255_is_valid_point. The
 * identity decodes (it is a valid element): callers refuse it themselves.
 */
#ifndef SP_R255_H
#define SP_R255_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"

typedef struct {
	uint64_t v[5]; /* radix 2^51 */
} sp_r255_fe;

typedef struct {
	sp_r255_fe x, y, z, t; /* extended twisted Edwards coordinates */
} sp_r255_pt;

/* 0 and *p set for a valid encoding; SP_ECRYPTO otherwise. */
int sp_r255_decode(sp_r255_pt *p, const uint8_t s[32]) SP_MUST_CHECK;
void sp_r255_encode(uint8_t s[32], const sp_r255_pt *p);
void sp_r255_identity(sp_r255_pt *p);
void sp_r255_add(sp_r255_pt *r, const sp_r255_pt *p, const sp_r255_pt *q);
void sp_r255_sub(sp_r255_pt *r, const sp_r255_pt *p, const sp_r255_pt *q);
void sp_r255_dbl(sp_r255_pt *r, const sp_r255_pt *p);

/* out = Σ scalars[i]·pts[i]: scalars n × 32 bytes little-endian, each
 * below 2^253 (reduced mod L). SP_ENOMEM when the buckets cannot be
 * allocated. Variable time: public data only. */
int sp_r255_msm(sp_r255_pt *out, const uint8_t *scalars, const sp_r255_pt *pts, size_t n) SP_MUST_CHECK;

/* out = k·p for a small signed integer k (|k| < 2^62). Public data only. */
void sp_r255_mul_small(sp_r255_pt *out, const sp_r255_pt *p, int64_t k);

#endif
