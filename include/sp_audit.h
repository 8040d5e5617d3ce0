/*
 * sp_audit.h — the append-only, hash-chained audit log in LMDB.
 *
 * Each record is a serialised AuditRecord stored under be64(seq), seq from 1.
 * record.prev_hash = SHA-256 of the previous record's stored bytes (32 zero
 * bytes for seq 1). The head (last seq + SHA-256 of its bytes) is kept in
 * SP_DB_META under "audit.head" so truncation is detected too.
 * Records hold pseudonyms, never identities.
 */
#ifndef SP_AUDIT_H
#define SP_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_store.h"

/* Fields of one record; NULL / 0 = absent. Event values = proto AuditEvent. */
typedef struct sp_audit_entry {
	int event;
	const char *actor;
	const char *user;
	const char *recipient;
	const uint8_t *pseudonym;    /* 32 bytes */
	const uint8_t *signal_id;    /* 16 bytes */
	const char *category;
	uint32_t weight;
	uint32_t tiers;              /* mask (1 << tier) */
	const char *rule_id;
	const uint8_t *policy_hash;  /* 32 bytes */
	const char *legal_basis;
	const char *reason;          /* no personal data */
	int32_t code;
	uint64_t time_ms;            /* 0 = now */
} sp_audit_entry;

/* Append inside the caller's write transaction (so the record commits with
 * the change it describes). *seq_out may be NULL. */
int sp_audit_append(sp_txn *t, const sp_audit_entry *e, uint64_t *seq_out) SP_MUST_CHECK;

/* Walk and check the whole chain: contiguous seq from 1, each prev_hash,
 * each record decodes, head matches. On failure returns SP_ECORRUPT with
 * *bad_seq = first broken record and why filled. *count = records checked. */
int sp_audit_verify(sp_store *s, uint64_t *count, uint64_t *bad_seq,
                    char *why, size_t whylen) SP_MUST_CHECK;

/* "submitted", "rejected", ... ("unknown" otherwise). */
const char *sp_audit_event_name(int event);

/* Visit records in order (seq >= from). fn gets the decoded record (borrowed
 * for the call); nonzero return stops. */
struct _Seinpost__AuditRecord;
typedef int (*sp_audit_visit_fn)(void *ctx, const struct _Seinpost__AuditRecord *rec);
int sp_audit_foreach(sp_store *s, uint64_t from, sp_audit_visit_fn fn, void *ctx) SP_MUST_CHECK;

#endif
