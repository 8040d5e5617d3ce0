/* fuzz_spool.c — the spool file parser must never crash or leak on any
 * bytes, always explain a refusal, and never copy a number from the file
 * into its explanation (it could be a BSN). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int has_digit_run(const char *s, int n)
{
	int run = 0;
	for (; *s; s++) {
		run = (*s >= '0' && *s <= '9') ? run + 1 : 0;
		if (run >= n)
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char errs[SP_SPOOL_ERRORS_MAX];
	uint8_t *req = NULL;
	size_t reqlen = 0;
	int kind = 0;
	int rc = sp_spool_parse((const char *)data, size, 1700000000u, &kind, &req, &reqlen, errs, sizeof errs);
	if (rc == SP_OK) {
		Seinpost__LocalRequest *r = seinpost__local_request__unpack(NULL, reqlen, req);
		if (!r || (kind != SP_SPOOL_SIGNAL && kind != SP_SPOOL_INVOLVE))
			abort();
		seinpost__local_request__free_unpacked(r, NULL);
	} else if (!errs[0] || req || kind || has_digit_run(errs, 9)) {
		abort();
	}
	free(req);
	return 0;
}
