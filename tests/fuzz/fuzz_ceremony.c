/*
 * fuzz_ceremony.c — the files a key rotation and the ceremony between
 * machines take from outside (sp_wire.c): the broker's translation file, a
 * signed deal, an instance's rotation proposal. Every refusal says why;
 * whatever decodes keeps the sizes the decoders promise, and a translation
 * with δ in clear has d = δ·G.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seinpost.pb-c.h"
#include "sp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Seinpost__PseudonymTranslation *x = NULL;
	Seinpost__SignedCeremonyDeal *sd = NULL;
	Seinpost__CeremonyDeal *d = NULL;
	Seinpost__CeremonyRotation *cr = NULL;
	char why[256];
	uint8_t g[32];

	if (sodium_init() < 0)
		return 0;
	why[0] = '\0';
	if (sp_wire_decode_translation(data, size, &x, why, sizeof why) == SP_OK) {
		if (x->d.len != 32 || x->new_group_key.len != 32 || x->epoch == 0)
			abort();
		if (x->delta.len == 32 &&
		    (crypto_scalarmult_ristretto255_base(g, x->delta.data) != 0 || memcmp(g, x->d.data, 32) != 0))
			abort();
		seinpost__pseudonym_translation__free_unpacked(x, NULL);
	} else if (!why[0])
		abort();
	why[0] = '\0';
	if (sp_wire_decode_ceremony_deal(data, size, &sd, &d, why, sizeof why) == SP_OK) {
		if (sd->signature.len != 64 || d->session.len != 32 || d->n_commitments != d->t || d->n_sealed != d->n ||
		    d->dealer < 1 || d->dealer > d->n || d->n > 16)
			abort();
		for (size_t i = 0; i < d->n_commitments; i++)
			if (d->commitments[i].len != 32)
				abort();
		seinpost__ceremony_deal__free_unpacked(d, NULL);
		seinpost__signed_ceremony_deal__free_unpacked(sd, NULL);
	} else if (!why[0])
		abort();
	why[0] = '\0';
	if (sp_wire_decode_ceremony_rotation(data, size, &cr, why, sizeof why) == SP_OK) {
		if (cr->d.len != 32 || cr->proof.len != 64 || cr->n_scaled < 1 || cr->n_scaled > 16)
			abort();
		seinpost__ceremony_rotation__free_unpacked(cr, NULL);
	} else if (!why[0])
		abort();
	return 0;
}
