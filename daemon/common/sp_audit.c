/*
 * sp_audit.c — the append-only, hash-chained audit log.
 *
 * Record n is a serialised AuditRecord stored in SP_DB_AUDIT under be64(n);
 * its prev_hash is the RFC 9162 leaf hash of record n-1's stored bytes,
 * SHA-256(0x00 || bytes) (32 zero bytes for n = 1). "audit.head" in
 * SP_DB_META holds be64(last seq) || leaf hash of the last record and is
 * written in the same transaction as the record, so removing records from
 * the end is detected as well as editing them.
 *
 * The stored bytes are hashed exactly as written and never re-serialised:
 * protobuf encoding is not canonical. One hash per record serves both the
 * chain and the Merkle tree (sp_mtree.c), so verify hashes each record once.
 *
 * Records carry pseudonyms and organisation ids, never identities; nothing
 * from a record is logged.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "sp_audit.h"
#include "sp_meta_keys.h"
#include "sp_log.h"
#include "sp_merkle.h"
#include "sp_mtree.h"
#include "sp_sth.h"
#include "sp_util.h"
#include "seinpost.pb-c.h"

#define HEAD_KEY SP_MK_AUDIT_HEAD
#define HEAD_LEN (8 + crypto_hash_sha256_BYTES)
#define HASH_LEN crypto_hash_sha256_BYTES
#define TEXT_MAX 1024

static const char *const event_names[] = {
	[SEINPOST__AUDIT_EVENT__AUDIT_NONE] = "none",
	[SEINPOST__AUDIT_EVENT__AUDIT_SUBMITTED] = "submitted",
	[SEINPOST__AUDIT_EVENT__AUDIT_REJECTED] = "rejected",
	[SEINPOST__AUDIT_EVENT__AUDIT_DELIVERED] = "delivered",
	[SEINPOST__AUDIT_EVENT__AUDIT_RELEASED] = "released",
	[SEINPOST__AUDIT_EVENT__AUDIT_READ] = "read",
	[SEINPOST__AUDIT_EVENT__AUDIT_MATCHED] = "matched",
	[SEINPOST__AUDIT_EVENT__AUDIT_ESCALATED] = "escalated",
	[SEINPOST__AUDIT_EVENT__AUDIT_EXPIRED] = "expired",
	[SEINPOST__AUDIT_EVENT__AUDIT_POLICY_LOADED] = "policy-loaded",
	[SEINPOST__AUDIT_EVENT__AUDIT_QUERY] = "audit-query",
	[SEINPOST__AUDIT_EVENT__AUDIT_KEY_ROTATED] = "key-rotated",
	[SEINPOST__AUDIT_EVENT__AUDIT_QUEUED] = "queued",
	[SEINPOST__AUDIT_EVENT__AUDIT_SENT] = "sent",
	[SEINPOST__AUDIT_EVENT__AUDIT_RECEIVED] = "received",
	[SEINPOST__AUDIT_EVENT__AUDIT_ROSTER_LOADED] = "roster-loaded",
	[SEINPOST__AUDIT_EVENT__AUDIT_ORG_ADDED] = "org-added",
	[SEINPOST__AUDIT_EVENT__AUDIT_ORG_REVOKED] = "org-revoked",
	[SEINPOST__AUDIT_EVENT__AUDIT_GRANTS_DROPPED] = "grants-dropped",
	[SEINPOST__AUDIT_EVENT__AUDIT_INVOLVED] = "involved",
	[SEINPOST__AUDIT_EVENT__AUDIT_UNINVOLVED] = "uninvolved",
	[SEINPOST__AUDIT_EVENT__AUDIT_ALIAS_LINKED] = "alias-linked",
	[SEINPOST__AUDIT_EVENT__AUDIT_MALFORMED] = "malformed",
	[SEINPOST__AUDIT_EVENT__AUDIT_CLOCK_STEP] = "clock-step",
	[SEINPOST__AUDIT_EVENT__AUDIT_REFERRAL_STATUS] = "referral-status",
	[SEINPOST__AUDIT_EVENT__AUDIT_REFERRAL_MOVED] = "referral-moved",
	[SEINPOST__AUDIT_EVENT__AUDIT_WITHDRAWN] = "withdrawn",
	[SEINPOST__AUDIT_EVENT__AUDIT_WITHDRAWAL_DELIVERED] = "withdrawal-delivered",
	[SEINPOST__AUDIT_EVENT__AUDIT_QUARANTINED] = "quarantined",
	[SEINPOST__AUDIT_EVENT__AUDIT_OPRF_EVALUATED] = "oprf-evaluated",
	[SEINPOST__AUDIT_EVENT__AUDIT_OPRF_REFUSED] = "oprf-refused",
	[SEINPOST__AUDIT_EVENT__AUDIT_OPRF_ALARMS_ACKED] = "oprf-alarms-acknowledged",
	[SEINPOST__AUDIT_EVENT__AUDIT_PSEUDONYMS_TRANSLATED] = "pseudonyms-translated",
};
#define EVENT_COUNT ((int)(sizeof event_names / sizeof event_names[0]))

const char *sp_audit_event_name(int event)
{
	if (event < 0 || event >= EVENT_COUNT || !event_names[event])
		return "unknown";
	return event_names[event];
}

/* The chain link and the Merkle leaf: SHA-256(0x00 || record bytes). */
static void leaf_hash(uint8_t out[HASH_LEN], const void *p, size_t n)
{
	sp_merkle_leaf(p, n, out);
}

/* Text fields must stay valid UTF-8 or the record would not decode later. */
static int text_ok(const char *s)
{
	return !s || sp_text_ok(s, TEXT_MAX, 0);
}

static char *str_or_empty(const char *s)
{
	return (char *)(s ? s : "");
}

static ProtobufCBinaryData bin_or_empty(const uint8_t *p, size_t n)
{
	ProtobufCBinaryData b = { p ? n : 0, (uint8_t *)p };
	return b;
}

/* Reads the head; when it is missing, an empty log means seq 0. A head that
 * disagrees with the log's tail means the log was damaged or tampered with:
 * appending would paper over that, so refuse. */
static int head_load(sp_txn *t, uint64_t *seq, uint8_t hash[HASH_LEN])
{
	const void *hv, *lk, *lv;
	size_t hlen, lklen, lvlen;
	uint8_t h[HASH_LEN];
	int rc;

	*seq = 0;
	memset(hash, 0, HASH_LEN);
	rc = sp_store_get(t, SP_DB_META, HEAD_KEY, strlen(HEAD_KEY), &hv, &hlen);
	if (rc != SP_OK && rc != SP_ENOTFOUND)
		return rc;
	int have_head = rc == SP_OK;
	rc = sp_store_last(t, SP_DB_AUDIT, &lk, &lklen, &lv, &lvlen);
	if (rc != SP_OK && rc != SP_ENOTFOUND)
		return rc;
	int have_log = rc == SP_OK;

	if (!have_head && !have_log)
		return SP_OK;
	if (!have_head || !have_log || hlen != HEAD_LEN || lklen != 8)
		goto corrupt;
	*seq = sp_be64_get(hv);
	if (*seq != sp_be64_get(lk))
		goto corrupt;
	leaf_hash(h, lv, lvlen);
	if (sodium_memcmp(h, (const uint8_t *)hv + 8, HASH_LEN) != 0)
		goto corrupt;
	memcpy(hash, h, HASH_LEN);
	return SP_OK;
corrupt:
	sp_log(LOG_ERR, "audit", "audit head does not match the log; refusing to append (run verify)");
	return SP_ECORRUPT;
}

int sp_audit_append(sp_txn *t, const sp_audit_entry *e, uint64_t *seq_out)
{
	Seinpost__AuditRecord rec = SEINPOST__AUDIT_RECORD__INIT;
	uint8_t prev[HASH_LEN], head[HEAD_LEN], key[8];
	uint8_t *buf = NULL;
	uint64_t seq;
	size_t len;
	int rc;

	if (!t || !e)
		return SP_EINVAL;
	if (e->event <= SEINPOST__AUDIT_EVENT__AUDIT_NONE || e->event >= EVENT_COUNT || !event_names[e->event])
		return SP_EINVAL;
	if (!text_ok(e->actor) || !text_ok(e->user) || !text_ok(e->recipient) ||
	    !text_ok(e->category) || !text_ok(e->rule_id) || !text_ok(e->legal_basis) ||
	    !text_ok(e->reason) || !text_ok(e->unix_user))
		return SP_EINVAL;

	rc = head_load(t, &seq, prev);
	if (rc != SP_OK)
		goto out;
	seq++;

	rec.seq = seq;
	rec.time = e->time_ms ? e->time_ms : sp_now_ms();
	rec.event = (Seinpost__AuditEvent)e->event;
	rec.actor = str_or_empty(e->actor);
	rec.user = str_or_empty(e->user);
	rec.recipient = str_or_empty(e->recipient);
	rec.pseudonym = bin_or_empty(e->pseudonym, 32);
	rec.signal_id = bin_or_empty(e->signal_id, SP_ID_BYTES);
	rec.category = str_or_empty(e->category);
	rec.weight = e->weight;
	rec.tiers = e->tiers;
	rec.rule_id = str_or_empty(e->rule_id);
	rec.policy_hash = bin_or_empty(e->policy_hash, 32);
	rec.legal_basis = str_or_empty(e->legal_basis);
	rec.reason = str_or_empty(e->reason);
	rec.code = e->code;
	rec.prev_hash = bin_or_empty(prev, HASH_LEN);
	rec.event_time = e->event_time_ms;
	rec.unix_user = str_or_empty(e->unix_user);
	rec.count = e->count;

	len = seinpost__audit_record__get_packed_size(&rec);
	buf = malloc(len ? len : 1);
	if (!buf) {
		rc = SP_ENOMEM;
		goto out;
	}
	if (seinpost__audit_record__pack(&rec, buf) != len) {
		rc = SP_EINVAL;
		goto out;
	}
	sp_be64_put(key, seq);
	rc = sp_store_put(t, SP_DB_AUDIT, key, sizeof key, buf, len, SP_PUT_NOOVERWRITE);
	if (rc == SP_EEXIST)
		rc = SP_ECORRUPT; /* a record beyond the head: head_load missed it */
	if (rc != SP_OK)
		goto out;
	sp_be64_put(head, seq);
	leaf_hash(head + 8, buf, len);
	rc = sp_store_put(t, SP_DB_META, HEAD_KEY, strlen(HEAD_KEY), head, sizeof head, 0);
	if (rc != SP_OK)
		goto out;
	/* The Merkle tree and the indexes commit with the record they describe. */
	rc = sp_mtree_append_leaf(t, seq, head + 8);
	if (rc == SP_OK && e->pseudonym)
		rc = sp_mtree_index_put(t, SP_MTREE_BY_PSEUDO, e->pseudonym, 32, seq);
	if (rc == SP_OK && e->signal_id)
		rc = sp_mtree_index_put(t, SP_MTREE_BY_SIGNAL, e->signal_id, SP_ID_BYTES, seq);
	if (rc != SP_OK)
		goto out;
	if (seq_out)
		*seq_out = seq;
out:
	free(buf);
	return rc;
}

int sp_audit_size(sp_txn *t, uint64_t *size)
{
	const void *hv;
	size_t hlen;
	int rc;
	*size = 0;
	rc = sp_store_get(t, SP_DB_META, HEAD_KEY, strlen(HEAD_KEY), &hv, &hlen);
	if (rc == SP_ENOTFOUND)
		return SP_OK;
	if (rc != SP_OK)
		return rc;
	if (hlen != HEAD_LEN)
		return SP_ECORRUPT;
	*size = sp_be64_get(hv);
	return SP_OK;
}

/* ---- verification ------------------------------------------------------ */

struct vhead {
	uint64_t key_size, size, time;
	uint8_t root[32];
	int decodes, sig_ok;
};

struct verify {
	sp_txn *t;
	uint64_t expect;          /* next seq we should see */
	uint8_t prev[HASH_LEN];   /* hash of record expect-1 */
	int have_head;
	uint64_t head_seq;
	uint8_t head_hash[HASH_LEN];
	uint64_t count;
	uint64_t bad;
	char *why;
	size_t whylen;
	/* signed tree heads, in size order, checked as the walk reaches them */
	sp_merkle_frontier tree;
	struct vhead *heads;
	size_t nheads, cap, next_head;
	uint64_t bad_head;
	int check_sigs;
	const uint8_t *const *sign_pks; /* any of them (broker key rotation) */
	size_t nkeys;
	/* Decoding a million records: a bump arena instead of malloc/free per
	 * field (reset per record; larger records fall back to malloc). */
	ProtobufCAllocator arena;
	size_t arena_used;
	/* clock steps (warnings, not failures) */
	sp_audit_verify_result *res;
	uint64_t last_time;       /* time of the previous record */
	uint64_t back_seq;        /* a record older than its predecessor, not yet explained */
	int64_t back_ms;
	uint32_t since_back;      /* records since then */
	_Alignas(16) uint8_t arena_buf[8192];
};

static void *arena_alloc(void *ctx, size_t n)
{
	struct verify *v = ctx;
	size_t need = (n + 15) & ~(size_t)15;
	if (need <= sizeof v->arena_buf - v->arena_used) {
		void *p = v->arena_buf + v->arena_used;
		v->arena_used += need;
		return p;
	}
	return malloc(n);
}

static void arena_free(void *ctx, void *p)
{
	struct verify *v = ctx;
	if ((uint8_t *)p < v->arena_buf || (uint8_t *)p >= v->arena_buf + sizeof v->arena_buf)
		free(p);
}

static int fail(struct verify *v, uint64_t bad, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct verify *v, uint64_t bad, const char *fmt, ...)
{
	va_list ap;
	v->bad = bad;
	if (v->why && v->whylen) {
		va_start(ap, fmt);
		vsnprintf(v->why, v->whylen, fmt, ap);
		va_end(ap);
	}
	return SP_ECORRUPT;
}

/* Does the successor of record seq (the next record, or the head when seq is
 * the last) still vouch for bytes hashing to h? Used to tell which side of a
 * broken link was altered. */
static int successor_vouches(struct verify *v, uint64_t seq, const uint8_t h[HASH_LEN])
{
	uint8_t key[8];
	const void *nv;
	size_t nlen;
	Seinpost__AuditRecord *next;
	int ok = 0;

	sp_be64_put(key, seq + 1);
	if (sp_store_get(v->t, SP_DB_AUDIT, key, sizeof key, &nv, &nlen) != SP_OK)
		return v->have_head && v->head_seq == seq &&
		       sodium_memcmp(v->head_hash, h, HASH_LEN) == 0;
	next = seinpost__audit_record__unpack(NULL, nlen, nv);
	if (next && next->seq == seq + 1 && next->prev_hash.len == HASH_LEN &&
	    sodium_memcmp(next->prev_hash.data, h, HASH_LEN) == 0)
		ok = 1;
	seinpost__audit_record__free_unpacked(next, NULL);
	return ok;
}

static void warn(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct verify *v, const char *fmt, ...)
{
	va_list ap;
	if (!v->res)
		return;
	if (v->res->nwarn < SP_AUDIT_WARN_MAX) {
		va_start(ap, fmt);
		vsnprintf(v->res->warn[v->res->nwarn], sizeof v->res->warn[0], fmt, ap);
		va_end(ap);
	}
	v->res->nwarn++;
}

/* A record older than the one before it means the broker's clock stepped
 * back; when the broker noticed (a clock-step record follows within a few
 * records) that record is the warning, else this one. */
#define BACK_EXPLAINED_WITHIN 64

static void back_flush(struct verify *v)
{
	char when[SP_ISO_TIME];
	if (!v->back_seq)
		return;
	warn(v, "record %llu is %lld s older than the record before it (%s): the broker's clock stepped back",
	     (unsigned long long)v->back_seq, (long long)(v->back_ms / 1000),
	     sp_iso_time(v->last_time, when, sizeof when));
	v->back_seq = 0;
}

static void clock_check(struct verify *v, const Seinpost__AuditRecord *rec)
{
	char when[SP_ISO_TIME];
	if (rec->event == SEINPOST__AUDIT_EVENT__AUDIT_CLOCK_STEP) {
		if (rec->code < 0)
			v->back_seq = 0; /* explained by this record */
		warn(v, "record %llu (%s): the broker's wall clock stepped %+d s; tree heads kept their order",
		     (unsigned long long)rec->seq, sp_iso_time(rec->time, when, sizeof when), rec->code);
	} else if (v->last_time && rec->time + 1000 < v->last_time && !v->back_seq) {
		v->back_seq = rec->seq;
		v->back_ms = (int64_t)v->last_time - (int64_t)rec->time;
		v->since_back = 0;
	} else if (v->back_seq && ++v->since_back > BACK_EXPLAINED_WITHIN) {
		back_flush(v);
	}
	v->last_time = rec->time;
}

static int verify_one(struct verify *v, const void *k, size_t klen, const void *val, size_t vlen,
                      const uint8_t h[HASH_LEN], const uint8_t *root_here)
{
	Seinpost__AuditRecord *rec = NULL;
	uint64_t seq;
	int rc = SP_OK;

	if (klen != 8) {
		rc = fail(v, v->expect, "record %llu: unexpected key of %zu bytes in the log",
		          (unsigned long long)v->expect, klen);
		goto out;
	}
	seq = sp_be64_get(k);
	if (seq != v->expect) {
		if (v->expect == 1)
			rc = fail(v, 1, "record 1 missing (log starts at record %llu)",
			          (unsigned long long)seq);
		else
			rc = fail(v, v->expect, "record %llu missing (record %llu is followed by %llu)",
			          (unsigned long long)v->expect, (unsigned long long)(v->expect - 1),
			          (unsigned long long)seq);
		goto out;
	}
	v->arena_used = 0;
	rec = seinpost__audit_record__unpack(&v->arena, vlen, val);
	if (!rec) {
		rc = fail(v, seq, "record %llu: does not decode", (unsigned long long)seq);
		goto out;
	}
	if (rec->seq != seq) {
		rc = fail(v, seq, "record %llu: stored under seq %llu but says seq %llu (records moved)",
		          (unsigned long long)seq, (unsigned long long)seq,
		          (unsigned long long)rec->seq);
		goto out;
	}
	if (rec->prev_hash.len != HASH_LEN || memcmp(rec->prev_hash.data, v->prev, HASH_LEN) != 0) {
		/* The link seq-1 -> seq is broken: either record seq-1 changed
		 * after seq was written, or seq's own prev_hash changed. If the
		 * record after seq (or the head) still vouches for seq's bytes,
		 * seq is intact and the altered record is seq-1. */
		if (seq > 1 && successor_vouches(v, seq, h))
			rc = fail(v, seq - 1,
			          "record %llu: contents altered (its hash does not match the prev_hash in record %llu)",
			          (unsigned long long)(seq - 1), (unsigned long long)seq);
		else if (seq == 1)
			rc = fail(v, 1, "record 1: prev_hash is not all zeros");
		else
			rc = fail(v, seq, "record %llu: prev_hash does not match record %llu",
			          (unsigned long long)seq, (unsigned long long)(seq - 1));
		if (v->bad < seq)
			v->count--; /* record seq-1 was counted as checked */
		goto out;
	}
	memcpy(v->prev, h, HASH_LEN);
	v->expect = seq + 1;
	v->count++;
	clock_check(v, rec);
	{
		/* The tree itself is built where the leaves are hashed (the
		 * pipeline below); root_here is its root over records 1..seq when a
		 * head sits at seq (the walk is contiguous, so leaf count == seq). */
		while (v->next_head < v->nheads && v->heads[v->next_head].size == seq) {
			const struct vhead *hd = &v->heads[v->next_head];
			if (!root_here || memcmp(root_here, hd->root, 32) != 0) {
				/* Records before seq are vouched for by their successors
				 * already; record seq only by the next one (or the chain
				 * head). If that no longer vouches, the record changed. */
				if (!successor_vouches(v, seq, h)) {
					v->count--;
					rc = fail(v, seq, "record %llu: contents altered (no longer matches the next record's prev_hash nor the signed tree head of size %llu)",
					          (unsigned long long)seq, (unsigned long long)hd->size);
					goto out;
				}
				v->bad_head = hd->size;
				rc = fail(v, 0, "tree head of size %llu: its root does not match records 1..%llu (head replaced or records rewritten)",
				          (unsigned long long)hd->size, (unsigned long long)seq);
				goto out;
			}
			v->next_head++;
		}
	}
out:
	if (rec)
		seinpost__audit_record__free_unpacked(rec, &v->arena);
	return rc;
}

/*
 * Verify speed: the leaf hash (SHA-256 of every record) is most of the work
 * and independent per record, while the checks are sequential. A worker
 * thread hashes chunk n+1 while this thread checks chunk n in order. The
 * record pointers stay valid for the whole read transaction (LMDB maps the
 * file; a read transaction's pages do not change under it).
 */
#define CHUNK 4096

struct chunk {
	size_t n;
	const void *k[CHUNK], *val[CHUNK];
	size_t klen[CHUNK], vlen[CHUNK];
	uint8_t h[CHUNK][HASH_LEN];
	uint8_t root[CHUNK][HASH_LEN]; /* tree root after record i, when has_root[i] */
	uint8_t has_root[CHUNK];
};

struct pipeline {
	struct verify *v;
	struct chunk c[2];
	int fill;                 /* chunk being filled by the walk */
	int busy;                 /* the worker holds chunk `hashing` */
	int hashing, quit, threaded;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int rc;
	uint64_t leaves;          /* hashing thread: leaves pushed so far */
	size_t wnext;             /* hashing thread: next head to take a root for */
};

/* Leaf hashes and the tree, in record order (chunks are hashed in order).
 * The root is taken wherever a signed head sits; the checking thread
 * compares it. Only the hashing thread touches the frontier and wnext. */
static void chunk_hash(struct pipeline *p, struct chunk *c)
{
	struct verify *v = p->v;
	for (size_t i = 0; i < c->n; i++) {
		leaf_hash(c->h[i], c->val[i], c->vlen[i]);
		sp_merkle_frontier_push(&v->tree, c->h[i]);
		p->leaves++;
		c->has_root[i] = 0;
		while (p->wnext < v->nheads && v->heads[p->wnext].size < p->leaves)
			p->wnext++;
		if (p->wnext < v->nheads && v->heads[p->wnext].size == p->leaves) {
			sp_merkle_frontier_root(&v->tree, c->root[i]);
			c->has_root[i] = 1;
		}
	}
}

static void *hash_worker(void *arg)
{
	struct pipeline *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->busy && !p->quit)
			pthread_cond_wait(&p->cv, &p->mu);
		if (!p->busy)
			break;
		struct chunk *c = &p->c[p->hashing];
		pthread_mutex_unlock(&p->mu);
		chunk_hash(p, c);
		pthread_mutex_lock(&p->mu);
		p->busy = 0;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Wait until the worker has hashed its chunk; then check it in order. */
static int pipeline_drain(struct pipeline *p)
{
	struct chunk *c;
	int rc = SP_OK;
	if (p->threaded) {
		pthread_mutex_lock(&p->mu);
		while (p->busy)
			pthread_cond_wait(&p->cv, &p->mu);
		pthread_mutex_unlock(&p->mu);
	}
	c = &p->c[p->hashing];
	for (size_t i = 0; i < c->n && rc == SP_OK; i++)
		rc = verify_one(p->v, c->k[i], c->klen[i], c->val[i], c->vlen[i], c->h[i],
			                c->has_root[i] ? c->root[i] : NULL);
	c->n = 0;
	return rc;
}

/* Hand the filled chunk to the worker, then check the one it hashed before. */
static int pipeline_flip(struct pipeline *p)
{
	int prev = p->hashing, had = p->c[prev].n > 0 && prev != p->fill, rc = SP_OK;
	if (p->threaded) {
		pthread_mutex_lock(&p->mu);
		while (p->busy)
			pthread_cond_wait(&p->cv, &p->mu);
		p->hashing = p->fill;
		p->busy = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	} else {
		p->hashing = p->fill;
		chunk_hash(p, &p->c[p->fill]);
	}
	p->fill ^= 1;
	if (had) {
		/* check the chunk hashed in the previous round (already done) */
		struct chunk *c = &p->c[prev];
		for (size_t i = 0; i < c->n && rc == SP_OK; i++)
			rc = verify_one(p->v, c->k[i], c->klen[i], c->val[i], c->vlen[i], c->h[i],
			                c->has_root[i] ? c->root[i] : NULL);
		c->n = 0;
	}
	return rc;
}

static int pipeline_visit(void *ctx, const void *k, size_t klen, const void *val, size_t vlen)
{
	struct pipeline *p = ctx;
	struct chunk *c = &p->c[p->fill];
	c->k[c->n] = k;
	c->klen[c->n] = klen;
	c->val[c->n] = val;
	c->vlen[c->n] = vlen;
	if (++c->n < CHUNK)
		return 0;
	return pipeline_flip(p);
}

/* Walk the whole log through the pipeline; SP_OK or the first fault. */
static int verify_records(struct verify *v, sp_txn *t)
{
	struct pipeline *p = calloc(1, sizeof *p);
	int rc;
	if (!p)
		return SP_ENOMEM;
	p->v = v;
	p->hashing = 1; /* nothing handed over yet */
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->threaded = sysconf(_SC_NPROCESSORS_ONLN) > 1 && pthread_create(&p->th, NULL, hash_worker, p) == 0;
	rc = sp_store_foreach(t, SP_DB_AUDIT, NULL, 0, pipeline_visit, p);
	if (rc == SP_OK) {
		/* the chunk in the worker (checked by the flip), then the rest */
		if (p->c[p->fill].n)
			rc = pipeline_flip(p);
		else if (p->c[p->hashing].n)
			rc = SP_OK;
		if (rc == SP_OK && p->c[p->hashing].n)
			rc = pipeline_drain(p);
	}
	if (p->threaded) {
		pthread_mutex_lock(&p->mu);
		while (p->busy)
			pthread_cond_wait(&p->cv, &p->mu);
		p->quit = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->th, NULL);
	}
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
	return rc;
}

static int head_load_one(void *ctx, uint64_t key_size, const Seinpost__SignedTreeHead *h)
{
	struct verify *v = ctx;
	struct vhead *hd;
	if (v->nheads == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct vhead *n = realloc(v->heads, cap * sizeof *n);
		if (!n)
			return SP_ENOMEM;
		v->heads = n;
		v->cap = cap;
	}
	hd = &v->heads[v->nheads++];
	memset(hd, 0, sizeof *hd);
	hd->key_size = key_size;
	if (!h || h->root_hash.len != 32)
		return 0;
	hd->decodes = 1;
	hd->size = h->tree_size;
	hd->time = h->timestamp;
	memcpy(hd->root, h->root_hash.data, 32);
	hd->sig_ok = !v->check_sigs;
	for (size_t i = 0; !hd->sig_ok && i < v->nkeys; i++)
		hd->sig_ok = sp_sth_verify(h, v->sign_pks[i]) == SP_OK;
	return 0;
}

/* Heads on their own, before the walk: each decodes, sits under its own
 * size, carries the broker's signature, and is provably consistent with
 * the head before it (RFC 9162 proof from the stored tree). */
static int heads_check(struct verify *v, sp_txn *t)
{
	sp_merkle_hash proof[SP_MERKLE_MAX_PROOF];
	size_t n;
	for (size_t i = 0; i < v->nheads; i++) {
		const struct vhead *hd = &v->heads[i], *prev = i ? &v->heads[i - 1] : NULL;
		v->bad_head = hd->key_size;
		if (!hd->decodes || hd->size != hd->key_size)
			return fail(v, 0, "tree head of size %llu: malformed or stored under another size",
			            (unsigned long long)hd->key_size);
		if (!hd->sig_ok)
			return fail(v, 0, "tree head of size %llu: signature is not the broker's (head replaced)",
			            (unsigned long long)hd->size);
		if (prev && (sp_mtree_consistency(t, prev->size, hd->size, proof, &n) != SP_OK ||
		             sp_merkle_consistency_verify(prev->size, hd->size, prev->root, hd->root,
		                                          proof, n) != SP_OK))
			return fail(v, 0, "tree head of size %llu: not consistent with the head of size %llu (history rewritten)",
			            (unsigned long long)hd->size, (unsigned long long)prev->size);
		if (prev && hd->time < prev->time)
			return fail(v, 0, "tree head of size %llu: signed before the head of size %llu",
			            (unsigned long long)hd->size, (unsigned long long)prev->size);
	}
	v->bad_head = 0;
	return SP_OK;
}

int sp_audit_verify_full(sp_store *s, const uint8_t *sign_pk, sp_audit_verify_result *r)
{
	const uint8_t *k[1] = { sign_pk };
	return sp_audit_verify_keys(s, k, sign_pk ? 1 : 0, r);
}

int sp_audit_verify_keys(sp_store *s, const uint8_t *const *sign_pks, size_t nkeys, sp_audit_verify_result *r)
{
	struct verify v;
	sp_txn *t = NULL;
	const void *hv;
	size_t hlen;
	uint64_t last;
	int rc;

	memset(&v, 0, sizeof v);
	v.expect = 1;
	v.arena.alloc = arena_alloc;
	v.arena.free = arena_free;
	v.arena.allocator_data = &v;
	if (!s || !r)
		return SP_EINVAL;
	memset(r, 0, sizeof *r);
	v.why = r->why;
	v.whylen = sizeof r->why;
	v.sign_pks = sign_pks;
	v.nkeys = nkeys;
	v.check_sigs = nkeys > 0;
	v.res = r;
	sp_merkle_frontier_init(&v.tree);

	/* One read transaction: a consistent snapshot while the daemon writes. */
	rc = sp_txn_begin(s, 0, &t);
	if (rc != SP_OK)
		goto out;
	v.t = t;
	rc = sp_store_get(t, SP_DB_META, HEAD_KEY, strlen(HEAD_KEY), &hv, &hlen);
	if (rc == SP_OK) {
		if (hlen != HEAD_LEN) {
			rc = fail(&v, 0, "audit head malformed (%zu bytes, expected %d)",
			          hlen, HEAD_LEN);
			goto out;
		}
		v.have_head = 1;
		v.head_seq = sp_be64_get(hv);
		memcpy(v.head_hash, (const uint8_t *)hv + 8, HASH_LEN);
	} else if (rc != SP_ENOTFOUND) {
		goto out;
	}
	rc = sp_sth_foreach(t, head_load_one, &v);
	if (rc != SP_OK)
		goto out;
	rc = heads_check(&v, t);
	if (rc != SP_OK)
		goto out;

	rc = verify_records(&v, t);
	if (rc != SP_OK)
		goto out;
	back_flush(&v);

	last = v.expect - 1;
	if (v.next_head < v.nheads) {
		v.bad_head = v.heads[v.next_head].size;
		rc = fail(&v, last + 1, "tree head of size %llu signed, but the log has only %llu records (truncated)",
		          (unsigned long long)v.heads[v.next_head].size, (unsigned long long)last);
		goto out;
	}
	if (!v.have_head) {
		if (last > 0)
			rc = fail(&v, 0, "audit head missing but the log holds %llu records (head deleted or log rewritten)",
			          (unsigned long long)last);
		goto out;
	}
	if (v.head_seq > last) {
		rc = fail(&v, last + 1, "head says %llu records, log has %llu (truncated)",
		          (unsigned long long)v.head_seq, (unsigned long long)last);
		goto out;
	}
	if (v.head_seq < last) {
		rc = fail(&v, v.head_seq + 1, "head says %llu records, log has %llu (records after the head)",
		          (unsigned long long)v.head_seq, (unsigned long long)last);
		goto out;
	}
	if (sodium_memcmp(v.head_hash, v.prev, HASH_LEN) != 0) {
		if (last > 0)
			v.count--;
		rc = fail(&v, last, "record %llu: hash does not match the audit head (last record altered)",
		          (unsigned long long)last);
		goto out;
	}
	if (last > 0) {
		sp_merkle_frontier_root(&v.tree, r->root);
		r->size = last;
	}
out:
	sp_txn_abort(&t);
	r->records = v.count;
	r->heads = v.next_head;
	r->bad_seq = v.bad;
	r->bad_head = v.bad_head;
	free(v.heads);
	if (rc == SP_ECORRUPT)
		sp_log(LOG_ERR, "audit", "audit log verification failed at %s %llu",
		       v.bad_head ? "tree head of size" : "record",
		       (unsigned long long)(v.bad_head ? v.bad_head : v.bad));
	return rc;
}

int sp_audit_verify(sp_store *s, uint64_t *count, uint64_t *bad_seq,
                    char *why, size_t whylen)
{
	sp_audit_verify_result r;
	int rc = sp_audit_verify_full(s, NULL, &r);
	if (count)
		*count = rc == SP_EINVAL ? 0 : r.records;
	if (bad_seq)
		*bad_seq = rc == SP_EINVAL ? 0 : r.bad_seq;
	if (why && whylen)
		snprintf(why, whylen, "%s", rc == SP_EINVAL ? "" : r.why);
	return rc;
}

int sp_audit_foreach(sp_store *s, uint64_t from, sp_audit_visit_fn fn, void *ctx)
{
	Seinpost__AuditRecord *rec = NULL;
	sp_txn *t = NULL;
	uint8_t key[8];
	const void *val;
	size_t vlen;
	int rc;

	if (!s || !fn)
		return SP_EINVAL;
	rc = sp_txn_begin(s, 0, &t);
	if (rc != SP_OK)
		goto out;
	/* Point lookups by seq rather than a full scan, so a query from a late
	 * seq does not read the whole log. The log is contiguous; the first
	 * missing seq ends the walk. */
	for (uint64_t seq = from ? from : 1;; seq++) {
		sp_be64_put(key, seq);
		rc = sp_store_get(t, SP_DB_AUDIT, key, sizeof key, &val, &vlen);
		if (rc == SP_ENOTFOUND) {
			rc = SP_OK;
			break;
		}
		if (rc != SP_OK)
			goto out;
		rec = seinpost__audit_record__unpack(NULL, vlen, val);
		if (!rec) {
			rc = SP_ECORRUPT;
			goto out;
		}
		rc = fn(ctx, rec);
		seinpost__audit_record__free_unpacked(rec, NULL);
		rec = NULL;
		if (rc != 0)
			goto out;
	}
out:
	sp_txn_abort(&t);
	return rc;
}

int sp_audit_get(sp_txn *t, uint64_t seq, Seinpost__AuditRecord **out)
{
	uint8_t key[8];
	const void *val;
	size_t vlen;
	int rc;
	*out = NULL;
	sp_be64_put(key, seq);
	if ((rc = sp_store_get(t, SP_DB_AUDIT, key, sizeof key, &val, &vlen)) != SP_OK)
		return rc;
	*out = seinpost__audit_record__unpack(NULL, vlen, val);
	return *out ? SP_OK : SP_ECORRUPT;
}
