/* test_involve.c — involvement dates and the node-side merge of released grants. */
#include <sodium.h>
#include "sp_test.h"
#include "sp_involve.h"
#include "sp_inbox.h"
#include "sp_wire.h"

START_TEST(dates)
{
	uint64_t t = 0;
	ck_assert_int_eq(sp_involve_parse_date("2030-01-31", &t), SP_OK);
	ck_assert_uint_eq(t, 1896134399u); /* 2030-01-31T23:59:59Z */
	ck_assert_int_eq(sp_involve_parse_date("2028-02-29", &t), SP_OK);
	ck_assert_int_eq(sp_involve_parse_date("2030-02-29", &t), SP_EDATE);
	ck_assert_int_eq(sp_involve_parse_date("2030-13-01", &t), SP_EDATE);
	ck_assert_int_eq(sp_involve_parse_date("2030-1-01", &t), SP_EDATE);
	ck_assert_int_eq(sp_involve_parse_date("tomorrow", &t), SP_EDATE);
	ck_assert_int_eq(sp_involve_parse_date("", &t), SP_EDATE);
	ck_assert_int_eq(sp_involve_parse_date(NULL, &t), SP_EDATE);
}
END_TEST

static Seinpost__Grant *grant(const char *to, int tier)
{
	Seinpost__Grant *g = calloc(1, sizeof *g);
	seinpost__grant__init(g);
	g->recipient = (char *)to;
	g->tier = (Seinpost__Tier)tier;
	return g;
}

START_TEST(merge)
{
	uint8_t hdr[4] = { 1, 2, 3, 4 }, *out = NULL;
	size_t len;
	int changed = -1;
	Seinpost__Grant *ga[1] = { grant("zvh", 1) }, *gb[2] = { grant("zvh", 1), grant("zvh", 2) };
	Seinpost__Signal a = SEINPOST__SIGNAL__INIT, b = SEINPOST__SIGNAL__INIT;
	Seinpost__Delivery da = SEINPOST__DELIVERY__INIT, db = SEINPOST__DELIVERY__INIT;
	Seinpost__InboxEntry e = SEINPOST__INBOX_ENTRY__INIT;
	char *ra[1] = { "rule-a" }, *rb[1] = { "rule-b" };

	a.header.data = b.header.data = hdr;
	a.header.len = b.header.len = 4;
	a.grants = ga;
	a.n_grants = 1;
	b.grants = gb;
	b.n_grants = 2;
	da.signal = &a;
	da.rule_ids = ra;
	da.n_rule_ids = 1;
	db.signal = &b;
	db.rule_ids = rb;
	db.n_rule_ids = 1;
	e.delivery = &da;

	ck_assert_int_eq(sp_inbox_merge(&e, &db, &out, &len, &changed), SP_OK);
	ck_assert_int_eq(changed, 1);
	Seinpost__InboxEntry *m = seinpost__inbox_entry__unpack(NULL, len, out);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->delivery->signal->n_grants, 2);
	ck_assert_uint_eq(m->delivery->n_rule_ids, 2);
	seinpost__inbox_entry__free_unpacked(m, NULL);
	free(out);

	/* A plain repeat changes nothing. */
	ck_assert_int_eq(sp_inbox_merge(&e, &da, &out, &len, &changed), SP_OK);
	ck_assert_int_eq(changed, 0);
	free(out);

	/* Another header is never merged. */
	uint8_t other[4] = { 9, 9, 9, 9 };
	b.header.data = other;
	ck_assert_int_eq(sp_inbox_merge(&e, &db, &out, &len, &changed), SP_EINVAL);
	ck_assert_ptr_null(out);
	free(ga[0]);
	free(gb[0]);
	free(gb[1]);
}
END_TEST

/* Bulk file lines: fields, comments, and errors that never echo the BSN. */
START_TEST(bulk_lines)
{
	Seinpost__InvolveRequest r;
	char msg[200];
	char l1[] = "111222333,LL-1,2030-06-30\r\n", l2[] = "  # a comment", l3[] = "", l4[] = " 111222333 , ref ";
	char b1[] = "123456789,x", b2[] = "111222333,ok,2030-02-30", b3[] = "111222333,a,2030-01-01,extra";
	char b4[] = "12345", b5[71 + 13];
	ck_assert_int_eq(sp_involve_parse_line(l1, &r, msg, sizeof msg), SP_OK);
	ck_assert_str_eq(r.subject_id, "111222333");
	ck_assert_str_eq(r.ref, "LL-1");
	ck_assert_str_eq(r.until, "2030-06-30");
	ck_assert_int_eq(sp_involve_parse_line(l2, &r, msg, sizeof msg), 1);
	ck_assert_int_eq(sp_involve_parse_line(l3, &r, msg, sizeof msg), 1);
	ck_assert_int_eq(sp_involve_parse_line(l4, &r, msg, sizeof msg), SP_OK);
	ck_assert_str_eq(r.subject_id, "111222333");
	ck_assert_str_eq(r.ref, "ref");
	ck_assert_str_eq(r.until, "");
	ck_assert_int_eq(sp_involve_parse_line(b1, &r, msg, sizeof msg), SP_EBSN);
	ck_assert_ptr_null(strstr(msg, "123456789"));
	ck_assert_ptr_nonnull(strstr(msg, "elfproef"));
	ck_assert_int_eq(sp_involve_parse_line(b2, &r, msg, sizeof msg), SP_EDATE);
	ck_assert_ptr_null(strstr(msg, "111222333"));
	ck_assert_int_eq(sp_involve_parse_line(b3, &r, msg, sizeof msg), SP_EINVAL);
	ck_assert_int_eq(sp_involve_parse_line(b4, &r, msg, sizeof msg), SP_EBSN);
	memset(b5, 'x', sizeof b5 - 1);
	memcpy(b5, "111222333,", 10);
	b5[sizeof b5 - 1] = '\0';
	ck_assert_int_eq(sp_involve_parse_line(b5, &r, msg, sizeof msg), SP_EINVAL);
}
END_TEST

static Suite *involve_suite(void)
{
	Suite *s = suite_create("involve");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, dates);
	tcase_add_test(tc, merge);
	tcase_add_test(tc, bulk_lines);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(involve_suite)
