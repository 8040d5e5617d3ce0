/*
 * sp_retention.h — storage limitation (AVG art. 5(1)(e)).
 *
 * Expiry follows the policy: a signal's header expiry may not exceed
 * created + the policy's retention for its category and weight (checked at
 * admission), and a signal that became part of a referral is kept until
 * created + retention_escalated when that is longer.
 *
 * Broker sweep: deletes the index entry, every grant it still holds (stored
 * signal, queued deliveries, deferred releases) — crypto-shredding: what
 * remains anywhere cannot be decrypted — and expired involvements; audits
 * `expired`. Node sweep: deletes expired inbox and outbox content and audits
 * `expired`.
 */
#ifndef SP_RETENTION_H
#define SP_RETENTION_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

/* Admission: 0, or SP_EPOLICY with why when the expiry exceeds the policy. */
int sp_retention_check(const sp_policy *p, const Seinpost__SignalHeader *h,
                       char *why, size_t whylen) SP_MUST_CHECK;

/* When a signal must be gone (unix seconds). */
uint64_t sp_retention_deadline(const sp_policy *p, const Seinpost__SignalHeader *h, int escalated);

int sp_retention_sweep_broker(sp_txn *t, const sp_policy *p, const sp_roster *r, uint64_t now_s,
                              size_t *expired) SP_MUST_CHECK;
int sp_retention_sweep_node(sp_txn *t, const sp_policy *p, const char *org, uint64_t now_s,
                            size_t *expired) SP_MUST_CHECK;

#endif
