/*
 * sp_rostersync.h — broker side of a roster change (SIGHUP): what the new
 * signed roster means for the store, and the audit trail of it.
 *
 * For every difference between the old and the new roster one audit record:
 * org-added, org-revoked (with the operator's reason), key-rotated (an
 * organisation's keys, or the broker's sign key), then roster-loaded. A
 * revoked organisation's pending share is dropped in the same transaction:
 * its queued deliveries, its deferred releases (conditional grants held for
 * it) and its involvement registrations (so no if-involved grant is released
 * to it later), audited as grants-dropped with the count. The grants sealed
 * inside stored signals stay as bytes (the dedup index compares exact
 * signal bytes), but nothing releases to an organisation off the roster.
 */
#ifndef SP_ROSTERSYNC_H
#define SP_ROSTERSYNC_H

#include <stddef.h>
#include <stdint.h>
#include "sp_config.h"
#include "sp_error.h"
#include "sp_keys.h"
#include "sp_roster.h"
#include "sp_store.h"

/* Inside the caller's write transaction. */
int sp_rostersync_apply(sp_txn *t, const sp_roster *old, const sp_roster *cur) SP_MUST_CHECK;
/* The same in its own write transaction (logged on failure). */
int sp_rostersync_commit(sp_store *s, const sp_roster *old, const sp_roster *cur) SP_MUST_CHECK;
/* At start: when the latest tree head in the log was signed by an earlier
 * broker sign key of the roster's transition chain, the broker rotated its
 * key while stopped (its keys/ is closed after start, so its own rotation
 * takes a restart, docs/privsep.md): audit key-rotated (actor broker). */
int sp_rostersync_started(sp_store *s, const sp_roster *cur) SP_MUST_CHECK;

/* The roster file named by the configuration, when it is newer than old:
 * verified, same network, same broker CURVE key. When it names another
 * broker sign key, *keys_out gets the key directory's keys, which must hold
 * it (`keys rotate --broker`); NULL otherwise. SP_EEXIST: not newer, nothing
 * to do. Every refusal is logged; the old roster stays in force. */
int sp_rostersync_load(const sp_config *c, const sp_roster *old, const sp_keyset *keys, sp_roster **out,
                       sp_keyset **keys_out) SP_MUST_CHECK;
/* Frame { roster = the exact signed bytes } for a node; *buf malloc'd. */
int sp_rostersync_frame(const sp_roster *r, uint8_t **buf, size_t *len) SP_MUST_CHECK;

/* For the per-frame check: "organisation revoked" when user is a removed
 * organisation, "not on the roster" otherwise. NULL when user is on it. */
const char *sp_rostersync_refusal(const sp_roster *r, const char *user, int *code);

#endif
