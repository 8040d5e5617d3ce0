/*
 * sp_oprf_client.c — blind, ask, verify, unblind.
 *
 * One DEALER socket to each instance, CURVE-pinned to its roster key. A
 * list is asked in requests of c->batch elements, up to PIPELINE of them in
 * flight: answers are matched to their request by its id (answers to
 * earlier, timed-out requests are recognised by their id and dropped). Blinds live in
 * sodium_malloc memory and are wiped; identifiers are never logged.
 */
#include "sp_oprf_client.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "seinpost.pb-c.h"
#include "sp_log.h"
#include "sp_oprf.h"
#include "sp_oprfsvc.h"
#include "sp_toprf.h"
#include "sp_transport.h"
#include "sp_util.h"
#include "sp_workers.h"

#define C "oprf"
#define BATCH_DEFAULT 1024
#define QUIET_MS 60000 /* an instance that timed out is asked last for this long */

struct inst {
	char id[SP_ID_MAX];
	uint32_t index;          /* t-of-n: Shamir index; 0 = single key */
	uint8_t pk[32];          /* its key: sk·G, or s_i·G checked against the commitments */
	uint8_t curve_pk[32];    /* the CURVE key its socket is pinned to */
	void *sock;
	uint64_t quiet_until;    /* did not answer: asked last until then (mono ms) */
};

struct sp_oprfc {
	const sp_config *cfg;
	const sp_keyset *keys;
	uint8_t pin[32];
	uint32_t epoch;          /* the roster's key epoch (rotations by translation) */
	uint32_t t;              /* answers needed: 1, or the threshold */
	int threshold;           /* combine with Lagrange coefficients */
	struct inst inst[SP_TOPRF_MAX_N];
	size_t ninst, next;      /* next: first instance asked (round robin) */
	void *zctx;
	size_t batch;
	sp_workers *workers;     /* a second core for blinding, proofs, unblinding */
	sp_oprfc_sign_fn sign;   /* NULL: keys->sign_sk */
	void *sign_ctx;
};

int sp_oprfc_check_pin(const sp_config *c, const sp_roster *r, char *why, size_t whylen)
{
	const uint8_t *commits;
	uint32_t t;
	size_t n;
	char id[SP_ID_MAX];
	if (!c || !r)
		return SP_EINVAL;
	if (!c->oprf_service[0])
		return SP_ENOTFOUND;
	commits = sp_roster_oprf_commitments(r, &t);
	n = sp_config_words(c->oprf_service);
	/* A rotation is accepted only through the roster's chain of rotation
	 * proofs from the pinned key (sp_roster_oprf_chain). */
	if (commits && sp_roster_oprf_chain(r, c->oprf_pin, NULL) != SP_OK) {
		snprintf(why, whylen,
		         "ALARM: the roster's group key of the pseudonymisation service differs from the "
		         "key pinned in %s and no proven rotation leads to it; no pseudonyms are asked until "
		         "the privacy officer has checked the change", c->path);
		return SP_EKEY;
	}
	if (!commits && n != 1) {
		snprintf(why, whylen, "%s names %zu pseudonymisers but the roster has no t-of-n service",
		         c->path, n);
		return SP_EKEY;
	}
	if (commits && n < t) {
		snprintf(why, whylen, "%s names %zu pseudonymisers; the service needs %u", c->path, n, t);
		return SP_EKEY;
	}
	for (size_t i = 0; i < n; i++) {
		const sp_org *o;
		if (sp_config_word(c->oprf_service, i, id, sizeof id) != SP_OK)
			return SP_EINVAL;
		o = sp_roster_find(r, id);
		/* the roster checked an instance's key against the commitments */
		if (!o || strcmp(o->role, "pseudonymiser") != 0 || !o->has_oprf ||
		    (commits != NULL) != (o->oprf_index != 0)) {
			snprintf(why, whylen, "ALARM: the roster has no pseudonymiser '%s' (pinned in %s)",
			         id, c->path);
			return SP_EKEY;
		}
		if (!commits && sodium_memcmp(o->oprf_pk, c->oprf_pin, 32) != 0) {
			snprintf(why, whylen,
			         "ALARM: the roster's OPRF key for '%s' differs from the key pinned in %s; "
			         "no pseudonyms are asked until the privacy officer has checked the change",
			         id, c->path);
			return SP_EKEY;
		}
	}
	return SP_OK;
}

int sp_oprfc_open(const sp_config *c, const sp_keyset *k, const sp_roster *r, sp_oprfc **out,
                  char *why, size_t whylen)
{
	sp_oprfc *x = NULL;
	char ep[256];
	uint32_t t;
	int rc;
	if (!c || !k || !r || !out)
		return SP_EINVAL;
	*out = NULL;
	if (whylen)
		why[0] = '\0';
	if ((rc = sp_oprfc_check_pin(c, r, why, whylen)) != SP_OK) {
		if (rc == SP_EKEY)
			sp_log(LOG_CRIT, C, "%s", why);
		return rc;
	}
	if (!(x = calloc(1, sizeof *x)))
		return SP_ENOMEM;
	x->cfg = c;
	x->keys = k;
	x->batch = BATCH_DEFAULT;
	memcpy(x->pin, c->oprf_pin, 32);
	x->threshold = sp_roster_oprf_commitments(r, &t) != NULL;
	x->epoch = sp_roster_oprf_epoch(r);
	x->t = x->threshold ? t : 1;
	x->ninst = sp_config_words(c->oprf_service);
	rc = SP_ENOMEM;
	if (sp_workers_new(&x->workers) != SP_OK || !(x->zctx = zmq_ctx_new()))
		goto fail;
	for (size_t i = 0; i < x->ninst; i++) {
		struct inst *in = &x->inst[i];
		const sp_org *o;
		if ((rc = sp_config_word(c->oprf_service, i, in->id, sizeof in->id)) != SP_OK ||
		    (rc = sp_config_word(c->oprf_endpoint, i, ep, sizeof ep)) != SP_OK)
			goto fail;
		o = sp_roster_find(r, in->id);
		in->index = o->oprf_index;
		memcpy(in->pk, o->oprf_pk, 32);
		memcpy(in->curve_pk, o->curve_pk, 32);
		sp_transport_opts opts = {
			.endpoint = ep,
			.max_frame = c->max_frame,
			.heartbeat_ms = c->heartbeat_ms,
		};
		if ((rc = sp_transport_node(x->zctx, k, o->curve_pk, c->org, &opts, &in->sock)) != SP_OK)
			goto fail;
	}
	*out = x;
	return SP_OK;
fail:
	sp_oprfc_close(&x);
	return rc;
}

int sp_oprfc_roster(sp_oprfc *c, const sp_roster *r, char *why, size_t whylen)
{
	uint32_t t;
	int rc;
	if (!c || !r)
		return SP_EINVAL;
	if ((rc = sp_oprfc_check_pin(c->cfg, r, why, whylen)) != SP_OK)
		return rc;
	if ((sp_roster_oprf_commitments(r, &t) != NULL) != c->threshold || (c->threshold && t != c->t))
		return SP_EKEY; /* not a rotation: a new service takes a restart */
	for (size_t i = 0; i < c->ninst; i++) {
		const sp_org *o = sp_roster_find(r, c->inst[i].id);
		if (!o || memcmp(o->curve_pk, c->inst[i].curve_pk, 32) != 0)
			return SP_EKEY;
		c->inst[i].index = o->oprf_index;
		memcpy(c->inst[i].pk, o->oprf_pk, 32);
	}
	c->epoch = sp_roster_oprf_epoch(r);
	return SP_OK;
}

uint32_t sp_oprfc_epoch(const sp_oprfc *c)
{
	return c ? c->epoch : 0;
}

void sp_oprfc_close(sp_oprfc **c)
{
	int zero = 0;
	if (!c || !*c)
		return;
	for (size_t i = 0; i < (*c)->ninst; i++)
		if ((*c)->inst[i].sock) {
			zmq_setsockopt((*c)->inst[i].sock, ZMQ_LINGER, &zero, sizeof zero);
			zmq_close((*c)->inst[i].sock);
		}
	if ((*c)->zctx)
		zmq_ctx_term((*c)->zctx);
	sp_workers_free(&(*c)->workers);
	free(*c);
	*c = NULL;
}

void sp_oprfc_set_signer(sp_oprfc *c, sp_oprfc_sign_fn fn, void *ctx)
{
	if (c) {
		c->sign = fn;
		c->sign_ctx = ctx;
	}
}

void sp_oprfc_set_batch(sp_oprfc *c, size_t batch)
{
	if (c && batch >= 1 && batch <= SP_OPRF_MAX_BATCH)
		c->batch = batch;
}

size_t sp_oprf_input(int kind, const char *id, uint8_t *buf, size_t buflen)
{
	size_t l;
	if (kind < 1 || kind > 255 || !id || !buf)
		return 0;
	l = strlen(id);
	if (l == 0 || l + 1 > buflen)
		return 0;
	buf[0] = (uint8_t)kind;
	memcpy(buf + 1, id, l);
	return l + 1;
}

static int send_request(sp_oprfc *c, void *sock, int purpose, const uint8_t *blinded, size_t n,
                        const uint8_t rid[SP_OPRF_REQ_ID_BYTES])
{
	Seinpost__OprfRequest rq = SEINPOST__OPRF_REQUEST__INIT;
	Seinpost__OprfSignedRequest sr = SEINPOST__OPRF_SIGNED_REQUEST__INIT;
	size_t dl = sizeof SP_OPRF_REQ_DOMAIN - 1, rl, sl;
	uint8_t *msg = NULL, *wire = NULL, sig[crypto_sign_BYTES];
	int rc = SP_ENOMEM;

	rq.org = (char *)c->cfg->org;
	rq.request_id.data = (uint8_t *)rid;
	rq.request_id.len = SP_OPRF_REQ_ID_BYTES;
	rq.time = sp_now_ms();
	rq.blinded.data = (uint8_t *)blinded;
	rq.blinded.len = n * SP_OPRF_ELEMBYTES;
	rq.purpose = (Seinpost__OprfPurpose)purpose;
	rl = seinpost__oprf_request__get_packed_size(&rq);
	if (!(msg = malloc(dl + rl)))
		goto out;
	memcpy(msg, SP_OPRF_REQ_DOMAIN, dl);
	seinpost__oprf_request__pack(&rq, msg + dl);
	if (c->sign) {
		if ((rc = c->sign(c->sign_ctx, msg + dl, rl, sig)) != SP_OK)
			goto out;
		rc = SP_ENOMEM;
	} else {
		crypto_sign_detached(sig, NULL, msg, dl + rl, c->keys->sign_sk);
	}
	sr.request.data = msg + dl;
	sr.request.len = rl;
	sr.signature.data = sig;
	sr.signature.len = sizeof sig;
	sl = seinpost__oprf_signed_request__get_packed_size(&sr);
	if (!(wire = malloc(sl)))
		goto out;
	seinpost__oprf_signed_request__pack(&sr, wire);
	rc = sp_transport_send(sock, NULL, 0, wire, sl);
out:
	free(msg);
	free(wire);
	return rc;
}

enum { ST_IDLE = 0, ST_PENDING, ST_OK, ST_FAILED };

/* Per-element work for the two threads (sp_workers.h). */
struct blind_job {
	int kind;
	const char *const *ids;
	uint8_t *blinds, *blinded;
	int failed;
};

static void blind_one(void *ctx, size_t i)
{
	struct blind_job *j = ctx;
	uint8_t in[SP_OPRF_INPUT_MAX];
	size_t il = sp_oprf_input(j->kind, j->ids[i], in, sizeof in);
	if (!il || sp_oprf_blind(SP_OPRF_MODE_VERIFIABLE, in, il, NULL, j->blinds + 32 * i,
	                         j->blinded + 32 * i) != SP_OK)
		__atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
	sodium_memzero(in, sizeof in);
}

/* One request in flight: a slice [off, off + n) of the caller's
 * identifiers, blinded once and asked of t instances (others when one
 * fails, refuses or proves wrongly). */
#define SMALL 16 /* a submit's one element: blinds on the stack, no sodium_malloc system calls */
struct req {
	size_t off, n;
	uint8_t *blinds, *blinded, *ev[SP_TOPRF_MAX_N];
	uint8_t small[SMALL * 32];
	uint8_t rid[SP_OPRF_REQ_ID_BYTES];
	int st[SP_TOPRF_MAX_N];
	uint32_t okidx[SP_TOPRF_MAX_N];
	const uint8_t *okev[SP_TOPRF_MAX_N];
	size_t nok;
	uint64_t deadline;
	int last_refusal, timed_out;
};

static void req_free(struct req *r)
{
	for (size_t i = 0; i < SP_TOPRF_MAX_N; i++)
		free(r->ev[i]);
	if (r->blinds == r->small)
		sodium_memzero(r->small, sizeof r->small);
	else
		sodium_free(r->blinds);
	free(r->blinded);
	memset(r, 0, sizeof *r);
}

/* Ask instance i for r (state PENDING), or mark it FAILED when the send fails. */
static void ask(sp_oprfc *c, struct req *r, size_t i, int purpose)
{
	r->st[i] = send_request(c, c->inst[i].sock, purpose, r->blinded, r->n, r->rid) == SP_OK ? ST_PENDING
	                                                                                     : ST_FAILED;
}

/* The next instance not asked yet for r, in round-robin order from c->next;
 * instances that recently did not answer come last, so one instance down
 * costs one timeout, not one per batch. */
static int next_idle(const sp_oprfc *c, const int *st)
{
	uint64_t now = sp_mono_ms();
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < c->ninst; k++) {
			size_t i = (c->next + k) % c->ninst;
			if (st[i] == ST_IDLE && (pass == 1 || c->inst[i].quiet_until <= now))
				return (int)i;
		}
	return -1;
}

static int pending(const sp_oprfc *c, const struct req *r)
{
	for (size_t i = 0; i < c->ninst; i++)
		if (r->st[i] == ST_PENDING)
			return 1;
	return 0;
}

/* Blind the slice and ask t instances. */
static int req_start(sp_oprfc *c, struct req *r, int purpose, int kind, const char *const *ids,
                     size_t off, size_t n)
{
	struct blind_job bj = { .kind = kind, .ids = ids + off };
	memset(r, 0, sizeof *r);
	r->off = off;
	r->n = n;
	if (n <= SMALL)
		r->blinds = r->small;
	else if (!(r->blinds = sodium_malloc(n * 32)))
		return SP_ENOMEM;
	if (!(r->blinded = malloc(n * 32)))
		return SP_ENOMEM;
	bj.blinds = r->blinds;
	bj.blinded = r->blinded;
	sp_workers_run(c->workers, blind_one, &bj, n);
	if (bj.failed)
		return SP_ECRYPTO;
	randombytes_buf(r->rid, sizeof r->rid);
	for (uint32_t asked = 0; asked < c->t; asked++) {
		int k = next_idle(c, r->st);
		if (k < 0)
			break;
		ask(c, r, (size_t)k, purpose);
	}
	c->next = (c->next + 1) % c->ninst; /* spread the load over the instances */
	r->deadline = sp_mono_ms() + c->cfg->oprf_timeout_ms;
	return SP_OK;
}

/* An answer of instance k to r: refused, wrongly proven (alarm), or good. */
static void req_answer(sp_oprfc *c, struct req *r, size_t k, const Seinpost__OprfReply *rep, int purpose,
                       char *why, size_t whylen)
{
	if (rep->code != SP_OK) {
		r->last_refusal = rep->code < 0 && rep->code > SP_ELAST ? rep->code : SP_EMALFORMED;
		snprintf(why, whylen, "the pseudonymisation service %s refused: %s", c->inst[k].id,
		         rep->reason && *rep->reason ? rep->reason : sp_strerror(r->last_refusal));
		r->st[k] = ST_FAILED;
	} else if (rep->key_epoch != c->epoch) {
		/* a rotation under way: one of us has not the new roster yet */
		sp_log(LOG_WARNING, C, "pseudonymiser %s answers under key epoch %u, this node's roster is at "
		       "%u: waiting for the rotated roster", c->inst[k].id, rep->key_epoch, c->epoch);
		snprintf(why, whylen, "pseudonymiser %s is at key epoch %u, this node at %u (a rotation under "
		         "way)", c->inst[k].id, rep->key_epoch, c->epoch);
		r->last_refusal = r->last_refusal ? r->last_refusal : SP_ETIMEOUT;
		r->st[k] = ST_FAILED;
	} else if (rep->evaluated.len != r->n * 32 || rep->proof.len != SP_OPRF_PROOFBYTES ||
	           sp_oprf_verify_w(SP_OPRF_MODE_VERIFIABLE, c->inst[k].pk, r->blinded, rep->evaluated.data, r->n,
	                            rep->proof.data, c->workers) != SP_OK) {
		sp_log(LOG_CRIT, C, "ALARM: the answer of pseudonymiser %s does not prove "
		       "evaluation under its key; refused, asking another", c->inst[k].id);
		snprintf(why, whylen, "ALARM: the answer of pseudonymiser %s does not prove "
		         "evaluation under its key", c->inst[k].id);
		r->last_refusal = SP_ECRYPTO;
		r->st[k] = ST_FAILED;
	} else if ((r->ev[k] = malloc(r->n * 32)) != NULL) {
		memcpy(r->ev[k], rep->evaluated.data, r->n * 32);
		r->st[k] = ST_OK;
		c->inst[k].quiet_until = 0;
		r->okidx[r->nok] = c->inst[k].index;
		r->okev[r->nok++] = r->ev[k];
	} else {
		r->st[k] = ST_FAILED;
	}
	if (r->st[k] == ST_FAILED) {
		int j = next_idle(c, r->st);
		if (j >= 0)
			ask(c, r, (size_t)j, purpose);
	}
}

/* Past r's deadline, or nothing pending while answers are missing: the
 * instances still pending are unreachable; ask the others, once. 0 while
 * r can still be answered, 1 when it cannot (fail closed). */
static int req_stalled(sp_oprfc *c, struct req *r, int purpose)
{
	uint64_t now = sp_mono_ms();
	int k = -1;
	for (size_t i = 0; i < c->ninst; i++)
		if (r->st[i] == ST_PENDING) {
			r->st[i] = ST_FAILED;
			r->timed_out = 1;
			c->inst[i].quiet_until = now + QUIET_MS;
		}
	for (size_t need = c->t - r->nok; need > 0 && (k = next_idle(c, r->st)) >= 0; need--)
		ask(c, r, (size_t)k, purpose);
	r->deadline = sp_mono_ms() + c->cfg->oprf_timeout_ms;
	return !pending(c, r);
}

static int req_rc(const struct req *r)
{
	return r->timed_out && r->last_refusal != SP_ECRYPTO ? SP_ETIMEOUT
	                                                     : r->last_refusal ? r->last_refusal : SP_ETIMEOUT;
}

/* Requests in flight at once: the service evaluates one while the node
 * verifies and unblinds the answer to the one before and blinds the next,
 * so neither side waits for the other (and for its commits) in turn. */
#define PIPELINE 3

int sp_oprfc_pseudonyms(sp_oprfc *c, int purpose, int kind, const char *const *ids, size_t n,
                        uint8_t *out, char *why, size_t whylen)
{
	struct req rq[PIPELINE];
	int used[PIPELINE] = { 0 };
	uint8_t in[SP_OPRF_INPUT_MAX];
	size_t next_off = 0, nactive = 0;
	int rc = SP_OK;

	if (!c || !ids || !out || n == 0)
		return SP_EINVAL;
	if (whylen)
		why[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!sp_oprf_input(kind, ids[i], in, sizeof in)) {
			sodium_memzero(in, sizeof in);
			return SP_EINVAL; /* nothing asked */
		}
	sodium_memzero(in, sizeof in);
	memset(rq, 0, sizeof rq);
	for (;;) {
		zmq_pollitem_t items[SP_TOPRF_MAX_N];
		size_t map[SP_TOPRF_MAX_N], np = 0;
		uint64_t now, first = UINT64_MAX;

		/* fill the pipeline */
		for (size_t s = 0; s < PIPELINE && next_off < n; s++) {
			size_t m;
			if (used[s])
				continue;
			m = n - next_off < c->batch ? n - next_off : c->batch;
			used[s] = 1;
			nactive++;
			if ((rc = req_start(c, &rq[s], purpose, kind, ids, next_off, m)) != SP_OK)
				goto out;
			next_off += m;
		}
		if (nactive == 0)
			break;
		/* done, stalled or failed requests */
		for (size_t s = 0; s < PIPELINE; s++) {
			struct req *r = &rq[s];
			if (!used[s])
				continue;
			if (r->nok >= c->t) {
				/* for t-of-n: every partial was proven against s_i·G, which
				 * the roster checked against the commitments whose C_0 is
				 * the pinned group key */
				rc = c->threshold ? sp_toprf_combine_batch(r->okidx, c->t, r->okev, r->blinds, r->n,
				                                           out + 32 * r->off, c->workers)
				                  : sp_oprf_unblind_batch(r->blinds, r->okev[0], r->n, out + 32 * r->off,
				                                          c->workers);
				if (rc != SP_OK) {
					rc = rc == SP_ENOMEM ? rc : SP_ECRYPTO;
					goto out;
				}
				req_free(r);
				used[s] = 0;
				nactive--;
				continue;
			}
			if ((!pending(c, r) || sp_mono_ms() >= r->deadline) && req_stalled(c, r, purpose)) {
				rc = req_rc(r); /* fail closed: fewer than t good answers */
				goto out;
			}
			if (r->deadline < first)
				first = r->deadline;
		}
		if (nactive == 0) {
			if (next_off >= n)
				break;
			continue;
		}
		for (size_t i = 0; i < c->ninst; i++) {
			int any = 0;
			for (size_t s = 0; s < PIPELINE; s++)
				any |= used[s] && rq[s].st[i] == ST_PENDING;
			if (!any)
				continue;
			items[np].socket = c->inst[i].sock;
			items[np].fd = 0;
			items[np].events = ZMQ_POLLIN;
			items[np].revents = 0;
			map[np++] = i;
		}
		now = sp_mono_ms();
		if (np == 0 || first <= now)
			continue; /* handled as stalled above */
		if (zmq_poll(items, (int)np, (long)(first - now)) <= 0)
			continue;
		for (size_t p = 0; p < np; p++) {
			size_t k = map[p];
			if (!(items[p].revents & ZMQ_POLLIN))
				continue;
			/* every answer waiting on this socket */
			for (;;) {
				Seinpost__OprfReply *rep;
				sp_msg m;
				if (sp_transport_recv(c->inst[k].sock, 0, 1, &m) != SP_OK) {
					sp_msg_clear(&m);
					break;
				}
				rep = seinpost__oprf_reply__unpack(NULL, m.len, m.body);
				sp_msg_clear(&m);
				if (!rep)
					continue;
				for (size_t s = 0; s < PIPELINE; s++)
					if (used[s] && rq[s].st[k] == ST_PENDING && rep->request_id.len == SP_OPRF_REQ_ID_BYTES &&
					    memcmp(rep->request_id.data, rq[s].rid, SP_OPRF_REQ_ID_BYTES) == 0) {
						req_answer(c, &rq[s], k, rep, purpose, why, whylen);
						break;
					}
				/* else an old answer (to a timed-out request): dropped */
				seinpost__oprf_reply__free_unpacked(rep, NULL);
			}
		}
	}
	if (whylen)
		why[0] = '\0';
	rc = SP_OK;
out:
	for (size_t s = 0; s < PIPELINE; s++)
		if (used[s] || rq[s].blinds || rq[s].blinded)
			req_free(&rq[s]);
	if (rc != SP_OK)
		sodium_memzero(out, 32 * n);
	return rc;
}
