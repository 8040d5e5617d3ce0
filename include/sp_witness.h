/*
 * sp_witness.h — a node witnessing the broker's audit log.
 *
 * Each node keeps the last signed tree head it accepted. A newer head is
 * accepted only with an RFC 9162 consistency proof from the kept one; a
 * smaller head (history shrank), a different root at the same size, a
 * failing proof (history forked) or a bad signature raises an ALARM: logged
 * at LOG_CRIT, stored durably with the offending head as evidence, and
 * sticky — the kept head is never replaced after an alarm.
 * State lives in the node's SP_DB_AUDIX under 'w' keys.
 */
#ifndef SP_WITNESS_H
#define SP_WITNESS_H

#include <stdint.h>
#include "sp_error.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

typedef struct sp_witness_state {
	int have_head;
	uint64_t size;        /* of the kept head */
	uint64_t time;        /* its timestamp, unix ms */
	uint8_t root[32];
	uint64_t checked;     /* heads checked since the first one */
	int alarm;            /* 1: the broker's history forked or shrank */
	char reason[256];     /* why, no personal data */
} sp_witness_state;

/* For status commands (read-only; the daemon may be running). */
int sp_witness_status(sp_store *s, sp_witness_state *out) SP_MUST_CHECK;

/* A head seen in an ack. *need_proof = 1 when it is newer than the kept head
 * (the caller then requests a proof from the kept size); the first head
 * ever seen is kept as is (trust on first use). Inside a write txn. */
/* pks: the broker's sign keys on the roster (sp_roster_broker_keys). */
int sp_witness_seen(sp_txn *t, const uint8_t *const *pks, size_t npks, const Seinpost__SignedTreeHead *h,
                    int *need_proof) SP_MUST_CHECK;
/* A proof answer: checks and, when consistent, keeps its head. */
int sp_witness_proof(sp_txn *t, const uint8_t *const *pks, size_t npks, const Seinpost__AuditProof *p) SP_MUST_CHECK;
/* Size of the kept head (0 when none), for the next proof request. */
int sp_witness_size(sp_txn *t, uint64_t *size) SP_MUST_CHECK;

#endif
