/*
 * sp_keys.h — an organisation's (or the broker's) keys on disk.
 *
 * Key directory layout, one value per file, lower-case hex + newline:
 *   curve.pub  curve.key   CURVE (transport) keypair, 32 bytes each
 *   sign.pub   sign.key    Ed25519: signs signals, receipts, roster, tree heads
 *   box.pub    box.key     X25519: receives sealed tier keys (nodes only)
 * Secret files are written 0600 and refused on load when group- or
 * world-accessible. Secrets live in sodium_malloc memory. With systemd
 * credentials, a file is read from $CREDENTIALS_DIRECTORY/keys_<file> first.
 */
#ifndef SP_KEYS_H
#define SP_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"

typedef struct sp_keyset {
	uint8_t curve_pk[32];
	uint8_t curve_sk[32];
	uint8_t sign_pk[32];
	uint8_t sign_sk[64];
	uint8_t box_pk[32];
	uint8_t box_sk[32];
	int has_box; /* the broker has no box key: it must never decrypt content */
} sp_keyset;

/* with_box: 1 for nodes, 0 for the broker. *out is sodium_malloc'd. */
int sp_keys_generate(int with_box, sp_keyset **out) SP_MUST_CHECK;
int sp_keys_save(const sp_keyset *k, const char *dir) SP_MUST_CHECK; /* creates dir 0700 */
/* Loads box.* only when present. SP_EPERM on loose permissions, SP_EKEY on
 * a malformed file or a public key that does not match its secret. */
int sp_keys_load(const char *dir, sp_keyset **out) SP_MUST_CHECK;
/* The node's network process (docs/privsep.md): the CURVE pair and the
 * public sign/box keys only; sign_sk and box_sk stay zero, has_box 0. The
 * secrets are the key holder's (sp_keyholder.h). */
int sp_keys_load_transport(const char *dir, sp_keyset **out) SP_MUST_CHECK;
void sp_keys_free(sp_keyset **k);

/* Where key file NAME of key directory dir is read from: the systemd
 * credential $CREDENTIALS_DIRECTORY/keys_NAME when that variable is set and
 * the file exists (LoadCredential=keys:DIR), dir/NAME otherwise. */
int sp_keys_path(const char *dir, const char *name, char *out, size_t outlen) SP_MUST_CHECK;

/* Read one 32-byte public key file (hex). */
int sp_keys_read_public(const char *path, uint8_t out[32]) SP_MUST_CHECK;

/* 1 when dir holds any secret key file (curve.key, sign.key, box.key):
 * generating keys there would destroy an identity. */
int sp_keys_exist(const char *dir);
/* The network operator's key is a sign pair only (sign.key, sign.pub):
 * it signs rosters, nothing else. */
int sp_keys_save_sign(const sp_keyset *k, const char *dir) SP_MUST_CHECK;
int sp_keys_load_sign(const char *dir, sp_keyset **out) SP_MUST_CHECK;

/* Key rotation (docs/enrolment.md): `keys rotate` moves the replaced files
 * to DIR/old/<n>/ (n = 1, 2, ...; higher is newer) and writes the new ones
 * in DIR. sp_keys_retire moves the current files; sp_keys_load_old loads up
 * to max older generations, newest first (a node keeps their box secrets to
 * open deliveries sealed before the rotation). */
int sp_keys_retire(const char *dir) SP_MUST_CHECK;
int sp_keys_load_old(const char *dir, sp_keyset **out, size_t max, size_t *n) SP_MUST_CHECK;

/* A node's keys across rotations: k[0] is the generation the roster names
 * (it signs and holds the connection), the others only open deliveries
 * sealed to their box keys before the rotation. */
#define SP_KEYRING_MAX 5
typedef struct sp_keyring {
	sp_keyset *k[SP_KEYRING_MAX];
	size_t n;
} sp_keyring;
/* DIR, then DIR/old/<n>, newest first. */
int sp_keyring_load(const char *dir, sp_keyring *kr) SP_MUST_CHECK;
/* Move the generation with these public keys to k[0]; SP_ENOTFOUND when
 * none has them. */
int sp_keyring_select(sp_keyring *kr, const uint8_t curve_pk[32], const uint8_t sign_pk[32]) SP_MUST_CHECK;
void sp_keyring_free(sp_keyring *kr);

#endif
