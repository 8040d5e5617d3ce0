/*
 * test_witness.c — signed tree heads over the LMDB Merkle tree (sp_sth,
 * sp_mtree) and a node's witness (sp_witness): first head kept, a proven
 * extension accepted, a shrink, a fork, a bad proof and a foreign signature
 * raise a sticky alarm.
 */
#include <sodium.h>
#include "sp_test.h"
#include "sp_audit.h"
#include "sp_merkle.h"
#include "sp_mtree.h"
#include "sp_sth.h"
#include "sp_witness.h"

static char dir[256], wdir[256];
static sp_store *log_s, *wit_s;
static uint8_t pk[32], sk[64];

static void setup(void)
{
	ck_assert_ptr_nonnull(sp_test_tmpdir(dir, sizeof dir));
	ck_assert_ptr_nonnull(sp_test_tmpdir(wdir, sizeof wdir));
	ck_assert_int_eq(sp_store_open(dir, 0, 0, &log_s), SP_OK);
	ck_assert_int_eq(sp_store_open(wdir, 0, 0, &wit_s), SP_OK);
	crypto_sign_keypair(pk, sk);
}

static void teardown(void)
{
	sp_store_close(&log_s);
	sp_store_close(&wit_s);
	sp_test_rmdir(dir);
	sp_test_rmdir(wdir);
}

/* Append n records and sign a head; returns it (caller frees). */
static Seinpost__SignedTreeHead *grow(int n)
{
	sp_txn *t = NULL;
	Seinpost__SignedTreeHead *h = NULL;
	int did = 0;
	ck_assert_int_eq(sp_txn_begin(log_s, 1, &t), SP_OK);
	for (int i = 0; i < n; i++) {
		sp_audit_entry e = { .event = SEINPOST__AUDIT_EVENT__AUDIT_POLICY_LOADED, .actor = "broker" };
		ck_assert_int_eq(sp_audit_append(t, &e, NULL), SP_OK);
	}
	ck_assert_int_eq(sp_sth_maybe_sign(t, sk, 1000, 3600000, 1, &did), SP_OK);
	ck_assert_int_eq(did, 1);
	ck_assert_int_eq(sp_sth_latest(t, &h), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	return h;
}

static int feed(const Seinpost__SignedTreeHead *h, uint64_t from)
{
	Seinpost__AuditProof p = SEINPOST__AUDIT_PROOF__INIT;
	sp_merkle_hash proof[SP_MERKLE_MAX_PROOF];
	ProtobufCBinaryData b[SP_MERKLE_MAX_PROOF];
	size_t n = 0;
	sp_txn *t = NULL;
	if (from && from < h->tree_size) {
		ck_assert_int_eq(sp_txn_begin(log_s, 0, &t), SP_OK);
		ck_assert_int_eq(sp_mtree_consistency(t, from, h->tree_size, proof, &n), SP_OK);
		sp_txn_abort(&t);
	}
	for (size_t i = 0; i < n; i++)
		b[i] = (ProtobufCBinaryData){ 32, proof[i] };
	p.from_size = from;
	p.sth = (Seinpost__SignedTreeHead *)h;
	p.consistency = b;
	p.n_consistency = n;
	ck_assert_int_eq(sp_txn_begin(wit_s, 1, &t), SP_OK);
	int need = 0;
	const uint8_t *pks[1] = { pk };
	int rc = from ? sp_witness_proof(t, pks, 1, &p) : sp_witness_seen(t, pks, 1, h, &need);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	return rc;
}

static sp_witness_state state(void)
{
	sp_witness_state w;
	ck_assert_int_eq(sp_witness_status(wit_s, &w), SP_OK);
	return w;
}

START_TEST(test_heads_and_verify)
{
	Seinpost__SignedTreeHead *a = grow(5), *b = grow(3);
	sp_audit_verify_result r;
	uint8_t root[32];
	sp_txn *t = NULL;
	ck_assert_int_eq(sp_sth_verify(a, pk), SP_OK);
	ck_assert_uint_eq(b->tree_size, 8);
	ck_assert_int_eq(sp_txn_begin(log_s, 0, &t), SP_OK);
	ck_assert_int_eq(sp_mtree_root(t, 5, root), SP_OK);
	ck_assert_mem_eq(root, a->root_hash.data, 32);
	sp_txn_abort(&t);
	ck_assert_int_eq(sp_audit_verify_full(log_s, pk, &r), SP_OK);
	ck_assert_uint_eq(r.records, 8);
	ck_assert_uint_eq(r.heads, 2);
	ck_assert_mem_eq(r.root, b->root_hash.data, 32);
	/* another key's view of the same heads */
	uint8_t pk2[32], sk2[64];
	crypto_sign_keypair(pk2, sk2);
	ck_assert_int_eq(sp_audit_verify_full(log_s, pk2, &r), SP_ECORRUPT);
	ck_assert_uint_eq(r.bad_head, 5);
	seinpost__signed_tree_head__free_unpacked(a, NULL);
	seinpost__signed_tree_head__free_unpacked(b, NULL);
}
END_TEST

START_TEST(test_witness_extension_ok)
{
	Seinpost__SignedTreeHead *a = grow(3), *b = grow(4);
	ck_assert_int_eq(feed(a, 0), SP_OK);
	ck_assert_uint_eq(state().size, 3);
	ck_assert_int_eq(feed(b, 3), SP_OK);
	sp_witness_state w = state();
	ck_assert_uint_eq(w.size, 7);
	ck_assert_int_eq(w.alarm, 0);
	ck_assert_int_eq(feed(a, 0), SP_OK); /* older head seen again: shrink */
	ck_assert_int_eq(state().alarm, 1);
	ck_assert_ptr_nonnull(strstr(state().reason, "shrank"));
	seinpost__signed_tree_head__free_unpacked(a, NULL);
	seinpost__signed_tree_head__free_unpacked(b, NULL);
}
END_TEST

START_TEST(test_witness_fork)
{
	Seinpost__SignedTreeHead *a = grow(3), *b = grow(2);
	ck_assert_int_eq(feed(a, 0), SP_OK);
	b->root_hash.data[5] ^= 1; /* a different history, properly signed */
	sp_sth_sign_raw(b->tree_size, b->timestamp, b->root_hash.data, sk, b->signature.data);
	ck_assert_int_eq(feed(b, 3), SP_OK);
	sp_witness_state w = state();
	ck_assert_int_eq(w.alarm, 1);
	ck_assert_ptr_nonnull(strstr(w.reason, "forked"));
	ck_assert_uint_eq(w.size, 3); /* the kept head is evidence */
	seinpost__signed_tree_head__free_unpacked(a, NULL);
	seinpost__signed_tree_head__free_unpacked(b, NULL);
}
END_TEST

START_TEST(test_witness_bad_signature)
{
	Seinpost__SignedTreeHead *a = grow(2);
	a->signature.data[0] ^= 1;
	ck_assert_int_eq(feed(a, 0), SP_OK);
	ck_assert_int_eq(state().alarm, 1);
	ck_assert_int_eq(state().have_head, 0);
	seinpost__signed_tree_head__free_unpacked(a, NULL);
}
END_TEST

static Suite *witness_suite(void)
{
	Suite *s = suite_create("witness");
	TCase *tc = tcase_create("heads");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_heads_and_verify);
	tcase_add_test(tc, test_witness_extension_ok);
	tcase_add_test(tc, test_witness_fork);
	tcase_add_test(tc, test_witness_bad_signature);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(witness_suite)
