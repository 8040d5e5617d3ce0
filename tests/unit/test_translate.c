/* Unit tests for sp_translate (the broker's re-key pass on a rotation of the
 * pseudonymisation key): every step of the table re-keys its layout, values
 * follow their keys, the pass is one transaction that a wrong file leaves
 * untouched, δ is sealed and found again, old headers translate on decode,
 * and who-saw's earlier pseudonyms carry proofs against the roster's d. */
#include "sp_test.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "seinpost.pb-c.h"
#include "sp_kh.h"
#include "sp_meta_keys.h"
#include "sp_network.h"
#include "sp_release.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "sp_toprf.h"
#include "sp_translate.h"
#include "sp_util.h"
#include "sp_wire.h"

static char tmp[256], keys[300], file[300];
static uint8_t delta[32], p0[32], p1[32], q0[32];
static sp_roster *r;
static sp_store *st;

static void put(sp_txn *t, int db, const uint8_t *k, size_t kl, const ProtobufCMessage *m)
{
	uint8_t *b = NULL;
	size_t l = 0;
	if (m)
		ck_assert_int_eq(sp_wire_pack(m, &b, &l), SP_OK);
	ck_assert_int_eq(sp_store_put(t, db, k, kl, b ? b : (uint8_t *)"", l, 0), SP_OK);
	free(b);
}

static void setup(void)
{
	uint8_t shares[3 * 32], commits[2 * 32], pks[3 * 32], bc[32], bs[32];
	sp_oprf_rotation rot = { 0 };
	sp_txn *t = NULL;
	ck_assert_ptr_nonnull(sp_test_tmpdir(tmp, sizeof tmp));
	snprintf(keys, sizeof keys, "%s/keys", tmp);
	snprintf(file, sizeof file, "%s/translation-1.bin", tmp);
	ck_assert_int_eq(sp_mkdir_p(keys, 0700), SP_OK);
	ck_assert_int_eq(sp_toprf_dkg_local(2, 3, shares, commits), SP_OK);
	randombytes_buf(bc, 32);
	randombytes_buf(bs, 32);
	ck_assert_int_eq(sp_roster_new("t", bc, bs, &r), SP_OK);
	ck_assert_int_eq(sp_roster_set_oprf_commitments(r, commits, 2), SP_OK);
	for (uint32_t i = 0; i < 3; i++) {
		sp_org o;
		memset(&o, 0, sizeof o);
		snprintf(o.id, sizeof o.id, "pseudo-mh-%u", i + 1);
		snprintf(o.role, sizeof o.role, "pseudonymiser");
		randombytes_buf(o.curve_pk, 32);
		randombytes_buf(o.sign_pk, 32);
		o.has_oprf = 1;
		o.oprf_index = i + 1;
		ck_assert_int_eq(crypto_scalarmult_ristretto255_base(o.oprf_pk, shares + 32 * i), 0);
		ck_assert_int_eq(sp_roster_add(r, &o), SP_OK);
	}
	memcpy(rot.old_key, commits, 32);
	ck_assert_int_eq(sp_toprf_rotate_local(2, 3, shares, commits, delta), SP_OK);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(crypto_scalarmult_ristretto255_base(pks + 32 * i, shares + 32 * i), 0);
	rot.epoch = 1;
	memcpy(rot.new_key, commits, 32);
	ck_assert_int_eq(sp_toprf_dleq_prove(delta, rot.old_key, rot.new_key, 1, rot.d, rot.proof), SP_OK);
	ck_assert_int_eq(sp_roster_oprf_rotate(r, commits, 2, pks, 3, &rot), SP_OK);
	ck_assert_int_eq(sp_network_translation_write(file, 1, delta, rot.d, rot.new_key), SP_OK);

	/* one subject p0 under every layout, another q0 in a link */
	crypto_core_ristretto255_random(p0);
	crypto_core_ristretto255_random(q0);
	ck_assert_int_eq(sp_toprf_translate(delta, p0, p1), SP_OK);
	ck_assert_int_eq(sp_store_open(tmp, 64u << 20, 0, &st), SP_OK);
	ck_assert_int_eq(sp_txn_begin(st, 1, &t), SP_OK);
	{
		Seinpost__Involvement inv = SEINPOST__INVOLVEMENT__INIT;
		Seinpost__Referral ref = SEINPOST__REFERRAL__INIT;
		uint8_t k[2 + 32 + 32 + 16], id[16] = { 7 };
		inv.pseudonym = (ProtobufCBinaryData){ 32, p0 };
		inv.pseudonym_epoch = SP_PSEUDO_EPOCH_OPRF;
		inv.org = "school-bonnefanten";
		memcpy(k, p0, 32);
		memcpy(k + 32, "school-bonnefanten", 18);
		put(t, SP_DB_INVOLVE, k, 50, &inv.base);
		memcpy(k, SP_MK_SUBJECT, 2), memcpy(k + 2, p0, 32), memcpy(k + 34, id, 16);
		put(t, SP_DB_META, k, 50, NULL);
		memcpy(k, SP_MK_ESCALATED, 2);
		put(t, SP_DB_META, k, 50, NULL);
		ref.id = (ProtobufCBinaryData){ 16, id };
		ref.pseudonym = (ProtobufCBinaryData){ 32, p0 };
		memcpy(k, SP_MK_REFERRAL, 2);
		put(t, SP_DB_META, k, 34, &ref.base);
		memcpy(k, SP_MK_ALIAS, 2), memcpy(k + 34, q0, 32);
		put(t, SP_DB_META, k, 66, NULL);
	}
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
}

static void teardown(void)
{
	sp_store_close(&st);
	sp_roster_free(&r);
	sp_test_rmdir(tmp);
}

static int has(int db, const char *prefix, const uint8_t *p, const uint8_t *tail, size_t tl)
{
	uint8_t k[2 + 32 + 64];
	size_t pl = strlen(prefix), kl = pl + 32 + tl;
	const void *v;
	size_t vl;
	sp_txn *t = NULL;
	int found;
	memcpy(k, prefix, pl);
	memcpy(k + pl, p, 32);
	memcpy(k + pl + 32, tail, tl);
	ck_assert_int_eq(sp_txn_begin(st, 0, &t), SP_OK);
	found = sp_store_get(t, db, k, kl, &v, &vl) == SP_OK;
	sp_txn_abort(&t);
	return found;
}

START_TEST(every_step_rekeys)
{
	uint8_t *buf = NULL, id[16] = { 7 }, q1[32], out[32];
	size_t len;
	uint64_t count = 0;
	char why[256];
	ck_assert_int_eq(sp_file_read(file, 1024, &buf, &len), SP_OK);
	ck_assert_int_eq(sp_translate_apply(st, keys, r, buf, len, &count, why, sizeof why), SP_OK);
	ck_assert_uint_eq(count, 5);
	ck_assert_uint_eq(sp_translate_epoch(), 1);
	ck_assert_int_eq(sp_toprf_translate(delta, q0, q1), SP_OK);
	/* keys moved, old ones gone */
	ck_assert(has(SP_DB_INVOLVE, "", p1, (const uint8_t *)"school-bonnefanten", 18));
	ck_assert(!has(SP_DB_INVOLVE, "", p0, (const uint8_t *)"school-bonnefanten", 18));
	ck_assert(has(SP_DB_META, SP_MK_SUBJECT, p1, id, 16) && !has(SP_DB_META, SP_MK_SUBJECT, p0, id, 16));
	ck_assert(has(SP_DB_META, SP_MK_ESCALATED, p1, id, 16) && !has(SP_DB_META, SP_MK_ESCALATED, p0, id, 16));
	ck_assert(has(SP_DB_META, SP_MK_REFERRAL, p1, id, 0) && !has(SP_DB_META, SP_MK_REFERRAL, p0, id, 0));
	ck_assert(has(SP_DB_META, SP_MK_ALIAS, p1, q1, 32));
	/* values follow: the involvement's pseudonym and epoch */
	{
		uint8_t k[50];
		const void *v;
		size_t vl;
		sp_txn *t = NULL;
		memcpy(k, p1, 32);
		memcpy(k + 32, "school-bonnefanten", 18);
		ck_assert_int_eq(sp_txn_begin(st, 0, &t), SP_OK);
		ck_assert_int_eq(sp_store_get(t, SP_DB_INVOLVE, k, 50, &v, &vl), SP_OK);
		Seinpost__Involvement *inv = seinpost__involvement__unpack(NULL, vl, v);
		ck_assert_ptr_nonnull(inv);
		ck_assert_mem_eq(inv->pseudonym.data, p1, 32);
		ck_assert_uint_eq(inv->pseudonym_epoch, SP_PSEUDO_EPOCH_OPRF + 1);
		seinpost__involvement__free_unpacked(inv, NULL);
		sp_txn_abort(&t);
	}
	/* the same file again, or a second time: refused, nothing changes */
	ck_assert_int_eq(sp_translate_apply(st, keys, r, buf, len, &count, why, sizeof why), SP_EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "at epoch 1"));
	ck_assert(has(SP_DB_META, SP_MK_SUBJECT, p1, id, 16));
	/* δ sealed and found again by a fresh load; translation on decode */
	ck_assert_int_eq(sp_translate_key_load(keys), SP_OK);
	ck_assert_int_eq(sp_translate_load(st), SP_OK);
	ck_assert_uint_eq(sp_translate_epoch(), 1);
	ck_assert_int_eq(sp_translate_to_current(SP_PSEUDO_EPOCH_OPRF, p0, out), SP_OK);
	ck_assert_mem_eq(out, p1, 32);
	ck_assert_int_eq(sp_translate_to_current(SP_PSEUDO_EPOCH_OPRF + 1, p1, out), SP_OK);
	ck_assert_mem_eq(out, p1, 32);
	ck_assert_int_eq(sp_translate_to_current(SP_PSEUDO_EPOCH_OPRF + 2, p1, out), SP_EKEY);
	ck_assert_int_eq(sp_translate_to_current(3 /* a pseudo.key epoch */, p0, out), SP_OK);
	ck_assert_mem_eq(out, p0, 32);
	{
		Seinpost__SignalHeader h = SEINPOST__SIGNAL_HEADER__INIT;
		uint8_t hp[32];
		memcpy(hp, p0, 32);
		h.pseudonym = (ProtobufCBinaryData){ 32, hp };
		h.pseudonym_epoch = SP_PSEUDO_EPOCH_OPRF;
		ck_assert_int_eq(sp_translate_header(&h), SP_OK);
		ck_assert_mem_eq(hp, p1, 32);
		ck_assert_uint_eq(h.pseudonym_epoch, SP_PSEUDO_EPOCH_OPRF + 1);
	}
	/* who-saw: the earlier pseudonym, proven against the roster's d */
	{
		uint8_t ps[4][32], pr[4][64];
		ck_assert_uint_eq(sp_translate_earlier(p1, ps, pr, 4), 1);
		ck_assert_mem_eq(ps[0], p0, 32);
		ck_assert_int_eq(sp_translate_earlier_verify(r, 1, ps[0], p1, pr[0]), SP_OK);
		ck_assert_int_eq(sp_translate_earlier_verify(r, 1, q0, p1, pr[0]), SP_ECRYPTO);
		ck_assert_int_eq(sp_translate_earlier_verify(r, 2, ps[0], p1, pr[0]), SP_ENOTFOUND);
	}
	/* the store alone does not give δ: a wrong translate.key cannot open it */
	{
		char path[400];
		snprintf(path, sizeof path, "%s/" SP_TRANSLATE_KEY_FILE, keys);
		ck_assert_int_eq(sp_file_write(path, "00000000000000000000000000000000000000000000000000000000000000aa\n", 65,
		                               0600), SP_OK);
		ck_assert_int_eq(sp_translate_key_load(keys), SP_OK);
		ck_assert_int_ne(sp_translate_load(st), SP_OK);
	}
	free(buf);
}
END_TEST

START_TEST(a_wrong_file_changes_nothing)
{
	uint8_t *buf = NULL, id[16] = { 7 }, other[32], d[32], key[32];
	size_t len;
	uint64_t count = 0;
	char why[256], bad[300];
	/* a process that never loaded a chain (a node's retention): headers of
	 * any epoch pass unchanged */
	{
		Seinpost__SignalHeader h = SEINPOST__SIGNAL_HEADER__INIT;
		uint8_t hp[32];
		memcpy(hp, p0, 32);
		h.pseudonym = (ProtobufCBinaryData){ 32, hp };
		h.pseudonym_epoch = SP_PSEUDO_EPOCH_OPRF + 5;
		ck_assert_int_eq(sp_translate_header(&h), SP_OK);
		ck_assert_mem_eq(hp, p0, 32);
		ck_assert_uint_eq(h.pseudonym_epoch, SP_PSEUDO_EPOCH_OPRF + 5);
	}
	/* a δ that is not the roster's rotation: refused */
	crypto_core_ristretto255_scalar_random(other);
	ck_assert_int_eq(crypto_scalarmult_ristretto255_base(d, other), 0);
	randombytes_buf(key, 32);
	ck_assert_int_eq(crypto_scalarmult_ristretto255_base(key, other), 0);
	snprintf(bad, sizeof bad, "%s/bad.bin", tmp);
	ck_assert_int_eq(sp_network_translation_write(bad, 1, other, d, key), SP_OK);
	ck_assert_int_eq(sp_file_read(bad, 1024, &buf, &len), SP_OK);
	ck_assert_int_eq(sp_translate_apply(st, keys, r, buf, len, &count, why, sizeof why), SP_EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "no rotation to key epoch 1"));
	ck_assert(has(SP_DB_META, SP_MK_SUBJECT, p0, id, 16));
	free(buf);
	/* a file whose d is not δ·G does not decode */
	ck_assert_int_eq(sp_network_translation_write(bad, 1, delta, d, key), SP_OK);
	ck_assert_int_eq(sp_file_read(bad, 1024, &buf, &len), SP_OK);
	ck_assert_int_eq(sp_translate_apply(st, keys, r, buf, len, &count, why, sizeof why), SP_ECRYPTO);
	ck_assert(has(SP_DB_META, SP_MK_SUBJECT, p0, id, 16));
	free(buf);
}
END_TEST

static Suite *translate_suite(void)
{
	Suite *s = suite_create("translate");
	TCase *tc = tcase_create("translate");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_step_rekeys);
	tcase_add_test(tc, a_wrong_file_changes_nothing);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(translate_suite)
