/*
 * sp_reads.h — read receipts: "who opened what" fed back to the broker.
 *
 * When a user opens a received signal (seinpost show), the CLI appends the
 * local READ record and, in the same transaction, queues a ReadReceipt
 * signed with the node's Ed25519 key over SP_READ_DOMAIN || ReadEvent
 * bytes. The node daemon sends queued receipts to the broker until a ReadAck
 * names them; the broker verifies the signature against the roster and
 * appends a READ record (org, user, subject pseudonym from the signal).
 * Queue: node SP_DB_AUDIX 'r' be64(time) id(16); broker dedup 'd' id(16).
 */
#ifndef SP_READS_H
#define SP_READS_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_READ_DOMAIN "seinpost/read/v1"
/* Reads by the node itself on behalf of a connected system (delivery hooks)
 * are recorded under "system:<what>"; people cannot take such a name. */
#define SP_READ_SYSTEM_PREFIX "system:"

/* CLI: queue a signed read event inside the caller's write txn. */
int sp_reads_queue(sp_txn *t, const uint8_t sign_sk[64], const char *org, const char *user,
                   const uint8_t signal_id[16], uint32_t tiers) SP_MUST_CHECK;
/* Node (hooks): the same, signed by the key holder (sp_keyholder.h). */
typedef struct sp_kh sp_kh;
int sp_reads_queue_kh(sp_txn *t, sp_kh *kh, const char *org, const char *user, const uint8_t signal_id[16],
                      uint32_t tiers) SP_MUST_CHECK;

/* Node: visit queued receipts (decoded, borrowed for the call). */
typedef int (*sp_reads_fn)(void *ctx, const Seinpost__ReadReceipt *r);
int sp_reads_foreach(sp_txn *t, sp_reads_fn fn, void *ctx);
/* Node: the broker acknowledged event id; drop it from the queue. */
int sp_reads_acked(sp_txn *t, const uint8_t id[16]) SP_MUST_CHECK;
/* Pending receipts (for status). */
int sp_reads_pending(sp_txn *t, uint64_t *n) SP_MUST_CHECK;

/* Broker: verify and record one receipt from authenticated org `from`.
 * id_out gets the event id to acknowledge (also for a repeat). SP_ESIG /
 * SP_ESENDER / SP_EMALFORMED when it must not be acknowledged. */
int sp_reads_accept(sp_txn *t, const sp_roster *roster, const char *from,
                    const Seinpost__ReadReceipt *r, uint8_t id_out[16]) SP_MUST_CHECK;

#endif
