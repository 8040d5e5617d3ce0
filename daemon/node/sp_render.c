/* sp_render.c — open, audit and describe a received signal (sp_render.h). */
#include "sp_render.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sp_orgverify.h"
#include "sp_retention.h"
#include "sp_audit.h"
#include "sp_reads.h"
#include "sp_util.h"
#include "sp_wire.h"

void sp_render_tiers(unsigned mask, char *out, size_t len)
{
	out[0] = '\0';
	for (int t = 0; t < SP_TIER_COUNT; t++) {
		if (!(mask & (1u << t)))
			continue;
		if (out[0])
			strncat(out, ",", len - strlen(out) - 1);
		strncat(out, sp_tier_name(t), len - strlen(out) - 1);
	}
}

int sp_render_open(const void *v, size_t vl, const sp_roster *roster, const sp_policy *policy,
                   uint64_t now_s, const char *org, const sp_keyring *kr,
                   sp_render *out, char *why, size_t whylen)
{
	const sp_org *sender;
	char w[256];
	int rc;

	memset(out, 0, sizeof *out);
	out->entry = seinpost__inbox_entry__unpack(NULL, vl, v);
	if (!out->entry || !out->entry->delivery ||
	    sp_wire_check_signal(out->entry->delivery->signal, &out->h, w, sizeof w) != SP_OK) {
		snprintf(why, whylen, "stored signal is corrupt");
		return SP_ECORRUPT;
	}
	sender = sp_roster_find(roster, out->h->sender);
	if (!sender || sp_org_verify_signal(sender, out->entry->delivery->signal, out->h, 0) != SP_OK) {
		snprintf(why, whylen, "the sender's signature does not verify; not opened");
		return SP_ESIG;
	}
	/* A referral extends retention (escalated), as in the node's sweep. */
	if (sp_retention_deadline(policy, out->h, out->entry->delivery->referral != NULL) <= now_s) {
		snprintf(why, whylen, "the signal is past its retention period; it may no longer be opened "
		         "and is deleted at the next retention sweep");
		return SP_EEXPIRED;
	}
	/* The current box key first, then those of earlier key generations:
	 * a delivery sealed before a rotation stays openable. */
	rc = SP_ENOGRANT;
	for (size_t i = 0; i < kr->n && rc != SP_OK; i++)
		if (kr->k[i]->has_box) {
			sp_opened_clear(&out->op);
			rc = sp_signal_open(out->entry->delivery->signal, org, kr->k[i]->box_pk, kr->k[i]->box_sk, &out->op);
		}
	if (rc != SP_OK) {
		snprintf(why, whylen, "cannot decrypt: %s", sp_strerror(rc));
		return rc;
	}
	out->tiers = out->op.tiers | 1u;
	return SP_OK;
}

void sp_render_clear(sp_render *r)
{
	sp_opened_clear(&r->op);
	if (r->h)
		seinpost__signal_header__free_unpacked(r->h, NULL);
	if (r->entry)
		seinpost__inbox_entry__free_unpacked(r->entry, NULL);
	memset(r, 0, sizeof *r);
}

int sp_render_audit(sp_txn *t, const sp_render *r, const char *org, const char *user,
                    const uint8_t sign_sk[64])
{
	const Seinpost__SignalHeader *h = r->h;
	sp_audit_entry a = {
		.event = SEINPOST__AUDIT_EVENT__AUDIT_READ,
		.actor = org,
		.user = user,
		.pseudonym = h->pseudonym.data,
		.signal_id = h->id.data,
		.category = h->category,
		.weight = h->weight,
		.tiers = r->tiers,
		.policy_hash = h->policy_hash.data,
	};
	int rc = sp_audit_append(t, &a, NULL);
	/* ...and, signed by this node, queued for the broker's log. */
	if (rc == SP_OK)
		rc = sp_reads_queue(t, sign_sk, org, user, h->id.data, r->tiers);
	return rc;
}

static void field(json_t *o, const char *k, const char *v)
{
	if (v && v[0])
		json_object_set_new(o, k, json_string(v));
}

json_t *sp_render_referral_json(const Seinpost__Referral *ref)
{
	char hex[SP_ID_HEX], when[32];
	json_t *ids = json_array();
	for (size_t i = 0; ids && i < ref->n_signal_ids; i++)
		if (ref->signal_ids[i].len == SP_ID_BYTES)
			json_array_append_new(ids, json_string(sp_hex(ref->signal_ids[i].data, SP_ID_BYTES, hex)));
	return json_pack("{s:s,s:s,s:s,s:o,s:i,s:i,s:i,s:s}", "id",
	                 ref->id.len == SP_ID_BYTES ? sp_hex(ref->id.data, SP_ID_BYTES, hex) : "",
	                 "rule", ref->rule_id, "fired", sp_iso_time(ref->fired * 1000u, when, sizeof when),
	                 "signals", ids, "hidden", (int)ref->hidden, "orgs", (int)ref->orgs,
	                 "weight_sum", (int)ref->weight_sum, "basis", ref->basis);
}

json_t *sp_render_json(const sp_render *r, const char *ref)
{
	const Seinpost__SignalHeader *h = r->h;
	const Seinpost__Delivery *d = r->entry->delivery;
	char idhex[SP_ID_HEX], tiers[64], created[32], received[32];
	json_t *o, *rules;

	sp_render_tiers(r->tiers, tiers, sizeof tiers);
	o = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:s}", "id", sp_hex(h->id.data, SP_ID_BYTES, idhex),
	              "from", h->sender, "category", h->category, "weight", (int)h->weight,
	              "created", sp_iso_time(h->created * 1000u, created, sizeof created),
	              "received", sp_iso_time(r->entry->received, received, sizeof received),
	              "tiers", tiers, "signature", "verified");
	rules = json_array();
	if (!o || !rules) {
		json_decref(o);
		json_decref(rules);
		return NULL;
	}
	for (size_t i = 0; i < d->n_rule_ids; i++)
		json_array_append_new(rules, json_string(d->rule_ids[i]));
	json_object_set_new(o, "rules", rules);
	if (d->referral)
		json_object_set_new(o, "referral", sp_render_referral_json(d->referral));
	field(o, "ref", ref);
	field(o, "contact", r->op.contact);
	field(o, "summary", r->op.summary);
	field(o, "bsn", r->op.bsn);
	field(o, "name", r->op.name);
	field(o, "birthdate", r->op.birthdate);
	field(o, "address", r->op.address);
	field(o, "narrative", r->op.narrative);
	return o;
}
