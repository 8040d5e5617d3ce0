/*
 * sp_withdrawn.h — withdrawal of a signal (issue 16), node side.
 *
 * The signaller: `seinpost withdraw ID --reason TEXT` is checked here
 * against our outbox (ours, accepted, not withdrawn yet) before it goes to
 * the broker (sp_withdraw.h); the broker's ack marks the outbox entry
 * WITHDRAWN and adds a `withdrawn` event to the signal's feedback.
 *
 * A recipient: a withdrawal delivery (Delivery.withdrawn) replaces the
 * inbox entry by a tombstone (header and signature only, InboxEntry.
 * withdrawn set) in the delivery batch, with a local audit record and, when
 * hooks are configured, a `withdrawn` hook item. A tombstone is never
 * opened again (`show`, hooks), and a later delivery of the same signal is
 * receipted but not stored.
 */
#ifndef SP_WITHDRAWN_H
#define SP_WITHDRAWN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "sp_config.h"
#include "sp_error.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

/* The signaller's checks before anything is sent: the reason, and the
 * signal is in our outbox, accepted and not withdrawn. 0, or an SP_E* code
 * with a clear why (no personal data). */
int sp_withdrawn_prepare(sp_store *s, const Seinpost__Withdraw *w, char *why, size_t whylen) SP_MUST_CHECK;

/* The broker's answer: on success the outbox entry becomes WITHDRAWN (with
 * the reason and time) and a feedback event `withdrawn` is kept (a feedback
 * hook item when hook is set). Idempotent. */
int sp_withdrawn_acked(sp_store *s, const Seinpost__WithdrawAck *a, const char *our_role, int hook) SP_MUST_CHECK;

/* Inside the delivery batch, before anything else looks at delivery d
 * (header h checked): *done = 1 when this module dealt with it — a
 * withdrawal (tombstone written) or a delivery of a signal we hold a
 * tombstone of (dropped); then receipt[] is the id to receipt, or all zero
 * when no receipt is due (a withdrawal whose signature does not verify).
 * *hooked = 1 when a hook item was queued. Store errors are returned. */
int sp_withdrawn_delivery(sp_txn *batch, const sp_config *cfg, const sp_roster *roster,
                          const Seinpost__SignalHeader *h, const Seinpost__Delivery *d, uint8_t receipt[16],
                          int *done, int *hooked) SP_MUST_CHECK;

/* 1 when the stored inbox entry v is a tombstone. */
int sp_withdrawn_entry(const void *v, size_t vl);

/* A hook's JSON for a withdrawn signal: {signal_id, from, category,
 * weight, withdrawn_at} (new reference); NULL when it is gone. */
json_t *sp_withdrawn_hook_json(sp_txn *t, const uint8_t id[16]);

#endif
