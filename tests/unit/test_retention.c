/* test_retention.c — the retention sweep looks at a bounded slice per call,
 * continues where it stopped, wraps round, and still finds every expired
 * copy; a small table is swept whole in one call. */
#include "sp_test.h"
#include "sp_retention.h"
#include "sp_store.h"
#include "sp_util.h"
#include "sp_wire.h"
#include "seinpost.pb-c.h"

static char dir[256];

static void setup(void)
{
	sp_test_subdir(dir, sizeof dir);
}

static void teardown(void)
{
	sp_test_rmdir(dir);
}

/* n received copies; every third one (i % 3 == 0) expired at now = 1000 */
static sp_store *fill(int n)
{
	sp_store *s = NULL;
	sp_txn *t = NULL;
	char p[300];
	snprintf(p, sizeof p, "%s/state", dir);
	ck_assert_int_eq(sp_store_open(p, 0, 0, &s), SP_OK);
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	for (int i = 0; i < n; i++) {
		Seinpost__SignalHeader h = SEINPOST__SIGNAL_HEADER__INIT;
		Seinpost__Signal sig = SEINPOST__SIGNAL__INIT;
		Seinpost__Delivery d = SEINPOST__DELIVERY__INIT;
		Seinpost__InboxEntry e = SEINPOST__INBOX_ENTRY__INIT;
		uint8_t id[16] = { 0 }, *hb = NULL, *eb = NULL;
		size_t hl, el;
		sp_be64_put(id + 8, (uint64_t)i);
		h.id = (ProtobufCBinaryData){ 16, id };
		h.category = "c";
		h.created = 50;
		h.expires = i % 3 == 0 ? 100 : 10000000000ull;
		ck_assert_int_eq(sp_wire_pack(&h.base, &hb, &hl), SP_OK);
		sig.header = (ProtobufCBinaryData){ hl, hb };
		d.signal = &sig;
		e.delivery = &d;
		e.received = 60;
		ck_assert_int_eq(sp_wire_pack(&e.base, &eb, &el), SP_OK);
		ck_assert_int_eq(sp_store_put(t, SP_DB_INBOX, id, 16, eb, el, 0), SP_OK);
		free(hb);
		free(eb);
	}
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	return s;
}

static size_t sweep(sp_store *s)
{
	sp_txn *t = NULL;
	size_t expired = 0;
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_retention_sweep_node(t, NULL, "jeugdzorg-a", 1000, &expired), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	return expired;
}

static size_t inbox_count(sp_store *s)
{
	sp_txn *t = NULL;
	size_t n = 0;
	const void *v;
	size_t vl;
	ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
	for (int i = 0; i < 1000; i++) {
		uint8_t id[16] = { 0 };
		sp_be64_put(id + 8, (uint64_t)i);
		if (sp_store_get(t, SP_DB_INBOX, id, 16, &v, &vl) == SP_OK)
			n++;
	}
	sp_txn_abort(&t);
	return n;
}

START_TEST(sweep_in_slices)
{
	sp_store *s = fill(1000); /* 334 expired (0, 3, ..., 999) */
	size_t total = 0, first = sweep(s);
	/* a slice of 256 entries: 0..255 hold 86 expired ones */
	ck_assert_uint_eq(first, 86);
	total = first;
	for (int i = 0; i < 3; i++)
		total += sweep(s);
	/* four slices cover all 1000 (the last one wraps round) */
	ck_assert_uint_eq(total, 334);
	ck_assert_uint_eq(sweep(s), 0);
	ck_assert_uint_eq(sweep(s), 0);
	ck_assert_uint_eq(inbox_count(s), 666);
	sp_store_close(&s);
}
END_TEST

START_TEST(small_table_whole)
{
	sp_store *s = fill(10); /* 0, 3, 6, 9 */
	ck_assert_uint_eq(sweep(s), 4);
	ck_assert_uint_eq(sweep(s), 0);
	ck_assert_uint_eq(inbox_count(s), 6);
	sp_store_close(&s);
}
END_TEST

static Suite *retention_suite(void)
{
	Suite *s = suite_create("retention");
	TCase *tc = tcase_create("sweep");
	tcase_add_unchecked_fixture(tc, sp_test_base_setup, sp_test_base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sweep_in_slices);
	tcase_add_test(tc, small_table_whole);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(retention_suite)
