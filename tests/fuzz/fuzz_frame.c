/* fuzz_frame.c — node<->broker frames through sp_wire_decode_frame.
 * Property: whatever is accepted re-packs to bytes that are accepted again. */
#include <stdint.h>
#include <stdlib.h>

#include "sp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Seinpost__Frame *f = NULL, *g = NULL;
	uint8_t *buf = NULL;
	size_t len;
	char why[128];

	if (sp_wire_decode_frame(data, size, SP_MAX_FRAME_DEFAULT, &f, why, sizeof why) != SP_OK)
		return 0;
	if (sp_wire_pack(&f->base, &buf, &len) != SP_OK)
		abort();
	/* unknown fields are kept by protobuf-c, so a re-pack may be larger
	 * only by what the input already carried */
	if (sp_wire_decode_frame(buf, len, SIZE_MAX, &g, why, sizeof why) != SP_OK)
		abort();
	seinpost__frame__free_unpacked(g, NULL);
	seinpost__frame__free_unpacked(f, NULL);
	free(buf);
	return 0;
}
