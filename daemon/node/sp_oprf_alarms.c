/*
 * sp_oprf_alarms.c — the privacy officer's node pulls the pseudonymisation
 * service's alarms (sp_oprf_alarms.h).
 *
 * One DEALER per instance, apart from the pseudonym client's (that one is
 * synchronous and used by the key holder's requests; this one is polled
 * from the node loop and never blocks it). At most one fetch per instance
 * is outstanding; its nonce tells its answer from a late or replayed one.
 */
#include "sp_oprf_alarms.h"
#include "sp_meta_keys.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "sp_audit.h"
#include "sp_log.h"
#include "sp_oprf_alarmfeed.h"
#include "sp_status.h"
#include "sp_toprf.h"
#include "sp_transport.h"
#include "sp_util.h"
#include "sp_wire.h"

#define C "oprf-alarms"
#define FEED SP_MK_OALARM_FEED
#define REC SP_MK_OALARM_REC
#define ACK SP_MK_OALARM_ACK
#define REFUSED_RETRY_MS 60000 /* the instance refuses us: ask again this much later */

struct inst {
	char id[SP_ID_MAX];
	void *sock;
	uint8_t nonce[SP_OPRF_ALARM_NONCE];
	int pending;
	uint64_t sent_at, next_at;
	int refused_logged;
	int seeded;              /* its feed state exists in the store (status shows it from the start) */
};

struct sp_oalarms {
	const sp_config *cfg;
	struct inst inst[SP_TOPRF_MAX_N];
	size_t n;
};

int sp_oalarms_open(const sp_config *c, const sp_keyset *k, const sp_roster *r, void *zctx, sp_oalarms **out)
{
	const sp_org *me = sp_roster_find(r, c->org);
	sp_oalarms *a;
	char ep[256];
	int rc = SP_OK;
	*out = NULL;
	if (!me || strcmp(me->role, "privacy-officer") != 0 || !c->oprf_service[0])
		return SP_OK;
	if (!(a = calloc(1, sizeof *a)))
		return SP_ENOMEM;
	a->cfg = c;
	for (size_t i = 0; i < sp_config_words(c->oprf_service) && i < SP_TOPRF_MAX_N; i++) {
		struct inst *in = &a->inst[a->n];
		const sp_org *o;
		if (sp_config_word(c->oprf_service, i, in->id, sizeof in->id) != SP_OK ||
		    sp_config_word(c->oprf_endpoint, i, ep, sizeof ep) != SP_OK)
			continue;
		o = sp_roster_find(r, in->id);
		if (!o || strcmp(o->role, "pseudonymiser") != 0) {
			sp_log(LOG_ERR, C, "'%s' is not a pseudonymiser on the roster: its alarms are not taken", in->id);
			continue;
		}
		sp_transport_opts opts = { .endpoint = ep, .max_frame = c->max_frame, .heartbeat_ms = c->heartbeat_ms };
		if ((rc = sp_transport_node(zctx, k, o->curve_pk, c->org, &opts, &in->sock)) != SP_OK)
			break;
		a->n++;
	}
	if (rc != SP_OK) {
		sp_oalarms_close(&a);
		return rc;
	}
	sp_log(LOG_INFO, C, "taking the alarms of %zu pseudonymisation service instance%s", a->n, a->n == 1 ? "" : "s");
	*out = a;
	return SP_OK;
}

void sp_oalarms_close(sp_oalarms **a)
{
	int zero = 0;
	if (!a || !*a)
		return;
	for (size_t i = 0; i < (*a)->n; i++)
		if ((*a)->inst[i].sock) {
			zmq_setsockopt((*a)->inst[i].sock, ZMQ_LINGER, &zero, sizeof zero);
			zmq_close((*a)->inst[i].sock);
		}
	free(*a);
	*a = NULL;
}

void sp_oalarms_text(const Seinpost__OprfAlarm *a, char *buf, size_t len)
{
	int n;
	if (a->kind == SEINPOST__OPRF_ALARM_KIND__OPRF_ALARM_KIND_RATE_LIMIT)
		n = snprintf(buf, len, "rate limit: %s (%s) asked for %llu evaluations with %llu of %llu used today; "
		             "refused", a->org, a->role, (unsigned long long)a->asked, (unsigned long long)a->used,
		             (unsigned long long)a->limit);
	else if (a->kind == SEINPOST__OPRF_ALARM_KIND__OPRF_ALARM_KIND_SIGNATURE)
		n = snprintf(buf, len, "a request over %s's name (%s) failed its signature check; refused", a->org,
		             a->role);
	else
		n = snprintf(buf, len, "an alarm of an unknown kind about %s", a->org);
	if (a->suppressed && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " (after %llu more such refusals that raised no alarm of their own: "
		         "see the service's audit log)", (unsigned long long)a->suppressed);
}

/* ---- the feed's state ----------------------------------------------------- */

static size_t feed_key(const char *id, char *k, size_t klen)
{
	int n = snprintf(k, klen, FEED "%s", id);
	return n > 0 && (size_t)n < klen ? (size_t)n : 0;
}

static size_t rec_key(const char *id, uint64_t seq, uint8_t *k, size_t klen)
{
	size_t pl = sizeof REC - 1, il = strlen(id);
	if (pl + il + 1 + 8 > klen)
		return 0;
	memcpy(k, REC, pl);
	memcpy(k + pl, id, il + 1);
	sp_be64_put(k + pl + il + 1, seq);
	return pl + il + 1 + 8;
}

/* *f unpacked (free it) or a fresh one (cursor 0). */
static int feed_load(sp_txn *t, const char *id, Seinpost__OprfAlarmFeed **f)
{
	char k[SP_ID_MAX + 8];
	size_t kl = feed_key(id, k, sizeof k), vl;
	const void *v;
	int rc;
	*f = NULL;
	if (!kl)
		return SP_EINVAL;
	rc = sp_store_get(t, SP_DB_META, k, kl, &v, &vl);
	if (rc == SP_ENOTFOUND)
		v = NULL, vl = 0;
	else if (rc != SP_OK)
		return rc;
	*f = seinpost__oprf_alarm_feed__unpack(NULL, vl, v);
	return *f ? SP_OK : SP_ECORRUPT;
}

static int feed_save(sp_txn *t, const char *id, Seinpost__OprfAlarmFeed *f)
{
	char k[SP_ID_MAX + 8];
	size_t kl = feed_key(id, k, sizeof k), len;
	uint8_t *buf = NULL;
	int rc;
	if (!kl)
		return SP_EINVAL;
	if ((rc = sp_wire_pack(&f->base, &buf, &len)) != SP_OK)
		return rc;
	rc = sp_store_put(t, SP_DB_META, k, kl, buf, len, 0);
	free(buf);
	return rc;
}

/* The feed of an instance did not hold: sticky, kept with the reason. */
static void feed_broken(sp_store *st, const char *id, const char *reason)
{
	Seinpost__OprfAlarmFeed *f = NULL;
	sp_txn *t = NULL;
	char *old;
	int rc = sp_txn_begin(st, 1, &t);
	if (rc == SP_OK && (rc = feed_load(t, id, &f)) == SP_OK && !f->broken) {
		old = f->reason;
		f->broken = 1;
		f->reason = (char *)reason;
		rc = feed_save(t, id, f);
		f->reason = old;
		if (rc == SP_OK)
			rc = sp_txn_commit(&t);
		sp_log(LOG_CRIT, C, "ALARM: the alarm feed of pseudonymiser %s does not hold: %s", id, reason);
	}
	sp_txn_abort(&t);
	if (f)
		seinpost__oprf_alarm_feed__free_unpacked(f, NULL);
	if (rc != SP_OK)
		sp_log(LOG_ERR, C, "cannot keep the alarm feed's state: %s", sp_strerror(rc));
}

/* An instance's feed from the first tick on, so that `status` shows one
 * that never answered. */
static int feed_seed(sp_store *st, const char *id)
{
	Seinpost__OprfAlarmFeed f = SEINPOST__OPRF_ALARM_FEED__INIT;
	char k[SP_ID_MAX + 8];
	size_t kl = feed_key(id, k, sizeof k), vl;
	const void *v;
	sp_txn *t = NULL;
	int rc;
	if (!kl)
		return SP_EINVAL;
	if ((rc = sp_txn_begin(st, 1, &t)) != SP_OK)
		return rc;
	rc = sp_store_get(t, SP_DB_META, k, kl, &v, &vl);
	if (rc == SP_ENOTFOUND && (rc = feed_save(t, id, &f)) == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	return rc;
}

/* ---- taking a page ----------------------------------------------------------- */

static int verify_page(const sp_roster *r, const struct inst *in, const Seinpost__OprfAlarmReply *rep)
{
	const sp_org *o = sp_roster_find(r, in->id);
	size_t dl = sizeof SP_OPRF_ALARM_DOMAIN - 1;
	uint8_t *msg;
	int ok;
	if (!o || strcmp(o->role, "pseudonymiser") != 0)
		return SP_EORG;
	if (!(msg = malloc(dl + rep->page.len + 1)))
		return SP_ENOMEM;
	memcpy(msg, SP_OPRF_ALARM_DOMAIN, dl);
	memcpy(msg + dl, rep->page.data, rep->page.len);
	ok = crypto_sign_verify_detached(rep->signature.data, msg, dl + rep->page.len, o->sign_pk) == 0;
	free(msg);
	return ok ? SP_OK : SP_ESIG;
}

/* Store the page's alarms after the cursor. *more: the instance holds more. */
static int take_page(sp_store *st, const struct inst *in, const Seinpost__OprfAlarmPage *p, int *more)
{
	Seinpost__OprfAlarmFeed *f = NULL;
	sp_txn *t = NULL;
	uint8_t k[sizeof REC + SP_ID_MAX + 9];
	int rc = sp_txn_begin(st, 1, &t);
	*more = 0;
	if (rc != SP_OK || (rc = feed_load(t, in->id, &f)) != SP_OK)
		goto out;
	if (p->from_seq != f->cursor + 1) {
		rc = SP_EREPLAY; /* an answer to an older cursor: ask again */
		goto out;
	}
	if (p->last_seq < f->cursor) {
		rc = SP_ECORRUPT;
		goto out;
	}
	if (p->n_alarms == 0 && p->last_seq > f->cursor) {
		rc = SP_EEXIST;
		goto out;
	}
	for (size_t i = 0; i < p->n_alarms; i++) {
		const Seinpost__OprfAlarm *a = p->alarms[i];
		uint8_t *buf = NULL;
		size_t len, kl = rec_key(in->id, a->seq, k, sizeof k);
		if (!kl) {
			rc = SP_EINVAL;
			goto out;
		}
		if ((rc = sp_wire_pack(&a->base, &buf, &len)) != SP_OK)
			goto out;
		rc = sp_store_put(t, SP_DB_META, k, kl, buf, len, 0);
		free(buf);
		if (rc != SP_OK)
			goto out;
	}
	f->cursor += p->n_alarms;
	f->last_contact = sp_now_ms();
	if ((rc = feed_save(t, in->id, f)) == SP_OK && (rc = sp_txn_commit(&t)) == SP_OK) {
		for (size_t i = 0; i < p->n_alarms; i++) {
			char text[320], when[32];
			sp_oalarms_text(p->alarms[i], text, sizeof text);
			sp_log(LOG_CRIT, C, "ALARM from pseudonymiser %s (#%llu at %s): %s", in->id,
			       (unsigned long long)p->alarms[i]->seq, sp_iso_time(p->alarms[i]->time, when, sizeof when),
			       text);
		}
		*more = f->cursor < p->last_seq;
	}
out:
	sp_txn_abort(&t);
	if (f)
		seinpost__oprf_alarm_feed__free_unpacked(f, NULL);
	return rc;
}

static void on_reply(sp_oalarms *a, struct inst *in, sp_store *st, const sp_roster *r, const sp_msg *m,
                     uint64_t now)
{
	Seinpost__OprfAlarmReply *rep = NULL;
	Seinpost__OprfAlarmPage *p = NULL;
	char why[128] = "";
	int more = 0, rc = sp_wire_decode_oprf_alarm_reply(m->body, m->len, &rep, &p, why, sizeof why);
	if (rc != SP_OK) {
		sp_log(LOG_WARNING, C, "pseudonymiser %s: %s", in->id, why);
		goto out;
	}
	if (!p) {
		if (!in->refused_logged++)
			sp_log(LOG_ERR, C, "pseudonymiser %s refuses to give us its alarms: %s", in->id,
			       sp_strerror(rep->code));
		in->pending = 0;
		in->next_at = now + REFUSED_RETRY_MS;
		goto out;
	}
	if (sodium_memcmp(p->nonce.data, in->nonce, sizeof in->nonce) != 0)
		goto out; /* a late answer to an earlier fetch (or a replay): not ours now */
	in->pending = 0;
	in->next_at = now + SP_OALARMS_POLL_MS;
	if (verify_page(r, in, rep) != SP_OK) {
		feed_broken(st, in->id, "a page of alarms does not carry the instance's signature");
		goto out;
	}
	if (strcmp(p->service, in->id) != 0 || strcmp(p->to, a->cfg->org) != 0) {
		feed_broken(st, in->id, "a signed page of alarms names another instance or organisation");
		goto out;
	}
	rc = take_page(st, in, p, &more);
	if (rc == SP_ECORRUPT)
		feed_broken(st, in->id, "its alarm log is shorter than the alarms already taken from it");
	else if (rc == SP_EEXIST)
		feed_broken(st, in->id, "it counts alarms after our cursor but sends none");
	else if (rc == SP_EREPLAY)
		in->next_at = now;
	else if (rc != SP_OK)
		sp_log(LOG_ERR, C, "cannot keep alarms of pseudonymiser %s: %s (%s)", in->id, sp_strerror(rc),
		       sp_store_last_error());
	else if (more)
		in->next_at = now; /* more waiting: the next page at once */
out:
	if (p)
		seinpost__oprf_alarm_page__free_unpacked(p, NULL);
	if (rep)
		seinpost__oprf_alarm_reply__free_unpacked(rep, NULL);
}

static void send_fetch(struct inst *in, sp_store *st, uint64_t now)
{
	Seinpost__OprfAlarmFetch f = SEINPOST__OPRF_ALARM_FETCH__INIT;
	Seinpost__OprfAlarmFeed *fs = NULL;
	sp_txn *t = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc = sp_txn_begin(st, 0, &t);
	if (rc == SP_OK)
		rc = feed_load(t, in->id, &fs);
	sp_txn_abort(&t);
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "the alarm feed's state of %s: %s", in->id, sp_strerror(rc));
		in->next_at = now + REFUSED_RETRY_MS;
		return;
	}
	randombytes_buf(in->nonce, sizeof in->nonce);
	f.alarm_from = fs->cursor + 1;
	f.alarm_max = SP_OPRF_ALARM_PAGE_MAX;
	f.alarm_nonce.data = in->nonce;
	f.alarm_nonce.len = sizeof in->nonce;
	seinpost__oprf_alarm_feed__free_unpacked(fs, NULL);
	if (sp_wire_pack(&f.base, &buf, &len) == SP_OK && sp_transport_send(in->sock, NULL, 0, buf, len) == SP_OK) {
		in->pending = 1;
		in->sent_at = now;
	} else {
		in->next_at = now + SP_OALARMS_POLL_MS;
	}
	free(buf);
}

void sp_oalarms_tick(sp_oalarms *a, sp_store *st, const sp_roster *r, uint64_t now)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		struct inst *in = &a->inst[i];
		if (!in->seeded)
			in->seeded = feed_seed(st, in->id) == SP_OK;
		for (int j = 0; j < 8; j++) {
			sp_msg m;
			int rc = sp_transport_recv(in->sock, 0, 1, &m);
			if (rc == SP_OK)
				on_reply(a, in, st, r, &m, now);
			sp_msg_clear(&m);
			if (rc == SP_ETIMEOUT)
				break;
		}
		if (in->pending && now - in->sent_at >= SP_OALARMS_TIMEOUT_MS) {
			in->pending = 0; /* no answer: the instance is away; ask again later */
			in->next_at = now + SP_OALARMS_POLL_MS;
		}
		if (!in->pending && now >= in->next_at)
			send_fetch(in, st, now);
	}
}

/* ---- reading -------------------------------------------------------------------- */

struct walk {
	sp_oalarms_alarm_fn afn;
	sp_oalarms_feed_fn ffn;
	void *ctx;
	int rc;
};

static int alarm_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct walk *w = ctx;
	size_t pl = sizeof REC - 1;
	const char *id = (const char *)k + pl;
	Seinpost__OprfAlarm *a;
	char sid[SP_ID_MAX];
	size_t il = kl > pl + 9 ? strnlen(id, kl - pl - 9) : 0;
	int stop;
	if (!il || il >= sizeof sid || pl + il + 1 + 8 != kl || sp_wire_stored_oprf_alarm(v, vl, &a) != SP_OK)
		return 0;
	memcpy(sid, id, il);
	sid[il] = '\0';
	stop = w->afn(w->ctx, sid, a);
	seinpost__oprf_alarm__free_unpacked(a, NULL);
	return stop;
}

int sp_oalarms_foreach(sp_txn *t, sp_oalarms_alarm_fn fn, void *ctx)
{
	struct walk w = { .afn = fn, .ctx = ctx, .rc = SP_OK };
	int rc = sp_store_foreach(t, SP_DB_META, REC, sizeof REC - 1, alarm_one, &w);
	return rc < 0 ? rc : SP_OK;
}

static int feed_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct walk *w = ctx;
	size_t pl = sizeof FEED - 1;
	Seinpost__OprfAlarmFeed *f;
	char sid[SP_ID_MAX];
	int stop;
	if (kl <= pl || kl - pl >= sizeof sid || !(f = seinpost__oprf_alarm_feed__unpack(NULL, vl, v)))
		return 0;
	memcpy(sid, (const char *)k + pl, kl - pl);
	sid[kl - pl] = '\0';
	stop = w->ffn(w->ctx, sid, f);
	seinpost__oprf_alarm_feed__free_unpacked(f, NULL);
	return stop;
}

int sp_oalarms_feeds(sp_txn *t, sp_oalarms_feed_fn fn, void *ctx)
{
	struct walk w = { .ffn = fn, .ctx = ctx, .rc = SP_OK };
	int rc = sp_store_foreach(t, SP_DB_META, FEED, sizeof FEED - 1, feed_one, &w);
	return rc < 0 ? rc : SP_OK;
}

/* ---- acknowledgement ----------------------------------------------------------------- */

static int count_one(void *ctx, const char *service, const Seinpost__OprfAlarm *a)
{
	(void)service;
	(void)a;
	(*(uint64_t *)ctx)++;
	return 0;
}

int sp_oalarms_ack_get(sp_txn *t, Seinpost__OprfAlarmAck **a)
{
	const void *v;
	size_t vl;
	int rc = sp_store_get(t, SP_DB_META, ACK, sizeof ACK - 1, &v, &vl);
	*a = NULL;
	if (rc == SP_ENOTFOUND)
		return SP_OK;
	if (rc != SP_OK)
		return rc;
	*a = seinpost__oprf_alarm_ack__unpack(NULL, vl, v);
	return *a ? SP_OK : SP_ECORRUPT;
}

int sp_oalarms_ack(sp_txn *t, const char *org, const char *user, uint64_t now_ms, uint64_t *acked)
{
	Seinpost__OprfAlarmAck a = SEINPOST__OPRF_ALARM_ACK__INIT;
	uint8_t *buf = NULL;
	size_t len;
	uint64_t n = 0;
	int rc = sp_oalarms_foreach(t, count_one, &n);
	sp_audit_entry e = {
		.event = SEINPOST__AUDIT_EVENT__AUDIT_OPRF_ALARMS_ACKED,
		.actor = org,
		.user = user,
		.reason = "the pseudonymisation service's alarms acknowledged",
		.count = (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n),
	};
	*acked = n;
	if (rc != SP_OK)
		return rc;
	a.acked = n;
	a.time = now_ms;
	a.user = (char *)user;
	if ((rc = sp_wire_pack(&a.base, &buf, &len)) != SP_OK)
		return rc;
	rc = sp_store_put(t, SP_DB_META, ACK, sizeof ACK - 1, buf, len, 0);
	free(buf);
	return rc == SP_OK ? sp_audit_append(t, &e, NULL) : rc;
}

/* ---- status ------------------------------------------------------------------------ */

struct sum {
	uint64_t n, last_time, feeds, broken, last_contact;
	char last_service[SP_ID_MAX], last_text[320];
	sp_status *st;
	uint64_t now;
	int rc;
};

static int sum_alarm(void *ctx, const char *service, const Seinpost__OprfAlarm *a)
{
	struct sum *s = ctx;
	s->n++;
	if (a->time >= s->last_time) {
		s->last_time = a->time;
		snprintf(s->last_service, sizeof s->last_service, "%s", service);
		sp_oalarms_text(a, s->last_text, sizeof s->last_text);
	}
	return 0;
}

static int sum_feed(void *ctx, const char *service, const Seinpost__OprfAlarmFeed *f)
{
	struct sum *s = ctx;
	char when[32], age[32];
	s->feeds++;
	if (f->broken) {
		s->broken++;
		s->rc = sp_status_add(s->st, "oprf_alarms", service, SP_STATUS_BAD,
		                      "ALARM: the alarm feed of pseudonymiser %s does not hold: %s", service, f->reason);
	} else if (!f->last_contact) {
		s->rc = sp_status_add(s->st, "oprf_alarms", service, SP_STATUS_WARN,
		                      "no verified page of alarms from pseudonymiser %s yet: is it reachable?", service);
	} else {
		uint64_t a = s->now > f->last_contact ? s->now - f->last_contact : 0;
		s->rc = sp_status_add(s->st, "oprf_alarms", service, a > SP_OALARMS_STALE_MS ? SP_STATUS_WARN : SP_STATUS_OK,
		                      "%llu alarms taken; last verified answer %s (%s ago)",
		                      (unsigned long long)f->cursor, sp_iso_time(f->last_contact, when, sizeof when),
		                      sp_status_age(a, age, sizeof age));
	}
	if (f->last_contact > s->last_contact)
		s->last_contact = f->last_contact;
	return s->rc != SP_OK;
}

int sp_oalarms_status(const sp_status_src *src, sp_status *st)
{
	struct sum s = { .st = st, .rc = SP_OK };
	char when[32];
	int rc;
	s.now = src->opts->now_ms ? src->opts->now_ms : sp_now_ms();
	if ((rc = sp_oalarms_feeds(src->txn, sum_feed, &s)) != SP_OK || s.rc != SP_OK)
		return rc != SP_OK ? rc : s.rc;
	if (!s.feeds)
		return SP_OK; /* not the privacy officer's node, or no instance answered yet */
	if ((rc = sp_oalarms_foreach(src->txn, sum_alarm, &s)) != SP_OK)
		return rc;
	sp_status_num(st, "oprf_alarms", "alarms", (double)s.n);
	sp_status_num(st, "oprf_alarms", "feeds_broken", (double)s.broken);
	sp_status_time(st, "oprf_alarms", "last_alarm_at", s.n ? s.last_time : 0);
	sp_status_time(st, "oprf_alarms", "last_contact_at", s.last_contact);
	{
		Seinpost__OprfAlarmAck *a = NULL;
		uint64_t acked = 0;
		char by[96] = "";
		if (sp_oalarms_ack_get(src->txn, &a) == SP_OK && a) {
			acked = a->acked;
			snprintf(by, sizeof by, "%s at ", a->user);
			sp_iso_time(a->time, by + strlen(by), sizeof by - strlen(by));
			sp_status_time(st, "oprf_alarms", "acknowledged_at", a->time);
			seinpost__oprf_alarm_ack__free_unpacked(a, NULL);
		}
		sp_status_num(st, "oprf_alarms", "unacknowledged", (double)(s.n > acked ? s.n - acked : 0));
		if (!s.n)
			return sp_status_add(st, "oprf_alarms", "alarms", SP_STATUS_OK,
			                     "no alarm from the pseudonymisation service");
		if (s.n <= acked)
			return sp_status_add(st, "oprf_alarms", "alarms", SP_STATUS_OK,
			                     "%llu alarm%s from the pseudonymisation service, all acknowledged (by %s)",
			                     (unsigned long long)s.n, s.n == 1 ? "" : "s", by);
		return sp_status_add(st, "oprf_alarms", "alarms", SP_STATUS_BAD,
		                     "ALARM: %llu alarm%s from the pseudonymisation service (%llu not acknowledged), "
		                     "last from %s at %s: %s (seinpost alarms)", (unsigned long long)s.n,
		                     s.n == 1 ? "" : "s", (unsigned long long)(s.n - acked), s.last_service,
		                     sp_iso_time(s.last_time, when, sizeof when), s.last_text);
	}
}
