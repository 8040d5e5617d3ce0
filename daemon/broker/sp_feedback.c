/*
 * sp_feedback.c — feedback to the signaller, broker side (sp_feedback.h).
 *
 * Derived from the audit log rather than kept as a second record of the
 * same facts: the log already holds every delivery, read, match and
 * release, in order, with a sequence number that serves as the node's
 * cursor. A record names the signal; the signal's sender comes from the
 * stored header. The walk is bounded per request (SP_FEEDBACK_SCAN_MAX), so
 * a node that was away long catches up in steps without stalling the loop.
 */
#include "sp_feedback.h"

#include <stdlib.h>
#include <string.h>

#include "sp_audit.h"
#include "sp_wire.h"

struct sender_cache {
	uint8_t id[16];
	char sender[SP_ID_MAX];
	int have;
	int known; /* the signal is still stored */
};

/* Who sent signal id (cached: consecutive records are often about one). */
static int sender_of(sp_txn *t, const uint8_t id[16], struct sender_cache *c, const char **out)
{
	const void *v;
	size_t vl;
	Seinpost__SignalHeader *h = NULL;
	int rc;
	*out = NULL;
	if (c->have && memcmp(c->id, id, 16) == 0) {
		*out = c->known ? c->sender : NULL;
		return SP_OK;
	}
	memcpy(c->id, id, 16);
	c->have = 1;
	c->known = 0;
	rc = sp_store_get(t, SP_DB_SIGNALS, id, 16, &v, &vl);
	if (rc == SP_ENOTFOUND)
		return SP_OK; /* expired: nothing more to tell about it */
	if (rc != SP_OK)
		return rc;
	if (sp_wire_stored_signal_header(v, vl, &h) != SP_OK)
		return SP_OK; /* a damaged entry tells nothing; the status checks find it */
	snprintf(c->sender, sizeof c->sender, "%s", h->sender);
	seinpost__signal_header__free_unpacked(h, NULL);
	c->known = 1;
	*out = c->sender;
	return SP_OK;
}

static int is_escalation_rule(const sp_policy *p, const char *rule)
{
	for (size_t i = 0; rule[0] && i < sp_policy_escalation_count(p); i++)
		if (strcmp(sp_policy_escalation_at(p, i)->id, rule) == 0)
			return 1;
	return 0;
}

/* The feedback event of a record and the org whose role is told, or -1. */
static int classify(const sp_policy *p, const Seinpost__AuditRecord *r, const char **party)
{
	*party = NULL;
	switch (r->event) {
	case SEINPOST__AUDIT_EVENT__AUDIT_DELIVERED:
		*party = r->recipient;
		return SP_FEEDBACK_DELIVERED;
	case SEINPOST__AUDIT_EVENT__AUDIT_READ:
		*party = r->actor;
		return SP_FEEDBACK_OPENED;
	case SEINPOST__AUDIT_EVENT__AUDIT_MATCHED:
		*party = r->recipient;
		return SP_FEEDBACK_MATCHED;
	case SEINPOST__AUDIT_EVENT__AUDIT_RELEASED:
		/* A release under an escalation rule: the signal joined a referral. */
		if (!is_escalation_rule(p, r->rule_id))
			return -1;
		*party = r->recipient;
		return SP_FEEDBACK_ESCALATED;
	default:
		return -1;
	}
}

int sp_feedback_serve(sp_txn *t, const sp_roster *roster, const sp_policy *policy, const char *org,
                      const Seinpost__FeedbackRequest *q, uint8_t **reply, size_t *len)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__FeedbackBatch b = SEINPOST__FEEDBACK_BATCH__INIT;
	Seinpost__FeedbackItem *items = NULL, **ptrs = NULL;
	Seinpost__AuditRecord **recs = NULL; /* item strings point into these */
	struct sender_cache cache = { 0 };
	unsigned mask = sp_policy_feedback_mask(policy);
	uint64_t size = 0, seq, last;
	size_t n = 0;
	int rc;

	*reply = NULL;
	*len = 0;
	if ((rc = sp_audit_size(t, &size)) != SP_OK)
		return rc;
	last = q->after_seq >= size ? size : q->after_seq;
	if (size - last > SP_FEEDBACK_SCAN_MAX)
		size = last + SP_FEEDBACK_SCAN_MAX, b.more = 1;
	items = calloc(SP_FEEDBACK_SCAN_MAX, sizeof *items);
	ptrs = calloc(SP_FEEDBACK_SCAN_MAX, sizeof *ptrs);
	recs = calloc(SP_FEEDBACK_SCAN_MAX, sizeof *recs);
	if (!items || !ptrs || !recs) {
		rc = SP_ENOMEM;
		goto out;
	}
	for (seq = last + 1; seq <= size; seq++) {
		Seinpost__AuditRecord *r = NULL;
		const char *party, *sender;
		const sp_org *o;
		int ev;
		rc = sp_audit_get(t, seq, &r);
		if (rc == SP_ENOTFOUND || rc == SP_ECORRUPT) {
			rc = SP_OK; /* verify and status report a damaged log; go on */
			continue;
		}
		if (rc != SP_OK)
			break;
		ev = classify(policy, r, &party);
		if (ev < 0 || !(mask & (1u << ev)) || r->signal_id.len != 16 ||
		    (rc = sender_of(t, r->signal_id.data, &cache, &sender)) != SP_OK || !sender ||
		    strcmp(sender, org) != 0 || !party || strcmp(party, org) == 0) {
			seinpost__audit_record__free_unpacked(r, NULL);
			if (rc != SP_OK)
				break;
			continue;
		}
		o = sp_roster_find(roster, party);
		seinpost__feedback_item__init(&items[n]);
		items[n].seq = seq;
		items[n].signal_id = r->signal_id;
		items[n].event = (char *)sp_policy_feedback_name(ev);
		items[n].role = o ? (char *)o->role : "";
		items[n].time = r->time;
		items[n].status = "";
		ptrs[n] = &items[n];
		recs[n] = r;
		n++;
	}
	if (rc == SP_OK) {
		b.items = ptrs;
		b.n_items = n;
		b.next_seq = size;
		f.version = SP_WIRE_VERSION;
		f.body_case = SEINPOST__FRAME__BODY_FEEDBACK;
		f.feedback = &b;
		rc = sp_wire_pack(&f.base, reply, len);
	}
out:
	for (size_t i = 0; i < n; i++)
		seinpost__audit_record__free_unpacked(recs[i], NULL);
	free(recs);
	free(items);
	free(ptrs);
	return rc;
}
