/*
 * sp_oprf_rotate.c — `seinpost net rotate DIR`: rotation of the
 * pseudonymisation key by translation for a local network made by `net
 * init --pseudonymisers N --threshold T` (docs/pseudonymiser.md,
 * "Rotation by translation").
 *
 * Like the local DKG, this one process plays every instance: each draws
 * its contribution δ_i (δ = Π δ_i) and deals a sharing of zero, every
 * instance sets s_i' = δ·s_i + z(i) (sp_toprf_rotate_local). It then
 * writes, in this order:
 *   1. the broker's translation file (0600): epoch, δ, d = δ·G and the new
 *      group key — `seinpost --config BROKER pseudonym translate FILE`;
 *   2. the roster, re-signed by the operator: the new commitments, every
 *      instance's new public share, and the rotation record (epoch, old
 *      and new group key, d, a DLEQ proof that log_G d = log_{C0} C0');
 *   3. each instance's oprf.key / oprf.pub.
 * The instances must be stopped while it runs and started after it (a
 * node that meets an instance on another key than its roster's refuses
 * the answer with an alarm). The local path sees every share: a local
 * network only; between machines see sp_ceremony.c.
 */
#include "sp_network.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seinpost.pb-c.h"
#include "sp_oprfsvc.h"
#include "sp_roster.h"
#include "sp_toprf.h"
#include "sp_util.h"
#include "sp_wire.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

int sp_network_translation_write(const char *path, uint32_t epoch, const uint8_t delta[32], const uint8_t d[32],
                                 const uint8_t new_key[32])
{
	Seinpost__PseudonymTranslation x = SEINPOST__PSEUDONYM_TRANSLATION__INIT;
	uint8_t *buf = NULL;
	size_t len;
	int rc;
	x.epoch = epoch;
	x.delta = (ProtobufCBinaryData){ 32, (uint8_t *)delta };
	x.d = (ProtobufCBinaryData){ 32, (uint8_t *)d };
	x.new_group_key = (ProtobufCBinaryData){ 32, (uint8_t *)new_key };
	if ((rc = sp_wire_pack(&x.base, &buf, &len)) != SP_OK)
		return rc;
	rc = sp_file_write(path, buf, len, 0600);
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

int sp_network_oprf_rotate(const char *netdir, char *delta_path, size_t dplen, char *err, size_t errlen)
{
	uint8_t *shares = NULL, *delta = NULL, commits[SP_TOPRF_MAX_N * 32], pks[SP_TOPRF_MAX_N * 32];
	char roster[PATH_MAX], opdir[PATH_MAX], keys[PATH_MAX], dir[PATH_MAX], name[64];
	const sp_org *inst[SP_TOPRF_MAX_N] = { 0 };
	sp_oprf_key *ok = NULL;
	sp_keyset *op = NULL;
	sp_roster *r = NULL;
	sp_oprf_rotation rot;
	uint32_t t, n = 0;
	const uint8_t *c;
	int rc;

	err[0] = '\0';
	if ((rc = sp_path_join(netdir, "roster.bin", roster, sizeof roster)) != SP_OK ||
	    (rc = sp_network_opdir(roster, opdir, sizeof opdir)) != SP_OK)
		return rc;
	if ((rc = sp_keys_load_sign(opdir, &op)) != SP_OK || (rc = sp_roster_load(roster, op->sign_pk, &r)) != SP_OK) {
		ERR("%s: %s", roster, sp_strerror(rc));
		goto out;
	}
	if (!(c = sp_roster_oprf_commitments(r, &t))) {
		rc = SP_ENOTFOUND;
		ERR("%s: no t-of-n pseudonymisation service on the roster (net init --pseudonymisers N --threshold T)",
		    roster);
		goto out;
	}
	memcpy(commits, c, 32 * (size_t)t);
	for (size_t i = 0; i < sp_roster_count(r); i++) {
		const sp_org *o = sp_roster_at(r, i);
		if (!o->oprf_index)
			continue;
		if (o->oprf_index > SP_TOPRF_MAX_N || inst[o->oprf_index - 1]) {
			rc = SP_EMALFORMED;
			goto out;
		}
		inst[o->oprf_index - 1] = o;
		n = o->oprf_index > n ? o->oprf_index : n;
	}
	if (!(shares = sodium_malloc(32 * (size_t)n)) || !(delta = sodium_malloc(32))) {
		rc = SP_ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (!inst[i]) {
			rc = SP_EMALFORMED;
			ERR("%s: no pseudonymiser with index %u", roster, i + 1);
			goto out;
		}
		if ((rc = sp_path_join(netdir, inst[i]->id, dir, sizeof dir)) != SP_OK ||
		    (rc = sp_path_join(dir, "keys", keys, sizeof keys)) != SP_OK)
			goto out;
		if ((rc = sp_oprf_key_load(keys, &ok)) != SP_OK) {
			ERR("%s: %s", keys, sp_strerror(rc));
			goto out;
		}
		memcpy(shares + 32 * i, ok->sk, 32);
		sp_oprf_key_free(&ok);
	}
	memset(&rot, 0, sizeof rot);
	memcpy(rot.old_key, commits, 32);
	if ((rc = sp_toprf_rotate_local(t, n, shares, commits, delta)) != SP_OK)
		goto out;
	for (uint32_t i = 0; i < n; i++)
		if (crypto_scalarmult_ristretto255_base(pks + 32 * i, shares + 32 * i) != 0) {
			rc = SP_ECRYPTO;
			goto out;
		}
	rot.epoch = sp_roster_oprf_epoch(r) + 1;
	memcpy(rot.new_key, commits, 32);
	rot.time = sp_now_s();
	if ((rc = sp_toprf_dleq_prove(delta, rot.old_key, rot.new_key, 1, rot.d, rot.proof)) != SP_OK ||
	    (rc = sp_roster_oprf_rotate(r, commits, t, pks, n, &rot)) != SP_OK)
		goto out;
	/* 1. the broker's file, 2. the roster, 3. the instances' keys */
	snprintf(name, sizeof name, "translation-%u.bin", rot.epoch);
	if ((rc = sp_path_join(netdir, "broker", dir, sizeof dir)) != SP_OK ||
	    (rc = sp_path_join(dir, name, delta_path, dplen)) != SP_OK ||
	    (rc = sp_network_translation_write(delta_path, rot.epoch, delta, rot.d, rot.new_key)) != SP_OK) {
		ERR("writing the translation file: %s", sp_strerror(rc));
		goto out;
	}
	sp_roster_touch(r);
	if ((rc = sp_roster_save(r, roster, op->sign_sk)) != SP_OK) {
		ERR("%s: %s", roster, sp_strerror(rc));
		goto out;
	}
	if ((rc = sp_oprf_key_generate(&ok)) != SP_OK)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		if ((rc = sp_path_join(netdir, inst[i]->id, dir, sizeof dir)) != SP_OK ||
		    (rc = sp_path_join(dir, "keys", keys, sizeof keys)) != SP_OK)
			goto out;
		memcpy(ok->sk, shares + 32 * i, 32);
		memcpy(ok->pk, pks + 32 * i, 32);
		if ((rc = sp_oprf_key_save(ok, keys)) != SP_OK) {
			ERR("%s: %s", keys, sp_strerror(rc));
			goto out;
		}
	}
	rc = SP_OK;
out:
	if (rc != SP_OK && !err[0])
		ERR("rotation: %s", sp_strerror(rc));
	sp_oprf_key_free(&ok);
	sodium_free(shares);
	sodium_free(delta);
	sp_roster_free(&r);
	sp_keys_free(&op);
	return rc;
}
