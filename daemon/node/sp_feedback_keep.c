/*
 * sp_feedback_keep.c — feedback to the signaller, node side (sp_feedback_keep.h).
 *
 * Keys: signal id (16) || be64(broker audit seq) -> FeedbackItem, and the
 * one-byte key "c" -> be64(cursor). The broker's seq makes a repeated
 * answer (a reply lost, a restart) idempotent: the same key is put again.
 */
#include "sp_feedback_keep.h"

#include <stdlib.h>
#include <string.h>

#include "sp_hook.h"
#include "sp_util.h"
#include "sp_wire.h"

#define CURSOR_KEY "c"
#define ITEM_KEY_LEN 24

int sp_feedback_cursor(sp_txn *t, uint64_t *after)
{
	const void *v;
	size_t vl;
	int rc = sp_store_get(t, SP_DB_FEEDBACK, CURSOR_KEY, 1, &v, &vl);
	*after = 0;
	if (rc == SP_ENOTFOUND)
		return SP_OK;
	if (rc != SP_OK)
		return rc;
	if (vl != 8)
		return SP_ECORRUPT;
	*after = sp_be64_get(v);
	return SP_OK;
}

int sp_feedback_store(sp_txn *t, const Seinpost__FeedbackBatch *b, int hook, uint64_t now_ms, size_t *added)
{
	uint8_t key[ITEM_KEY_LEN], cur[8], last_hooked[16];
	int hooked = 0, rc = SP_OK;
	uint64_t after = 0;
	*added = 0;
	if ((rc = sp_feedback_cursor(t, &after)) != SP_OK)
		return rc;
	for (size_t i = 0; i < b->n_items && rc == SP_OK; i++) {
		const Seinpost__FeedbackItem *it = b->items[i];
		const void *v;
		size_t vl;
		uint8_t *buf = NULL;
		size_t len;
		if (it->seq <= after)
			continue; /* told before */
		rc = sp_store_get(t, SP_DB_OUTBOX, it->signal_id.data, 16, &v, &vl);
		if (rc == SP_ENOTFOUND) {
			rc = SP_OK; /* not ours, or expired here already */
			continue;
		}
		if (rc != SP_OK)
			break;
		memcpy(key, it->signal_id.data, 16);
		sp_be64_put(key + 16, it->seq);
		if ((rc = sp_wire_pack(&it->base, &buf, &len)) != SP_OK)
			break;
		rc = sp_store_put(t, SP_DB_FEEDBACK, key, sizeof key, buf, len, 0);
		free(buf);
		if (rc != SP_OK)
			break;
		(*added)++;
		/* One hand-over per signal and batch: the hook reads every event
		 * of the signal when it runs. */
		if (hook && !(hooked && memcmp(last_hooked, it->signal_id.data, 16) == 0)) {
			rc = sp_hook_enqueue(t, it->signal_id.data, SEINPOST__HOOK_KIND__HOOK_FEEDBACK, now_ms);
			memcpy(last_hooked, it->signal_id.data, 16);
			hooked = 1;
		}
	}
	if (rc == SP_OK && b->next_seq > after) {
		sp_be64_put(cur, b->next_seq);
		rc = sp_store_put(t, SP_DB_FEEDBACK, CURSOR_KEY, 1, cur, 8, 0);
	}
	return rc;
}

int sp_feedback_note(sp_txn *t, const Seinpost__FeedbackItem *it, int hook, uint64_t now_ms)
{
	uint8_t key[ITEM_KEY_LEN], *buf = NULL;
	size_t len;
	int rc;
	memcpy(key, it->signal_id.data, 16);
	sp_be64_put(key + 16, it->seq);
	if ((rc = sp_wire_pack(&it->base, &buf, &len)) != SP_OK)
		return rc;
	rc = sp_store_put(t, SP_DB_FEEDBACK, key, sizeof key, buf, len, 0);
	free(buf);
	if (rc == SP_OK && hook)
		rc = sp_hook_enqueue(t, it->signal_id.data, SEINPOST__HOOK_KIND__HOOK_FEEDBACK, now_ms);
	return rc;
}

int sp_feedback_ask(sp_store *s, int (*send)(void *ctx, Seinpost__Frame *f), void *ctx)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__FeedbackRequest q = SEINPOST__FEEDBACK_REQUEST__INIT;
	sp_txn *t = NULL;
	int rc = sp_txn_begin(s, 0, &t);
	if (rc == SP_OK)
		rc = sp_feedback_cursor(t, &q.after_seq);
	sp_txn_abort(&t);
	if (rc != SP_OK)
		return rc;
	f.body_case = SEINPOST__FRAME__BODY_FEEDBACK_REQUEST;
	f.feedback_request = &q;
	return send(ctx, &f);
}

int sp_feedback_take(sp_store *s, const Seinpost__FeedbackBatch *b, int hook, size_t *added, int *more)
{
	sp_txn *t = NULL;
	int rc = sp_txn_begin(s, 1, &t);
	*added = 0;
	*more = 0;
	if (rc == SP_OK)
		rc = sp_feedback_store(t, b, hook, sp_now_ms(), added);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	*more = rc == SP_OK && b->more;
	return rc;
}

struct collect {
	json_t *arr;
	FILE *out;
};


/* A referral's status in the signaller's words (the coordinator's role is
 * the subject of the sentence). */
static const char *referral_words(const char *status)
{
	static const struct { const char *status, *words; } w[] = {
		{ "accepted", "accepted" },
		{ "in-progress", "is working on" },
		{ "intervention", "started an intervention for" },
		{ "declined", "declined" },
		{ "scaled-down", "scaled down" },
		{ "closed", "closed" },
	};
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
		if (strcmp(status, w[i].status) == 0)
			return w[i].words;
	return status;
}

static int visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct collect *c = ctx;
	Seinpost__FeedbackItem *it = NULL;
	char when[32];
	if (kl != ITEM_KEY_LEN || sp_wire_stored_feedback(v, vl, &it) != SP_OK)
		return 0; /* a damaged entry is skipped, not shown half */
	sp_iso_time(it->time, when, sizeof when);
	if (c->arr) {
		json_t *o = json_pack("{s:s,s:s,s:s}", "event", it->event, "role", it->role, "at", when);
		if (o && it->status[0])
			json_object_set_new(o, "status", json_string(it->status));
		if (o)
			json_array_append_new(c->arr, o);
	}
	if (c->out) {
		if (strcmp(it->event, "table") == 0) /* a move between tables (sp_tables.h) */
			fprintf(c->out, "    %s  the referral moved %s\n", when, it->status);
		else if (strcmp(it->event, "opened") == 0)
			fprintf(c->out, "    %s  opened at an organisation of role %s\n", when, it->role);
		else if (strcmp(it->event, "matched") == 0)
			fprintf(c->out, "    %s  matched: an organisation of role %s signalled about the same subject\n",
			        when, it->role);
		else if (strcmp(it->event, "escalated") == 0)
			fprintf(c->out, "    %s  part of a referral to role %s\n", when, it->role);
		else if (strcmp(it->event, "referral") == 0 && it->role[0])
			fprintf(c->out, "    %s  part of a referral that the %s %s\n", when, it->role,
			        referral_words(it->status));
		else if (strcmp(it->event, "referral") == 0) /* the broker's: closed after a withdrawal */
			fprintf(c->out, "    %s  part of a referral that is now %s\n", when, it->status);
		else if (strcmp(it->event, "withdrawn") == 0)
			fprintf(c->out, "    %s  withdrawn by us: every recipient is told to delete its copy\n", when);
		else
			fprintf(c->out, "    %s  %s to role %s\n", when, it->event, it->role);
	}
	seinpost__feedback_item__free_unpacked(it, NULL);
	return 0;
}

json_t *sp_feedback_json(sp_txn *t, const uint8_t id[16])
{
	struct collect c = { .arr = json_array() };
	if (c.arr)
		(void)sp_store_foreach(t, SP_DB_FEEDBACK, id, 16, visit, &c);
	return c.arr;
}

void sp_feedback_print(sp_txn *t, const uint8_t id[16], FILE *out)
{
	struct collect c = { .out = out };
	(void)sp_store_foreach(t, SP_DB_FEEDBACK, id, 16, visit, &c);
}

json_t *sp_feedback_hook_json(sp_txn *t, const uint8_t id[16])
{
	const void *v;
	size_t vl;
	Seinpost__SignalHeader *h = NULL;
	Seinpost__OutboxEntry *e = NULL;
	char idhex[SP_ID_HEX];
	json_t *o = NULL;
	if (sp_store_get(t, SP_DB_OUTBOX, id, 16, &v, &vl) != SP_OK)
		return NULL;
	e = seinpost__outbox_entry__unpack(NULL, vl, v);
	if (!e || !e->signal)
		goto out;
	/* The header of our own signal: category and weight say which one. */
	h = seinpost__signal_header__unpack(NULL, e->signal->header.len, e->signal->header.data);
	if (!h)
		goto out;
	sp_hex(id, 16, idhex);
	o = json_pack("{s:s,s:s,s:i,s:o}", "signal_id", idhex, "category", h->category, "weight", (int)h->weight,
	              "feedback", sp_feedback_json(t, id));
out:
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	if (e)
		seinpost__outbox_entry__free_unpacked(e, NULL);
	return o;
}

struct drop {
	uint8_t keys[64][ITEM_KEY_LEN];
	size_t n;
};

static int collect_key(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct drop *d = ctx;
	if (kl != ITEM_KEY_LEN)
		return 0;
	memcpy(d->keys[d->n++], k, ITEM_KEY_LEN);
	return d->n == 64 ? 1 : 0;
}

int sp_feedback_drop(sp_txn *t, const uint8_t id[16])
{
	struct drop d;
	int rc = SP_OK;
	/* In rounds: a cursor must not walk keys it deletes. */
	do {
		d.n = 0;
		(void)sp_store_foreach(t, SP_DB_FEEDBACK, id, 16, collect_key, &d);
		for (size_t i = 0; i < d.n && rc == SP_OK; i++)
			rc = sp_store_del(t, SP_DB_FEEDBACK, d.keys[i], ITEM_KEY_LEN);
	} while (rc == SP_OK && d.n == 64);
	return rc;
}
