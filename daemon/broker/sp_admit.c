/* sp_admit.c — the broker's admission checks and routing decision. */
#include "sp_admit.h"

#include <stdio.h>
#include <string.h>

#include "sp_retention.h"
#include "sp_orgverify.h"
#include "sp_signal.h"
#include "sp_util.h"
#include "sp_wire.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

int sp_admit_signal(const sp_roster *r, const sp_policy *p, const char *proven_org,
                    const Seinpost__Signal *sig, const sp_admit_opts *o,
                    Seinpost__SignalHeader **hdr_out, char *why, size_t whylen)
{
	Seinpost__SignalHeader *hdr = NULL;
	const sp_org *sender;
	const sp_policy_category *cat;
	int rc;

	rc = sp_wire_check_signal(sig, &hdr, why, whylen);
	if (rc != SP_OK)
		return rc;
	if (strcmp(hdr->sender, proven_org) != 0) {
		WHY("header names sender '%s' but the connection is authenticated as '%s'",
		    hdr->sender, proven_org);
		rc = SP_ESENDER;
		goto out;
	}
	sender = sp_roster_find(r, hdr->sender);
	if (!sender) {
		WHY("sender '%s' is not on the roster", hdr->sender);
		rc = SP_EORG;
		goto out;
	}
	if (strcmp(sender->role, "privacy-officer") == 0) {
		WHY("organisations of role privacy-officer do not send signals");
		rc = SP_EROLE;
		goto out;
	}
	if (hdr->resident_report && !sp_policy_resident_reports_allowed(p, sender->role)) {
		WHY("role %s may not send anonymous resident reports (the policy's resident_reports)", sender->role);
		rc = SP_EROLE;
		goto out;
	}
	if (hdr->subject_kind == SEINPOST__SUBJECT_KIND__SUBJECT_NONE && sig->n_grants > 0) {
		WHY("a report without a subject is counted, never shared: it carries no grants");
		rc = SP_EPOLICY;
		goto out;
	}
	/* Issue 13: the broker routes and matches on P, which the sender gives
	 * beside the header (sp_wire checked it against the commitment). */
	if (hdr->subject_kind != SEINPOST__SUBJECT_KIND__SUBJECT_NONE && hdr->pseudonym.len != 32) {
		WHY("the subject's pseudonym is missing beside the header (subject_pseudonym)");
		rc = SP_EMALFORMED;
		goto out;
	}
	rc = o->sig_verified ? SP_OK : sp_org_verify_signal(sender, sig, hdr, o->now_s);
	if (rc != SP_OK) {
		WHY("signature or tier digest does not verify against the sender's key");
		rc = SP_ESIG;
		goto out;
	}
	/* A roll-out: the previous version stays good for the grace period, so
	 * what nodes stored before it still arrives (grants are checked against
	 * the current policy below). */
	if (memcmp(hdr->policy_hash.data, sp_policy_hash(p), SP_POLICY_HASH_BYTES) != 0 &&
	    !(o->prev_policy_hash && o->now_s < o->prev_policy_until_s &&
	      memcmp(hdr->policy_hash.data, o->prev_policy_hash, SP_POLICY_HASH_BYTES) == 0)) {
		char have[65];
		WHY("signal was made under another policy version; broker holds %.16s%s",
		    sp_hex(sp_policy_hash(p), 8, have),
		    o->prev_policy_hash && o->now_s >= o->prev_policy_until_s &&
		    memcmp(hdr->policy_hash.data, o->prev_policy_hash, SP_POLICY_HASH_BYTES) == 0
		        ? " (the previous version's grace period has ended)" : "");
		rc = SP_EPOLICYVER;
		goto out;
	}
	cat = sp_policy_category_find(p, hdr->category);
	if (!cat) {
		WHY("unknown category '%s'", hdr->category);
		rc = SP_ECATEGORY;
		goto out;
	}
	uint32_t max_age = o->max_age_s ? o->max_age_s : o->max_skew_s;
	if (hdr->created > o->now_s + o->max_skew_s) {
		WHY("created time is further in the future than the allowed clock skew of %us",
		    o->max_skew_s);
		rc = SP_ECLOCK;
		goto out;
	}
	if (hdr->created + max_age < o->now_s) {
		WHY("created time is further in the past than the allowed age of %us (old or replayed signal)",
		    max_age);
		rc = SP_ECLOCK;
		goto out;
	}
	if (hdr->expires <= o->now_s) {
		WHY("signal has already expired");
		rc = SP_EEXPIRED;
		goto out;
	}
	/* Expiry follows the policy, not the sender's wish. */
	if ((rc = sp_retention_check(p, hdr, why, whylen)) != SP_OK)
		goto out;
	for (size_t i = 0; i < sig->n_grants; i++) {
		const Seinpost__Grant *g = sig->grants[i];
		const sp_org *to = sp_roster_find(r, g->recipient);
		if (!to) {
			WHY("grant %zu names '%s', not on the roster", i, g->recipient);
			rc = SP_EORG;
			goto out;
		}
		if (strcmp(to->id, hdr->sender) == 0) {
			WHY("grant %zu is to the sender itself", i);
			rc = SP_EPOLICY;
			goto out;
		}
		for (size_t j = 0; j < i; j++) {
			if (sig->grants[j]->tier == g->tier &&
			    strcmp(sig->grants[j]->recipient, g->recipient) == 0) {
				WHY("grant %zu duplicates grant %zu", i, j);
				rc = SP_EMALFORMED;
				goto out;
			}
		}
		if (sp_policy_allows(p, (int)hdr->subject_kind, hdr->category, (int)hdr->weight, to->role,
		                     (int)g->tier, (int)g->mode, NULL) != SP_OK) {
			WHY("grant of tier %s %s to '%s' (role %s) exceeds the policy for %s weight %u",
			    sp_tier_name((int)g->tier), sp_when_name((int)g->mode), to->id, to->role,
			    hdr->category, hdr->weight);
			rc = SP_EPOLICY;
			goto out;
		}
	}
	if (hdr_out) {
		*hdr_out = hdr;
		hdr = NULL;
	}
	rc = SP_OK;
out:
	if (hdr)
		seinpost__signal_header__free_unpacked(hdr, NULL);
	return rc;
}

int sp_admit_route(const sp_policy *p, const sp_org *recipient, int kind, const char *category,
                   int weight, unsigned *tiers_now, const sp_policy_rule **rule)
{
	sp_entitlement e;
	*tiers_now = 0;
	*rule = NULL;
	if (strcmp(recipient->role, "privacy-officer") == 0)
		return 0;
	sp_policy_entitlement(p, kind, category, weight, recipient->role, &e);
	for (int t = 0; t < SP_TIER_COUNT; t++) {
		if (e.when[t] != SP_WHEN_IMMEDIATELY)
			continue;
		*tiers_now |= 1u << t;
		if (!*rule)
			*rule = e.rule[t];
	}
	return *tiers_now != 0;
}
