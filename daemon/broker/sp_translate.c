/*
 * sp_translate.c — rotation of the pseudonymisation key by translation at
 * the broker (sp_translate.h).
 *
 * Stored: META "xl:" be32(epoch) -> nonce(24) || XChaCha20-Poly1305(δ_e),
 * AD "seinpost/translate/v1" || be32(epoch), under the 32-byte key in
 * keys/translate.key (0600, made by the first translation): the store
 * alone (a backup, a copied disk) does not give δ, which translates old
 * pseudonyms without the service.
 */
#include "sp_translate.h"
#include "sp_meta_keys.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sp_audit.h"
#include "sp_keys.h"
#include "sp_kh.h"
#include "sp_oprf.h"
#include "sp_release.h"
#include "sp_toprf.h"
#include "sp_util.h"
#include "sp_wire.h"

#define AD_DOMAIN "seinpost/translate/v1"
#define SEALED_LEN (crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + 32 + crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* ---- the re-key pass: one line per store and key layout ----------------- */

/* A value fixer rewrites the pseudonym(s) a stored value carries; fx has
 * δ, the new epoch and the key's pseudonym before and after (old, new:
 * NULL for a step whose key holds none), so a value holding the key's own
 * pseudonym copies its translation instead of computing it again. */
struct fixctx {
	const uint8_t *delta;
	uint32_t epoch;
	const uint8_t *old, *new;
};
struct item;
typedef int (*value_fix)(struct item *x, const struct fixctx *fx);
static int fix_involvement(struct item *x, const struct fixctx *fx);
static int fix_referral(struct item *x, const struct fixctx *fx);

struct step {
	enum sp_db db;
	const char *prefix; /* the step's keys start with it */
	size_t plen;
	size_t klen;        /* keys of exactly this length (0: any, at least the pseudonyms) */
	size_t at[2];       /* where the pseudonyms are in the key */
	size_t nat;         /* how many (0: only the value carries one) */
	value_fix fix;      /* NULL: the value holds no pseudonym */
	const char *what;
};

/* Everything the broker keys by a network pseudonym (sp_meta_keys.h): one
 * line per store and layout. The audit log is NOT re-keyed: its records
 * are signed history under the pseudonym of their time; who-saw maps back
 * (sp_translate_earlier). The stored signal headers are signed by their
 * senders: translated on decode (sp_translate_header). Pending releases
 * ("r:") and queued deliveries are keyed by organisation and signal id.
 * The subject handles (SP_DB_SUBJECT) are re-keyed with the rest, so every
 * recipient's own pseudonym (sp_subject.h) stays as it was. The pseudonym
 * beside a stored header (Signal.subject_pseudonym) is not rewritten either:
 * the header's commitment binds it, so it is translated where it is used
 * (sp_translate_header after sp_wire fills it in). */
static const struct step steps[] = {
	{ SP_DB_INVOLVE, "", 0, 0, { 0 }, 1, fix_involvement, "involvements" },       /* P org -> Involvement */
	{ SP_DB_META, SP_MK_SUBJECT, 2, 50, { 2 }, 1, NULL, "indexed signals" },      /* "s:" P id -> created.. */
	{ SP_DB_META, SP_MK_ESCALATED, 2, 50, { 2 }, 1, NULL, "escalation windows" }, /* "e:" P id -> referral */
	{ SP_DB_META, SP_MK_REFERRAL, 2, 34, { 2 }, 1, fix_referral, "referrals" },   /* "f:" P -> Referral */
	{ SP_DB_META, SP_MK_ALIAS, 2, 66, { 2, 34 }, 2, NULL, "epoch links" },        /* "a:" P P */
	{ SP_DB_SUBJECT, "", 0, 32, { 0 }, 1, NULL, "subject handles" },            /* P -> handle (sp_subject.h) */
};

/* Stores whose values, not keys, carry a pseudonym, each rewritten by its
 * owner: pending releases ("r:") hold the referral they are part of. */
static void rekey_cb(void *ctx, uint8_t p[32]);
static const struct value_pass {
	int (*run)(sp_txn *t, void (*fn)(void *ctx, uint8_t p[32]), void *ctx, uint64_t *count);
	const char *what;
} value_passes[] = {
	{ sp_release_held_rekey, "pending releases" },
};

/* ---- the chain in this process --------------------------------------------- */

static struct {
	uint8_t *key;         /* sodium_malloc: the at-rest key of keys/translate.key */
	int has_key;
	uint32_t cur;
	int loaded;           /* a broker that loaded its chain (sp_translate_load): elsewhere, headers pass as they are */
	uint8_t (*delta)[32]; /* sodium_malloc: delta[e] for e = 1..cur */
	uint8_t (*cum)[32];   /* cum[j] = Π_{e=j+1..cur} δ_e: epoch j -> cur */
} X;

static void xl_key(uint8_t k[7], uint32_t e)
{
	memcpy(k, SP_MK_TRANSLATE, 3);
	k[3] = (uint8_t)(e >> 24);
	k[4] = (uint8_t)(e >> 16);
	k[5] = (uint8_t)(e >> 8);
	k[6] = (uint8_t)e;
}

static void ad_of(uint8_t ad[sizeof AD_DOMAIN - 1 + 4], uint32_t e)
{
	memcpy(ad, AD_DOMAIN, sizeof AD_DOMAIN - 1);
	memcpy(ad + sizeof AD_DOMAIN - 1, (uint8_t[4]){ (uint8_t)(e >> 24), (uint8_t)(e >> 16), (uint8_t)(e >> 8), (uint8_t)e },
	       4);
}

static int chain_alloc(void);

static int key_path(const char *keys_dir, char *out, size_t len)
{
	return sp_path_join(keys_dir, SP_TRANSLATE_KEY_FILE, out, len);
}

int sp_translate_key_load(const char *keys_dir)
{
	char path[PATH_MAX];
	uint8_t *buf = NULL;
	size_t n = 0;
	struct stat st;
	int rc;
	if ((rc = key_path(keys_dir, path, sizeof path)) != SP_OK || (rc = chain_alloc()) != SP_OK)
		return rc;
	if (stat(path, &st) != 0)
		return SP_OK; /* no translation yet */
	if ((rc = sp_file_check_private(path)) != SP_OK || (rc = sp_file_read(path, 256, &buf, &n)) != SP_OK)
		return rc;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	rc = n == 64 && sp_unhex((const char *)buf, X.key, 32) == SP_OK ? SP_OK : SP_EKEY;
	X.has_key = rc == SP_OK;
	sodium_memzero(buf, n);
	free(buf);
	return rc;
}

static int key_create(const char *keys_dir)
{
	char path[PATH_MAX], hex[65];
	int rc;
	if (X.has_key)
		return SP_OK;
	if ((rc = sp_translate_key_load(keys_dir)) != SP_OK || X.has_key)
		return rc;
	if ((rc = key_path(keys_dir, path, sizeof path)) != SP_OK || (rc = chain_alloc()) != SP_OK)
		return rc;
	randombytes_buf(X.key, 32);
	sp_hex(X.key, 32, hex);
	hex[64] = '\n';
	rc = sp_file_write(path, hex, 65, 0600);
	sodium_memzero(hex, sizeof hex);
	X.has_key = rc == SP_OK;
	return rc;
}

struct collect_xl {
	uint32_t n;
	int rc;
};

static int unseal_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct collect_xl *c = ctx;
	const uint8_t *kb = k, *vb = v;
	uint8_t ad[sizeof AD_DOMAIN - 1 + 4];
	uint32_t e;
	unsigned long long ml;
	if (kl != 7 || vl != SEALED_LEN) {
		c->rc = SP_ECORRUPT;
		return 1;
	}
	e = (uint32_t)kb[3] << 24 | (uint32_t)kb[4] << 16 | (uint32_t)kb[5] << 8 | kb[6];
	if (e != c->n + 1 || e > SP_TRANSLATE_MAX_EPOCHS) { /* 1, 2, ... with no gap */
		c->rc = SP_ECORRUPT;
		return 1;
	}
	ad_of(ad, e);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(X.delta[e], &ml, NULL, vb + 24, vl - 24, ad, sizeof ad, vb,
	                                               X.key) != 0 ||
	    ml != 32) {
		c->rc = SP_EKEY;
		return 1;
	}
	c->n = e;
	return 0;
}

static void cum_compute(void)
{
	sp_toprf_scalar_u32(X.cum[X.cur], 1);
	for (uint32_t j = X.cur; j-- > 0;)
		crypto_core_ristretto255_scalar_mul(X.cum[j], X.cum[j + 1], X.delta[j + 1]);
}

static int chain_alloc(void)
{
	if (X.delta && X.cum && X.key)
		return SP_OK;
	if (sodium_init() < 0)
		return SP_ECRYPTO;
	if (!X.delta)
		X.delta = sodium_malloc(32 * (SP_TRANSLATE_MAX_EPOCHS + 1));
	if (!X.cum)
		X.cum = sodium_malloc(32 * (SP_TRANSLATE_MAX_EPOCHS + 1));
	if (!X.key)
		X.key = sodium_malloc(32);
	return X.delta && X.cum && X.key ? SP_OK : SP_ENOMEM;
}

static int load_txn(sp_txn *t)
{
	struct collect_xl c = { 0, SP_OK };
	int rc;
	if ((rc = chain_alloc()) != SP_OK)
		return rc;
	X.cur = 0;
	rc = sp_store_foreach(t, SP_DB_META, SP_MK_TRANSLATE, 3, unseal_one, &c);
	if (rc < 0)
		return rc;
	if (c.rc != SP_OK)
		return c.rc;
	X.cur = c.n;
	cum_compute();
	return SP_OK;
}

static int any_record(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	*(int *)ctx = 1;
	return 1;
}

int sp_translate_load(sp_store *st)
{
	sp_txn *t = NULL;
	int rc, any = 0;
	if ((rc = sp_txn_begin(st, 0, &t)) != SP_OK)
		return rc;
	(void)sp_store_foreach(t, SP_DB_META, SP_MK_TRANSLATE, 3, any_record, &any);
	if (any && !X.has_key)
		rc = SP_EKEY; /* translations stored, and keys/translate.key gone */
	else if ((rc = chain_alloc()) == SP_OK && any)
		rc = load_txn(t);
	else if (rc == SP_OK) {
		X.cur = 0;
		cum_compute();
	}
	X.loaded = rc == SP_OK;
	sp_txn_abort(&t);
	return rc;
}

uint32_t sp_translate_epoch(void)
{
	return X.cur;
}

int sp_translate_to_current(uint32_t epoch, const uint8_t in[32], uint8_t out[32])
{
	uint32_t j;
	if (!SP_PSEUDO_EPOCH_IS_OPRF(epoch) || epoch - SP_PSEUDO_EPOCH_OPRF == X.cur) {
		if (out != in)
			memmove(out, in, 32);
		return SP_OK;
	}
	j = epoch - SP_PSEUDO_EPOCH_OPRF;
	if (j > X.cur || !X.cum)
		return SP_EKEY;
	return sp_toprf_translate(X.cum[j], in, out);
}

int sp_translate_header(Seinpost__SignalHeader *h)
{
	int rc;
	if (!h || h->pseudonym.len != 32 || !X.loaded)
		return SP_OK; /* no subject; or not a broker (a node's retention reads headers too) */
	if (!SP_PSEUDO_EPOCH_IS_OPRF(h->pseudonym_epoch) || h->pseudonym_epoch - SP_PSEUDO_EPOCH_OPRF == X.cur)
		return SP_OK;
	if ((rc = sp_translate_to_current(h->pseudonym_epoch, h->pseudonym.data, h->pseudonym.data)) != SP_OK)
		return rc;
	h->pseudonym_epoch = SP_PSEUDO_EPOCH_OPRF + X.cur;
	return SP_OK;
}

size_t sp_translate_earlier(const uint8_t p[32], uint8_t (*ps)[32], uint8_t (*proofs)[64], size_t max)
{
	uint8_t inv[32];
	const uint8_t *newer = p;
	size_t n = 0;
	for (uint32_t e = X.cur; e >= 1 && n < max; e--) {
		if (crypto_core_ristretto255_scalar_invert(inv, X.delta[e]) != 0 ||
		    sp_toprf_translate(inv, newer, ps[n]) != SP_OK ||
		    sp_toprf_dleq_prove(X.delta[e], ps[n], newer, 1, NULL, proofs[n]) != SP_OK)
			break;
		newer = ps[n++];
	}
	sodium_memzero(inv, sizeof inv);
	return n;
}

int sp_translate_earlier_verify(const sp_roster *r, uint32_t e, const uint8_t older[32], const uint8_t newer[32],
                                const uint8_t proof[64])
{
	const sp_oprf_rotation *rot = sp_roster_oprf_rotation_of(r, e);
	if (!rot)
		return SP_ENOTFOUND;
	return sp_toprf_dleq_verify(rot->d, older, newer, 1, proof);
}

/* ---- the pass ------------------------------------------------------------- */

struct item {
	uint8_t *k, *v;
	size_t kl, vl;
};

struct walk {
	const struct step *s;
	struct item *it;
	size_t n, cap;
	int rc;
};

static int take(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct walk *w = ctx;
	const struct step *s = w->s;
	if ((s->klen && kl != s->klen) || (s->nat && kl < s->at[s->nat - 1] + 32))
		return 0; /* not of this layout (another key sharing the prefix) */
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct item *a = realloc(w->it, cap * sizeof *a);
		if (!a) {
			w->rc = SP_ENOMEM;
			return 1;
		}
		w->it = a;
		w->cap = cap;
	}
	struct item *x = &w->it[w->n];
	x->k = malloc(kl);
	x->v = malloc(vl ? vl : 1);
	if (!x->k || !x->v) {
		free(x->k);
		free(x->v);
		w->rc = SP_ENOMEM;
		return 1;
	}
	memcpy(x->k, k, kl);
	memcpy(x->v, v, vl);
	x->kl = kl;
	x->vl = vl;
	w->n++;
	return 0;
}

/* P' = δ·P where P is a valid element; anything else (a pseudo.key
 * pseudonym of an old network) stays as it is. */
static void rekey(const uint8_t delta[32], uint8_t *p)
{
	uint8_t out[32];
	if (sp_toprf_translate(delta, p, out) == SP_OK)
		memcpy(p, out, 32);
}

static void rekey_cb(void *ctx, uint8_t p[32])
{
	rekey(ctx, p);
}

/* The value's pseudonym: mostly the key's own (then its translation is
 * copied, not computed again: a scalar multiplication each). */
static void rekey_as(const uint8_t delta[32], uint8_t *p, const uint8_t *old, const uint8_t *new)
{
	if (old && new && memcmp(p, old, 32) == 0)
		memcpy(p, new, 32);
	else
		rekey(delta, p);
}

static int fix_involvement(struct item *x, const struct fixctx *fx)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;
	Seinpost__Involvement *inv = seinpost__involvement__unpack(NULL, x->vl, x->v);
	if (!inv)
		return SP_ECORRUPT;
	if (inv->pseudonym.len == 32 && SP_PSEUDO_EPOCH_IS_OPRF(inv->pseudonym_epoch)) {
		rekey_as(fx->delta, inv->pseudonym.data, fx->old, fx->new);
		inv->pseudonym_epoch = SP_PSEUDO_EPOCH_OPRF + fx->epoch;
	}
	rc = sp_wire_pack(&inv->base, &buf, &len);
	seinpost__involvement__free_unpacked(inv, NULL);
	if (rc == SP_OK) {
		free(x->v);
		x->v = buf;
		x->vl = len;
	}
	return rc;
}

static int fix_referral(struct item *x, const struct fixctx *fx)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;
	Seinpost__Referral *ref = seinpost__referral__unpack(NULL, x->vl, x->v);
	if (!ref)
		return SP_ECORRUPT;
	if (ref->pseudonym.len == 32)
		rekey_as(fx->delta, ref->pseudonym.data, fx->old, fx->new);
	rc = sp_wire_pack(&ref->base, &buf, &len);
	seinpost__referral__free_unpacked(ref, NULL);
	if (rc == SP_OK) {
		free(x->v);
		x->v = buf;
		x->vl = len;
	}
	return rc;
}

/* One step: copy out, delete every old key, put every new key. */
static int run_step(sp_txn *t, const struct step *s, const uint8_t delta[32], uint32_t epoch, uint64_t *count)
{
	struct walk w = { .s = s };
	int rc;
	rc = sp_store_foreach(t, s->db, s->prefix, s->plen, take, &w);
	if (rc < 0 || w.rc != SP_OK) {
		rc = rc < 0 ? rc : w.rc;
		goto out;
	}
	rc = SP_OK;
	for (size_t i = 0; i < w.n && rc == SP_OK && s->nat; i++) /* keys that change: all out first */
		rc = sp_store_del(t, s->db, w.it[i].k, w.it[i].kl);
	for (size_t i = 0; i < w.n && rc == SP_OK; i++) {
		struct item *x = &w.it[i];
		uint8_t old[32];
		struct fixctx fx = { delta, epoch, NULL, NULL };
		if (s->nat) {
			memcpy(old, x->k + s->at[0], 32);
			fx.old = old;
			fx.new = x->k + s->at[0];
		}
		for (size_t a = 0; a < s->nat; a++)
			rekey(delta, x->k + s->at[a]);
		if (!s->fix || (rc = s->fix(x, &fx)) == SP_OK)
			rc = sp_store_put(t, s->db, x->k, x->kl, x->v, x->vl, 0);
	}
	*count += w.n;
out:
	for (size_t i = 0; i < w.n; i++) {
		free(w.it[i].k);
		free(w.it[i].v);
	}
	free(w.it);
	return rc;
}

/* Between machines the ceremony seals δ to the broker's CURVE key
 * (sp_ceremony.c): open it and check it against d. */
static int unseal_delta(const char *keys_dir, Seinpost__PseudonymTranslation *x, uint8_t delta[32], char *why,
                        size_t whylen)
{
	sp_keyset *k = NULL;
	uint8_t d[32];
	int rc = sp_keys_load(keys_dir, &k);
	if (rc != SP_OK) {
		WHY("%s: the broker's keys: %s", keys_dir, sp_strerror(rc));
		return rc;
	}
	rc = SP_ECRYPTO;
	if (crypto_box_seal_open(delta, x->sealed_delta.data, x->sealed_delta.len, k->curve_pk, k->curve_sk) != 0)
		WHY("the translation file is not sealed to this broker's key");
	else if (sodium_is_zero(delta, 32) || crypto_scalarmult_ristretto255_base(d, delta) != 0 ||
	         sodium_memcmp(d, x->d.data, 32) != 0)
		WHY("the translation file's delta does not match its d");
	else {
		x->delta.data = delta; /* borrowed: wiped by the caller */
		x->delta.len = 32;
		rc = SP_OK;
	}
	sp_keys_free(&k);
	return rc;
}

int sp_translate_apply(sp_store *st, const char *keys_dir, const sp_roster *r, const uint8_t *file, size_t len,
                       uint64_t *count, char *why, size_t whylen)
{
	Seinpost__PseudonymTranslation *x = NULL;
	const sp_oprf_rotation *rot;
	uint8_t k[7], sealed[SEALED_LEN], ad[sizeof AD_DOMAIN - 1 + 4], delta[32];
	char reason[256], dhex[65];
	sp_txn *t = NULL;
	int rc;

	*count = 0;
	why[0] = '\0';
	if ((rc = sp_wire_decode_translation(file, len, &x, why, whylen)) != SP_OK)
		return rc;
	if (x->sealed_delta.len && (rc = unseal_delta(keys_dir, x, delta, why, whylen)) != SP_OK)
		goto out;
	if ((rc = sp_translate_key_load(keys_dir)) != SP_OK || (rc = sp_translate_load(st)) != SP_OK) {
		WHY("the stored translations cannot be opened (%s): %s", SP_TRANSLATE_KEY_FILE, sp_strerror(rc));
		goto out;
	}
	rc = SP_EINVAL;
	if (x->epoch != X.cur + 1 || x->epoch > SP_TRANSLATE_MAX_EPOCHS) {
		WHY("the file translates into key epoch %u; this broker is at epoch %u (translate each epoch once, in "
		    "order)", x->epoch, X.cur);
		goto out;
	}
	rot = sp_roster_oprf_rotation_of(r, x->epoch);
	if (!rot || sodium_memcmp(rot->d, x->d.data, 32) != 0 || memcmp(rot->new_key, x->new_group_key.data, 32) != 0) {
		WHY("the roster has no rotation to key epoch %u with this d = delta*G and group key: the nodes would "
		    "not make the pseudonyms it translates to", x->epoch);
		goto out;
	}
	if ((rc = key_create(keys_dir)) != SP_OK) {
		WHY("%s/%s: %s", keys_dir, SP_TRANSLATE_KEY_FILE, sp_strerror(rc));
		goto out;
	}
	if ((rc = sp_txn_begin(st, 1, &t)) != SP_OK)
		goto out;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0] && rc == SP_OK; i++)
		rc = run_step(t, &steps[i], x->delta.data, x->epoch, count);
	for (size_t i = 0; i < sizeof value_passes / sizeof value_passes[0] && rc == SP_OK; i++)
		rc = value_passes[i].run(t, rekey_cb, x->delta.data, count);
	if (rc != SP_OK) {
		WHY("re-keying: %s", sp_strerror(rc));
		goto out;
	}
	/* δ sealed at rest, in the same transaction */
	xl_key(k, x->epoch);
	ad_of(ad, x->epoch);
	randombytes_buf(sealed, 24);
	crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + 24, NULL, x->delta.data, 32, ad, sizeof ad, NULL, sealed,
	                                           X.key);
	if ((rc = sp_store_put(t, SP_DB_META, k, sizeof k, sealed, sizeof sealed, SP_PUT_NOOVERWRITE)) != SP_OK)
		goto out;
	snprintf(reason, sizeof reason, "pseudonymisation key epoch %u -> %u, d = %s", x->epoch - 1, x->epoch,
	         sp_hex(x->d.data, 32, dhex));
	{
		sp_audit_entry a = {
			.event = SEINPOST__AUDIT_EVENT__AUDIT_PSEUDONYMS_TRANSLATED,
			.actor = "broker",
			.reason = reason,
			.count = (uint32_t)(*count > UINT32_MAX ? UINT32_MAX : *count),
		};
		if ((rc = sp_audit_append(t, &a, NULL)) != SP_OK)
			goto out;
	}
	if ((rc = sp_txn_commit(&t)) != SP_OK) {
		WHY("commit: %s", sp_strerror(rc));
		goto out;
	}
	memcpy(X.delta[x->epoch], x->delta.data, 32);
	X.cur = x->epoch;
	cum_compute();
out:
	sp_txn_abort(&t);
	if (rc != SP_OK && !why[0])
		WHY("%s", sp_strerror(rc));
	if (x) {
		sodium_memzero(x->delta.data, x->delta.len);
		if (x->delta.data == delta)
			x->delta = (ProtobufCBinaryData){ 0, NULL }; /* ours, not the decoder's */
		seinpost__pseudonym_translation__free_unpacked(x, NULL);
	}
	sodium_memzero(delta, sizeof delta);
	return rc;
}
