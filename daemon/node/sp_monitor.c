/*
 * sp_monitor.c — the privacy officer's verified copy of the broker's audit
 * log (sp_monitor.h, docs/audit.md).
 *
 * Why a copy and not the broker's index: the index ('p' keys at the broker)
 * is covered by neither the hash chain nor the Merkle tree, so a broker can
 * drop entries from it and every check still passes. The copy is built from
 * the records themselves, which the signed heads do cover: a record left
 * out, altered or reordered changes the root at the next head, and the copy
 * stops matching. The pseudonym index over the copy is ours.
 */
#include "sp_monitor.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_error.h"
#include "sp_config.h"
#include "sp_log.h"
#include "sp_roster.h"
#include "sp_sth.h"
#include "sp_util.h"
#include "sp_wire.h"

#define C "monitor"
#define K_STATE 'f'
#define K_REC 'c'
#define K_NODE 'k'
#define K_SUBJECT 'x'
#define NODE_KEY 10

int sp_monitor_wanted(const sp_config *c, const sp_roster *r)
{
	const sp_org *o = sp_roster_find(r, c->org);
	return o && strcmp(o->role, "privacy-officer") == 0;
}

/* ---- the copy's Merkle tree ----------------------------------------------- */

static size_t node_key(uint8_t k[NODE_KEY], unsigned level, uint64_t index)
{
	k[0] = K_NODE;
	k[1] = (uint8_t)level;
	sp_be64_put(k + 2, index);
	return NODE_KEY;
}

static int node_get(void *ctx, unsigned level, uint64_t index, uint8_t out[SP_MERKLE_HASH])
{
	uint8_t k[NODE_KEY];
	const void *v;
	size_t vl;
	int rc = sp_store_get(ctx, SP_DB_AUDIX, k, node_key(k, level, index), &v, &vl);
	if (rc == SP_ENOTFOUND)
		return SP_ECORRUPT;
	if (rc != SP_OK)
		return rc;
	if (vl != SP_MERKLE_HASH)
		return SP_ECORRUPT;
	memcpy(out, v, SP_MERKLE_HASH);
	return SP_OK;
}

/* Leaf index, then every perfect subtree it completes. */
static int tree_append(sp_txn *t, uint64_t index, const uint8_t leaf[SP_MERKLE_HASH])
{
	uint8_t cur[SP_MERKLE_HASH], left[SP_MERKLE_HASH], k[NODE_KEY];
	unsigned level = 0;
	int rc;
	memcpy(cur, leaf, SP_MERKLE_HASH);
	rc = sp_store_put(t, SP_DB_AUDIX, k, node_key(k, 0, index), cur, sizeof cur, 0);
	while (rc == SP_OK && (index & 1)) {
		if ((rc = node_get(t, level, index - 1, left)) != SP_OK)
			break;
		sp_merkle_node(left, cur, cur);
		level++;
		index >>= 1;
		rc = sp_store_put(t, SP_DB_AUDIX, k, node_key(k, level, index), cur, sizeof cur, 0);
	}
	return rc;
}

int sp_monitor_inclusion(sp_txn *t, uint64_t seq, uint64_t size, sp_merkle_hash *proof, size_t *n)
{
	if (seq == 0 || seq > size)
		return SP_EINVAL;
	return sp_merkle_inclusion_proof(node_get, t, seq - 1, size, proof, n);
}

/* ---- state ------------------------------------------------------------------ */

struct mstate {
	sp_monitor_state s;
	int has_ev;                 /* evidence: the head that did not match */
	uint64_t ev_size, ev_time;
	uint8_t ev_root[32], ev_sig[64];
};

static int load(sp_txn *t, struct mstate *out)
{
	const uint8_t k = K_STATE;
	const void *v;
	size_t vl;
	Seinpost__MonitorState *m;
	int rc = sp_store_get(t, SP_DB_AUDIX, &k, 1, &v, &vl);
	memset(out, 0, sizeof *out);
	if (rc == SP_ENOTFOUND)
		return SP_OK;
	if (rc != SP_OK)
		return rc;
	if (!(m = seinpost__monitor_state__unpack(NULL, vl, v)))
		return SP_ECORRUPT;
	out->s.size = m->size;
	if (m->head && m->head->root_hash.len == 32 && m->head->signature.len == 64) {
		out->s.verified = m->head->tree_size;
		out->s.head_time = m->head->timestamp;
		memcpy(out->s.head_root, m->head->root_hash.data, 32);
		memcpy(out->s.head_sig, m->head->signature.data, 64);
	}
	if (m->evidence && m->evidence->root_hash.len == 32 && m->evidence->signature.len == 64) {
		out->has_ev = 1;
		out->ev_size = m->evidence->tree_size;
		out->ev_time = m->evidence->timestamp;
		memcpy(out->ev_root, m->evidence->root_hash.data, 32);
		memcpy(out->ev_sig, m->evidence->signature.data, 64);
	}
	out->s.alarm = m->alarm;
	snprintf(out->s.reason, sizeof out->s.reason, "%s", m->reason);
	out->s.limit_refusals = m->limit_refusals;
	out->s.last_refusal_time = m->last_refusal_time;
	snprintf(out->s.last_refusal_org, sizeof out->s.last_refusal_org, "%s", m->last_refusal_org);
	seinpost__monitor_state__free_unpacked(m, NULL);
	return SP_OK;
}

static int save(sp_txn *t, struct mstate *ms)
{
	const uint8_t k = K_STATE;
	Seinpost__MonitorState m = SEINPOST__MONITOR_STATE__INIT;
	Seinpost__SignedTreeHead head = SEINPOST__SIGNED_TREE_HEAD__INIT, ev = SEINPOST__SIGNED_TREE_HEAD__INIT;
	uint8_t *buf = NULL;
	size_t len;
	int rc;
	m.size = ms->s.size;
	if (ms->s.verified) {
		head.tree_size = ms->s.verified;
		head.timestamp = ms->s.head_time;
		head.root_hash = (ProtobufCBinaryData){ 32, ms->s.head_root };
		head.signature = (ProtobufCBinaryData){ 64, ms->s.head_sig };
		m.head = &head;
	}
	if (ms->has_ev) {
		ev.tree_size = ms->ev_size;
		ev.timestamp = ms->ev_time;
		ev.root_hash = (ProtobufCBinaryData){ 32, ms->ev_root };
		ev.signature = (ProtobufCBinaryData){ 64, ms->ev_sig };
		m.evidence = &ev;
	}
	m.alarm = ms->s.alarm;
	m.reason = ms->s.reason;
	m.limit_refusals = ms->s.limit_refusals;
	m.last_refusal_time = ms->s.last_refusal_time;
	m.last_refusal_org = ms->s.last_refusal_org;
	rc = sp_wire_pack(&m.base, &buf, &len);
	if (rc == SP_OK)
		rc = sp_store_put(t, SP_DB_AUDIX, &k, 1, buf, len, 0);
	free(buf);
	return rc;
}

int sp_monitor_state_get(sp_txn *t, sp_monitor_state *out)
{
	struct mstate ms;
	int rc = load(t, &ms);
	*out = ms.s;
	return rc;
}

int sp_monitor_request(sp_txn *t, Seinpost__AuditFetch *q)
{
	sp_monitor_state s;
	int rc = sp_monitor_state_get(t, &s);
	if (rc != SP_OK)
		return rc;
	if (s.alarm)
		return SP_ECORRUPT; /* the copy stops where the broker's log stopped holding */
	q->from_seq = s.size + 1;
	q->max_records = SP_MONITOR_PAGE;
	return SP_OK;
}

/* ---- ingest ------------------------------------------------------------------- */

static void alarm(struct mstate *ms, const Seinpost__SignedTreeHead *h, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void alarm(struct mstate *ms, const Seinpost__SignedTreeHead *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ms->s.reason, sizeof ms->s.reason, fmt, ap);
	va_end(ap);
	ms->s.alarm = 1;
	if (h && h->root_hash.len == 32 && h->signature.len == 64) {
		ms->has_ev = 1;
		ms->ev_size = h->tree_size;
		ms->ev_time = h->timestamp;
		memcpy(ms->ev_root, h->root_hash.data, 32);
		memcpy(ms->ev_sig, h->signature.data, 64);
	}
	sp_log(LOG_CRIT, C, "ALARM: the broker's audit log %s; the privacy officer's copy stops here",
	       ms->s.reason);
}

/* One record at seq: decoded, its seq and chain link checked, stored, its
 * leaf added, indexed by pseudonym. Returns 0, or 1 with the alarm raised. */
static int take(sp_txn *t, struct mstate *ms, uint64_t seq, const ProtobufCBinaryData *raw, int *rc)
{
	Seinpost__AuditRecord *r = seinpost__audit_record__unpack(NULL, raw->len, raw->data);
	uint8_t leaf[32], prev[32], k[1 + 32 + 8];
	int bad = 1;
	*rc = SP_OK;
	if (!r) {
		alarm(ms, NULL, "sent record %llu that does not decode", (unsigned long long)seq);
		goto out;
	}
	if (r->seq != seq) {
		alarm(ms, NULL, "sent record %llu in place of %llu", (unsigned long long)r->seq,
		      (unsigned long long)seq);
		goto out;
	}
	if (seq > 1) {
		if ((*rc = node_get(t, 0, seq - 2, prev)) != SP_OK)
			goto out;
	} else {
		memset(prev, 0, sizeof prev);
	}
	if (r->prev_hash.len != 32 || memcmp(r->prev_hash.data, prev, 32) != 0) {
		alarm(ms, NULL, "record %llu does not chain to record %llu", (unsigned long long)seq,
		      (unsigned long long)(seq - 1));
		goto out;
	}
	k[0] = K_REC;
	sp_be64_put(k + 1, seq);
	if ((*rc = sp_store_put(t, SP_DB_AUDIX, k, 9, raw->data, raw->len, 0)) != SP_OK)
		goto out;
	sp_merkle_leaf(raw->data, raw->len, leaf);
	if ((*rc = tree_append(t, seq - 1, leaf)) != SP_OK)
		goto out;
	if (r->pseudonym.len == 32) {
		k[0] = K_SUBJECT;
		memcpy(k + 1, r->pseudonym.data, 32);
		sp_be64_put(k + 33, seq);
		if ((*rc = sp_store_put(t, SP_DB_AUDIX, k, sizeof k, "", 0, 0)) != SP_OK)
			goto out;
	}
	/* Refusals beyond the policy's [limits]: the privacy officer's alarm. */
	if (r->event == SEINPOST__AUDIT_EVENT__AUDIT_REJECTED && r->code == SP_ELIMIT) {
		ms->s.limit_refusals++;
		ms->s.last_refusal_time = r->time;
		snprintf(ms->s.last_refusal_org, sizeof ms->s.last_refusal_org, "%s", r->actor);
	}
	ms->s.size = seq;
	bad = 0;
out:
	if (r)
		seinpost__audit_record__free_unpacked(r, NULL);
	return bad;
}

int sp_monitor_ingest(sp_txn *t, const uint8_t broker_pk[32], const Seinpost__AuditFetchResult *r, int *more)
{
	const Seinpost__SignedTreeHead *h = r->sth;
	struct mstate ms;
	uint8_t root[32];
	int rc = load(t, &ms);

	*more = 0;
	if (rc != SP_OK || ms.s.alarm)
		return rc;
	if (r->code) {
		sp_log(LOG_ERR, C, "the broker refuses the audit log copy: %s", sp_strerror(r->code));
		return SP_OK;
	}
	if (!h || r->from_seq != ms.s.size + 1)
		return SP_OK; /* stale (an answer to an earlier request) */
	if (sp_sth_verify(h, broker_pk) != SP_OK) {
		alarm(&ms, h, "sent a tree head without a valid broker signature");
		return save(t, &ms);
	}
	if (h->tree_size < ms.s.verified) {
		alarm(&ms, h, "shrank: head of size %llu after one of size %llu", (unsigned long long)h->tree_size,
		      (unsigned long long)ms.s.verified);
		return save(t, &ms);
	}
	for (size_t i = 0; i < r->n_records; i++) {
		uint64_t seq = r->from_seq + i;
		if (seq > h->tree_size)
			break; /* beyond the head: asked for again with the next one */
		if (take(t, &ms, seq, &r->records[i], &rc))
			return save(t, &ms);
		if (rc != SP_OK)
			return rc;
	}
	if (ms.s.size < h->tree_size) {
		if (r->n_records == 0) {
			alarm(&ms, h, "withholds records %llu to %llu that its signed head covers",
			      (unsigned long long)ms.s.size + 1, (unsigned long long)h->tree_size);
			return save(t, &ms);
		}
		*more = 1;
		return save(t, &ms);
	}
	/* The copy is at the head's size: its root must be the head's root. */
	if ((rc = sp_merkle_root(node_get, t, h->tree_size, root)) != SP_OK)
		return rc;
	if (memcmp(root, h->root_hash.data, 32) != 0) {
		alarm(&ms, h, "does not match its own signed head of size %llu: records were altered, removed or "
		      "reordered", (unsigned long long)h->tree_size);
		return save(t, &ms);
	}
	ms.s.verified = h->tree_size;
	ms.s.head_time = h->timestamp;
	memcpy(ms.s.head_root, h->root_hash.data, 32);
	memcpy(ms.s.head_sig, h->signature.data, 64);
	return save(t, &ms);
}

/* ---- reading -------------------------------------------------------------------- */

struct subj {
	sp_txn *t;
	uint64_t upto;
	sp_monitor_visit_fn fn;
	void *ctx;
	int rc;
};

static int subj_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct subj *s = ctx;
	uint8_t rk[9];
	const void *rec;
	size_t rl;
	uint64_t seq;
	(void)v;
	(void)vl;
	if (kl != 1 + 32 + 8)
		return 0;
	seq = sp_be64_get((const uint8_t *)k + 33);
	if (seq > s->upto)
		return 1;
	rk[0] = K_REC;
	sp_be64_put(rk + 1, seq);
	if ((s->rc = sp_store_get(s->t, SP_DB_AUDIX, rk, 9, &rec, &rl)) != SP_OK)
		return 1;
	return s->fn(s->ctx, seq, rec, rl);
}

int sp_monitor_subject(sp_txn *t, const uint8_t pseudonym[32], uint64_t upto, sp_monitor_visit_fn fn, void *ctx)
{
	uint8_t k[33];
	struct subj s = { .t = t, .upto = upto, .fn = fn, .ctx = ctx, .rc = SP_OK };
	int rc;
	k[0] = K_SUBJECT;
	memcpy(k + 1, pseudonym, 32);
	rc = sp_store_foreach(t, SP_DB_AUDIX, k, sizeof k, subj_one, &s);
	return rc < 0 ? rc : s.rc;
}

int sp_status_monitor(const sp_status_src *src, sp_status *st)
{
	sp_monitor_state m;
	char when[32];
	int rc;
	const uint8_t k = K_STATE;
	const void *v;
	size_t vl;
	if (sp_store_get(src->txn, SP_DB_AUDIX, &k, 1, &v, &vl) != SP_OK)
		return SP_OK; /* not a privacy officer's node, or nothing copied yet */
	if ((rc = sp_monitor_state_get(src->txn, &m)) != SP_OK)
		return rc;
	if (m.alarm)
		rc = sp_status_add(st, "audit", "copy", SP_STATUS_BAD, "ALARM: the broker's audit log %s", m.reason);
	else
		rc = sp_status_add(st, "audit", "copy", SP_STATUS_OK,
		                   "%llu records copied, verified against the signed head of size %llu",
		                   (unsigned long long)m.size, (unsigned long long)m.verified);
	if (rc == SP_OK && m.limit_refusals)
		rc = sp_status_add(st, "audit", "limits", SP_STATUS_BAD,
		                   "ALARM: %llu involvement registrations refused beyond the policy's [limits], "
		                   "last by %s at %s (seinpost audit log --org %s)",
		                   (unsigned long long)m.limit_refusals, m.last_refusal_org,
		                   sp_iso_time(m.last_refusal_time, when, sizeof when), m.last_refusal_org);
	return rc;
}
