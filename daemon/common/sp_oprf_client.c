/*
 * sp_oprf_client.c — blind, ask, verify, unblind.
 *
 * One DEALER socket to the service, CURVE-pinned to the service's roster
 * key. Requests are synchronous: a batch goes out, the answer with the same
 * request id comes back or the timeout passes (answers to earlier, timed-out
 * requests are recognised by their id and dropped). Blinds live in
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
#define BATCH_DEFAULT 4096
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

/* The i-th space-separated word of list into w. */
static int word_at(const char *list, size_t i, char *w, size_t wlen)
{
	const char *p = list;
	for (;;) {
		size_t l = strcspn(p, " ");
		if (!l)
			return SP_ENOTFOUND;
		if (i-- == 0) {
			if (l >= wlen)
				return SP_ESIZE;
			memcpy(w, p, l);
			w[l] = '\0';
			return SP_OK;
		}
		p += l;
		p += strspn(p, " ");
	}
}

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
		if (word_at(c->oprf_service, i, id, sizeof id) != SP_OK)
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
		if ((rc = word_at(c->oprf_service, i, in->id, sizeof in->id)) != SP_OK ||
		    (rc = word_at(c->oprf_endpoint, i, ep, sizeof ep)) != SP_OK)
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
	const sp_oprfc *c;
	const uint32_t *okidx;
	int failed;
	const uint8_t *const *okev;
	uint8_t *out;
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

static void unblind_one(void *ctx, size_t i)
{
	struct blind_job *j = ctx;
	const uint8_t *ev[SP_TOPRF_MAX_N];
	int rc;
	if (!j->c->threshold) {
		rc = sp_oprf_unblind(j->blinds + 32 * i, j->okev[0] + 32 * i, j->out + 32 * i);
	} else {
		for (uint32_t k = 0; k < j->c->t; k++)
			ev[k] = j->okev[k] + 32 * i;
		rc = sp_toprf_combine(j->okidx, j->c->t, ev, j->blinds + 32 * i, 1, j->out + 32 * i);
	}
	if (rc != SP_OK)
		__atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
}

/* Ask instance i (state PENDING), or mark it FAILED when the send fails. */
static void ask(sp_oprfc *c, size_t i, int *st, int purpose, const uint8_t *blinded, size_t n,
                const uint8_t *rid)
{
	st[i] = send_request(c, c->inst[i].sock, purpose, blinded, n, rid) == SP_OK ? ST_PENDING
	                                                                           : ST_FAILED;
}

/* The next instance not asked yet, in round-robin order from c->next;
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

/* One request of n elements: blind once, ask t instances (others when one
 * fails, refuses or proves wrongly), verify every answer against that
 * instance's key, then unblind — folded into the Lagrange combination when
 * the service is t-of-n. */
static int one_batch(sp_oprfc *c, int purpose, int kind, const char *const *ids, size_t n,
                     uint8_t *out, char *why, size_t whylen)
{
	uint8_t *blinds = NULL, *blinded = NULL, *ev[SP_TOPRF_MAX_N] = { 0 };
	uint8_t in[SP_OPRF_INPUT_MAX], rid[SP_OPRF_REQ_ID_BYTES];
	int st[SP_TOPRF_MAX_N] = { 0 }, last_refusal = 0, timed_out = 0;
	uint32_t okidx[SP_TOPRF_MAX_N];
	const uint8_t *okev[SP_TOPRF_MAX_N];
	size_t i, il, nok = 0, asked = 0;
	uint64_t deadline;
	int rc = SP_ENOMEM;

	if (!(blinds = sodium_malloc(n * 32)) || !(blinded = malloc(n * 32)))
		goto out;
	for (i = 0; i < n; i++)
		if (!(il = sp_oprf_input(kind, ids[i], in, sizeof in))) {
			rc = SP_EINVAL;
			goto out;
		}
	sodium_memzero(in, sizeof in);
	{
		struct blind_job bj = { .kind = kind, .ids = ids, .blinds = blinds, .blinded = blinded };
		sp_workers_run(c->workers, blind_one, &bj, n);
		if (bj.failed) {
			rc = SP_ECRYPTO;
			goto out;
		}
	}
	randombytes_buf(rid, sizeof rid);
	for (asked = 0; asked < c->t; asked++) {
		int k = next_idle(c, st);
		if (k < 0)
			break;
		ask(c, (size_t)k, st, purpose, blinded, n, rid);
	}
	c->next = (c->next + 1) % c->ninst; /* spread the load over the instances */
	deadline = sp_mono_ms() + c->cfg->oprf_timeout_ms;
	while (nok < c->t) {
		zmq_pollitem_t items[SP_TOPRF_MAX_N];
		size_t map[SP_TOPRF_MAX_N], np = 0;
		uint64_t now = sp_mono_ms();
		for (i = 0; i < c->ninst; i++)
			if (st[i] == ST_PENDING) {
				items[np].socket = c->inst[i].sock;
				items[np].fd = 0;
				items[np].events = ZMQ_POLLIN;
				items[np].revents = 0;
				map[np++] = i;
			}
		if (np == 0 || now >= deadline) {
			/* those still pending are unreachable: ask the others, once */
			for (i = 0; i < c->ninst; i++)
				if (st[i] == ST_PENDING) {
					st[i] = ST_FAILED;
					timed_out = 1;
					c->inst[i].quiet_until = now + QUIET_MS;
				}
			int k = -1;
			for (size_t need = c->t - nok; need > 0 && (k = next_idle(c, st)) >= 0; need--)
				ask(c, (size_t)k, st, purpose, blinded, n, rid);
			if (k < 0 && np == 0) {
				int any = 0;
				for (i = 0; i < c->ninst; i++)
					any |= st[i] == ST_PENDING;
				if (!any)
					break;
			}
			deadline = sp_mono_ms() + c->cfg->oprf_timeout_ms;
			continue;
		}
		if (zmq_poll(items, (int)np, (long)(deadline - now)) <= 0)
			continue;
		for (size_t p = 0; p < np; p++) {
			Seinpost__OprfReply *rep;
			sp_msg m;
			size_t k = map[p];
			if (!(items[p].revents & ZMQ_POLLIN))
				continue;
			if (sp_transport_recv(c->inst[k].sock, 0, 1, &m) != SP_OK) {
				sp_msg_clear(&m);
				continue;
			}
			rep = seinpost__oprf_reply__unpack(NULL, m.len, m.body);
			sp_msg_clear(&m);
			if (!rep)
				continue;
			if (rep->request_id.len != SP_OPRF_REQ_ID_BYTES ||
			    memcmp(rep->request_id.data, rid, SP_OPRF_REQ_ID_BYTES) != 0) {
				seinpost__oprf_reply__free_unpacked(rep, NULL); /* an old answer */
				continue;
			}
			if (rep->code != SP_OK) {
				last_refusal = rep->code < 0 && rep->code > SP_ELAST ? rep->code : SP_EMALFORMED;
				snprintf(why, whylen, "the pseudonymisation service %s refused: %s",
				         c->inst[k].id,
				         rep->reason && *rep->reason ? rep->reason : sp_strerror(last_refusal));
				st[k] = ST_FAILED;
			} else if (rep->key_epoch != c->epoch) {
				/* a rotation under way: one of us has not the new roster yet */
				sp_log(LOG_WARNING, C, "pseudonymiser %s answers under key epoch %u, this node's roster is at "
				       "%u: waiting for the rotated roster", c->inst[k].id, rep->key_epoch, c->epoch);
				snprintf(why, whylen, "pseudonymiser %s is at key epoch %u, this node at %u (a rotation under "
				         "way)", c->inst[k].id, rep->key_epoch, c->epoch);
				last_refusal = last_refusal ? last_refusal : SP_ETIMEOUT;
				st[k] = ST_FAILED;
			} else if (rep->evaluated.len != n * 32 || rep->proof.len != SP_OPRF_PROOFBYTES ||
			           sp_oprf_verify_w(SP_OPRF_MODE_VERIFIABLE, c->inst[k].pk, blinded,
			                            rep->evaluated.data, n, rep->proof.data,
			                            c->workers) != SP_OK) {
				sp_log(LOG_CRIT, C, "ALARM: the answer of pseudonymiser %s does not prove "
				       "evaluation under its key; refused, asking another", c->inst[k].id);
				snprintf(why, whylen, "ALARM: the answer of pseudonymiser %s does not prove "
				         "evaluation under its key", c->inst[k].id);
				last_refusal = SP_ECRYPTO;
				st[k] = ST_FAILED;
			} else if ((ev[k] = malloc(n * 32)) != NULL) {
				memcpy(ev[k], rep->evaluated.data, n * 32);
				st[k] = ST_OK;
				c->inst[k].quiet_until = 0;
				okidx[nok] = c->inst[k].index;
				okev[nok++] = ev[k];
			}
			seinpost__oprf_reply__free_unpacked(rep, NULL);
			if (st[k] == ST_FAILED) {
				int j = next_idle(c, st);
				if (j >= 0)
					ask(c, (size_t)j, st, purpose, blinded, n, rid);
			}
		}
	}
	if (nok < c->t) {
		/* fail closed: fewer than t good answers */
		rc = timed_out && last_refusal != SP_ECRYPTO ? SP_ETIMEOUT
		                                             : last_refusal ? last_refusal : SP_ETIMEOUT;
		goto out;
	}
	/* for t-of-n: every partial was proven against s_i·G, which the roster
	 * checked against the commitments whose C_0 is the pinned group key */
	{
		struct blind_job uj = { .blinds = blinds, .c = c, .okidx = okidx, .okev = okev,
		                        .out = out };
		sp_workers_run(c->workers, unblind_one, &uj, n);
		if (uj.failed) {
			rc = SP_ECRYPTO;
			goto out;
		}
	}
	if (whylen)
		why[0] = '\0';
	rc = SP_OK;
out:
	for (i = 0; i < SP_TOPRF_MAX_N; i++)
		free(ev[i]);
	sodium_free(blinds);
	free(blinded);
	return rc;
}

int sp_oprfc_pseudonyms(sp_oprfc *c, int purpose, int kind, const char *const *ids, size_t n,
                        uint8_t *out, char *why, size_t whylen)
{
	size_t done = 0;
	int rc = SP_OK;
	if (!c || !ids || !out || n == 0)
		return SP_EINVAL;
	if (whylen)
		why[0] = '\0';
	while (done < n && rc == SP_OK) {
		size_t m = n - done < c->batch ? n - done : c->batch;
		rc = one_batch(c, purpose, kind, ids + done, m, out + 32 * done, why, whylen);
		done += m;
	}
	if (rc != SP_OK)
		sodium_memzero(out, 32 * n);
	return rc;
}
