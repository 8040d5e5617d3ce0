/*
 * sp_monitor.h — the privacy officer's verified copy of the broker's audit
 * log (the Certificate Transparency "monitor" role; docs/audit.md).
 *
 * The privacy officer's node fetches every record of the broker's log, in
 * order, and checks the copy against the broker's signed tree heads: each
 * record's seq and hash-chain link, and the Merkle root of the copy at each
 * head's size. who-saw is then answered from the copy and its own pseudonym
 * index, so deleting or altering the broker's index cannot shorten it; the
 * broker's answer is only compared with it. Anything that does not match
 * raises a sticky alarm (stored with the offending head).
 *
 * Stored in SP_DB_AUDIX of the privacy officer's node, beside the node's
 * own tables (sp_mtree.h, sp_witness.h):
 *   'c' be64(seq)                the broker's record bytes, exactly
 *   'k' level(1) be64(index)     perfect-subtree hashes of the copy
 *   'x' pseudonym(32) be64(seq)  the copy's who-saw index, built here
 *   'f'                          MonitorState
 */
#ifndef SP_MONITOR_H
#define SP_MONITOR_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_merkle.h"
#include "sp_status.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_MONITOR_PAGE 2048 /* records asked for per fetch */

typedef struct sp_monitor_state {
	uint64_t size;         /* records copied */
	uint64_t verified;     /* size of the latest head the copy matched (0: none) */
	uint64_t head_time;    /* that head's timestamp, unix ms */
	uint8_t head_root[32];
	uint8_t head_sig[64];
	int alarm;
	char reason[256];
	uint64_t limit_refusals;     /* involvement registrations refused by [limits] */
	uint64_t last_refusal_time;  /* unix ms */
	char last_refusal_org[64];
} sp_monitor_state;

/* 1 on the privacy officer's node (the roster says its role). */
struct sp_config;
struct sp_roster;
int sp_monitor_wanted(const struct sp_config *c, const struct sp_roster *r);

/* The state (all zero when nothing was copied yet). */
int sp_monitor_state_get(sp_txn *t, sp_monitor_state *out) SP_MUST_CHECK;

/* Fill a fetch request for the next records (inside a read transaction). */
int sp_monitor_request(sp_txn *t, Seinpost__AuditFetch *q) SP_MUST_CHECK;

/* Take one answer into the copy (write transaction). *more: ask again now.
 * A mismatch is not an error: it raises the alarm and returns SP_OK (so the
 * alarm commits). */
int sp_monitor_ingest(sp_txn *t, const uint8_t broker_pk[32], const Seinpost__AuditFetchResult *r,
                      int *more) SP_MUST_CHECK;

/* The copy's records about one pseudonym with seq <= upto, in seq order.
 * raw is borrowed for the call; fn nonzero stops. */
typedef int (*sp_monitor_visit_fn)(void *ctx, uint64_t seq, const uint8_t *raw, size_t len);
int sp_monitor_subject(sp_txn *t, const uint8_t pseudonym[32], uint64_t upto, sp_monitor_visit_fn fn,
                       void *ctx) SP_MUST_CHECK;

/* RFC 9162 inclusion proof of record seq in the copy's tree of size. */
int sp_monitor_inclusion(sp_txn *t, uint64_t seq, uint64_t size, sp_merkle_hash *proof,
                         size_t *n) SP_MUST_CHECK;

/* `seinpost status` lines on the privacy officer's node. */
int sp_status_monitor(const sp_status_src *src, sp_status *st);

#endif
