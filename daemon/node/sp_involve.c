/* sp_involve.c — node side of involvement: local mapping, sync to broker. */
#include "sp_involve.h"
#include "sp_meta_keys.h"

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

/* Pending index: META "iv.p" || pseudonym for every involvement the broker
 * has not acknowledged, so resending walks only those (a school node holds
 * its whole roster: a full scan every retry round would be O(roster)). */
#define PENDING SP_MK_INVOLVE_PENDING
#define PENDING_LEN 4
#define PENDING_INDEXED SP_MK_INVOLVE_INDEXED

static int pending_put(sp_txn *t, const uint8_t pseudonym[32])
{
	uint8_t k[PENDING_LEN + 32];
	memcpy(k, PENDING, PENDING_LEN);
	memcpy(k + PENDING_LEN, pseudonym, 32);
	return sp_store_put(t, SP_DB_META, k, sizeof k, "", 0, 0);
}

static int pending_del(sp_txn *t, const uint8_t pseudonym[32])
{
	uint8_t k[PENDING_LEN + 32];
	int rc;
	memcpy(k, PENDING, PENDING_LEN);
	memcpy(k + PENDING_LEN, pseudonym, 32);
	rc = sp_store_del(t, SP_DB_META, k, sizeof k);
	return rc == SP_ENOTFOUND ? SP_OK : rc;
}

int sp_involve_parse_line(char *line, Seinpost__InvolveRequest *out, char *msg, size_t msglen)
{
	char *f[3] = { NULL, NULL, NULL }, *p = line, *end;
	size_t nf = 0;
	char norm[24];
	uint64_t until;

	end = line + strlen(line);
	while (end > line && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '#')
		return 1;
	for (;;) {
		char *comma = strchr(p, ',');
		if (nf == 3) {
			MSG("too many fields: expected BSN[,ref[,until]]");
			return SP_EINVAL;
		}
		f[nf++] = p;
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	for (size_t i = 0; i < nf; i++) { /* trim around the commas */
		while (*f[i] == ' ' || *f[i] == '\t')
			f[i]++;
		end = f[i] + strlen(f[i]);
		while (end > f[i] && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
	}
	if (sp_bsn_normalise(f[0], norm) != SP_OK) {
		/* never echo the number: it may be a real person's */
		MSG("invalid BSN: must be 9 digits (8 with a leading zero dropped) passing the elfproef");
		return SP_EBSN;
	}
	sodium_memzero(norm, sizeof norm);
	if (f[1] && sp_text_problem(f[1], SP_INVOLVE_REF_MAX, 0)) {
		MSG("reference: not acceptable text: %s (at most %d bytes of printable UTF-8)",
		    sp_text_problem(f[1], SP_INVOLVE_REF_MAX, 0), SP_INVOLVE_REF_MAX);
		return SP_EINVAL;
	}
	if (f[2] && f[2][0] && sp_involve_parse_date(f[2], &until) != SP_OK) {
		MSG("invalid end date: expected YYYY-MM-DD, a real date");
		return SP_EDATE;
	}
	seinpost__involve_request__init(out);
	out->subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
	out->subject_id = f[0];
	out->ref = f[1] ? f[1] : "";
	out->until = f[2] ? f[2] : "";
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

int sp_involve_request(sp_store *st, sp_kh *kh, const Seinpost__InvolveRequest *req,
                       uint64_t now_s, char *msg, size_t msglen)
{
	Seinpost__LocalInvolvement li = SEINPOST__LOCAL_INVOLVEMENT__INIT;
	Seinpost__PseudonymAt at[SP_PSEUDO_MAX_EPOCHS], *atp[SP_PSEUDO_MAX_EPOCHS];
	uint8_t ps[SP_PSEUDO_MAX_EPOCHS][32];
	char norm[24];
	uint32_t cur = sp_kh_epoch(kh), epoch;
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
	if (kind == 2 && sp_kvk_normalise(req->subject_id, norm) != SP_OK) {
		MSG("invalid KvK number: must be 8 digits");
		return SP_EINVAL;
	}
	if (kind == 3 && sp_bag_normalise(req->subject_id, norm) != SP_OK) {
		MSG("invalid BAG id: must be 16 digits");
		return SP_EINVAL;
	}
	if (kind < 1 || kind > 3) {
		MSG("unknown subject kind");
		return SP_EINVAL;
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
	if (req->ref && sp_text_problem(req->ref, SP_INVOLVE_REF_MAX, 0)) {
		MSG("--ref: not acceptable text: %s (at most %d bytes of printable UTF-8)",
		    sp_text_problem(req->ref, SP_INVOLVE_REF_MAX, 0), SP_INVOLVE_REF_MAX);
		return SP_EINVAL;
	}
	/* Newest epoch first, then every older one the ring still holds (from
	 * the pseudonymisation service: its pseudonym only, no alias list). */
	for (uint32_t k = 0; k <= (sp_kh_uses_oprf(kh) ? 0 : cur) && n < SP_PSEUDO_MAX_EPOCHS; k++) {
		uint32_t e = cur - k;
		uint8_t dummy[32];
		char why[128];
		if (e == cur) {
			rc = sp_submit_pseudonym_for(kh, 3 /* OPRF_PURPOSE_INVOLVE */, kind, req->subject_id, ps[n], &epoch, why,
			                             sizeof why);
			if (rc != SP_OK) {
				MSG("%s", why);
				goto out;
			}
		} else if (sp_kh_pseudonym(kh, e, kind, norm, dummy) == SP_OK) {
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
		rc = pending_put(t, ps[0]);
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

/* One item of a bulk request, validated and pseudonymised. */
struct bulk_item {
	uint8_t ps[SP_PSEUDO_MAX_EPOCHS][32];
	Seinpost__PseudonymAt at[SP_PSEUDO_MAX_EPOCHS], *atp[SP_PSEUDO_MAX_EPOCHS];
	size_t n;
	uint64_t until;
	const char *ref;
	int remove;
};

static int bulk_prepare(sp_kh *kh, const Seinpost__InvolveRequest *req, uint64_t now_s, const uint8_t *pre,
                        struct bulk_item *it, char *msg, size_t msglen)
{
	char norm[24];
	uint32_t cur = sp_kh_epoch(kh), epoch;
	int rc = SP_OK;

	it->until = now_s + SP_INVOLVE_DEFAULT_DAYS * 86400ull;
	it->n = 0;
	if (!req->subject_id || sp_bsn_normalise(req->subject_id, norm) != SP_OK) {
		MSG("invalid BSN: must be 9 digits (8 with a leading zero dropped) passing the elfproef");
		return SP_EBSN;
	}
	if (!req->remove && req->until && req->until[0]) {
		if (sp_involve_parse_date(req->until, &it->until) != SP_OK) {
			MSG("invalid end date: expected YYYY-MM-DD, a real date");
			rc = SP_EDATE;
			goto out;
		}
		if (it->until <= now_s) {
			MSG("end date has already passed: an involvement must end in the future");
			rc = SP_EEXPIRED;
			goto out;
		}
	}
	if (req->ref && (!sp_text_ok(req->ref, SP_INVOLVE_REF_MAX, 0) || strlen(req->ref) > SP_INVOLVE_REF_MAX)) {
		MSG("reference must be at most %d printable characters", SP_INVOLVE_REF_MAX);
		rc = SP_EINVAL;
		goto out;
	}
	for (uint32_t k = 0; k <= (pre ? 0 : cur) && it->n < SP_PSEUDO_MAX_EPOCHS; k++) {
		uint32_t e = cur - k;
		char why[128];
		if (pre) {
			/* from the service, in one batch for the whole request */
			memcpy(it->ps[it->n], pre, 32);
			epoch = cur;
		} else if (e == cur) {
			rc = sp_submit_pseudonym_for(kh, 3 /* OPRF_PURPOSE_INVOLVE */, 1, req->subject_id, it->ps[it->n], &epoch,
			                             why, sizeof why);
			if (rc != SP_OK) {
				MSG("%s", why);
				goto out;
			}
		} else if (sp_kh_pseudonym(kh, e, 1, norm, it->ps[it->n]) == SP_OK) {
			epoch = e;
		} else
			continue;
		seinpost__pseudonym_at__init(&it->at[it->n]);
		it->at[it->n].epoch = epoch;
		it->at[it->n].pseudonym.data = it->ps[it->n];
		it->at[it->n].pseudonym.len = 32;
		it->atp[it->n] = &it->at[it->n];
		it->n++;
	}
	it->ref = req->ref ? req->ref : "";
	it->remove = req->remove;
out:
	sodium_memzero(norm, sizeof norm);
	return rc;
}

/* *pre: 32 bytes per item (zeros for an invalid BSN, refused later). */
static int bulk_oprf(sp_kh *kh, const Seinpost__InvolveBatchRequest *b, uint8_t **pre, char *msg, size_t msglen)
{
	size_t n = b->n_items, m = 0;
	char (*norm)[24] = sodium_malloc(n * sizeof *norm);
	const char **ids = calloc(n, sizeof *ids);
	size_t *at = calloc(n, sizeof *at);
	uint8_t *ps = sodium_malloc(32 * n);
	int rc = SP_ENOMEM;

	*pre = NULL;
	if (!norm || !ids || !at || !ps) {
		MSG("out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (b->items[i]->subject_id && sp_bsn_normalise(b->items[i]->subject_id, norm[i]) == SP_OK) {
			ids[m] = norm[i];
			at[m++] = i;
		}
	if (!(*pre = calloc(n, 32))) {
		MSG("out of memory");
		goto out;
	}
	rc = m ? sp_kh_pseudonyms(kh, 3 /* OPRF_PURPOSE_INVOLVE */, 1, ids, m, ps, msg, msglen) : SP_OK;
	if (rc != SP_OK) {
		char svc[200];
		snprintf(svc, sizeof svc, "%s", msg);
		MSG("the pseudonymisation service gave no pseudonyms: %s; nothing of this batch was stored",
		    svc[0] ? svc : sp_strerror(rc));
		free(*pre);
		*pre = NULL;
		goto out;
	}
	for (size_t j = 0; j < m; j++)
		memcpy(*pre + 32 * at[j], ps + 32 * j, 32);
out:
	sodium_free(norm);
	sodium_free(ps);
	free(ids);
	free(at);
	return rc;
}

int sp_involve_batch_request(sp_store *st, sp_kh *kh, const Seinpost__InvolveBatchRequest *b,
                             uint64_t now_s, sp_involve_send_fn fn, void *ctx, char *msg, size_t msglen)
{
	uint8_t *pre = NULL;
	struct bulk_item *items = NULL;
	Seinpost__InvolveUpdate *u = NULL, **up = NULL;
	sp_txn *t = NULL;
	size_t n = b->n_items;
	int rc = SP_OK;

	if (n == 0 || n > SP_INVOLVE_BATCH_MAX) {
		MSG("a batch holds 1 to %d involvements", SP_INVOLVE_BATCH_MAX);
		return SP_EINVAL;
	}
	items = calloc(n, sizeof *items);
	u = calloc(n, sizeof *u);
	up = calloc(n, sizeof *up);
	if (!items || !u || !up) {
		rc = SP_ENOMEM;
		MSG("out of memory");
		goto out;
	}
	/* The service's pseudonyms of every valid BSN in batches of blinded
	 * points (a bad line is refused below, before anything is stored). */
	if (sp_kh_uses_oprf(kh) && (rc = bulk_oprf(kh, b, &pre, msg, msglen)) != SP_OK)
		goto out;
	/* Validate everything first: a bad line refuses the batch, nothing stored. */
	for (size_t i = 0; i < n; i++) {
		char why[200];
		unsigned long line = b->n_lines == n ? b->lines[i] : (unsigned long)b->first_line + i;
		if (b->items[i]->subject_kind > SEINPOST__SUBJECT_KIND__SUBJECT_PERSON) {
			MSG("line %lu: only persons (BSN) can be registered; nothing of this batch was stored", line);
			rc = SP_EINVAL;
			goto out;
		}
		rc = bulk_prepare(kh, b->items[i], now_s, pre ? pre + 32 * i : NULL, &items[i], why, sizeof why);
		if (rc != SP_OK) {
			MSG("line %lu: %s; nothing of this batch was stored", line, why);
			goto out;
		}
	}
	rc = sp_txn_begin(st, 1, &t);
	for (size_t i = 0; i < n && rc == SP_OK; i++) {
		struct bulk_item *it = &items[i];
		Seinpost__LocalInvolvement li = SEINPOST__LOCAL_INVOLVEMENT__INIT;
		li.pseudonym.data = it->ps[0];
		li.pseudonym.len = 32;
		li.epoch = it->at[0].epoch;
		li.ref = (char *)it->ref;
		li.until = it->remove ? 0 : it->until;
		li.remove = it->remove;
		li.n_pseudonyms = it->n;
		li.pseudonyms = it->atp;
		for (size_t j = 0; j < it->n && rc == SP_OK; j++) {
			Seinpost__LocalInvolvement alias = li;
			if (j > 0) {
				alias.synced = 1;
				alias.n_pseudonyms = 0;
				alias.pseudonyms = NULL;
			}
			rc = put_local(t, &alias, it->ps[j]);
		}
		if (rc == SP_OK)
			rc = pending_put(t, it->ps[0]);
		seinpost__involve_update__init(&u[i]);
		u[i].n_pseudonyms = it->n;
		u[i].pseudonyms = it->atp;
		u[i].until = li.until;
		u[i].remove = it->remove;
		u[i].subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
		up[i] = &u[i];
	}
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	if (rc != SP_OK) {
		MSG("could not store the involvements: %s; nothing of this batch was stored", sp_strerror(rc));
		goto out;
	}
	MSG("%zu involvements stored; the broker is being told", n);
	/* Frames of at most SP_INVOLVE_FRAME_PSEUDONYMS pseudonyms (~40 B each),
	 * well below max_frame whatever the number of key epochs. A lost frame
	 * is resent from the pending index. */
	for (size_t from = 0, to; fn && from < n; from = to) {
		Seinpost__Frame f = SEINPOST__FRAME__INIT;
		Seinpost__InvolveBatch ib = SEINPOST__INVOLVE_BATCH__INIT;
		size_t budget = 0;
		for (to = from; to < n && (to == from || budget + items[to].n <= SP_INVOLVE_FRAME_PSEUDONYMS); to++)
			budget += items[to].n;
		ib.n_updates = to - from;
		ib.updates = up + from;
		f.version = SP_WIRE_VERSION;
		f.body_case = SEINPOST__FRAME__BODY_INVOLVE_BATCH;
		f.involve_batch = &ib;
		(void)fn(ctx, &f);
	}
out:
	if (pre)
		sodium_memzero(pre, 32 * n);
	free(pre);
	if (items)
		sodium_memzero(items, n * sizeof *items);
	free(items);
	free(u);
	free(up);
	return rc;
}

struct resend_ctx {
	sp_txn *t;
	sp_involve_send_fn fn;
	void *ctx;
	int n;
	Seinpost__InvolveUpdate *u[SP_INVOLVE_BATCH_MAX];
	Seinpost__LocalInvolvement *li[SP_INVOLVE_BATCH_MAX];
	size_t nu, pseudonyms;
};

static void resend_flush(struct resend_ctx *c)
{
	if (c->nu == 1) {
		Seinpost__Frame f = SEINPOST__FRAME__INIT;
		f.version = SP_WIRE_VERSION;
		f.body_case = SEINPOST__FRAME__BODY_INVOLVE;
		f.involve = c->u[0];
		if (c->fn(c->ctx, &f) == SP_OK)
			c->n++;
	} else if (c->nu > 1) {
		Seinpost__Frame f = SEINPOST__FRAME__INIT;
		Seinpost__InvolveBatch b = SEINPOST__INVOLVE_BATCH__INIT;
		b.n_updates = c->nu;
		b.updates = c->u;
		f.version = SP_WIRE_VERSION;
		f.body_case = SEINPOST__FRAME__BODY_INVOLVE_BATCH;
		f.involve_batch = &b;
		if (c->fn(c->ctx, &f) == SP_OK)
			c->n += (int)c->nu;
	}
	for (size_t i = 0; i < c->nu; i++) {
		free(c->u[i]);
		seinpost__local_involvement__free_unpacked(c->li[i], NULL);
	}
	c->nu = 0;
	c->pseudonyms = 0;
}

static int resend_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct resend_ctx *c = ctx;
	const void *lv;
	size_t lvl;
	Seinpost__LocalInvolvement *li = NULL;
	if (kl != PENDING_LEN + 32 || sp_store_get(c->t, SP_DB_INVOLVE, (const uint8_t *)k + PENDING_LEN, 32, &lv, &lvl) != SP_OK)
		return 0;
	li = seinpost__local_involvement__unpack(NULL, lvl, lv);
	if (li && !li->synced && li->n_pseudonyms > 0) {
		Seinpost__InvolveUpdate *u = malloc(sizeof *u);
		if (!u) {
			seinpost__local_involvement__free_unpacked(li, NULL);
			return 1;
		}
		seinpost__involve_update__init(u);
		u->n_pseudonyms = li->n_pseudonyms;
		u->pseudonyms = li->pseudonyms;
		u->until = li->until;
		u->remove = li->remove;
		u->subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
		if (c->nu && c->pseudonyms + li->n_pseudonyms > SP_INVOLVE_FRAME_PSEUDONYMS)
			resend_flush(c);
		c->u[c->nu] = u;
		c->li[c->nu++] = li;
		c->pseudonyms += li->n_pseudonyms;
		if (c->nu == SP_INVOLVE_BATCH_MAX)
			resend_flush(c);
	} else if (li) {
		seinpost__local_involvement__free_unpacked(li, NULL);
	}
	return c->n + (int)c->nu >= SP_INVOLVE_RESEND_MAX;
}

/* Stores from before the pending index: index what is unsynced, once. */
static int index_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	Seinpost__LocalInvolvement *li = seinpost__local_involvement__unpack(NULL, vl, v);
	int rc = 0;
	if (li && !li->synced && li->n_pseudonyms > 0 && kl == 32)
		rc = pending_put(ctx, k) == SP_OK ? 0 : 1;
	if (li)
		seinpost__local_involvement__free_unpacked(li, NULL);
	return rc;
}

int sp_involve_migrate(sp_store *st)
{
	sp_txn *t = NULL;
	const void *v;
	size_t vl;
	int rc = sp_txn_begin(st, 1, &t);
	if (rc == SP_OK && sp_store_get(t, SP_DB_META, PENDING_INDEXED, strlen(PENDING_INDEXED), &v, &vl) == SP_OK) {
		sp_txn_abort(&t);
		return SP_OK;
	}
	if (rc == SP_OK)
		rc = sp_store_foreach(t, SP_DB_INVOLVE, NULL, 0, index_one, t);
	if (rc == SP_OK)
		rc = sp_store_put(t, SP_DB_META, PENDING_INDEXED, strlen(PENDING_INDEXED), "1", 1, 0);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	return rc;
}

void sp_involve_resend(sp_store *st, sp_involve_send_fn fn, void *ctx)
{
	sp_txn *t = NULL;
	struct resend_ctx *c = calloc(1, sizeof *c);
	if (!c || sp_txn_begin(st, 0, &t) != SP_OK) {
		free(c);
		return;
	}
	c->t = t;
	c->fn = fn;
	c->ctx = ctx;
	(void)sp_store_foreach(t, SP_DB_META, PENDING, PENDING_LEN, resend_one, c);
	resend_flush(c);
	sp_txn_abort(&t);
	free(c);
}

/* Forget every key of a local entry (one per epoch's pseudonym). */
static int forget_keys(sp_txn *t, const Seinpost__LocalInvolvement *li)
{
	int rc = SP_OK;
	for (size_t i = 0; i < li->n_pseudonyms && rc == SP_OK; i++)
		if (li->pseudonyms[i]->pseudonym.len == 32 &&
		    (rc = sp_store_del(t, SP_DB_INVOLVE, li->pseudonyms[i]->pseudonym.data, 32)) == SP_ENOTFOUND)
			rc = SP_OK;
	return rc;
}

/* The acknowledged mapping under our own pseudonym of the subject (P_R,
 * issue 13): what deliveries name the subject by. The network pseudonyms of
 * the pending entry are not kept. */
static int keep_under_recipient_pseudonym(sp_txn *t, const Seinpost__LocalInvolvement *li, const uint8_t pr[32])
{
	Seinpost__LocalInvolvement k = SEINPOST__LOCAL_INVOLVEMENT__INIT;
	uint8_t *buf = NULL;
	size_t len;
	int rc;
	k.pseudonym.data = (uint8_t *)pr;
	k.pseudonym.len = 32;
	k.epoch = li->epoch;
	k.ref = li->ref;
	k.until = li->until;
	if ((rc = sp_wire_pack(&k.base, &buf, &len)) == SP_OK)
		rc = sp_store_put(t, SP_DB_INVOLVE, pr, 32, buf, len, 0);
	free(buf);
	return rc;
}

/* Mark one acknowledged update (keyed by its first pseudonym) inside t;
 * pr: the broker's answer, our pseudonym of the subject (NULL: refused). */
static int acked_one(sp_txn *t, const uint8_t pseudonym[32], const uint8_t *pr, int refused, const char *reason)
{
	const void *v;
	size_t vl;
	Seinpost__LocalInvolvement *li = NULL;
	int rc = sp_store_get(t, SP_DB_INVOLVE, pseudonym, 32, &v, &vl);
	if (rc == SP_ENOTFOUND)
		return pending_del(t, pseudonym);
	if (rc != SP_OK)
		return rc;
	li = seinpost__local_involvement__unpack(NULL, vl, v);
	if (!li)
		return SP_ECORRUPT;
	if (refused)
		sp_log(LOG_WARNING, C, "broker refused an involvement: %s", reason ? reason : "");
	if (li->n_pseudonyms == 0) /* an entry of one key: the pending one itself */
		rc = (rc = sp_store_del(t, SP_DB_INVOLVE, pseudonym, 32)) == SP_ENOTFOUND ? SP_OK : rc;
	else
		rc = forget_keys(t, li);
	if (rc == SP_OK && pr && !refused) {
		if (li->remove) /* removed: the mapping goes too */
			rc = (rc = sp_store_del(t, SP_DB_INVOLVE, pr, 32)) == SP_ENOTFOUND ? SP_OK : rc;
		else
			rc = keep_under_recipient_pseudonym(t, li, pr);
	}
	if (rc == SP_OK)
		rc = pending_del(t, pseudonym);
	seinpost__local_involvement__free_unpacked(li, NULL);
	return rc;
}

void sp_involve_batch_acked(sp_store *st, const Seinpost__InvolveBatchAck *a)
{
	sp_txn *t = NULL;
	int rc = sp_txn_begin(st, 1, &t);
	for (size_t i = 0; i < a->n_stored && rc == SP_OK; i++)
		if (a->stored[i].len == 32)
			rc = acked_one(t, a->stored[i].data,
			               i < a->n_stored_recipient ? a->stored_recipient[i].data : NULL, 0, NULL);
	for (size_t i = 0; i < a->n_refused && rc == SP_OK; i++)
		if (a->refused[i]->pseudonym.len == 32)
			rc = acked_one(t, a->refused[i]->pseudonym.data, NULL, 1, a->refused[i]->reason);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	if (rc != SP_OK)
		sp_log(LOG_ERR, C, "recording the broker's involvement answer failed: %s", sp_strerror(rc));
	sp_txn_abort(&t);
}

void sp_involve_acked(sp_store *st, const Seinpost__InvolveAck *a)
{
	sp_txn *t = NULL;
	if (a->pseudonym.len != 32 || sp_txn_begin(st, 1, &t) != SP_OK)
		return;
	if (acked_one(t, a->pseudonym.data, a->recipient_pseudonym.len == 32 ? a->recipient_pseudonym.data : NULL,
	              a->status == SEINPOST__STATUS__STATUS_REJECTED, a->reason) == SP_OK &&
	    sp_txn_commit(&t) != SP_OK)
		sp_log(LOG_ERR, C, "recording the broker's involvement answer failed");
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
