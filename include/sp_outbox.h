/*
 * sp_outbox.h — the node's durable outbox and its retry schedule.
 *
 * The outbox holds every signal this node originated, keyed by signal id
 * (SP_DB_OUTBOX -> OutboxEntry), for as long as the node keeps history.
 * Resending must not cost O(history), so the signals still waiting for the
 * broker's verdict are also listed in a pending index in SP_DB_META, in
 * submission order:
 *
 *   "ob.p" be64(n)  -> id        oldest first; what the resend round walks
 *   "ob.i" id       -> be64(n)   to drop the index entry on the verdict
 *   "ob.n"          -> be64(last n)
 *   "ob.v"          -> "1"       the index exists (older stores: rebuilt once)
 *
 * All writes go through the caller's write transaction, so an entry and its
 * index entry commit together (or not at all).
 */
#ifndef SP_OUTBOX_H
#define SP_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_store.h"

/* Store a new entry (PENDING) and index it. SP_EEXIST when the id exists. */
int sp_outbox_add(sp_txn *t, const uint8_t id[16], const void *entry, size_t len) SP_MUST_CHECK;

/* Replace the entry with its settled form (ACCEPTED or REJECTED) and drop it
 * from the pending index. Idempotent. */
int sp_outbox_settle(sp_txn *t, const uint8_t id[16], const void *entry, size_t len) SP_MUST_CHECK;

/* Visit pending entries in submission order, starting at index position
 * from (0 = the oldest). fn gets the position, id and the stored entry
 * (borrowed for the call) and returns nonzero to stop (returned). */
typedef int (*sp_outbox_visit_fn)(void *ctx, uint64_t pos, const uint8_t id[16],
                                  const void *entry, size_t len);
int sp_outbox_foreach_pending(sp_txn *t, uint64_t from, sp_outbox_visit_fn fn, void *ctx);

/* Number of pending entries and the queued time (unix ms) of the oldest
 * (0 when none). */
int sp_outbox_pending(sp_txn *t, uint64_t *count, uint64_t *oldest_ms) SP_MUST_CHECK;

/* Build the pending index from a full scan when the store predates it.
 * Runs once per store; a no-op afterwards. */
int sp_outbox_migrate(sp_store *s) SP_MUST_CHECK;

/* Retry schedule: exponential backoff with jitter between base and max ms,
 * reset by any sign of progress (an answer from the broker). */
typedef struct sp_backoff {
	uint32_t base_ms, max_ms;
	uint32_t cur_ms;
	uint64_t next_ms;      /* mono ms of the next attempt */
} sp_backoff;

void sp_backoff_init(sp_backoff *b, uint32_t base_ms, uint32_t max_ms);
/* An attempt was made at now without progress since the previous one:
 * wait longer. */
void sp_backoff_fail(sp_backoff *b, uint64_t now);
/* Progress: back to base, next attempt at now + base. */
void sp_backoff_ok(sp_backoff *b, uint64_t now);
int sp_backoff_due(const sp_backoff *b, uint64_t now);

#endif
