/* test_verdict.c — the broker's verdict applied at the node (sp_verdict.c,
 * issue 11): a rejection of an entry whose reason decoded as protobuf-c's
 * static empty string (the crash), temporary vs final, giving up by age,
 * accepted after deferral, a damaged entry left alone. */
#include "sp_test.h"
#include "sp_outbox.h"
#include "sp_store.h"
#include "sp_util.h"
#include "sp_verdict.h"
#include "sp_wire.h"
#include "seinpost.pb-c.h"

static char dir[256];
static void setup(void) { sp_test_subdir(dir, sizeof dir); }
static void teardown(void) { sp_test_rmdir(dir); }

static sp_store *open_store(void)
{
	sp_store *s = NULL;
	char p[300];
	snprintf(p, sizeof p, "%s/state", dir);
	ck_assert_int_eq(sp_store_open(p, 0, 0, &s), SP_OK);
	return s;
}

/* A pending entry whose signal header says created/expires (unix s). */
static void put_pending(sp_store *s, uint8_t tag, uint64_t created, uint64_t expires)
{
	Seinpost__SignalHeader h = SEINPOST__SIGNAL_HEADER__INIT;
	Seinpost__Signal sig = SEINPOST__SIGNAL__INIT;
	Seinpost__OutboxEntry e = SEINPOST__OUTBOX_ENTRY__INIT;
	uint8_t id[16], *hb, *eb;
	size_t hl, el;
	sp_txn *t = NULL;
	memset(id, tag, 16);
	h.id = (ProtobufCBinaryData){ 16, id };
	h.created = created;
	h.expires = expires;
	ck_assert_int_eq(sp_wire_pack(&h.base, &hb, &hl), SP_OK);
	sig.header = (ProtobufCBinaryData){ hl, hb };
	e.signal = &sig;
	e.state = SEINPOST__OUTBOX_STATE__OUTBOX_PENDING;
	ck_assert_int_eq(sp_wire_pack(&e.base, &eb, &el), SP_OK);
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_outbox_add(t, id, eb, el), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	free(hb);
	free(eb);
}

static int apply(sp_store *s, uint8_t tag, int status, int code, const char *reason, uint64_t now_ms)
{
	Seinpost__SubmitAck a = SEINPOST__SUBMIT_ACK__INIT;
	sp_verdict_ctx c = { .org = "politie-limburg", .retry_ms = 100, .max_age_s = 3600 };
	uint8_t id[16];
	sp_txn *t = NULL;
	int outcome = -1;
	char why[300];
	memset(id, tag, 16);
	a.id = (ProtobufCBinaryData){ 16, id };
	a.status = (Seinpost__Status)status;
	a.code = code;
	a.reason = (char *)reason;
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_verdict_apply(t, &c, &a, now_ms, &outcome, why, sizeof why), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	return outcome;
}

static Seinpost__OutboxEntry *get(sp_store *s, uint8_t tag)
{
	sp_txn *t = NULL;
	const void *v;
	size_t vl;
	uint8_t id[16];
	Seinpost__OutboxEntry *e;
	memset(id, tag, 16);
	ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
	ck_assert_int_eq(sp_store_get(t, SP_DB_OUTBOX, id, 16, &v, &vl), SP_OK);
	e = seinpost__outbox_entry__unpack(NULL, vl, v);
	sp_txn_abort(&t);
	ck_assert_ptr_nonnull(e);
	return e;
}

static uint64_t pending(sp_store *s)
{
	sp_txn *t = NULL;
	uint64_t n, oldest;
	ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
	ck_assert_int_eq(sp_outbox_pending(t, &n, &oldest), SP_OK);
	sp_txn_abort(&t);
	return n;
}

START_TEST(test_final_rejection)
{
	sp_store *s = open_store();
	uint64_t now = 1800000000000ull;
	put_pending(s, 1, now / 1000, now / 1000 + 86400);
	/* The stored entry has no reason: it decodes as the static empty string. */
	ck_assert_int_eq(apply(s, 1, SEINPOST__STATUS__STATUS_REJECTED, SP_ECATEGORY, "unknown category 'x'", now),
	                 SP_VERDICT_REJECTED);
	Seinpost__OutboxEntry *e = get(s, 1);
	ck_assert_int_eq(e->state, SEINPOST__OUTBOX_STATE__OUTBOX_REJECTED);
	ck_assert_int_eq(e->code, SP_ECATEGORY);
	ck_assert_str_eq(e->reason, "unknown category 'x'");
	seinpost__outbox_entry__free_unpacked(e, NULL);
	ck_assert_uint_eq(pending(s), 0);
	/* a repeated verdict changes nothing */
	ck_assert_int_eq(apply(s, 1, SEINPOST__STATUS__STATUS_OK, 0, "", now), SP_VERDICT_NONE);
	sp_store_close(&s);
}
END_TEST

START_TEST(test_temporary_then_accepted)
{
	sp_store *s = open_store();
	uint64_t now = 1800000000000ull;
	put_pending(s, 2, now / 1000, now / 1000 + 86400);
	ck_assert_int_eq(apply(s, 2, SEINPOST__STATUS__STATUS_REJECTED, SP_ECLOCK, "in the future", now),
	                 SP_VERDICT_DEFERRED);
	Seinpost__OutboxEntry *e = get(s, 2);
	ck_assert_int_eq(e->state, SEINPOST__OUTBOX_STATE__OUTBOX_DEFERRED);
	ck_assert_uint_eq(e->attempts, 1);
	ck_assert_uint_ge(e->next_attempt, now + 100);
	ck_assert_int_eq(sp_verdict_due(e, now), 0);
	ck_assert_int_eq(sp_verdict_due(e, e->next_attempt), 1);
	ck_assert_ptr_nonnull(strstr(e->reason, "temporary"));
	seinpost__outbox_entry__free_unpacked(e, NULL);
	ck_assert_uint_eq(pending(s), 1); /* still in the pending index */
	ck_assert_int_eq(apply(s, 2, SEINPOST__STATUS__STATUS_REJECTED, SP_EPOLICYVER, "other version", now + 1000),
	                 SP_VERDICT_DEFERRED);
	e = get(s, 2);
	ck_assert_uint_eq(e->attempts, 2);
	seinpost__outbox_entry__free_unpacked(e, NULL);
	ck_assert_int_eq(apply(s, 2, SEINPOST__STATUS__STATUS_OK, 0, "", now + 2000), SP_VERDICT_ACCEPTED);
	e = get(s, 2);
	ck_assert_int_eq(e->state, SEINPOST__OUTBOX_STATE__OUTBOX_ACCEPTED);
	seinpost__outbox_entry__free_unpacked(e, NULL);
	ck_assert_uint_eq(pending(s), 0);
	sp_store_close(&s);
}
END_TEST

START_TEST(test_gives_up_by_age)
{
	sp_store *s = open_store();
	uint64_t now = 1800000000000ull;
	put_pending(s, 3, now / 1000 - 7200, now / 1000 + 86400); /* older than max_age_s 3600 */
	ck_assert_int_eq(apply(s, 3, SEINPOST__STATUS__STATUS_REJECTED, SP_ECLOCK, "in the past", now),
	                 SP_VERDICT_REJECTED);
	Seinpost__OutboxEntry *e = get(s, 3);
	ck_assert_int_eq(e->state, SEINPOST__OUTBOX_STATE__OUTBOX_REJECTED);
	ck_assert_ptr_nonnull(strstr(e->reason, "gave up"));
	seinpost__outbox_entry__free_unpacked(e, NULL);
	sp_store_close(&s);
}
END_TEST

START_TEST(test_damaged_entry_left_alone)
{
	sp_store *s = open_store();
	sp_txn *t = NULL;
	uint8_t id[16];
	memset(id, 4, 16);
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_outbox_add(t, id, "\xff\xff\xff", 3), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	ck_assert_int_eq(apply(s, 4, SEINPOST__STATUS__STATUS_REJECTED, SP_ESIG, "bad", 1800000000000ull),
	                 SP_VERDICT_NONE);
	ck_assert_int_eq(sp_verdict_temporary(SP_ECLOCK), 1);
	ck_assert_int_eq(sp_verdict_temporary(SP_EPOLICYVER), 1);
	ck_assert_int_eq(sp_verdict_temporary(SP_EPOLICY), 0);
	sp_store_close(&s);
}
END_TEST

static Suite *verdict_suite(void)
{
	Suite *s = suite_create("verdict");
	TCase *tc = tcase_create("core");
	tcase_add_unchecked_fixture(tc, sp_test_base_setup, sp_test_base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_final_rejection);
	tcase_add_test(tc, test_temporary_then_accepted);
	tcase_add_test(tc, test_gives_up_by_age);
	tcase_add_test(tc, test_damaged_entry_left_alone);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(verdict_suite)
