/* sp_submit.c — validate a submit request and build the signal (node side). */
#include "sp_submit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sp_bsn.h"
#include "sp_signal.h"
#include "sp_util.h"
#include "sp_wire.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

static int present(const char *s)
{
	return s && s[0];
}

int sp_submit_pseudonym(sp_kh *kh, int kind, const char *subject_id,
                        uint8_t out[32], uint32_t *epoch, char *why, size_t whylen)
{
	return sp_submit_pseudonym_for(kh, 2 /* OPRF_PURPOSE_SUBMIT */, kind, subject_id, out, epoch, why, whylen);
}

int sp_submit_pseudonym_for(sp_kh *kh, int purpose, int kind, const char *subject_id, uint8_t out[32],
                            uint32_t *epoch, char *why, size_t whylen)
{
	char norm[24];
	int rc;
	if (kind == 0)
		kind = SP_SUBJECT_PERSON;
	if (!present(subject_id)) {
		WHY("subject identifier is required (--bsn, --kvk or --bag)");
		return SP_EINVAL;
	}
	switch (kind) {
	case SP_SUBJECT_PERSON:
		rc = sp_bsn_normalise(subject_id, norm);
		if (rc != SP_OK) {
			WHY("invalid BSN: must be 9 digits (8 with a leading zero dropped) passing the elfproef");
			return SP_EBSN;
		}
		break;
	case SP_SUBJECT_BUSINESS:
		rc = sp_kvk_normalise(subject_id, norm);
		if (rc != SP_OK) {
			WHY("invalid KvK number: must be 8 digits");
			return SP_EINVAL;
		}
		break;
	case SP_SUBJECT_LOCATION:
		rc = sp_bag_normalise(subject_id, norm);
		if (rc != SP_OK) {
			WHY("invalid BAG id: must be 16 digits");
			return SP_EINVAL;
		}
		break;
	default:
		WHY("unknown subject kind %d", kind);
		return SP_EINVAL;
	}
	*epoch = sp_kh_epoch(kh);
	if (sp_kh_uses_oprf(kh)) {
		/* the pseudonymisation service: k·H(kind ‖ id), blinded on the way */
		const char *ids[1] = { norm };
		char svc[200] = "";
		rc = sp_kh_pseudonyms(kh, purpose, kind, ids, 1, out, svc, sizeof svc);
		sodium_memzero(norm, sizeof norm);
		if (rc != SP_OK)
			WHY("the pseudonymisation service gave no pseudonym: %s", svc[0] ? svc : sp_strerror(rc));
		return rc;
	}
	rc = sp_kh_pseudonym(kh, *epoch, kind, norm, out);
	sodium_memzero(norm, sizeof norm);
	if (rc != SP_OK)
		WHY("pseudonymisation failed: %s", sp_strerror(rc));
	return rc;
}

int sp_submit_build(const sp_submit_ctx *c, const Seinpost__SubmitRequest *req,
                    uint8_t **out, size_t *outlen, uint8_t id[16],
                    char *why, size_t whylen)
{
	const sp_policy_category *cat;
	sp_grant_spec *grants = NULL;
	size_t ngrants = 0;
	uint8_t pseudonym[32];
	uint32_t epoch = 0;
	char norm[24] = "";
	int kind = req->subject_kind ? (int)req->subject_kind : SP_SUBJECT_PERSON;
	int weight, rc = SP_OK;

	*out = NULL;
	if (!present(req->category)) {
		WHY("category is required");
		return SP_ECATEGORY;
	}
	cat = sp_policy_category_find(c->policy, req->category);
	if (!cat) {
		WHY("unknown category '%s': not in the sharing policy (see `seinpost policy check`)",
		    sp_ident_ok(req->category) ? req->category : "?");
		return SP_ECATEGORY;
	}
	weight = req->weight ? (int)req->weight : cat->default_weight;
	if (weight < 1 || weight > 3) {
		WHY("weight %u out of range: must be 1 (low), 2 or 3 (high)", req->weight);
		return SP_EWEIGHT;
	}
	if (present(req->birthdate) && sp_date_check(req->birthdate) != SP_OK) {
		WHY("invalid birth date: expected YYYY-MM-DD, a real date in the past");
		return SP_EDATE;
	}
	if (req->resident_report) {
		/* Meld Misdaad Anoniem and conversations with residents: about a
		 * place or a business, or about nothing in particular (kind none:
		 * counted in the figures only). Never about a person. */
		const sp_org *self = sp_roster_find(c->roster, c->org);
		if (!self || !sp_policy_resident_reports_allowed(c->policy, self->role)) {
			WHY("this organisation's role may not enter anonymous resident reports "
			    "(the policy's resident_reports; default: the municipality)");
			return SP_EPERM;
		}
		if (!present(req->subject_id))
			kind = SP_SUBJECT_NONE;
		else if (kind == SP_SUBJECT_PERSON) {
			WHY("an anonymous resident report is never about a person: give --bag, --kvk or no subject");
			return SP_EINVAL;
		}
		if (present(req->name) || present(req->birthdate)) {
			WHY("an anonymous resident report names no person: leave out name and birth date");
			return SP_EINVAL;
		}
	}
	if (kind == SP_SUBJECT_PERSON && sp_bsn_normalise(req->subject_id, norm) != SP_OK) {
		WHY("invalid BSN: must be 9 digits (8 with a leading zero dropped) passing the elfproef");
		return SP_EBSN;
	}
	if (kind != SP_SUBJECT_NONE) {
		rc = sp_submit_pseudonym(c->kh, kind, req->subject_id, pseudonym, &epoch, why, whylen);
		if (rc != SP_OK)
			goto out;
	}
	rc = sp_policy_grants_for(c->policy, c->roster, c->org, kind, cat->id, weight, &grants, &ngrants);
	if (rc != SP_OK) {
		WHY("computing grants failed: %s", sp_strerror(rc));
		goto out;
	}
	{
		sp_signal_meta m = {
			.sender = c->org,
			.subject_kind = kind,
			.pseudonym = kind == SP_SUBJECT_NONE ? NULL : pseudonym,
			.pseudonym_epoch = epoch,
			.resident_report = req->resident_report,
			.category = cat->id,
			.weight = (uint32_t)weight,
			.created = c->now_s,
			.expires = c->now_s + sp_policy_retention_s(c->policy, cat->id, weight, 0),
			.policy_hash = sp_policy_hash(c->policy),
			.id = c->id,
		};
		sp_tier_plain plain = {
			.contact = req->contact,
			.summary = req->summary,
			/* the full tier names the subject; for persons the normalised BSN */
			.bsn = kind == SP_SUBJECT_PERSON ? norm : req->subject_id,
			.name = req->name,
			.birthdate = req->birthdate,
			.address = req->address,
			.narrative = req->narrative,
		};
		rc = sp_signal_seal_kh(&m, &plain, grants, ngrants, c->kh, out, outlen, id);
		if (rc != SP_OK)
			WHY("sealing the signal failed: %s", sp_strerror(rc));
	}
out:
	sodium_memzero(norm, sizeof norm);
	free(grants);
	return rc;
}
