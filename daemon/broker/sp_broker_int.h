/*
 * sp_broker_int.h — the broker process's shared state, for its own modules
 * only (sp_broker.c: the event loop and frame handlers; sp_pump.c: sending
 * queued deliveries; sp_broker_life.c: start, reload and stop). Not a public
 * interface: nothing outside daemon/broker/ includes it.
 */
#ifndef SP_BROKER_INT_H
#define SP_BROKER_INT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "sp_admit.h"
#include "sp_control.h"
#include "sp_health.h"
#include "sp_audit.h"
#include "sp_escalate.h"
#include "sp_auditsrv.h"
#include "sp_referral_status.h"
#include "sp_keys.h"
#include "sp_log.h"
#include "sp_orgverify.h"
#include "sp_malformed.h"
#include "sp_policy.h"
#include "sp_quarantine.h"
#include "sp_queue.h"
#include "sp_release.h"
#include "sp_retention.h"
#include "sp_roster.h"
#include "sp_rostersync.h"
#include "sp_rosterfeed.h"
#include "sp_sd.h"
#include "sp_signal.h"
#include "sp_clockstep.h"
#include "sp_polver.h"
#include "sp_sth.h"
#include "sp_sandbox.h"
#include "sp_store.h"
#include "sp_transport.h"
#include "sp_util.h"
#include "sp_wire.h"
#include "sp_workers.h"

#define C "broker"
#define BATCH_MAX 512      /* frames per LMDB transaction (group commit) */
#define WINDOW 256         /* unacknowledged deliveries per recipient */

/* Per recipient delivery state (index = roster position). Memory only: on
 * restart everything still queued is sent again and recipients dedup by id. */
struct peer {
	uint8_t rid[256];
	size_t rid_len;
	int connected;
	uint64_t cursor;        /* next queue seq to send */
	uint32_t inflight;
	uint64_t last_progress; /* mono ms of last ack or (re)start of sending */
	uint32_t stalls;        /* resends in a row without a receipt: each waits twice as long */
	uint64_t next_try;      /* mono ms; when not connected */
	int roster_sent;        /* the roster went to it since this start */
};

struct reply {
	uint8_t rid[256];
	size_t rid_len;
	uint8_t *buf;
	size_t len;
};

/* Signature checks done before the batch, on two threads (sp_workers):
 * the result for one received message. */
enum { PRE_NONE, PRE_SUBMIT, PRE_RECEIPT };
struct precheck {
	int kind;
	int ok; /* the signature verified against the proven sender's key */
	Seinpost__Frame *frame; /* decoded there, used by handle() (one decode per message) */
};

struct broker {
	const sp_config *cfg;
	sp_keyset *keys;
	sp_roster *roster;
	sp_policy *policy;
	sp_store *store;
	void *zctx, *sock;
	sp_zap *zap;
	struct peer *peers;
	size_t npeers;
	struct reply replies[BATCH_MAX];
	size_t nreplies;
	uint64_t accepted, rejected, delivered;
	Seinpost__SignedTreeHead *sth; /* latest signed tree head, sent with acks */
	sp_health health;       /* for `seinpost status`, over the control socket */
	sp_control *ctl;
	sp_quarantine *quar;    /* deliveries their recipient keeps refusing */
	sp_workers *workers;    /* second thread for signature checks */
	sp_msg *inbox;          /* BATCH_MAX received messages of one batch */
	struct precheck pre[BATCH_MAX];
	const struct precheck *cur_pre; /* of the message being handled */
	sp_malformed *malformed; /* answers and per-peer rate limit (sp_malformed.h) */
	sp_polver polver;       /* the previous policy version (roll-out grace) */
	sp_clockstep clock;     /* wall clock steps, into the audit log */
};

/* The delivery state of one organisation (NULL when not on the roster). */
struct peer *sp_broker_peer_of(struct broker *b, const char *org);

/* sp_pump.c: send queued deliveries to connected recipients, within the
 * window of unacknowledged ones. */
void sp_broker_pump(struct broker *b);

/* Receipts (sp_broker_receipts.c): one, or a signed batch; verified in the
 * batch's precheck when b->cur_pre says so. */
int sp_broker_receipt(struct broker *b, sp_txn *t, const sp_msg *m, const Seinpost__DeliveryAck *a);
int sp_broker_receipts(struct broker *b, sp_txn *t, const sp_msg *m, const Seinpost__DeliveryAckBatch *a);
int sp_broker_receipts_verify(const sp_org *from, const Seinpost__DeliveryAckBatch *a);

/* sp_broker_life.c */
int sp_broker_open(struct broker *b);             /* keys, sandbox, roster, policy, store, sockets */
void sp_broker_close(struct broker *b);
int sp_broker_load_policy(struct broker *b);      /* (re)read the policy file */
int sp_broker_audit_policy_loaded(struct broker *b); /* roll-out grace and the audit record */
void sp_broker_reload_roster(struct broker *b);   /* SIGHUP: a new signed roster */

#endif
