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
#include "sp_transport.h"
#include "sp_util.h"

#define C "oprf"
#define BATCH_DEFAULT 4096

struct sp_oprfc {
	const sp_config *cfg;
	const sp_keyset *keys;
	uint8_t pin[32];
	void *zctx, *sock;
	size_t batch;
};

int sp_oprfc_check_pin(const sp_config *c, const sp_roster *r, char *why, size_t whylen)
{
	const sp_org *o;
	if (!c || !r)
		return SP_EINVAL;
	if (!c->oprf_service[0])
		return SP_ENOTFOUND;
	o = sp_roster_find(r, c->oprf_service);
	if (!o || strcmp(o->role, "pseudonymiser") != 0 || !o->has_oprf) {
		snprintf(why, whylen, "ALARM: the roster has no pseudonymiser '%s' (pinned in %s)",
		         c->oprf_service, c->path);
		return SP_EKEY;
	}
	if (sodium_memcmp(o->oprf_pk, c->oprf_pin, 32) != 0) {
		snprintf(why, whylen,
		         "ALARM: the roster's OPRF key for '%s' differs from the key pinned in %s; "
		         "no pseudonyms are asked until the privacy officer has checked the change",
		         c->oprf_service, c->path);
		return SP_EKEY;
	}
	return SP_OK;
}

int sp_oprfc_open(const sp_config *c, const sp_keyset *k, const sp_roster *r, sp_oprfc **out,
                  char *why, size_t whylen)
{
	sp_oprfc *x = NULL;
	const sp_org *o;
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
	o = sp_roster_find(r, c->oprf_service);
	if (!(x = calloc(1, sizeof *x)))
		return SP_ENOMEM;
	x->cfg = c;
	x->keys = k;
	x->batch = BATCH_DEFAULT;
	memcpy(x->pin, c->oprf_pin, 32);
	rc = SP_ENOMEM;
	if (!(x->zctx = zmq_ctx_new()))
		goto fail;
	sp_transport_opts opts = {
		.endpoint = c->oprf_endpoint,
		.max_frame = c->max_frame,
		.heartbeat_ms = c->heartbeat_ms,
	};
	if ((rc = sp_transport_node(x->zctx, k, o->curve_pk, c->org, &opts, &x->sock)) != SP_OK)
		goto fail;
	*out = x;
	return SP_OK;
fail:
	sp_oprfc_close(&x);
	return rc;
}

void sp_oprfc_close(sp_oprfc **c)
{
	if (!c || !*c)
		return;
	if ((*c)->sock) {
		int zero = 0;
		zmq_setsockopt((*c)->sock, ZMQ_LINGER, &zero, sizeof zero);
		zmq_close((*c)->sock);
	}
	if ((*c)->zctx)
		zmq_ctx_term((*c)->zctx);
	free(*c);
	*c = NULL;
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

static int send_request(sp_oprfc *c, int purpose, const uint8_t *blinded, size_t n,
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
	crypto_sign_detached(sig, NULL, msg, dl + rl, c->keys->sign_sk);
	sr.request.data = msg + dl;
	sr.request.len = rl;
	sr.signature.data = sig;
	sr.signature.len = sizeof sig;
	sl = seinpost__oprf_signed_request__get_packed_size(&sr);
	if (!(wire = malloc(sl)))
		goto out;
	seinpost__oprf_signed_request__pack(&sr, wire);
	rc = sp_transport_send(c->sock, NULL, 0, wire, sl);
out:
	free(msg);
	free(wire);
	return rc;
}

/* Wait for the reply to rid; older replies are dropped. */
static int await_reply(sp_oprfc *c, const uint8_t rid[SP_OPRF_REQ_ID_BYTES],
                       Seinpost__OprfReply **out)
{
	uint64_t deadline = sp_mono_ms() + c->cfg->oprf_timeout_ms;
	*out = NULL;
	for (;;) {
		uint64_t now = sp_mono_ms();
		zmq_pollitem_t it = { .socket = c->sock, .events = ZMQ_POLLIN };
		sp_msg m;
		int r;
		if (now >= deadline)
			return SP_ETIMEOUT;
		if (zmq_poll(&it, 1, (long)(deadline - now)) <= 0)
			continue;
		r = sp_transport_recv(c->sock, 0, 1, &m);
		if (r != SP_OK) {
			sp_msg_clear(&m);
			continue;
		}
		Seinpost__OprfReply *rep = seinpost__oprf_reply__unpack(NULL, m.len, m.body);
		sp_msg_clear(&m);
		if (!rep)
			continue;
		if (rep->request_id.len == SP_OPRF_REQ_ID_BYTES &&
		    memcmp(rep->request_id.data, rid, SP_OPRF_REQ_ID_BYTES) == 0) {
			*out = rep;
			return SP_OK;
		}
		seinpost__oprf_reply__free_unpacked(rep, NULL);
	}
}

/* One request of n elements: blind, ask, verify, unblind into out. */
static int one_batch(sp_oprfc *c, int purpose, int kind, const char *const *ids, size_t n,
                     uint8_t *out, char *why, size_t whylen)
{
	uint8_t *blinds = NULL, *blinded = NULL, in[SP_OPRF_INPUT_MAX], rid[SP_OPRF_REQ_ID_BYTES];
	Seinpost__OprfReply *rep = NULL;
	size_t i, il;
	int rc = SP_ENOMEM;

	if (!(blinds = sodium_malloc(n * 32)) || !(blinded = malloc(n * 32)))
		goto out;
	for (i = 0; i < n; i++) {
		if (!(il = sp_oprf_input(kind, ids[i], in, sizeof in))) {
			rc = SP_EINVAL;
			goto out;
		}
		rc = sp_oprf_blind(SP_OPRF_MODE_VERIFIABLE, in, il, NULL, blinds + 32 * i,
		                   blinded + 32 * i);
		sodium_memzero(in, sizeof in);
		if (rc != SP_OK)
			goto out;
	}
	randombytes_buf(rid, sizeof rid);
	if ((rc = send_request(c, purpose, blinded, n, rid)) != SP_OK)
		goto out;
	if ((rc = await_reply(c, rid, &rep)) != SP_OK)
		goto out;
	if (rep->code != SP_OK) {
		rc = rep->code < 0 && rep->code > SP_ELAST ? rep->code : SP_EMALFORMED;
		snprintf(why, whylen, "the pseudonymisation service refused: %s",
		         rep->reason && *rep->reason ? rep->reason : sp_strerror(rc));
		goto out;
	}
	rc = SP_ECRYPTO;
	if (rep->evaluated.len != n * 32 || rep->proof.len != SP_OPRF_PROOFBYTES ||
	    sp_oprf_verify(SP_OPRF_MODE_VERIFIABLE, c->pin, blinded, rep->evaluated.data, n,
	                   rep->proof.data) != SP_OK) {
		snprintf(why, whylen, "ALARM: the pseudonymisation service's answer does not prove "
		         "evaluation under the pinned key; refused");
		sp_log(LOG_CRIT, C, "%s", why);
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((rc = sp_oprf_unblind(blinds + 32 * i, rep->evaluated.data + 32 * i,
		                          out + 32 * i)) != SP_OK)
			goto out;
	rc = SP_OK;
out:
	if (rep)
		seinpost__oprf_reply__free_unpacked(rep, NULL);
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
