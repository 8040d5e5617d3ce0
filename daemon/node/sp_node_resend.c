/* sp_node_resend.c — resending the pending outbox in order, with backoff,
 * settling entries that can no longer be decoded (rejected at the node). */
#include "sp_node_int.h"

#define DAMAGED_MAX 16 /* damaged pending entries settled per round */

struct resend_ctx {
	struct node *n;
	uint8_t damaged[DAMAGED_MAX][SP_ID_BYTES]; /* pending copies that no longer decode */
	size_t ndamaged;
	uint32_t sent;
	int stopped;       /* a send failed or the round hit RESEND_MAX */
	uint64_t next_pos; /* pending-index position to continue from */
	uint64_t now_wall; /* unix ms: entries queued within retry_ms are in flight */
};

static int resend_one(void *ctx, uint64_t pos, const uint8_t id[16], const void *v, size_t vl)
{
	struct resend_ctx *c = ctx;
	Seinpost__OutboxEntry *e = seinpost__outbox_entry__unpack(NULL, vl, v);
	if (!e)
		return 0;
	if (!c->n->unsent && e->state == SEINPOST__OUTBOX_STATE__OUTBOX_PENDING &&
	    e->queued + c->n->cfg->retry_ms > c->now_wall && e->queued <= c->now_wall + 60000) {
		/* Sent at submit less than retry_ms ago: in flight, not lost. The
		 * index is in submission order, so the rest is younger still. Under
		 * load this keeps the node from resending (and the broker from
		 * verifying again) every signal whose answer is merely queued. */
		seinpost__outbox_entry__free_unpacked(e, NULL);
		return 1;
	}
	if (!sp_verdict_due(e, c->now_wall)) {
		/* Refused for now (clock, policy version): its own backoff. */
		c->next_pos = pos + 1;
		seinpost__outbox_entry__free_unpacked(e, NULL);
		return 0;
	}
	if ((e->state == SEINPOST__OUTBOX_STATE__OUTBOX_PENDING || e->state == SEINPOST__OUTBOX_STATE__OUTBOX_DEFERRED) &&
	    !sp_verdict_intact(e->signal)) {
		/* The broker could not even name it in a rejection: settle it
		 * here, after this read transaction. */
		if (c->ndamaged < DAMAGED_MAX)
			memcpy(c->damaged[c->ndamaged++], id, SP_ID_BYTES);
		c->next_pos = pos + 1;
		seinpost__outbox_entry__free_unpacked(e, NULL);
		return 0;
	}
	if ((e->state == SEINPOST__OUTBOX_STATE__OUTBOX_PENDING || e->state == SEINPOST__OUTBOX_STATE__OUTBOX_DEFERRED) &&
	    e->signal) {
		if (sp_node_send_signal(c->n, e->signal) != SP_OK) {
			seinpost__outbox_entry__free_unpacked(e, NULL);
			c->stopped = 1;
			c->next_pos = pos; /* this one again, first */
			return 1; /* broker unreachable or HWM: next round */
		}
		c->sent++;
	}
	c->next_pos = pos + 1;
	seinpost__outbox_entry__free_unpacked(e, NULL);
	if (c->sent >= RESEND_MAX)
		c->stopped = 1;
	return c->stopped;
}

/* Retry the oldest signals the broker has not yet answered (idempotent by
 * id: the broker answers DUPLICATE for what it already holds). Walks the
 * pending index only, never the settled history. With no answer since the
 * previous round the interval doubles (up to BACKOFF_MAX_FACTOR x retry_ms);
 * once a round is fully answered the next starts at once, so a backlog
 * drains at the broker's pace rather than RESEND_MAX per retry_ms. */
void sp_node_resend_outbox(struct node *n)
{
	sp_txn *t = NULL;
	struct resend_ctx c = { .n = n, .now_wall = sp_now_ms() };
	uint64_t now = sp_mono_ms();
	sp_involve_resend(n->store, sp_node_send_frame_cb, n);
	if (n->policy_mismatch)
		return; /* never send under a policy the broker does not hold */
	if (sp_txn_begin(n->store, 0, &t) != SP_OK)
		return;
	/* In unsent mode continue where the last round stopped, so a backlog
	 * larger than RESEND_MAX goes out once, in order, not again and again. */
	(void)sp_outbox_foreach_pending(t, n->unsent ? n->unsent_pos : 0, resend_one, &c);
	sp_txn_abort(&t);
	if (c.ndamaged) {
		sp_verdict_ctx vc = sp_node_verdict_ctx(n);
		sp_verdict_settle_damaged(n->store, &vc, (const uint8_t(*)[SP_ID_BYTES])c.damaged, c.ndamaged);
	}
	if (n->unsent && !c.stopped) {
		n->unsent = 0; /* everything pending went out in order: direct sends resume */
		n->unsent_pos = 0;
	} else if (n->unsent) {
		n->unsent_pos = c.next_pos;
	}
	n->last_unsent_try = now;
	if (c.sent && n->answers == n->answers_at_round && n->round_left)
		sp_backoff_fail(&n->retry, now);
	else
		sp_backoff_ok(&n->retry, now);
	n->answers_at_round = n->answers;
	n->round_left = c.sent;
}
