/*
 * sp_auditsrv.c — broker side of the audit protocol (sp_auditsrv.h).
 *
 * Queries: only an organisation of role privacy-officer may query, and
 * every query — refused ones too — is itself an AUDIT_QUERY record holding
 * its parameters (a pseudonym at most, never a BSN: the broker never sees
 * one). Before answering, a fresh tree head is signed so that every record
 * returned, including the query's own, comes with an inclusion proof.
 */
#include "sp_auditsrv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_audit.h"
#include "sp_feedback.h"
#include "sp_log.h"
#include "sp_merkle.h"
#include "sp_mtree.h"
#include "sp_reads.h"
#include "sp_sth.h"
#include "sp_translate.h"
#include "sp_util.h"
#include "sp_wire.h"

#define C "audit"
#define QUERY_MAX_RECORDS 20000
#define FETCH_MAX_RECORDS 2048

int sp_auditsrv_owns(const Seinpost__Frame *f)
{
	return f && (f->body_case == SEINPOST__FRAME__BODY_AUDIT_PROOF_REQUEST ||
	             f->body_case == SEINPOST__FRAME__BODY_READ_RECEIPT ||
	             f->body_case == SEINPOST__FRAME__BODY_AUDIT_QUERY ||
	             f->body_case == SEINPOST__FRAME__BODY_AUDIT_FETCH ||
	             f->body_case == SEINPOST__FRAME__BODY_FEEDBACK_REQUEST);
}

static int pack_frame(Seinpost__Frame *f, uint8_t **reply, size_t *len)
{
	f->version = SP_WIRE_VERSION;
	return sp_wire_pack(&f->base, reply, len);
}

/* Proof hashes as protobuf bytes pointing into proof[]. */
static ProtobufCBinaryData *proof_bytes(sp_merkle_hash *proof, size_t n)
{
	ProtobufCBinaryData *b = calloc(n ? n : 1, sizeof *b);
	for (size_t i = 0; b && i < n; i++)
		b[i] = (ProtobufCBinaryData){ 32, proof[i] };
	return b;
}

static int serve_proof(sp_txn *t, const Seinpost__AuditProofRequest *q, uint8_t **reply, size_t *len)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__AuditProof p = SEINPOST__AUDIT_PROOF__INIT;
	Seinpost__SignedTreeHead *h = NULL;
	sp_merkle_hash proof[SP_MERKLE_MAX_PROOF];
	ProtobufCBinaryData *pb = NULL;
	size_t n = 0;
	int rc = sp_sth_latest(t, &h);

	if (rc == SP_ENOTFOUND)
		return SP_OK; /* nothing signed yet */
	if (rc != SP_OK)
		return rc;
	p.from_size = q->from_size;
	p.sth = h;
	/* A node claiming a head larger than ours gets our head without a
	 * proof: it will see the shrink itself. */
	if (q->from_size > 0 && q->from_size < h->tree_size) {
		rc = sp_mtree_consistency(t, q->from_size, h->tree_size, proof, &n);
		if (rc != SP_OK)
			goto out;
		pb = proof_bytes(proof, n);
		if (!pb) {
			rc = SP_ENOMEM;
			goto out;
		}
		p.consistency = pb;
		p.n_consistency = n;
	}
	f.body_case = SEINPOST__FRAME__BODY_AUDIT_PROOF;
	f.audit_proof = &p;
	rc = pack_frame(&f, reply, len);
out:
	free(pb);
	seinpost__signed_tree_head__free_unpacked(h, NULL);
	return rc;
}

static int serve_read(const sp_auditsrv *s, sp_txn *t, const char *org,
                      const Seinpost__ReadReceipt *r, uint8_t **reply, size_t *len)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__ReadAck a = SEINPOST__READ_ACK__INIT;
	Seinpost__SignedTreeHead *h = NULL;
	uint8_t id[16];
	int rc = sp_reads_accept(t, s->roster, org, r, id);
	if (rc == SP_ESIG || rc == SP_EMALFORMED || rc == SP_ESENDER) {
		sp_log_event(LOG_WARNING, C, org, NULL, "read receipt refused: %s", sp_strerror(rc));
		return SP_OK; /* not acknowledged: it stays visible at the node */
	}
	if (rc != SP_OK)
		return rc;
	if (sp_sth_latest(t, &h) != SP_OK)
		h = NULL; /* no head yet: the ack carries none */
	a.id = (ProtobufCBinaryData){ 16, id };
	a.sth = h;
	f.body_case = SEINPOST__FRAME__BODY_READ_ACK;
	f.read_ack = &a;
	rc = pack_frame(&f, reply, len);
	if (h)
		seinpost__signed_tree_head__free_unpacked(h, NULL);
	return rc;
}

/* ---- queries ------------------------------------------------------------ */

struct collect {
	sp_txn *t;
	const Seinpost__AuditQuery *q;
	ProtobufCBinaryData *recs;
	uint64_t *seqs;
	size_t n, cap, bytes, budget;
	uint64_t next_seq;
	int rc;
};

static int matches(const Seinpost__AuditQuery *q, const Seinpost__AuditRecord *r)
{
	if (q->since && r->time < q->since)
		return 0;
	if (q->until && r->time > q->until)
		return 0;
	if (q->org[0] && strcmp(r->actor, q->org) != 0 && strcmp(r->recipient, q->org) != 0)
		return 0;
	if (q->signal_id.len == 16 &&
	    (r->signal_id.len != 16 || memcmp(r->signal_id.data, q->signal_id.data, 16) != 0))
		return 0;
	if (q->pseudonym.len == 32 &&
	    (r->pseudonym.len != 32 || memcmp(r->pseudonym.data, q->pseudonym.data, 32) != 0))
		return 0;
	return 1;
}

/* Add record seq when it matches; stop (1) when the answer is full. */
static int collect_seq(void *ctx, uint64_t seq)
{
	struct collect *c = ctx;
	Seinpost__AuditRecord *r;
	uint8_t key[8];
	const void *v;
	size_t vl;
	int m;

	if (seq < c->q->from_seq)
		return 0;
	sp_be64_put(key, seq);
	c->rc = sp_store_get(c->t, SP_DB_AUDIT, key, 8, &v, &vl);
	if (c->rc != SP_OK)
		return 1;
	r = seinpost__audit_record__unpack(NULL, vl, v);
	if (!r) {
		c->rc = SP_ECORRUPT;
		return 1;
	}
	m = matches(c->q, r);
	seinpost__audit_record__free_unpacked(r, NULL);
	if (!m)
		return 0;
	if (c->n >= QUERY_MAX_RECORDS || c->bytes + vl + 64 > c->budget) {
		c->next_seq = seq;
		return 1;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		ProtobufCBinaryData *nr = realloc(c->recs, cap * sizeof *nr);
		uint64_t *ns = nr ? realloc(c->seqs, cap * sizeof *ns) : NULL;
		if (nr)
			c->recs = nr;
		if (!nr || !ns) {
			c->rc = SP_ENOMEM;
			return 1;
		}
		c->seqs = ns;
		c->cap = cap;
	}
	/* Borrowed from LMDB: valid until the batch transaction ends, and the
	 * reply is packed before that. */
	c->recs[c->n] = (ProtobufCBinaryData){ vl, (uint8_t *)v };
	c->seqs[c->n] = seq;
	c->n++;
	c->bytes += vl + 64;
	return 0;
}

static void describe(const Seinpost__AuditQuery *q, char *out, size_t len)
{
	char sid[SP_ID_HEX] = "";
	if (q->signal_id.len == 16)
		sp_hex(q->signal_id.data, 16, sid);
	snprintf(out, len, "%s since=%llu until=%llu org=%s signal=%s from=%llu",
	         q->kind == SEINPOST__AUDIT_QUERY_KIND__AUDIT_QUERY_WHO_SAW ? "who-saw" : "log",
	         (unsigned long long)q->since, (unsigned long long)q->until,
	         q->org[0] ? q->org : "-", sid[0] ? sid : "-", (unsigned long long)q->from_seq);
}

#define EARLIER_MAX 64 /* key epochs a who-saw answer maps back */

static int serve_query(const sp_auditsrv *s, sp_txn *t, const char *org,
                       const Seinpost__AuditQuery *q, uint8_t **reply, size_t *len)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__AuditQueryResult res = SEINPOST__AUDIT_QUERY_RESULT__INIT;
	Seinpost__SignedTreeHead *h = NULL;
	Seinpost__AuditInclusion *incl = NULL, **inclp = NULL;
	ProtobufCBinaryData *pbytes = NULL;
	sp_merkle_hash *proofs = NULL;
	struct collect c = { .t = t, .q = q };
	uint8_t eps[EARLIER_MAX][32], eproofs[EARLIER_MAX][64];
	Seinpost__EarlierPseudonym ee[EARLIER_MAX], *eep[EARLIER_MAX];
	const sp_org *o = sp_roster_find(s->roster, org);
	int allowed = o && strcmp(o->role, "privacy-officer") == 0;
	char desc[256];
	uint64_t qseq = 0;
	int rc;

	describe(q, desc, sizeof desc);
	{
		sp_audit_entry e = {
			.event = SEINPOST__AUDIT_EVENT__AUDIT_QUERY,
			.actor = org,
			.pseudonym = q->pseudonym.len == 32 ? q->pseudonym.data : NULL,
			.signal_id = q->signal_id.len == 16 ? q->signal_id.data : NULL,
			.reason = desc,
			.code = allowed ? 0 : SP_EROLE,
		};
		if ((rc = sp_audit_append(t, &e, &qseq)) != SP_OK)
			return rc;
	}
	res.id = q->id;
	res.query_seq = qseq;
	if (!allowed) {
		sp_log_event(LOG_WARNING, C, org, NULL, "audit query refused: not a privacy officer");
		res.code = SP_EROLE;
		res.message = "only the privacy officer's node may query the audit log";
		goto reply;
	}
	sp_log_event(LOG_NOTICE, C, org, NULL, "audit query (%s)",
	             q->kind == SEINPOST__AUDIT_QUERY_KIND__AUDIT_QUERY_WHO_SAW ? "who-saw" : "log");
	/* Cover everything up to and including this query with a signed head. */
	if ((rc = sp_sth_maybe_sign(t, s->sign_sk, 1, 0, 1, NULL)) != SP_OK)
		goto out;
	if ((rc = sp_sth_latest(t, &h)) != SP_OK)
		goto out;
	c.budget = s->max_frame > 8192 ? s->max_frame / 2 : 4096;
	if (q->pseudonym.len == 32)
		rc = sp_mtree_index_foreach(t, SP_MTREE_BY_PSEUDO, q->pseudonym.data, 32, collect_seq, &c);
	else if (q->signal_id.len == 16)
		rc = sp_mtree_index_foreach(t, SP_MTREE_BY_SIGNAL, q->signal_id.data, 16, collect_seq, &c);
	else
		for (uint64_t seq = q->from_seq ? q->from_seq : 1; seq <= h->tree_size; seq++)
			if (collect_seq(&c, seq))
				break;
	if (rc < 0 || c.rc != SP_OK) {
		rc = rc < 0 ? rc : c.rc;
		goto out;
	}
	res.records = c.recs;
	res.n_records = c.n;
	res.next_seq = c.next_seq;
	if (q->kind == SEINPOST__AUDIT_QUERY_KIND__AUDIT_QUERY_WHO_SAW && q->pseudonym.len == 32 && !q->from_seq &&
	    sp_translate_epoch()) {
		/* after a key rotation: the subject's pseudonym under every
		 * earlier epoch, proven against the roster's d (sp_translate.h) */
		size_t ne = sp_translate_earlier(q->pseudonym.data, eps, eproofs, EARLIER_MAX);
		for (size_t i = 0; i < ne; i++) {
			seinpost__earlier_pseudonym__init(&ee[i]);
			ee[i].epoch = sp_translate_epoch() - 1 - (uint32_t)i;
			ee[i].pseudonym = (ProtobufCBinaryData){ 32, eps[i] };
			ee[i].proof = (ProtobufCBinaryData){ 64, eproofs[i] };
			eep[i] = &ee[i];
		}
		res.earlier = eep;
		res.n_earlier = ne;
	}
	if (q->kind == SEINPOST__AUDIT_QUERY_KIND__AUDIT_QUERY_WHO_SAW && c.n) {
		/* Inclusion proofs: the privacy officer need not trust this answer,
		 * only the broker's signature on the head. */
		incl = calloc(c.n, sizeof *incl);
		inclp = calloc(c.n, sizeof *inclp);
		proofs = calloc(c.n * 64, sizeof *proofs);
		pbytes = calloc(c.n * 64, sizeof *pbytes);
		if (!incl || !inclp || !proofs || !pbytes) {
			rc = SP_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < c.n; i++) {
			size_t n = 0;
			seinpost__audit_inclusion__init(&incl[i]);
			rc = sp_mtree_inclusion(t, c.seqs[i] - 1, h->tree_size, proofs + i * 64, &n);
			if (rc != SP_OK || n > 64) {
				rc = rc != SP_OK ? rc : SP_ESIZE;
				goto out;
			}
			for (size_t j = 0; j < n; j++)
				pbytes[i * 64 + j] = (ProtobufCBinaryData){ 32, proofs[i * 64 + j] };
			incl[i].hashes = pbytes + i * 64;
			incl[i].n_hashes = n;
			inclp[i] = &incl[i];
		}
		res.proofs = inclp;
		res.n_proofs = c.n;
	}
	res.sth = h;
	res.message = "";
reply:
	f.body_case = SEINPOST__FRAME__BODY_AUDIT_RESULT;
	f.audit_result = &res;
	rc = pack_frame(&f, reply, len);
out:
	free(incl);
	free(inclp);
	free(proofs);
	free(pbytes);
	free(c.recs);
	free(c.seqs);
	if (h)
		seinpost__signed_tree_head__free_unpacked(h, NULL);
	return rc;
}

/* The privacy officer's copy (docs/audit.md): every record from from_seq,
 * up to the latest signed head, which is signed now when the log grew. The
 * copy is not a query: it carries everything, so it tells nothing about
 * whom the privacy officer looks up, and is not audited per page. */
static int serve_fetch(const sp_auditsrv *s, sp_txn *t, const char *org, const Seinpost__AuditFetch *q,
                       uint8_t **reply, size_t *len)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__AuditFetchResult res = SEINPOST__AUDIT_FETCH_RESULT__INIT;
	Seinpost__SignedTreeHead *h = NULL;
	ProtobufCBinaryData *recs = NULL;
	const sp_org *o = sp_roster_find(s->roster, org);
	size_t max = q->max_records && q->max_records < FETCH_MAX_RECORDS ? q->max_records : FETCH_MAX_RECORDS;
	size_t budget = s->max_frame > 8192 ? s->max_frame / 2 : 4096, used = 0;
	int rc = SP_OK;

	res.from_seq = q->from_seq;
	if (!o || strcmp(o->role, "privacy-officer") != 0) {
		sp_log_event(LOG_WARNING, C, org, NULL, "audit log copy refused: not a privacy officer");
		res.code = SP_EROLE;
		goto reply;
	}
	if ((rc = sp_sth_maybe_sign(t, s->sign_sk, 1, 0, 1, NULL)) != SP_OK ||
	    (rc = sp_sth_latest(t, &h)) != SP_OK)
		goto out;
	if (!(recs = calloc(max, sizeof *recs))) {
		rc = SP_ENOMEM;
		goto out;
	}
	for (uint64_t seq = q->from_seq; seq <= h->tree_size && res.n_records < max; seq++) {
		uint8_t k[8];
		const void *v;
		size_t vl;
		sp_be64_put(k, seq);
		if ((rc = sp_store_get(t, SP_DB_AUDIT, k, 8, &v, &vl)) != SP_OK)
			goto out; /* a hole the head covers: the copy will say so */
		if (res.n_records && used + vl > budget)
			break;
		used += vl;
		recs[res.n_records++] = (ProtobufCBinaryData){ vl, (uint8_t *)v };
	}
	res.records = recs;
	res.sth = h;
reply:
	f.body_case = SEINPOST__FRAME__BODY_AUDIT_FETCH_RESULT;
	f.audit_fetch_result = &res;
	rc = pack_frame(&f, reply, len);
out:
	free(recs);
	if (h)
		seinpost__signed_tree_head__free_unpacked(h, NULL);
	return rc;
}

int sp_auditsrv_handle(const sp_auditsrv *s, sp_txn *t, const char *org, const Seinpost__Frame *f,
                       uint8_t **reply, size_t *len)
{
	*reply = NULL;
	*len = 0;
	if (!s || !t || !org || !f)
		return SP_EINVAL;
	switch (f->body_case) {
	case SEINPOST__FRAME__BODY_AUDIT_PROOF_REQUEST:
		return serve_proof(t, f->audit_proof_request, reply, len);
	case SEINPOST__FRAME__BODY_READ_RECEIPT:
		return serve_read(s, t, org, f->read_receipt, reply, len);
	case SEINPOST__FRAME__BODY_AUDIT_QUERY:
		return serve_query(s, t, org, f->audit_query, reply, len);
	case SEINPOST__FRAME__BODY_AUDIT_FETCH:
		return serve_fetch(s, t, org, f->audit_fetch, reply, len);
	case SEINPOST__FRAME__BODY_FEEDBACK_REQUEST:
		/* the same log, read for a signaller (sp_feedback.c) */
		return sp_feedback_serve(t, s->roster, s->policy, org, f->feedback_request, reply, len);
	default:
		return SP_EINVAL;
	}
}
