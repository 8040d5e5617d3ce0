/* fuzz_local.c — local submit-socket requests through sp_wire_decode_local.
 * Property: whatever is accepted re-packs to bytes that are accepted again. */
#include <stdint.h>
#include <stdlib.h>

#include "sp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Seinpost__LocalRequest *q = NULL, *r = NULL;
	uint8_t *buf = NULL;
	size_t len;
	char why[128];

	if (sp_wire_decode_local(data, size, &q, why, sizeof why) != SP_OK)
		return 0;
	if (sp_wire_pack(&q->base, &buf, &len) != SP_OK)
		abort();
	if (sp_wire_decode_local(buf, len, &r, why, sizeof why) != SP_OK)
		abort();
	seinpost__local_request__free_unpacked(r, NULL);
	seinpost__local_request__free_unpacked(q, NULL);
	free(buf);
	return 0;
}
