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
#include "sp_referral_status.h"
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
	case SEINPOST__AUDIT_EVENT__AUDIT_REFERRAL_STATUS:
		*party = r->actor; /* the coordinator; the signals come from the referral */
		return SP_FEEDBACK_REFERRAL;
	case SEINPOST__AUDIT_EVENT__AUDIT_REFERRAL_MOVED:
		*party = r->actor;
		return SP_FEEDBACK_TABLE;
	default:
		return -1;
	}
}

/* The answer being built: items borrow strings from the records kept in
 * recs until it is packed. */
struct answer {
	Seinpost__FeedbackItem *items;
	Seinpost__FeedbackItem **ptrs;
	char (*status)[64];
	uint8_t (*ids)[16];
	size_t n, cap;
};

static int answer_add(struct answer *a, uint64_t seq, const uint8_t id[16], int ev, const char *role,
                      uint64_t time, const char *status)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 64;
		void *x = realloc(a->items, nc * sizeof *a->items), *y, *z, *w;
		if (!x)
			return SP_ENOMEM;
		a->items = x;
		if (!(y = realloc(a->ptrs, nc * sizeof *a->ptrs)))
			return SP_ENOMEM;
		a->ptrs = y;
		if (!(z = realloc(a->status, nc * sizeof *a->status)))
			return SP_ENOMEM;
		a->status = z;
		if (!(w = realloc(a->ids, nc * sizeof *a->ids)))
			return SP_ENOMEM;
		a->ids = w;
		a->cap = nc;
	}
	Seinpost__FeedbackItem *it = &a->items[a->n];
	seinpost__feedback_item__init(it);
	memcpy(a->ids[a->n], id, 16);
	snprintf(a->status[a->n], sizeof a->status[a->n], "%s", status ? status : "");
	it->seq = seq;
	it->event = (char *)sp_policy_feedback_name(ev);
	it->role = (char *)role;
	it->time = time;
	a->n++;
	return SP_OK;
}

struct status_walk {
	sp_txn *t;
	struct answer *a;
	struct sender_cache *cache;
	const char *org, *role;
	const Seinpost__AuditRecord *r;
	int event;
	char status[64];
};

static int status_signal(void *ctx, const uint8_t id[16])
{
	struct status_walk *w = ctx;
	const char *sender;
	int rc = sender_of(w->t, id, w->cache, &sender);
	if (rc != SP_OK)
		return rc;
	if (!sender || strcmp(sender, w->org) != 0)
		return 0;
	return answer_add(w->a, w->r->seq, id, w->event, w->role, w->r->time, w->status);
}

int sp_feedback_serve(sp_txn *t, const sp_roster *roster, const sp_policy *policy, const char *org,
                      const Seinpost__FeedbackRequest *q, uint8_t **reply, size_t *len)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__FeedbackBatch b = SEINPOST__FEEDBACK_BATCH__INIT;
	Seinpost__AuditRecord **recs = NULL; /* item strings point into these */
	struct answer a = { 0 };
	struct sender_cache cache = { 0 };
	unsigned mask = sp_policy_feedback_mask(policy);
	uint64_t size = 0, seq, last;
	size_t nrecs = 0;
	int rc;

	*reply = NULL;
	*len = 0;
	if ((rc = sp_audit_size(t, &size)) != SP_OK)
		return rc;
	last = q->after_seq >= size ? size : q->after_seq;
	if (size - last > SP_FEEDBACK_SCAN_MAX)
		size = last + SP_FEEDBACK_SCAN_MAX, b.more = 1;
	recs = calloc(SP_FEEDBACK_SCAN_MAX, sizeof *recs);
	if (!recs)
		return SP_ENOMEM;
	for (seq = last + 1; seq <= size && rc == SP_OK; seq++) {
		Seinpost__AuditRecord *r = NULL;
		const char *party, *sender = NULL;
		const sp_org *o;
		int ev;
		if (a.n >= SP_FEEDBACK_ITEMS_MAX) {
			/* a full answer: the rest next time, from here */
			size = seq - 1;
			b.more = 1;
			break;
		}
		rc = sp_audit_get(t, seq, &r);
		if (rc == SP_ENOTFOUND || rc == SP_ECORRUPT) {
			rc = SP_OK; /* verify and status report a damaged log; go on */
			continue;
		}
		if (rc != SP_OK)
			break;
		ev = classify(policy, r, &party);
		o = party ? sp_roster_find(roster, party) : NULL;
		if (ev < 0 || !(mask & (1u << ev)) || !party || strcmp(party, org) == 0) {
			seinpost__audit_record__free_unpacked(r, NULL);
			continue;
		}
		recs[nrecs++] = r; /* kept: the items borrow from it */
		if (ev == SP_FEEDBACK_REFERRAL || ev == SP_FEEDBACK_TABLE) {
			/* one record, every signal of the referral; the status word
			 * only (the reason stays with the coordinator and the FG) */
			struct status_walk w = { t, &a, &cache, org, o ? o->role : "", r, ev, "" };
			size_t n = strcspn(r->reason, ": ");
			snprintf(w.status, sizeof w.status, "%.*s", (int)(n < sizeof w.status ? n : sizeof w.status - 1),
			         r->reason);
			if (ev == SP_FEEDBACK_TABLE) {
				/* "up lwo -> mot (stops ...): reason" -> "up to mot" */
				const char *to = strstr(r->reason, "-> ");
				size_t m = to ? strcspn(to + 3, " :") : 0;
				snprintf(w.status, sizeof w.status, "%.*s to %.*s", (int)(n < 8 ? n : 8), r->reason,
				         (int)(m < 48 ? m : 48), to ? to + 3 : "?");
			}
			if (r->pseudonym.len == 32 && (rc = sp_referral_signals(t, r->pseudonym.data, status_signal, &w)) ==
			                                  SP_ENOTFOUND)
				rc = SP_OK;
			continue;
		}
		if (r->signal_id.len != 16 || (rc = sender_of(t, r->signal_id.data, &cache, &sender)) != SP_OK ||
		    !sender || strcmp(sender, org) != 0)
			continue;
		rc = answer_add(&a, seq, r->signal_id.data, ev, o ? o->role : "", r->time, NULL);
	}
	if (rc == SP_OK) {
		for (size_t i = 0; i < a.n; i++) {
			a.items[i].signal_id = (ProtobufCBinaryData){ 16, a.ids[i] };
			a.items[i].status = a.status[i];
			a.ptrs[i] = &a.items[i];
		}
		b.items = a.ptrs;
		b.n_items = a.n;
		b.next_seq = size;
		f.version = SP_WIRE_VERSION;
		f.body_case = SEINPOST__FRAME__BODY_FEEDBACK;
		f.feedback = &b;
		rc = sp_wire_pack(&f.base, reply, len);
	}
	for (size_t i = 0; i < nrecs; i++)
		seinpost__audit_record__free_unpacked(recs[i], NULL);
	free(recs);
	free(a.items);
	free(a.ptrs);
	free(a.status);
	free(a.ids);
	return rc;
}
