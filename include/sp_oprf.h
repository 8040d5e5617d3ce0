/*
 * sp_oprf.h — oblivious PRF over ristretto255 (RFC 9497, OPRF(ristretto255,
 * SHA-512)), base and verifiable mode, with RFC 9380 expand_message_xmd.
 *
 * Who holds what:
 *   the service holds sk (a scalar) and publishes pk = sk·G;
 *   the node holds the input and a per-element blind r;
 *   the service sees only the blinded element B = r·H(x), and returns
 *   Z = sk·B with one DLEQ proof for the whole batch (log_G pk = log_B Z);
 *   the node checks the proof against the pinned pk and computes
 *   P = r⁻¹·Z = sk·H(x).
 * In seinpost the pseudonym is that element P (32 bytes), NOT RFC 9497's
 * Finalize hash: an element can be translated on key rotation (P' = δ·P),
 * a hash cannot. Finalize exists only in the test-vector tests.
 *
 * Every element taken from outside (blinded, evaluated, public key) is
 * decoded and refused when it is not canonical or is the identity.
 * Secret scalars passed in are the caller's (keep them in sodium_malloc
 * memory); this module wipes its own scratch.
 */
#ifndef SP_OPRF_H
#define SP_OPRF_H

#include <stdint.h>
#include <stddef.h>
#include "sp_error.h"
#include "sp_workers.h"

#define SP_OPRF_ELEMBYTES 32   /* serialized ristretto255 element */
#define SP_OPRF_SCALARBYTES 32 /* little-endian scalar mod L */
#define SP_OPRF_PROOFBYTES 64  /* c ‖ s */
#define SP_OPRF_MAX_BATCH 65535 /* composite index is I2OSP(i, 2) */

enum sp_oprf_mode { SP_OPRF_MODE_BASE = 0, SP_OPRF_MODE_VERIFIABLE = 1 };

/* RFC 9380 §5.3.1 expand_message_xmd with SHA-512. outlen 1..16320
 * (255 blocks), dstlen 1..255. SP_EINVAL otherwise. */
int sp_oprf_expand_xmd(uint8_t *out, size_t outlen, const uint8_t *msg, size_t msglen,
                       const uint8_t *dst, size_t dstlen) SP_MUST_CHECK;

/* RFC 9497 HashToGroup: expand_message_xmd(in, "HashToGroup-" ‖ ctx, 64)
 * mapped by crypto_core_ristretto255_from_hash. SP_ECRYPTO on identity. */
int sp_oprf_hash_to_group(int mode, const uint8_t *in, size_t inlen,
                          uint8_t out[SP_OPRF_ELEMBYTES]) SP_MUST_CHECK;

/* RFC 9497 HashToScalar with DST "HashToScalar-" ‖ ctx. */
int sp_oprf_hash_to_scalar(int mode, const uint8_t *in, size_t inlen,
                           uint8_t out[SP_OPRF_SCALARBYTES]) SP_MUST_CHECK;

/* RFC 9497 DeriveKeyPair (seed of 32 bytes, info up to 65535 bytes). */
int sp_oprf_derive_keypair(int mode, const uint8_t seed[32], const uint8_t *info, size_t infolen,
                           uint8_t sk[SP_OPRF_SCALARBYTES],
                           uint8_t pk[SP_OPRF_ELEMBYTES]) SP_MUST_CHECK;
/* A fresh random key pair (sk non-zero). */
int sp_oprf_keypair(uint8_t sk[SP_OPRF_SCALARBYTES], uint8_t pk[SP_OPRF_ELEMBYTES]) SP_MUST_CHECK;

/* 1 when p is a canonical encoding of a non-identity element, else 0. */
int sp_oprf_element_ok(const uint8_t p[SP_OPRF_ELEMBYTES]);

/* Blind: blinded = r·HashToGroup(in). With blind_in == NULL a fresh random
 * non-zero r is drawn and written to blind_out; otherwise blind_in is used
 * (the test vectors fix it) and copied to blind_out. */
int sp_oprf_blind(int mode, const uint8_t *in, size_t inlen, const uint8_t *blind_in,
                  uint8_t blind_out[SP_OPRF_SCALARBYTES],
                  uint8_t blinded[SP_OPRF_ELEMBYTES]) SP_MUST_CHECK;

/* BlindEvaluate of n elements (arrays of n*32 bytes): out_i = sk·in_i.
 * Refuses (SP_ECRYPTO) the whole batch if any input is not a valid,
 * non-identity element. */
int sp_oprf_evaluate(const uint8_t sk[SP_OPRF_SCALARBYTES], const uint8_t *blinded, size_t n,
                     uint8_t *evaluated) SP_MUST_CHECK;

/* GenerateProof (batched, composites computed with the key): a DLEQ proof
 * that log_G(pk) = log_C(D) for every pair. r_in fixes the proof's random
 * scalar (test vectors only); NULL draws one. */
int sp_oprf_prove(int mode, const uint8_t sk[SP_OPRF_SCALARBYTES],
                  const uint8_t pk[SP_OPRF_ELEMBYTES], const uint8_t *c_elems,
                  const uint8_t *d_elems, size_t n, const uint8_t *r_in,
                  uint8_t proof[SP_OPRF_PROOFBYTES]) SP_MUST_CHECK;

/* VerifyProof: SP_OK when the proof holds, SP_ECRYPTO otherwise (also for
 * any invalid or identity element, or a non-canonical scalar). */
int sp_oprf_verify(int mode, const uint8_t pk[SP_OPRF_ELEMBYTES], const uint8_t *c_elems,
                   const uint8_t *d_elems, size_t n,
                   const uint8_t proof[SP_OPRF_PROOFBYTES]) SP_MUST_CHECK;

/* The same three with a second thread (sp_workers.h) doing half of the
 * per-element work; w may be NULL. Results are identical. */
int sp_oprf_evaluate_w(const uint8_t sk[SP_OPRF_SCALARBYTES], const uint8_t *blinded, size_t n,
                       uint8_t *evaluated, sp_workers *w) SP_MUST_CHECK;
int sp_oprf_prove_w(int mode, const uint8_t sk[SP_OPRF_SCALARBYTES],
                    const uint8_t pk[SP_OPRF_ELEMBYTES], const uint8_t *c_elems,
                    const uint8_t *d_elems, size_t n, const uint8_t *r_in,
                    uint8_t proof[SP_OPRF_PROOFBYTES], sp_workers *w) SP_MUST_CHECK;
int sp_oprf_verify_w(int mode, const uint8_t pk[SP_OPRF_ELEMBYTES], const uint8_t *c_elems,
                     const uint8_t *d_elems, size_t n, const uint8_t proof[SP_OPRF_PROOFBYTES],
                     sp_workers *w) SP_MUST_CHECK;

/* Unblind: out = r⁻¹·evaluated. SP_ECRYPTO on identity or invalid input. */
int sp_oprf_unblind(const uint8_t blind[SP_OPRF_SCALARBYTES],
                    const uint8_t evaluated[SP_OPRF_ELEMBYTES],
                    uint8_t out[SP_OPRF_ELEMBYTES]) SP_MUST_CHECK;

/* inv (n × 32, caller's memory: sodium_malloc for blinds) = the inverses
 * of n nonzero scalars, one inversion in all (Montgomery's trick). */
int sp_oprf_invert_batch(const uint8_t *scalars, size_t n, uint8_t *inv) SP_MUST_CHECK;

/* out_e = r_e⁻¹·Z_e for n elements: one scalar inversion for the batch,
 * the multiplications on two threads with w. Every Z_e must be a valid
 * non-identity element (refused otherwise, out wiped). */
int sp_oprf_unblind_batch(const uint8_t *blinds, const uint8_t *evaluated, size_t n, uint8_t *out,
                          sp_workers *w) SP_MUST_CHECK;

#endif
