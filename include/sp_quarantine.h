/*
 * sp_quarantine.h — the broker sets aside a queued delivery that its
 * recipient keeps refusing (it does not decode or verify there: damaged in
 * the broker's store, or forged), so one bad entry is not resent for ever.
 *
 * The recipient answers such a delivery with a DeliveryRefusal. The broker
 * counts refusals per (recipient, signal id) in memory; at max_refusals it
 * moves the entry from the queue to "x:" org '\0' id in SP_DB_META (see
 * sp_queue.h), writes an audit record `quarantined`, and logs once. `status`
 * shows quarantined deliveries as an alarm. Nothing is deleted: the entry
 * stays for the operator to examine.
 */
#ifndef SP_QUARANTINE_H
#define SP_QUARANTINE_H

#include <stdint.h>
#include "sp_error.h"
#include "sp_store.h"

typedef struct sp_quarantine sp_quarantine;

int sp_quarantine_new(unsigned max_refusals, sp_quarantine **out) SP_MUST_CHECK;
void sp_quarantine_free(sp_quarantine **q);

/* A refusal of id by org (the authenticated recipient), inside t. *moved =
 * 1 when this refusal quarantined it (the caller logs and counts). A
 * refusal of something no longer queued is ignored. */
int sp_quarantine_refused(sp_quarantine *q, sp_txn *t, const char *org, const uint8_t id[16], int code,
                          int *moved) SP_MUST_CHECK;

/* Quarantined deliveries in the store and the newest one's time (status). */
int sp_quarantine_count(sp_txn *t, uint64_t *n, uint64_t *newest_ms) SP_MUST_CHECK;

#endif
