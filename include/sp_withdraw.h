/*
 * sp_withdraw.h — withdrawal of a signal by its sender (as in the
 * Verwijsindex, issue 16), broker side.
 *
 * Keys already delivered cannot be recalled. Withdrawing therefore means:
 * the broker drops the signal's tier boxes and every grant it holds for it
 * (held on-escalation and if-involved grants too) and keeps only header and
 * signature, marked withdrawn, so nothing is ever released afterwards; it
 * takes the signal out of the subject index (matches and escalation no
 * longer see it); it queues a withdrawal to every organisation a delivery of
 * the signal was ever queued to, through the delivery queue (the same
 * resend-until-receipted guarantee); it reconsiders the subject's referral
 * (closed, and the coordinator told, when its rule no longer holds); and it
 * audits who, when and why (AUDIT_WITHDRAWN). Every refusal changes nothing.
 *
 * Key (SP_DB_META, binary, no personal data):
 *   "W:" signal-id(16) org  -> ""   a delivery of the signal was queued to org
 * written by sp_queue_put, deleted with the signal's queue entries
 * (sp_release_drop_signal, at withdrawal and at expiry).
 */
#ifndef SP_WITHDRAW_H
#define SP_WITHDRAW_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_escalate.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_WITHDRAW_REASON_MAX 500

/* The id under which a recipient receipts the withdrawal of signal id (and
 * the broker queues it): not the signal id itself, so that a late receipt
 * of the original delivery can never dequeue the withdrawal. */
void sp_withdraw_receipt_id(const uint8_t signal_id[16], uint8_t out[16]);

/* The reason: required, one line of checked text (sp_text_problem), at most
 * SP_WITHDRAW_REASON_MAX bytes, no run of 8 or more digits (no BSN, phone or
 * file number: it is kept in the audit log). 0, or SP_EINVAL with why. */
int sp_withdraw_reason_check(const char *reason, char *why, size_t whylen) SP_MUST_CHECK;

/* Remember that a delivery of signal id was queued to org (sp_queue_put). */
int sp_withdraw_note_holder(sp_txn *t, const uint8_t id[16], const char *org) SP_MUST_CHECK;
/* Forget those notes (the signal's queue entries are being dropped). */
int sp_withdraw_forget(sp_txn *t, const uint8_t id[16]) SP_MUST_CHECK;

/* Apply w from org (proven by CURVE) inside write txn t; *reply is a packed
 * Frame with the WithdrawAck (also for a refusal, which changes nothing).
 * Store errors are returned. */
int sp_withdraw_apply(sp_txn *t, const sp_engine *e, const char *org, const Seinpost__Withdraw *w,
                      uint8_t **reply, size_t *len) SP_MUST_CHECK;

#endif
