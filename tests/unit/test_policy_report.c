/* test_policy_report.c — the policy's [report] section (sp_policy_report.c):
 * the example's texts and names load; every malformed case is refused with
 * its line and changes nothing. */
#include "sp_test.h"

#include "sp_policy.h"
#include "sp_policy_report.h"

#define EXAMPLE "deploy/policy.example"

static char tmp[256];

static void setup(void)
{
	ck_assert_ptr_nonnull(sp_test_tmpdir(tmp, sizeof tmp));
}

static void teardown(void)
{
	sp_test_rmdir(tmp);
}

#define HEAD "[policy]\nversion = 1\nname = n\nowner = o\n\n[category gia]\ndescription = d\n" \
             "default_weight = 2\nretention_days = 30\n\n"

static int load(const char *body, sp_policy **p, char *err, size_t errlen)
{
	char path[512];
	FILE *f;
	snprintf(path, sizeof path, "%s/p.ini", tmp);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(HEAD, f);
	fputs(body, f);
	fclose(f);
	return sp_policy_load(path, p, err, errlen);
}

START_TEST(example_texts)
{
	sp_policy *p = NULL;
	char err[512];
	const sp_policy_report *r;
	ck_assert_msg(sp_policy_load(EXAMPLE, &p, err, sizeof err) == SP_OK, "%s", err);
	r = sp_policy_report_of(p);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(strstr(sp_policy_report_controller(r), "Gemeente Maastricht"));
	/* a continued value is joined with one space */
	ck_assert_ptr_nonnull(strstr(sp_policy_report_contact(r), "Maastricht; privacy@"));
	ck_assert_ptr_nonnull(strstr(sp_policy_report_dpo(r), "fg@"));
	ck_assert_str_eq(sp_policy_report_org_name(r, "school-bonnefanten"), "Bonnefanten College");
	ck_assert_ptr_null(sp_policy_report_org_name(r, "school-unknown"));
	ck_assert_str_eq(sp_policy_report_category_name(r, "gia"), "huiselijk geweld of kindermishandeling");
	ck_assert_ptr_null(sp_policy_report_category_name(r, "politie-limburg")); /* names are per kind */
	sp_policy_free(&p);
}
END_TEST

START_TEST(absent_is_fine)
{
	sp_policy *p = NULL;
	char err[512];
	ck_assert_msg(load("", &p, err, sizeof err) == SP_OK, "%s", err);
	ck_assert_ptr_null(sp_policy_report_of(p));
	ck_assert_ptr_null(sp_policy_report_controller(sp_policy_report_of(p)));
	sp_policy_free(&p);
}
END_TEST

static const struct bad {
	const char *body;
	int line; /* in the whole file: HEAD has 10 lines */
	const char *msg;
} bads[] = {
	{ "[report]\ncontroller = c\ncontact = k\n", 11, "missing key 'dpo'" },
	{ "[report]\ncontroller = c\ncontact = k\ndpo = d\ncolour = blue\n", 15, "unknown key 'colour'" },
	{ "[report]\ncontroller = c\ncontroller = c2\n", 13, "given twice (first at line 12)" },
	{ "[report]\ncontroller = c\ncontact = k\ndpo = d\nname.x = A\nname.x = B\n", 16, "given twice" },
	{ "[report]\ncontroller = c\ncontact = k\ndpo = d\ncategory.weapon = w\n", 15, "names no category" },
	{ "[report]\ncontroller = c\ncontact = k\ndpo = d\nname.Bad Id = x\n", 15, "unknown key" },
	{ "[report]\ncontroller = c\ncontact = k\ndpo = d\nname.x = \x1b[31mred\n", 15, "printable text" },
	{ "[report]\ncontroller = c\ncontact = k\ndpo = d\n\n[report]\ndpo = e\n", 16, "duplicate [report], first at line 11" },
	{ "[report]\ncontroller = c\ncontact = k\ndpo =\n", 14, "printable text of 1..400" },
};

START_TEST(malformed)
{
	const struct bad *b = &bads[_i];
	sp_policy *p = (sp_policy *)1;
	char err[512], want[64];
	ck_assert_int_eq(load(b->body, &p, err, sizeof err), SP_ECONFIG);
	ck_assert_ptr_null(p);
	snprintf(want, sizeof want, ":%d: ", b->line);
	ck_assert_msg(strstr(err, want) != NULL, "case %d: want line %d in %s", _i, b->line, err);
	ck_assert_msg(strstr(err, b->msg) != NULL, "case %d: want '%s' in %s", _i, b->msg, err);
}
END_TEST

static Suite *policy_report_suite(void)
{
	Suite *s = suite_create("policy_report");
	TCase *tc = tcase_create("policy_report");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, example_texts);
	tcase_add_test(tc, absent_is_fine);
	tcase_add_loop_test(tc, malformed, 0, (int)(sizeof bads / sizeof bads[0]));
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(policy_report_suite)
