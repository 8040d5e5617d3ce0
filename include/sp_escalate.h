/*
 * sp_escalate.h — the broker's policy engine after admission: if-involved
 * routing, match notices, escalation to the ZVH with referrals, involvement
 * updates. Everything runs inside the caller's write transaction, so the
 * releases, their audit records and the queued deliveries commit together.
 *
 * The broker decides only from headers (category, weight, sender, created,
 * pseudonym), involvements and the policy; it never opens a tier.
 */
#ifndef SP_ESCALATE_H
#define SP_ESCALATE_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

typedef struct sp_engine {
	const sp_policy *policy;
	const sp_roster *roster;
	uint64_t now_s;
} sp_engine;

/* A signal was accepted (already stored in SP_DB_SIGNALS and immediate
 * grants queued): index it, forward if-involved grants to involved orgs,
 * apply match rules both ways, evaluate escalation rules for its subject. */
int sp_escalate_on_signal(const sp_engine *e, sp_txn *t, const Seinpost__SignalHeader *h) SP_MUST_CHECK;

/* An org (proven by CURVE) registers or removes an involvement. On
 * registration, if-involved grants of signals already held are released.
 * why gets a specific reason (no personal data) on SP_EINVAL / SP_EEXPIRED. */
int sp_escalate_on_involve(const sp_engine *e, sp_txn *t, const char *org,
                           const Seinpost__InvolveUpdate *u, char *why, size_t whylen) SP_MUST_CHECK;
/* 1 when an sp_escalate_on_involve result is a refusal to answer (the
 * batch commits, the node is told why), 0 for success or a store failure. */
int sp_escalate_refusal(int rc);

/* Is org involved with pseudonym now (registered, unexpired)? */
/* A subject's referral (the latest; SP_ENOTFOUND), by subject or by id,
 * and writing it back (status changes, sp_referral_status.c). Free with
 * seinpost__referral__free_unpacked. */
int sp_escalate_referral_load(sp_txn *t, const uint8_t pseudonym[32], Seinpost__Referral **out) SP_MUST_CHECK;
int sp_escalate_referral_find(sp_txn *t, const uint8_t id[16], Seinpost__Referral **out) SP_MUST_CHECK;
int sp_escalate_referral_save(sp_txn *t, const Seinpost__Referral *r) SP_MUST_CHECK;
/* Does escalation rule rule_id hold now for the subject's indexed signals
 * (a withdrawal reconsiders a referral, sp_withdraw.c)? 0 when it does not,
 * or when the policy has no such rule. */
int sp_escalate_rule_holds(const sp_engine *e, sp_txn *t, const uint8_t pseudonym[32], const char *rule_id);
/* Closed or declined: a new escalation of the subject opens a new referral. */
int sp_referral_ended(const Seinpost__Referral *r);
int sp_escalate_involved(sp_txn *t, const uint8_t pseudonym[32], const char *org, uint64_t now_s);

#endif
