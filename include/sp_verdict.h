/*
 * sp_verdict.h — how the broker's verdict on one of our signals is applied
 * at the node (issue 11).
 *
 * A verdict is OK/DUPLICATE (accepted), or a rejection with an sp_err code
 * and the broker's reason. Two rejections are temporary, because the same
 * signal can be accepted later without change: SP_ECLOCK (one of the two
 * clocks is off, or the broker's clock stepped) and SP_EPOLICYVER (a policy
 * roll-out caught the signal between versions). Those leave the entry
 * DEFERRED: still in the pending index, resent with backoff (retry_ms
 * doubling, at most SP_VERDICT_BACKOFF_MAX_MS) until the signal is older
 * than max_age_s or expired, and then REJECTED for good. Every other
 * rejection is final at once. A final rejection is audited, logged, kept in
 * the outbox with its reason, and told to the spool when the signal came
 * from a file.
 *
 * Outbox strings decoded by protobuf-c may be its static empty string:
 * never free or replace one in place; pack from a local copy (as below).
 */
#ifndef SP_VERDICT_H
#define SP_VERDICT_H

#include <stdint.h>
#include "sp_error.h"
#include "sp_spool.h"
#include "sp_status.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_VERDICT_BACKOFF_MAX_MS 300000u /* 5 minutes between retries at most */

typedef struct sp_verdict_ctx {
	const char *org;     /* our roster id (audit actor) */
	uint32_t retry_ms;   /* first delay after a temporary rejection */
	uint32_t max_age_s;  /* give up on a deferred signal created longer ago */
	sp_spool *spool;     /* may be NULL */
} sp_verdict_ctx;

/* 1 for the codes the node retries (see above). */
int sp_verdict_temporary(int code);

/* What applying one verdict did. */
enum sp_verdict_outcome {
	SP_VERDICT_NONE = 0,     /* not ours, repeated, or the entry is damaged */
	SP_VERDICT_ACCEPTED,
	SP_VERDICT_DEFERRED,
	SP_VERDICT_REJECTED,
};

/* Apply a in a child of the batch transaction t. A damaged outbox entry
 * is logged and left alone (SP_OK): one bad value must not undo the other
 * verdicts and deliveries of the batch. Returns an error only when the
 * store failed (the batch is then rolled back and the broker answers again).
 * now_ms: wall clock. *outcome (may be NULL) says what happened; reason
 * (may be NULL) gets the reason recorded with a final rejection. */
int sp_verdict_apply(sp_txn *t, const sp_verdict_ctx *c, const Seinpost__SubmitAck *a, uint64_t now_ms,
                     int *outcome, char *reason, size_t reasonlen) SP_MUST_CHECK;

/* For the resend round: may this stored entry be sent now? 0 for a
 * DEFERRED entry whose next attempt lies ahead (a next attempt further
 * ahead than the longest backoff means the clock stepped back: send). */
int sp_verdict_due(const Seinpost__OutboxEntry *e, uint64_t now_ms);

/* After the batch committed: tell the spool about final rejections (the
 * .error file). Kept apart so no file is written for an uncommitted verdict. */
void sp_verdict_notify(const sp_verdict_ctx *c, const uint8_t id[16], const char *reason);

/* `seinpost status` lines: signals deferred now, final rejections (WARN
 * when the last was within a day). */
int sp_verdict_status(const sp_status_src *src, sp_status *st);

#endif
