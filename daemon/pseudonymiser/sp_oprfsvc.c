/*
 * sp_oprfsvc.c — what the pseudonymisation service does with one request.
 *
 * Order of checks, cheapest and most telling first: decode (sizes), the
 * claimed org equals the CURVE-proven one, the signer is on the roster and
 * the signature holds, the clock, the batch size against the role's
 * per-request limit, then the day's count against its per-day limit. Only
 * then the OPRF work (one scalar multiplication per element plus one per
 * element for the batched proof). Every outcome but a malformed frame is
 * audited: an evaluation with its count, a refusal with its reason — the
 * audit holds organisation ids and counts, never an element (the blinded
 * elements are random to us anyway).
 *
 * The day's counter is per signing organisation, not per connection: a
 * node that reconnects, or opens ten connections, shares one budget.
 */
#include "sp_oprfsvc.h"
#include "sp_meta_keys.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seinpost.pb-c.h"
#include "sp_audit.h"
#include "sp_oprf.h"
#include "sp_oprf_alarmfeed.h"
#include "sp_status.h"
#include "sp_util.h"

#define USED_PREFIX SP_MK_OPRF_USED
#define DAY_MS 86400000ull

/* ---- key file ------------------------------------------------------------ */

static sp_oprf_key *key_new(void)
{
	return sp_secret_alloc(sizeof(sp_oprf_key));
}

void sp_oprf_key_free(sp_oprf_key **k)
{
	if (!k || !*k)
		return;
	sodium_free(*k);
	*k = NULL;
}

int sp_oprf_key_generate(sp_oprf_key **out)
{
	sp_oprf_key *k;
	int rc;
	if (!out)
		return SP_EINVAL;
	*out = NULL;
	if (!(k = key_new()))
		return SP_ENOMEM;
	rc = sp_oprf_keypair(k->sk, k->pk);
	if (rc != SP_OK) {
		sp_oprf_key_free(&k);
		return rc;
	}
	*out = k;
	return SP_OK;
}

static int write_hex32(const char *dir, const char *name, const uint8_t v[32], mode_t mode)
{
	char path[4200], hex[66];
	int rc = sp_path_join(dir, name, path, sizeof path);
	if (rc != SP_OK)
		return rc;
	sp_hex(v, 32, hex);
	hex[64] = '\n';
	rc = sp_file_write(path, hex, 65, mode);
	sodium_memzero(hex, sizeof hex);
	return rc;
}

int sp_oprf_key_save(const sp_oprf_key *k, const char *keys_dir)
{
	int rc;
	if (!k || !keys_dir)
		return SP_EINVAL;
	if ((rc = sp_mkdir_p(keys_dir, 0700)) != SP_OK)
		return rc;
	if ((rc = write_hex32(keys_dir, "oprf.key", k->sk, 0600)) != SP_OK)
		return rc;
	return write_hex32(keys_dir, "oprf.pub", k->pk, 0644);
}

static int read_hex32(const char *dir, const char *name, uint8_t out[32], int secret)
{
	char path[4200];
	uint8_t *buf = NULL;
	size_t n = 0;
	int rc = sp_path_join(dir, name, path, sizeof path);
	if (rc != SP_OK)
		return rc;
	if (secret && (rc = sp_file_check_private(path)) != SP_OK)
		return rc;
	if ((rc = sp_file_read(path, 256, &buf, &n)) != SP_OK)
		return rc == SP_ESIZE ? SP_EKEY : rc;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	rc = memchr(buf, '\0', n) || sp_unhex((const char *)buf, out, 32) != SP_OK ? SP_EKEY : SP_OK;
	sodium_memzero(buf, n);
	free(buf);
	return rc;
}

int sp_oprf_key_load(const char *keys_dir, sp_oprf_key **out)
{
	sp_oprf_key *k;
	uint8_t pk[32];
	int rc;
	if (!keys_dir || !out)
		return SP_EINVAL;
	*out = NULL;
	if (!(k = key_new()))
		return SP_ENOMEM;
	if ((rc = read_hex32(keys_dir, "oprf.key", k->sk, 1)) != SP_OK ||
	    (rc = read_hex32(keys_dir, "oprf.pub", k->pk, 0)) != SP_OK)
		goto fail;
	rc = SP_EKEY;
	if (sodium_is_zero(k->sk, 32) || crypto_scalarmult_ristretto255_base(pk, k->sk) != 0 ||
	    sodium_memcmp(pk, k->pk, 32) != 0)
		goto fail;
	*out = k;
	return SP_OK;
fail:
	sp_oprf_key_free(&k);
	return rc;
}

/* ---- limits and counters ------------------------------------------------- */

void sp_oprfsvc_limits(const sp_policy *p, const char *role, uint32_t *per_day,
                       uint32_t *per_request)
{
	const sp_policy_limits *l = sp_policy_limits_find(p, role);
	*per_day = l ? l->oprf_per_day : SP_LIMIT_OPRF_PER_DAY_DEFAULT;
	*per_request = l ? l->oprf_per_request : SP_LIMIT_OPRF_PER_REQUEST_DEFAULT;
	if (*per_request > SP_OPRF_MAX_BATCH)
		*per_request = SP_OPRF_MAX_BATCH;
}

static size_t used_key(const char *org, char *k, size_t klen)
{
	int n = snprintf(k, klen, USED_PREFIX "%s", org);
	return n > 0 && (size_t)n < klen ? (size_t)n : 0;
}

/* value: be64(day) ‖ be64(count) */
int sp_oprfsvc_used(sp_txn *t, const char *org, uint64_t now_ms, uint64_t *used)
{
	char k[128];
	const void *v;
	size_t kl = used_key(org, k, sizeof k), vl;
	int rc;
	*used = 0;
	if (!kl)
		return SP_EINVAL;
	rc = sp_store_get(t, SP_DB_META, k, kl, &v, &vl);
	if (rc == SP_ENOTFOUND)
		return SP_OK;
	if (rc != SP_OK)
		return rc;
	if (vl != 16)
		return SP_ECORRUPT;
	if (sp_be64_get(v) == now_ms / DAY_MS)
		*used = sp_be64_get((const uint8_t *)v + 8);
	return SP_OK;
}

static int used_add(sp_txn *t, const char *org, uint64_t now_ms, uint64_t used, uint64_t n)
{
	char k[128];
	uint8_t v[16];
	size_t kl = used_key(org, k, sizeof k);
	if (!kl)
		return SP_EINVAL;
	sp_be64_put(v, now_ms / DAY_MS);
	sp_be64_put(v + 8, used + n);
	return sp_store_put(t, SP_DB_META, k, kl, v, sizeof v, 0);
}

/* ---- the last alarm: be64(unix ms) ‖ text, written with its refusal ------- */

#define ALARM_KEY SP_MK_OPRF_ALARM
#define ALARM_SHOW_MS (24ull * 3600 * 1000) /* status is unhealthy this long after one */

static int alarm_put(sp_txn *t, uint64_t now_ms, const char *text)
{
	uint8_t v[8 + 256];
	size_t l = strnlen(text, 256);
	sp_be64_put(v, now_ms);
	memcpy(v + 8, text, l);
	return sp_store_put(t, SP_DB_META, ALARM_KEY, sizeof ALARM_KEY - 1, v, 8 + l, 0);
}

/* ---- one request ------------------------------------------------------------ */

static const char *purpose_name(uint32_t p)
{
	switch (p) {
	case SEINPOST__OPRF_PURPOSE__OPRF_PURPOSE_LOOKUP: return "lookup";
	case SEINPOST__OPRF_PURPOSE__OPRF_PURPOSE_SUBMIT: return "submit";
	case SEINPOST__OPRF_PURPOSE__OPRF_PURPOSE_INVOLVE: return "involve";
	default: return "unspecified";
	}
}

static int pack_reply(const Seinpost__OprfReply *r, uint8_t **out, size_t *len)
{
	size_t n = seinpost__oprf_reply__get_packed_size(r);
	uint8_t *b = malloc(n ? n : 1);
	if (!b)
		return SP_ENOMEM;
	seinpost__oprf_reply__pack(r, b);
	*out = b;
	*len = n;
	return SP_OK;
}

static int refuse(const sp_oprfsvc_ctx *c, sp_txn *t, const char *actor, const uint8_t *rid,
                  size_t ridlen, int code, const char *reason, uint32_t count, uint64_t used,
                  uint32_t per_day, uint8_t **reply, size_t *rlen)
{
	Seinpost__OprfReply r = SEINPOST__OPRF_REPLY__INIT;
	sp_audit_entry e = {
		.event = SEINPOST__AUDIT_EVENT__AUDIT_OPRF_REFUSED,
		.actor = actor && *actor ? actor : c->self,
		.reason = reason,
		.code = code,
		.count = count,
	};
	int rc = sp_audit_append(t, &e, NULL);
	if (rc != SP_OK)
		return rc;
	r.request_id.data = (uint8_t *)rid;
	r.request_id.len = rid ? ridlen : 0;
	r.code = code;
	r.reason = (char *)reason;
	r.used_today = used;
	r.limit_per_day = per_day;
	return pack_reply(&r, reply, rlen);
}

int sp_oprfsvc_handle(const sp_oprfsvc_ctx *c, sp_txn *t, const char *proven_org,
                      const uint8_t *req, size_t len, uint64_t now_ms, uint8_t **reply,
                      size_t *rlen, char *alarm, size_t alarmlen)
{
	Seinpost__OprfSignedRequest *sr = NULL;
	Seinpost__OprfRequest *rq = NULL;
	Seinpost__OprfReply r = SEINPOST__OPRF_REPLY__INIT;
	const sp_org *org;
	uint8_t *msg = NULL, *ev = NULL, proof[SP_OPRF_PROOFBYTES];
	size_t dl = sizeof SP_OPRF_REQ_DOMAIN - 1, n;
	uint32_t per_day, per_request;
	uint64_t used = 0, skew;
	sp_oprf_alarm al = { 0 }; /* the alarm in sequence for the privacy officer (sp_oprf_alarmfeed.c) */
	int rc;

	*reply = NULL;
	*rlen = 0;
	if (alarmlen)
		alarm[0] = '\0';
	sr = seinpost__oprf_signed_request__unpack(NULL, len, req);
	if (sr)
		rq = seinpost__oprf_request__unpack(NULL, sr->request.len, sr->request.data);
	if (!sr || !rq || sr->signature.len != crypto_sign_BYTES ||
	    rq->request_id.len != SP_OPRF_REQ_ID_BYTES) {
		rc = refuse(c, t, proven_org, NULL, 0, SP_EMALFORMED, "malformed request", 0, 0, 0,
		            reply, rlen);
		goto out;
	}
#define REFUSE(code, why, cnt)                                                               \
	do {                                                                                 \
		rc = refuse(c, t, proven_org, rq->request_id.data, rq->request_id.len, (code), \
		            (why), (cnt), used, per_day, reply, rlen);                       \
		goto out;                                                                    \
	} while (0)
	per_day = 0;
	n = rq->blinded.len / SP_OPRF_ELEMBYTES;
	/* the claimed org is the CURVE identity is the signer */
	org = sp_roster_find(c->roster, proven_org);
	if (!org || strcmp(rq->org, proven_org) != 0)
		REFUSE(SP_ESENDER, "request names another organisation than its connection", 0);
	msg = malloc(dl + sr->request.len);
	if (!msg) {
		rc = SP_ENOMEM;
		goto out;
	}
	memcpy(msg, SP_OPRF_REQ_DOMAIN, dl);
	memcpy(msg + dl, sr->request.data, sr->request.len);
	if (crypto_sign_verify_detached(sr->signature.data, msg, dl + sr->request.len,
	                                org->sign_pk) != 0) {
		snprintf(alarm, alarmlen, "a request over %s's name failed its signature check", org->id);
		al = (sp_oprf_alarm){ SEINPOST__OPRF_ALARM_KIND__OPRF_ALARM_KIND_SIGNATURE, org->id, org->role, 0, 0, 0 };
		REFUSE(SP_ESIG, "signature does not verify", 0);
	}
	skew = (uint64_t)c->max_clock_skew_s * 1000;
	if (rq->time + skew < now_ms || rq->time > now_ms + skew)
		REFUSE(SP_ECLOCK, "request time too far from the service's clock", 0);
	sp_oprfsvc_limits(c->policy, org->role, &per_day, &per_request);
	if ((rc = sp_oprfsvc_used(t, org->id, now_ms, &used)) != SP_OK)
		goto out;
	if (n == 0 || rq->blinded.len % SP_OPRF_ELEMBYTES != 0)
		REFUSE(SP_EMALFORMED, "blinded elements malformed", 0);
	if (n > per_request)
		REFUSE(SP_ESIZE, "more elements than the per-request limit of the role", (uint32_t)n);
	if (used + n > per_day) {
		snprintf(alarm, alarmlen,
		         "rate limit: %s (%s) asked for %zu evaluations with %llu of %u used today; refused",
		         org->id, org->role, n, (unsigned long long)used, per_day);
		al = (sp_oprf_alarm){ SEINPOST__OPRF_ALARM_KIND__OPRF_ALARM_KIND_RATE_LIMIT, org->id, org->role, n,
		                      used, per_day };
		REFUSE(SP_EPERM, "daily evaluation limit of the role reached", (uint32_t)n);
	}
	ev = malloc(rq->blinded.len);
	if (!ev) {
		rc = SP_ENOMEM;
		goto out;
	}
	if (sp_oprf_evaluate_w(c->key->sk, rq->blinded.data, n, ev, c->workers) != SP_OK)
		REFUSE(SP_ECRYPTO, "an element is invalid or the identity", (uint32_t)n);
	rc = sp_oprf_prove_w(SP_OPRF_MODE_VERIFIABLE, c->key->sk, c->key->pk, rq->blinded.data, ev, n,
	                     NULL, proof, c->workers);
	if (rc != SP_OK)
		REFUSE(SP_ECRYPTO, "proof failed", (uint32_t)n);
	if ((rc = used_add(t, org->id, now_ms, used, n)) != SP_OK)
		goto out;
	{
		sp_audit_entry e = {
			.event = SEINPOST__AUDIT_EVENT__AUDIT_OPRF_EVALUATED,
			.actor = org->id,
			.reason = purpose_name(rq->purpose),
			.count = (uint32_t)n,
		};
		if ((rc = sp_audit_append(t, &e, NULL)) != SP_OK)
			goto out;
	}
	r.request_id = rq->request_id;
	r.code = SP_OK;
	r.evaluated.data = ev;
	r.evaluated.len = rq->blinded.len;
	r.proof.data = proof;
	r.proof.len = sizeof proof;
	r.used_today = used + n;
	r.limit_per_day = per_day;
	r.key_epoch = sp_roster_oprf_epoch(c->roster);
	rc = pack_reply(&r, reply, rlen);
#undef REFUSE
out:
	if (rc == SP_OK && alarmlen && alarm[0])
		rc = alarm_put(t, now_ms, alarm);
	if (rc == SP_OK && al.kind)
		rc = sp_oprf_alarm_append(t, now_ms, &al);
	free(msg);
	free(ev);
	if (rq)
		seinpost__oprf_request__free_unpacked(rq, NULL);
	if (sr)
		seinpost__oprf_signed_request__free_unpacked(sr, NULL);
	return rc;
}

/* ---- status ---------------------------------------------------------------- */

struct status_walk {
	sp_status *st;
	uint64_t today;
	int rc;
	unsigned orgs;
};

static int status_visit(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct status_walk *w = ctx;
	size_t pl = sizeof USED_PREFIX - 1;
	if (vl != 16 || kl <= pl || kl - pl >= 64)
		return 0;
	if (sp_be64_get(v) != w->today)
		return 0;
	w->orgs++;
	w->rc = sp_status_add(w->st, "oprf", "used today", SP_STATUS_OK, "%.*s: %llu evaluations",
	                      (int)(kl - pl), (const char *)k + pl,
	                      (unsigned long long)sp_be64_get((const uint8_t *)v + 8));
	return w->rc != SP_OK;
}

int sp_oprfsvc_status(const sp_status_src *src, sp_status *st)
{
	uint64_t now = src->opts->now_ms ? src->opts->now_ms : sp_now_ms();
	struct status_walk w = { .st = st, .today = now / DAY_MS, .rc = SP_OK };
	const void *v;
	size_t vl;
	if (sp_store_get(src->txn, SP_DB_META, ALARM_KEY, sizeof ALARM_KEY - 1, &v, &vl) == SP_OK &&
	    vl > 8) {
		uint64_t at = sp_be64_get(v);
		char when[32];
		int rc = sp_status_add(st, "oprf", "alarm", now - at < ALARM_SHOW_MS ? SP_STATUS_BAD
		                                                                   : SP_STATUS_OK,
		                       "ALARM at %s: %.*s", sp_iso_time(at, when, sizeof when),
		                       (int)(vl - 8), (const char *)v + 8);
		if (rc != SP_OK)
			return rc;
	}
	(void)sp_store_foreach(src->txn, SP_DB_META, USED_PREFIX, sizeof USED_PREFIX - 1,
	                       status_visit, &w);
	if (w.rc != SP_OK)
		return w.rc;
	if (!w.orgs)
		return sp_status_add(st, "oprf", "used today", SP_STATUS_OK, "no evaluations today");
	return SP_OK;
}
