/* test_pseudo.c — keyed pseudonyms and the epoch keyring file. */
#include "sp_test.h"
#include "sp_pseudo.h"
#include "sp_util.h"

#include <sodium.h>
#include <sys/stat.h>

static char dir[256];

static void setup(void)
{
	ck_assert_ptr_nonnull(sp_test_tmpdir(dir, sizeof dir));
}

static void teardown(void)
{
	sp_test_rmdir(dir);
}

START_TEST(derive_deterministic)
{
	sp_pseudo_keyring *kr = NULL;
	uint8_t a[SP_PSEUDO_BYTES], b[SP_PSEUDO_BYTES];
	ck_assert_int_eq(sp_pseudo_keyring_generate(7, &kr), SP_OK);
	ck_assert_uint_eq(sp_pseudo_current_epoch(kr), 7);
	ck_assert_int_eq(sp_pseudo_derive(kr, 7, SP_SUBJECT_PERSON, "111222333", a), SP_OK);
	ck_assert_int_eq(sp_pseudo_derive(kr, 7, SP_SUBJECT_PERSON, "111222333", b), SP_OK);
	ck_assert_mem_eq(a, b, sizeof a);
	ck_assert_int_eq(sp_pseudo_derive(kr, 7, SP_SUBJECT_PERSON, "123456782", b), SP_OK);
	ck_assert(memcmp(a, b, sizeof a) != 0);
	sp_pseudo_keyring_free(&kr);
	ck_assert_ptr_null(kr);
	sp_pseudo_keyring_free(&kr); /* NULL-safe */
	sp_pseudo_keyring_free(NULL);
}
END_TEST

START_TEST(derive_differs)
{
	sp_pseudo_keyring *k1 = NULL, *k2 = NULL;
	uint8_t a[SP_PSEUDO_BYTES], b[SP_PSEUDO_BYTES], plain[SP_PSEUDO_BYTES];
	ck_assert_int_eq(sp_pseudo_keyring_generate(1, &k1), SP_OK);
	ck_assert_int_eq(sp_pseudo_keyring_generate(1, &k2), SP_OK);
	ck_assert_int_eq(sp_pseudo_derive(k1, 1, SP_SUBJECT_PERSON, "111222333", a), SP_OK);
	/* another key */
	ck_assert_int_eq(sp_pseudo_derive(k2, 1, SP_SUBJECT_PERSON, "111222333", b), SP_OK);
	ck_assert(memcmp(a, b, sizeof a) != 0);
	/* not a bare hash: a dictionary of 10^9 BSNs must not reverse it */
	crypto_generichash(plain, sizeof plain, (const uint8_t *)"111222333", 9, NULL, 0);
	ck_assert(memcmp(a, plain, sizeof a) != 0);
	sp_pseudo_keyring_free(&k1);
	sp_pseudo_keyring_free(&k2);
}
END_TEST

START_TEST(derive_kinds_epochs)
{
	/* one key file with two epochs, same key bytes: only the salt differs */
	char path[512];
	const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	char text[256];
	sp_pseudo_keyring *kr = NULL;
	uint8_t a[SP_PSEUDO_BYTES], b[SP_PSEUDO_BYTES], c[SP_PSEUDO_BYTES];
	uint8_t key[32];

	snprintf(path, sizeof path, "%s/pseudo.key", dir);
	snprintf(text, sizeof text, "# rotated\nepoch 1 %s\n\nepoch 2 %s\n", hex, hex);
	ck_assert_int_eq(sp_file_write(path, text, strlen(text), 0600), SP_OK);
	ck_assert_int_eq(sp_pseudo_keyring_load(path, &kr), SP_OK);
	ck_assert_uint_eq(sp_pseudo_current_epoch(kr), 2);
	ck_assert_int_eq(sp_pseudo_derive(kr, 1, SP_SUBJECT_PERSON, "111222333", a), SP_OK);
	ck_assert_int_eq(sp_pseudo_derive(kr, 2, SP_SUBJECT_PERSON, "111222333", b), SP_OK);
	ck_assert(memcmp(a, b, sizeof a) != 0);
	/* a business whose id is a prefix of the BSN */
	ck_assert_int_eq(sp_pseudo_derive(kr, 1, SP_SUBJECT_BUSINESS, "11122233", c), SP_OK);
	ck_assert(memcmp(a, c, sizeof a) != 0);
	/* the construction is the documented one */
	{
		uint8_t salt[16] = { 's', 'p', 1, 0, 0, 0, 1 }, want[32];
		ck_assert_int_eq(sp_unhex(hex, key, 32), SP_OK);
		crypto_generichash_blake2b_salt_personal(want, 32, (const uint8_t *)"111222333", 9,
		                                         key, 32, salt,
		                                         (const uint8_t *)"seinpost-pseudo1");
		ck_assert_mem_eq(a, want, 32);
		/* and kind is in the salt: kind 2 with the same message differs */
		salt[2] = 2;
		crypto_generichash_blake2b_salt_personal(want, 32, (const uint8_t *)"111222333", 9,
		                                         key, 32, salt,
		                                         (const uint8_t *)"seinpost-pseudo1");
		ck_assert(memcmp(a, want, 32) != 0);
	}
	/* unknown epoch, non-canonical id, unknown kind */
	ck_assert_int_eq(sp_pseudo_derive(kr, 3, SP_SUBJECT_PERSON, "111222333", a), SP_EKEY);
	ck_assert_int_eq(sp_pseudo_derive(kr, 1, SP_SUBJECT_PERSON, "11122233", a), SP_EINVAL);
	ck_assert_int_eq(sp_pseudo_derive(kr, 1, SP_SUBJECT_PERSON, "111 222 333", a), SP_EINVAL);
	ck_assert_int_eq(sp_pseudo_derive(kr, 1, 9, "111222333", a), SP_EINVAL);
	ck_assert_int_eq(sp_pseudo_derive(kr, 1, SP_SUBJECT_LOCATION, "0935010000012345", a), SP_OK);
	sp_pseudo_keyring_free(&kr);
}
END_TEST

START_TEST(keyring_roundtrip)
{
	char path[512];
	sp_pseudo_keyring *kr = NULL, *back = NULL;
	uint8_t a[SP_PSEUDO_BYTES], b[SP_PSEUDO_BYTES];
	struct stat st;

	snprintf(path, sizeof path, "%s/pseudo.key", dir);
	ck_assert_int_eq(sp_pseudo_keyring_generate(42, &kr), SP_OK);
	ck_assert_int_eq(sp_pseudo_keyring_save(kr, path), SP_OK);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(sp_pseudo_keyring_load(path, &back), SP_OK);
	ck_assert_uint_eq(sp_pseudo_current_epoch(back), 42);
	ck_assert_int_eq(sp_pseudo_derive(kr, 42, SP_SUBJECT_PERSON, "123456782", a), SP_OK);
	ck_assert_int_eq(sp_pseudo_derive(back, 42, SP_SUBJECT_PERSON, "123456782", b), SP_OK);
	ck_assert_mem_eq(a, b, sizeof a);
	sp_pseudo_keyring_free(&back);

	/* loose permissions refused */
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(sp_pseudo_keyring_load(path, &back), SP_EPERM);
	ck_assert_ptr_null(back);
	ck_assert_int_eq(chmod(path, 0604), 0);
	ck_assert_int_eq(sp_pseudo_keyring_load(path, &back), SP_EPERM);
	sp_pseudo_keyring_free(&kr);
}
END_TEST

START_TEST(keyring_malformed)
{
	static const char *bad[] = {
		"",                                 /* no epochs */
		"epoch 1 0011\n",                   /* short key */
		"epoch x 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
		"epoch -1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
		"key 1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
		"epoch 1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g\n",
		"epoch 1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
		"epoch 1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", /* dup */
		"epoch 4294967296 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
	};
	char path[512];
	sp_pseudo_keyring *kr = NULL;
	snprintf(path, sizeof path, "%s/pseudo.key", dir);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(sp_file_write(path, bad[i], strlen(bad[i]), 0600), SP_OK);
		ck_assert_msg(sp_pseudo_keyring_load(path, &kr) == SP_EKEY, "accepted bad keyring #%zu", i);
		ck_assert_ptr_null(kr);
	}
	snprintf(path, sizeof path, "%s/missing.key", dir);
	ck_assert_int_eq(sp_pseudo_keyring_load(path, &kr), SP_ENOTFOUND);
}
END_TEST

static Suite *pseudo_suite(void)
{
	Suite *s = suite_create("pseudo");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, derive_deterministic);
	tcase_add_test(tc, derive_differs);
	tcase_add_test(tc, derive_kinds_epochs);
	tcase_add_test(tc, keyring_roundtrip);
	tcase_add_test(tc, keyring_malformed);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(pseudo_suite)
