/*
 * sp_feedback_keep.h — feedback to the signaller, node side: the events the
 * broker reports about the signals this node sent (sp_feedback.h), kept in
 * SP_DB_FEEDBACK (key: signal id || be64(broker audit seq)) beside a cursor,
 * shown by `outbox` and handed to the case system as `feedback` hook items.
 */
#ifndef SP_FEEDBACK_KEEP_H
#define SP_FEEDBACK_KEEP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "sp_error.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

/* The broker audit seq to ask from (0 at first). */
int sp_feedback_cursor(sp_txn *t, uint64_t *after) SP_MUST_CHECK;

/* Keep a batch inside write txn t: items about signals in our outbox (others
 * are ignored: the broker only tells a sender about its own), the cursor
 * moves to next_seq. With hook set, one `feedback` hand-over is queued per
 * signal that got a new event. *added counts the new events. */
int sp_feedback_store(sp_txn *t, const Seinpost__FeedbackBatch *b, int hook, uint64_t now_ms,
                      size_t *added) SP_MUST_CHECK;

/* Keep one event we learned otherwise (our own withdrawal, acknowledged
 * under the broker's audit seq: sp_withdrawn.h); the cursor stays. */
int sp_feedback_note(sp_txn *t, const Seinpost__FeedbackItem *it, int hook, uint64_t now_ms) SP_MUST_CHECK;

/* The events about one signal, oldest first: a JSON array of
 * {event, role, at, status?} (new reference), or text lines. */
json_t *sp_feedback_json(sp_txn *t, const uint8_t id[16]);
void sp_feedback_print(sp_txn *t, const uint8_t id[16], FILE *out);
/* A hook's JSON for a signal we sent: {signal_id, category, weight,
 * feedback: [...]}; NULL when the signal is no longer in our outbox. */
json_t *sp_feedback_hook_json(sp_txn *t, const uint8_t id[16]);

/* The node's side of the exchange, each in its own transaction: ask the
 * broker from our cursor (send is the node's frame sender), and keep an
 * answer; *more says to ask again at once. */
int sp_feedback_ask(sp_store *s, int (*send)(void *ctx, Seinpost__Frame *f), void *ctx);
int sp_feedback_take(sp_store *s, const Seinpost__FeedbackBatch *b, int hook, size_t *added, int *more);

/* Delete the events of one signal (retention of the outbox entry). */
int sp_feedback_drop(sp_txn *t, const uint8_t id[16]) SP_MUST_CHECK;

#endif
