/* sp_node.c — node event loop: local submit socket, outbox, inbox, receipts. */
#include "sp_node.h"

#include <errno.h>
#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "sp_audit.h"
#include "sp_awaiting.h"
#include "sp_feedback_keep.h"
#include "sp_health.h"
#include "sp_hook.h"
#include "sp_involve.h"
#include "sp_kh.h"
#include "sp_keys.h"
#include "sp_link.h"
#include "sp_log.h"
#include "sp_monitor.h"
#include "sp_nodeaudit.h"
#include "sp_orgverify.h"
#include "sp_outbox.h"
#include "sp_policy.h"
#include "sp_inbox.h"
#include "sp_retention.h"
#include "sp_roster.h"
#include "sp_rosterstate.h"
#include "sp_node_oprf.h"
#include "sp_sandbox.h"
#include "sp_sd.h"
#include "sp_spool.h"
#include "sp_signal.h"
#include "sp_store.h"
#include "sp_submit.h"
#include "sp_transport.h"
#include "sp_util.h"
#include "sp_verdict.h"
#include "sp_wire.h"

#define C "node"
#define RESEND_MAX 1000   /* outbox entries resent per retry round */
#define HELLO_MS 2000
#define FRAMES_MAX 256    /* broker frames handled per write transaction */
_Static_assert(FRAMES_MAX <= SP_RECEIPT_BATCH_MAX, "one receipt batch per write transaction");
#define BACKOFF_MAX_FACTOR 16 /* retry interval grows to at most 16 x retry_ms */
#define LOCAL_BATCH 128   /* local submits stored per write transaction */
#define PRUNE_MS 60000    /* idempotency keys of expired signals: checked once a minute */
#define ENV_MAX 64        /* a ROUTER routing id (libzmq makes 5 bytes) */

/* The local socket is a ROUTER: REQ clients (the CLI) and pipelining DEALER
 * clients (case systems, sp_load) alike; every answer goes back with the
 * routing id it came with. */
struct envelope {
	uint8_t id[ENV_MAX];
	size_t len;
};

/* A signal the broker finally rejected in this batch (spool .error). */
struct final_rejection {
	uint8_t id[SP_ID_BYTES];
	char reason[300];
};

/* A submit that passed validation and sealing, waiting for the batch commit. */
struct pending_submit {
	struct envelope env;
	uint8_t id[SP_ID_BYTES];
	uint8_t *sigbuf, *ebuf;
	size_t elen;
	Seinpost__Signal *sig;
	Seinpost__SignalHeader *h;
	int rc;
	sp_spool_file *spool;   /* from the spool: the file is the client */
	uint8_t key[SP_SPOOL_KEY_BYTES]; /* idempotency key (has_key) */
	int has_key, dup;       /* dup: the key was known, id is the first signal's */
};

struct node {
	const sp_config *cfg;
	sp_keyset *keys;        /* CURVE (transport) only: the secrets stay with the key holder */
	sp_kh *kh;              /* the key holder: signs, opens grants, pseudonymises */
	sp_roster *roster;
	sp_policy *policy;
	sp_store *store;
	void *zctx, *sock, *local;
	uint64_t last_hello, last_sweep;
	uint64_t submitted, received;
	int policy_mismatch;    /* the broker holds another policy version */
	sp_nodeaudit audit;     /* witnessing, read receipts, queries */
	sp_backoff retry;       /* when to resend the pending outbox */
	uint32_t round_left;    /* sent in the last round, not yet answered */
	uint64_t answers;       /* broker verdicts seen (progress for backoff) */
	uint64_t answers_at_round;
	uint8_t receipts[FRAMES_MAX][SP_ID_BYTES]; /* sent after the batch commits */
	size_t nreceipts;
	sp_health health;       /* for `seinpost status` (over submit.sock) */
	sp_link *link;          /* the broker link: contact, handshake trouble */
	struct final_rejection final[FRAMES_MAX]; /* told to the spool after the commit */
	size_t nfinal;
	int alert;              /* <state>/alert raised (submits refused) */
	uint8_t refused[32][SP_ID_BYTES]; /* deliveries refused lately: logged once each */
	size_t nrefused;
	int unsent;             /* a direct send failed: resend in order first */
	uint64_t last_unsent_try;
	uint64_t unsent_pos;    /* pending-index position the in-order resend continues from */
	struct envelope env;    /* the local request being answered */
	struct envelope query_env; /* the privacy officer's query waiting for the broker */
	struct pending_submit batch[LOCAL_BATCH];
	size_t nbatch;
	sp_hook *hook;          /* hand-over to the organisation's systems */
	int hook_new;           /* this batch queued hook items */
	sp_spool *spool;        /* [spool] in, NULL when not configured */
	sp_awaiting *await;     /* submits waiting for the pseudonymisation service (NULL: none used) */
	uint64_t last_prune;    /* idempotency keys last pruned (monotonic ms) */
};

static int send_frame(struct node *n, Seinpost__Frame *f)
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

static int send_frame_cb(void *ctx, Seinpost__Frame *f)
{
	return send_frame(ctx, f);
}

static void send_hello(struct node *n)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__Hello h = SEINPOST__HELLO__INIT;
	h.org = (char *)n->cfg->org;
	h.policy_hash.data = (uint8_t *)sp_policy_hash(n->policy);
	h.policy_hash.len = SP_POLICY_HASH_BYTES;
	h.roster_serial = sp_roster_serial(n->roster); /* the broker answers with a newer one */
	f.body_case = SEINPOST__FRAME__BODY_HELLO;
	f.hello = &h;
	(void)send_frame(n, &f);
	n->last_hello = sp_mono_ms();
}

static int send_signal(struct node *n, Seinpost__Signal *sig)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	f.body_case = SEINPOST__FRAME__BODY_SUBMIT;
	f.submit = sig;
	return send_frame(n, &f);
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

static int local_audit(sp_txn *t, struct node *n, int event, const Seinpost__SignalHeader *h,
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
	return sp_store_put(t, SP_DB_META, "last.commit", 11, v, 8, 0);
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
			p->rc = local_audit(c, n, SEINPOST__AUDIT_EVENT__AUDIT_SUBMITTED, p->h, NULL, 0, NULL);
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
		if (rc == SP_OK && p->rc == SP_OK && !p->dup && (n->unsent || send_signal(n, p->sig) != SP_OK))
			n->unsent = 1;
		seinpost__signal_header__free_unpacked(p->h, NULL);
		seinpost__signal__free_unpacked(p->sig, NULL);
		free(p->sigbuf);
		free(p->ebuf);
	}
	n->nbatch = 0;
}

static int audit_send(void *ctx, Seinpost__Frame *f)
{
	return send_frame(ctx, f);
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

/* The coordinator's referral status goes to the broker; the client waits
 * for the broker's verdict like a query (one in flight, same deadline). */
static void do_referral_update(struct node *n, const Seinpost__ReferralUpdate *u)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__ReferralUpdate fwd = *u; /* shallow: u's buffers stay the caller's */
	if (n->audit.query_pending) {
		local_reply(n, SP_EEXIST, "another request to the broker is in flight; try again", NULL, NULL);
		return;
	}
	randombytes_buf(n->audit.query_id, 16);
	fwd.id = (ProtobufCBinaryData){ 16, n->audit.query_id };
	f.body_case = SEINPOST__FRAME__BODY_REFERRAL_UPDATE;
	f.referral_update = &fwd;
	if (send_frame(n, &f) != SP_OK) {
		local_reply(n, SP_ETIMEOUT, "the broker cannot be reached; nothing was changed", NULL, NULL);
		return;
	}
	n->query_env = n->env;
	n->audit.query_pending = 1;
	n->audit.query_deadline = sp_mono_ms() + SP_NODEAUDIT_QUERY_MS;
}

static void referral_update_answer(struct node *n, const Seinpost__ReferralUpdateAck *a)
{
	Seinpost__AuditQueryResult res = SEINPOST__AUDIT_QUERY_RESULT__INIT;
	if (!n->audit.query_pending || sodium_memcmp(a->id.data, n->audit.query_id, 16) != 0)
		return; /* late, or not ours */
	n->audit.query_pending = 0;
	res.id = a->id;
	res.code = a->code;
	res.message = a->message;
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
				sp_involve_resend(n->store, send_frame_cb, n);
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
		case SEINPOST__LOCAL_REQUEST__BODY_INVOLVE_BATCH: {
			char text[256];
			rc = sp_involve_batch_request(n->store, n->kh, req->involve_batch, sp_now_s(),
			                              send_frame_cb, n, text, sizeof text);
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
	rc = sp_involve_batch_request(n->store, n->kh, req->involve_batch, sp_now_s(), send_frame_cb, n,
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
static sp_verdict_ctx verdict_ctx(const struct node *n)
{
	return (sp_verdict_ctx){ .org = n->cfg->org, .retry_ms = n->cfg->retry_ms, .max_age_s = n->cfg->max_age_s,
	                         .spool = n->spool };
}

static int handle_submit_ack(struct node *n, sp_txn *t, const Seinpost__SubmitAck *a)
{
	sp_verdict_ctx vc = verdict_ctx(n);
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

/* One signed receipt over every id the batch just committed: one signature
 * here and one verification at the broker per batch, not per delivery. */
static void send_receipts(struct node *n)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__DeliveryAckBatch a = SEINPOST__DELIVERY_ACK_BATCH__INIT;
	static ProtobufCBinaryData ids[FRAMES_MAX];
	const uint8_t *idp[FRAMES_MAX];
	uint8_t sig[64];
	for (size_t i = 0; i < n->nreceipts; i++) {
		ids[i] = (ProtobufCBinaryData){ SP_ID_BYTES, n->receipts[i] };
		idp[i] = n->receipts[i];
	}
	a.n_ids = n->nreceipts;
	a.ids = ids;
	a.time = sp_now_ms();
	if (sp_receipts_sign_kh(n->cfg->org, a.time, idp, n->nreceipts, n->kh, sig) != SP_OK)
		return; /* not sent: the broker resends, we receipt again */
	a.signature.data = sig;
	a.signature.len = 64;
	f.body_case = SEINPOST__FRAME__BODY_DELIVERY_ACKS;
	f.delivery_acks = &a;
	(void)send_frame(n, &f);
}

static int merge_delivery(sp_txn *t, const Seinpost__SignalHeader *h, const Seinpost__Delivery *d, int *changed)
{
	const void *v;
	size_t vl, len;
	uint8_t *buf = NULL;
	Seinpost__InboxEntry *old = NULL;
	int rc = sp_store_get(t, SP_DB_INBOX, h->id.data, SP_ID_BYTES, &v, &vl);
	if (rc != SP_OK)
		return rc;
	old = seinpost__inbox_entry__unpack(NULL, vl, v);
	if (!old || !old->delivery || !old->delivery->signal)
		rc = SP_ECORRUPT;
	if (rc == SP_OK)
		rc = sp_inbox_merge(old, d, &buf, &len, changed);
	if (rc == SP_OK && *changed)
		rc = sp_store_put(t, SP_DB_INBOX, h->id.data, SP_ID_BYTES, buf, len, 0);
	free(buf);
	if (old)
		seinpost__inbox_entry__free_unpacked(old, NULL);
	return rc;
}

/* A plain repeat of a delivery we hold: the broker resends its whole window
 * when receipts are late (a slow or frozen recipient), so repeats can
 * outnumber new deliveries. Same header and signature bytes as our
 * verified copy and nothing new to merge (sp_inbox_merge: no grant, tier
 * box, rule or referral we lack) → only the receipt is due, without a
 * second Ed25519 check. Anything else takes the full path. */
static int is_plain_repeat(sp_txn *t, const Seinpost__SignalHeader *h, const Seinpost__Delivery *d)
{
	const void *v;
	size_t vl, len;
	uint8_t *buf = NULL;
	int changed = 1, same = 0;
	Seinpost__InboxEntry *old;
	if (sp_store_get(t, SP_DB_INBOX, h->id.data, SP_ID_BYTES, &v, &vl) != SP_OK)
		return 0;
	old = seinpost__inbox_entry__unpack(NULL, vl, v);
	if (old && old->delivery && old->delivery->signal) {
		const Seinpost__Signal *a = old->delivery->signal, *b = d->signal;
		same = a->header.len == b->header.len && a->signature.len == b->signature.len &&
		       memcmp(a->header.data, b->header.data, a->header.len) == 0 &&
		       memcmp(a->signature.data, b->signature.data, a->signature.len) == 0;
		if (same && sp_inbox_merge(old, d, &buf, &len, &changed) != SP_OK)
			changed = 1;
	}
	free(buf);
	if (old)
		seinpost__inbox_entry__free_unpacked(old, NULL);
	return same && !changed;
}

static void sweep(struct node *n)
{
	sp_txn *t = NULL;
	size_t expired = 0, pruned = 0;
	int rc = sp_txn_begin(n->store, 1, &t);
	if (rc == SP_OK)
		rc = sp_retention_sweep_node(t, n->policy, n->cfg->org, sp_now_s(), &expired);
	if (rc == SP_OK && (!n->last_prune || sp_mono_ms() - n->last_prune >= PRUNE_MS)) {
		rc = sp_spool_prune(t, sp_now_s(), &pruned);
		n->last_prune = sp_mono_ms();
	}
	if (rc == SP_OK && (expired || pruned)) {
		rc = sp_txn_commit(&t);
		if (rc == SP_OK && expired)
			sp_log(LOG_INFO, C, "retention: deleted %zu expired signal copies", expired);
		if (rc == SP_OK && pruned)
			sp_log(LOG_INFO, C, "retention: forgot %zu idempotency keys of expired signals", pruned);
	}
	sp_txn_abort(&t);
	n->last_sweep = sp_mono_ms();
}

static void queue_receipt(struct node *n, const uint8_t id[16])
{
	if (n->nreceipts < FRAMES_MAX)
		memcpy(n->receipts[n->nreceipts++], id, SP_ID_BYTES);
}

/* A delivery carrying a referral is handed over as one; released grants
 * merged into a signal we already held as an update. */
static int hook_enqueue(struct node *n, sp_txn *t, const Seinpost__SignalHeader *h, const Seinpost__Delivery *d,
                        int merged)
{
	Seinpost__HookKind kind = d->referral ? SEINPOST__HOOK_KIND__HOOK_REFERRAL
	                          : merged    ? SEINPOST__HOOK_KIND__HOOK_UPDATE
	                                      : SEINPOST__HOOK_KIND__HOOK_SIGNAL;
	n->hook_new = 1;
	return sp_hook_enqueue(t, h->id.data, kind, sp_now_ms());
}

/* Tell the broker we will never store this delivery; log it once per id
 * (the broker resends until it quarantines it). */
static void refuse_delivery(struct node *n, const Seinpost__SignalHeader *h, const char *idhex, int code)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__DeliveryRefusal r = SEINPOST__DELIVERY_REFUSAL__INIT;
	size_t i, k = sizeof n->refused / sizeof n->refused[0];
	for (i = 0; i < k && i < n->nrefused; i++)
		if (memcmp(n->refused[i], h->id.data, SP_ID_BYTES) == 0)
			break;
	if (i == k || i == n->nrefused) {
		memcpy(n->refused[n->nrefused++ % k], h->id.data, SP_ID_BYTES);
		sp_log_event(LOG_ERR, C, h->sender, idhex, "delivery %s; refused (logged once per delivery)",
		             code == SP_EORG ? "names a sender not on the roster"
		                             : "does not verify against the sender's key");
	}
	r.id = h->id;
	r.code = code;
	f.body_case = SEINPOST__FRAME__BODY_DELIVERY_REFUSAL;
	f.delivery_refusal = &r;
	(void)send_frame(n, &f);
}

/* Delivery: check the sender's signature, store once (dedup by id) in a
 * child of the batch transaction; the receipt goes out only after the batch
 * commits. A repeat (e.g. we crashed between commit and receipt) is
 * receipted again without storing, so the application sees it once. */
static int handle_delivery(struct node *n, sp_txn *batch, const Seinpost__Delivery *d)
{
	Seinpost__SignalHeader *h = NULL;
	const sp_org *sender;
	sp_txn *t = NULL;
	uint8_t *buf = NULL;
	size_t len;
	char why[256], idhex[SP_ID_HEX];
	int rc;

	rc = sp_wire_check_signal(d->signal, &h, why, sizeof why);
	if (rc != SP_OK) {
		sp_log(LOG_WARNING, C, "delivery malformed: %s", why);
		return SP_OK;
	}
	sp_hex(h->id.data, SP_ID_BYTES, idhex);
	if (is_plain_repeat(batch, h, d)) {
		queue_receipt(n, h->id.data);
		goto out;
	}
	sender = sp_roster_find(n->roster, h->sender);
	if (!sender || sp_org_verify_signal(sender, d->signal, h, 0) != SP_OK) {
		/* No receipt: a refusal instead. The broker sets the delivery
		 * aside after max_refusals (sp_quarantine.h), with an audit record:
		 * a forged or damaged delivery stays visible there. */
		refuse_delivery(n, h, idhex, sender ? SP_ESIG : SP_EORG);
		goto out;
	}
	{
		Seinpost__InboxEntry e = SEINPOST__INBOX_ENTRY__INIT;
		e.delivery = (Seinpost__Delivery *)d;
		e.received = sp_now_ms();
		rc = sp_wire_pack(&e.base, &buf, &len);
	}
	if (rc == SP_OK)
		rc = sp_txn_begin_child(batch, &t);
	if (rc == SP_OK)
		rc = sp_store_put(t, SP_DB_INBOX, h->id.data, SP_ID_BYTES, buf, len, SP_PUT_NOOVERWRITE);
	if (rc == SP_EEXIST) {
		/* Released later (involvement, match, escalation): merge the new
		 * grants into our copy, then receipt. */
		int changed = 0;
		rc = merge_delivery(t, h, d, &changed);
		if (rc == SP_OK && changed)
			rc = local_audit(t, n, SEINPOST__AUDIT_EVENT__AUDIT_RECEIVED, h, NULL, 0, "released grants merged");
		if (rc == SP_OK && changed && sp_hook_enabled(n->cfg))
			rc = hook_enqueue(n, t, h, d, 1);
		if (rc == SP_OK && changed)
			rc = sp_txn_commit(&t);
		sp_txn_abort(&t);
		if (rc == SP_OK)
			queue_receipt(n, h->id.data);
		rc = SP_OK;
		goto out;
	}
	if (rc == SP_OK)
		rc = local_audit(t, n, SEINPOST__AUDIT_EVENT__AUDIT_RECEIVED, h, NULL, 0, NULL);
	/* The hook item in the same child as the inbox entry: what is
	 * acknowledged cannot miss its hand-over. */
	if (rc == SP_OK && sp_hook_enabled(n->cfg))
		rc = hook_enqueue(n, t, h, d, 0);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	if (rc != SP_OK) {
		/* No receipt: the broker keeps it queued and sends it again.
		 * Logged once per episode, not per delivery and retry. */
		snprintf(why, sizeof why, "inbox write failed: %s (%s); deliveries not acknowledged",
		         sp_strerror(rc), sp_store_last_error());
		sp_episode_fail(&n->health.storage, 0, 0, why);
		rc = SP_OK;
		goto out;
	}
	n->received++;
	sp_log_event(LOG_INFO, C, h->sender, idhex, "received %s weight %u", h->category, h->weight);
	queue_receipt(n, h->id.data);
out:
	free(buf);
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	return rc;
}

/* Our keys on a new roster differ from the ones we connect with: `keys
 * rotate` put the new generation in the key directory. Connect with it
 * (the broker admits the new CURVE key from this roster on) and sign with
 * it; the old generations stay in the ring to open what was sealed to them. */
static void rekey(struct node *n, const sp_org *me)
{
	uint8_t old_pk[32], old_sk[32], old_sign[32];
	void *sock = NULL;
	sp_transport_opts o = { .endpoint = n->cfg->endpoint, .max_frame = n->cfg->max_frame,
	                        .heartbeat_ms = n->cfg->heartbeat_ms };
	/* The key holder holds every generation (and re-reads keys/ for one
	 * written after start); we get only the new CURVE secret. */
	memcpy(old_pk, n->keys->curve_pk, 32);
	memcpy(old_sk, n->keys->curve_sk, 32);
	memcpy(old_sign, sp_kh_sign_pk(n->kh), 32);
	if (sp_kh_select(n->kh, me->curve_pk, me->sign_pk, n->keys->curve_sk) != SP_OK) {
		sp_log(LOG_ERR, C, "roster names keys for us that %s does not hold; still using the old ones",
		       n->cfg->keys_dir);
		memcpy(n->keys->curve_sk, old_sk, 32);
		sodium_memzero(old_sk, sizeof old_sk);
		return;
	}
	memcpy(n->keys->curve_pk, me->curve_pk, 32);
	memcpy(n->keys->sign_pk, me->sign_pk, 32);
	if (sp_transport_node(n->zctx, n->keys, sp_roster_broker_curve(n->roster), n->cfg->org, &o, &sock) != SP_OK) {
		sp_log(LOG_ERR, C, "cannot connect with the new keys; still using the old ones");
		memcpy(n->keys->curve_pk, old_pk, 32);
		memcpy(n->keys->sign_pk, old_sign, 32);
		if (sp_kh_select(n->kh, old_pk, old_sign, n->keys->curve_sk) != SP_OK)
			memcpy(n->keys->curve_sk, old_sk, 32);
		sodium_memzero(old_sk, sizeof old_sk);
		return;
	}
	sodium_memzero(old_sk, sizeof old_sk);
	zmq_close(n->sock);
	n->sock = sock;
	sp_log(LOG_NOTICE, C, "key rotation: now connected and signing with the new keys (older generations "
	       "stay with the key holder)");
	{
		/* Our own log records the switch too (not inside a batch: this
		 * runs after the batch commit or on SIGHUP). */
		sp_txn *t = NULL;
		int rc = sp_txn_begin(n->store, 1, &t);
		if (rc == SP_OK)
			rc = local_audit(t, n, SEINPOST__AUDIT_EVENT__AUDIT_KEY_ROTATED, NULL, NULL, 0,
			                 "now connected and signing with the new keys");
		if (rc == SP_OK)
			rc = sp_txn_commit(&t);
		sp_txn_abort(&t);
		if (rc != SP_OK)
			sp_log(LOG_ERR, C, "audit of the key rotation failed: %s", sp_strerror(rc));
	}
	send_hello(n);
	n->retry.next_ms = 0; /* what was in flight on the old connection goes again */
}

/* A newer roster (from the broker, or the files on SIGHUP). */
static void roster_swap(struct node *n, sp_roster *r)
{
	sp_roster *old = n->roster;
	const sp_org *me;
	n->roster = r;
	sp_hook_set_roster(n->hook, r);
	n->audit.roster = r;
	me = sp_roster_find(r, n->cfg->org);
	if (!me)
		sp_log(LOG_CRIT, C, "this organisation is no longer on the roster (serial %llu): the broker refuses "
		       "what we send", (unsigned long long)sp_roster_serial(r));
	else if (memcmp(me->curve_pk, n->keys->curve_pk, 32) != 0 || memcmp(me->sign_pk, sp_kh_sign_pk(n->kh), 32) != 0)
		rekey(n, me);
	sp_roster_free(&old);
	sp_log(LOG_NOTICE, C, "roster serial %llu in force, %zu organisations", (unsigned long long)sp_roster_serial(r),
	       sp_roster_count(r));
}

static void roster_offered(struct node *n, const Seinpost__SignedRoster *sr)
{
	sp_roster *r = NULL;
	int rc = sp_rosterstate_accept(n->cfg, n->roster, sr, &r);
	if (rc == SP_OK)
		roster_swap(n, r);
	else if (rc != SP_EEXIST)
		sp_log(LOG_ERR, C, "roster from the broker refused: %s", sp_strerror(rc));
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
		roster_offered(n, f->roster);
		break;
	case SEINPOST__FRAME__BODY_REFERRAL_UPDATE_ACK:
		referral_update_answer(n, f->referral_update_ack);
		break;
	case SEINPOST__FRAME__BODY_FEEDBACK: {
		/* what happened with our signals (sp_feedback_keep.c) */
		size_t added = 0;
		int more = 0;
		if (sp_feedback_take(n->store, f->feedback, sp_hook_enabled(n->cfg), &added, &more) != SP_OK)
			sp_log(LOG_ERR, C, "cannot keep feedback from the broker: %s", sp_store_last_error());
		else if (added && n->hook)
			sp_hook_kick(n->hook);
		if (more)
			(void)sp_feedback_ask(n->store, send_frame_cb, n);
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
		sp_link_contact(n->link, &n->health);
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
				rc = handle_delivery(n, t, frames[i]->delivery);
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
			send_receipts(n);
		n->nreceipts = 0;
		if (rc == SP_OK) {
			sp_verdict_ctx vc = verdict_ctx(n);
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
		if (send_signal(c->n, e->signal) != SP_OK) {
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
static void resend_outbox(struct node *n)
{
	sp_txn *t = NULL;
	struct resend_ctx c = { .n = n, .now_wall = sp_now_ms() };
	uint64_t now = sp_mono_ms();
	sp_involve_resend(n->store, send_frame_cb, n);
	if (n->policy_mismatch)
		return; /* never send under a policy the broker does not hold */
	if (sp_txn_begin(n->store, 0, &t) != SP_OK)
		return;
	/* In unsent mode continue where the last round stopped, so a backlog
	 * larger than RESEND_MAX goes out once, in order, not again and again. */
	(void)sp_outbox_foreach_pending(t, n->unsent ? n->unsent_pos : 0, resend_one, &c);
	sp_txn_abort(&t);
	if (c.ndamaged) {
		sp_verdict_ctx vc = verdict_ctx(n);
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

static int node_open(struct node *n)
{
	char err[512], sock_path[PATH_MAX], ep[PATH_MAX + 8];
	int rc;

	rc = sp_keys_load_transport(n->cfg->keys_dir, &n->keys);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "transport keys in %s: %s", n->cfg->keys_dir, sp_strerror(rc));
		return rc;
	}
	/* Directories the node makes itself must exist before the sandbox:
	 * Landlock allows what is there when it is applied (docs/privsep.md).
	 * A link or a file there is refused later, when they are opened. */
	if (n->cfg->spool_in[0] && sp_mkdir_p(n->cfg->spool_in, 0750) != SP_OK)
		sp_log(LOG_WARNING, C, "spool directory %s cannot be made: %s", n->cfg->spool_in, strerror(errno));
	if (n->cfg->hook_out[0] && sp_mkdir_p(n->cfg->hook_out, 0700) != SP_OK)
		sp_log(LOG_WARNING, C, "hook out directory %s cannot be made: %s", n->cfg->hook_out, strerror(errno));
	/* From here on keys/ is out of reach, before any thread (ZeroMQ's I/O
	 * thread parses the network too) exists (docs/privsep.md). */
	rc = sp_sandbox_network(n->cfg);
	if (rc != SP_OK)
		return rc;
	rc = sp_rosterstate_load(n->cfg, &n->roster);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "roster %s: %s", n->cfg->roster_path, sp_strerror(rc));
		return rc;
	}
	const sp_org *me = sp_roster_find(n->roster, n->cfg->org);
	/* After `keys rotate` the roster may still name the previous
	 * generation (the operator has not added it yet): the key holder
	 * switches to it and hands over its CURVE (transport) secret. */
	if (me && (memcmp(me->curve_pk, n->keys->curve_pk, 32) != 0 ||
	           memcmp(me->sign_pk, sp_kh_sign_pk(n->kh), 32) != 0) &&
	    sp_kh_select(n->kh, me->curve_pk, me->sign_pk, n->keys->curve_sk) == SP_OK) {
		memcpy(n->keys->curve_pk, me->curve_pk, 32);
		memcpy(n->keys->sign_pk, me->sign_pk, 32);
	}
	if (!me || memcmp(me->curve_pk, n->keys->curve_pk, 32) != 0 ||
	    memcmp(me->sign_pk, sp_kh_sign_pk(n->kh), 32) != 0) {
		sp_log(LOG_ERR, C, "organisation '%s' is not on the roster with these keys", n->cfg->org);
		return SP_EORG;
	}
	if ((rc = sp_node_oprf_open(n->cfg, n->keys, n->roster, n->kh)) != SP_OK) /* after the sandbox: threads */
		return rc;
	if (sp_policy_load(n->cfg->policy_path, &n->policy, err, sizeof err) != SP_OK) {
		sp_log(LOG_ERR, C, "policy: %s", err);
		return SP_ECONFIG;
	}
	rc = sp_store_open(n->cfg->state_dir, n->cfg->map_size, SP_STORE_CHECK, &n->store);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "state %s: %s (%s)", n->cfg->state_dir, sp_strerror(rc), sp_store_last_error());
		return rc;
	}
	sp_awaiting_opts ao = { n->cfg->org, n->kh, &n->roster, n->policy, n->store, n->cfg->max_age_s, n->cfg->retry_ms };
	if ((rc = sp_awaiting_new(&ao, &n->await)) != SP_OK)
		return rc;
	sp_health_audit_check(&n->health, n->store, NULL);
	rc = sp_outbox_migrate(n->store);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "outbox index: %s (%s)", sp_strerror(rc), sp_store_last_error());
		return rc;
	}
	rc = sp_involve_migrate(n->store);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "involvement index: %s (%s)", sp_strerror(rc), sp_store_last_error());
		return rc;
	}
	sp_backoff_init(&n->retry, n->cfg->retry_ms, n->cfg->retry_ms * BACKOFF_MAX_FACTOR);
	if (chmod(n->cfg->state_dir, 0700) != 0)
		return SP_EIO;
	n->zctx = zmq_ctx_new();
	if (!n->zctx)
		return SP_ENOMEM;
	sp_transport_opts o = { .endpoint = n->cfg->endpoint, .max_frame = n->cfg->max_frame, .heartbeat_ms = n->cfg->heartbeat_ms };
	rc = sp_transport_node(n->zctx, n->keys, sp_roster_broker_curve(n->roster), n->cfg->org, &o, &n->sock);
	if (rc != SP_OK)
		return rc;
	if ((rc = sp_link_open(n->zctx, n->sock, n->cfg->endpoint, &n->link)) != SP_OK)
		return rc;
	/* Local submit socket: a Unix socket inside the 0700 state directory,
	 * so only this node's user can reach it. */
	if (sp_config_submit_socket(n->cfg, sock_path, sizeof sock_path) != SP_OK)
		return SP_ESIZE;
	unlink(sock_path);
	snprintf(ep, sizeof ep, "ipc://%s", sock_path);
	n->local = zmq_socket(n->zctx, ZMQ_ROUTER);
	if (!n->local)
		return SP_EIO;
	int linger = 0, maxmsg = (int)n->cfg->max_frame;
	int64_t mm = maxmsg;
	zmq_setsockopt(n->local, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(n->local, ZMQ_MAXMSGSIZE, &mm, sizeof mm);
	if (zmq_bind(n->local, ep) != 0) {
		sp_log(LOG_ERR, C, "cannot bind the submit socket %s: %s", sock_path, zmq_strerror(zmq_errno()));
		return SP_EIO;
	}
	chmod(sock_path, 0600);
	rc = sp_hook_open(n->cfg, n->store, n->kh, n->roster, n->policy, &n->hook);
	if (rc != SP_OK)
		return rc;
	if (n->cfg->spool_in[0] && sp_spool_open(n->cfg->spool_in, n->cfg->max_frame, &n->spool) != SP_OK)
		return SP_EIO;
	n->audit = (sp_nodeaudit){ .store = n->store, .roster = n->roster,
	                           .send = audit_send, .ctx = n, .monitor = sp_monitor_wanted(n->cfg, n->roster) };
	return SP_OK;
}

static void node_close(struct node *n)
{
	char sock_path[PATH_MAX];
	sp_hook_close(&n->hook);
	sp_link_close(&n->link);
	sp_node_oprf_close(n->kh);
	if (n->local)
		zmq_close(n->local);
	if (n->sock)
		zmq_close(n->sock);
	if (n->zctx)
		zmq_ctx_term(n->zctx);
	if (sp_config_submit_socket(n->cfg, sock_path, sizeof sock_path) == SP_OK && n->local)
		unlink(sock_path);
	sp_spool_close(&n->spool);
	sp_awaiting_free(&n->await);
	sp_store_close(&n->store);
	sp_policy_free(&n->policy);
	sp_roster_free(&n->roster);
	sp_keys_free(&n->keys);
}

/* SIGHUP: a roster file newer than the one in force (the broker hands
 * them out too; this is for a node that cannot reach it). */
static void roster_reload(struct node *n)
{
	sp_roster *r = NULL;
	if (sp_rosterstate_load(n->cfg, &r) != SP_OK)
		return;
	if (sp_roster_serial(r) > sp_roster_serial(n->roster) &&
	    strcmp(sp_roster_network(r), sp_roster_network(n->roster)) == 0 &&
	    memcmp(sp_roster_broker_curve(r), sp_roster_broker_curve(n->roster), 32) == 0)
		roster_swap(n, r);
	else
		sp_roster_free(&r);
}

int sp_node_run(const sp_config *c, sp_kh *kh, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
	struct node n = { .cfg = c, .kh = kh };
	uint64_t wd = sp_sd_watchdog_interval_ms(), last_wd = 0, last_status = 0;
	sp_health_init(&n.health, C);
	int rc = node_open(&n);
	if (rc != SP_OK)
		goto out;
	sp_log(LOG_INFO, C, "%s connecting to %s", c->org, c->endpoint);
	send_hello(&n);
	resend_outbox(&n);
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
			roster_reload(&n);
		}
		uint64_t now = sp_mono_ms();
		if (now - n.last_hello >= HELLO_MS) {
			send_hello(&n);
			sp_nodeaudit_tick(&n.audit);
			(void)sp_feedback_ask(n.store, send_frame_cb, &n);
		}
		if (n.audit.query_pending && now >= n.audit.query_deadline) {
			n.audit.query_pending = 0;
			audit_query_answer(&n, NULL);
		}
		if (sp_awaiting_tick(n.await, now))
			n.unsent = 1; /* built from held submits: sent in order */
		if (sp_backoff_due(&n.retry, now) || (n.unsent && now - n.last_unsent_try >= 50))
			resend_outbox(&n);
		if (now - n.last_sweep >= 1000)
			sweep(&n);
		sp_hook_tick(n.hook);
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
	node_close(&n);
	return rc;
}
