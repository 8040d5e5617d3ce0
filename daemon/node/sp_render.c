/* sp_render.c — open, audit and describe a received signal (sp_render.h). */
#include "sp_render.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_orgverify.h"
#include "sp_retention.h"
#include "sp_audit.h"
#include "sp_kh.h"
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

/* Tier text is end-to-end encrypted, so no node or broker on the way could
 * check it: the recipient checks it here, with the same definition as every
 * entry point (sp_text_problem), before anything shows or hands it over. */
static void withhold_bad_text(sp_render *r)
{
	const struct {
		const char *name;
		char **v;
		size_t max;
		int newline;
	} f[] = {
		{ "contact", &r->op.contact, SP_MAX_CONTACT, 0 },
		{ "summary", &r->op.summary, SP_MAX_SUMMARY, 1 },
		{ "bsn", &r->op.bsn, 64, 0 },
		{ "name", &r->op.name, SP_MAX_NAME, 0 },
		{ "birthdate", &r->op.birthdate, 64, 0 },
		{ "address", &r->op.address, SP_MAX_ADDRESS, 0 },
		{ "narrative", &r->op.narrative, SP_MAX_NARRATIVE, 1 },
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		const char *why = sp_text_problem(*f[i].v, f[i].max, f[i].newline);
		if (!why)
			continue;
		if (!r->withheld_why)
			r->withheld_why = why;
		if (r->withheld[0])
			strncat(r->withheld, ",", sizeof r->withheld - strlen(r->withheld) - 1);
		strncat(r->withheld, f[i].name, sizeof r->withheld - strlen(r->withheld) - 1);
		sodium_memzero(*f[i].v, strlen(*f[i].v));
		free(*f[i].v);
		*f[i].v = NULL;
	}
}

json_t *sp_render_tiers_json(unsigned mask)
{
	json_t *a = json_array();
	for (int t = 0; a && t < SP_TIER_COUNT; t++)
		if (mask & (1u << t))
			json_array_append_new(a, json_string(sp_tier_name(t)));
	return a;
}

int sp_render_open(const void *v, size_t vl, const sp_roster *roster, const sp_policy *policy,
                   uint64_t now_s, const char *org, sp_kh *kh,
                   sp_render *out, char *why, size_t whylen)
{
	const sp_org *sender;
	char w[256];
	int rc;

	memset(out, 0, sizeof *out);
	out->entry = seinpost__inbox_entry__unpack(NULL, vl, v);
	if (!out->entry || !out->entry->delivery ||
	    sp_wire_delivery_header(out->entry->delivery, &out->h, w, sizeof w) != SP_OK) {
		snprintf(why, whylen, "stored signal is corrupt");
		return SP_ECORRUPT;
	}
	if (out->entry->withdrawn) {
		/* a tombstone (sp_withdrawn.h): nothing of it is opened again */
		char when[32];
		snprintf(why, whylen, "signal withdrawn by its sender (%s) at %s: its content is deleted here and it "
		         "may not be used", out->h->sender, sp_iso_time(out->entry->withdrawn, when, sizeof when));
		return SP_EREVOKED;
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
	rc = sp_signal_open_kh(out->entry->delivery->signal, org, kh, &out->op);
	if (rc != SP_OK) {
		snprintf(why, whylen, "cannot decrypt: %s", sp_strerror(rc));
		return rc;
	}
	out->tiers = out->op.tiers | 1u;
	withhold_bad_text(out);
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
                    sp_kh *kh)
{
	const Seinpost__SignalHeader *h = r->h;
	sp_audit_entry a = {
		.event = SEINPOST__AUDIT_EVENT__AUDIT_READ,
		.actor = org,
		.user = user,
		.pseudonym = h->pseudonym.len == 32 ? h->pseudonym.data : NULL,
		.signal_id = h->id.data,
		.category = h->category,
		.weight = h->weight,
		.tiers = r->tiers,
		.policy_hash = h->policy_hash.data,
	};
	int rc = sp_audit_append(t, &a, NULL);
	/* ...and, signed by this node, queued for the broker's log. */
	if (rc == SP_OK)
		rc = sp_reads_queue_kh(t, kh, org, user, h->id.data, r->tiers);
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
	json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:i,s:i,s:i,s:s}", "id",
	                      ref->id.len == SP_ID_BYTES ? sp_hex(ref->id.data, SP_ID_BYTES, hex) : "",
	                      "rule", ref->rule_id, "fired_at", sp_iso_time(ref->fired * 1000u, when, sizeof when),
	                      "signals", ids, "hidden", (int)ref->hidden, "orgs", (int)ref->orgs,
	                      "weight_sum", (int)ref->weight_sum, "basis", ref->basis);
	field(o, "table", ref->table); /* the [table] it sits at (sp_tables.h) */
	return o;
}

json_t *sp_render_json(const sp_render *r, const char *ref)
{
	const Seinpost__SignalHeader *h = r->h;
	const Seinpost__Delivery *d = r->entry->delivery;
	char idhex[SP_ID_HEX], created[32], received[32];
	json_t *o, *rules;

	o = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:o,s:s}", "id", sp_hex(h->id.data, SP_ID_BYTES, idhex),
	              "from", h->sender, "category", h->category, "weight", (int)h->weight,
	              "created_at", sp_iso_time(h->created * 1000u, created, sizeof created),
	              "received_at", sp_iso_time(r->entry->received, received, sizeof received),
	              "tiers", sp_render_tiers_json(r->tiers), "signature", "verified");
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
	if (r->withheld[0]) {
		json_t *w = json_array();
		char names[sizeof r->withheld], *save = NULL;
		snprintf(names, sizeof names, "%s", r->withheld);
		for (char *n = strtok_r(names, ",", &save); w && n; n = strtok_r(NULL, ",", &save))
			json_array_append_new(w, json_string(n));
		json_object_set_new(o, "withheld", w);
	}
	return o;
}
