/* sp_outbox.c — the node outbox with a pending index, and retry backoff. */
#include "sp_outbox.h"
#include "sp_meta_keys.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sp_log.h"
#include "sp_util.h"
#include "seinpost.pb-c.h"

#define P_PEND SP_MK_OUTBOX_PENDING
#define P_IDX SP_MK_OUTBOX_INDEX
#define K_LAST SP_MK_OUTBOX_LAST
#define K_VER SP_MK_OUTBOX_VERSION
#define PLEN 4

static size_t pend_key(uint8_t out[PLEN + 8], uint64_t n)
{
	memcpy(out, P_PEND, PLEN);
	sp_be64_put(out + PLEN, n);
	return PLEN + 8;
}

static size_t idx_key(uint8_t out[PLEN + 16], const uint8_t id[16])
{
	memcpy(out, P_IDX, PLEN);
	memcpy(out + PLEN, id, 16);
	return PLEN + 16;
}

static int index_add(sp_txn *t, const uint8_t id[16])
{
	uint8_t k[PLEN + 16], nb[8];
	const void *v;
	size_t vl;
	uint64_t n = 0;
	int rc = sp_store_get(t, SP_DB_META, K_LAST, 4, &v, &vl);
	if (rc == SP_OK && vl == 8)
		n = sp_be64_get(v);
	else if (rc != SP_ENOTFOUND && rc != SP_OK)
		return rc;
	sp_be64_put(nb, ++n);
	if ((rc = sp_store_put(t, SP_DB_META, K_LAST, 4, nb, 8, 0)) != SP_OK)
		return rc;
	if ((rc = sp_store_put(t, SP_DB_META, k, pend_key(k, n), id, 16, 0)) != SP_OK)
		return rc;
	return sp_store_put(t, SP_DB_META, k, idx_key(k, id), nb, 8, 0);
}

int sp_outbox_add(sp_txn *t, const uint8_t id[16], const void *entry, size_t len)
{
	int rc = sp_store_put(t, SP_DB_OUTBOX, id, 16, entry, len, SP_PUT_NOOVERWRITE);
	if (rc != SP_OK)
		return rc;
	return index_add(t, id);
}

int sp_outbox_settle(sp_txn *t, const uint8_t id[16], const void *entry, size_t len)
{
	uint8_t k[PLEN + 16], pk[PLEN + 8];
	const void *v;
	size_t vl, kl = idx_key(k, id);
	uint64_t n;
	int rc = sp_store_put(t, SP_DB_OUTBOX, id, 16, entry, len, 0);
	if (rc != SP_OK)
		return rc;
	rc = sp_store_get(t, SP_DB_META, k, kl, &v, &vl);
	if (rc == SP_ENOTFOUND)
		return SP_OK;
	if (rc != SP_OK)
		return rc;
	if (vl != 8)
		return SP_ECORRUPT;
	n = sp_be64_get(v);
	if ((rc = sp_store_del(t, SP_DB_META, k, kl)) != SP_OK)
		return rc;
	rc = sp_store_del(t, SP_DB_META, pk, pend_key(pk, n));
	return rc == SP_ENOTFOUND ? SP_OK : rc;
}

struct pend_ctx {
	sp_txn *t;
	sp_outbox_visit_fn fn;
	void *ctx;
};

static int pend_visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct pend_ctx *c = ctx;
	const void *e;
	size_t el;
	if (kl != PLEN + 8 || vl != 16)
		return 0;
	/* An index entry whose outbox entry is gone: nothing to send. */
	if (sp_store_get(c->t, SP_DB_OUTBOX, v, 16, &e, &el) != SP_OK)
		return 0;
	return c->fn(c->ctx, sp_be64_get((const uint8_t *)k + PLEN), v, e, el);
}

int sp_outbox_foreach_pending(sp_txn *t, uint64_t from, sp_outbox_visit_fn fn, void *ctx)
{
	uint8_t k[PLEN + 8];
	struct pend_ctx c = { .t = t, .fn = fn, .ctx = ctx };
	pend_key(k, from);
	return sp_store_foreach_from(t, SP_DB_META, P_PEND, PLEN, k, sizeof k, pend_visit, &c);
}

struct count_ctx {
	uint64_t n, oldest;
};

static int count_one(void *ctx, uint64_t pos, const uint8_t id[16], const void *e, size_t el)
{
	struct count_ctx *c = ctx;
	if (c->n++ == 0) {
		Seinpost__OutboxEntry *o = seinpost__outbox_entry__unpack(NULL, el, e);
		if (o) {
			c->oldest = o->queued;
			seinpost__outbox_entry__free_unpacked(o, NULL);
		}
	}
	return 0;
}

int sp_outbox_pending(sp_txn *t, uint64_t *count, uint64_t *oldest_ms)
{
	struct count_ctx c = { 0, 0 };
	int rc = sp_outbox_foreach_pending(t, 0, count_one, &c);
	*count = c.n;
	*oldest_ms = c.oldest;
	return rc;
}

struct mig_ctx {
	uint8_t (*ids)[16];
	size_t n, cap;
	int rc;
};

static int mig_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct mig_ctx *c = ctx;
	Seinpost__OutboxEntry *e;
	if (kl != 16)
		return 0;
	e = seinpost__outbox_entry__unpack(NULL, vl, v);
	if (!e)
		return 0;
	if (e->state == SEINPOST__OUTBOX_STATE__OUTBOX_PENDING ||
	    e->state == SEINPOST__OUTBOX_STATE__OUTBOX_DEFERRED) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 64;
			void *p = realloc(c->ids, cap * 16);
			if (!p) {
				seinpost__outbox_entry__free_unpacked(e, NULL);
				c->rc = SP_ENOMEM;
				return 1;
			}
			c->ids = p;
			c->cap = cap;
		}
		memcpy(c->ids[c->n++], k, 16);
	}
	seinpost__outbox_entry__free_unpacked(e, NULL);
	return 0;
}

int sp_outbox_migrate(sp_store *s)
{
	sp_txn *t = NULL;
	const void *v;
	size_t vl;
	struct mig_ctx c = { 0 };
	int rc = sp_txn_begin(s, 1, &t);
	if (rc != SP_OK)
		return rc;
	rc = sp_store_get(t, SP_DB_META, K_VER, 4, &v, &vl);
	if (rc == SP_OK)
		goto out; /* index already maintained */
	if (rc != SP_ENOTFOUND)
		goto out;
	rc = sp_store_foreach(t, SP_DB_OUTBOX, NULL, 0, mig_one, &c);
	if (rc == 1)
		rc = c.rc;
	for (size_t i = 0; rc == SP_OK && i < c.n; i++) {
		uint8_t k[PLEN + 16];
		if (sp_store_get(t, SP_DB_META, k, idx_key(k, c.ids[i]), &v, &vl) == SP_OK)
			continue;
		rc = index_add(t, c.ids[i]);
	}
	if (rc == SP_OK)
		rc = sp_store_put(t, SP_DB_META, K_VER, 4, "1", 1, 0);
	if (rc == SP_OK) {
		rc = sp_txn_commit(&t);
		if (rc == SP_OK && c.n)
			sp_log(LOG_NOTICE, "outbox", "indexed %zu pending signal(s) of an older store", c.n);
	}
out:
	sp_txn_abort(&t);
	free(c.ids);
	return rc;
}

/* ---- backoff -------------------------------------------------------------- */

void sp_backoff_init(sp_backoff *b, uint32_t base_ms, uint32_t max_ms)
{
	b->base_ms = base_ms ? base_ms : 1;
	b->max_ms = max_ms < b->base_ms ? b->base_ms : max_ms;
	b->cur_ms = b->base_ms;
	b->next_ms = 0;
}

void sp_backoff_fail(sp_backoff *b, uint64_t now)
{
	/* Jitter (up to a quarter) keeps many nodes from retrying in step
	 * after a broker restart. */
	uint32_t jitter = b->cur_ms / 4 ? randombytes_uniform(b->cur_ms / 4 + 1) : 0;
	b->next_ms = now + b->cur_ms + jitter;
	b->cur_ms = b->cur_ms > b->max_ms / 2 ? b->max_ms : b->cur_ms * 2;
}

void sp_backoff_ok(sp_backoff *b, uint64_t now)
{
	b->cur_ms = b->base_ms;
	b->next_ms = now + b->base_ms;
}

int sp_backoff_due(const sp_backoff *b, uint64_t now)
{
	return now >= b->next_ms;
}
