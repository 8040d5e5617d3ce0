/*
 * sp_referral_status.c — a referral's status set by its coordinator
 * (sp_referral_status.h). A refusal changes nothing and is answered with
 * its reason; an accepted change is audited in the same transaction.
 */
#include "sp_referral_status.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_audit.h"
#include "sp_escalate.h"
#include "sp_log.h"
#include "sp_release.h"
#include "sp_tables.h"
#include "sp_util.h"
#include "sp_wire.h"

#define C "referral"

static const char *const statuses[] = {
	"accepted", "in-progress", "intervention", "declined", "scaled-down", "closed",
};

int sp_referral_status_known(const char *status)
{
	for (size_t i = 0; status && i < sizeof statuses / sizeof statuses[0]; i++)
		if (strcmp(status, statuses[i]) == 0)
			return 1;
	return 0;
}

/* A run of 8 or more digits looks like a BSN, a phone or a file number:
 * personal data has no place in a reason the broker keeps. */
static int has_digit_run(const char *s)
{
	int run = 0;
	for (; *s; s++) {
		run = isdigit((unsigned char)*s) ? run + 1 : 0;
		if (run >= 8)
			return 1;
	}
	return 0;
}

int sp_referral_reason_check(const char *reason, const char *user, char *why, size_t whylen)
{
	if (!reason[0] || strlen(reason) > SP_REFERRAL_REASON_MAX || !sp_text_ok(reason, SP_REFERRAL_REASON_MAX, 0)) {
		snprintf(why, whylen, "--reason is required: one line of at most %d printable characters",
		         SP_REFERRAL_REASON_MAX);
		return SP_EINVAL;
	}
	if (has_digit_run(reason)) {
		snprintf(why, whylen, "--reason must not hold a number of 8 or more digits (no BSN, phone or "
		                      "file numbers: the reason is kept in the audit log)");
		return SP_EINVAL;
	}
	if (user[0] && !sp_text_ok(user, SP_ID_MAX, 0)) {
		snprintf(why, whylen, "user name not printable");
		return SP_EINVAL;
	}
	return SP_OK;
}

int sp_referral_update_check(const Seinpost__ReferralUpdate *u, char *why, size_t whylen)
{
	if (!u || u->id.len != 16 || u->referral_id.len != 16) {
		snprintf(why, whylen, "referral update: ids must be 16 bytes");
		return SP_EMALFORMED;
	}
	if (!sp_referral_status_known(u->status)) {
		snprintf(why, whylen, "unknown status: use accepted, in-progress, intervention TYPE, declined, "
		                      "scaled-down or closed");
		return SP_EINVAL;
	}
	if (strcmp(u->status, "intervention") == 0 ? !u->intervention[0] || !sp_ident_ok(u->intervention)
	                                           : u->intervention[0] != '\0') {
		snprintf(why, whylen, "an intervention TYPE goes with status intervention, and only there");
		return SP_EINVAL;
	}
	return sp_referral_reason_check(u->reason, u->user, why, whylen);
}

int sp_referral_ack(const Seinpost__ReferralUpdate *u, int code, const char *msg, uint8_t **reply, size_t *len)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__ReferralUpdateAck a = SEINPOST__REFERRAL_UPDATE_ACK__INIT;
	a.id = u->id;
	a.code = code;
	a.message = (char *)msg;
	f.version = SP_WIRE_VERSION;
	f.body_case = SEINPOST__FRAME__BODY_REFERRAL_UPDATE_ACK;
	f.referral_update_ack = &a;
	return sp_wire_pack(&f.base, reply, len);
}

int sp_referral_status_apply(sp_txn *t, const sp_roster *roster, const sp_policy *policy, const char *org,
                             const Seinpost__ReferralUpdate *u, uint8_t **reply, size_t *len)
{
	Seinpost__Referral *r = NULL;
	const sp_policy_escalation *esc = NULL;
	const sp_org *o = sp_roster_find(roster, org);
	char why[256], reason[SP_REFERRAL_REASON_MAX + 96];
	int code, rc;

	*reply = NULL;
	*len = 0;
	if (u->table && u->table[0]) /* `referral move`: sp_tables.c */
		return sp_tables_move(t, roster, policy, org, u, reply, len);
	if ((code = sp_referral_update_check(u, why, sizeof why)) != SP_OK)
		goto refuse;
	rc = sp_escalate_referral_find(t, u->referral_id.data, &r);
	if (rc == SP_ENOTFOUND) {
		code = SP_ENOTFOUND;
		snprintf(why, sizeof why, "no open referral with that id (expired, or superseded)");
		goto refuse;
	}
	if (rc != SP_OK)
		return rc;
	for (size_t i = 0; i < sp_policy_escalation_count(policy); i++)
		if (strcmp(sp_policy_escalation_at(policy, i)->id, r->rule_id) == 0)
			esc = sp_policy_escalation_at(policy, i);
	if (!o || !esc || strcmp(o->role, esc->to_role) != 0) {
		code = SP_EROLE;
		snprintf(why, sizeof why, "only the coordinator of this referral (role %s) may set its status",
		         esc ? esc->to_role : "of its escalation rule");
		goto refuse;
	}
	if (strcmp(u->status, "intervention") == 0 && !sp_policy_intervention_known(policy, u->intervention)) {
		code = SP_EINVAL;
		snprintf(why, sizeof why, "intervention type not in the policy's list (%.160s)",
		         sp_policy_interventions(policy)[0] ? sp_policy_interventions(policy) : "the policy lists none");
		goto refuse;
	}
	if (sp_referral_ended(r)) {
		code = SP_EINVAL;
		snprintf(why, sizeof why, "the referral is %s: a new signal opens a new one", r->status);
		goto refuse;
	}
	/* Who, when, what and why, with the referral's rule and basis. */
	snprintf(reason, sizeof reason, "%s%s%s: %s", u->status, u->intervention[0] ? " " : "", u->intervention,
	         u->reason);
	sp_audit_entry a = {
		.event = SEINPOST__AUDIT_EVENT__AUDIT_REFERRAL_STATUS,
		.actor = org,
		.user = u->user,
		.pseudonym = r->pseudonym.data,
		.rule_id = r->rule_id,
		.legal_basis = r->basis,
		.reason = reason,
		.policy_hash = sp_policy_hash(policy),
	};
	/* Lend u's status to r for the write; r's own string (protobuf-c's
	 * allocation or its static empty string) goes back before r is freed. */
	char *own_status = r->status;
	r->status = (char *)u->status;
	r->status_time = sp_now_ms();
	rc = sp_escalate_referral_save(t, r);
	r->status = own_status;
	if (rc == SP_OK)
		rc = sp_audit_append(t, &a, NULL);
	char down[64] = "";
	if (rc == SP_OK && strcmp(u->status, "scaled-down") == 0)
		rc = sp_tables_on_scaled_down(t, roster, policy, org, u->user, r, u->reason, down, sizeof down);
	seinpost__referral__free_unpacked(r, NULL);
	if (rc != SP_OK)
		return rc;
	sp_log_event(LOG_INFO, C, org, NULL, "referral status set: %s", u->status);
	snprintf(why, sizeof why, "status %s recorded; the signallers are told%s%s%s", u->status,
	         down[0] ? "; moved down to table " : "", down, down[0] ? " (further releases stopped for roles no "
	         "longer at the table; grants already delivered cannot be recalled)" : "");
	return sp_referral_ack(u, SP_OK, why, reply, len);
refuse:
	if (r)
		seinpost__referral__free_unpacked(r, NULL);
	sp_log_event(LOG_NOTICE, C, org, NULL, "referral status refused: %s", sp_strerror(code));
	return sp_referral_ack(u, code, why, reply, len);
}

int sp_referral_signals(sp_txn *t, const uint8_t pseudonym[32], int (*fn)(void *ctx, const uint8_t id[16]),
                        void *ctx)
{
	Seinpost__Referral *r = NULL;
	int rc = sp_escalate_referral_load(t, pseudonym, &r);
	if (rc != SP_OK)
		return rc;
	if (r->id.len != 16) {
		seinpost__referral__free_unpacked(r, NULL);
		return SP_ECORRUPT;
	}
	rc = sp_release_escalated_foreach(t, pseudonym, r->id.data, fn, ctx);
	seinpost__referral__free_unpacked(r, NULL);
	return rc;
}
