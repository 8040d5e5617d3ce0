/* fuzz_spool.c — the spool file parser must never crash or leak on any
 * bytes, always explain a refusal, and never copy a number from the file
 * into its explanation (it could be a BSN); what it accepts holds only
 * acceptable text (sp_text_ok), newlines only in summary and narrative. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sp_spool.h"
#include "sp_util.h"

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
		if (kind == SP_SPOOL_SIGNAL) {
			const Seinpost__SubmitRequest *q = r->submit;
			if (!q || !sp_text_ok(q->summary, 1u << 20, 1) || !sp_text_ok(q->narrative, 1u << 20, 1) ||
			    !sp_text_ok(q->contact, 1u << 20, 0) || !sp_text_ok(q->name, 1u << 20, 0) ||
			    !sp_text_ok(q->address, 1u << 20, 0) || !sp_text_ok(q->idempotency_key, 1u << 20, 0))
				abort();
		} else {
			for (size_t i = 0; r->involve_batch && i < r->involve_batch->n_items; i++)
				if (!sp_text_ok(r->involve_batch->items[i]->ref, 1u << 20, 0))
					abort();
		}
		seinpost__local_request__free_unpacked(r, NULL);
	} else if (!errs[0] || req || kind || has_digit_run(errs, 9)) {
		abort();
	}
	free(req);
	return 0;
}
