/* fuzz_keys.h — the fixed operator key of the roster fuzz corpus.
 * Public test material: it signs nothing outside tests/fuzz. */
#ifndef SP_FUZZ_KEYS_H
#define SP_FUZZ_KEYS_H

#include <stdint.h>

static const uint8_t sp_fuzz_operator_seed[32] = {
	's', 'e', 'i', 'n', 'p', 'o', 's', 't', '-', 'f', 'u', 'z', 'z', '-', 'o', 'p',
	'e', 'r', 'a', 't', 'o', 'r', '-', 'k', 'e', 'y', '-', 'o', 'n', 'l', 'y', '!',
};

#endif
