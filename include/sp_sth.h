/*
 * sp_sth.h — signed tree heads (checkpoints) of the broker's audit log.
 *
 * A head commits to (tree_size, timestamp, root) with the broker's Ed25519
 * key over SP_STH_DOMAIN || be64(size) || be64(time ms) || root. Heads are
 * stored in SP_DB_AUDIX under 'h' be64(size): at most one per size, so a
 * head is only signed when the log grew.
 */
#ifndef SP_STH_H
#define SP_STH_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_STH_DOMAIN "seinpost/sth/v1"

/* Sign (size, time, root) into sig. */
void sp_sth_sign_raw(uint64_t size, uint64_t time_ms, const uint8_t root[32],
                     const uint8_t sign_sk[64], uint8_t sig[64]);
/* Field sizes and signature; SP_EMALFORMED or SP_ESIG. */
int sp_sth_verify(const Seinpost__SignedTreeHead *h, const uint8_t sign_pk[32]) SP_MUST_CHECK;

/* Sign a head over the current log when it grew since the last head and
 * either every_records were added or every_ms passed (force: whenever it
 * grew). *signed_out (may be NULL) 1 when a head was written. The head's
 * time is max(wall clock, last head's time): heads never go back in time. */
int sp_sth_maybe_sign(sp_txn *t, const uint8_t sign_sk[64], uint32_t every_records,
                      uint64_t every_ms, int force, int *signed_out) SP_MUST_CHECK;

/* Time (unix ms) of the latest stored head; SP_ENOTFOUND when none. */
int sp_sth_last_time(sp_txn *t, uint64_t *time_ms) SP_MUST_CHECK;

/* The latest stored head, unpacked (caller frees with
 * seinpost__signed_tree_head__free_unpacked). SP_ENOTFOUND when none. */
int sp_sth_latest(sp_txn *t, Seinpost__SignedTreeHead **out) SP_MUST_CHECK;

/* Visit every stored head in size order (decoded; NULL when a stored head
 * does not decode, with its key's size). fn nonzero stops. */
typedef int (*sp_sth_visit_fn)(void *ctx, uint64_t key_size, const Seinpost__SignedTreeHead *h);
int sp_sth_foreach(sp_txn *t, sp_sth_visit_fn fn, void *ctx);

#endif
