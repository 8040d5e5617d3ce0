/*
 * sp_pseudo.h — pseudonymisation of subjects.
 *
 * pseudonym = BLAKE2b-256(key = pseudonymisation key of epoch E,
 *                         salt = kind || epoch (domain separation),
 *                         personal = "seinpost-pseudo1",
 *                         message = normalised identifier)
 * A bare hash of a BSN is forbidden: 10^9 BSNs are a dictionary. The key is
 * held by partner nodes and the privacy officer only, never by the broker.
 *
 * Key file (0600), one line per epoch, newest = highest epoch:
 *   epoch <n> <64 hex chars>
 */
#ifndef SP_PSEUDO_H
#define SP_PSEUDO_H

#include <stdint.h>
#include <stddef.h>
#include "sp_error.h"

#define SP_PSEUDO_BYTES 32
#define SP_PSEUDO_KEY_BYTES 32
#define SP_PSEUDO_MAX_EPOCHS 16

enum sp_subject_kind { SP_SUBJECT_NONE = 0, SP_SUBJECT_PERSON = 1, SP_SUBJECT_BUSINESS = 2, SP_SUBJECT_LOCATION = 3 };

typedef struct sp_pseudo_keyring sp_pseudo_keyring; /* opaque, sodium_malloc'd keys */

int sp_pseudo_keyring_generate(uint32_t epoch, sp_pseudo_keyring **out) SP_MUST_CHECK;
/* Refuses a file readable by group/others (SP_EPERM). */
int sp_pseudo_keyring_load(const char *path, sp_pseudo_keyring **out) SP_MUST_CHECK;
int sp_pseudo_keyring_save(const sp_pseudo_keyring *kr, const char *path) SP_MUST_CHECK;
void sp_pseudo_keyring_free(sp_pseudo_keyring **kr);
uint32_t sp_pseudo_current_epoch(const sp_pseudo_keyring *kr);
/* Add a fresh key as epoch current+1 (older epochs are kept so existing
 * pseudonyms can still be linked). SP_ESIZE when the ring is full. */
int sp_pseudo_keyring_rotate(sp_pseudo_keyring *kr, uint32_t *new_epoch) SP_MUST_CHECK;

/* Derive with the given epoch's key (SP_EKEY if the ring lacks it).
 * normalised_id must come from sp_bsn_normalise / sp_kvk_normalise / sp_bag_normalise. */
int sp_pseudo_derive(const sp_pseudo_keyring *kr, uint32_t epoch, int kind,
                     const char *normalised_id, uint8_t out[SP_PSEUDO_BYTES]) SP_MUST_CHECK;

#endif
