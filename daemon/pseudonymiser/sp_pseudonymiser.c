/*
 * sp_pseudonymiser.c — seinpostd in role pseudonymiser: the oblivious
 * pseudonymisation service's event loop.
 *
 * Run by a party other than the broker's operator. It holds the OPRF key
 * (keys/oprf.key) and nothing that decrypts a signal. Nodes reach it
 * directly over CURVE (a ROUTER of its own, ZAP admitting roster keys
 * only), not through the broker: the broker then cannot count, delay or
 * correlate who asks for how many pseudonyms, and the service's rate
 * limits do not depend on the broker's honesty. Each request is answered
 * in one write transaction (counter + audit record), committed before the
 * answer leaves: an evaluation that was not audited is never sent.
 */
#include "sp_pseudonymiser.h"

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "sp_audit.h"
#include "sp_keys.h"
#include "sp_log.h"
#include "sp_oprf_alarmfeed.h"
#include "sp_oprfsvc.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "sp_sd.h"
#include "sp_status.h"
#include "sp_store.h"
#include "sp_transport.h"
#include "sp_util.h"
#include "sp_wire.h"
#include "sp_workers.h"
#include "seinpost.pb-c.h"

#define C "pseudonymiser"
#define BURST 64 /* requests handled per wake-up before housekeeping */

struct psvc {
	const sp_config *cfg;
	sp_keyset *keys;
	sp_oprf_key *okey;
	sp_roster *roster;
	sp_policy *policy;
	sp_store *store;
	void *zctx, *sock;
	sp_zap *zap;
	sp_workers *workers;
	uint64_t served, refused, elements;
};

static int load_policy(struct psvc *s)
{
	char err[512];
	sp_policy *p = NULL;
	if (sp_policy_load(s->cfg->policy_path, &p, err, sizeof err) != SP_OK) {
		sp_log(LOG_ERR, C, "policy: %s", err);
		return SP_ECONFIG;
	}
	sp_policy_free(&s->policy);
	s->policy = p;
	return SP_OK;
}

/* Our roster entry must carry our CURVE key and our OPRF public key: the
 * nodes pin the latter, so a mismatch here would only produce refusals. */
static int check_roster(struct psvc *s, const sp_roster *r)
{
	const sp_org *me = sp_roster_find(r, s->cfg->org);
	if (!me || strcmp(me->role, "pseudonymiser") != 0) {
		sp_log(LOG_ERR, C, "'%s' is not a pseudonymiser on the roster", s->cfg->org);
		return SP_EORG;
	}
	if (memcmp(me->curve_pk, s->keys->curve_pk, 32) != 0 || !me->has_oprf ||
	    memcmp(me->oprf_pk, s->okey->pk, 32) != 0) {
		sp_log(LOG_ERR, C, "our CURVE or OPRF key differs from the roster's entry for '%s'",
		       s->cfg->org);
		return SP_EKEY;
	}
	return SP_OK;
}

static int audit_policy_loaded(struct psvc *s)
{
	sp_txn *t = NULL;
	int rc = sp_txn_begin(s->store, 1, &t);
	sp_audit_entry e = {
		.event = SEINPOST__AUDIT_EVENT__AUDIT_POLICY_LOADED,
		.actor = s->cfg->org,
		.policy_hash = sp_policy_hash(s->policy),
		.reason = sp_policy_version(s->policy),
	};
	if (rc != SP_OK)
		return rc;
	if ((rc = sp_audit_append(t, &e, NULL)) == SP_OK)
		return sp_txn_commit(&t);
	sp_txn_abort(&t);
	return rc;
}

static int psvc_open(struct psvc *s)
{
	int rc;
	if ((rc = sp_keys_load(s->cfg->keys_dir, &s->keys)) != SP_OK) {
		sp_log(LOG_ERR, C, "keys in %s: %s", s->cfg->keys_dir, sp_strerror(rc));
		return rc;
	}
	if (s->keys->has_box) {
		sp_log(LOG_ERR, C, "refusing to start: %s holds box.key; the pseudonymiser must never "
		       "hold a key that opens signal content", s->cfg->keys_dir);
		return SP_ECONFIG;
	}
	if ((rc = sp_oprf_key_load(s->cfg->keys_dir, &s->okey)) != SP_OK) {
		sp_log(LOG_ERR, C, "OPRF key in %s: %s", s->cfg->keys_dir, sp_strerror(rc));
		return rc;
	}
	if ((rc = sp_roster_load(s->cfg->roster_path, s->cfg->operator_pk, &s->roster)) != SP_OK) {
		sp_log(LOG_ERR, C, "roster %s: %s", s->cfg->roster_path, sp_strerror(rc));
		return rc;
	}
	if ((rc = check_roster(s, s->roster)) != SP_OK || (rc = load_policy(s)) != SP_OK)
		return rc;
	rc = sp_store_open(s->cfg->state_dir, s->cfg->map_size, SP_STORE_CHECK, &s->store);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "state %s: %s (%s)", s->cfg->state_dir, sp_strerror(rc),
		       sp_store_last_error());
		return rc;
	}
	if (sp_workers_new(&s->workers) != SP_OK || !(s->zctx = zmq_ctx_new()))
		return SP_ENOMEM;
	if ((rc = sp_zap_start(s->zctx, s->roster, &s->zap)) != SP_OK)
		return rc;
	sp_transport_opts o = {
		.endpoint = s->cfg->oprf_endpoint,
		.max_frame = s->cfg->max_frame,
		.heartbeat_ms = s->cfg->heartbeat_ms,
	};
	rc = sp_transport_broker(s->zctx, s->keys, &o, &s->sock);
	if (rc != SP_OK)
		sp_log(LOG_ERR, C, "cannot listen on %s: %s", s->cfg->oprf_endpoint,
		       zmq_strerror(zmq_errno()));
	return rc;
}

static void psvc_close(struct psvc *s)
{
	if (s->sock)
		zmq_close(s->sock);
	sp_zap_stop(&s->zap);
	if (s->zctx)
		zmq_ctx_term(s->zctx);
	sp_workers_free(&s->workers);
	sp_store_close(&s->store);
	sp_policy_free(&s->policy);
	sp_roster_free(&s->roster);
	sp_oprf_key_free(&s->okey);
	sp_keys_free(&s->keys);
}

static void reload(struct psvc *s)
{
	sp_roster *r = NULL;
	if (load_policy(s) == SP_OK && audit_policy_loaded(s) == SP_OK)
		sp_log(LOG_NOTICE, C, "policy reloaded: %s", sp_policy_version(s->policy));
	if (sp_roster_load(s->cfg->roster_path, s->cfg->operator_pk, &r) != SP_OK ||
	    check_roster(s, r) != SP_OK) {
		sp_log(LOG_ERR, C, "roster reload refused; keeping the previous one");
		sp_roster_free(&r);
		return;
	}
	sp_zap_set_roster(s->zap, r);
	sp_roster_free(&s->roster);
	s->roster = r;
}

/* The privacy officer's node asks for the alarms from its cursor on
 * (sp_oprf_alarmfeed.c): read-only, answered at once. */
static void serve_alarms(struct psvc *s, const sp_msg *m, const Seinpost__OprfAlarmFetch *f)
{
	sp_txn *t = NULL;
	uint8_t *reply = NULL;
	size_t rlen = 0;
	int rc = sp_txn_begin(s->store, 0, &t);
	if (rc == SP_OK)
		rc = sp_oprf_alarm_serve(t, s->roster, s->keys, s->cfg->org, m->user, f, sp_now_ms(), &reply, &rlen);
	sp_txn_abort(&t);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "alarms for %s not served: %s", m->user, sp_strerror(rc));
		return;
	}
	if (sp_transport_send(s->sock, m->rid, m->rid_len, reply, rlen) != SP_OK)
		sp_log(LOG_WARNING, C, "alarms to %s not sent (peer gone)", m->user);
	free(reply);
}

/* 1 when m was an alarm fetch (answered here), 0 for anything else. */
static int alarm_fetch(struct psvc *s, const sp_msg *m)
{
	Seinpost__OprfAlarmFetch *f = NULL;
	if (sp_wire_decode_oprf_alarm_fetch(m->body, m->len, &f) != SP_OK)
		return 0;
	serve_alarms(s, m, f);
	seinpost__oprf_alarm_fetch__free_unpacked(f, NULL);
	return 1;
}

static void serve_one(struct psvc *s, const sp_msg *m)
{
	sp_oprfsvc_ctx ctx = {
		.roster = s->roster,
		.policy = s->policy,
		.key = s->okey,
		.self = s->cfg->org,
		.max_clock_skew_s = s->cfg->max_clock_skew_s,
		.workers = s->workers,
	};
	sp_txn *t = NULL;
	uint8_t *reply = NULL;
	size_t rlen = 0;
	char alarm[256];
	int rc = sp_txn_begin(s->store, 1, &t);
	if (rc == SP_OK)
		rc = sp_oprfsvc_handle(&ctx, t, m->user, m->body, m->len, sp_now_ms(), &reply, &rlen,
		                       alarm, sizeof alarm);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	else
		sp_txn_abort(&t);
	if (rc != SP_OK) {
		/* not audited, so not answered: the node times out and retries */
		sp_log(LOG_ERR, C, "request from %s not served: %s (%s)", m->user, sp_strerror(rc),
		       sp_store_last_error());
		free(reply);
		return;
	}
	if (alarm[0]) {
		/* also in the store (with the refusal): `status` shows it for a day */
		sp_log_event(LOG_CRIT, C, m->user, NULL, "ALARM: %s", alarm);
		s->refused++;
	} else {
		Seinpost__OprfReply *r = seinpost__oprf_reply__unpack(NULL, rlen, reply);
		if (r && r->code == SP_OK) {
			s->served++;
			s->elements += r->evaluated.len / 32;
		} else {
			s->refused++;
		}
		if (r)
			seinpost__oprf_reply__free_unpacked(r, NULL);
	}
	if (sp_transport_send(s->sock, m->rid, m->rid_len, reply, rlen) != SP_OK)
		sp_log(LOG_WARNING, C, "reply to %s not sent (peer gone)", m->user);
	free(reply);
}

int sp_pseudonymiser_run(const sp_config *c, volatile sig_atomic_t *stop,
                         volatile sig_atomic_t *reload_flag)
{
	struct psvc s = { .cfg = c };
	uint64_t wd = sp_sd_watchdog_interval_ms(), last_wd = 0, last_status = 0;
	int rc = psvc_open(&s);
	if (rc != SP_OK)
		goto out;
	if ((rc = audit_policy_loaded(&s)) != SP_OK) {
		sp_log(LOG_ERR, C, "cannot write the audit log: %s", sp_strerror(rc));
		goto out;
	}
	sp_log(LOG_INFO, C, "listening on %s as %s, policy %s", c->oprf_endpoint, c->org,
	       sp_policy_version(s.policy));
	sp_sd_ready("pseudonymiser running");
	while (!*stop) {
		zmq_pollitem_t it = { .socket = s.sock, .events = ZMQ_POLLIN };
		if (zmq_poll(&it, 1, 200) > 0) {
			for (int i = 0; i < BURST; i++) {
				sp_msg m;
				int r = sp_transport_recv(s.sock, 1, 1, &m);
				if (r == SP_ETIMEOUT)
					break;
				if (r == SP_OK && !alarm_fetch(&s, &m))
					serve_one(&s, &m);
				sp_msg_clear(&m);
			}
		}
		if (*reload_flag) {
			*reload_flag = 0;
			reload(&s);
		}
		uint64_t now = sp_mono_ms();
		if (wd && now - last_wd >= wd) {
			sp_sd_watchdog_kick();
			last_wd = now;
		}
		if (now - last_status >= 5000) {
			sp_sd_status("served %llu requests (%llu elements), refused %llu",
			             (unsigned long long)s.served, (unsigned long long)s.elements,
			             (unsigned long long)s.refused);
			last_status = now;
		}
	}
	sp_sd_stopping();
	sp_log(LOG_INFO, C, "stopping");
	rc = SP_OK;
out:
	psvc_close(&s);
	return rc;
}
