/* sp_node.c — node event loop: local submit socket, outbox, inbox, receipts. */
#include "sp_node.h"
#include "sp_meta_keys.h"

#include "sp_node_int.h"

int sp_node_send_frame(struct node *n, Seinpost__Frame *f)
{
	uint8_t *buf = NULL;
	size_t len;
	int rc;
	f->version = SP_WIRE_VERSION;
	rc = sp_wire_pack(&f->base, &buf, &len);
	if (rc != SP_OK)
		return rc;
	rc = sp_transport_send(n->sock, NULL, 0, buf, len);
	free(buf);
	return rc;
}

int sp_node_send_frame_cb(void *ctx, Seinpost__Frame *f)
{
	return sp_node_send_frame(ctx, f);
}

void sp_node_send_hello(struct node *n)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__Hello h = SEINPOST__HELLO__INIT;
	h.org = (char *)n->cfg->org;
	h.policy_hash.data = (uint8_t *)sp_policy_hash(n->policy);
	h.policy_hash.len = SP_POLICY_HASH_BYTES;
	h.roster_serial = sp_roster_serial(n->roster); /* the broker answers with a newer one */
	f.body_case = SEINPOST__FRAME__BODY_HELLO;
	f.hello = &h;
	(void)sp_node_send_frame(n, &f);
	n->last_hello = sp_mono_ms();
}

int sp_node_send_signal(struct node *n, Seinpost__Signal *sig)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	f.body_case = SEINPOST__FRAME__BODY_SUBMIT;
	f.submit = sig;
	return sp_node_send_frame(n, &f);
}

/* routing id, empty delimiter (as REQ expects), body */
static void local_send(struct node *n, const struct envelope *env, const void *buf, size_t len)
{
	if (zmq_send(n->local, env->id, env->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(n->local, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(n->local, buf, len, ZMQ_DONTWAIT) < 0)
		sp_log(LOG_DEBUG, C, "local answer not delivered (client gone)");
}

static void local_reply(struct node *n, int code, const char *msg, const uint8_t *id,
                        Seinpost__OutboxEntry *entry)
{
	Seinpost__LocalReply r = SEINPOST__LOCAL_REPLY__INIT;
	uint8_t *buf = NULL;
	size_t len;
	r.code = code;
	r.message = (char *)(msg ? msg : "");
	if (id) {
		r.id.data = (uint8_t *)id;
		r.id.len = SP_ID_BYTES;
	}
	r.entry = entry;
	if (sp_wire_pack(&r.base, &buf, &len) != SP_OK) {
		local_send(n, &n->env, "", 0); /* a REQ client must get an answer */
		return;
	}
	local_send(n, &n->env, buf, len);
	free(buf);
}

int sp_node_local_audit(sp_txn *t, struct node *n, int event, const Seinpost__SignalHeader *h,
                        const char *recipient, int code, const char *reason)
{
	sp_audit_entry e = {
		.event = event,
		.actor = n->cfg->org,
		.recipient = recipient,
		.pseudonym = h && h->pseudonym.len == 32 ? h->pseudonym.data : NULL,
		.signal_id = h ? h->id.data : NULL,
		.category = h ? h->category : NULL,
		.weight = h ? h->weight : 0,
		.policy_hash = h ? h->policy_hash.data : NULL,
		.code = code,
		.reason = reason,
	};
	return sp_audit_append(t, &e, NULL);
}

/* Time of the last commit, for `seinpost status`. */
static int stamp_commit(sp_txn *t)
{
	uint8_t v[8];
	sp_be64_put(v, sp_now_ms());
	return sp_store_put(t, SP_DB_META, SP_MK_LAST_COMMIT, strlen(SP_MK_LAST_COMMIT), v, 8, 0);
}

/* Faults of this node, not of the input: a spool file is kept for a retry. */
static int local_fault(int rc)
{
	return rc == SP_ENOMEM || rc == SP_EIO || rc == SP_EDB || rc == SP_EMAPFULL || rc == SP_EPOLICYVER ||
	       rc == SP_ECORRUPT || rc == SP_ETIMEOUT; /* ETIMEOUT: the pseudonymisation service did not answer */
}

/* A refused submit: the local client gets the reason, a spool file goes to
 * rejected/ with it (or stays for a retry when the fault is ours). */
static void submit_refused(struct node *n, sp_spool_file *sf, int rc, const char *why)
{
	if (!sf)
		local_reply(n, rc, why, NULL, NULL);
	else if (local_fault(rc))
		sp_spool_later(n->spool, sf, sp_mono_ms());
	else
		sp_spool_reject(n->spool, sf, why);
}

/* Submit, part 1: validate and seal (CPU only). A refusal is answered at
 * once; an accepted one waits in the batch for the group commit. sf: the
 * spool file it came from (NULL: the local socket). */
static void submit_prepare(struct node *n, const Seinpost__SubmitRequest *req, sp_spool_file *sf)
{
	sp_submit_ctx ctx = {
		.org = n->cfg->org, .kh = n->kh,
		.roster = n->roster, .policy = n->policy, .now_s = sp_now_s(),
	};
	struct pending_submit *p = &n->batch[n->nbatch];
	size_t siglen;
	char why[256] = "";
	int rc;

	if (n->policy_mismatch) {
		submit_refused(n, sf, SP_EPOLICYVER, "the broker holds another policy version than this node; "
		               "install the broker's policy and restart the node; nothing was sent");
		return;
	}
	memset(p, 0, sizeof *p);
	rc = sp_submit_build(&ctx, req, &p->sigbuf, &siglen, p->id, why, sizeof why);
	if (rc == SP_OK)
		rc = sp_wire_decode_signal(p->sigbuf, siglen, &p->sig, &p->h, why, sizeof why);
	if (rc == SP_OK) {
		Seinpost__OutboxEntry e = SEINPOST__OUTBOX_ENTRY__INIT;
		e.signal = p->sig;
		e.queued = sp_now_ms();
		e.state = SEINPOST__OUTBOX_STATE__OUTBOX_PENDING;
		rc = sp_wire_pack(&e.base, &p->ebuf, &p->elen);
		if (rc != SP_OK)
			snprintf(why, sizeof why, "%s", sp_strerror(rc));
	}
	if (rc != SP_OK) {
		uint8_t *ans = NULL; /* the service gave no pseudonym: held, encrypted, answered "waiting" */
		size_t alen = 0;
		if (!sf && rc == SP_ETIMEOUT && sp_awaiting_hold(n->await, req, &ans, &alen) == SP_OK)
			local_send(n, &n->env, ans, alen);
		else
			submit_refused(n, sf, rc, why);
		free(ans);
		if (p->h)
			seinpost__signal_header__free_unpacked(p->h, NULL);
		if (p->sig)
			seinpost__signal__free_unpacked(p->sig, NULL);
		free(p->sigbuf);
		free(p->ebuf);
		return;
	}
	p->env = n->env;
	p->spool = sf;
	if (req->idempotency_key && req->idempotency_key[0]) {
		sp_spool_key(req->idempotency_key, p->key);
		p->has_key = 1;
	}
	n->nbatch++;
}

/* A known idempotency key: answer with the first signal's id, store and
 * send nothing. A new one is recorded in the same child transaction as the
 * outbox entry, so the key exists exactly when the signal does. */
static int idempotent(sp_txn *c, struct pending_submit *p)
{
	const void *v;
	size_t vl;
	int rc = sp_store_get(c, SP_DB_SPOOL, p->key, sizeof p->key, &v, &vl);
	if (rc == SP_OK && vl == SP_SPOOL_KEY_VALUE) {
		memcpy(p->id, v, SP_ID_BYTES);
		p->dup = 1;
		return SP_OK;
	}
	if (rc == SP_ENOTFOUND) {
		uint8_t v2[SP_SPOOL_KEY_VALUE];
		sp_spool_key_value(p->id, p->h->expires, v2);
		return sp_store_put(c, SP_DB_SPOOL, p->key, sizeof p->key, v2, sizeof v2, 0);
	}
	return rc == SP_OK ? SP_ECORRUPT : rc;
}

/* Submit, part 2: every prepared submit in one write transaction, each in
 * a child transaction (one that cannot be stored is refused alone), one
 * fsync for all; only then the ids go back — never before the commit — and
 * the signals go to the broker. */
static void submit_flush(struct node *n)
{
	sp_txn *t = NULL;
	char idhex[SP_ID_HEX];
	int rc;

	if (!n->nbatch)
		return;
	rc = sp_txn_begin(n->store, 1, &t);
	for (size_t i = 0; i < n->nbatch; i++) {
		struct pending_submit *p = &n->batch[i];
		sp_txn *c = NULL;
		p->rc = rc;
		if (rc != SP_OK)
			continue;
		p->rc = sp_txn_begin_child(t, &c);
		if (p->rc == SP_OK && p->has_key)
			p->rc = idempotent(c, p);
		if (p->rc == SP_OK && !p->dup)
			p->rc = sp_outbox_add(c, p->id, p->ebuf, p->elen);
		if (p->rc == SP_OK && !p->dup)
			p->rc = sp_node_local_audit(c, n, SEINPOST__AUDIT_EVENT__AUDIT_SUBMITTED, p->h, NULL, 0, NULL);
		if (p->rc == SP_OK)
			p->rc = sp_txn_commit(&c);
		sp_txn_abort(&c);
	}
	if (rc == SP_OK)
		rc = stamp_commit(t);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	for (size_t i = 0; i < n->nbatch; i++) {
		struct pending_submit *p = &n->batch[i];
		n->env = p->env;
		if (rc != SP_OK || p->rc != SP_OK) {
			/* Refuse new work, keep everything already accepted: the caller
			 * gets no id, so it knows this signal does not exist. */
			int why_rc = rc != SP_OK ? rc : p->rc;
			char msg[200];
			snprintf(msg, sizeof msg, "could not store the signal durably: %s%s; nothing was sent, "
			         "signals accepted earlier are kept", sp_strerror(why_rc),
			         why_rc == SP_EIO ? " (disk full or failing?)" : "");
			char why[192];
			snprintf(why, sizeof why, "outbox write failed: %s (%s); submits refused", sp_strerror(why_rc),
			         sp_store_last_error());
			sp_episode_fail(&n->health.storage, 0, 0, why); /* logged once per episode */
			submit_refused(n, p->spool, why_rc, msg);
			continue;
		}
		if (p->dup) {
			sp_log_event(LOG_INFO, C, n->cfg->org, sp_hex(p->id, SP_ID_BYTES, idhex),
			             "idempotency key seen before: answered with the existing signal");
			if (p->spool)
				sp_spool_done(n->spool, p->spool, p->id);
			else
				local_reply(n, SP_OK, "already stored (same idempotency key); nothing new was sent", p->id, NULL);
			continue;
		}
		n->submitted++;
		sp_episode_ok(&n->health.storage);
		sp_log_event(LOG_INFO, C, n->cfg->org, sp_hex(p->id, SP_ID_BYTES, idhex), "queued %s weight %u",
		             p->h->category, p->h->weight);
		if (p->spool)
			sp_spool_done(n->spool, p->spool, p->id);
		else
			local_reply(n, SP_OK, "stored in outbox", p->id, NULL);
	}
	for (size_t i = 0; i < n->nbatch; i++) {
		struct pending_submit *p = &n->batch[i];
		/* Once a direct send failed (high-water mark), newer signals wait
		 * for the in-order resend: the broker queues in arrival order. */
		if (rc == SP_OK && p->rc == SP_OK && !p->dup && (n->unsent || sp_node_send_signal(n, p->sig) != SP_OK))
			n->unsent = 1;
		seinpost__signal_header__free_unpacked(p->h, NULL);
		seinpost__signal__free_unpacked(p->sig, NULL);
		free(p->sigbuf);
		free(p->ebuf);
	}
	n->nbatch = 0;
}

int sp_node_audit_send(void *ctx, Seinpost__Frame *f)
{
	return sp_node_send_frame(ctx, f);
}

/* The privacy officer's query: forwarded to the broker; the local client
 * gets its answer when the result arrives (or the deadline passes). */
static void do_audit_query(struct node *n, Seinpost__AuditQuery *q)
{
	int rc = sp_nodeaudit_query(&n->audit, q);
	n->query_env = n->env;
	if (rc != SP_OK)
		local_reply(n, rc, "could not send the query to the broker", NULL, NULL);
}

static void audit_query_answer(struct node *n, const Seinpost__AuditQueryResult *res)
{
	Seinpost__LocalReply r = SEINPOST__LOCAL_REPLY__INIT;
	uint8_t *buf = NULL;
	size_t len;
	r.code = res ? res->code : SP_ETIMEOUT;
	r.message = (char *)(res ? res->message : "the broker did not answer the query in time");
	r.audit = (Seinpost__AuditQueryResult *)res;
	if (sp_wire_pack(&r.base, &buf, &len) != SP_OK) {
		local_send(n, &n->query_env, "", 0);
		return;
	}
	local_send(n, &n->query_env, buf, len);
	free(buf);
}

/* A request the broker answers (a referral status, a withdrawal): the
 * client waits for the broker's verdict like a query (one in flight, same
 * deadline); *id, the request id in f, is set here. */
static void forward_request(struct node *n, Seinpost__Frame *f, ProtobufCBinaryData *id)
{
	if (n->audit.query_pending) {
		local_reply(n, SP_EEXIST, "another request to the broker is in flight; try again", NULL, NULL);
		return;
	}
	randombytes_buf(n->audit.query_id, 16);
	*id = (ProtobufCBinaryData){ 16, n->audit.query_id };
	if (sp_node_send_frame(n, f) != SP_OK) {
		local_reply(n, SP_ETIMEOUT, "the broker cannot be reached; nothing was changed", NULL, NULL);
		return;
	}
	n->query_env = n->env;
	n->audit.query_pending = 1;
	n->audit.query_deadline = sp_mono_ms() + SP_NODEAUDIT_QUERY_MS;
}

static void do_referral_update(struct node *n, const Seinpost__ReferralUpdate *u)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__ReferralUpdate fwd = *u; /* shallow: u's buffers stay the caller's */
	f.body_case = SEINPOST__FRAME__BODY_REFERRAL_UPDATE;
	f.referral_update = &fwd;
	forward_request(n, &f, &fwd.id);
}

/* The broker's verdict on a forwarded request, to the waiting client. */
static void request_answer(struct node *n, const ProtobufCBinaryData *id, int code, const char *message)
{
	Seinpost__AuditQueryResult res = SEINPOST__AUDIT_QUERY_RESULT__INIT;
	if (!n->audit.query_pending || sodium_memcmp(id->data, n->audit.query_id, 16) != 0)
		return; /* late, or not ours */
	n->audit.query_pending = 0;
	res.id = *id;
	res.code = code;
	res.message = (char *)message;
	audit_query_answer(n, &res);
}

static void do_outbox_status(struct node *n, const ProtobufCBinaryData *id)
{
	sp_txn *t = NULL;
	const void *v;
	size_t vl;
	Seinpost__OutboxEntry *e = NULL;
	int rc;
	if (id->len != SP_ID_BYTES) {
		local_reply(n, SP_EINVAL, "signal id must be 16 bytes", NULL, NULL);
		return;
	}
	rc = sp_txn_begin(n->store, 0, &t);
	if (rc == SP_OK)
		rc = sp_store_get(t, SP_DB_OUTBOX, id->data, id->len, &v, &vl);
	if (rc == SP_OK) {
		e = seinpost__outbox_entry__unpack(NULL, vl, v);
		if (!e)
			rc = SP_ECORRUPT;
	}
	sp_txn_abort(&t);
	if (rc != SP_OK) {
		local_reply(n, rc, sp_strerror(rc), NULL, NULL);
		return;
	}
	/* Do not hand the signal back over the socket: status only. */
	Seinpost__Signal *keep = e->signal;
	e->signal = NULL;
	local_reply(n, SP_OK, "", id->data, e);
	e->signal = keep;
	seinpost__outbox_entry__free_unpacked(e, NULL);
}

/* `seinpost status`: the node's own view (storage, broker link, counters);
 * answered from memory, so it works on a full disk. */
static void health_reply(struct node *n)
{
	Seinpost__LocalReply r = SEINPOST__LOCAL_REPLY__INIT;
	Seinpost__HealthReport h = SEINPOST__HEALTH_REPORT__INIT;
	uint8_t *buf = NULL;
	size_t len;
	n->health.signals_in = n->received;
	n->health.signals_out = n->submitted;
	sp_health_report(&n->health, n->store, &h);
	r.health = &h;
	if (sp_wire_pack(&r.base, &buf, &len) != SP_OK) {
		local_send(n, &n->env, "", 0);
		return;
	}
	local_send(n, &n->env, buf, len);
	free(buf);
}

/* One request from the ROUTER: routing id, empty delimiter, body.
 * 1 with *msg filled, 0 when nothing waits, -1 for a malformed envelope
 * (dropped: it came from no REQ/DEALER client of ours). */
static int local_recv(struct node *n, zmq_msg_t *msg)
{
	zmq_msg_t part;
	int more = 0, nparts = 0, ok = 1;
	size_t ml = sizeof more;
	zmq_msg_init(&part);
	if (zmq_msg_recv(&part, n->local, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&part);
		return 0;
	}
	for (;;) {
		zmq_getsockopt(n->local, ZMQ_RCVMORE, &more, &ml);
		if (nparts == 0) {
			n->env.len = zmq_msg_size(&part);
			if (n->env.len > ENV_MAX)
				ok = 0;
			else
				memcpy(n->env.id, zmq_msg_data(&part), n->env.len);
		} else if (nparts == 1 && zmq_msg_size(&part) != 0) {
			ok = 0; /* no delimiter */
		}
		nparts++;
		if (!more)
			break;
		zmq_msg_close(&part);
		zmq_msg_init(&part);
		if (zmq_msg_recv(&part, n->local, 0) < 0) {
			zmq_msg_close(&part);
			return -1;
		}
	}
	if (!ok || nparts != 3) {
		zmq_msg_close(&part);
		return -1;
	}
	zmq_msg_move(msg, &part);
	zmq_msg_close(&part);
	return 1;
}

/* Everything waiting on the local socket (up to LOCAL_BATCH submits): submits
 * are sealed one by one and committed together; any other request first
 * flushes the submits before it, so a client's answers keep their order. */
static void serve_local(struct node *n)
{
	zmq_msg_t msg;
	Seinpost__LocalRequest *req = NULL;
	char why[256];
	int rc;

	for (size_t handled = 0; handled < LOCAL_BATCH && !n->audit.query_pending; handled++) {
		zmq_msg_init(&msg);
		rc = local_recv(n, &msg);
		if (rc <= 0) {
			zmq_msg_close(&msg);
			if (rc == 0)
				break;
			continue;
		}
		rc = sp_wire_decode_local(zmq_msg_data(&msg), zmq_msg_size(&msg), &req, why, sizeof why);
		zmq_msg_close(&msg);
		if (rc != SP_OK) {
			local_reply(n, rc, why, NULL, NULL);
			continue;
		}
		if (req->body_case == SEINPOST__LOCAL_REQUEST__BODY_SUBMIT) {
			submit_prepare(n, req->submit, NULL);
			seinpost__local_request__free_unpacked(req, NULL);
			continue;
		}
		struct envelope env = n->env;
		submit_flush(n);
		n->env = env;
		switch (req->body_case) {
		case SEINPOST__LOCAL_REQUEST__BODY_OUTBOX_STATUS:
			do_outbox_status(n, &req->outbox_status);
			break;
		case SEINPOST__LOCAL_REQUEST__BODY_INVOLVE: {
			char text[256];
			rc = sp_involve_request(n->store, n->kh, req->involve, sp_now_s(), text, sizeof text);
			local_reply(n, rc, text, NULL, NULL);
			if (rc == SP_OK)
				sp_involve_resend(n->store, sp_node_send_frame_cb, n);
			break;
		}
		case SEINPOST__LOCAL_REQUEST__BODY_AUDIT_QUERY:
			do_audit_query(n, req->audit_query);
			break;
		case SEINPOST__LOCAL_REQUEST__BODY_HEALTH:
			health_reply(n);
			break;
		case SEINPOST__LOCAL_REQUEST__BODY_REFERRAL_UPDATE:
			do_referral_update(n, req->referral_update);
			break;
		case SEINPOST__LOCAL_REQUEST__BODY_WITHDRAW: { /* sp_withdrawn.h */
			Seinpost__Frame f = SEINPOST__FRAME__INIT;
			Seinpost__Withdraw fwd = *req->withdraw; /* shallow: the request keeps its buffers */
			f.body_case = SEINPOST__FRAME__BODY_WITHDRAW;
			f.withdraw = &fwd;
			if ((rc = sp_withdrawn_prepare(n->store, req->withdraw, why, sizeof why)) != SP_OK)
				local_reply(n, rc, why, NULL, NULL);
			else
				forward_request(n, &f, &fwd.id);
			break;
		}
		case SEINPOST__LOCAL_REQUEST__BODY_INVOLVE_BATCH: {
			char text[256];
			rc = sp_involve_batch_request(n->store, n->kh, req->involve_batch, sp_now_s(),
			                              sp_node_send_frame_cb, n, text, sizeof text);
			local_reply(n, rc, text, NULL, NULL);
			break;
		}
		default:
			local_reply(n, SP_EINVAL, "unknown request", NULL, NULL);
		}
		seinpost__local_request__free_unpacked(req, NULL);
		req = NULL;
	}
	submit_flush(n);
}

/* An involvement file: stored on its own, all entries or none. */
static void spool_involve(struct node *n, sp_spool_file *f)
{
	Seinpost__LocalRequest *req = seinpost__local_request__unpack(NULL, f->reqlen, f->req);
	char text[256];
	int rc;
	if (!req || req->body_case != SEINPOST__LOCAL_REQUEST__BODY_INVOLVE_BATCH) {
		sp_spool_reject(n->spool, f, "internal: not an involvement request");
		goto out;
	}
	rc = sp_involve_batch_request(n->store, n->kh, req->involve_batch, sp_now_s(), sp_node_send_frame_cb, n,
	                              text, sizeof text);
	if (rc == SP_OK)
		sp_spool_done(n->spool, f, NULL);
	else
		submit_refused(n, f, rc, text);
out:
	if (req)
		seinpost__local_request__free_unpacked(req, NULL);
}

/* Spool files (docs/spool.md): a signal file takes the same path as a
 * local submit (decode and size checks, prepare, group commit) with the
 * file in place of the client; it is moved only after the commit. */
static void serve_spool(struct node *n)
{
	sp_spool_file *f;
	sp_spool_events(n->spool, sp_mono_ms());
	while (n->nbatch < LOCAL_BATCH && sp_spool_next(n->spool, &f)) {
		Seinpost__LocalRequest *req = NULL;
		char why[256];
		if (f->kind == SP_SPOOL_INVOLVE) {
			submit_flush(n); /* one write transaction at a time */
			spool_involve(n, f);
			continue;
		}
		if (sp_wire_decode_local(f->req, f->reqlen, &req, why, sizeof why) != SP_OK) {
			/* "summary: longer than ..." -> "field 'summary': ...", as in the parser */
			char err[300];
			size_t k = strcspn(why, ": ");
			if (why[k] == ':' && strncmp(why, "request:", 8) != 0)
				snprintf(err, sizeof err, "field '%.*s'%s", (int)k, why, why + k);
			else
				snprintf(err, sizeof err, "%s", why);
			sp_spool_reject(n->spool, f, err);
			continue;
		}
		submit_prepare(n, req->submit, f);
		seinpost__local_request__free_unpacked(req, NULL);
	}
	submit_flush(n);
}

/* Broker verdict on one of our signals, inside the batch transaction
 * (sp_verdict.c); a final rejection is told to the spool after the commit. */
sp_verdict_ctx sp_node_verdict_ctx(const struct node *n)
{
	return (sp_verdict_ctx){ .org = n->cfg->org, .retry_ms = n->cfg->retry_ms, .max_age_s = n->cfg->max_age_s,
	                         .spool = n->spool };
}

static int handle_submit_ack(struct node *n, sp_txn *t, const Seinpost__SubmitAck *a)
{
	sp_verdict_ctx vc = sp_node_verdict_ctx(n);
	struct final_rejection *fr = n->nfinal < FRAMES_MAX ? &n->final[n->nfinal] : NULL;
	int outcome, rc;

	n->answers++;
	if (n->round_left && --n->round_left == 0)
		n->retry.next_ms = 0; /* the round is answered: go on with the next */
	rc = sp_verdict_apply(t, &vc, a, sp_now_ms(), &outcome, fr ? fr->reason : NULL, fr ? sizeof fr->reason : 0);
	if (rc == SP_OK && outcome == SP_VERDICT_REJECTED && fr && n->spool) {
		memcpy(fr->id, a->id.data, SP_ID_BYTES);
		n->nfinal++;
	}
	return rc;
}

/* Frames whose handlers keep their own transactions (witnessing, audit
 * queries, involvement acks, policy info). They run after the batch commit:
 * LMDB allows one write transaction at a time, so they must not nest. */
static void handle_after_batch(struct node *n, const Seinpost__Frame *f)
{
	const Seinpost__AuditQueryResult *res = NULL;
	if (sp_nodeaudit_frame(&n->audit, f, &res)) {
		if (res)
			audit_query_answer(n, res);
		return;
	}
	switch (f->body_case) {
	case SEINPOST__FRAME__BODY_SUBMIT_ACK:
		sp_nodeaudit_seen(&n->audit, f->submit_ack->sth);
		break;
	case SEINPOST__FRAME__BODY_DELIVERY:
		break; /* handled in the batch */
	case SEINPOST__FRAME__BODY_INVOLVE_ACK:
		sp_involve_acked(n->store, f->involve_ack);
		break;
	case SEINPOST__FRAME__BODY_INVOLVE_BATCH_ACK:
		sp_involve_batch_acked(n->store, f->involve_batch_ack);
		break;
	case SEINPOST__FRAME__BODY_ROSTER:
		sp_node_roster_offered(n, f->roster);
		break;
	case SEINPOST__FRAME__BODY_REFERRAL_UPDATE_ACK:
		request_answer(n, &f->referral_update_ack->id, f->referral_update_ack->code, f->referral_update_ack->message);
		break;
	case SEINPOST__FRAME__BODY_WITHDRAW_ACK: { /* sp_withdrawn.h */
		const sp_org *me = sp_roster_find(n->roster, n->cfg->org);
		if (sp_withdrawn_acked(n->store, f->withdraw_ack, me ? me->role : NULL, sp_hook_enabled(n->cfg)) != SP_OK)
			sp_log(LOG_ERR, C, "cannot mark the withdrawn signal in the outbox: %s", sp_store_last_error());
		request_answer(n, &f->withdraw_ack->id, f->withdraw_ack->code, f->withdraw_ack->message);
		break;
	}
	case SEINPOST__FRAME__BODY_FEEDBACK: {
		/* what happened with our signals (sp_feedback_keep.c) */
		size_t added = 0;
		int more = 0;
		if (sp_feedback_take(n->store, f->feedback, sp_hook_enabled(n->cfg), &added, &more) != SP_OK)
			sp_log(LOG_ERR, C, "cannot keep feedback from the broker: %s", sp_store_last_error());
		else if (added && n->hook)
			sp_hook_kick(n->hook);
		if (more)
			(void)sp_feedback_ask(n->store, sp_node_send_frame_cb, n);
		break;
	}
	case SEINPOST__FRAME__BODY_POLICY_INFO: {
		int mismatch = memcmp(f->policy_info->policy_hash.data, sp_policy_hash(n->policy),
		                      SP_POLICY_HASH_BYTES) != 0;
		if (mismatch && !n->policy_mismatch)
			sp_log(LOG_ERR, C, "the broker holds policy version %s, we hold %s: not sending signals",
			       f->policy_info->version, sp_policy_version(n->policy));
		n->policy_mismatch = mismatch;
		break;
	}
	default:
		sp_log(LOG_WARNING, C, "unexpected frame type %d from broker", f->body_case);
	}
}

/* Everything the broker sent (up to FRAMES_MAX): verdicts and deliveries in
 * one write transaction (group commit at the node too), receipts only after
 * the commit; then the frames that keep their own transactions. */
static void serve_broker(struct node *n)
{
	static Seinpost__Frame *frames[FRAMES_MAX];
	size_t nf = 0, handled = 0;
	sp_txn *t = NULL;
	int rc = SP_OK;

	for (int i = 0; i < FRAMES_MAX; i++) {
		sp_msg m;
		Seinpost__Frame *f = NULL;
		char why[256];
		memset(&m, 0, sizeof m);
		if (sp_transport_recv(n->sock, 0, 1, &m) != SP_OK) {
			sp_msg_clear(&m);
			break;
		}
		if (sp_wire_decode_frame(m.body, m.len, n->cfg->max_frame, &f, why, sizeof why) != SP_OK) {
			sp_log(LOG_WARNING, C, "malformed frame from broker: %s", why);
			sp_msg_clear(&m);
			continue;
		}
		sp_msg_clear(&m);
		/* The broker answers again after an outage: resend what waited now,
		 * not when the grown backoff says (it was up to 16 x retry_ms). */
		if (sp_link_contact(n->link, &n->health))
			sp_backoff_ok(&n->retry, 0);
		frames[nf++] = f;
		if (f->body_case == SEINPOST__FRAME__BODY_SUBMIT_ACK || f->body_case == SEINPOST__FRAME__BODY_DELIVERY)
			handled++;
	}
	if (handled) {
		n->nreceipts = 0;
		/* Per-signal lines only for what this batch really stored: a
		 * failing disk must not log the same verdicts on every retry. */
		sp_log_hold();
		n->nfinal = 0;
		rc = sp_txn_begin(n->store, 1, &t);
		for (size_t i = 0; rc == SP_OK && i < nf; i++) {
			if (frames[i]->body_case == SEINPOST__FRAME__BODY_SUBMIT_ACK)
				rc = handle_submit_ack(n, t, frames[i]->submit_ack);
			else if (frames[i]->body_case == SEINPOST__FRAME__BODY_DELIVERY)
				rc = sp_node_handle_delivery(n, t, frames[i]->delivery);
		}
		if (rc == SP_OK)
			rc = stamp_commit(t);
		if (rc == SP_OK)
			rc = sp_txn_commit(&t);
		sp_txn_abort(&t);
		sp_log_release(rc == SP_OK);
		if (rc != SP_OK) {
			/* Nothing of this batch counts: verdicts come again (DUPLICATE)
			 * and deliveries are re-sent because no receipt went out. */
			char why[192];
			snprintf(why, sizeof why, "storing what the broker sent failed: %s (%s); nothing acknowledged",
			         sp_strerror(rc), sp_store_last_error());
			sp_episode_fail(&n->health.storage, 0, 0, why);
			n->nreceipts = 0;
		} else if (n->nreceipts || n->health.storage.since_ms) {
			sp_episode_ok(&n->health.storage);
		}
		if (n->nreceipts)
			sp_node_send_receipts(n);
		n->nreceipts = 0;
		if (rc == SP_OK) {
			sp_verdict_ctx vc = sp_node_verdict_ctx(n);
			for (size_t i = 0; i < n->nfinal; i++)
				sp_verdict_notify(&vc, n->final[i].id, n->final[i].reason);
		}
		n->nfinal = 0;
		if (rc == SP_OK && n->hook_new)
			sp_hook_kick(n->hook);
		n->hook_new = 0;
	}
	for (size_t i = 0; i < nf; i++) {
		if (rc == SP_OK || frames[i]->body_case != SEINPOST__FRAME__BODY_SUBMIT_ACK)
			handle_after_batch(n, frames[i]);
		seinpost__frame__free_unpacked(frames[i], NULL);
	}
}

int sp_node_run(const sp_config *c, sp_kh *kh, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
	struct node n = { .cfg = c, .kh = kh };
	uint64_t wd = sp_sd_watchdog_interval_ms(), last_wd = 0, last_status = 0;
	sp_health_init(&n.health, C);
	int rc = sp_node_open(&n);
	if (rc != SP_OK)
		goto out;
	sp_log(LOG_INFO, C, "%s connecting to %s", c->org, c->endpoint);
	sp_node_send_hello(&n);
	sp_node_resend_outbox(&n);
	sp_sd_ready("node running");
	while (!*stop && !sp_kh_lost(n.kh)) {
		int spool_fd = n.spool ? sp_spool_fd(n.spool) : -1; /* -1 while its directory is gone */
		zmq_pollitem_t it[3] = {
			{ .socket = n.sock, .events = ZMQ_POLLIN },
			{ .socket = n.local, .events = ZMQ_POLLIN },
			{ .fd = spool_fd, .events = ZMQ_POLLIN },
		};
		/* While a query waits for the broker, read no further local
		 * request (one privacy-officer query at a time). */
		if (zmq_poll(it, n.audit.query_pending ? 1 : spool_fd >= 0 ? 3 : 2,
		             n.spool && sp_spool_waiting(n.spool) ? 0 : 100) > 0) {
			if (it[0].revents & ZMQ_POLLIN)
				serve_broker(&n);
			if (it[1].revents & ZMQ_POLLIN)
				serve_local(&n);
		}
		if (n.spool)
			serve_spool(&n); /* new files, retries, a backlog beyond one batch */
		if (*reload) {
			/* SIGHUP: the operator fixed what made hand-overs fail; the
			 * node re-reads no configuration (restart for that). */
			*reload = 0;
			sp_hook_retry_now(n.hook);
			sp_node_roster_reload(&n);
		}
		uint64_t now = sp_mono_ms();
		if (now - n.last_hello >= HELLO_MS) {
			sp_node_send_hello(&n);
			sp_nodeaudit_tick(&n.audit);
			(void)sp_feedback_ask(n.store, sp_node_send_frame_cb, &n);
		}
		if (n.audit.query_pending && now >= n.audit.query_deadline) {
			n.audit.query_pending = 0;
			audit_query_answer(&n, NULL);
		}
		if (sp_awaiting_tick(n.await, now))
			n.unsent = 1; /* built from held submits: sent in order */
		if (sp_backoff_due(&n.retry, now) || (n.unsent && now - n.last_unsent_try >= 50))
			sp_node_resend_outbox(&n);
		if (now - n.last_sweep >= 1000)
			sp_node_sweep(&n);
		sp_hook_tick(n.hook);
		sp_oalarms_tick(n.oalarms, n.store, n.roster, now);
		sp_link_tick(n.link, &n.health);
		sp_health_tick(&n.health, n.store);
		if (wd && now - last_wd >= wd) {
			sp_sd_watchdog_kick();
			last_wd = now;
		}
		if (now - last_status >= 5000) {
			sp_sd_status("submitted %llu, received %llu", (unsigned long long)n.submitted,
			             (unsigned long long)n.received);
			last_status = now;
		}
	}
	sp_sd_stopping();
	sp_log(LOG_INFO, C, "stopping");
	rc = sp_kh_lost(n.kh) ? SP_EIO : SP_OK;
out:
	sp_node_close(&n);
	return rc;
}
