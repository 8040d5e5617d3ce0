/*
 * sp_oprf_alarmfeed.c — the service's alarms in sequence, and the signed
 * pages the privacy officer's node pulls (sp_oprf_alarmfeed.h).
 *
 * Why a pull with a cursor and not a push: the node may be down or the link
 * away when the alarm is raised; the service keeps every alarm, numbered
 * without gaps, and the node asks from the last one it holds. A page is
 * signed (the CURVE channel already proves the service, but the signed page
 * is evidence the privacy officer can keep) and carries the node's nonce,
 * so an old page cannot be replayed to hide a newer alarm.
 */
#include "sp_oprf_alarmfeed.h"
#include "sp_meta_keys.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_log.h"
#include "sp_util.h"
#include "sp_wire.h"

#define C "pseudonymiser"
#define SEQ_KEY SP_MK_OPRF_ALARM_SEQ
#define LOG_PREFIX SP_MK_OPRF_ALARM_LOG
#define LOG_KEY (sizeof LOG_PREFIX - 1 + 8)

static size_t log_key(uint64_t seq, uint8_t k[LOG_KEY])
{
	memcpy(k, LOG_PREFIX, sizeof LOG_PREFIX - 1);
	sp_be64_put(k + sizeof LOG_PREFIX - 1, seq);
	return LOG_KEY;
}

int sp_oprf_alarm_last(sp_txn *t, uint64_t *seq)
{
	const void *v;
	size_t vl;
	int rc = sp_store_get(t, SP_DB_META, SEQ_KEY, sizeof SEQ_KEY - 1, &v, &vl);
	*seq = 0;
	if (rc == SP_ENOTFOUND)
		return SP_OK;
	if (rc != SP_OK)
		return rc;
	if (vl != 8)
		return SP_ECORRUPT;
	*seq = sp_be64_get(v);
	return SP_OK;
}

/* The minute's window of an organisation and kind: value be64(start) ‖
 * be64(alarms raised in it) ‖ be64(refusals suppressed since the last). */
#define WIN_PREFIX SP_MK_OPRF_ALARM_WIN
#define WIN_VAL 24

struct win {
	char k[sizeof WIN_PREFIX + 1 + 64];
	size_t kl;
	uint64_t start, suppressed, count;
};

static int win_load(sp_txn *t, const sp_oprf_alarm *a, struct win *w)
{
	const void *v;
	size_t vl, ol = strnlen(a->org, 64), pl = sizeof WIN_PREFIX - 1;
	int rc;
	memset(w, 0, sizeof *w);
	if (ol == 0 || ol >= 64)
		return SP_EINVAL;
	memcpy(w->k, WIN_PREFIX, pl);
	w->k[pl] = (char)a->kind;
	memcpy(w->k + pl + 1, a->org, ol);
	w->kl = pl + 1 + ol;
	rc = sp_store_get(t, SP_DB_META, w->k, w->kl, &v, &vl);
	if (rc == SP_ENOTFOUND)
		return SP_OK;
	if (rc != SP_OK)
		return rc;
	if (vl != WIN_VAL)
		return SP_ECORRUPT;
	w->start = sp_be64_get(v);
	w->count = sp_be64_get((const uint8_t *)v + 8);
	w->suppressed = sp_be64_get((const uint8_t *)v + 16);
	return SP_OK;
}

static int win_save(sp_txn *t, const struct win *w)
{
	uint8_t v[WIN_VAL];
	sp_be64_put(v, w->start);
	sp_be64_put(v + 8, w->count);
	sp_be64_put(v + 16, w->suppressed);
	return sp_store_put(t, SP_DB_META, w->k, w->kl, v, sizeof v, 0);
}

int sp_oprf_alarm_append(sp_txn *t, uint64_t now_ms, const sp_oprf_alarm *a)
{
	Seinpost__OprfAlarm m = SEINPOST__OPRF_ALARM__INIT;
	uint8_t k[LOG_KEY], sv[8], *buf = NULL;
	size_t len;
	uint64_t seq;
	struct win w;
	int rc;
	if (!a || !a->kind || !a->org)
		return SP_EINVAL;
	if ((rc = win_load(t, a, &w)) != SP_OK)
		return rc;
	if (now_ms < w.start || now_ms - w.start >= SP_OPRF_ALARM_WINDOW_MS) {
		w.start = now_ms;
		w.count = 0;
	}
	if (w.count >= SP_OPRF_ALARM_BURST) {
		w.suppressed++; /* audited with its refusal; counted in the next alarm */
		return win_save(t, &w);
	}
	m.suppressed = w.suppressed;
	w.count++;
	w.suppressed = 0;
	if ((rc = win_save(t, &w)) != SP_OK || (rc = sp_oprf_alarm_last(t, &seq)) != SP_OK)
		return rc;
	m.seq = ++seq;
	m.time = now_ms;
	m.kind = (uint32_t)a->kind;
	m.org = (char *)a->org;
	m.role = (char *)(a->role ? a->role : "");
	m.asked = a->asked;
	m.used = a->used;
	m.limit = a->limit;
	if ((rc = sp_wire_pack(&m.base, &buf, &len)) != SP_OK)
		return rc;
	rc = sp_store_put(t, SP_DB_META, k, log_key(seq, k), buf, len, SP_PUT_NOOVERWRITE);
	free(buf);
	sp_be64_put(sv, seq);
	if (rc == SP_OK)
		rc = sp_store_put(t, SP_DB_META, SEQ_KEY, sizeof SEQ_KEY - 1, sv, sizeof sv, 0);
	return rc;
}

struct page_walk {
	Seinpost__OprfAlarm **alarms;
	size_t n, max;
	uint64_t next;
	int rc;
};

static int page_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct page_walk *w = ctx;
	Seinpost__OprfAlarm *a;
	if (w->n >= w->max)
		return 1;
	if (kl != LOG_KEY || sp_be64_get((const uint8_t *)k + sizeof LOG_PREFIX - 1) != w->next ||
	    sp_wire_stored_oprf_alarm(v, vl, &a) != SP_OK) {
		w->rc = SP_ECORRUPT; /* our own log has a hole: say so rather than skip it */
		return 1;
	}
	if (a->seq != w->next) {
		seinpost__oprf_alarm__free_unpacked(a, NULL);
		w->rc = SP_ECORRUPT;
		return 1;
	}
	w->alarms[w->n++] = a;
	w->next++;
	return 0;
}

static int pack_reply(Seinpost__OprfAlarmReply *r, uint8_t **reply, size_t *rlen)
{
	return sp_wire_pack(&r->base, reply, rlen);
}

int sp_oprf_alarm_serve(sp_txn *t, const sp_roster *r, const sp_keyset *k, const char *self,
                        const char *proven_org, const Seinpost__OprfAlarmFetch *f, uint64_t now_ms,
                        uint8_t **reply, size_t *rlen)
{
	Seinpost__OprfAlarmReply rep = SEINPOST__OPRF_ALARM_REPLY__INIT;
	Seinpost__OprfAlarmPage pg = SEINPOST__OPRF_ALARM_PAGE__INIT;
	const sp_org *o = sp_roster_find(r, proven_org);
	struct page_walk w = { .next = f->alarm_from, .rc = SP_OK };
	uint8_t k0[LOG_KEY], sig[64], *msg = NULL, *page = NULL;
	size_t plen = 0, dl = sizeof SP_OPRF_ALARM_DOMAIN - 1;
	uint64_t last;
	int rc;
	*reply = NULL;
	*rlen = 0;
	if (!o || strcmp(o->role, "privacy-officer") != 0) {
		sp_log(LOG_WARNING, C, "%s asked for the alarms but is not the privacy officer; refused", proven_org);
		rep.code = SP_EROLE;
		return pack_reply(&rep, reply, rlen);
	}
	if ((rc = sp_oprf_alarm_last(t, &last)) != SP_OK)
		return rc;
	w.max = f->alarm_max && f->alarm_max < SP_OPRF_ALARM_PAGE_MAX ? f->alarm_max : SP_OPRF_ALARM_PAGE_MAX;
	if (!(w.alarms = calloc(w.max, sizeof *w.alarms)))
		return SP_ENOMEM;
	if (f->alarm_from <= last)
		(void)sp_store_foreach_from(t, SP_DB_META, LOG_PREFIX, sizeof LOG_PREFIX - 1, k0,
		                            log_key(f->alarm_from, k0), page_one, &w);
	if ((rc = w.rc) != SP_OK) {
		sp_log(LOG_ERR, C, "the alarm log is damaged at %llu", (unsigned long long)w.next);
		goto out;
	}
	pg.service = (char *)self;
	pg.to = (char *)proven_org;
	pg.nonce = f->alarm_nonce;
	pg.from_seq = f->alarm_from;
	pg.last_seq = last;
	pg.alarms = w.alarms;
	pg.n_alarms = w.n;
	pg.time = now_ms;
	if ((rc = sp_wire_pack(&pg.base, &page, &plen)) != SP_OK)
		goto out;
	rc = SP_ENOMEM;
	if (!(msg = malloc(dl + plen)))
		goto out;
	memcpy(msg, SP_OPRF_ALARM_DOMAIN, dl);
	memcpy(msg + dl, page, plen);
	crypto_sign_detached(sig, NULL, msg, dl + plen, k->sign_sk);
	rep.page.data = page;
	rep.page.len = plen;
	rep.signature.data = sig;
	rep.signature.len = sizeof sig;
	rc = pack_reply(&rep, reply, rlen);
out:
	for (size_t i = 0; i < w.n; i++)
		seinpost__oprf_alarm__free_unpacked(w.alarms[i], NULL);
	free(w.alarms);
	free(msg);
	free(page);
	return rc;
}
