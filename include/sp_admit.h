/*
 * sp_admit.h — broker side: may this signal enter the network?
 *
 * Checks, in order, each with its own error code and reason: the claimed
 * sender is the organisation the CURVE handshake proved (SP_ESENDER) and is on
 * the roster (SP_EORG); the signature and tier digests verify (SP_ESIG); the
 * policy version is the one the broker holds (SP_EPOLICYVER); the category is
 * known (SP_ECATEGORY); times are sane (SP_ECLOCK, SP_EEXPIRED); every grant
 * goes to a roster org other than the sender and is within what the policy
 * allows for its role, tier and mode (SP_EORG, SP_EPOLICY). The broker
 * recomputes entitlements from the policy; it never trusts the sender's.
 */
#ifndef SP_ADMIT_H
#define SP_ADMIT_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "seinpost.pb-c.h"

typedef struct sp_admit_opts {
	uint64_t now_s;
	uint32_t max_skew_s;  /* created may be at most this far in the future */
	uint32_t max_age_s;   /* ... and this far in the past (0 = max_skew_s): a
	                       * node's outbox may hold a signal through hours of
	                       * broker downtime, so the past needs more room */
	const uint8_t *prev_policy_hash; /* the policy version before the current one
	                       * (NULL: none): accepted while now_s < prev_policy_until_s */
	uint64_t prev_policy_until_s;
	int sig_verified;     /* the caller already checked sp_signal_verify() of
	                       * this signal against proven_org's key (the broker
	                       * does that on its verify thread); 0 = check here */
} sp_admit_opts;

/* sig must have passed sp_wire validation. *hdr_out (may be NULL) receives
 * the decoded header on success; free with seinpost__signal_header__free_unpacked. */
int sp_admit_signal(const sp_roster *r, const sp_policy *p, const char *proven_org,
                    const Seinpost__Signal *sig, const sp_admit_opts *o,
                    Seinpost__SignalHeader **hdr_out, char *why, size_t whylen) SP_MUST_CHECK;

/* Who gets what now: for one recipient org, the tiers mask it may receive
 * immediately (bit 0 = existence), and the first rule that allowed it.
 * Returns 1 when the org gets a delivery now, 0 otherwise. */
int sp_admit_route(const sp_policy *p, const sp_org *recipient, int kind, const char *category,
                   int weight, unsigned *tiers_now, const sp_policy_rule **rule);

#endif
