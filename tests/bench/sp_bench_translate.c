/*
 * sp_bench_translate.c — the broker's re-key pass on a rotation of the
 * pseudonymisation key (sp_translate.h), alone: a store with N involvements
 * and N indexed signals (random pseudonyms), a roster with the rotation,
 * then sp_translate_apply in one transaction. Wall time of the pass (it
 * holds the store to itself) and process CPU time.
 * Usage: sp_bench_translate [N] — prints one JSON object.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "seinpost.pb-c.h"
#include "sp_kh.h"
#include "sp_meta_keys.h"
#include "sp_network.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "sp_toprf.h"
#include "sp_translate.h"
#include "sp_util.h"
#include "sp_wire.h"

static double now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 35644;
	char dir[] = "/tmp/sp-bench-translate-XXXXXX", keys[300], file[300];
	uint8_t shares[3 * 32], commits[2 * 32], pks[3 * 32], delta[32], bc[32], bs[32], *buf = NULL;
	sp_oprf_rotation rot = { 0 };
	sp_roster *r = NULL;
	sp_store *st = NULL;
	sp_txn *t = NULL;
	uint64_t count = 0;
	size_t len;
	char why[256];

	if (sodium_init() < 0 || n == 0 || !mkdtemp(dir))
		return 2;
	snprintf(keys, sizeof keys, "%s/keys", dir);
	snprintf(file, sizeof file, "%s/translation-1.bin", dir);
	if (sp_mkdir_p(keys, 0700) != SP_OK || sp_toprf_dkg_local(2, 3, shares, commits) != SP_OK)
		return 1;
	randombytes_buf(bc, 32);
	randombytes_buf(bs, 32);
	if (sp_roster_new("bench", bc, bs, &r) != SP_OK || sp_roster_set_oprf_commitments(r, commits, 2) != SP_OK)
		return 1;
	for (uint32_t i = 0; i < 3; i++) {
		sp_org o;
		memset(&o, 0, sizeof o);
		snprintf(o.id, sizeof o.id, "pseudo-mh-%u", i + 1);
		snprintf(o.role, sizeof o.role, "pseudonymiser");
		randombytes_buf(o.curve_pk, 32);
		randombytes_buf(o.sign_pk, 32);
		o.has_oprf = 1;
		o.oprf_index = i + 1;
		if (crypto_scalarmult_ristretto255_base(o.oprf_pk, shares + 32 * i) != 0 || sp_roster_add(r, &o) != SP_OK)
			return 1;
	}
	memcpy(rot.old_key, commits, 32);
	if (sp_toprf_rotate_local(2, 3, shares, commits, delta) != SP_OK)
		return 1;
	for (int i = 0; i < 3; i++)
		if (crypto_scalarmult_ristretto255_base(pks + 32 * i, shares + 32 * i) != 0)
			return 1;
	rot.epoch = 1;
	memcpy(rot.new_key, commits, 32);
	if (sp_toprf_dleq_prove(delta, rot.old_key, rot.new_key, 1, rot.d, rot.proof) != SP_OK ||
	    sp_roster_oprf_rotate(r, commits, 2, pks, 3, &rot) != SP_OK ||
	    sp_network_translation_write(file, 1, delta, rot.d, rot.new_key) != SP_OK)
		return 1;
	if (sp_store_open(dir, 1ull << 30, 0, &st) != SP_OK || sp_txn_begin(st, 1, &t) != SP_OK)
		return 1;
	for (size_t i = 0; i < n; i++) {
		uint8_t p[32], k[2 + 32 + 16], v[9 + 16] = { 0 };
		Seinpost__Involvement inv = SEINPOST__INVOLVEMENT__INIT;
		uint8_t ik[32 + 16], *ib = NULL;
		size_t il;
		crypto_core_ristretto255_random(p);
		inv.pseudonym = (ProtobufCBinaryData){ 32, p };
		inv.pseudonym_epoch = SP_PSEUDO_EPOCH_OPRF;
		inv.org = "school-bonnefanten";
		inv.until = 4000000000u;
		memcpy(ik, p, 32);
		memcpy(ik + 32, "school-bonnefant", 16);
		if (sp_wire_pack(&inv.base, &ib, &il) != SP_OK || sp_store_put(t, SP_DB_INVOLVE, ik, 48, ib, il, 0) != SP_OK)
			return 1;
		free(ib);
		memcpy(k, SP_MK_SUBJECT, 2);
		memcpy(k + 2, p, 32);
		randombytes_buf(k + 34, 16);
		memcpy(v + 9, "politie-limburg", 15);
		if (sp_store_put(t, SP_DB_META, k, sizeof k, v, 24, 0) != SP_OK)
			return 1;
	}
	if (sp_txn_commit(&t) != SP_OK || sp_file_read(file, 1024, &buf, &len) != SP_OK)
		return 1;
	double w = now(CLOCK_MONOTONIC), c = now(CLOCK_PROCESS_CPUTIME_ID);
	if (sp_translate_apply(st, keys, r, buf, len, &count, why, sizeof why) != SP_OK) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}
	w = now(CLOCK_MONOTONIC) - w;
	c = now(CLOCK_PROCESS_CPUTIME_ID) - c;
	printf("{\"involvements\": %zu, \"rekeyed\": %llu, \"wall_s\": %.2f, \"cpu_s\": %.2f, \"per_s\": %.0f}\n", n,
	       (unsigned long long)count, w, c, count / w);
	sp_store_close(&st);
	sp_roster_free(&r);
	free(buf);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
