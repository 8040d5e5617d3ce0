/* sp_status_delivery.c — status lines of the delivery feature: store space,
 * last commit, broker queues per recipient, node outbox. Counts, org ids and
 * ages only: never a pseudonym or content. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seinpost.pb-c.h"
#include "sp_meta_keys.h"
#include "sp_outbox.h"
#include "sp_quarantine.h"
#include "sp_roster.h"
#include "sp_status.h"
#include "sp_util.h"

#define MIB (1024.0 * 1024.0)

static uint64_t age_ms(const sp_status_src *src, uint64_t then_ms)
{
	return then_ms && src->opts->now_ms > then_ms ? src->opts->now_ms - then_ms : 0;
}

int sp_status_store(const sp_status_src *src, sp_status *st)
{
	uint64_t used, map;
	const void *v;
	size_t vl;
	char when[32], age[32];
	int rc = sp_store_usage(src->store, &used, &map);
	if (rc != SP_OK)
		return rc;
	unsigned pct = map ? (unsigned)(used * 100 / map) : 100;
	sp_status_num(st, "store", "map_used_bytes", (double)used);
	sp_status_num(st, "store", "map_size_bytes", (double)map);
	rc = sp_status_add(st, "store", "map used", pct >= src->opts->map_bad_pct ? SP_STATUS_BAD : SP_STATUS_OK,
	                   "%.1f MiB of %.0f MiB (%u%%)%s", used / MIB, map / MIB, pct,
	                   pct >= src->opts->map_bad_pct ? "; raise map_size_mb" : "");
	if (rc != SP_OK)
		return rc;
	if (sp_store_get(src->txn, SP_DB_META, SP_MK_LAST_COMMIT, strlen(SP_MK_LAST_COMMIT), &v, &vl) == SP_OK && vl == 8) {
		uint64_t t = sp_be64_get(v);
		sp_status_time(st, "store", "last_commit_at", t);
		sp_status_num(st, "store", "last_commit_age_s", (double)(age_ms(src, t) / 1000));
		return sp_status_add(st, "store", "last commit", SP_STATUS_OK, "%s (%s ago)", sp_iso_time(t, when, sizeof when),
		                     sp_status_age(age_ms(src, t), age, sizeof age));
	}
	return sp_status_add(st, "store", "last commit", SP_STATUS_OK, "never");
}

/* ---- broker --------------------------------------------------------------- */

struct qorg {
	char org[64];
	uint64_t depth;
	uint64_t oldest_ms;   /* accepted time of the first (oldest) entry */
};

struct qctx {
	sp_txn *t;
	struct qorg *orgs;
	size_t n, cap;
	int rc;
};

static struct qorg *qorg_get(struct qctx *c, const char *org)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->orgs[i].org, org) == 0)
			return &c->orgs[i];
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		void *p = realloc(c->orgs, cap * sizeof *c->orgs);
		if (!p)
			return NULL;
		c->orgs = p;
		c->cap = cap;
	}
	memset(&c->orgs[c->n], 0, sizeof c->orgs[c->n]);
	snprintf(c->orgs[c->n].org, sizeof c->orgs[c->n].org, "%s", org);
	return &c->orgs[c->n++];
}

/* When the broker accepted the signal a queued delivery carries. */
static uint64_t accepted_ms(sp_txn *t, const void *v, size_t vl)
{
	Seinpost__Delivery *d = seinpost__delivery__unpack(NULL, vl, v);
	Seinpost__SignalHeader *h = NULL;
	Seinpost__BrokerSignal *bs = NULL;
	const void *sv;
	size_t sl;
	uint64_t at = 0;
	if (!d || !d->signal)
		goto out;
	h = seinpost__signal_header__unpack(NULL, d->signal->header.len, d->signal->header.data);
	if (!h || h->id.len != SP_ID_BYTES || sp_store_get(t, SP_DB_SIGNALS, h->id.data, SP_ID_BYTES, &sv, &sl) != SP_OK)
		goto out;
	bs = seinpost__broker_signal__unpack(NULL, sl, sv);
	if (bs)
		at = bs->accepted;
out:
	if (bs)
		seinpost__broker_signal__free_unpacked(bs, NULL);
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	if (d)
		seinpost__delivery__free_unpacked(d, NULL);
	return at;
}

static int queue_row(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct qctx *c = ctx;
	const char *org = k;
	size_t ol = strnlen(org, kl);
	char name[64];
	struct qorg *q;
	if (ol + 9 != kl || ol >= sizeof name)
		return 0;
	memcpy(name, org, ol);
	name[ol] = '\0';
	q = qorg_get(c, name);
	if (!q) {
		c->rc = SP_ENOMEM;
		return 1;
	}
	if (q->depth++ == 0) /* keys sort by seq within an org: first = oldest */
		q->oldest_ms = accepted_ms(c->t, v, vl);
	return 0;
}

int sp_status_broker_queues(const sp_status_src *src, sp_status *st)
{
	struct qctx c = { .t = src->txn };
	sp_roster *r = NULL;
	uint64_t total = 0, oldest = 0, n;
	char age[32];
	int rc;

	/* Every recipient on the roster gets a line, empty queues too. */
	if (sp_roster_load(src->cfg->roster_path, src->cfg->operator_pk, &r) == SP_OK) {
		for (size_t i = 0; i < sp_roster_count(r); i++)
			if (!qorg_get(&c, sp_roster_at(r, i)->id)) {
				rc = SP_ENOMEM;
				goto out;
			}
	}
	rc = sp_store_foreach(src->txn, SP_DB_QUEUE, NULL, 0, queue_row, &c);
	if (rc == 1)
		rc = c.rc;
	if (rc != SP_OK)
		goto out;
	for (size_t i = 0; i < c.n; i++) {
		struct qorg *q = &c.orgs[i];
		uint64_t a = age_ms(src, q->oldest_ms);
		int bad = q->depth && a > src->opts->max_age_s * 1000;
		total += q->depth;
		if (q->depth && (!oldest || q->oldest_ms < oldest))
			oldest = q->oldest_ms;
		sp_status_org_num(st, q->org, "queue_depth", (double)q->depth);
		sp_status_org_num(st, q->org, "queue_oldest_age_s", q->depth ? (double)(a / 1000) : 0);
		if (q->depth)
			rc = sp_status_add(st, "queue", q->org, bad ? SP_STATUS_BAD : SP_STATUS_OK, "%llu waiting, oldest %s",
			                   (unsigned long long)q->depth, sp_status_age(a, age, sizeof age));
		else
			rc = sp_status_add(st, "queue", q->org, SP_STATUS_OK, "0");
		if (rc != SP_OK)
			goto out;
	}
	sp_status_num(st, "delivery", "undelivered", (double)total);
	sp_status_num(st, "delivery", "oldest_undelivered_age_s", total ? (double)(age_ms(src, oldest) / 1000) : 0);
	rc = sp_status_add(st, "delivery", "undelivered", SP_STATUS_OK, "%llu", (unsigned long long)total);
	if (rc == SP_OK)
		rc = sp_status_add(st, "delivery", "oldest undelivered",
		                   total && age_ms(src, oldest) > src->opts->max_age_s * 1000 ? SP_STATUS_BAD : SP_STATUS_OK,
		                   "%s", total ? sp_status_age(age_ms(src, oldest), age, sizeof age) : "-");
	if (rc == SP_OK && (rc = sp_store_count(src->txn, SP_DB_SIGNALS, &n)) == SP_OK)
		sp_status_num(st, "delivery", "signals_held", (double)n);
	uint64_t nq = 0, newest = 0;
	if (rc == SP_OK && (rc = sp_quarantine_count(src->txn, &nq, &newest)) == SP_OK) {
		/* An alarm while recent (within --max-age), a warning after. */
		sp_status_num(st, "delivery", "quarantined", (double)nq);
		if (nq)
			rc = sp_status_add(st, "delivery", "quarantined",
			                   age_ms(src, newest) <= src->opts->max_age_s * 1000 ? SP_STATUS_BAD : SP_STATUS_WARN,
			                   "ALARM: %llu deliveries set aside, their recipient refused them (newest %s ago; "
			                   "audit log event 'quarantined')", (unsigned long long)nq,
			                   sp_status_age(age_ms(src, newest), age, sizeof age));
	}
	if (rc == SP_OK)
		rc = sp_status_add(st, "delivery", "signals held", SP_STATUS_OK, "%llu", (unsigned long long)n);
out:
	sp_roster_free(&r);
	free(c.orgs);
	return rc;
}

/* ---- node ----------------------------------------------------------------- */

int sp_status_node_outbox(const sp_status_src *src, sp_status *st)
{
	uint64_t pending, oldest, total, inbox;
	char age[32];
	int rc = sp_outbox_pending(src->txn, &pending, &oldest);
	if (rc != SP_OK)
		return rc;
	if ((rc = sp_store_count(src->txn, SP_DB_OUTBOX, &total)) != SP_OK ||
	    (rc = sp_store_count(src->txn, SP_DB_INBOX, &inbox)) != SP_OK)
		return rc;
	uint64_t a = age_ms(src, oldest);
	sp_status_num(st, "outbox", "pending", (double)pending);
	sp_status_num(st, "outbox", "total", (double)total);
	sp_status_num(st, "outbox", "oldest_pending_age_s", pending ? (double)(a / 1000) : 0);
	sp_status_num(st, "inbox", "received", (double)inbox);
	rc = sp_status_add(st, "outbox", "pending", SP_STATUS_OK, "%llu (of %llu sent in total)",
	                   (unsigned long long)pending, (unsigned long long)total);
	if (rc == SP_OK)
		rc = sp_status_add(st, "outbox", "oldest undelivered",
		                   pending && a > src->opts->max_age_s * 1000 ? SP_STATUS_BAD : SP_STATUS_OK, "%s",
		                   pending ? sp_status_age(a, age, sizeof age) : "-");
	if (rc == SP_OK)
		rc = sp_status_add(st, "inbox", "received", SP_STATUS_OK, "%llu", (unsigned long long)inbox);
	return rc;
}
