/* sp_pump.c — the broker sends what is queued for each connected recipient,
 * at most WINDOW unacknowledged at a time, and starts again from the
 * oldest when nothing was acknowledged for retry_ms (recipients dedup by
 * id). The queue itself is sp_queue.c; acknowledgements are handled in
 * sp_broker.c. */
#include "sp_broker_int.h"

struct pump_ctx {
	struct broker *b;
	struct peer *p;
	size_t prefix_len;
	int stop_code;
};

static size_t put_varint(uint8_t *o, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		o[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	o[n++] = (uint8_t)v;
	return n;
}

/* Frame { version, delivery = the queued Delivery's bytes }: the stored
 * bytes (packed by us when queued) are wrapped as they are, the same bytes
 * sp_wire_pack would produce, without decoding and re-encoding the whole
 * signal for every send. */
static int delivery_frame(const void *d, size_t dl, uint8_t **out, size_t *outlen)
{
	uint8_t *b = malloc(dl + 16);
	size_t n = 0;
	if (!b)
		return SP_ENOMEM;
	b[n++] = (1 << 3) | 0; /* version, varint */
	n += put_varint(b + n, SP_WIRE_VERSION);
	b[n++] = (SEINPOST__FRAME__BODY_DELIVERY << 3) | 2; /* delivery, length-delimited */
	n += put_varint(b + n, dl);
	memcpy(b + n, d, dl);
	*out = b;
	*outlen = n + dl;
	return SP_OK;
}

static int pump_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct pump_ctx *c = ctx;
	struct peer *p = c->p;
	uint64_t seq;
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	if (kl != c->prefix_len + 8)
		return 0;
	seq = sp_be64_get((const uint8_t *)k + c->prefix_len);
	if (p->inflight >= WINDOW)
		return 1;
	rc = delivery_frame(v, vl, &buf, &len);
	if (rc != SP_OK)
		return 1;
	rc = sp_transport_send(c->b->sock, p->rid, p->rid_len, buf, len);
	free(buf);
	if (rc == SP_ENOTFOUND) {
		p->connected = 0;
		return 1;
	}
	if (rc != SP_OK)
		return 1; /* high-water mark: keep the cursor, try next round */
	if (p->inflight == 0)
		p->last_progress = sp_mono_ms();
	p->inflight++;
	p->cursor = seq + 1;
	return 0;
}

static int first_visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	*(uint64_t *)ctx = kl >= 8 ? sp_be64_get((const uint8_t *)k + kl - 8) : 0;
	return 1;
}

/* Queue seq of a recipient's oldest entry (UINT64_MAX when empty). */
static uint64_t queue_first(sp_txn *t, const char *org)
{
	uint8_t prefix[SP_ID_MAX + 1];
	size_t pl = strlen(org) + 1;
	uint64_t seq = UINT64_MAX;
	memcpy(prefix, org, pl);
	(void)sp_store_foreach(t, SP_DB_QUEUE, prefix, pl, first_visit, &seq);
	return seq;
}

/* Send queued deliveries to connected recipients, within the window. */
void sp_broker_pump(struct broker *b)
{
	sp_txn *t = NULL;
	uint64_t now = sp_mono_ms();
	if (sp_txn_begin(b->store, 0, &t) != SP_OK)
		return;
	for (size_t i = 0; i < b->npeers; i++) {
		struct peer *p = &b->peers[i];
		const sp_org *o = sp_roster_at(b->roster, i);
		uint8_t prefix[SP_ID_MAX + 1];
		size_t pl = strlen(o->id) + 1;
		if (!p->rid_len)
			continue;
		if (!p->connected) {
			if (now < p->next_try)
				continue;
			p->connected = 1; /* try again; a failed send marks it down */
			p->stalls = 0;
			p->cursor = 0;
			p->inflight = 0;
		}
		/* Nothing acknowledged for a while and something sent is still
		 * queued (in flight, or behind the cursor because its receipt
		 * was lost with a batch that failed to commit): resend from the
		 * start. The recipient dedups by id. */
		/* A recipient that stays silent gets the window again after
		 * retry_ms, 2×, 4× ... 32× retry_ms: a slow one is not sent the
		 * same deliveries faster than it can take them in. */
		if (now - p->last_progress > ((uint64_t)b->cfg->retry_ms << (p->stalls < 5 ? p->stalls : 5)) &&
		    (p->inflight || queue_first(t, o->id) < p->cursor)) {
			p->cursor = 0;
			p->inflight = 0;
			p->last_progress = now;
			p->stalls++;
		}
		if (p->inflight >= WINDOW)
			continue;
		/* Seek to the cursor: a long queue is not rescanned each tick. */
		uint8_t from[SP_QUEUE_KEY_MAX];
		size_t fl = sp_queue_key(from, o->id, p->cursor);
		memcpy(prefix, o->id, pl);
		struct pump_ctx c = { .b = b, .p = p, .prefix_len = pl };
		(void)sp_store_foreach_from(t, SP_DB_QUEUE, prefix, pl, from, fl, pump_one, &c);
		if (!p->connected)
			p->next_try = now + b->cfg->retry_ms;
	}
	sp_txn_abort(&t);
}
