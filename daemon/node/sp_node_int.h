/*
 * sp_node_int.h — the node's network process: shared state for its own
 * modules only (sp_node.c: the event loop, local requests and broker frames;
 * sp_node_deliver.c: deliveries and receipts; sp_node_roster.c: a new
 * roster and rekeying; sp_node_resend.c: resending the outbox;
 * sp_node_life.c: start and stop). Nothing outside daemon/node/ includes it.
 */
#ifndef SP_NODE_INT_H
#define SP_NODE_INT_H

#include <errno.h>
#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "sp_audit.h"
#include "sp_awaiting.h"
#include "sp_feedback_keep.h"
#include "sp_health.h"
#include "sp_hook.h"
#include "sp_involve.h"
#include "sp_kh.h"
#include "sp_keys.h"
#include "sp_link.h"
#include "sp_log.h"
#include "sp_monitor.h"
#include "sp_nodeaudit.h"
#include "sp_orgverify.h"
#include "sp_outbox.h"
#include "sp_policy.h"
#include "sp_inbox.h"
#include "sp_retention.h"
#include "sp_roster.h"
#include "sp_rosterstate.h"
#include "sp_node_oprf.h"
#include "sp_oprf_alarms.h"
#include "sp_sandbox.h"
#include "sp_sd.h"
#include "sp_spool.h"
#include "sp_signal.h"
#include "sp_store.h"
#include "sp_submit.h"
#include "sp_transport.h"
#include "sp_util.h"
#include "sp_verdict.h"
#include "sp_wire.h"
#include "sp_withdrawn.h"

#define C "node"
#define RESEND_MAX 1000   /* outbox entries resent per retry round */
#define HELLO_MS 2000
#define FRAMES_MAX 256    /* broker frames handled per write transaction */
_Static_assert(FRAMES_MAX <= SP_RECEIPT_BATCH_MAX, "one receipt batch per write transaction");
#define BACKOFF_MAX_FACTOR 16 /* retry interval grows to at most 16 x retry_ms */
#define LOCAL_BATCH 128   /* local submits stored per write transaction */
#define PRUNE_MS 60000    /* idempotency keys of expired signals: checked once a minute */
#define ENV_MAX 64        /* a ROUTER routing id (libzmq makes 5 bytes) */

/* The local socket is a ROUTER: REQ clients (the CLI) and pipelining DEALER
 * clients (case systems, sp_load) alike; every answer goes back with the
 * routing id it came with. */
struct envelope {
	uint8_t id[ENV_MAX];
	size_t len;
};

/* A signal the broker finally rejected in this batch (spool .error). */
struct final_rejection {
	uint8_t id[SP_ID_BYTES];
	char reason[300];
};

/* A submit that passed validation and sealing, waiting for the batch commit. */
struct pending_submit {
	struct envelope env;
	uint8_t id[SP_ID_BYTES];
	uint8_t *sigbuf, *ebuf;
	size_t elen;
	Seinpost__Signal *sig;
	Seinpost__SignalHeader *h;
	int rc;
	sp_spool_file *spool;   /* from the spool: the file is the client */
	uint8_t key[SP_SPOOL_KEY_BYTES]; /* idempotency key (has_key) */
	int has_key, dup;       /* dup: the key was known, id is the first signal's */
};

struct node {
	const sp_config *cfg;
	sp_keyset *keys;        /* CURVE (transport) only: the secrets stay with the key holder */
	sp_kh *kh;              /* the key holder: signs, opens grants, pseudonymises */
	sp_roster *roster;
	sp_policy *policy;
	sp_store *store;
	void *zctx, *sock, *local;
	uint64_t last_hello, last_sweep;
	uint64_t submitted, received;
	int policy_mismatch;    /* the broker holds another policy version */
	sp_nodeaudit audit;     /* witnessing, read receipts, queries */
	sp_backoff retry;       /* when to resend the pending outbox */
	uint32_t round_left;    /* sent in the last round, not yet answered */
	uint64_t answers;       /* broker verdicts seen (progress for backoff) */
	uint64_t answers_at_round;
	uint8_t receipts[FRAMES_MAX][SP_ID_BYTES]; /* sent after the batch commits */
	size_t nreceipts;
	sp_health health;       /* for `seinpost status` (over submit.sock) */
	sp_link *link;          /* the broker link: contact, handshake trouble */
	struct final_rejection final[FRAMES_MAX]; /* told to the spool after the commit */
	size_t nfinal;
	int alert;              /* <state>/alert raised (submits refused) */
	uint8_t refused[32][SP_ID_BYTES]; /* deliveries refused lately: logged once each */
	size_t nrefused;
	int unsent;             /* a direct send failed: resend in order first */
	uint64_t last_unsent_try;
	uint64_t unsent_pos;    /* pending-index position the in-order resend continues from */
	struct envelope env;    /* the local request being answered */
	struct envelope query_env; /* the privacy officer's query waiting for the broker */
	struct pending_submit batch[LOCAL_BATCH];
	size_t nbatch;
	sp_hook *hook;          /* hand-over to the organisation's systems */
	int hook_new;           /* this batch queued hook items */
	sp_spool *spool;        /* [spool] in, NULL when not configured */
	sp_awaiting *await;     /* submits waiting for the pseudonymisation service (NULL: none used) */
	uint64_t last_prune;    /* idempotency keys last pruned (monotonic ms) */
	sp_oalarms *oalarms;    /* privacy officer: the pseudonymisation service's alarms (NULL: not taken) */
};

/* Shared between the network process's modules (defined where named). */
int sp_node_audit_send(void *ctx, Seinpost__Frame *f);
int sp_node_handle_delivery(struct node *n, sp_txn *batch, const Seinpost__Delivery *d);
int sp_node_local_audit(sp_txn *t, struct node *n, int event, const Seinpost__SignalHeader *h,
                        const char *recipient, int code, const char *reason);
int sp_node_open(struct node *n);
int sp_node_send_frame(struct node *n, Seinpost__Frame *f);
int sp_node_send_frame_cb(void *ctx, Seinpost__Frame *f);
int sp_node_send_signal(struct node *n, Seinpost__Signal *sig);
sp_verdict_ctx sp_node_verdict_ctx(const struct node *n);
void sp_node_close(struct node *n);
void sp_node_resend_outbox(struct node *n);
void sp_node_roster_offered(struct node *n, const Seinpost__SignedRoster *sr);
void sp_node_roster_reload(struct node *n);
void sp_node_send_hello(struct node *n);
void sp_node_send_receipts(struct node *n);
void sp_node_sweep(struct node *n);

#endif
