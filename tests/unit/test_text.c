/* test_text.c — the one definition of acceptable text (sp_text_problem). */
#include "sp_test.h"
#include "sp_util.h"

START_TEST(accepts)
{
	ck_assert(sp_text_ok("", 10, 0));
	ck_assert(sp_text_ok(NULL, 10, 0));
	ck_assert(sp_text_ok("Benaderd voor koerierswerk", 100, 0));
	ck_assert(sp_text_ok("wijkagent — 0900 ✓ café 𝄞", 100, 0)); /* 2, 3 and 4-byte forms */
	ck_assert(sp_text_ok("line one\n\tline two", 100, 1));
	ck_assert(sp_text_ok("\xc2\xa0", 10, 0));            /* U+00A0, first after C1 */
	ck_assert(sp_text_ok("\xed\x9f\xbf", 10, 0));        /* U+D7FF, last before surrogates */
	ck_assert(sp_text_ok("\xee\x80\x80", 10, 0));        /* U+E000, first after */
	ck_assert(sp_text_ok("\xf4\x8f\xbf\xbf", 10, 0));    /* U+10FFFF */
	ck_assert(sp_text_ok("abcd", 4, 0));                 /* exactly max bytes */
	ck_assert(sp_text_ok("é", 2, 0));
}
END_TEST

START_TEST(refuses)
{
	ck_assert_str_eq(sp_text_problem("a\x1b[31m", 100, 1), "a control character");
	ck_assert_str_eq(sp_text_problem("a\x7f", 100, 1), "a control character");
	ck_assert_str_eq(sp_text_problem("\xc2\x9b" "2J", 100, 1), "a control character");  /* C1 CSI */
	ck_assert_str_eq(sp_text_problem("\xc2\x80", 100, 1), "a control character");
	ck_assert_str_eq(sp_text_problem("\xc2\x9f", 100, 1), "a control character");
	ck_assert_str_eq(sp_text_problem("a\nb", 100, 0), "a newline or tab (one line only)");
	ck_assert_str_eq(sp_text_problem("a\tb", 100, 0), "a newline or tab (one line only)");
	ck_assert_str_eq(sp_text_problem("a\rb", 100, 1), "a control character");
	ck_assert_str_eq(sp_text_problem("\xed\xa0\x80", 100, 1), "invalid UTF-8 (a surrogate)");
	ck_assert_str_eq(sp_text_problem("\xed\xbf\xbf", 100, 1), "invalid UTF-8 (a surrogate)");
	ck_assert_str_eq(sp_text_problem("\xc0\xaf", 100, 1), "invalid UTF-8");               /* overlong '/' */
	ck_assert_str_eq(sp_text_problem("\xc1\xbf", 100, 1), "invalid UTF-8");
	ck_assert_str_eq(sp_text_problem("\xe0\x80\xaf", 100, 1), "invalid UTF-8 (overlong or out of range)");
	ck_assert_str_eq(sp_text_problem("\xf0\x80\x80\xaf", 100, 1), "invalid UTF-8 (overlong or out of range)");
	ck_assert_str_eq(sp_text_problem("\xf4\x90\x80\x80", 100, 1), "invalid UTF-8 (overlong or out of range)");
	ck_assert_str_eq(sp_text_problem("\xf5\x80\x80\x80", 100, 1), "invalid UTF-8");
	ck_assert_str_eq(sp_text_problem("\xff", 100, 1), "invalid UTF-8");
	ck_assert_str_eq(sp_text_problem("\x80", 100, 1), "invalid UTF-8");                   /* lone continuation */
	ck_assert_str_eq(sp_text_problem("\xe2\x82", 100, 1), "invalid UTF-8");               /* truncated */
	ck_assert_str_eq(sp_text_problem("\xe2\x82" "A", 100, 1), "invalid UTF-8");
	ck_assert_str_eq(sp_text_problem("abcde", 4, 0), "too long");
	ck_assert_str_eq(sp_text_problem("abcé", 4, 0), "too long");                         /* 5 bytes */
}
END_TEST

/* A second formulation, from the table of well-formed byte sequences in the
 * Unicode standard (ch. 3, table 3-7), to compare with byte by byte. */
static int reference_ok(const unsigned char *p, size_t n, int newline)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		if (c < 0x80) {
			if ((c < 0x20 && !(newline && (c == '\n' || c == '\t'))) || c == 0x7f)
				return 0;
			i++;
			continue;
		}
#define IN(k, lo, hi) (i + (k) < n && p[i + (k)] >= (lo) && p[i + (k)] <= (hi))
		if (c == 0xc2 && IN(1, 0xa0, 0xbf)) i += 2;          /* C1 (C2 80..9F) refused */
		else if (c >= 0xc3 && c <= 0xdf && IN(1, 0x80, 0xbf)) i += 2;
		else if (c == 0xe0 && IN(1, 0xa0, 0xbf) && IN(2, 0x80, 0xbf)) i += 3;
		else if (((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) && IN(1, 0x80, 0xbf) && IN(2, 0x80, 0xbf)) i += 3;
		else if (c == 0xed && IN(1, 0x80, 0x9f) && IN(2, 0x80, 0xbf)) i += 3;
		else if (c == 0xf0 && IN(1, 0x90, 0xbf) && IN(2, 0x80, 0xbf) && IN(3, 0x80, 0xbf)) i += 4;
		else if (c >= 0xf1 && c <= 0xf3 && IN(1, 0x80, 0xbf) && IN(2, 0x80, 0xbf) && IN(3, 0x80, 0xbf)) i += 4;
		else if (c == 0xf4 && IN(1, 0x80, 0x8f) && IN(2, 0x80, 0xbf) && IN(3, 0x80, 0xbf)) i += 4;
		else return 0;
#undef IN
	}
	return 1;
}

/* Every string of one, two and three bytes (no NUL: C strings), and every
 * four-byte string starting with F0..F4 against the second formulation. */
START_TEST(exhaustive)
{
	unsigned char b[5] = { 0 };
	for (unsigned x = 1; x < 256; x++) {
		b[0] = (unsigned char)x;
		b[1] = 0;
		ck_assert_int_eq(sp_text_ok((char *)b, 8, 1), reference_ok(b, 1, 1));
		for (unsigned y = 1; y < 256; y++) {
			b[1] = (unsigned char)y;
			b[2] = 0;
			ck_assert_int_eq(sp_text_ok((char *)b, 8, 0), reference_ok(b, 2, 0));
			for (unsigned z = 1; z < 256; z++) {
				b[2] = (unsigned char)z;
				b[3] = 0;
				if (sp_text_ok((char *)b, 8, 1) != reference_ok(b, 3, 1))
					ck_abort_msg("3 bytes %02x %02x %02x", x, y, z);
			}
		}
	}
	for (unsigned x = 0xf0; x <= 0xf4; x++)
		for (unsigned y = 0x80; y < 0xc0; y++)
			for (unsigned z = 0x80; z < 0xc0; z += 7)
				for (unsigned w = 1; w < 256; w++) {
					b[0] = (unsigned char)x, b[1] = (unsigned char)y, b[2] = (unsigned char)z;
					b[3] = (unsigned char)w, b[4] = 0;
					if (sp_text_ok((char *)b, 8, 1) != reference_ok(b, 4, 1))
						ck_abort_msg("4 bytes %02x %02x %02x %02x", x, y, z, w);
				}
}
END_TEST

static Suite *text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, accepts);
	tcase_add_test(tc, refuses);
	tcase_add_test(tc, exhaustive);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(text_suite)
