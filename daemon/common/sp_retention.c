/* sp_retention.c — expiry and crypto-shredding at broker and nodes. */
#include "sp_retention.h"
#include "sp_tables.h"
#include "sp_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_audit.h"
#include "sp_log.h"
#include "sp_feedback_keep.h"
#include "sp_release.h"
#include "sp_translate.h"
#include "sp_util.h"
#include "sp_wire.h"

#define C "retention"
#define SWEEP_MAX 256 /* per call: keeps one transaction short */
/* Entries looked at per call and table. The sweeps run once a second in the
 * daemons' only thread: a full scan decoded every stored signal each time
 * (tens of ms with tens of thousands held, seconds with millions), stalling
 * everything else. Now each call continues where the last stopped and
 * wraps; a table smaller than this is still scanned whole every call. The
 * budget grows with the table so that one full pass takes at most
 * SCAN_PASS_S calls (seconds): an expiry is acted on at most that late,
 * whatever the size, at the cost of a longer slice for very large stores
 * (1M entries: ~8,300 per second). Opening an expired signal is refused
 * regardless (the deadline is checked at read time). */
#define SCAN_BUDGET 256
#define SCAN_PASS_S 120

int sp_retention_check(const sp_policy *p, const Seinpost__SignalHeader *h, char *why, size_t whylen)
{
	uint64_t keep = sp_policy_retention_s(p, h->category, (int)h->weight, 0);
	if (!keep || h->expires < h->created || h->expires - h->created > keep) {
		snprintf(why, whylen, "expiry exceeds the policy's retention of %llu seconds for %s weight %u",
		         (unsigned long long)keep, h->category, h->weight);
		return SP_EPOLICY;
	}
	return SP_OK;
}

uint64_t sp_retention_deadline(const sp_policy *p, const Seinpost__SignalHeader *h, int escalated)
{
	uint64_t d = h->expires;
	if (escalated) {
		uint64_t keep = sp_policy_retention_s(p, h->category, (int)h->weight, 1);
		if (keep && h->created + keep > d)
			d = h->created + keep;
	}
	return d;
}

struct victim {
	uint8_t key[SP_ID_MAX + 64]; /* up to pseudonym || org (involvements), plus one byte (resume_after) */
	size_t klen;
};

struct scan {
	const sp_policy *p;
	uint64_t now;
	sp_txn *t;
	struct victim v[SWEEP_MAX];
	size_t n;
	int db;
	size_t seen;          /* entries looked at in this call */
	size_t budget;        /* entries to look at in this call */
	struct victim last;   /* the last one */
	const struct victim *stop; /* wrapped pass: stop at this key */
};

/* Where the next call continues, per table; klen 0 = from the start. One
 * store per process, so per-process state is enough (another store merely
 * starts its cycle elsewhere). */
static struct victim resume[SP_DB_COUNT];

static int key_cmp(const void *a, size_t al, const void *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);
	return c ? c : (al > bl) - (al < bl);
}

static int expired_header(struct scan *s, const Seinpost__Signal *sig, int escalated_known, int escalated)
{
	Seinpost__SignalHeader *h;
	int gone;
	if (!sig)
		return 0;
	h = sp_wire_header_of(sig, NULL); /* P filled in (sp_wire.h): the broker's copy */
	if (h && sp_translate_header(h) != SP_OK) /* the current key epoch's, as the stores */
		h = (seinpost__signal_header__free_unpacked(h, NULL), NULL);
	if (!h)
		return 0;
	if (!escalated_known && h->pseudonym.len == 32 && h->id.len == 16)
		escalated = sp_release_is_escalated(s->t, h->pseudonym.data, h->id.data);
	gone = sp_retention_deadline(s->p, h, escalated) <= s->now;
	seinpost__signal_header__free_unpacked(h, NULL);
	return gone;
}

static int scan_visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct scan *s = ctx;
	int gone = 0;
	if (s->stop && key_cmp(k, kl, s->stop->key, s->stop->klen) >= 0)
		return 1; /* wrapped round to where this call began */
	if (kl >= sizeof s->v[0].key)
		return 0;
	s->seen++;
	memcpy(s->last.key, k, kl);
	s->last.klen = kl;
	if (s->db == SP_DB_SIGNALS) {
		Seinpost__BrokerSignal *b = seinpost__broker_signal__unpack(NULL, vl, v);
		gone = b && expired_header(s, b->signal, 0, 0);
		if (b)
			seinpost__broker_signal__free_unpacked(b, NULL);
	} else if (s->db == SP_DB_INBOX) {
		Seinpost__InboxEntry *e = seinpost__inbox_entry__unpack(NULL, vl, v);
		gone = e && e->delivery && expired_header(s, e->delivery->signal, 1, e->delivery->referral != NULL);
		if (e)
			seinpost__inbox_entry__free_unpacked(e, NULL);
	} else if (s->db == SP_DB_OUTBOX) {
		Seinpost__OutboxEntry *e = seinpost__outbox_entry__unpack(NULL, vl, v);
		gone = e && expired_header(s, e->signal, 1, 0);
		if (e)
			seinpost__outbox_entry__free_unpacked(e, NULL);
	} else if (s->db == SP_DB_INVOLVE) {
		Seinpost__Involvement *i = seinpost__involvement__unpack(NULL, vl, v);
		gone = i && i->until && i->until <= s->now;
		if (i)
			seinpost__involvement__free_unpacked(i, NULL);
	}
	if (gone) {
		memcpy(s->v[s->n].key, k, kl);
		s->v[s->n].klen = kl;
		s->n++;
	}
	return s->n >= SWEEP_MAX || s->seen >= s->budget;
}

/* The next key after the last one looked at: that key with a 0 byte added. */
static void resume_after(struct victim *r, const struct victim *last)
{
	memcpy(r->key, last->key, last->klen);
	r->key[last->klen] = 0;
	r->klen = last->klen + 1;
}

/* Up to SCAN_BUDGET entries from where the last call stopped, wrapping round
 * to the start; expired ones (up to SWEEP_MAX) into s->v. */
static void collect(struct scan *s, int db)
{
	struct victim *r = &resume[db], start = *r;
	uint64_t entries = 0;
	s->n = 0;
	s->db = db;
	s->seen = 0;
	s->budget = SCAN_BUDGET;
	if (sp_store_count(s->t, (enum sp_db)db, &entries) == SP_OK && entries / SCAN_PASS_S > SCAN_BUDGET)
		s->budget = (size_t)(entries / SCAN_PASS_S + 1);
	s->stop = NULL;
	(void)sp_store_foreach_from(s->t, (enum sp_db)db, NULL, 0, start.klen ? start.key : NULL, start.klen,
	                            scan_visit, s);
	if (s->n < SWEEP_MAX && s->seen < s->budget) {
		/* reached the end: wrap round, up to where this call began */
		r->klen = 0;
		if (!start.klen)
			return;
		s->stop = &start;
		(void)sp_store_foreach(s->t, (enum sp_db)db, NULL, 0, scan_visit, s);
		s->stop = NULL;
		if (s->n < SWEEP_MAX && s->seen < s->budget)
			return; /* the whole table: the next call starts at the beginning */
	}
	resume_after(r, &s->last);
}

static int audit_expired(sp_txn *t, const char *actor, const uint8_t *id, const Seinpost__SignalHeader *h,
                         const char *reason)
{
	sp_audit_entry a = {
		.event = SEINPOST__AUDIT_EVENT__AUDIT_EXPIRED,
		.actor = actor,
		.signal_id = id,
		.pseudonym = h && h->pseudonym.len == 32 ? h->pseudonym.data : NULL,
		.category = h ? h->category : NULL,
		.weight = h ? h->weight : 0,
		.policy_hash = h && h->policy_hash.len == 32 ? h->policy_hash.data : NULL,
		.reason = reason,
	};
	return sp_audit_append(t, &a, NULL);
}

static Seinpost__SignalHeader *header_of(sp_txn *t, int db, const uint8_t *id)
{
	const void *v;
	size_t vl;
	const Seinpost__Signal *sig = NULL;
	Seinpost__SignalHeader *h = NULL;
	Seinpost__BrokerSignal *b = NULL;
	Seinpost__InboxEntry *ie = NULL;
	Seinpost__OutboxEntry *oe = NULL;
	if (sp_store_get(t, (enum sp_db)db, id, 16, &v, &vl) != SP_OK)
		return NULL;
	if (db == SP_DB_SIGNALS && (b = seinpost__broker_signal__unpack(NULL, vl, v)))
		sig = b->signal;
	else if (db == SP_DB_INBOX && (ie = seinpost__inbox_entry__unpack(NULL, vl, v)) && ie->delivery)
		sig = ie->delivery->signal;
	else if (db == SP_DB_OUTBOX && (oe = seinpost__outbox_entry__unpack(NULL, vl, v)))
		sig = oe->signal;
	if (sig) /* the subject as this store knows it: P at the broker and sender, P_R at a recipient */
		h = sp_wire_header_of(sig, ie ? &ie->delivery->recipient_pseudonym : NULL);
	if (h && sp_translate_header(h) != SP_OK) { /* broker: the current key epoch's pseudonym */
		seinpost__signal_header__free_unpacked(h, NULL);
		h = NULL;
	}
	if (b)
		seinpost__broker_signal__free_unpacked(b, NULL);
	if (ie)
		seinpost__inbox_entry__free_unpacked(ie, NULL);
	if (oe)
		seinpost__outbox_entry__free_unpacked(oe, NULL);
	return h;
}

/* Heap: a scan holds SWEEP_MAX victims' keys. */
static struct scan *scan_new(sp_txn *t, const sp_policy *p, uint64_t now_s)
{
	struct scan *s = calloc(1, sizeof *s);
	if (s) {
		s->p = p;
		s->now = now_s;
		s->t = t;
	}
	return s;
}

int sp_retention_sweep_broker(sp_txn *t, const sp_policy *p, const sp_roster *r, uint64_t now_s,
                              size_t *expired)
{
	struct scan *s = scan_new(t, p, now_s);
	int rc = SP_OK;
	*expired = 0;
	if (!s)
		return SP_ENOMEM;
	collect(s, SP_DB_SIGNALS);
	for (size_t i = 0; i < s->n && rc == SP_OK; i++) {
		const uint8_t *id = s->v[i].key;
		Seinpost__SignalHeader *h = header_of(t, SP_DB_SIGNALS, id);
		char idhex[SP_ID_HEX];
		rc = sp_store_del(t, SP_DB_SIGNALS, id, 16);
		if (rc == SP_OK)
			rc = sp_release_drop_signal(t, r, id);
		if (rc == SP_OK && h && h->pseudonym.len == 32 && h->id.len == 16) {
			/* The subject index, the escalation mark and the table marker,
			 * each through its owner (sp_meta_keys.h). */
			uint8_t ref[16];
			rc = sp_release_index_del(t, h);
			if (rc == SP_OK && sp_release_escalation_of(t, h->pseudonym.data, id, ref) == SP_OK) {
				rc = sp_tables_forget_signal(t, ref, id);
				if (rc == SP_OK)
					rc = sp_release_unmark_escalated(t, h->pseudonym.data, id);
			}
		}
		if (rc == SP_OK)
			rc = audit_expired(t, "broker", id, h,
			                   "retention ended: index entry and every held grant deleted");
		if (rc == SP_OK) {
			(*expired)++;
			sp_log_event(LOG_INFO, C, "broker", sp_hex(id, 16, idhex), "expired: grants deleted");
		}
		if (h)
			seinpost__signal_header__free_unpacked(h, NULL);
	}
	collect(s, SP_DB_INVOLVE);
	for (size_t i = 0; i < s->n && rc == SP_OK; i++) {
		char org[80];
		rc = sp_store_del(t, SP_DB_INVOLVE, s->v[i].key, s->v[i].klen);
		/* key: pseudonym(32) org; the [limits] count of active ones drops */
		if (rc == SP_OK && s->v[i].klen > 32 && s->v[i].klen - 32 < sizeof org) {
			memcpy(org, s->v[i].key + 32, s->v[i].klen - 32);
			org[s->v[i].klen - 32] = '\0';
			rc = sp_limits_involve_count(t, org, -1, now_s);
		}
	}
	free(s);
	return rc;
}

int sp_retention_sweep_node(sp_txn *t, const sp_policy *p, const char *org, uint64_t now_s,
                            size_t *expired)
{
	static const int dbs[] = { SP_DB_INBOX, SP_DB_OUTBOX };
	struct scan *s = scan_new(t, p, now_s);
	int rc = SP_OK;
	*expired = 0;
	if (!s)
		return SP_ENOMEM;
	for (size_t d = 0; d < 2 && rc == SP_OK; d++) {
		collect(s, dbs[d]);
		for (size_t i = 0; i < s->n && rc == SP_OK; i++) {
			Seinpost__SignalHeader *h = header_of(t, dbs[d], s->v[i].key);
			rc = sp_store_del(t, (enum sp_db)dbs[d], s->v[i].key, s->v[i].klen);
			/* what the broker told us about a sent signal goes with it */
			if (rc == SP_OK && dbs[d] == SP_DB_OUTBOX && s->v[i].klen == 16)
				rc = sp_feedback_drop(t, s->v[i].key);
			if (rc == SP_OK)
				rc = audit_expired(t, org, s->v[i].key, h, dbs[d] == SP_DB_INBOX ?
				                   "retention ended: received copy deleted" :
				                   "retention ended: sent copy deleted");
			if (rc == SP_OK)
				(*expired)++;
			if (h)
				seinpost__signal_header__free_unpacked(h, NULL);
		}
	}
	free(s);
	return rc;
}
