/*
 * sp_involve.h — node side of involvement: "we have a relationship with
 * this subject" (a school with its pupils, youth care with its clients).
 *
 * The node derives the subject's pseudonym under EVERY epoch of its
 * pseudonymisation key (so the broker links signals made before a key
 * rotation), stores locally pseudonym -> {own reference, until} in its
 * SP_DB_INVOLVE (the reference and the BSN never leave the node), and sends
 * the broker an InvolveUpdate until the broker acknowledges it.
 */
#ifndef SP_INVOLVE_H
#define SP_INVOLVE_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_kh.h"
#include "sp_pseudo.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_INVOLVE_REF_MAX 64
#define SP_INVOLVE_DEFAULT_DAYS 365
#define SP_INVOLVE_BATCH_MAX 2048   /* involvements per local request and per frame */
#define SP_INVOLVE_RESEND_MAX 8192  /* unacknowledged involvements resent per round */
#define SP_INVOLVE_FRAME_PSEUDONYMS 4096 /* per InvolveBatch frame (~160 KiB) */

/* "YYYY-MM-DD" -> end of that day, UTC, unix seconds. SP_EDATE when
 * malformed or impossible. */
int sp_involve_parse_date(const char *s, uint64_t *out) SP_MUST_CHECK;

/* One line of a bulk file: "BSN[,ref[,until]]" (spaces around fields
 * ignored). Splits line in place; out's strings point into it. 1 for a blank
 * or '#' comment line, SP_OK, or an error with msg (never the BSN). */
int sp_involve_parse_line(char *line, Seinpost__InvolveRequest *out, char *msg, size_t msglen);

/* Validate and store a local request. msg gets a clear reason (never the
 * BSN) on failure, a confirmation on success. */
int sp_involve_request(sp_store *st, sp_kh *kh, const Seinpost__InvolveRequest *req,
                       uint64_t now_s, char *msg, size_t msglen) SP_MUST_CHECK;

/* Send the updates the broker has not acknowledged (up to
 * SP_INVOLVE_RESEND_MAX, from the pending index, in InvolveBatch frames);
 * fn sends one frame. */
typedef int (*sp_involve_send_fn)(void *ctx, Seinpost__Frame *f);
void sp_involve_resend(sp_store *st, sp_involve_send_fn fn, void *ctx);

/* Bulk (`seinpost involve --file`): validate every item (a bad one refuses
 * the batch; msg names its line, never the BSN), store all in one
 * transaction, then send them to the broker as one InvolveBatch frame via fn
 * (may be NULL). */
int sp_involve_batch_request(sp_store *st, sp_kh *kh, const Seinpost__InvolveBatchRequest *b,
                             uint64_t now_s, sp_involve_send_fn fn, void *ctx, char *msg, size_t msglen) SP_MUST_CHECK;

/* Index unacknowledged involvements of a store made before the pending
 * index existed (once; a no-op afterwards). At node start. */
int sp_involve_migrate(sp_store *st) SP_MUST_CHECK;

/* The broker answered one update / a batch. */
void sp_involve_acked(sp_store *st, const Seinpost__InvolveAck *a);
void sp_involve_batch_acked(sp_store *st, const Seinpost__InvolveBatchAck *a);

/* Our own reference for a pseudonym (any epoch), "" when none. Uses the
 * caller's transaction. */
void sp_involve_local_ref(sp_txn *t, const uint8_t pseudonym[32], char *out, size_t outlen);

#endif
