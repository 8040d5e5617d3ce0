/*
 * sp_enrol.h — enrol.json: what an organisation hands the network operator.
 *
 * Written by `seinpost keygen DIR --org ID --role ROLE` (and `keys rotate`)
 * on the organisation's own machine; read by `seinpost roster add`. It
 * holds public keys only:
 *
 *   { "format": "seinpost-enrol/1", "org": ID, "role": ROLE,
 *     "curve_key": HEX, "sign_key": HEX, "box_key": HEX,
 *     "created_at": "2026-12-02T04:33:45Z", "signature": HEX,
 *     -- a rotation also carries --
 *     "previous_sign_key": HEX, "previous_signature": HEX, "overlap_s": N }
 *
 * A pseudonymiser (role pseudonymiser) has no box key; instead it carries
 * "oprf_key": HEX (its OPRF public key, or for t-of-n its share's public
 * key s_i·G) and, for t-of-n, "oprf_index": i (its Shamir index). Both are
 * signed. A pseudonymiser's keys do not rotate by enrolment.
 *
 * signature is Ed25519 by sign_key (proof that the sender holds the new
 * key); previous_signature is by previous_sign_key, the key the roster
 * holds now (proof that the organisation on the roster asks for the
 * rotation). Both sign the same bytes (sp_enrol_message), never the JSON
 * text, so whitespace and key order do not matter.
 */
#ifndef SP_ENROL_H
#define SP_ENROL_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_keys.h"
#include "sp_roster.h"

#define SP_ENROL_DOMAIN "seinpost/enrol/v1"
#define SP_ENROL_MAX_FILE 8192
#define SP_ENROL_TIME_MAX 32

typedef struct sp_enrol {
	char org[SP_ID_MAX];
	char role[SP_ROLE_MAX];
	uint8_t curve_pk[32];
	uint8_t sign_pk[32];
	uint8_t box_pk[32];
	char created_at[SP_ENROL_TIME_MAX];
	uint8_t signature[64];
	int rotation;               /* the previous_* fields are present */
	uint8_t prev_sign_pk[32];
	uint8_t prev_signature[64];
	uint64_t overlap_s;         /* rotation: how long the old keys stay admitted */
	int has_oprf;               /* role pseudonymiser: oprf_pk (box_pk zero) */
	uint8_t oprf_pk[32];
	uint32_t oprf_index;        /* t-of-n: 1..n; 0 = a single key */
} sp_enrol;

/* Fill and sign from keys (with a box key). prev: the keys being replaced
 * (NULL for a first enrolment). SP_EINVAL for a bad id, role or key set. */
int sp_enrol_make(const sp_keyset *k, const char *org, const char *role, const sp_keyset *prev,
                  uint64_t overlap_s, sp_enrol *out) SP_MUST_CHECK;
/* Strict parse: unknown keys, wrong sizes, an unknown role or a signature
 * that does not verify are refused with a reason in why (no key material
 * in it). text need not be NUL-terminated. */
/* A pseudonymiser's enrol.json: keys without a box key, its OPRF public
 * key (or share's public key) and Shamir index (0 = single key). */
int sp_enrol_make_pseudonymiser(const sp_keyset *k, const char *org, const uint8_t oprf_pk[32],
                                uint32_t oprf_index, sp_enrol *out) SP_MUST_CHECK;
int sp_enrol_parse(const char *text, size_t len, sp_enrol *out, char *why, size_t whylen) SP_MUST_CHECK;
int sp_enrol_read(const char *path, sp_enrol *out, char *why, size_t whylen) SP_MUST_CHECK;
int sp_enrol_write(const sp_enrol *e, const char *path) SP_MUST_CHECK;  /* 0644 */

#endif
