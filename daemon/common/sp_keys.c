/*
 * sp_keys.c — an organisation's (or the broker's) keys on disk.
 *
 * Secret key files are refused when group/world accessible before a byte is
 * read, and every loaded secret is checked against its public half so that a
 * swapped or half-rotated key directory fails at start-up, not at the first
 * signal. The keyset lives in sodium_malloc memory; file buffers holding
 * secret hex are wiped before they are freed.
 *
 * Under systemd, the unit passes the key directory as credentials
 * (LoadCredential=keys:/etc/seinpost/NAME/keys); sp_keys_path prefers those.
 */
#include "sp_keys.h"
#include "sp_util.h"

#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define KEYFILE_MAX 512

static sp_keyset *keyset_new(void)
{
	return sp_secret_alloc(sizeof(sp_keyset));
}

void sp_keys_free(sp_keyset **k)
{
	if (!k || !*k)
		return;
	sodium_free(*k);
	*k = NULL;
}

int sp_keys_generate(int with_box, sp_keyset **out)
{
	sp_keyset *k;
	if (!out)
		return SP_EINVAL;
	*out = NULL;
	k = keyset_new();
	if (!k)
		return SP_ENOMEM;
	/* CURVE keys for ZeroMQ are plain X25519 keypairs. */
	crypto_box_keypair(k->curve_pk, k->curve_sk);
	crypto_sign_keypair(k->sign_pk, k->sign_sk);
	if (with_box) {
		crypto_box_keypair(k->box_pk, k->box_sk);
		k->has_box = 1;
	}
	*out = k;
	return SP_OK;
}

static int write_hex(const char *dir, const char *name, const uint8_t *v, size_t len, int secret)
{
	char path[PATH_MAX];
	char hex[2 * 64 + 2];
	int rc;

	if (len > 64)
		return SP_EINVAL;
	rc = sp_path_join(dir, name, path, sizeof path);
	if (rc != SP_OK)
		return rc;
	sp_hex(v, len, hex);
	hex[2 * len] = '\n';
	rc = sp_file_write(path, hex, 2 * len + 1, secret ? 0600 : 0644);
	sodium_memzero(hex, sizeof hex);
	return rc;
}

int sp_keys_save(const sp_keyset *k, const char *dir)
{
	int rc;
	if (!k || !dir)
		return SP_EINVAL;
	rc = sp_mkdir_p(dir, 0700);
	if (rc != SP_OK)
		return rc;
	/* Secrets first: a crash leaves a key without its .pub, which load
	 * refuses, never a .pub that matches no key. */
	if ((rc = write_hex(dir, "curve.key", k->curve_sk, 32, 1)) != SP_OK ||
	    (rc = write_hex(dir, "curve.pub", k->curve_pk, 32, 0)) != SP_OK ||
	    (rc = write_hex(dir, "sign.key", k->sign_sk, 64, 1)) != SP_OK ||
	    (rc = write_hex(dir, "sign.pub", k->sign_pk, 32, 0)) != SP_OK)
		return rc;
	if (k->has_box) {
		if ((rc = write_hex(dir, "box.key", k->box_sk, 32, 1)) != SP_OK ||
		    (rc = write_hex(dir, "box.pub", k->box_pk, 32, 0)) != SP_OK)
			return rc;
	}
	return SP_OK;
}

/* Read a hex file of exactly len bytes (one trailing newline allowed).
 * Missing -> SP_ENOTFOUND so callers can tell "absent" from "broken". */
static int read_hex_file(const char *path, uint8_t *out, size_t len, int secret)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	int rc;

	if (secret) {
		rc = sp_file_check_private(path);
		if (rc != SP_OK)
			return rc;
	}
	rc = sp_file_read(path, KEYFILE_MAX, &buf, &n);
	if (rc == SP_ESIZE)
		return SP_EKEY;
	if (rc != SP_OK)
		return rc;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (memchr(buf, '\0', n) || sp_unhex((const char *)buf, out, len) != SP_OK)
		rc = SP_EKEY;
	sodium_memzero(buf, n);
	free(buf);
	if (rc != SP_OK)
		sodium_memzero(out, len);
	return rc;
}

int sp_keys_path(const char *dir, const char *name, char *out, size_t outlen)
{
	const char *cd = getenv("CREDENTIALS_DIRECTORY");
	char id[64];
	int n;

	if (!dir || !name || !out)
		return SP_EINVAL;
	/* systemd: LoadCredential=keys:DIR hands over every file of DIR as
	 * $CREDENTIALS_DIRECTORY/keys_<file>, in unswapped memory that only
	 * this service can read. A credential wins over the file, so the key
	 * directory itself may stay root-only. Only an absolute directory is
	 * trusted; systemd never sets anything else. */
	if (cd && cd[0] == '/') {
		n = snprintf(id, sizeof id, "keys_%s", name);
		if (n > 0 && (size_t)n < sizeof id && sp_path_join(cd, id, out, outlen) == SP_OK &&
		    access(out, F_OK) == 0)
			return SP_OK;
		/* The directory came as credentials (curve.key is in every key
		 * directory): a file missing there is missing, and the key
		 * directory itself may be unreadable to us. */
		if (sp_path_join(cd, "keys_curve.key", out, outlen) == SP_OK && access(out, F_OK) == 0)
			return n > 0 && (size_t)n < sizeof id ? sp_path_join(cd, id, out, outlen) : SP_ESIZE;
	}
	return sp_path_join(dir, name, out, outlen);
}

static int read_in(const char *dir, const char *name, uint8_t *out, size_t len, int secret)
{
	char path[PATH_MAX];
	int rc = sp_keys_path(dir, name, path, sizeof path);
	if (rc != SP_OK)
		return rc;
	return read_hex_file(path, out, len, secret);
}

int sp_keys_read_public(const char *path, uint8_t out[32])
{
	int rc;
	if (!path || !out)
		return SP_EINVAL;
	rc = read_hex_file(path, out, 32, 0);
	return rc == SP_ENOTFOUND ? SP_EKEY : rc;
}

int sp_keys_load(const char *dir, sp_keyset **out)
{
	sp_keyset *k = NULL;
	uint8_t pk[32];
	int rc, has_key, has_pub;

	if (!dir || !out)
		return SP_EINVAL;
	*out = NULL;
	k = keyset_new();
	if (!k)
		return SP_ENOMEM;

	if ((rc = read_in(dir, "curve.key", k->curve_sk, 32, 1)) != SP_OK ||
	    (rc = read_in(dir, "curve.pub", k->curve_pk, 32, 0)) != SP_OK ||
	    (rc = read_in(dir, "sign.key", k->sign_sk, 64, 1)) != SP_OK ||
	    (rc = read_in(dir, "sign.pub", k->sign_pk, 32, 0)) != SP_OK)
		goto out;
	if (crypto_scalarmult_base(pk, k->curve_sk) != 0 ||
	    sodium_memcmp(pk, k->curve_pk, 32) != 0) {
		rc = SP_EKEY;
		goto out;
	}
	if (crypto_sign_ed25519_sk_to_pk(pk, k->sign_sk) != 0 ||
	    sodium_memcmp(pk, k->sign_pk, 32) != 0) {
		rc = SP_EKEY;
		goto out;
	}

	/* The box pair is optional (the broker has none) but never half there. */
	rc = read_in(dir, "box.key", k->box_sk, 32, 1);
	has_key = rc == SP_OK;
	if (rc != SP_OK && rc != SP_ENOTFOUND)
		goto out;
	rc = read_in(dir, "box.pub", k->box_pk, 32, 0);
	has_pub = rc == SP_OK;
	if (rc != SP_OK && rc != SP_ENOTFOUND)
		goto out;
	if (has_key != has_pub) {
		rc = SP_EKEY;
		goto out;
	}
	if (has_key) {
		if (crypto_scalarmult_base(pk, k->box_sk) != 0 ||
		    sodium_memcmp(pk, k->box_pk, 32) != 0) {
			rc = SP_EKEY;
			goto out;
		}
		k->has_box = 1;
	}
	*out = k;
	k = NULL;
	rc = SP_OK;
out:
	/* A missing mandatory file is a key problem, not a lookup miss. */
	if (rc == SP_ENOTFOUND)
		rc = SP_EKEY;
	sodium_memzero(pk, sizeof pk);
	sp_keys_free(&k);
	return rc;
}

int sp_keys_exist(const char *dir)
{
	static const char *const names[] = { "curve.key", "sign.key", "box.key" };
	char path[PATH_MAX];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (sp_path_join(dir, names[i], path, sizeof path) == SP_OK && access(path, F_OK) == 0)
			return 1;
	return 0;
}

int sp_keys_save_sign(const sp_keyset *k, const char *dir)
{
	int rc;
	if (!k || !dir)
		return SP_EINVAL;
	if ((rc = sp_mkdir_p(dir, 0700)) != SP_OK)
		return rc;
	if ((rc = write_hex(dir, "sign.key", k->sign_sk, 64, 1)) != SP_OK)
		return rc;
	return write_hex(dir, "sign.pub", k->sign_pk, 32, 0);
}

int sp_keys_load_sign(const char *dir, sp_keyset **out)
{
	sp_keyset *k = NULL;
	uint8_t pk[32];
	int rc;
	if (!dir || !out)
		return SP_EINVAL;
	*out = NULL;
	if (!(k = keyset_new()))
		return SP_ENOMEM;
	if ((rc = read_in(dir, "sign.key", k->sign_sk, 64, 1)) == SP_OK &&
	    (rc = read_in(dir, "sign.pub", k->sign_pk, 32, 0)) == SP_OK &&
	    (crypto_sign_ed25519_sk_to_pk(pk, k->sign_sk) != 0 || sodium_memcmp(pk, k->sign_pk, 32) != 0))
		rc = SP_EKEY;
	if (rc == SP_OK) {
		*out = k;
		k = NULL;
	}
	sp_keys_free(&k);
	return rc == SP_ENOTFOUND ? SP_EKEY : rc;
}

/* Highest n of DIR/old/<n> (0 when none). */
static unsigned old_max(const char *dir)
{
	char path[PATH_MAX];
	unsigned n = 0;
	for (unsigned i = 1; i < 1000; i++) {
		char name[32];
		snprintf(name, sizeof name, "old/%u", i);
		if (sp_path_join(dir, name, path, sizeof path) != SP_OK || access(path, F_OK) != 0)
			break;
		n = i;
	}
	return n;
}

int sp_keys_retire(const char *dir)
{
	static const char *const names[] = { "curve.key", "curve.pub", "sign.key", "sign.pub", "box.key", "box.pub" };
	char to[PATH_MAX], from[PATH_MAX], dst[PATH_MAX], name[32];
	int rc;
	if (!dir)
		return SP_EINVAL;
	snprintf(name, sizeof name, "old/%u", old_max(dir) + 1);
	if ((rc = sp_path_join(dir, name, to, sizeof to)) != SP_OK || (rc = sp_mkdir_p(to, 0700)) != SP_OK)
		return rc;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (sp_path_join(dir, names[i], from, sizeof from) != SP_OK ||
		    sp_path_join(to, names[i], dst, sizeof dst) != SP_OK)
			return SP_ESIZE;
		if (access(from, F_OK) != 0)
			continue;
		/* Same directory tree, same file system: rename keeps the mode
		 * and never leaves a half-written secret. */
		if (rename(from, dst) != 0)
			return SP_EIO;
	}
	return SP_OK;
}

int sp_keys_load_old(const char *dir, sp_keyset **out, size_t max, size_t *n)
{
	char path[PATH_MAX], name[32];
	int rc;
	if (!dir || !out || !n)
		return SP_EINVAL;
	*n = 0;
	for (unsigned i = old_max(dir); i > 0 && *n < max; i--) {
		snprintf(name, sizeof name, "old/%u", i);
		if (sp_path_join(dir, name, path, sizeof path) != SP_OK)
			return SP_ESIZE;
		rc = sp_keys_load(path, &out[*n]);
		if (rc != SP_OK) {
			for (size_t j = 0; j < *n; j++)
				sp_keys_free(&out[j]);
			*n = 0;
			return rc;
		}
		(*n)++;
	}
	return SP_OK;
}

int sp_keyring_load(const char *dir, sp_keyring *kr)
{
	size_t n = 0;
	int rc;
	if (!dir || !kr)
		return SP_EINVAL;
	memset(kr, 0, sizeof *kr);
	if ((rc = sp_keys_load(dir, &kr->k[0])) != SP_OK)
		return rc;
	rc = sp_keys_load_old(dir, &kr->k[1], SP_KEYRING_MAX - 1, &n);
	kr->n = 1 + n;
	if (rc != SP_OK)
		sp_keyring_free(kr);
	return rc;
}

int sp_keyring_select(sp_keyring *kr, const uint8_t curve_pk[32], const uint8_t sign_pk[32])
{
	for (size_t i = 0; i < kr->n; i++) {
		if (memcmp(kr->k[i]->curve_pk, curve_pk, 32) == 0 && memcmp(kr->k[i]->sign_pk, sign_pk, 32) == 0) {
			sp_keyset *t = kr->k[0];
			kr->k[0] = kr->k[i];
			kr->k[i] = t;
			return SP_OK;
		}
	}
	return SP_ENOTFOUND;
}

void sp_keyring_free(sp_keyring *kr)
{
	if (!kr)
		return;
	for (size_t i = 0; i < kr->n; i++)
		sp_keys_free(&kr->k[i]);
	kr->n = 0;
}

int sp_keys_load_transport(const char *dir, sp_keyset **out)
{
	sp_keyset *k = NULL;
	uint8_t pk[32];
	int rc;

	if (!dir || !out)
		return SP_EINVAL;
	*out = NULL;
	k = keyset_new();
	if (!k)
		return SP_ENOMEM;
	if ((rc = read_in(dir, "curve.key", k->curve_sk, 32, 1)) != SP_OK ||
	    (rc = read_in(dir, "curve.pub", k->curve_pk, 32, 0)) != SP_OK ||
	    (rc = read_in(dir, "sign.pub", k->sign_pk, 32, 0)) != SP_OK)
		goto out;
	if (crypto_scalarmult_base(pk, k->curve_sk) != 0 || sodium_memcmp(pk, k->curve_pk, 32) != 0) {
		rc = SP_EKEY;
		goto out;
	}
	rc = read_in(dir, "box.pub", k->box_pk, 32, 0);
	if (rc == SP_ENOTFOUND)
		rc = SP_OK;
	if (rc != SP_OK)
		goto out;
	*out = k;
	k = NULL;
out:
	if (rc == SP_ENOTFOUND)
		rc = SP_EKEY;
	sodium_memzero(pk, sizeof pk);
	sp_keys_free(&k);
	return rc;
}
