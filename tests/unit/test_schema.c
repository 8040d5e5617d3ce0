/* test_schema.c — store layout versions: new stores are stamped, version 1
 * stores (no key) migrate to 2 at a read-write open, read-only opens of a
 * version 1 store read it unchanged, a newer store is refused by every open. */
#include <sys/stat.h>

#include "sp_test.h"
#include "sp_schema.h"
#include "sp_store.h"

static char dir[256];

static void setup(void)
{
	sp_test_subdir(dir, sizeof dir);
}

static void teardown(void)
{
	sp_test_rmdir(dir);
	dir[0] = '\0';
}

static sp_store *open_ok(unsigned flags)
{
	sp_store *s = NULL;
	int rc = sp_store_open(dir, 0, flags, &s);
	ck_assert_msg(rc == SP_OK, "open: %s (%s)", sp_strerror(rc), sp_store_last_error());
	return s;
}

static uint32_t version_of(sp_store *s)
{
	sp_txn *t = NULL;
	uint32_t v = 0;
	ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
	ck_assert_int_eq(sp_schema_get(t, &v), SP_OK);
	sp_txn_abort(&t);
	return v;
}

/* Make the store look as a given release left it: no key (1) or a version. */
static void set_version(uint32_t v)
{
	sp_store *s = open_ok(0);
	sp_txn *t = NULL;
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	if (v == 1)
		ck_assert_int_eq(sp_store_del(t, SP_DB_META, SP_SCHEMA_KEY, strlen(SP_SCHEMA_KEY)), SP_OK);
	else
		ck_assert_int_eq(sp_schema_put(t, v), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	sp_store_close(&s);
}

START_TEST(new_store_is_stamped)
{
	sp_store *s = open_ok(0);
	ck_assert_uint_eq(version_of(s), SP_SCHEMA_VERSION);
	sp_store_close(&s);
}
END_TEST

START_TEST(v1_migrates_keeping_data)
{
	sp_store *s = open_ok(0);
	sp_txn *t = NULL;
	const void *v;
	size_t vl;
	uint32_t from = 0, to = 0;

	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_store_put(t, SP_DB_OUTBOX, "k", 1, "value", 5, 0), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	sp_store_close(&s);
	set_version(1);

	/* Read-only: a version 1 store is read as it is, not migrated. */
	s = open_ok(SP_STORE_RDONLY);
	ck_assert_uint_eq(version_of(s), 1);
	sp_store_close(&s);

	/* The framework on its own, then through sp_store_open. */
	s = open_ok(SP_STORE_RDONLY);
	ck_assert_int_eq(sp_schema_open(s, 1, &from, &to), SP_OK);
	ck_assert_uint_eq(from, 1);
	ck_assert_uint_eq(to, 1);
	sp_store_close(&s);

	s = open_ok(0);
	ck_assert_uint_eq(version_of(s), SP_SCHEMA_VERSION);
	ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
	ck_assert_int_eq(sp_store_get(t, SP_DB_OUTBOX, "k", 1, &v, &vl), SP_OK);
	ck_assert_int_eq(vl, 5);
	ck_assert_int_eq(memcmp(v, "value", 5), 0);
	sp_txn_abort(&t);
	ck_assert_int_eq(sp_schema_open(s, 0, &from, &to), SP_OK);
	ck_assert_uint_eq(from, SP_SCHEMA_VERSION);
	ck_assert_uint_eq(to, SP_SCHEMA_VERSION);
	sp_store_close(&s);
}
END_TEST

START_TEST(newer_store_refused)
{
	sp_store *s = open_ok(0);
	int rc;
	sp_store_close(&s);
	set_version(SP_SCHEMA_VERSION + 1);
	rc = sp_store_open(dir, 0, 0, &s);
	ck_assert_int_eq(rc, SP_ESCHEMA);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(sp_store_last_error(), "newer than this seinpost knows"));
	rc = sp_store_open(dir, 0, SP_STORE_RDONLY, &s);
	ck_assert_int_eq(rc, SP_ESCHEMA);
	ck_assert_ptr_null(s);
	ck_assert_str_ne(sp_strerror(SP_ESCHEMA), "unknown error");
}
END_TEST

START_TEST(malformed_version_refused)
{
	sp_store *s = open_ok(0);
	sp_txn *t = NULL;
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_store_put(t, SP_DB_META, SP_SCHEMA_KEY, strlen(SP_SCHEMA_KEY), "2", 1, 0), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	sp_store_close(&s);
	ck_assert_int_eq(sp_store_open(dir, 0, 0, &s), SP_ECORRUPT);
	ck_assert_ptr_null(s);
}
END_TEST

static Suite *schema_suite(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("versions");
	tcase_add_unchecked_fixture(tc, sp_test_base_setup, sp_test_base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, new_store_is_stamped);
	tcase_add_test(tc, v1_migrates_keeping_data);
	tcase_add_test(tc, newer_store_refused);
	tcase_add_test(tc, malformed_version_refused);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(schema_suite)
