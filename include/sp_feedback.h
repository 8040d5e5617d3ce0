/*
 * sp_feedback.h — feedback to the signaller (terugkoppeling), broker side.
 *
 * A node asks "what happened with my signals after audit record N"; the
 * broker walks its audit log from N and answers, for records about signals
 * the asking organisation sent, the event and the other party's role:
 * delivered, opened, matched, escalated (part of a referral), referral
 * status. Existence tier only: no content, no other organisation's id, no
 * user, no pseudonym. Which events flow back is the policy's `feedback`.
 * Read-only: the walk changes nothing, so a lost answer is asked again.
 */
#ifndef SP_FEEDBACK_H
#define SP_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_FEEDBACK_SCAN_MAX 2048  /* audit records walked per request */
#define SP_FEEDBACK_ITEMS_MAX 3500 /* items per answer (the wire takes 4096) */

/* Answer q from org inside read (or write) txn t: *reply is a malloc'd
 * packed Frame with a FeedbackBatch. Store errors are returned. */
int sp_feedback_serve(sp_txn *t, const sp_roster *roster, const sp_policy *policy, const char *org,
                      const Seinpost__FeedbackRequest *q, uint8_t **reply, size_t *len) SP_MUST_CHECK;

#endif
