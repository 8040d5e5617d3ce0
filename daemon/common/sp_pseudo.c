/*
 * sp_pseudo.c — keyed, epoch-versioned pseudonyms of subjects.
 *
 * The keyring holds one 32-byte key per epoch in sodium_malloc memory
 * (guarded, mlocked, wiped on free). A pseudonym is keyed BLAKE2b-256 with
 * salt = kind || epoch so that a person and a business with the same digits,
 * or the same person under two epochs, never collide; personal =
 * "seinpost-pseudo1" versions the construction itself.
 */
#include "sp_pseudo.h"
#include "sp_util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PSEUDO_PERSONAL "seinpost-pseudo1" /* exactly 16 bytes, no NUL used */
#define KEYRING_MAX_FILE 4096
#define KEYRING_LINE_MAX 96

struct sp_pseudo_keyring {
	size_t n;
	uint32_t epoch[SP_PSEUDO_MAX_EPOCHS];
	uint8_t key[SP_PSEUDO_MAX_EPOCHS][SP_PSEUDO_KEY_BYTES];
};

static sp_pseudo_keyring *keyring_new(void)
{
	sp_pseudo_keyring *kr;
	if (sodium_init() < 0)
		return NULL;
	kr = sodium_malloc(sizeof *kr);
	if (kr)
		sodium_memzero(kr, sizeof *kr);
	return kr;
}

void sp_pseudo_keyring_free(sp_pseudo_keyring **kr)
{
	if (!kr || !*kr)
		return;
	sodium_free(*kr); /* wipes before unmapping */
	*kr = NULL;
}

int sp_pseudo_keyring_generate(uint32_t epoch, sp_pseudo_keyring **out)
{
	sp_pseudo_keyring *kr;
	if (!out)
		return SP_EINVAL;
	*out = NULL;
	kr = keyring_new();
	if (!kr)
		return SP_ENOMEM;
	kr->n = 1;
	kr->epoch[0] = epoch;
	crypto_generichash_blake2b_keygen(kr->key[0]);
	*out = kr;
	return SP_OK;
}

static int keyring_index(const sp_pseudo_keyring *kr, uint32_t epoch);

int sp_pseudo_keyring_rotate(sp_pseudo_keyring *kr, uint32_t *new_epoch)
{
	uint32_t next;
	if (!kr || kr->n >= SP_PSEUDO_MAX_EPOCHS)
		return SP_ESIZE;
	next = sp_pseudo_current_epoch(kr) + 1;
	if (next == 0)
		return SP_EINVAL;
	kr->epoch[kr->n] = next;
	crypto_generichash_blake2b_keygen(kr->key[kr->n]);
	kr->n++;
	if (new_epoch)
		*new_epoch = next;
	return SP_OK;
}

static int keyring_index(const sp_pseudo_keyring *kr, uint32_t epoch)
{
	for (size_t i = 0; i < kr->n; i++)
		if (kr->epoch[i] == epoch)
			return (int)i;
	return -1;
}

/* One line: "epoch <n> <64 hex>". Blank lines and '#' comments are allowed
 * so an operator can annotate rotations. */
static int keyring_parse_line(sp_pseudo_keyring *kr, char *line)
{
	char *p = line, *end, *hex;
	unsigned long ep;
	size_t len = strlen(line);

	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		line[--len] = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return SP_OK;
	if (strncmp(p, "epoch ", 6) != 0)
		return SP_EKEY;
	p += 6;
	if (*p < '0' || *p > '9')
		return SP_EKEY;
	ep = strtoul(p, &end, 10);
	if (end == p || *end != ' ' || ep > UINT32_MAX)
		return SP_EKEY;
	hex = end + 1;
	if (kr->n >= SP_PSEUDO_MAX_EPOCHS || keyring_index(kr, (uint32_t)ep) >= 0)
		return SP_EKEY;
	if (sp_unhex(hex, kr->key[kr->n], SP_PSEUDO_KEY_BYTES) != SP_OK)
		return SP_EKEY;
	kr->epoch[kr->n++] = (uint32_t)ep;
	return SP_OK;
}

int sp_pseudo_keyring_load(const char *path, sp_pseudo_keyring **out)
{
	sp_pseudo_keyring *kr = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (!path || !out)
		return SP_EINVAL;
	*out = NULL;
	/* Refuse before reading: a key others could read is already leaked. */
	rc = sp_file_check_private(path);
	if (rc != SP_OK)
		goto out;
	rc = sp_file_read(path, KEYRING_MAX_FILE, &buf, &len);
	if (rc != SP_OK)
		goto out;
	kr = keyring_new();
	if (!kr) {
		rc = SP_ENOMEM;
		goto out;
	}
	if (memchr(buf, '\0', len)) {
		rc = SP_EKEY;
		goto out;
	}
	for (char *line = (char *)buf, *nl; line && *line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		rc = keyring_parse_line(kr, line);
		if (rc != SP_OK)
			goto out;
	}
	if (kr->n == 0) {
		rc = SP_EKEY;
		goto out;
	}
	*out = kr;
	kr = NULL;
	rc = SP_OK;
out:
	if (buf) {
		sodium_memzero(buf, len);
		free(buf);
	}
	sp_pseudo_keyring_free(&kr);
	return rc;
}

int sp_pseudo_keyring_save(const sp_pseudo_keyring *kr, const char *path)
{
	char *buf = NULL;
	size_t cap, len = 0;
	char hex[2 * SP_PSEUDO_KEY_BYTES + 1];
	int rc = SP_OK;

	if (!kr || !path || kr->n == 0)
		return SP_EINVAL;
	cap = kr->n * KEYRING_LINE_MAX;
	buf = sodium_malloc(cap);
	if (!buf)
		return SP_ENOMEM;
	for (size_t i = 0; i < kr->n; i++) {
		sp_hex(kr->key[i], SP_PSEUDO_KEY_BYTES, hex);
		int w = snprintf(buf + len, cap - len, "epoch %lu %s\n",
		                 (unsigned long)kr->epoch[i], hex);
		if (w < 0 || (size_t)w >= cap - len) {
			rc = SP_ESIZE;
			goto out;
		}
		len += (size_t)w;
	}
	rc = sp_file_write(path, buf, len, 0600);
out:
	sodium_memzero(hex, sizeof hex);
	sodium_free(buf);
	return rc;
}

uint32_t sp_pseudo_current_epoch(const sp_pseudo_keyring *kr)
{
	uint32_t best = 0;
	if (!kr)
		return 0;
	for (size_t i = 0; i < kr->n; i++)
		if (kr->epoch[i] > best)
			best = kr->epoch[i];
	return best;
}

static int id_ok(int kind, const char *id)
{
	size_t want, n = id ? strlen(id) : 0;
	switch (kind) {
	case SP_SUBJECT_PERSON: want = 9; break;
	case SP_SUBJECT_BUSINESS: want = 8; break;
	case SP_SUBJECT_LOCATION: want = 16; break;
	default: return 0;
	}
	if (n != want)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (id[i] < '0' || id[i] > '9')
			return 0;
	return 1;
}

int sp_pseudo_derive(const sp_pseudo_keyring *kr, uint32_t epoch, int kind,
                     const char *normalised_id, uint8_t out[SP_PSEUDO_BYTES])
{
	uint8_t salt[crypto_generichash_blake2b_SALTBYTES] = { 0 };
	int i;

	if (!kr || !out)
		return SP_EINVAL;
	/* Only canonical ids: "012345678" and "12345678" must not give two
	 * pseudonyms for one child. */
	if (!id_ok(kind, normalised_id))
		return SP_EINVAL;
	i = keyring_index(kr, epoch);
	if (i < 0)
		return SP_EKEY;
	/* salt = "sp" || kind (1 byte) || epoch (be32) || zeros */
	salt[0] = 's';
	salt[1] = 'p';
	salt[2] = (uint8_t)kind;
	salt[3] = (uint8_t)(epoch >> 24);
	salt[4] = (uint8_t)(epoch >> 16);
	salt[5] = (uint8_t)(epoch >> 8);
	salt[6] = (uint8_t)epoch;
	if (crypto_generichash_blake2b_salt_personal(out, SP_PSEUDO_BYTES,
	        (const uint8_t *)normalised_id, strlen(normalised_id),
	        kr->key[i], SP_PSEUDO_KEY_BYTES, salt,
	        (const uint8_t *)PSEUDO_PERSONAL) != 0)
		return SP_ECRYPTO;
	return SP_OK;
}
