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
#include "sp_error.h"
#include "sp_roster.h"
#include "sp_store.h"

/* Inside the caller's write transaction. */
int sp_rostersync_apply(sp_txn *t, const sp_roster *old, const sp_roster *cur) SP_MUST_CHECK;

/* For the per-frame check: "organisation revoked" when user is a removed
 * organisation, "not on the roster" otherwise. NULL when user is on it. */
const char *sp_rostersync_refusal(const sp_roster *r, const char *user, int *code);

#endif
