/* sp_involve.c — node side of involvement: local mapping, sync to broker. */
#include "sp_involve.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_bsn.h"
#include "sp_log.h"
#include "sp_submit.h"
#include "sp_util.h"
#include "sp_wire.h"

#define C "involve"
#define MSG(...) snprintf(msg, msglen, __VA_ARGS__)

int sp_involve_parse_date(const char *s, uint64_t *out)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct tm tm;
	int y, m, d;
	time_t t;
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return SP_EDATE;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return SP_EDATE;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
		return SP_EDATE;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 23;
	tm.tm_min = 59;
	tm.tm_sec = 59;
	t = timegm(&tm);
	if (t < 0)
		return SP_EDATE;
	*out = (uint64_t)t;
	return SP_OK;
}

static int put_local(sp_txn *t, const Seinpost__LocalInvolvement *li, const uint8_t *key)
{
	uint8_t *buf = NULL;
	size_t len;
	int rc = sp_wire_pack(&li->base, &buf, &len);
	if (rc == SP_OK)
		rc = sp_store_put(t, SP_DB_INVOLVE, key, 32, buf, len, 0);
	free(buf);
	return rc;
}

int sp_involve_request(sp_store *st, const sp_pseudo_keyring *kr, const Seinpost__InvolveRequest *req,
                       uint64_t now_s, char *msg, size_t msglen)
{
	Seinpost__LocalInvolvement li = SEINPOST__LOCAL_INVOLVEMENT__INIT;
	Seinpost__PseudonymAt at[SP_PSEUDO_MAX_EPOCHS], *atp[SP_PSEUDO_MAX_EPOCHS];
	uint8_t ps[SP_PSEUDO_MAX_EPOCHS][32];
	char norm[24];
	uint32_t cur = sp_pseudo_current_epoch(kr), epoch;
	uint64_t until = now_s + SP_INVOLVE_DEFAULT_DAYS * 86400ull;
	size_t n = 0;
	sp_txn *t = NULL;
	int kind = req->subject_kind ? (int)req->subject_kind : 1, rc;

	if (!req->subject_id || !req->subject_id[0]) {
		MSG("a subject is required (--bsn)");
		return SP_EINVAL;
	}
	if (kind == 1 && sp_bsn_normalise(req->subject_id, norm) != SP_OK) {
		MSG("invalid BSN: must be 9 digits (8 with a leading zero dropped) passing the elfproef");
		return SP_EBSN;
	}
	if (!req->remove && req->until && req->until[0]) {
		if (sp_involve_parse_date(req->until, &until) != SP_OK) {
			MSG("invalid --until date: expected YYYY-MM-DD, a real date");
			return SP_EDATE;
		}
		if (until <= now_s) {
			MSG("--until date has already passed: an involvement must end in the future");
			return SP_EEXPIRED;
		}
	}
	if (req->ref && (!sp_text_ok(req->ref, SP_INVOLVE_REF_MAX, 0) || strlen(req->ref) > SP_INVOLVE_REF_MAX)) {
		MSG("--ref must be at most %d printable characters", SP_INVOLVE_REF_MAX);
		return SP_EINVAL;
	}
	/* Newest epoch first, then every older one the ring still holds. */
	for (uint32_t k = 0; k <= cur && n < SP_PSEUDO_MAX_EPOCHS; k++) {
		uint32_t e = cur - k;
		uint8_t dummy[32];
		char why[128];
		if (e == cur) {
			rc = sp_submit_pseudonym(kr, kind, req->subject_id, ps[n], &epoch, why, sizeof why);
			if (rc != SP_OK) {
				MSG("%s", why);
				goto out;
			}
		} else if (sp_pseudo_derive(kr, e, kind, norm, dummy) == SP_OK) {
			memcpy(ps[n], dummy, 32);
			epoch = e;
		} else
			continue;
		seinpost__pseudonym_at__init(&at[n]);
		at[n].epoch = epoch;
		at[n].pseudonym.data = ps[n];
		at[n].pseudonym.len = 32;
		atp[n] = &at[n];
		n++;
	}
	li.pseudonym.data = ps[0];
	li.pseudonym.len = 32;
	li.epoch = cur;
	li.ref = (char *)(req->ref ? req->ref : "");
	li.until = req->remove ? 0 : until;
	li.remove = req->remove;
	li.synced = 0;
	li.n_pseudonyms = n;
	li.pseudonyms = atp;
	rc = sp_txn_begin(st, 1, &t);
	for (size_t i = 0; i < n && rc == SP_OK; i++) {
		/* Every epoch's pseudonym maps to the same local reference; only
		 * the newest (first) carries the sync state. */
		Seinpost__LocalInvolvement alias = li;
		if (i > 0) {
			alias.synced = 1;
			alias.n_pseudonyms = 0;
			alias.pseudonyms = NULL;
		}
		rc = put_local(t, &alias, ps[i]);
	}
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	if (rc != SP_OK) {
		MSG("could not store the involvement: %s", sp_strerror(rc));
		goto out;
	}
	if (req->remove)
		MSG("involvement removal stored; the broker is being told");
	else {
		char day[16];
		time_t ut = (time_t)until;
		struct tm tm;
		gmtime_r(&ut, &tm);
		strftime(day, sizeof day, "%Y-%m-%d", &tm);
		MSG("involvement stored until %s; the broker is being told", day);
	}
	rc = SP_OK;
out:
	sodium_memzero(norm, sizeof norm);
	return rc;
}

struct resend_ctx {
	sp_involve_send_fn fn;
	void *ctx;
	int n;
};

static int resend_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct resend_ctx *c = ctx;
	Seinpost__LocalInvolvement *li = seinpost__local_involvement__unpack(NULL, vl, v);
	if (li && !li->synced && li->n_pseudonyms > 0) {
		Seinpost__Frame f = SEINPOST__FRAME__INIT;
		Seinpost__InvolveUpdate u = SEINPOST__INVOLVE_UPDATE__INIT;
		u.n_pseudonyms = li->n_pseudonyms;
		u.pseudonyms = li->pseudonyms;
		u.until = li->until;
		u.remove = li->remove;
		u.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
		f.version = SP_WIRE_VERSION;
		f.body_case = SEINPOST__FRAME__BODY_INVOLVE;
		f.involve = &u;
		if (c->fn(c->ctx, &f) == SP_OK)
			c->n++;
	}
	if (li)
		seinpost__local_involvement__free_unpacked(li, NULL);
	return c->n >= 1000;
}

void sp_involve_resend(sp_store *st, sp_involve_send_fn fn, void *ctx)
{
	sp_txn *t = NULL;
	struct resend_ctx c = { fn, ctx, 0 };
	if (sp_txn_begin(st, 0, &t) != SP_OK)
		return;
	(void)sp_store_foreach(t, SP_DB_INVOLVE, NULL, 0, resend_one, &c);
	sp_txn_abort(&t);
}

void sp_involve_acked(sp_store *st, const Seinpost__InvolveAck *a)
{
	sp_txn *t = NULL;
	const void *v;
	size_t vl;
	Seinpost__LocalInvolvement *li = NULL;
	int rc;
	if (a->pseudonym.len != 32 || sp_txn_begin(st, 1, &t) != SP_OK)
		return;
	rc = sp_store_get(t, SP_DB_INVOLVE, a->pseudonym.data, 32, &v, &vl);
	if (rc == SP_OK)
		li = seinpost__local_involvement__unpack(NULL, vl, v);
	if (li) {
		li->synced = 1;
		if (a->status == SEINPOST__STATUS__STATUS_REJECTED)
			sp_log(LOG_WARNING, C, "broker refused an involvement: %s", a->reason);
		if (li->remove || a->status == SEINPOST__STATUS__STATUS_REJECTED) {
			/* Removed (or refused): forget the local mapping too. */
			rc = SP_OK;
			for (size_t i = 0; i < li->n_pseudonyms && rc == SP_OK; i++)
				if (li->pseudonyms[i]->pseudonym.len == 32 &&
				    (rc = sp_store_del(t, SP_DB_INVOLVE, li->pseudonyms[i]->pseudonym.data, 32)) == SP_ENOTFOUND)
					rc = SP_OK;
		} else
			rc = put_local(t, li, a->pseudonym.data);
		if (rc == SP_OK)
			rc = sp_txn_commit(&t);
		seinpost__local_involvement__free_unpacked(li, NULL);
	}
	sp_txn_abort(&t);
}

void sp_involve_local_ref(sp_txn *t, const uint8_t pseudonym[32], char *out, size_t outlen)
{
	const void *v;
	size_t vl;
	Seinpost__LocalInvolvement *li;
	out[0] = '\0';
	if (sp_store_get(t, SP_DB_INVOLVE, pseudonym, 32, &v, &vl) != SP_OK)
		return;
	li = seinpost__local_involvement__unpack(NULL, vl, v);
	if (li && !li->remove && li->ref)
		snprintf(out, outlen, "%s", li->ref);
	if (li)
		seinpost__local_involvement__free_unpacked(li, NULL);
}
