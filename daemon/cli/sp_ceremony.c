/*
 * sp_ceremony.c — the t-of-n pseudonymisation key's generation (DKG) and
 * rotation between machines, as files (docs/pseudonymiser.md, "Between
 * machines"). No party, the network operator included, ever holds k.
 *
 *   seinpost --config SERVICE ceremony deal OUT [--peers DIR --threshold T]
 *       each instance's operator on its own machine: a random polynomial
 *       (rotation: a sharing of zero and a random contribution δ_i), its
 *       Feldman commitments, and each instance's sub-share sealed
 *       (crypto_box_seal) to that instance's CURVE key, the file signed with
 *       the dealer's Ed25519 key: OUT/deal-<index>.bin, sent to everyone.
 *   seinpost --config SERVICE ceremony combine DEALS [OUT] [--peers DIR]
 *       each instance: every deal's signature and session checked, its own
 *       sub-shares opened and checked against their dealer's commitments (a
 *       failure names the dealer: a complaint; nothing is written), then
 *       key generation: s_i = Σ sub-shares, a new enrol.json (s_i·G, index)
 *       for `roster add`; rotation: δ = Π δ_d, s_i' = δ·s_i + Σ z_d(i), and in
 *       OUT the rotation proposal for the operator and the translation file
 *       for the broker (δ sealed to the broker's CURVE key).
 *   seinpost ceremony commit ROSTER DEALS (--peers DIR | --rotation FILE)
 *       the network operator: the commitments onto the roster (key
 *       generation; the instances then enrol with `roster add`, which checks
 *       each s_i·G against them), or the rotation: the proofs checked, the
 *       dealers' sharings of zero added, the rotation record appended.
 *
 * Participants: for key generation, DIR/1.json .. DIR/n.json are the
 * instances' enrol.json files (their index is the file's number; the
 * operator hands the same DIR to everyone); for a rotation, the roster's
 * pseudonymisers. The session (BLAKE2b over the kind, key epoch, network,
 * t, n, every participant's index and keys and, for a rotation, the current
 * commitments) is in every deal: a deal of another ceremony is refused.
 *
 * Keys: a dealer signs with its sign key and seals to the recipients'
 * CURVE keys (X25519; crypto_box_seal uses a fresh sender key, so nothing is
 * shared with the CurveZMQ handshake but the recipient's key pair).
 */
#include <dirent.h>
#include <stdarg.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seinpost.pb-c.h"
#include "sp_cli.h"
#include "sp_config.h"
#include "sp_enrol.h"
#include "sp_keys.h"
#include "sp_network.h"
#include "sp_oprfsvc.h"
#include "sp_roster.h"
#include "sp_rosterstate.h"
#include "sp_toprf.h"
#include "sp_util.h"
#include "sp_wire.h"

#define DOMAIN "seinpost/ceremony/v1"
#define SESSION_DOMAIN "seinpost/ceremony-session/v1"
#define KIND_DKG 1
#define KIND_ROTATE 2
#define N_MAX SP_TOPRF_MAX_N
#define SEALBYTES crypto_box_SEALBYTES
#define ERR(...) say(err, errlen, __VA_ARGS__)

__attribute__((format(printf, 3, 4))) static int say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return SP_EINVAL;
}

struct party {
	char id[SP_ID_MAX];
	uint8_t curve[32], sign[32];
};

struct cer {
	int kind;
	uint32_t t, n, epoch;
	struct party p[N_MAX]; /* p[i] has index i + 1 */
	uint8_t commits[N_MAX * 32]; /* rotation: the current ones */
	uint8_t broker_curve[32];
	uint8_t session[32];
	char network[SP_ID_MAX];
};

struct deals {
	Seinpost__SignedCeremonyDeal *sd[N_MAX];
	Seinpost__CeremonyDeal *d[N_MAX]; /* by dealer index - 1 */
};

static void session_of(struct cer *c)
{
	crypto_generichash_state h;
	uint8_t b[4];
	crypto_generichash_init(&h, NULL, 0, 32);
	crypto_generichash_update(&h, (const uint8_t *)SESSION_DOMAIN, sizeof SESSION_DOMAIN - 1);
	b[0] = (uint8_t)c->kind;
	crypto_generichash_update(&h, b, 1);
	for (int k = 0; k < 3; k++) {
		uint32_t v = k == 0 ? c->epoch : k == 1 ? c->t : c->n;
		b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8), b[3] = (uint8_t)v;
		crypto_generichash_update(&h, b, 4);
	}
	crypto_generichash_update(&h, (const uint8_t *)c->network, strlen(c->network) + 1);
	for (uint32_t i = 0; i < c->n; i++) {
		crypto_generichash_update(&h, (const uint8_t *)c->p[i].id, strlen(c->p[i].id) + 1);
		crypto_generichash_update(&h, c->p[i].curve, 32);
		crypto_generichash_update(&h, c->p[i].sign, 32);
	}
	if (c->kind == KIND_ROTATE) {
		crypto_generichash_update(&h, c->commits, 32 * (size_t)c->t);
		crypto_generichash_update(&h, c->broker_curve, 32);
	}
	crypto_generichash_final(&h, c->session, 32);
}

/* Key generation: the participants are DIR/1.json .. DIR/n.json. */
static int cer_from_peers(struct cer *c, const char *dir, uint32_t t, const sp_roster *r, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->kind = KIND_DKG;
	c->t = t;
	snprintf(c->network, sizeof c->network, "%s", sp_roster_network(r));
	for (uint32_t i = 0; i < N_MAX; i++) {
		char path[PATH_MAX], name[16], why[256];
		sp_enrol e;
		snprintf(name, sizeof name, "%u.json", i + 1);
		if (sp_path_join(dir, name, path, sizeof path) != SP_OK)
			return SP_ESIZE;
		if (access(path, F_OK) != 0)
			break;
		if (sp_enrol_read(path, &e, why, sizeof why) != SP_OK || strcmp(e.role, "pseudonymiser") != 0)
			return ERR("%s: %s", path, why[0] ? why : "not a pseudonymiser's enrol.json");
		snprintf(c->p[i].id, sizeof c->p[i].id, "%s", e.org);
		memcpy(c->p[i].curve, e.curve_pk, 32);
		memcpy(c->p[i].sign, e.sign_pk, 32);
		c->n = i + 1;
	}
	if (c->n < 2 || t < 2 || t > c->n)
		return ERR("%s: %u instance(s) (1.json, 2.json, ...) for threshold %u: need 2 <= T <= N", dir, c->n, t);
	session_of(c);
	return SP_OK;
}

/* Rotation: the roster's instances, commitments and broker key. */
static int cer_from_roster(struct cer *c, const sp_roster *r, char *err, size_t errlen)
{
	const uint8_t *cm;
	memset(c, 0, sizeof *c);
	c->kind = KIND_ROTATE;
	if (!(cm = sp_roster_oprf_commitments(r, &c->t)))
		return ERR("the roster has no t-of-n pseudonymisation service");
	memcpy(c->commits, cm, 32 * (size_t)c->t);
	c->epoch = sp_roster_oprf_epoch(r) + 1;
	memcpy(c->broker_curve, sp_roster_broker_curve(r), 32);
	snprintf(c->network, sizeof c->network, "%s", sp_roster_network(r));
	for (size_t i = 0; i < sp_roster_count(r); i++) {
		const sp_org *o = sp_roster_at(r, i);
		if (!o->oprf_index || o->oprf_index > N_MAX)
			continue;
		snprintf(c->p[o->oprf_index - 1].id, sizeof c->p[0].id, "%s", o->id);
		memcpy(c->p[o->oprf_index - 1].curve, o->curve_pk, 32);
		memcpy(c->p[o->oprf_index - 1].sign, o->sign_pk, 32);
		c->n = o->oprf_index > c->n ? o->oprf_index : c->n;
	}
	for (uint32_t i = 0; i < c->n; i++)
		if (!c->p[i].id[0])
			return ERR("the roster has no pseudonymiser of index %u", i + 1);
	session_of(c);
	return SP_OK;
}

static uint32_t my_index(const struct cer *c, const uint8_t sign_pk[32])
{
	for (uint32_t i = 0; i < c->n; i++)
		if (sodium_memcmp(c->p[i].sign, sign_pk, 32) == 0)
			return i + 1;
	return 0;
}

static int signed_msg(const uint8_t *deal, size_t len, uint8_t **out, size_t *outlen)
{
	*outlen = sizeof DOMAIN - 1 + len;
	if (!(*out = malloc(*outlen)))
		return SP_ENOMEM;
	memcpy(*out, DOMAIN, sizeof DOMAIN - 1);
	memcpy(*out + sizeof DOMAIN - 1, deal, len);
	return SP_OK;
}

/* Every deal-*.bin in dir: decoded, signed by its dealer, of this
 * ceremony; every participant exactly once. */
static int deals_read(const struct cer *c, const char *dir, struct deals *ds, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = SP_OK;
	memset(ds, 0, sizeof *ds);
	if (!d)
		return ERR("%s: cannot read the directory", dir);
	while (rc == SP_OK && (de = readdir(d))) {
		char path[PATH_MAX], why[256];
		uint8_t *buf = NULL, *msg = NULL;
		size_t len, ml;
		Seinpost__SignedCeremonyDeal *sd;
		Seinpost__CeremonyDeal *x;
		if (strncmp(de->d_name, "deal-", 5) != 0 || !strstr(de->d_name, ".bin"))
			continue;
		if ((rc = sp_path_join(dir, de->d_name, path, sizeof path)) != SP_OK ||
		    (rc = sp_file_read(path, 16384, &buf, &len)) != SP_OK)
			break;
		rc = sp_wire_decode_ceremony_deal(buf, len, &sd, &x, why, sizeof why);
		free(buf);
		if (rc != SP_OK) {
			rc = ERR("%s: %s", path, why);
			break;
		}
		if (x->kind != (uint32_t)c->kind || x->t != c->t || x->n != c->n ||
		    sodium_memcmp(x->session.data, c->session, 32) != 0)
			rc = ERR("%s: a deal of another ceremony (kind, t, n, participants, epoch or commitments differ)", path);
		else if ((rc = signed_msg(sd->deal.data, sd->deal.len, &msg, &ml)) == SP_OK &&
		         crypto_sign_verify_detached(sd->signature.data, msg, ml, c->p[x->dealer - 1].sign) != 0)
			rc = ERR("%s: not signed by %s, the instance of index %u", path, c->p[x->dealer - 1].id, x->dealer);
		else if (rc == SP_OK && ds->d[x->dealer - 1])
			rc = ERR("%s: a second deal of %s", path, c->p[x->dealer - 1].id);
		free(msg);
		if (rc != SP_OK) {
			seinpost__ceremony_deal__free_unpacked(x, NULL);
			seinpost__signed_ceremony_deal__free_unpacked(sd, NULL);
			break;
		}
		ds->d[x->dealer - 1] = x;
		ds->sd[x->dealer - 1] = sd;
	}
	closedir(d);
	for (uint32_t i = 0; rc == SP_OK && i < c->n; i++)
		if (!ds->d[i])
			rc = ERR("%s: no deal of %s (index %u): every instance deals", dir, c->p[i].id, i + 1);
	return rc;
}

/* The threshold a key generation's deals were made for (any deal's; the
 * session then checks that all agree). 0 when none decodes. */
static uint32_t deals_t(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint32_t t = 0;
	while (d && !t && (de = readdir(d))) {
		char path[PATH_MAX], why[64];
		uint8_t *buf = NULL;
		size_t len;
		Seinpost__SignedCeremonyDeal *sd;
		Seinpost__CeremonyDeal *x;
		if (strncmp(de->d_name, "deal-", 5) != 0 || sp_path_join(dir, de->d_name, path, sizeof path) != SP_OK ||
		    sp_file_read(path, 16384, &buf, &len) != SP_OK)
			continue;
		if (sp_wire_decode_ceremony_deal(buf, len, &sd, &x, why, sizeof why) == SP_OK) {
			t = x->t;
			seinpost__ceremony_deal__free_unpacked(x, NULL);
			seinpost__signed_ceremony_deal__free_unpacked(sd, NULL);
		}
		free(buf);
	}
	if (d)
		closedir(d);
	return t;
}

static void deals_free(struct deals *ds)
{
	for (int i = 0; i < N_MAX; i++) {
		if (ds->d[i])
			seinpost__ceremony_deal__free_unpacked(ds->d[i], NULL);
		if (ds->sd[i])
			seinpost__signed_ceremony_deal__free_unpacked(ds->sd[i], NULL);
	}
}

/* Σ over the deals of commitment j (the sharings of zero: C_0 identity). */
static int commit_sum(const struct cer *c, const struct deals *ds, uint8_t *sum)
{
	int rc;
	memset(sum, 0, 32 * (size_t)c->t);
	for (uint32_t d = 0; d < c->n; d++)
		for (uint32_t j = 0; j < c->t; j++)
			if ((rc = sp_toprf_point_add(sum + 32 * j, sum + 32 * j, ds->d[d]->commitments[j].data)) != SP_OK)
				return rc;
	return SP_OK;
}

/* ---- deal ------------------------------------------------------------------ */

static int deal(const struct cer *c, const sp_keyset *k, uint32_t me, const char *out, char *path, size_t plen,
                char *err, size_t errlen)
{
	Seinpost__CeremonyDeal x = SEINPOST__CEREMONY_DEAL__INIT;
	Seinpost__SignedCeremonyDeal sd = SEINPOST__SIGNED_CEREMONY_DEAL__INIT;
	ProtobufCBinaryData cb[N_MAX], sb[N_MAX];
	uint8_t commits[N_MAX * 32], sealed[N_MAX][64 + SEALBYTES], broker[32 + SEALBYTES], sig[64];
	uint8_t *sub = NULL, *pay = NULL, *db = NULL, *msg = NULL, *sdb = NULL;
	size_t dl, ml, sl, pl = c->kind == KIND_ROTATE ? 64 : 32;
	char name[32];
	int rc = SP_ENOMEM;

	if (!(sub = sodium_malloc(32 * (size_t)c->n)) || !(pay = sodium_malloc(64)))
		goto out;
	if ((rc = sp_toprf_dkg_deal(c->t, c->n, c->kind == KIND_ROTATE, commits, sub)) != SP_OK)
		goto out;
	if (c->kind == KIND_ROTATE) {
		do
			crypto_core_ristretto255_scalar_random(pay + 32); /* δ_me */
		while (sodium_is_zero(pay + 32, 32));
		crypto_box_seal(broker, pay + 32, 32, c->broker_curve);
		x.sealed_broker = (ProtobufCBinaryData){ sizeof broker, broker };
	}
	for (uint32_t j = 0; j < c->n; j++) {
		memcpy(pay, sub + 32 * j, 32);
		if (crypto_box_seal(sealed[j], pay, pl, c->p[j].curve) != 0) {
			rc = SP_ECRYPTO;
			goto out;
		}
		sb[j] = (ProtobufCBinaryData){ pl + SEALBYTES, sealed[j] };
	}
	for (uint32_t j = 0; j < c->t; j++)
		cb[j] = (ProtobufCBinaryData){ 32, commits + 32 * j };
	x.kind = (uint32_t)c->kind;
	x.session = (ProtobufCBinaryData){ 32, (uint8_t *)c->session };
	x.dealer = me;
	x.t = c->t;
	x.n = c->n;
	x.n_commitments = c->t;
	x.commitments = cb;
	x.n_sealed = c->n;
	x.sealed = sb;
	if ((rc = sp_wire_pack(&x.base, &db, &dl)) != SP_OK || (rc = signed_msg(db, dl, &msg, &ml)) != SP_OK)
		goto out;
	crypto_sign_detached(sig, NULL, msg, ml, k->sign_sk);
	sd.deal = (ProtobufCBinaryData){ dl, db };
	sd.signature = (ProtobufCBinaryData){ 64, sig };
	snprintf(name, sizeof name, "deal-%u.bin", me);
	if ((rc = sp_wire_pack(&sd.base, &sdb, &sl)) != SP_OK || (rc = sp_mkdir_p(out, 0755)) != SP_OK ||
	    (rc = sp_path_join(out, name, path, plen)) != SP_OK || (rc = sp_file_write(path, sdb, sl, 0644)) != SP_OK)
		ERR("%s: %s", out, sp_strerror(rc));
out:
	sodium_free(sub); /* the polynomial never left sp_toprf_dkg_deal; the sub-shares go now */
	sodium_free(pay);
	free(db);
	free(msg);
	free(sdb);
	return rc;
}

/* ---- combine --------------------------------------------------------------- */

/* Open our sub-share (and the dealer's δ) from every deal and check it
 * against the dealer's commitments; a failure is a complaint against it. */
static int open_all(const struct cer *c, const struct deals *ds, const sp_keyset *k, uint32_t me, uint8_t *subs,
                    uint8_t *deltas, char *err, size_t errlen)
{
	uint8_t commits[N_MAX * 32], pay[64];
	char bad[N_MAX * (SP_ID_MAX + 2)] = "";
	int nbad = 0;
	for (uint32_t d = 0; d < c->n; d++) {
		const Seinpost__CeremonyDeal *x = ds->d[d];
		int ok;
		for (uint32_t j = 0; j < c->t; j++)
			memcpy(commits + 32 * j, x->commitments[j].data, 32);
		ok = crypto_box_seal_open(pay, x->sealed[me - 1].data, x->sealed[me - 1].len, k->curve_pk,
		                          k->curve_sk) == 0 &&
		     sp_toprf_dkg_check(commits, c->t, me, c->kind == KIND_ROTATE, pay) == SP_OK &&
		     (c->kind == KIND_DKG || !sodium_is_zero(pay + 32, 32));
		if (ok) {
			memcpy(subs + 32 * d, pay, 32);
			if (deltas)
				memcpy(deltas + 32 * d, pay + 32, 32);
		} else {
			snprintf(bad + strlen(bad), sizeof bad - strlen(bad), "%s%s", nbad++ ? ", " : "", c->p[d].id);
		}
	}
	sodium_memzero(pay, sizeof pay);
	if (nbad)
		return ERR("complaint: the sub-share from %s does not open or fails its dealer's commitments; nothing "
		           "written. Publish the complaint; the instances agree to leave the dealer out (remove its deal "
		           "file everywhere) or to deal again", bad);
	return SP_OK;
}

static int combine_dkg(const struct cer *c, const struct deals *ds, const sp_config *cfg, const sp_keyset *k,
                       uint32_t me, char *err, size_t errlen)
{
	uint8_t *subs = NULL, commits[N_MAX * 32], hex[65];
	sp_oprf_key *ok = NULL;
	sp_enrol e;
	char path[PATH_MAX];
	int rc = SP_ENOMEM;
	if (!(subs = sodium_malloc(32 * (size_t)c->n)) || sp_oprf_key_generate(&ok) != SP_OK)
		goto out;
	if ((rc = open_all(c, ds, k, me, subs, NULL, err, errlen)) != SP_OK)
		goto out;
	memset(ok->sk, 0, 32);
	for (uint32_t d = 0; d < c->n; d++)
		crypto_core_ristretto255_scalar_add(ok->sk, ok->sk, subs + 32 * d);
	if ((rc = commit_sum(c, ds, commits)) != SP_OK || (rc = sp_toprf_verify_share(commits, c->t, me, ok->sk)) != SP_OK ||
	    crypto_scalarmult_ristretto255_base(ok->pk, ok->sk) != 0) {
		ERR("the summed share does not match the summed commitments");
		rc = SP_ECRYPTO;
		goto out;
	}
	if ((rc = sp_oprf_key_save(ok, cfg->keys_dir)) != SP_OK ||
	    (rc = sp_enrol_make_pseudonymiser(k, c->p[me - 1].id, ok->pk, me, &e)) != SP_OK ||
	    (rc = sp_path_join(cfg->keys_dir, "enrol.json", path, sizeof path)) != SP_OK ||
	    (rc = sp_enrol_write(&e, path)) != SP_OK) {
		ERR("%s: %s", cfg->keys_dir, sp_strerror(rc));
		goto out;
	}
	printf("share %u of %u kept in %s/oprf.key; %s for `roster add`\ngroup key %s (compare it with the other "
	       "instances and the operator)\n", me, c->n, cfg->keys_dir, path, sp_hex(commits, 32, (char *)hex));
out:
	sodium_free(subs);
	sp_oprf_key_free(&ok);
	return rc;
}

static int combine_rotate(const struct cer *c, const struct deals *ds, const sp_config *cfg, const sp_keyset *k,
                          uint32_t me, const char *out, char *err, size_t errlen)
{
	Seinpost__CeremonyRotation cr = SEINPOST__CEREMONY_ROTATION__INIT;
	ProtobufCBinaryData sb[N_MAX];
	uint8_t *subs = NULL, *deltas = NULL, *delta = NULL, zsum[N_MAX * 32], scaled[N_MAX * 32], newc[N_MAX * 32];
	uint8_t d[32], proof[64], proof0[64], sealed[32 + SEALBYTES], *buf = NULL, hex[65];
	sp_oprf_key *ok = NULL;
	char path[PATH_MAX], name[48];
	size_t len;
	int rc = SP_ENOMEM;
	if (!(subs = sodium_malloc(32 * (size_t)c->n)) || !(deltas = sodium_malloc(32 * (size_t)c->n)) ||
	    !(delta = sodium_malloc(32)))
		goto out;
	if ((rc = sp_oprf_key_load(cfg->keys_dir, &ok)) != SP_OK) {
		ERR("%s: oprf.key: %s", cfg->keys_dir, sp_strerror(rc));
		goto out;
	}
	if ((rc = sp_toprf_verify_share(c->commits, c->t, me, ok->sk)) != SP_OK) {
		ERR("%s/oprf.key is not this instance's share under the roster's commitments (rotated already?)",
		    cfg->keys_dir);
		goto out;
	}
	if ((rc = open_all(c, ds, k, me, subs, deltas, err, errlen)) != SP_OK)
		goto out;
	/* δ = Π δ_d: random as long as one dealer is honest */
	sp_toprf_scalar_u32(delta, 1);
	for (uint32_t i = 0; i < c->n; i++)
		crypto_core_ristretto255_scalar_mul(delta, delta, deltas + 32 * i);
	/* s' = δ·s + Σ z_d(me); C_j' = δ·C_j + Σ_d Z_d,j */
	crypto_core_ristretto255_scalar_mul(ok->sk, ok->sk, delta);
	for (uint32_t i = 0; i < c->n; i++)
		crypto_core_ristretto255_scalar_add(ok->sk, ok->sk, subs + 32 * i);
	rc = commit_sum(c, ds, zsum);
	for (uint32_t j = 0; rc == SP_OK && j < c->t; j++)
		if ((rc = sp_toprf_point_mul(scaled + 32 * j, delta, c->commits + 32 * j)) == SP_OK)
			rc = sp_toprf_point_add(newc + 32 * j, scaled + 32 * j, zsum + 32 * j);
	if (rc != SP_OK || (rc = sp_toprf_verify_share(newc, c->t, me, ok->sk)) != SP_OK ||
	    crypto_scalarmult_ristretto255_base(ok->pk, ok->sk) != 0 ||
	    (rc = sp_toprf_dleq_prove(delta, c->commits, scaled, c->t, d, proof)) != SP_OK ||
	    (rc = sp_toprf_dleq_prove(delta, c->commits, scaled, 1, NULL, proof0)) != SP_OK) {
		ERR("the new share does not match the new commitments");
		rc = SP_ECRYPTO;
		goto out;
	}
	for (uint32_t j = 0; j < c->t; j++)
		sb[j] = (ProtobufCBinaryData){ 32, scaled + 32 * j };
	cr.epoch = c->epoch;
	cr.session = (ProtobufCBinaryData){ 32, (uint8_t *)c->session };
	cr.d = (ProtobufCBinaryData){ 32, d };
	cr.n_scaled = c->t;
	cr.scaled = sb;
	cr.proof = (ProtobufCBinaryData){ 64, proof };
	cr.proof_c0 = (ProtobufCBinaryData){ 64, proof0 };
	snprintf(name, sizeof name, "rotation-%u.bin", c->epoch);
	if ((rc = sp_mkdir_p(out, 0755)) != SP_OK || (rc = sp_wire_pack(&cr.base, &buf, &len)) != SP_OK ||
	    (rc = sp_path_join(out, name, path, sizeof path)) != SP_OK || (rc = sp_file_write(path, buf, len, 0644)) != SP_OK)
		goto io;
	free(buf);
	buf = NULL;
	/* for the broker: δ sealed to its CURVE key (the file may travel) */
	{
		Seinpost__PseudonymTranslation x = SEINPOST__PSEUDONYM_TRANSLATION__INIT;
		crypto_box_seal(sealed, delta, 32, c->broker_curve);
		x.epoch = c->epoch;
		x.d = (ProtobufCBinaryData){ 32, d };
		x.new_group_key = (ProtobufCBinaryData){ 32, newc };
		x.sealed_delta = (ProtobufCBinaryData){ sizeof sealed, sealed };
		snprintf(name, sizeof name, "translation-%u.bin", c->epoch);
		if ((rc = sp_wire_pack(&x.base, &buf, &len)) != SP_OK || (rc = sp_path_join(out, name, path, sizeof path)) != SP_OK ||
		    (rc = sp_file_write(path, buf, len, 0600)) != SP_OK)
			goto io;
	}
	/* last: the new share replaces the old one (which the sharing of zero made worthless) */
	if ((rc = sp_oprf_key_save(ok, cfg->keys_dir)) != SP_OK)
		goto io;
	printf("share %u rotated to key epoch %u in %s/oprf.key (start the instance once the roster has the "
	       "rotation)\nfor the operator: %s/rotation-%u.bin; for the broker: %s/translation-%u.bin\nnew group key %s\n",
	       me, c->epoch, cfg->keys_dir, out, c->epoch, out, c->epoch, sp_hex(newc, 32, (char *)hex));
	goto out;
io:
	ERR("%s: %s", out, sp_strerror(rc));
out:
	free(buf);
	sodium_free(subs);
	sodium_free(deltas);
	sodium_free(delta);
	sp_oprf_key_free(&ok);
	return rc;
}

/* ---- commit (the operator) ------------------------------------------------- */

static int commit_rotation(const struct cer *c, const struct deals *ds, sp_roster *r, const char *file, char *err,
                           size_t errlen)
{
	Seinpost__CeremonyRotation *x = NULL;
	uint8_t *buf = NULL, zsum[N_MAX * 32], newc[N_MAX * 32], scaled[N_MAX * 32], pks[N_MAX * 32];
	sp_oprf_rotation rot;
	char why[256];
	size_t len;
	int rc;
	if ((rc = sp_file_read(file, 4096, &buf, &len)) != SP_OK)
		return ERR("%s: %s", file, sp_strerror(rc));
	rc = sp_wire_decode_ceremony_rotation(buf, len, &x, why, sizeof why);
	free(buf);
	if (rc != SP_OK)
		return ERR("%s: %s", file, why);
	if (x->epoch != c->epoch || x->n_scaled != c->t || sodium_memcmp(x->session.data, c->session, 32) != 0) {
		rc = ERR("%s: a rotation of another ceremony", file);
		goto out;
	}
	for (uint32_t j = 0; j < c->t; j++)
		memcpy(scaled + 32 * j, x->scaled[j].data, 32);
	/* δ·C_j for every j, and C_0 alone for the roster's record, with d = δ·G */
	if (sp_toprf_dleq_verify(x->d.data, c->commits, scaled, c->t, x->proof.data) != SP_OK ||
	    sp_toprf_dleq_verify(x->d.data, c->commits, scaled, 1, x->proof_c0.data) != SP_OK) {
		rc = ERR("%s: the proof that the new commitments are delta times the old ones does not verify", file);
		goto out;
	}
	if ((rc = commit_sum(c, ds, zsum)) != SP_OK || !sodium_is_zero(zsum, 32)) {
		rc = ERR("the dealers' sharings of zero do not sum to a sharing of zero");
		goto out;
	}
	for (uint32_t j = 0; j < c->t; j++)
		if ((rc = sp_toprf_point_add(newc + 32 * j, scaled + 32 * j, zsum + 32 * j)) != SP_OK)
			goto out;
	for (uint32_t i = 0; i < c->n; i++)
		if ((rc = sp_toprf_public_share(newc, c->t, i + 1, pks + 32 * i)) != SP_OK)
			goto out;
	memset(&rot, 0, sizeof rot);
	rot.epoch = c->epoch;
	memcpy(rot.old_key, c->commits, 32);
	memcpy(rot.new_key, newc, 32);
	memcpy(rot.d, x->d.data, 32);
	memcpy(rot.proof, x->proof_c0.data, 64);
	rot.time = sp_now_s();
	if ((rc = sp_roster_oprf_rotate(r, newc, c->t, pks, c->n, &rot)) != SP_OK)
		ERR("the roster refuses the rotation: %s", sp_strerror(rc));
out:
	seinpost__ceremony_rotation__free_unpacked(x, NULL);
	return rc;
}

/* ---- the commands ---------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr, "usage: seinpost --config SERVICE ceremony deal OUT [--peers DIR --threshold T]\n"
	                "       seinpost --config SERVICE ceremony combine DEALS [OUT] [--peers DIR]\n"
	                "       seinpost ceremony commit ROSTER DEALS (--peers DIR | --rotation FILE)\n");
	return 2;
}

int sp_cli_ceremony(const char *cfg_path, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "", *pos[2] = { NULL, NULL }, *peers = NULL, *rotation = NULL;
	unsigned long t = 0;
	int npos = 0, rc = SP_OK, ret = 1;
	char err[1024] = "", path[PATH_MAX];
	const size_t errlen = sizeof err;
	sp_config cfg;
	sp_keyset *k = NULL, *op = NULL;
	sp_roster *r = NULL;
	struct cer *c = calloc(1, sizeof *c);
	struct deals ds;
	memset(&ds, 0, sizeof ds);
	if (!c)
		return 1;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--peers") == 0 && i + 1 < argc)
			peers = argv[++i];
		else if (strcmp(argv[i], "--rotation") == 0 && i + 1 < argc)
			rotation = argv[++i];
		else if (strcmp(argv[i], "--threshold") == 0 && i + 1 < argc)
			t = strtoul(argv[++i], NULL, 10);
		else if (argv[i][0] != '-' && npos < 2)
			pos[npos++] = argv[i];
		else {
			free(c);
			return usage();
		}
	}
	if (strcmp(sub, "commit") == 0) {
		char opdir[PATH_MAX];
		if (npos != 2 || !!peers == !!rotation || t) {
			free(c);
			return usage();
		}
		if ((rc = sp_network_opdir(pos[0], opdir, sizeof opdir)) != SP_OK ||
		    (rc = sp_keys_load_sign(opdir, &op)) != SP_OK || (rc = sp_roster_load(pos[0], op->sign_pk, &r)) != SP_OK) {
			ERR("%s: %s (the operator's key in %s)", pos[0], sp_strerror(rc), opdir);
			goto out;
		}
		if (peers) {
			uint8_t commits[N_MAX * 32];
			/* t: the deals', checked by the session */
			if ((rc = cer_from_peers(c, peers, deals_t(pos[1]), r, err, sizeof err)) != SP_OK ||
			    (rc = deals_read(c, pos[1], &ds, err, sizeof err)) != SP_OK)
				goto out;
			if ((rc = commit_sum(c, &ds, commits)) != SP_OK ||
			    (rc = sp_roster_set_oprf_commitments(r, commits, c->t)) != SP_OK) {
				ERR("the roster refuses the commitments: %s (is a t-of-n service on it already?)", sp_strerror(rc));
				goto out;
			}
			sp_roster_touch(r);
			if ((rc = sp_roster_save(r, pos[0], op->sign_sk)) != SP_OK)
				goto out;
			printf("%u-of-%u commitments on the roster; group key %s\nnow `roster add` each instance's new "
			       "enrol.json (its share's public key is checked against them)\n", c->t, c->n,
			       sp_hex(commits, 32, path));
		} else {
			if ((rc = cer_from_roster(c, r, err, sizeof err)) != SP_OK ||
			    (rc = deals_read(c, pos[1], &ds, err, sizeof err)) != SP_OK ||
			    (rc = commit_rotation(c, &ds, r, rotation, err, sizeof err)) != SP_OK)
				goto out;
			sp_roster_touch(r);
			if ((rc = sp_roster_save(r, pos[0], op->sign_sk)) != SP_OK)
				goto out;
			printf("rotation to key epoch %u on the roster (proof checked); the broker translates next\n", c->epoch);
		}
		ret = 0;
		goto out;
	}
	if (strcmp(sub, "deal") != 0 && strcmp(sub, "combine") != 0) {
		free(c);
		return usage();
	}
	if (npos < 1 || (strcmp(sub, "deal") == 0 && (npos != 1 || !!peers != !!t)) || rotation ||
	    (strcmp(sub, "combine") == 0 && t)) {
		free(c);
		return usage();
	}
	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0) {
		free(c);
		return rc;
	}
	if (cfg.role != SP_RUN_PSEUDONYMISER) {
		fprintf(stderr, "seinpost ceremony: %s is not a pseudonymiser's configuration\n", cfg_path);
		free(c);
		return 2;
	}
	if ((rc = sp_keys_load(cfg.keys_dir, &k)) != SP_OK) {
		ERR("%s: %s", cfg.keys_dir, sp_strerror(rc));
		goto out;
	}
	if ((rc = sp_rosterstate_load(&cfg, &r)) != SP_OK) {
		ERR("roster: %s", sp_strerror(rc));
		goto out;
	}
	if (peers && strcmp(sub, "combine") == 0)
		rc = cer_from_peers(c, peers, deals_t(pos[0]), r, err, sizeof err); /* t: the deals', checked by the session */
	else if (peers)
		rc = cer_from_peers(c, peers, (uint32_t)t, r, err, sizeof err);
	else
		rc = cer_from_roster(c, r, err, sizeof err);
	if (rc != SP_OK)
		goto out;
	uint32_t me = my_index(c, k->sign_pk);
	if (!me) {
		ERR("this instance (%s) is not among the ceremony's participants", cfg.org);
		goto out;
	}
	if (strcmp(sub, "deal") == 0) {
		if ((rc = deal(c, k, me, pos[0], path, sizeof path, err, sizeof err)) != SP_OK)
			goto out;
		printf("%s: %s's deal for the %s (index %u of %u, threshold %u); send it to every other instance and "
		       "the operator\n", path, c->p[me - 1].id, c->kind == KIND_DKG ? "key generation" : "rotation", me,
		       c->n, c->t);
	} else {
		if ((rc = deals_read(c, pos[0], &ds, err, sizeof err)) != SP_OK)
			goto out;
		rc = c->kind == KIND_DKG ? combine_dkg(c, &ds, &cfg, k, me, err, sizeof err)
		                         : combine_rotate(c, &ds, &cfg, k, me, npos > 1 ? pos[1] : pos[0], err, sizeof err);
		if (rc != SP_OK)
			goto out;
	}
	ret = 0;
out:
	if (ret && err[0])
		fprintf(stderr, "seinpost ceremony %s: %s\n", sub, err);
	else if (ret)
		fprintf(stderr, "seinpost ceremony %s: %s\n", sub, sp_strerror(rc));
	deals_free(&ds);
	sp_roster_free(&r);
	sp_keys_free(&k);
	sp_keys_free(&op);
	free(c);
	return ret;
}
