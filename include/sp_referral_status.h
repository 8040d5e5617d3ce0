/*
 * sp_referral_status.h — a referral's status, set by its coordinator
 * (op- en afschalen, issue 16), broker side.
 *
 * Only an organisation of the role the referral's escalation rule sends
 * referrals to may set it. Statuses: accepted, in-progress, intervention
 * (with a type from the policy's `interventions`), declined, scaled-down,
 * closed; always with a reason (no personal data: long digit runs are
 * refused). Each change is an audit record (who, when, status, reason,
 * rule); the signallers learn the status, not the reason, through their
 * feedback (sp_feedback.h).
 */
#ifndef SP_REFERRAL_STATUS_H
#define SP_REFERRAL_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_REFERRAL_REASON_MAX 500

/* 1 when status is one of the six (intervention needs its type). */
int sp_referral_status_known(const char *status);

/* Check a request's own fields (status, type given iff intervention,
 * reason present and free of digit runs): 0, or an SP_E* code with why. */
int sp_referral_update_check(const Seinpost__ReferralUpdate *u, char *why, size_t whylen) SP_MUST_CHECK;

/* The reason (required, one line, no digit runs) and user name of an
 * update or a move: 0, or SP_EINVAL with why. */
int sp_referral_reason_check(const char *reason, const char *user, char *why, size_t whylen) SP_MUST_CHECK;

/* Apply u from org inside write txn t; *reply is a packed Frame with the
 * ReferralUpdateAck (also for a refusal, which changes nothing). Store
 * errors are returned. */
int sp_referral_status_apply(sp_txn *t, const sp_roster *roster, const sp_policy *policy, const char *org,
                             const Seinpost__ReferralUpdate *u, uint8_t **reply, size_t *len) SP_MUST_CHECK;

/* The signals of the subject's referral with this id (SP_ENOTFOUND if the
 * subject's referral is another). fn gets each signal id. */
int sp_referral_signals(sp_txn *t, const uint8_t pseudonym[32], int (*fn)(void *ctx, const uint8_t id[16]),
                        void *ctx) SP_MUST_CHECK;

/* The coordinator's answer frame (ReferralUpdateAck) for a status or a
 * table move (sp_tables.h). */
int sp_referral_ack(const Seinpost__ReferralUpdate *u, int code, const char *msg, uint8_t **reply,
                    size_t *len) SP_MUST_CHECK;

#endif
