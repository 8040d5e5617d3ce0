/* test_audit.c — hash-chained audit log: append, verify, tamper detection. */
#include <stdint.h>
#include <sodium.h>

#include "sp_test.h"
#include "sp_audit.h"
#include "sp_util.h"
#include "seinpost.pb-c.h"

#define N_RECORDS 10

static char dir[256];
static sp_store *store;

/* Each test works in its own subdirectory of the runner's base (sp_test.h). */

static void setup(void)
{
	sp_test_subdir(dir, sizeof dir);
	ck_assert_int_eq(sp_store_open(dir, 0, 0, &store), SP_OK);
}

static void teardown(void)
{
	sp_store_close(&store);
	sp_test_rmdir(dir);
	dir[0] = '\0';
}

static const uint8_t pseudo[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
static const uint8_t sigid[16] = { 0xaa, 0xbb, 0xcc };
static const uint8_t phash[32] = { 0x50, 0x4c };

static void fill_entry(sp_audit_entry *e, uint64_t i, char *reason, size_t rlen)
{
	memset(e, 0, sizeof *e);
	snprintf(reason, rlen, "reason-%llu", (unsigned long long)i);
	e->event = 1 + (int)(i % 14);
	e->actor = "politie-limburg";
	e->recipient = (i % 2) ? "zvh-mh" : NULL;
	e->pseudonym = pseudo;
	e->signal_id = sigid;
	e->category = "criminal-exploitation";
	e->weight = 1 + (uint32_t)(i % 3);
	e->tiers = 1u << 2;
	e->rule_id = "r-escalate";
	e->policy_hash = phash;
	e->legal_basis = "Wmo art. 5.1";
	e->reason = reason;
	e->code = -(int32_t)i;
	e->time_ms = 1700000000000ULL + i;
}

/* Appends records first..last in one write transaction. */
static void append_range(uint64_t first, uint64_t last)
{
	sp_txn *t = NULL;
	ck_assert_int_eq(sp_txn_begin(store, 1, &t), SP_OK);
	for (uint64_t i = first; i <= last; i++) {
		sp_audit_entry e;
		char reason[32];
		uint64_t seq = 0;
		fill_entry(&e, i, reason, sizeof reason);
		ck_assert_int_eq(sp_audit_append(t, &e, &seq), SP_OK);
		ck_assert_uint_eq(seq, i);
	}
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
}

/* N records across three transactions. */
static void build_log(void)
{
	append_range(1, 4);
	append_range(5, 7);
	append_range(8, N_RECORDS);
}

static int verify(uint64_t *count, uint64_t *bad, char *why, size_t whylen)
{
	return sp_audit_verify(store, count, bad, why, whylen);
}

static void expect_ok(uint64_t n)
{
	uint64_t count = 99, bad = 99;
	char why[256];
	int rc = verify(&count, &bad, why, sizeof why);
	ck_assert_msg(rc == SP_OK, "verify: %s: %s", sp_strerror(rc), why);
	ck_assert_uint_eq(count, n);
	ck_assert_uint_eq(bad, 0);
}

static void expect_bad(uint64_t want_bad, const char *want_why)
{
	uint64_t count = 99, bad = 99;
	char why[256];
	int rc = verify(&count, &bad, why, sizeof why);
	ck_assert_msg(rc == SP_ECORRUPT, "verify passed a tampered log (%s)", sp_strerror(rc));
	ck_assert_msg(bad == want_bad, "bad_seq %llu, want %llu (%s)", (unsigned long long)bad,
	              (unsigned long long)want_bad, why);
	ck_assert_msg(strstr(why, want_why) != NULL, "why '%s' lacks '%s'", why, want_why);
	ck_assert_uint_le(count, want_bad ? want_bad - 1 : N_RECORDS);
}

/* ---- raw access, as an attacker with write access to the file would ---- */

static size_t raw_get(uint64_t seq, uint8_t *buf, size_t cap)
{
	sp_txn *t = NULL;
	uint8_t k[8];
	const void *v;
	size_t vlen;
	sp_be64_put(k, seq);
	ck_assert_int_eq(sp_txn_begin(store, 0, &t), SP_OK);
	ck_assert_int_eq(sp_store_get(t, SP_DB_AUDIT, k, 8, &v, &vlen), SP_OK);
	ck_assert_uint_le(vlen, cap);
	memcpy(buf, v, vlen);
	sp_txn_abort(&t);
	return vlen;
}

static void raw_put(uint64_t seq, const uint8_t *buf, size_t len)
{
	sp_txn *t = NULL;
	uint8_t k[8];
	sp_be64_put(k, seq);
	ck_assert_int_eq(sp_txn_begin(store, 1, &t), SP_OK);
	ck_assert_int_eq(sp_store_put(t, SP_DB_AUDIT, k, 8, buf, len, 0), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
}

static void raw_del(enum sp_db db, const void *k, size_t klen)
{
	sp_txn *t = NULL;
	ck_assert_int_eq(sp_txn_begin(store, 1, &t), SP_OK);
	ck_assert_int_eq(sp_store_del(t, db, k, klen), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
}

static void raw_del_seq(uint64_t seq)
{
	uint8_t k[8];
	sp_be64_put(k, seq);
	raw_del(SP_DB_AUDIT, k, 8);
}

static uint8_t *find(uint8_t *buf, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(buf + i, needle, n) == 0)
			return buf + i;
	return NULL;
}

/* Appending another record must be refused once the log is damaged. */
static void expect_append_refused(void)
{
	sp_txn *t = NULL;
	sp_audit_entry e;
	char reason[32];
	fill_entry(&e, 99, reason, sizeof reason);
	ck_assert_int_eq(sp_txn_begin(store, 1, &t), SP_OK);
	ck_assert_int_eq(sp_audit_append(t, &e, NULL), SP_ECORRUPT);
	sp_txn_abort(&t);
}

/* ---- tests ------------------------------------------------------------- */

START_TEST(test_empty_log_verifies)
{
	expect_ok(0);
}
END_TEST

struct visit {
	uint64_t next;
	int n;
};

static int check_record(void *ctx, const struct Seinpost__AuditRecord *rec)
{
	struct visit *v = ctx;
	char reason[32];
	ck_assert_uint_eq(rec->seq, v->next);
	snprintf(reason, sizeof reason, "reason-%llu", (unsigned long long)rec->seq);
	ck_assert_str_eq(rec->reason, reason);
	ck_assert_int_eq((int)rec->event, 1 + (int)(rec->seq % 14));
	ck_assert_str_eq(rec->actor, "politie-limburg");
	ck_assert_str_eq(rec->recipient, (rec->seq % 2) ? "zvh-mh" : "");
	ck_assert_uint_eq(rec->pseudonym.len, 32);
	ck_assert(memcmp(rec->pseudonym.data, pseudo, 32) == 0);
	ck_assert_uint_eq(rec->signal_id.len, 16);
	ck_assert_uint_eq(rec->policy_hash.len, 32);
	ck_assert_uint_eq(rec->prev_hash.len, 32);
	ck_assert_uint_eq(rec->time, 1700000000000ULL + rec->seq);
	ck_assert_int_eq(rec->code, -(int32_t)rec->seq);
	v->next++;
	v->n++;
	return 0;
}

static int stop_at_3(void *ctx, const struct Seinpost__AuditRecord *rec)
{
	int *n = ctx;
	(*n)++;
	return rec->seq == 3 ? 7 : 0;
}

START_TEST(test_append_verify_foreach)
{
	struct visit v = { 1, 0 };
	int n = 0;

	build_log();
	expect_ok(N_RECORDS);
	ck_assert_int_eq(sp_audit_foreach(store, 0, check_record, &v), SP_OK);
	ck_assert_int_eq(v.n, N_RECORDS);
	v.next = 6;
	v.n = 0;
	ck_assert_int_eq(sp_audit_foreach(store, 6, check_record, &v), SP_OK);
	ck_assert_int_eq(v.n, N_RECORDS - 5);
	ck_assert_int_eq(sp_audit_foreach(store, 1, stop_at_3, &n), 7);
	ck_assert_int_eq(n, 3);

	/* The log survives a reopen and keeps chaining. */
	sp_store_close(&store);
	ck_assert_int_eq(sp_store_open(dir, 0, 0, &store), SP_OK);
	expect_ok(N_RECORDS);
	append_range(N_RECORDS + 1, N_RECORDS + 2);
	expect_ok(N_RECORDS + 2);
}
END_TEST

START_TEST(test_first_record_chain)
{
	uint8_t buf[1024];
	size_t len;
	Seinpost__AuditRecord *rec;

	build_log();
	len = raw_get(1, buf, sizeof buf);
	rec = seinpost__audit_record__unpack(NULL, len, buf);
	ck_assert_ptr_nonnull(rec);
	ck_assert_uint_eq(rec->prev_hash.len, 32);
	for (int i = 0; i < 32; i++)
		ck_assert_int_eq(rec->prev_hash.data[i], 0);
	seinpost__audit_record__free_unpacked(rec, NULL);

	/* Record 2's prev_hash is the RFC 9162 leaf hash of record 1's stored
	 * bytes: SHA-256(0x00 || bytes). */
	{
		uint8_t h[32], b2[1024];
		size_t l2 = raw_get(2, b2, sizeof b2);
		crypto_hash_sha256_state st;
		crypto_hash_sha256_init(&st);
		crypto_hash_sha256_update(&st, (const uint8_t *)"\0", 1);
		crypto_hash_sha256_update(&st, buf, len);
		crypto_hash_sha256_final(&st, h);
		rec = seinpost__audit_record__unpack(NULL, l2, b2);
		ck_assert_ptr_nonnull(rec);
		ck_assert(memcmp(rec->prev_hash.data, h, 32) == 0);
		seinpost__audit_record__free_unpacked(rec, NULL);
	}
}
END_TEST

START_TEST(test_aborted_txn_leaves_nothing)
{
	sp_txn *t = NULL;
	sp_audit_entry e;
	char reason[32];
	uint64_t seq = 0;

	build_log();
	fill_entry(&e, N_RECORDS + 1, reason, sizeof reason);
	ck_assert_int_eq(sp_txn_begin(store, 1, &t), SP_OK);
	ck_assert_int_eq(sp_audit_append(t, &e, &seq), SP_OK);
	ck_assert_uint_eq(seq, N_RECORDS + 1);
	sp_txn_abort(&t);
	expect_ok(N_RECORDS);
	/* The next append reuses the seq the aborted one had. */
	append_range(N_RECORDS + 1, N_RECORDS + 1);
	expect_ok(N_RECORDS + 1);
}
END_TEST

START_TEST(test_time_defaults_to_now)
{
	sp_txn *t = NULL;
	sp_audit_entry e = { .event = 9, .actor = "broker" };
	uint8_t buf[512];
	size_t len;
	uint64_t before = sp_now_ms(), after;
	Seinpost__AuditRecord *rec;

	ck_assert_int_eq(sp_txn_begin(store, 1, &t), SP_OK);
	ck_assert_int_eq(sp_audit_append(t, &e, NULL), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	after = sp_now_ms();
	len = raw_get(1, buf, sizeof buf);
	rec = seinpost__audit_record__unpack(NULL, len, buf);
	ck_assert_ptr_nonnull(rec);
	ck_assert_uint_ge(rec->time, before);
	ck_assert_uint_le(rec->time, after);
	ck_assert_uint_eq(rec->pseudonym.len, 0); /* NULL = absent */
	ck_assert_str_eq(rec->user, "");
	seinpost__audit_record__free_unpacked(rec, NULL);
	expect_ok(1);
}
END_TEST

START_TEST(test_append_rejects_bad_input)
{
	sp_txn *t = NULL;
	sp_audit_entry e = { .event = 0, .actor = "x" };

	ck_assert_int_eq(sp_txn_begin(store, 1, &t), SP_OK);
	ck_assert_int_eq(sp_audit_append(t, &e, NULL), SP_EINVAL);
	e.event = 15;
	ck_assert_int_eq(sp_audit_append(t, &e, NULL), SP_EINVAL);
	e.event = 1;
	e.reason = "bad \xff utf-8";
	ck_assert_int_eq(sp_audit_append(t, &e, NULL), SP_EINVAL);
	ck_assert_int_eq(sp_audit_append(t, NULL, NULL), SP_EINVAL);
	ck_assert_int_eq(sp_audit_append(NULL, &e, NULL), SP_EINVAL);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	expect_ok(0);
}
END_TEST

START_TEST(test_tamper_modify_byte)
{
	uint8_t buf[1024], *p;
	size_t len;

	build_log();
	/* Change "reason-7" to "reason-1": still decodes, chain breaks at 7->8,
	 * and record 8 is still vouched for by record 9, so 7 is the culprit. */
	len = raw_get(7, buf, sizeof buf);
	p = find(buf, len, "reason-7");
	ck_assert_ptr_nonnull(p);
	p[7] = '1';
	raw_put(7, buf, len);
	expect_bad(7, "record 7: contents altered");
}
END_TEST

START_TEST(test_tamper_modify_undecodable)
{
	uint8_t buf[1024];
	size_t len;

	build_log();
	len = raw_get(4, buf, sizeof buf);
	buf[0] = 0xff; /* field 31, wire type 7: invalid */
	raw_put(4, buf, len);
	expect_bad(4, "record 4: does not decode");
}
END_TEST

START_TEST(test_tamper_prev_hash)
{
	uint8_t buf[1024];
	size_t len;

	build_log();
	/* The last 32 bytes are prev_hash (field 17, written last). */
	len = raw_get(6, buf, sizeof buf);
	buf[len - 1] ^= 1;
	raw_put(6, buf, len);
	expect_bad(6, "record 6: prev_hash does not match record 5");
}
END_TEST

START_TEST(test_tamper_last_record)
{
	uint8_t buf[1024], *p;
	size_t len;

	build_log();
	len = raw_get(N_RECORDS, buf, sizeof buf);
	p = find(buf, len, "politie");
	ck_assert_ptr_nonnull(p);
	p[0] = 'P';
	raw_put(N_RECORDS, buf, len);
	expect_bad(N_RECORDS, "does not match the audit head");
	expect_append_refused();
}
END_TEST

START_TEST(test_tamper_first_record)
{
	uint8_t buf[1024], *p;
	size_t len;

	build_log();
	len = raw_get(1, buf, sizeof buf);
	p = find(buf, len, "reason-1");
	ck_assert_ptr_nonnull(p);
	p[0] = 'R';
	raw_put(1, buf, len);
	expect_bad(1, "record 1: contents altered");
}
END_TEST

START_TEST(test_tamper_delete_middle)
{
	build_log();
	raw_del_seq(5);
	expect_bad(5, "record 5 missing");
}
END_TEST

START_TEST(test_tamper_delete_first)
{
	build_log();
	raw_del_seq(1);
	expect_bad(1, "record 1 missing");
}
END_TEST

START_TEST(test_tamper_swap)
{
	uint8_t a[1024], b[1024];
	size_t la, lb;

	build_log();
	la = raw_get(3, a, sizeof a);
	lb = raw_get(4, b, sizeof b);
	raw_put(3, b, lb);
	raw_put(4, a, la);
	expect_bad(3, "record 3: stored under seq 3 but says seq 4");
}
END_TEST

START_TEST(test_tamper_truncate)
{
	char want[64];
	build_log();
	raw_del_seq(N_RECORDS);
	raw_del_seq(N_RECORDS - 1);
	snprintf(want, sizeof want, "head says %d records, log has %d (truncated)",
	         N_RECORDS, N_RECORDS - 2);
	expect_bad(N_RECORDS - 1, want);
	expect_append_refused();
}
END_TEST

START_TEST(test_tamper_delete_head)
{
	build_log();
	raw_del(SP_DB_META, "audit.head", 10);
	expect_bad(0, "audit head missing");
	expect_append_refused();
}
END_TEST

START_TEST(test_tamper_extra_record)
{
	uint8_t buf[1024];
	size_t len;

	/* A record slipped in past the head (head not updated). */
	build_log();
	len = raw_get(N_RECORDS, buf, sizeof buf);
	raw_put(N_RECORDS + 1, buf, len);
	expect_bad(N_RECORDS + 1, "record 11: stored under seq 11 but says seq 10");
}
END_TEST

START_TEST(test_event_names)
{
	const char *want[] = { "none", "submitted", "rejected", "delivered", "released",
	                       "read", "matched", "escalated", "expired", "policy-loaded",
	                       "audit-query", "key-rotated", "queued", "sent", "received" };
	/* Every proto AuditEvent value has a name. */
	for (unsigned i = 0; i < seinpost__audit_event__descriptor.n_values; i++) {
		int val = seinpost__audit_event__descriptor.values[i].value;
		ck_assert_str_ne(sp_audit_event_name(val), "unknown");
	}
	for (int i = 0; i < (int)(sizeof want / sizeof want[0]); i++)
		ck_assert_str_eq(sp_audit_event_name(i), want[i]);
	ck_assert_str_eq(sp_audit_event_name(-1), "unknown");
	ck_assert_str_eq(sp_audit_event_name(15), "unknown");
	ck_assert_str_eq(sp_audit_event_name(1 << 20), "unknown");
}
END_TEST

static Suite *audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("chain");
	tcase_add_unchecked_fixture(tc, sp_test_base_setup, sp_test_base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_empty_log_verifies);
	tcase_add_test(tc, test_append_verify_foreach);
	tcase_add_test(tc, test_first_record_chain);
	tcase_add_test(tc, test_aborted_txn_leaves_nothing);
	tcase_add_test(tc, test_time_defaults_to_now);
	tcase_add_test(tc, test_append_rejects_bad_input);
	tcase_add_test(tc, test_event_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("tamper");
	tcase_add_unchecked_fixture(tc, sp_test_base_setup, sp_test_base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tamper_modify_byte);
	tcase_add_test(tc, test_tamper_modify_undecodable);
	tcase_add_test(tc, test_tamper_prev_hash);
	tcase_add_test(tc, test_tamper_last_record);
	tcase_add_test(tc, test_tamper_first_record);
	tcase_add_test(tc, test_tamper_delete_middle);
	tcase_add_test(tc, test_tamper_delete_first);
	tcase_add_test(tc, test_tamper_swap);
	tcase_add_test(tc, test_tamper_truncate);
	tcase_add_test(tc, test_tamper_delete_head);
	tcase_add_test(tc, test_tamper_extra_record);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(audit_suite)
