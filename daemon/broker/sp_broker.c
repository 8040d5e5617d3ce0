/* sp_broker.c — broker event loop: admit, commit in batches, ack, forward. */
#include "sp_broker.h"
#include "sp_meta_keys.h"

#include "sp_broker_int.h"
#include "sp_subject.h"
#include "sp_translate.h"
#include "sp_withdraw.h"


struct peer *sp_broker_peer_of(struct broker *b, const char *org)
{
	for (size_t i = 0; i < b->npeers; i++)
		if (strcmp(sp_roster_at(b->roster, i)->id, org) == 0)
			return &b->peers[i];
	return NULL;
}

static void queue_reply(struct broker *b, const sp_msg *m, const Seinpost__Frame *f)
{
	struct reply *r;
	if (b->nreplies >= BATCH_MAX)
		return;
	r = &b->replies[b->nreplies];
	if (sp_wire_pack(&f->base, &r->buf, &r->len) != SP_OK)
		return;
	memcpy(r->rid, m->rid, m->rid_len);
	r->rid_len = m->rid_len;
	b->nreplies++;
}

static void reply_submit(struct broker *b, const sp_msg *m, const uint8_t *id, int status,
                         int code, const char *reason)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__SubmitAck ack = SEINPOST__SUBMIT_ACK__INIT;
	ack.id.data = (uint8_t *)id;
	ack.id.len = SP_ID_BYTES;
	ack.status = (Seinpost__Status)status;
	ack.code = code;
	ack.reason = (char *)(reason ? reason : "");
	ack.sth = b->sth; /* witnessing: every ack carries the latest head */
	f.version = SP_WIRE_VERSION;
	f.body_case = SEINPOST__FRAME__BODY_SUBMIT_ACK;
	f.submit_ack = &ack;
	queue_reply(b, m, &f);
}

static int audit_reject(sp_txn *t, const struct broker *b, const char *actor,
                        const Seinpost__SignalHeader *h, const uint8_t *id, int code,
                        const char *why)
{
	sp_audit_entry e = {
		.event = SEINPOST__AUDIT_EVENT__AUDIT_REJECTED,
		.actor = actor,
		.signal_id = id,
		.pseudonym = h ? h->pseudonym.data : NULL,
		.category = h ? h->category : NULL,
		.weight = h ? h->weight : 0,
		.policy_hash = sp_policy_hash(b->policy),
		.reason = why,
		.code = code,
	};
	return sp_audit_append(t, &e, NULL);
}

/* Queue one recipient's share of an accepted signal: what the policy gives
 * its role immediately. */
static int enqueue(struct broker *b, sp_txn *t, const Seinpost__Signal *sig,
                   const Seinpost__SignalHeader *h, const sp_org *to)
{
	unsigned tiers_now;
	const sp_policy_rule *rule;
	if (!sp_admit_route(b->policy, to, (int)h->subject_kind, h->category, (int)h->weight, &tiers_now, &rule))
		return SP_OK;
	return sp_queue_put(t, sig, h->id.data, to->id, 1u << SP_WHEN_IMMEDIATELY,
	                    rule ? rule->id : NULL, NULL);
}

/* Have we accepted this id before, and is this the same signal? Compares the
 * canonical encodings of the stored and the offered signal. Returns
 * SP_ENOTFOUND (new), SP_OK (byte-identical retry from its own sender) or
 * SP_EREPLAY (the id was used for other bytes, or by another sender). */
static int seen_before(sp_txn *t, const char *proven, const Seinpost__Signal *sig)
{
	Seinpost__SignalHeader *raw = NULL;
	Seinpost__BrokerSignal *bs = NULL;
	uint8_t *a = NULL, *c = NULL;
	size_t al, cl, vl;
	const void *v;
	int rc;

	raw = seinpost__signal_header__unpack(NULL, sig->header.len, sig->header.data);
	if (!raw || raw->id.len != SP_ID_BYTES) {
		rc = SP_ENOTFOUND; /* admission will say what is wrong */
		goto out;
	}
	rc = sp_store_get(t, SP_DB_SIGNALS, raw->id.data, SP_ID_BYTES, &v, &vl);
	if (rc != SP_OK)
		goto out;
	bs = seinpost__broker_signal__unpack(NULL, vl, v);
	if (!bs || !bs->signal) {
		rc = SP_ECORRUPT;
		goto out;
	}
	if ((rc = sp_wire_pack(&bs->signal->base, &a, &al)) != SP_OK ||
	    (rc = sp_wire_pack(&sig->base, &c, &cl)) != SP_OK)
		goto out;
	rc = (al == cl && memcmp(a, c, al) == 0 && strcmp(raw->sender, proven) == 0) ? SP_OK : SP_EREPLAY;
out:
	free(a);
	free(c);
	if (bs)
		seinpost__broker_signal__free_unpacked(bs, NULL);
	if (raw)
		seinpost__signal_header__free_unpacked(raw, NULL);
	return rc;
}

static int handle_submit(struct broker *b, sp_txn *t, const sp_msg *m, const Seinpost__Signal *sig)
{
	Seinpost__SignalHeader *h = NULL;
	char why[256] = "", idhex[SP_ID_HEX];
	sp_admit_opts o = { .now_s = sp_now_s(), .max_skew_s = b->cfg->max_clock_skew_s,
	                    .max_age_s = b->cfg->max_age_s,
	                    .prev_policy_hash = b->polver.has_prev ? b->polver.prev : NULL,
	                    .prev_policy_until_s = b->polver.changed_ms / 1000u + b->cfg->policy_grace_s,
	                    .sig_verified = b->cur_pre && b->cur_pre->kind == PRE_SUBMIT && b->cur_pre->ok };
	uint8_t *stored = NULL;
	size_t stored_len;
	int rc;

	/* Dedup before admission: a retry of what we already accepted is an
	 * idempotent DUPLICATE even when its created time has since grown
	 * older than the clock window (the sender's outbox may have held it
	 * through hours of broker downtime). */
	rc = seen_before(t, m->user, sig);
	if (rc == SP_OK) {
		Seinpost__SignalHeader *raw = seinpost__signal_header__unpack(NULL, sig->header.len, sig->header.data);
		if (raw)
			reply_submit(b, m, raw->id.data, SEINPOST__STATUS__STATUS_DUPLICATE, 0, "");
		if (raw)
			seinpost__signal_header__free_unpacked(raw, NULL);
		return SP_OK;
	}
	if (rc != SP_ENOTFOUND && rc != SP_EREPLAY)
		return rc;
	if (rc == SP_EREPLAY)
		snprintf(why, sizeof why, "replay: signal id already used for a different signal");
	else
		rc = sp_admit_signal(b->roster, b->policy, m->user, sig, &o, &h, why, sizeof why);
	if (rc == SP_OK && (rc = sp_translate_header(h)) != SP_OK) { /* made under an older key epoch */
		snprintf(why, sizeof why, "pseudonym of key epoch %u, newer than the broker's translations",
		         h->pseudonym_epoch);
		seinpost__signal_header__free_unpacked(h, NULL);
		h = NULL;
		rc = SP_EKEY;
	}
	if (rc != SP_OK) {
		/* The id is only meaningful once the header decoded; otherwise the
		 * sender learns of the rejection by its retries running out. */
		Seinpost__SignalHeader *raw = seinpost__signal_header__unpack(NULL, sig->header.len, sig->header.data);
		const uint8_t *id = raw && raw->id.len == SP_ID_BYTES ? raw->id.data : NULL;
		b->rejected++;
		sp_log_event(LOG_WARNING, C, m->user, id ? sp_hex(id, SP_ID_BYTES, idhex) : NULL,
		             "rejected: %s", why);
		int arc = audit_reject(t, b, m->user, NULL, id, rc, why);
		if (id)
			reply_submit(b, m, id, SEINPOST__STATUS__STATUS_REJECTED, rc, why);
		if (raw)
			seinpost__signal_header__free_unpacked(raw, NULL);
		return arc;
	}
	sp_hex(h->id.data, SP_ID_BYTES, idhex);
	{
		Seinpost__BrokerSignal bs = SEINPOST__BROKER_SIGNAL__INIT;
		bs.signal = (Seinpost__Signal *)sig;
		bs.accepted = sp_now_ms();
		bs.expires = h->expires;
		rc = sp_wire_pack(&bs.base, &stored, &stored_len);
		if (rc != SP_OK)
			goto out;
	}
	/* seen_before() ruled out an existing id; NOOVERWRITE still guards it. */
	rc = sp_store_put(t, SP_DB_SIGNALS, h->id.data, SP_ID_BYTES, stored, stored_len,
	                  SP_PUT_NOOVERWRITE);
	if (rc != SP_OK)
		goto out;
	{
		sp_audit_entry e = {
			.event = SEINPOST__AUDIT_EVENT__AUDIT_SUBMITTED,
			.actor = h->sender,
			.pseudonym = h->pseudonym.len == 32 ? h->pseudonym.data : NULL,
			.signal_id = h->id.data,
			/* the figures tell resident reports apart (docs/stats.md) */
			.reason = h->resident_report ? "resident report" : NULL,
			.category = h->category,
			.weight = h->weight,
			.policy_hash = h->policy_hash.data,
		};
		rc = sp_audit_append(t, &e, NULL);
		if (rc != SP_OK)
			goto out;
	}
	/* A report without a subject counts in the figures only: no routing,
	 * no matching, no escalation. */
	for (size_t i = 0; h->subject_kind != SEINPOST__SUBJECT_KIND__SUBJECT_NONE &&
	                   i < sp_roster_count(b->roster); i++) {
		const sp_org *to = sp_roster_at(b->roster, i);
		if (strcmp(to->id, h->sender) == 0)
			continue;
		rc = enqueue(b, t, sig, h, to);
		if (rc != SP_OK)
			goto out;
	}
	{
		/* Policy engine: if-involved routing, match, escalation. */
		sp_engine eng = { b->policy, b->roster, sp_now_s() };
		rc = h->subject_kind == SEINPOST__SUBJECT_KIND__SUBJECT_NONE ? SP_OK : sp_escalate_on_signal(&eng, t, h);
		if (rc != SP_OK)
			goto out;
	}
	b->accepted++;
	sp_log_event(LOG_INFO, C, h->sender, idhex, "accepted %s weight %u", h->category, h->weight);
	reply_submit(b, m, h->id.data, SEINPOST__STATUS__STATUS_OK, 0, "");
out:
	free(stored);
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	return rc;
}

static void handle_hello(struct broker *b, const sp_msg *m, const Seinpost__Hello *hello)
{
	struct peer *p = sp_broker_peer_of(b, m->user);
	if (!p)
		return;
	if (strcmp(hello->org, m->user) != 0)
		sp_log_event(LOG_WARNING, C, m->user, NULL, "hello names another organisation; using the authenticated one");
	if (!p->connected || p->rid_len != m->rid_len || memcmp(p->rid, m->rid, m->rid_len) != 0) {
		memcpy(p->rid, m->rid, m->rid_len);
		p->rid_len = m->rid_len;
		p->connected = 1;
		p->cursor = 0;
		p->inflight = 0;
		p->last_progress = sp_mono_ms();
		p->stalls = 0;
		p->next_try = 0;
		sp_log_event(LOG_INFO, C, m->user, NULL, "connected");
	}
}

/* Tell a node which policy we hold: it refuses to send under another. */
static void reply_policy_info(struct broker *b, const sp_msg *m)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__PolicyInfo pi = SEINPOST__POLICY_INFO__INIT;
	pi.policy_hash.data = (uint8_t *)sp_policy_hash(b->policy);
	pi.policy_hash.len = SP_POLICY_HASH_BYTES;
	pi.version = (char *)sp_policy_version(b->policy);
	f.version = SP_WIRE_VERSION;
	f.body_case = SEINPOST__FRAME__BODY_POLICY_INFO;
	f.policy_info = &pi;
	queue_reply(b, m, &f);
}

static int handle_involve(struct broker *b, sp_txn *t, const sp_msg *m, const Seinpost__InvolveUpdate *u)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__InvolveAck a = SEINPOST__INVOLVE_ACK__INIT;
	sp_engine eng = { b->policy, b->roster, sp_now_s() };
	uint8_t pr[32];
	char why[256] = "";
	int rc = sp_escalate_on_involve(&eng, t, m->user, u, why, sizeof why);
	if (rc < 0 && !sp_escalate_refusal(rc))
		return rc; /* storage failure: the batch aborts, the node retries */
	a.pseudonym = u->pseudonyms[0]->pseudonym;
	if (rc == SP_OK) { /* issue 13: the node maps its own pseudonym of the subject, not P */
		int r = sp_subject_involved(t, u, m->user, pr);
		if (r != SP_OK)
			return r;
		a.recipient_pseudonym.data = pr;
		a.recipient_pseudonym.len = sizeof pr;
	}
	a.status = rc == SP_OK ? SEINPOST__STATUS__STATUS_OK : SEINPOST__STATUS__STATUS_REJECTED;
	a.code = rc;
	a.reason = why;
	f.version = SP_WIRE_VERSION;
	f.body_case = SEINPOST__FRAME__BODY_INVOLVE_ACK;
	f.involve_ack = &a;
	queue_reply(b, m, &f);
	if (rc != SP_OK)
		sp_log_event(LOG_WARNING, C, m->user, NULL, "involvement refused: %s", why);
	return SP_OK;
}

/* Bulk involvement: every update of the frame inside this batch's (child)
 * transaction, one answer listing what was stored and what was refused. */
static int handle_involve_batch(struct broker *b, sp_txn *t, const sp_msg *m, const Seinpost__InvolveBatch *ib)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__InvolveBatchAck a = SEINPOST__INVOLVE_BATCH_ACK__INIT;
	sp_engine eng = { b->policy, b->roster, sp_now_s() };
	ProtobufCBinaryData *stored = calloc(ib->n_updates, sizeof *stored);
	Seinpost__InvolveAck *ref = calloc(ib->n_updates, sizeof *ref), **refp = calloc(ib->n_updates, sizeof *refp);
	char (*why)[128] = calloc(ib->n_updates, sizeof *why);
	ProtobufCBinaryData *recip = calloc(ib->n_updates, sizeof *recip);
	uint8_t *prs = malloc(ib->n_updates * 32 + 1);
	int rc = SP_OK;

	if (!stored || !ref || !refp || !why || !recip || !prs) {
		rc = SP_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ib->n_updates; i++) {
		const Seinpost__InvolveUpdate *u = ib->updates[i];
		int r = sp_escalate_on_involve(&eng, t, m->user, u, why[a.n_refused], sizeof why[0]);
		if (r < 0 && !sp_escalate_refusal(r)) {
			rc = r; /* storage failure: the frame is rolled back, the node resends */
			goto out;
		}
		if (r == SP_OK) {
			if ((rc = sp_subject_involved(t, u, m->user, prs + 32 * a.n_stored)) != SP_OK)
				goto out;
			recip[a.n_stored].data = prs + 32 * a.n_stored;
			recip[a.n_stored].len = 32;
			stored[a.n_stored++] = u->pseudonyms[0]->pseudonym;
			continue;
		}
		Seinpost__InvolveAck *x = &ref[a.n_refused];
		seinpost__involve_ack__init(x);
		x->pseudonym = u->pseudonyms[0]->pseudonym;
		x->status = SEINPOST__STATUS__STATUS_REJECTED;
		x->code = r;
		x->reason = why[a.n_refused];
		refp[a.n_refused++] = x;
	}
	a.stored = stored;
	a.n_stored_recipient = a.n_stored;
	a.stored_recipient = recip;
	a.refused = refp;
	f.version = SP_WIRE_VERSION;
	f.body_case = SEINPOST__FRAME__BODY_INVOLVE_BATCH_ACK;
	f.involve_batch_ack = &a;
	queue_reply(b, m, &f);
	if (a.n_refused)
		sp_log_event(LOG_WARNING, C, m->user, NULL, "%zu of %zu involvements refused, e.g.: %s",
		             a.n_refused, ib->n_updates, why[0]);
out:
	free(stored);
	free(ref);
	free(refp);
	free(why);
	free(recip);
	free(prs);
	return rc;
}

/* Once a second: deferred releases and retention, in their own transaction. */
static void policy_tick(struct broker *b)
{
	sp_txn *t = NULL;
	size_t queued = 0, expired = 0;
	int flushed = 0, rc = sp_txn_begin(b->store, 1, &t);
	if (rc == SP_OK)
		rc = sp_release_flush(t, &queued);
	if (rc == SP_OK)
		rc = sp_retention_sweep_broker(t, b->policy, b->roster, sp_now_s(), &expired);
	if (rc == SP_OK)
		rc = sp_malformed_flush(b->malformed, t, sp_mono_ms(), &flushed);
	if (rc == SP_OK && (queued || expired || flushed))
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	if (rc != SP_OK)
		sp_log(LOG_ERR, C, "policy tick failed: %s", sp_strerror(rc));
}

/* Queue an answer (a packed frame, taken over) to send after the commit. */
static int queue_answer(struct broker *b, const sp_msg *m, int rc, uint8_t *buf, size_t len)
{
	struct reply *r;
	if (rc != SP_OK || !buf || b->nreplies >= BATCH_MAX) {
		free(buf);
		return rc;
	}
	r = &b->replies[b->nreplies++];
	r->buf = buf;
	r->len = len;
	memcpy(r->rid, m->rid, m->rid_len);
	r->rid_len = m->rid_len;
	return SP_OK;
}

/* Audit protocol frames (tree-head proofs, read receipts, queries). */
static int audit_frame(struct broker *b, sp_txn *t, const sp_msg *m, const Seinpost__Frame *f)
{
	sp_auditsrv s = { .roster = b->roster, .policy = b->policy, .sign_sk = b->keys->sign_sk,
	                  .max_frame = b->cfg->max_frame };
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = sp_auditsrv_handle(&s, t, m->user, f, &buf, &len);
	return queue_answer(b, m, rc, buf, len);
}

/* Sign a tree head when due (inside t), and keep the latest in memory for
 * the acks. */
static int audit_heads(struct broker *b, sp_txn *t)
{
	return sp_sth_maybe_sign(t, b->keys->sign_sk, b->cfg->sth_every_records,
	                         (uint64_t)b->cfg->sth_every_s * 1000u, 0, NULL);
}

static void audit_heads_reload(struct broker *b)
{
	sp_txn *t = NULL;
	Seinpost__SignedTreeHead *h = NULL;
	if (sp_txn_begin(b->store, 0, &t) != SP_OK)
		return;
	if (sp_sth_latest(t, &h) == SP_OK) {
		if (b->sth)
			seinpost__signed_tree_head__free_unpacked(b->sth, NULL);
		b->sth = h;
	}
	sp_txn_abort(&t);
}

static void audit_heads_tick(struct broker *b)
{
	sp_txn *t = NULL;
	int rc = sp_txn_begin(b->store, 1, &t);
	if (rc == SP_OK)
		rc = sp_clockstep_check(&b->clock, t, NULL);
	if (rc == SP_OK)
		rc = audit_heads(b, t);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	if (rc != SP_OK)
		sp_log(LOG_ERR, C, "signing a tree head failed: %s", sp_strerror(rc));
	audit_heads_reload(b);
}

/* A newer signed roster for a node that holds an older one: the exact
 * bytes the operator signed (the node checks the signature itself). */
static void reply_roster(struct broker *b, const sp_msg *m)
{
	struct reply *r = &b->replies[b->nreplies];
	if (b->nreplies >= BATCH_MAX || sp_rostersync_frame(b->roster, &r->buf, &r->len) != SP_OK)
		return;
	memcpy(r->rid, m->rid, m->rid_len);
	r->rid_len = m->rid_len;
	b->nreplies++;
}

/* A frame from an organisation that is no longer on the roster: a signal
 * gets a REJECTED verdict its outbox shows ("organisation revoked"), and
 * the refusal is audited; anything else is dropped. */
static int refuse_revoked(struct broker *b, sp_txn *t, const sp_msg *m, const Seinpost__Frame *f, int code)
{
	const char *why = code == SP_EREVOKED ? "organisation revoked" : "organisation not on the roster";
	Seinpost__SignalHeader *raw = NULL;
	int rc;
	b->rejected++;
	if (f->body_case != SEINPOST__FRAME__BODY_SUBMIT) {
		sp_log_event(LOG_WARNING, C, m->user, NULL, "frame refused: %s", why);
		return SP_OK;
	}
	raw = seinpost__signal_header__unpack(NULL, f->submit->header.len, f->submit->header.data);
	const uint8_t *id = raw && raw->id.len == SP_ID_BYTES ? raw->id.data : NULL;
	char idhex[SP_ID_HEX];
	sp_log_event(LOG_WARNING, C, m->user, id ? sp_hex(id, SP_ID_BYTES, idhex) : NULL, "rejected: %s", why);
	rc = audit_reject(t, b, m->user, NULL, id, code, why);
	if (id)
		reply_submit(b, m, id, SEINPOST__STATUS__STATUS_REJECTED, code, why);
	if (raw)
		seinpost__signal_header__free_unpacked(raw, NULL);
	return rc;
}

/* Decode one frame and act on it inside the batch transaction. */
static int handle(struct broker *b, sp_txn *t, const sp_msg *m)
{
	Seinpost__Frame *f = b->cur_pre ? b->cur_pre->frame : NULL;
	int own = !f; /* else run_batch frees it */
	char why[256];
	int rc;

	/* The routing id must be the one this organisation's handshake bound;
	 * the org identity itself always comes from ZAP (m->user). */
	if (!m->user[0]) {
		sp_log(LOG_WARNING, C, "frame without authenticated identity dropped");
		return SP_OK;
	}
	rc = own ? sp_wire_decode_frame(m->body, m->len, b->cfg->max_frame, &f, why, sizeof why) : SP_OK;
	if (rc != SP_OK) {
		uint8_t id[SP_ID_BYTES]; /* a signal failing validation is answered, not resent for ever */
		if (sp_malformed_signal_id(m->body, m->len, b->cfg->max_frame, m->user, id) == SP_OK)
			reply_submit(b, m, id, SEINPOST__STATUS__STATUS_REJECTED, rc, why);
		return sp_malformed_note(b->malformed, t, m->user, rc, why, sp_mono_ms());
	}
	/* The handshake proved a key that was on the roster then; whether
	 * the organisation still is decides every frame, so a revocation
	 * takes effect at its next message, not its next connection. */
	if (sp_rostersync_refusal(b->roster, m->user, &rc)) {
		rc = refuse_revoked(b, t, m, f, rc);
		goto out;
	}
	{
		/* The first frame from a node since this start gets the roster
		 * ahead of its answer: after a restart with a rotated broker sign
		 * key, the node must know the new key before a tree head signed
		 * by it reaches its witness (a node with this serial ignores it). */
		struct peer *p = sp_broker_peer_of(b, m->user);
		if (p && !p->roster_sent && f->body_case != SEINPOST__FRAME__BODY_HELLO)
			reply_roster(b, m);
		if (p)
			p->roster_sent = 1;
	}
	switch (f->body_case) {
	case SEINPOST__FRAME__BODY_HELLO:
		handle_hello(b, m, f->hello);
		reply_policy_info(b, m);
		if (f->hello->roster_serial < sp_roster_serial(b->roster))
			reply_roster(b, m);
		rc = SP_OK;
		break;
	case SEINPOST__FRAME__BODY_INVOLVE:
		rc = handle_involve(b, t, m, f->involve);
		break;
	case SEINPOST__FRAME__BODY_INVOLVE_BATCH:
		rc = handle_involve_batch(b, t, m, f->involve_batch);
		break;
	case SEINPOST__FRAME__BODY_SUBMIT:
		handle_hello(b, m, &(Seinpost__Hello){ .org = (char *)m->user });
		rc = handle_submit(b, t, m, f->submit);
		break;
	case SEINPOST__FRAME__BODY_DELIVERY_ACK:
		rc = sp_broker_receipt(b, t, m, f->delivery_ack);
		break;
	case SEINPOST__FRAME__BODY_DELIVERY_ACKS:
		rc = sp_broker_receipts(b, t, m, f->delivery_acks);
		break;
	case SEINPOST__FRAME__BODY_REFERRAL_UPDATE: {
		uint8_t *buf = NULL;
		size_t len = 0;
		rc = sp_referral_status_apply(t, b->roster, b->policy, m->user, f->referral_update, &buf, &len);
		rc = queue_answer(b, m, rc, buf, len);
		break;
	}
	case SEINPOST__FRAME__BODY_WITHDRAW: { /* the sender withdraws a signal (sp_withdraw.h) */
		uint8_t *buf = NULL;
		size_t len = 0;
		rc = sp_withdraw_apply(t, &(sp_engine){ b->policy, b->roster, sp_now_s() }, m->user, f->withdraw, &buf, &len);
		rc = queue_answer(b, m, rc, buf, len);
		break;
	}
	case SEINPOST__FRAME__BODY_DELIVERY_REFUSAL: {
		int moved = 0;
		char idhex[SP_ID_HEX];
		rc = sp_quarantine_refused(b->quar, t, m->user, f->delivery_refusal->id.data,
		                           f->delivery_refusal->code, &moved);
		if (rc == SP_OK && moved) {
			b->health.quarantined++;
			sp_log_event(LOG_ERR, C, m->user, sp_hex(f->delivery_refusal->id.data, 16, idhex),
			             "delivery quarantined: the recipient refused it %u times (%s); not resent",
			             b->cfg->max_refusals, sp_strerror(f->delivery_refusal->code));
		}
		break;
	}
	default:
		if (sp_auditsrv_owns(f)) {
			rc = audit_frame(b, t, m, f);
			break;
		}
		sp_log_event(LOG_WARNING, C, m->user, NULL, "unexpected frame type %d", f->body_case);
		rc = SP_OK;
	}
out:
	if (own)
		seinpost__frame__free_unpacked(f, NULL);
	return rc;
}


/* Fail closed, loudly once: while frames cannot be stored (map full, disk
 * full, audit write failing) nothing is acknowledged or forwarded; senders
 * keep them in their outboxes and retry. One episode (sp_health.h): a line
 * when it starts, one with its length and count when it ends; `status`
 * shows it meanwhile. ok: a commit that stored real work (not only hellos,
 * which can commit on a full disk while every signal fails). */
static void storage_state(struct broker *b, int rc)
{
	if (rc != SP_OK) {
		char why[192];
		if (!b->health.storage.since_ms)
			sp_sd_status("DEGRADED: storage failing (%s), refusing new signals", sp_strerror(rc));
		snprintf(why, sizeof why, "cannot store or audit incoming frames: %s (%s)%s; refusing new work",
		         sp_strerror(rc), sp_store_last_error(),
		         rc == SP_EMAPFULL ? " (raise map_size_mb and restart)" : "");
		sp_episode_fail(&b->health.storage, 0, 0, why);
	} else {
		sp_episode_ok(&b->health.storage);
	}
}

/* One frame in a child transaction: if storing it fails (map full, I/O,
 * audit), only this frame is rolled back and left unanswered; the rest of
 * the batch still commits. Returns nonzero only when the batch itself is
 * unusable. */
static int handle_isolated(struct broker *b, sp_txn *batch, const sp_msg *m)
{
	sp_txn *t = NULL;
	size_t replies = b->nreplies;
	uint64_t acc = b->accepted, rej = b->rejected, del = b->delivered;
	int rc = sp_txn_begin_child(batch, &t);
	if (rc != SP_OK) {
		storage_state(b, rc);
		return rc;
	}
	rc = handle(b, t, m);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	if (rc != SP_OK) {
		for (size_t i = replies; i < b->nreplies; i++)
			free(b->replies[i].buf);
		b->nreplies = replies;
		b->accepted = acc;
		b->rejected = rej;
		b->delivered = del;
		storage_state(b, rc);
	}
	return SP_OK;
}

/* Time of the last commit, for `seinpost status`. Best effort: written in a
 * child so a full map does not fail the batch over a statistic. */
static void stamp_commit(sp_txn *batch)
{
	sp_txn *t = NULL;
	uint8_t v[8];
	if (sp_txn_begin_child(batch, &t) != SP_OK)
		return;
	sp_be64_put(v, sp_now_ms());
	if (sp_store_put(t, SP_DB_META, SP_MK_LAST_COMMIT, strlen(SP_MK_LAST_COMMIT), v, 8, 0) == SP_OK && sp_txn_commit(&t) == SP_OK)
		return;
	sp_txn_abort(&t);
}

/* Signature work for message i, on either thread: decode the frame (kept
 * for handle(), so each message is decoded once) and
 * verify a signal's header signature and tier digests, or a receipt's
 * signature, against the key of the organisation the handshake proved. Only
 * a positive result is used later; anything else is checked again, and
 * reported, on the main thread as before. */
static void precheck_one(void *ctx, size_t i)
{
	struct broker *b = ctx;
	const sp_msg *m = &b->inbox[i];
	struct precheck *p = &b->pre[i];
	Seinpost__Frame *f = NULL;
	Seinpost__SignalHeader *h = NULL;
	const sp_org *from;
	char why[128];

	p->kind = PRE_NONE;
	p->ok = 0;
	p->frame = NULL;
	if (!m->user[0] || !(from = sp_roster_find(b->roster, m->user)) ||
	    sp_wire_decode_frame(m->body, m->len, b->cfg->max_frame, &f, why, sizeof why) != SP_OK)
		return;
	if (f->body_case == SEINPOST__FRAME__BODY_SUBMIT) {
		p->kind = PRE_SUBMIT;
		if (sp_wire_check_signal(f->submit, &h, why, sizeof why) == SP_OK && strcmp(h->sender, m->user) == 0)
			p->ok = sp_org_verify_signal(from, f->submit, h, sp_now_s()) == SP_OK;
		if (h)
			seinpost__signal_header__free_unpacked(h, NULL);
	} else if (f->body_case == SEINPOST__FRAME__BODY_DELIVERY_ACK) {
		const Seinpost__DeliveryAck *a = f->delivery_ack;
		p->kind = PRE_RECEIPT;
		p->ok = sp_org_verify_receipt(from, a->id.data, a->time, a->signature.data, sp_now_s()) == SP_OK;
	} else if (f->body_case == SEINPOST__FRAME__BODY_DELIVERY_ACKS) {
		p->kind = PRE_RECEIPT;
		p->ok = sp_broker_receipts_verify(from, f->delivery_acks) == SP_OK;
	}
	p->frame = f;
}

/* One batch: everything waiting (up to BATCH_MAX) is received first, its
 * signatures checked on two threads, then handled in one write transaction;
 * replies go out only after it committed. */
static void run_batch(struct broker *b)
{
	sp_txn *t = NULL;
	size_t n = 0, i = 0;
	int rc;

	while (n < BATCH_MAX) {
		sp_msg *m = &b->inbox[n];
		memset(m, 0, sizeof *m);
		rc = sp_transport_recv(b->sock, 1, 1, m);
		if (rc == SP_ETIMEOUT)
			break;
		if (rc != SP_OK) {
			sp_msg_clear(m);
			continue;
		}
		sp_control_seen(b->ctl, m->user);
		n++;
	}
	if (!n)
		return;
	sp_workers_run(b->workers, precheck_one, b, n);
	uint64_t work = b->accepted + b->rejected + b->delivered;
	rc = sp_txn_begin(b->store, 1, &t);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "cannot begin transaction: %s", sp_strerror(rc));
		goto drop;
	}
	for (; i < n && b->nreplies < BATCH_MAX; i++) {
		b->cur_pre = &b->pre[i];
		rc = handle_isolated(b, t, &b->inbox[i]);
		b->cur_pre = NULL;
		if (rc != SP_OK)
			goto fail;
	}
	rc = audit_heads(b, t);
	if (rc != SP_OK) {
		storage_state(b, rc); /* logged once per episode */
		goto fail;
	}
	stamp_commit(t);
	rc = sp_txn_commit(&t);
	if (rc != SP_OK) {
		/* Nothing of this batch acknowledged, senders will retry;
		 * logged once per episode. */
		storage_state(b, rc);
		/* Receipts of this batch did not count: what memory says is in
		 * flight is no longer true; send again from the start. */
		for (size_t j = 0; j < b->npeers; j++) {
			b->peers[j].cursor = 0;
			b->peers[j].inflight = 0;
		}
		goto drop;
	}
	if (b->accepted + b->rejected + b->delivered != work)
		storage_state(b, SP_OK); /* recovery counts only durable commits of real work */
	for (size_t j = 0; j < b->nreplies; j++) {
		struct reply *r = &b->replies[j];
		if (sp_transport_send(b->sock, r->rid, r->rid_len, r->buf, r->len) != SP_OK)
			sp_log(LOG_DEBUG, C, "ack not sent (peer gone); it will retry");
	}
	audit_heads_reload(b);
	goto drop;
fail:
	sp_txn_abort(&t);
drop:
	/* Messages not handled (a failed batch, or replies full) are dropped:
	 * unacknowledged, their senders send them again. */
	for (size_t j = 0; j < n; j++) {
		sp_msg_clear(&b->inbox[j]);
		if (b->pre[j].frame)
			seinpost__frame__free_unpacked(b->pre[j].frame, NULL);
		b->pre[j].frame = NULL;
	}
	for (size_t j = 0; j < b->nreplies; j++)
		free(b->replies[j].buf);
	b->nreplies = 0;
}

int sp_broker_run(const sp_config *c, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
	struct broker b = { .cfg = c };
	uint64_t wd = sp_sd_watchdog_interval_ms(), last_wd = 0, last_status = 0, last_tick = 0, last_heads = 0;
	sp_health_init(&b.health, C);
	int rc = sp_broker_open(&b);
	if (rc != SP_OK)
		goto out;
	rc = sp_broker_audit_policy_loaded(&b);
	if (rc == SP_OK) /* the roster in force from now on: roster-loaded */
		rc = sp_rostersync_commit(b.store, b.roster, b.roster);
	if (rc == SP_OK)
		rc = sp_rostersync_started(b.store, b.roster);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "cannot write the audit log: %s", sp_strerror(rc));
		goto out;
	}
	audit_heads_tick(&b);
	sp_log(LOG_INFO, C, "listening on %s, %zu organisations, policy %s",
	       c->endpoint, b.npeers, sp_policy_version(b.policy));
	sp_sd_ready("broker running");
	while (!*stop) {
		zmq_pollitem_t it[2] = {
			{ .socket = b.sock, .events = ZMQ_POLLIN },
			{ .socket = sp_control_socket(b.ctl), .events = ZMQ_POLLIN },
		};
		int n = zmq_poll(it, 2, 100);
		if (n > 0 && (it[0].revents & ZMQ_POLLIN))
			run_batch(&b);
		if (n > 0 && (it[1].revents & ZMQ_POLLIN)) {
			b.health.signals_in = b.accepted;
			b.health.signals_out = b.delivered;
			b.health.signals_rejected = b.rejected;
			sp_control_serve(b.ctl, &b.health, b.store);
		}
		sp_health_tick(&b.health, b.store);
		if (*reload) {
			*reload = 0;
			if (sp_broker_load_policy(&b) == SP_OK && sp_broker_audit_policy_loaded(&b) == SP_OK)
				sp_log(LOG_NOTICE, C, "policy reloaded: %s", sp_policy_version(b.policy));
			sp_broker_reload_roster(&b);
		}
		if (sp_mono_ms() - last_tick >= 1000) {
			policy_tick(&b);
			last_tick = sp_mono_ms();
		}
		sp_broker_pump(&b);
		uint64_t now = sp_mono_ms();
		if (now - last_heads >= 1000) {
			audit_heads_tick(&b);
			last_heads = now;
		}
		if (wd && now - last_wd >= wd) {
			sp_sd_watchdog_kick();
			last_wd = now;
		}
		if (now - last_status >= 5000) {
			sp_sd_status("accepted %llu, rejected %llu, delivered %llu",
			             (unsigned long long)b.accepted, (unsigned long long)b.rejected,
			             (unsigned long long)b.delivered);
			last_status = now;
		}
	}
	sp_sd_stopping();
	sp_log(LOG_INFO, C, "stopping");
	rc = SP_OK;
out:
	sp_broker_close(&b);
	return rc;
}
