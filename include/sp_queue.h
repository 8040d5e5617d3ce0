/*
 * sp_queue.h — the broker's per-recipient delivery queues, in one place.
 *
 * Key layouts (LMDB):
 *   SP_DB_QUEUE  org '\0' be64(seq)         -> Delivery (what the recipient gets)
 *   SP_DB_META   "q:" org '\0' signal-id    -> be64(seq)  (dequeue on receipt)
 *   SP_DB_META   "r:" org '\0' signal-id    -> deferred release (sp_release.c)
 *   SP_DB_META   "x:" org '\0' signal-id    -> be64(unix ms) || Delivery: quarantined
 *                                             (sp_quarantine.c)
 *   SP_DB_META   "queue.seq"                -> be64 global sequence
 *   SP_DB_META   "W:" signal-id org         -> "": queued to org once (sp_withdraw.h)
 * One global sequence keeps each recipient's queue in acceptance order.
 */
#ifndef SP_QUEUE_H
#define SP_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_QUEUE_KEY_MAX (SP_ID_MAX + 1 + 8)
#define SP_QUEUE_IDKEY_MAX (2 + SP_ID_MAX + 1 + 16)

/* org '\0' be64(seq) into out (SP_QUEUE_KEY_MAX); returns its length. */
size_t sp_queue_key(uint8_t *out, const char *org, uint64_t seq);
/* tag ':' org '\0' id into out (SP_QUEUE_IDKEY_MAX); tag is 'q' (queued
 * delivery) or 'r' (deferred release). Returns its length. */
size_t sp_queue_idkey(uint8_t *out, char tag, const char *org, const uint8_t id[16]);
/* Next value of the global queue sequence (inside t). */
int sp_queue_next_seq(sp_txn *t, uint64_t *seq) SP_MUST_CHECK;

/* Queue one recipient's share of sig: its grants whose mode bit (1 << mode)
 * is in mode_mask and the tier boxes they open, the rule that allowed it
 * ("" or NULL = none) and an optional referral; records the "q:" mapping. */
/* Append delivery d for `to` under the next sequence number, indexed by id
 * for its receipt (sp_queue_put and withdrawals use it). */
/* subject: the delivery's subject (sp_subject_name_delivery) or NULL; its P
 * and epoch go into the receipt index after the sequence number, so the
 * `delivered` record names the subject without reading the signal. */
struct sp_subject_named;
int sp_queue_append(sp_txn *t, const char *to, const uint8_t id[16], const Seinpost__Delivery *d,
                    const struct sp_subject_named *subject) SP_MUST_CHECK;
int sp_queue_put(sp_txn *t, const Seinpost__Signal *sig, const uint8_t id[16], const char *to,
                 unsigned mode_mask, const char *rule_id, const Seinpost__Referral *ref) SP_MUST_CHECK;

#endif
