/* test_r255.c — the variable-time ristretto255 arithmetic (sp_r255.c)
 * against libsodium's: decoding accepts exactly what
 * crypto_core_ristretto255_is_valid_point accepts, except an encoding with
 * bit 255 set (non-canonical, refused by RFC 9496; libsodium 1.0.18 ignores
 * the bit), encoding round-trips,
 * addition, doubling, small multiples and multi-scalar sums give the same
 * elements as libsodium's one-at-a-time functions. */
#include "sp_test.h"
#include "sp_r255.h"

#include <sodium.h>
#include <stdlib.h>

static void random_element(uint8_t p[32])
{
	crypto_core_ristretto255_random(p);
}

START_TEST(decode_encode_roundtrip)
{
	uint8_t p[32], q[32];
	sp_r255_pt x;
	for (int i = 0; i < 200; i++) {
		random_element(p);
		ck_assert_int_eq(sp_r255_decode(&x, p), SP_OK);
		sp_r255_encode(q, &x);
		ck_assert_mem_eq(p, q, 32);
	}
	/* the identity decodes and encodes to zeros */
	memset(p, 0, 32);
	ck_assert_int_eq(sp_r255_decode(&x, p), SP_OK);
	sp_r255_encode(q, &x);
	ck_assert_mem_eq(p, q, 32);
	sp_r255_identity(&x);
	sp_r255_encode(q, &x);
	ck_assert_mem_eq(p, q, 32);
}
END_TEST

START_TEST(decode_refuses_what_libsodium_refuses)
{
	uint8_t p[32];
	sp_r255_pt x;
	int valid = 0;
	for (int i = 0; i < 4000; i++) {
		randombytes_buf(p, 32);
		if (i % 4 == 0)
			p[31] &= 0x7f;
		if (i % 8 == 0)
			p[0] &= 0xfe;
		int want = crypto_core_ristretto255_is_valid_point(p) == 1 && !(p[31] & 0x80);
		valid += want;
		ck_assert_int_eq(sp_r255_decode(&x, p) == SP_OK, want);
	}
	ck_assert_int_gt(valid, 10);
	/* p itself (non-canonical zero) and a negative encoding */
	static const uint8_t pbytes[32] = { 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };
	ck_assert_int_ne(sp_r255_decode(&x, pbytes), SP_OK);
	random_element(p);
	p[0] |= 1;
	ck_assert_int_ne(sp_r255_decode(&x, p), SP_OK);
	/* bit 255 set on a valid encoding */
	random_element(p);
	p[31] |= 0x80;
	ck_assert_int_ne(sp_r255_decode(&x, p), SP_OK);
}
END_TEST

START_TEST(add_dbl_match_libsodium)
{
	uint8_t a[32], b[32], want[32], got[32];
	sp_r255_pt x, y, r;
	for (int i = 0; i < 100; i++) {
		random_element(a);
		random_element(b);
		ck_assert_int_eq(sp_r255_decode(&x, a), SP_OK);
		ck_assert_int_eq(sp_r255_decode(&y, b), SP_OK);
		sp_r255_add(&r, &x, &y);
		sp_r255_encode(got, &r);
		ck_assert_int_eq(crypto_core_ristretto255_add(want, a, b), 0);
		ck_assert_mem_eq(got, want, 32);
		sp_r255_sub(&r, &x, &y);
		sp_r255_encode(got, &r);
		ck_assert_int_eq(crypto_core_ristretto255_sub(want, a, b), 0);
		ck_assert_mem_eq(got, want, 32);
		sp_r255_dbl(&r, &x);
		sp_r255_encode(got, &r);
		ck_assert_int_eq(crypto_core_ristretto255_add(want, a, a), 0);
		ck_assert_mem_eq(got, want, 32);
		/* complete formulas: P + P and P - P */
		sp_r255_add(&r, &x, &x);
		sp_r255_encode(got, &r);
		ck_assert_mem_eq(got, want, 32);
		sp_r255_sub(&r, &x, &x);
		sp_r255_encode(got, &r);
		ck_assert_int_eq(sodium_is_zero(got, 32), 1);
	}
}
END_TEST

START_TEST(mul_small_matches_libsodium)
{
	static const int64_t ks[] = { 1, 2, 3, -1, -2, 5, -7, 255, 65537, -123456789, (int64_t)1 << 40 };
	uint8_t a[32], s[32], want[32], got[32];
	sp_r255_pt x, r;
	random_element(a);
	ck_assert_int_eq(sp_r255_decode(&x, a), SP_OK);
	for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
		uint64_t m = ks[i] < 0 ? (uint64_t)(-ks[i]) : (uint64_t)ks[i];
		memset(s, 0, 32);
		for (int j = 0; j < 8; j++)
			s[j] = (uint8_t)(m >> (8 * j));
		if (ks[i] < 0)
			crypto_core_ristretto255_scalar_negate(s, s);
		ck_assert_int_eq(crypto_scalarmult_ristretto255(want, s, a), 0);
		sp_r255_mul_small(&r, &x, ks[i]);
		sp_r255_encode(got, &r);
		ck_assert_mem_eq(got, want, 32);
	}
	sp_r255_mul_small(&r, &x, 0);
	sp_r255_encode(got, &r);
	ck_assert_int_eq(sodium_is_zero(got, 32), 1);
}
END_TEST

START_TEST(msm_matches_libsodium)
{
	static const size_t ns[] = { 1, 2, 3, 7, 15, 16, 17, 40, 129, 700 };
	for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
		size_t n = ns[t];
		uint8_t *pts = malloc(32 * n), *sc = malloc(32 * n), want[32], term[32], got[32];
		sp_r255_pt *dec = malloc(sizeof *dec * n), r;
		ck_assert_ptr_nonnull(pts);
		ck_assert_ptr_nonnull(sc);
		ck_assert_ptr_nonnull(dec);
		for (size_t i = 0; i < n; i++) {
			random_element(pts + 32 * i);
			crypto_core_ristretto255_scalar_random(sc + 32 * i);
			if (i == 1)
				memset(sc + 32 * i, 0, 32); /* a zero scalar: its term vanishes */
			if (i == 2) {
				memset(sc + 32 * i, 0, 32); /* a small scalar */
				sc[32 * i] = 3;
			}
			ck_assert_int_eq(sp_r255_decode(&dec[i], pts + 32 * i), SP_OK);
		}
		memset(want, 0, 32);
		for (size_t i = 0; i < n; i++) {
			if (sodium_is_zero(sc + 32 * i, 32))
				continue;
			ck_assert_int_eq(crypto_scalarmult_ristretto255(term, sc + 32 * i, pts + 32 * i), 0);
			if (sodium_is_zero(want, 32))
				memcpy(want, term, 32);
			else
				ck_assert_int_eq(crypto_core_ristretto255_add(want, want, term), 0);
		}
		ck_assert_int_eq(sp_r255_msm(&r, sc, dec, n), SP_OK);
		sp_r255_encode(got, &r);
		ck_assert_mem_eq(got, want, 32);
		free(pts);
		free(sc);
		free(dec);
	}
}
END_TEST

static Suite *r255_suite(void)
{
	Suite *s = suite_create("r255");
	TCase *tc = tcase_create("against libsodium");
	tcase_add_test(tc, decode_encode_roundtrip);
	tcase_add_test(tc, decode_refuses_what_libsodium_refuses);
	tcase_add_test(tc, add_dbl_match_libsodium);
	tcase_add_test(tc, mul_small_matches_libsodium);
	tcase_add_test(tc, msm_matches_libsodium);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(r255_suite)
