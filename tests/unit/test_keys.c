/* test_keys.c — key directories: generate, save, load, refuse. */
#include "sp_test.h"
#include "sp_keys.h"
#include "sp_util.h"

#include <sodium.h>
#include <sys/stat.h>

static char dir[256];
static char kdir[512];

static void setup(void)
{
	ck_assert_ptr_nonnull(sp_test_tmpdir(dir, sizeof dir));
	snprintf(kdir, sizeof kdir, "%s/keys/node", dir);
}

static void teardown(void)
{
	sp_test_rmdir(dir);
}

static void path_of(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", kdir, name);
}

static mode_t mode_of(const char *name)
{
	char p[600];
	struct stat st;
	path_of(name, p, sizeof p);
	ck_assert_int_eq(stat(p, &st), 0);
	return st.st_mode & 0777;
}

START_TEST(roundtrip_node)
{
	sp_keyset *k = NULL, *back = NULL;
	ck_assert_int_eq(sp_keys_generate(1, &k), SP_OK);
	ck_assert_int_eq(k->has_box, 1);
	ck_assert_int_eq(sp_keys_save(k, kdir), SP_OK);
	ck_assert_int_eq(mode_of("curve.key"), 0600);
	ck_assert_int_eq(mode_of("sign.key"), 0600);
	ck_assert_int_eq(mode_of("box.key"), 0600);
	ck_assert_int_eq(mode_of("sign.pub"), 0644);
	ck_assert_int_eq(mode_of("."), 0700);
	ck_assert_int_eq(sp_keys_load(kdir, &back), SP_OK);
	ck_assert_mem_eq(k->curve_pk, back->curve_pk, 32);
	ck_assert_mem_eq(k->curve_sk, back->curve_sk, 32);
	ck_assert_mem_eq(k->sign_pk, back->sign_pk, 32);
	ck_assert_mem_eq(k->sign_sk, back->sign_sk, 64);
	ck_assert_mem_eq(k->box_pk, back->box_pk, 32);
	ck_assert_mem_eq(k->box_sk, back->box_sk, 32);
	ck_assert_int_eq(back->has_box, 1);

	/* the loaded keys work: sign with one, verify with the other */
	{
		uint8_t sig[64];
		crypto_sign_detached(sig, NULL, (const uint8_t *)"x", 1, back->sign_sk);
		ck_assert_int_eq(crypto_sign_verify_detached(sig, (const uint8_t *)"x", 1, k->sign_pk), 0);
	}
	{
		uint8_t pk[32];
		char p[600];
		path_of("box.pub", p, sizeof p);
		ck_assert_int_eq(sp_keys_read_public(p, pk), SP_OK);
		ck_assert_mem_eq(pk, k->box_pk, 32);
	}
	sp_keys_free(&k);
	sp_keys_free(&back);
	ck_assert_ptr_null(back);
	sp_keys_free(&back); /* NULL-safe */
	sp_keys_free(NULL);
}
END_TEST

START_TEST(roundtrip_broker)
{
	sp_keyset *k = NULL, *back = NULL;
	char p[600];
	ck_assert_int_eq(sp_keys_generate(0, &k), SP_OK);
	ck_assert_int_eq(k->has_box, 0);
	ck_assert_int_eq(sp_keys_save(k, kdir), SP_OK);
	path_of("box.key", p, sizeof p);
	ck_assert_int_ne(access(p, F_OK), 0); /* the broker never gets a box key */
	ck_assert_int_eq(sp_keys_load(kdir, &back), SP_OK);
	ck_assert_int_eq(back->has_box, 0);
	ck_assert_mem_eq(k->curve_sk, back->curve_sk, 32);
	sp_keys_free(&k);
	sp_keys_free(&back);
}
END_TEST

static void save_node(void)
{
	sp_keyset *k = NULL;
	ck_assert_int_eq(sp_keys_generate(1, &k), SP_OK);
	ck_assert_int_eq(sp_keys_save(k, kdir), SP_OK);
	sp_keys_free(&k);
}

static void put(const char *name, const char *text, mode_t mode)
{
	char p[600];
	path_of(name, p, sizeof p);
	ck_assert_int_eq(sp_file_write(p, text, strlen(text), mode), SP_OK);
}

START_TEST(tampered_pub)
{
	static const char *pubs[] = { "curve.pub", "sign.pub", "box.pub" };
	for (size_t i = 0; i < 3; i++) {
		sp_keyset *k = NULL, *other = NULL;
		char hex[65];
		save_node();
		/* a valid key, but someone else's */
		ck_assert_int_eq(sp_keys_generate(1, &other), SP_OK);
		sp_hex(other->sign_pk, 32, hex);
		put(pubs[i], hex, 0644);
		ck_assert_msg(sp_keys_load(kdir, &k) == SP_EKEY, "accepted swapped %s", pubs[i]);
		ck_assert_ptr_null(k);
		sp_keys_free(&other);
	}
}
END_TEST

START_TEST(malformed)
{
	sp_keyset *k = NULL;
	char p[600];
	save_node();
	put("curve.key", "zz\n", 0600);
	ck_assert_int_eq(sp_keys_load(kdir, &k), SP_EKEY);
	save_node();
	put("sign.key", "00112233\n", 0600); /* too short */
	ck_assert_int_eq(sp_keys_load(kdir, &k), SP_EKEY);
	/* half a box pair */
	save_node();
	path_of("box.pub", p, sizeof p);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(sp_keys_load(kdir, &k), SP_EKEY);
	/* a missing mandatory file */
	save_node();
	path_of("sign.pub", p, sizeof p);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(sp_keys_load(kdir, &k), SP_EKEY);
	ck_assert_ptr_null(k);
	path_of("nope.pub", p, sizeof p);
	{
		uint8_t pk[32];
		ck_assert_int_eq(sp_keys_read_public(p, pk), SP_EKEY);
	}
}
END_TEST

START_TEST(loose_perms)
{
	static const char *secrets[] = { "curve.key", "sign.key", "box.key" };
	for (size_t i = 0; i < 3; i++) {
		sp_keyset *k = NULL;
		char p[600];
		save_node();
		path_of(secrets[i], p, sizeof p);
		ck_assert_int_eq(chmod(p, 0644), 0);
		ck_assert_msg(sp_keys_load(kdir, &k) == SP_EPERM, "accepted 0644 %s", secrets[i]);
		ck_assert_ptr_null(k);
		ck_assert_int_eq(chmod(p, 0600), 0);
		ck_assert_int_eq(sp_keys_load(kdir, &k), SP_OK);
		sp_keys_free(&k);
	}
}
END_TEST

static Suite *keys_suite(void)
{
	Suite *s = suite_create("keys");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, roundtrip_node);
	tcase_add_test(tc, roundtrip_broker);
	tcase_add_test(tc, tampered_pub);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, loose_perms);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(keys_suite)
