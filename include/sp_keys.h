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

#endif
