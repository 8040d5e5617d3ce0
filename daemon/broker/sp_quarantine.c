/* sp_quarantine.c — deliveries their recipient keeps refusing, set aside.
 * See sp_quarantine.h. */
#include "sp_quarantine.h"
#include "sp_meta_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seinpost.pb-c.h"
#include "sp_audit.h"
#include "sp_queue.h"
#include "sp_util.h"

#define SLOTS 64   /* refused deliveries counted at once; the oldest slot is reused */

struct slot {
	char org[SP_ID_MAX + 1];
	uint8_t id[16];
	unsigned count;
	uint64_t used;
};

struct sp_quarantine {
	unsigned max;
	uint64_t tick;
	struct slot slots[SLOTS];
};

int sp_quarantine_new(unsigned max_refusals, sp_quarantine **out)
{
	*out = calloc(1, sizeof **out);
	if (!*out)
		return SP_ENOMEM;
	(*out)->max = max_refusals ? max_refusals : 1;
	return SP_OK;
}

void sp_quarantine_free(sp_quarantine **q)
{
	if (q) {
		free(*q);
		*q = NULL;
	}
}

static struct slot *slot_of(sp_quarantine *q, const char *org, const uint8_t id[16])
{
	struct slot *old = &q->slots[0];
	for (size_t i = 0; i < SLOTS; i++) {
		struct slot *s = &q->slots[i];
		if (s->count && strcmp(s->org, org) == 0 && memcmp(s->id, id, 16) == 0)
			return s;
		if (s->used < old->used)
			old = s;
	}
	memset(old, 0, sizeof *old);
	snprintf(old->org, sizeof old->org, "%s", org);
	memcpy(old->id, id, 16);
	return old;
}

int sp_quarantine_refused(sp_quarantine *q, sp_txn *t, const char *org, const uint8_t id[16], int code, int *moved)
{
	uint8_t akey[SP_QUEUE_IDKEY_MAX], xkey[SP_QUEUE_IDKEY_MAX], key[SP_QUEUE_KEY_MAX];
	const void *v;
	size_t vl, al, xl, kl;
	uint8_t *val = NULL;
	char why[160];
	struct slot *s;
	int rc;

	*moved = 0;
	al = sp_queue_idkey(akey, 'q', org, id);
	rc = sp_store_get(t, SP_DB_META, akey, al, &v, &vl);
	if (rc == SP_ENOTFOUND)
		return SP_OK; /* not (or no longer) queued for this org */
	if (rc != SP_OK || vl < 8)
		return rc != SP_OK ? rc : SP_ECORRUPT;
	kl = sp_queue_key(key, org, sp_be64_get(v));
	s = slot_of(q, org, id);
	s->used = ++q->tick;
	if (++s->count < q->max)
		return SP_OK;
	rc = sp_store_get(t, SP_DB_QUEUE, key, kl, &v, &vl);
	if (rc != SP_OK)
		return rc == SP_ENOTFOUND ? SP_OK : rc;
	if (!(val = malloc(vl + 8)))
		return SP_ENOMEM;
	sp_be64_put(val, sp_now_ms());
	memcpy(val + 8, v, vl);
	xl = sp_queue_idkey(xkey, 'x', org, id);
	snprintf(why, sizeof why, "the recipient refused it %u times: %s; set aside, not resent", s->count,
	         sp_strerror(code));
	sp_audit_entry e = {
		.event = SEINPOST__AUDIT_EVENT__AUDIT_QUARANTINED,
		.actor = "broker",
		.recipient = org,
		.signal_id = id,
		.reason = why,
		.code = code,
	};
	if ((rc = sp_store_put(t, SP_DB_META, xkey, xl, val, vl + 8, 0)) == SP_OK &&
	    (rc = sp_store_del(t, SP_DB_QUEUE, key, kl)) == SP_OK &&
	    (rc = sp_store_del(t, SP_DB_META, akey, al)) == SP_OK)
		rc = sp_audit_append(t, &e, NULL);
	free(val);
	if (rc == SP_OK) {
		*moved = 1;
		s->count = 0;
	}
	return rc;
}

struct cnt {
	uint64_t n, newest;
};

static int count_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct cnt *c = ctx;
	c->n++;
	if (vl >= 8 && sp_be64_get(v) > c->newest)
		c->newest = sp_be64_get(v);
	return 0;
}

int sp_quarantine_count(sp_txn *t, uint64_t *n, uint64_t *newest_ms)
{
	struct cnt c = { 0 };
	int rc = sp_store_foreach(t, SP_DB_META, SP_MK_QUARANTINE, 2, count_one, &c);
	*n = c.n;
	*newest_ms = c.newest;
	return rc;
}
