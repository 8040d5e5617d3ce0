/*
 * sp_translate.h — the broker's side of a rotation of the pseudonymisation
 * key by translation (docs/pseudonymiser.md, "Rotation by translation").
 *
 * With P = k·H(x) and k' = δ·k, P' = δ·P. The ceremony hands the broker δ
 * for each new key epoch e (a PseudonymTranslation file); the broker
 *   - re-keys every stored pseudonym in ONE write transaction (the list of
 *     steps in sp_translate.c: one line per store and key layout), stores
 *     δ_e sealed (XChaCha20-Poly1305 under keys/translate.key, 0600) and
 *     appends a `pseudonyms-translated` audit record (epochs, d = δ·G, how
 *     many were re-keyed; never δ);
 *   - translates, on decode, a pseudonym of an older epoch to the current
 *     one: a signal or involvement still in flight under the old key, and
 *     a stored signal header (its bytes are signed by the sender and keep
 *     the pseudonym of the epoch it was made under);
 *   - for who-saw, gives the same subject's pseudonym under each earlier
 *     epoch, each with a DLEQ proof against the roster's d_e.
 *
 * Epochs: a header's pseudonym_epoch is SP_PSEUDO_EPOCH_OPRF + the key
 * epoch (sp_kh.h); pseudo.key epochs are never translated.
 *
 * The chain lives in this process (one broker per process), loaded at start
 * and read-only after; the CLI that translates runs with the broker stopped
 * (SP_LOCK_ADMIN), so a running broker never sees it change.
 */
#ifndef SP_TRANSLATE_H
#define SP_TRANSLATE_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_TRANSLATE_KEY_FILE "translate.key"
#define SP_TRANSLATE_MAX_EPOCHS SP_ROSTER_ROTATIONS_MAX

/* Broker start, before the sandbox closes keys/: read keys/translate.key
 * if it exists (SP_OK when absent: no translation yet). */
int sp_translate_key_load(const char *keys_dir) SP_MUST_CHECK;
/* After the store opened: unseal every δ (SP_EKEY when there are some and
 * no key file). */
int sp_translate_load(sp_store *st) SP_MUST_CHECK;
/* The current key epoch (0 before any translation). */
uint32_t sp_translate_epoch(void);

/* out = the pseudonym under the current epoch. Not an OPRF epoch, or the
 * current one: copied. SP_EKEY for an epoch newer than the broker knows. */
int sp_translate_to_current(uint32_t epoch, const uint8_t in[32], uint8_t out[32]) SP_MUST_CHECK;
/* The same, in place, for a decoded header (pseudonym and its epoch). A
 * process that did not sp_translate_load (a node: its retention reads
 * headers through the same code) gets the header unchanged. */
int sp_translate_header(Seinpost__SignalHeader *h) SP_MUST_CHECK;

/* who-saw: for a pseudonym of the current epoch, the subject's pseudonym
 * under each earlier epoch, newest first: ps[i] (epoch cur-1-i) and
 * proofs[i], proving ps[i-1 or the given p] = δ·ps[i] against d of epoch
 * cur-i. Returns how many (at most max). */
size_t sp_translate_earlier(const uint8_t p[32], uint8_t (*ps)[32], uint8_t (*proofs)[64], size_t max);
/* The privacy officer's check of one step: newer = δ_e·older with the
 * roster's d of epoch e. */
int sp_translate_earlier_verify(const sp_roster *r, uint32_t e, const uint8_t older[32], const uint8_t newer[32],
                                const uint8_t proof[64]) SP_MUST_CHECK;

/* The whole pass (`seinpost pseudonym translate FILE`), in one write
 * transaction of st (the broker stopped): the file's epoch must be the
 * store's + 1 and its d and group key the roster's rotation of that epoch.
 * *count: pseudonyms re-keyed. why: one line on failure. */
int sp_translate_apply(sp_store *st, const char *keys_dir, const sp_roster *r, const uint8_t *file, size_t len,
                       uint64_t *count, char *why, size_t whylen) SP_MUST_CHECK;

#endif
