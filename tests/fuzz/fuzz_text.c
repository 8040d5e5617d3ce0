/* fuzz_text.c — the one definition of acceptable text (sp_text_problem):
 * never reads past the string or its limit; text it accepts is accepted by
 * jansson too (so it never vanishes from --json output) and round-trips
 * through JSON byte for byte; it holds no C0/C1 control, DEL or surrogate;
 * one-line text is also multi-line text; a refusal always has a reason. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *s, size_t max, int newline)
{
	const char *why = sp_text_problem(s, max, newline);
	size_t n = strlen(s);
	if (why != NULL) {
		if (!why[0] || sp_text_ok(s, max, newline))
			abort();
		return;
	}
	if (n > max || (!newline && !sp_text_ok(s, max, 1)))
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i], d = (unsigned char)s[i + 1];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || (!newline && (c == '\n' || c == '\t')))
			abort();
		if ((c == 0xc2 && d >= 0x80 && d <= 0x9f) || (c == 0xed && d >= 0xa0))
			abort();
	}
	json_t *j = json_string(s);
	if (!j)
		abort();
	char *dump = json_dumps(j, JSON_ENCODE_ANY);
	json_t *back = dump ? json_loads(dump, JSON_DECODE_ANY, NULL) : NULL;
	if (!back || !json_is_string(back) || strcmp(json_string_value(back), s) != 0)
		abort();
	json_decref(back);
	free(dump);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0'; /* a C string: up to the first NUL */
	check(s, size, 1);
	check(s, size, 0);
	check(s, size / 2, 1); /* the limit cuts inside the text */
	free(s);
	return 0;
}
