/* test_bsn.c — BSN elfproef and normalisation, KvK, BAG, dates. */
#include "sp_test.h"
#include "sp_bsn.h"

#include <time.h>

START_TEST(bsn_valid)
{
	char out[SP_BSN_LEN + 1];
	ck_assert_int_eq(sp_bsn_normalise("111222333", out), SP_OK);
	ck_assert_str_eq(out, "111222333");
	ck_assert_int_eq(sp_bsn_normalise("123456782", out), SP_OK);
	ck_assert_str_eq(out, "123456782");
	/* as people type it */
	ck_assert_int_eq(sp_bsn_normalise("1234.56.782", out), SP_OK);
	ck_assert_str_eq(out, "123456782");
	ck_assert_int_eq(sp_bsn_normalise(" 1112 22 333 ", out), SP_OK);
	ck_assert_str_eq(out, "111222333");
}
END_TEST

START_TEST(bsn_leading_zero)
{
	char out[SP_BSN_LEN + 1];
	/* 012345672: 0*9+1*8+2*7+3*6+4*5+5*4+6*3+7*2-2 = 110 ≡ 0 */
	ck_assert_int_eq(sp_bsn_normalise("12345672", out), SP_OK);
	ck_assert_str_eq(out, "012345672");
	ck_assert_int_eq(sp_bsn_normalise("012345672", out), SP_OK);
	ck_assert_str_eq(out, "012345672");
}
END_TEST

START_TEST(bsn_invalid)
{
	char out[SP_BSN_LEN + 1];
	static const char *bad[] = {
		"123456789",   /* check digit wrong */
		"111222334",   /* check digit wrong */
		"000000000",   /* all zeros passes the sum, refused anyway */
		"00000000",    /* 8 zeros -> all zeros */
		"12345678a",   /* letter */
		"abcdefghi",
		"1234567",     /* too short */
		"1234567820",  /* too long */
		"",
		"123-456-782", /* dash is not a separator we accept */
		"123456782\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(out, 'x', sizeof out);
		ck_assert_msg(sp_bsn_normalise(bad[i], out) == SP_EBSN, "accepted bad BSN #%zu", i);
		for (size_t j = 0; j < sizeof out; j++)
			ck_assert_int_eq(out[j], 0); /* zeroed on failure */
	}
	ck_assert_int_eq(sp_bsn_normalise(NULL, out), SP_EBSN);
}
END_TEST

START_TEST(kvk_bag)
{
	char k[9], b[17];
	ck_assert_int_eq(sp_kvk_normalise("6915 0455", k), SP_OK);
	ck_assert_str_eq(k, "69150455");
	ck_assert_int_eq(sp_kvk_normalise("6915045", k), SP_EINVAL);
	ck_assert_int_eq(sp_kvk_normalise("691504551", k), SP_EINVAL);
	ck_assert_int_eq(sp_kvk_normalise("6915045x", k), SP_EINVAL);
	ck_assert_int_eq(sp_bag_normalise("0935010000012345", b), SP_OK);
	ck_assert_str_eq(b, "0935010000012345");
	ck_assert_int_eq(sp_bag_normalise("093501000001234", b), SP_EINVAL);
	ck_assert_int_eq(sp_bag_normalise("09350100000123456", b), SP_EINVAL);
	ck_assert_int_eq(sp_bag_normalise("093501000001234z", b), SP_EINVAL);
}
END_TEST

START_TEST(dates)
{
	char tomorrow[16];
	time_t t = time(NULL) + 2 * 86400;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(tomorrow, sizeof tomorrow, "%Y-%m-%d", &tm);

	ck_assert_int_eq(sp_date_check("2008-02-29"), SP_OK);
	ck_assert_int_eq(sp_date_check("1900-01-01"), SP_OK);
	ck_assert_int_eq(sp_date_check("2000-02-29"), SP_OK);
	ck_assert_int_eq(sp_date_check("1900-02-29"), SP_EDATE); /* not a leap year */
	ck_assert_int_eq(sp_date_check("2009-02-29"), SP_EDATE);
	ck_assert_int_eq(sp_date_check("2009-04-31"), SP_EDATE);
	ck_assert_int_eq(sp_date_check("2009-13-01"), SP_EDATE);
	ck_assert_int_eq(sp_date_check("2009-00-10"), SP_EDATE);
	ck_assert_int_eq(sp_date_check("1899-12-31"), SP_EDATE);
	ck_assert_int_eq(sp_date_check("2009-1-01"), SP_EDATE);
	ck_assert_int_eq(sp_date_check("20090101"), SP_EDATE);
	ck_assert_int_eq(sp_date_check("2009-01-01 "), SP_EDATE);
	ck_assert_int_eq(sp_date_check(tomorrow), SP_EDATE);
	ck_assert_int_eq(sp_date_check(NULL), SP_EDATE);
}
END_TEST

static Suite *bsn_suite(void)
{
	Suite *s = suite_create("bsn");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, bsn_valid);
	tcase_add_test(tc, bsn_leading_zero);
	tcase_add_test(tc, bsn_invalid);
	tcase_add_test(tc, kvk_bag);
	tcase_add_test(tc, dates);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(bsn_suite)
