/*
 * sp_release.h — broker side: forwarding a recipient the grants it became
 * entitled to LATER (involvement registered, match, escalation).
 *
 * The broker's submit path queues only immediate grants. Everything else a
 * signal holds stays in SP_DB_SIGNALS until a rule releases it; this module
 * queues the recipient's share with the released modes. A recipient already
 * has at most one unacknowledged delivery per signal (the receipt names only
 * the id), so a release for a signal still in flight is recorded durably and
 * queued by sp_release_flush once that delivery is receipted; the node merges
 * the new grants into its stored copy.
 *
 * Keys (SP_DB_META), all binary, never personal data:
 *   "s:" pseudonym(32) id(16)  -> be64(created) weight(1) sender   subject index
 *   "e:" pseudonym(32) id(16)  -> referral id(16)                  escalated
 *   "r:" org '\0' id(16)       -> modes(1) [tiers(1)] rule-len(1) rule referral  deferred
 * and the queue formats of sp_broker.c ("q:" org '\0' id, org '\0' be64(seq)).
 */
#ifndef SP_RELEASE_H
#define SP_RELEASE_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_MODE_BIT(m) (1u << (m))

/* Record a newly accepted signal in the subject index. */
int sp_release_index_add(sp_txn *t, const Seinpost__SignalHeader *h) SP_MUST_CHECK;

/* One indexed signal of a subject (borrowed sender, valid in the callback). */
typedef struct sp_subject_sig {
	const uint8_t *id;
	uint64_t created;
	int weight;
	const char *sender;
} sp_subject_sig;
typedef int (*sp_subject_fn)(void *ctx, const sp_subject_sig *s);
/* Take a signal out of the subject index (withdrawn: sp_withdraw.h). */
int sp_release_index_del(sp_txn *t, const Seinpost__SignalHeader *h) SP_MUST_CHECK;

/* Visit every indexed signal about pseudonym; fn nonzero stops. */
int sp_release_subject_foreach(sp_txn *t, const uint8_t pseudonym[32], sp_subject_fn fn, void *ctx);

/* Queue to `to` its share of the stored signal `id` with grants of the modes
 * in mode_mask (immediate is always included), naming rule_id and, for a
 * referral, ref. Deferred when a delivery of that signal to `to` is in
 * flight. SP_ENOTFOUND when the signal is no longer held (expired) or was
 * withdrawn. */
int sp_release_share(sp_txn *t, const uint8_t id[16], const char *to, unsigned mode_mask,
                     const char *rule_id, const Seinpost__Referral *ref) SP_MUST_CHECK;

/* The same, without the on-escalation grants of tiers outside esc_tiers
 * (bit 1 << tier; a table's ceiling, sp_tables.c). */
#define SP_RELEASE_ALL_TIERS 0x0fu
int sp_release_share_tiers(sp_txn *t, const uint8_t id[16], const char *to, unsigned mode_mask,
                           unsigned esc_tiers, const char *rule_id, const Seinpost__Referral *ref) SP_MUST_CHECK;

/* Cap a deferred release of signal id to `to` at esc_tiers (on-escalation
 * grants only; 0 = none): a scale-down stops what was not yet queued. */
int sp_release_deferred_limit(sp_txn *t, const char *to, const uint8_t id[16], unsigned esc_tiers) SP_MUST_CHECK;

/* Queue deferred releases whose earlier delivery has been receipted. */
int sp_release_flush(sp_txn *t, size_t *queued) SP_MUST_CHECK;

/* Drop every queued delivery and deferred release of signal id (expiry,
 * withdrawal), and the notes of whom it was queued to (sp_withdraw.h). */
int sp_release_drop_signal(sp_txn *t, const sp_roster *r, const uint8_t id[16]) SP_MUST_CHECK;

/* Mark / test that signal id of pseudonym is part of a referral. */
int sp_release_mark_escalated(sp_txn *t, const uint8_t pseudonym[32], const uint8_t id[16],
                              const uint8_t ref_id[16]) SP_MUST_CHECK;
/* Visit the signals of a subject marked as part of referral ref_id. */
int sp_release_escalated_foreach(sp_txn *t, const uint8_t pseudonym[32], const uint8_t ref_id[16],
                                 int (*fn)(void *ctx, const uint8_t id[16]), void *ctx) SP_MUST_CHECK;
int sp_release_is_escalated(sp_txn *t, const uint8_t pseudonym[32], const uint8_t id[16]);
/* The referral a signal became part of (SP_ENOTFOUND: none), and forgetting
 * that mark (retention; SP_OK when there was none). */
int sp_release_escalation_of(sp_txn *t, const uint8_t pseudonym[32], const uint8_t id[16],
                             uint8_t ref_id[16]) SP_MUST_CHECK;
int sp_release_unmark_escalated(sp_txn *t, const uint8_t pseudonym[32], const uint8_t id[16]) SP_MUST_CHECK;

/* Key rotation by translation (sp_translate.c): the referral a held release
 * carries names the subject's pseudonym; fn rewrites it in place. *count
 * grows by the entries rewritten. */
int sp_release_held_rekey(sp_txn *t, void (*fn)(void *ctx, uint8_t p[32]), void *ctx, uint64_t *count) SP_MUST_CHECK;

#endif
