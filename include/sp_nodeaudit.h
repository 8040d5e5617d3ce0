/*
 * sp_nodeaudit.h — a node's side of the audit protocol: witnessing the
 * broker's tree heads, sending queued read receipts, and forwarding the
 * privacy officer's queries. The node loop calls these; frames go out
 * through its send callback.
 */
#ifndef SP_NODEAUDIT_H
#define SP_NODEAUDIT_H

#include <stdint.h>
#include "sp_error.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_NODEAUDIT_QUERY_MS 10000

typedef int (*sp_nodeaudit_send_fn)(void *ctx, Seinpost__Frame *f);

typedef struct sp_nodeaudit {
	sp_store *store;
	const sp_roster *roster;      /* the broker's sign keys (borrowed; the node updates it) */
	sp_nodeaudit_send_fn send;
	void *ctx;
	int monitor;                  /* privacy officer: keep the verified copy (sp_monitor.h) */
	int query_pending;            /* a local client waits for a result */
	uint8_t query_id[16];
	uint64_t query_deadline;      /* mono ms */
} sp_nodeaudit;

/* Periodic: ask for the latest head with a proof from ours; resend queued
 * read receipts; on the privacy officer's node, fetch the log's new records. */
void sp_nodeaudit_tick(sp_nodeaudit *a);
/* A head carried by an ack. */
void sp_nodeaudit_seen(sp_nodeaudit *a, const Seinpost__SignedTreeHead *h);
/* Frames of ours from the broker. Returns 1 when handled; *result is set
 * (borrowed from f) when it answers the pending query. */
int sp_nodeaudit_frame(sp_nodeaudit *a, const Seinpost__Frame *f,
                       const Seinpost__AuditQueryResult **result);
/* Forward a local query (fills its id). SP_EEXIST when one is pending. */
int sp_nodeaudit_query(sp_nodeaudit *a, const Seinpost__AuditQuery *q) SP_MUST_CHECK;

#endif
