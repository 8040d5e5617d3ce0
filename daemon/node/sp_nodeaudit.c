/*
 * sp_nodeaudit.c — node side of the audit protocol (sp_nodeaudit.h).
 */
#include "sp_nodeaudit.h"

#include <string.h>
#include <sodium.h>

#include "sp_log.h"
#include "sp_monitor.h"
#include "sp_reads.h"
#include "sp_sth.h"
#include "sp_util.h"
#include "sp_witness.h"

#define C "node"

static void request_proof(sp_nodeaudit *a)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__AuditProofRequest q = SEINPOST__AUDIT_PROOF_REQUEST__INIT;
	sp_txn *t = NULL;
	uint64_t size = 0;
	if (sp_txn_begin(a->store, 0, &t) != SP_OK)
		return;
	if (sp_witness_size(t, &size) != SP_OK)
		size = 0;
	sp_txn_abort(&t);
	q.from_size = size;
	f.body_case = SEINPOST__FRAME__BODY_AUDIT_PROOF_REQUEST;
	f.audit_proof_request = &q;
	(void)a->send(a->ctx, &f);
}

static int send_read(void *ctx, const Seinpost__ReadReceipt *r)
{
	sp_nodeaudit *a = ctx;
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	f.body_case = SEINPOST__FRAME__BODY_READ_RECEIPT;
	f.read_receipt = (Seinpost__ReadReceipt *)r;
	return a->send(a->ctx, &f) == SP_OK ? 0 : 1;
}

/* The privacy officer's copy: the next records after the ones it holds. */
static void request_copy(sp_nodeaudit *a)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__AuditFetch q = SEINPOST__AUDIT_FETCH__INIT;
	sp_txn *t = NULL;
	int rc = sp_txn_begin(a->store, 0, &t);
	if (rc == SP_OK)
		rc = sp_monitor_request(t, &q);
	sp_txn_abort(&t);
	if (rc != SP_OK)
		return; /* alarm raised: the copy stays as evidence */
	f.body_case = SEINPOST__FRAME__BODY_AUDIT_FETCH;
	f.audit_fetch = &q;
	(void)a->send(a->ctx, &f);
}

static void copy_in(sp_nodeaudit *a, const Seinpost__AuditFetchResult *r)
{
	sp_txn *t = NULL;
	int more = 0;
	const uint8_t *bk[SP_BROKER_KEYS_MAX], *pk;
	size_t nbk = sp_roster_broker_keys(a->roster, bk, SP_BROKER_KEYS_MAX);
	/* Any key of the broker's transition chain (key rotation); with none
	 * verifying, the current one, and the monitor raises its alarm. */
	pk = nbk ? bk[0] : sp_roster_broker_sign(a->roster);
	for (size_t i = 0; r->sth && i < nbk; i++)
		if (sp_sth_verify(r->sth, bk[i]) == SP_OK) {
			pk = bk[i];
			break;
		}
	int rc = sp_txn_begin(a->store, 1, &t);
	if (rc == SP_OK)
		rc = sp_monitor_ingest(t, pk, r, &more);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	if (rc != SP_OK)
		sp_log(LOG_ERR, C, "audit log copy not stored: %s", sp_strerror(rc));
	else if (more)
		request_copy(a);
}

void sp_nodeaudit_tick(sp_nodeaudit *a)
{
	sp_txn *t = NULL;
	request_proof(a);
	if (a->monitor)
		request_copy(a);
	if (sp_txn_begin(a->store, 0, &t) != SP_OK)
		return;
	(void)sp_reads_foreach(t, send_read, a);
	sp_txn_abort(&t);
}

/* Run one witness step in its own write transaction. */
static void witness(sp_nodeaudit *a, const Seinpost__SignedTreeHead *h, const Seinpost__AuditProof *p)
{
	sp_txn *t = NULL;
	int need = 0;
	const uint8_t *bk[SP_BROKER_KEYS_MAX];
	size_t nbk = sp_roster_broker_keys(a->roster, bk, SP_BROKER_KEYS_MAX);
	int rc = sp_txn_begin(a->store, 1, &t);
	if (rc == SP_OK)
		rc = p ? sp_witness_proof(t, bk, nbk, p) : sp_witness_seen(t, bk, nbk, h, &need);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	if (rc != SP_OK)
		sp_log(LOG_ERR, C, "witness state not stored: %s", sp_strerror(rc));
	else if (need)
		request_proof(a);
}

void sp_nodeaudit_seen(sp_nodeaudit *a, const Seinpost__SignedTreeHead *h)
{
	if (h)
		witness(a, h, NULL);
}

int sp_nodeaudit_frame(sp_nodeaudit *a, const Seinpost__Frame *f,
                       const Seinpost__AuditQueryResult **result)
{
	*result = NULL;
	switch (f->body_case) {
	case SEINPOST__FRAME__BODY_AUDIT_PROOF:
		witness(a, NULL, f->audit_proof);
		return 1;
	case SEINPOST__FRAME__BODY_READ_ACK: {
		sp_txn *t = NULL;
		int rc = sp_txn_begin(a->store, 1, &t);
		if (rc == SP_OK)
			rc = sp_reads_acked(t, f->read_ack->id.data);
		if (rc == SP_OK)
			rc = sp_txn_commit(&t);
		sp_txn_abort(&t);
		if (rc != SP_OK)
			sp_log(LOG_ERR, C, "read receipt ack not stored: %s", sp_strerror(rc));
		sp_nodeaudit_seen(a, f->read_ack->sth);
		return 1;
	}
	case SEINPOST__FRAME__BODY_AUDIT_FETCH_RESULT:
		if (a->monitor)
			copy_in(a, f->audit_fetch_result);
		return 1;
	case SEINPOST__FRAME__BODY_AUDIT_RESULT:
		if (a->query_pending && sodium_memcmp(f->audit_result->id.data, a->query_id, 16) == 0) {
			a->query_pending = 0;
			*result = f->audit_result;
		}
		return 1;
	default:
		return 0;
	}
}

int sp_nodeaudit_query(sp_nodeaudit *a, const Seinpost__AuditQuery *q)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__AuditQuery fwd = *q; /* shallow: q's buffers stay the caller's */
	int rc;
	if (a->query_pending)
		return SP_EEXIST;
	randombytes_buf(a->query_id, 16);
	fwd.id = (ProtobufCBinaryData){ 16, a->query_id };
	f.body_case = SEINPOST__FRAME__BODY_AUDIT_QUERY;
	f.audit_query = &fwd;
	rc = a->send(a->ctx, &f);
	if (rc != SP_OK)
		return rc;
	a->query_pending = 1;
	a->query_deadline = sp_mono_ms() + SP_NODEAUDIT_QUERY_MS;
	return SP_OK;
}
