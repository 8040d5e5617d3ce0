/*
 * sp_tables.h — a referral at the seeds' tables, broker side (op- en
 * afschalen, issue 16; the tables themselves: sp_policy_tables.h).
 *
 * A referral whose escalation rule names an entry table sits at one table
 * at a time. What a member organisation of that table receives of the
 * referral's signals is what a rule sealed for its role when the signal was
 * submitted (on-escalation grants, or those it had at once), up to its
 * member tier — never a grant that was not sealed. The coordinator (the
 * role the escalation sends referrals to) moves it:
 *   up   (along `next`): the new table's members get their held grants now;
 *   down (back, or status scaled-down: one table down): roles no longer
 *        members, or with a lower tier, get nothing of the signals that join
 *        the referral later, and releases not yet queued are stopped.
 *        Grants already delivered cannot be recalled (the recipient holds
 *        the key); the audit log says what went where.
 * Every move is an audit record (AUDIT_REFERRAL_MOVED: who, when, reason,
 * from and to), every release one too (AUDIT_RELEASED, with the table).
 *
 * Key (SP_DB_META, no personal data):
 *   "tb:" referral-id(16)  -> subject kind(1) table-id   the current table
 *   "tbs" referral-id(16) signal-id(16) -> ""           handed to the tables once
 *                                                     (dropped when the signal expires)
 */
#ifndef SP_TABLES_H
#define SP_TABLES_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_escalate.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_TABLE_ID_MAX 48

/* 1 when the referral's escalation rule names a table: the tables then
 * decide every release of the referral (escalate() leaves them to us). */
int sp_tables_govern(const sp_policy *p, const char *rule_id);

/* escalate() listed the n signals in fresh in referral r (new or grown) for
 * a subject of kind: place a new referral at its entry table, and release
 * the fresh signals to the members of its current table. */
int sp_tables_on_escalate(const sp_engine *e, sp_txn *t, const Seinpost__Referral *r, const uint8_t (*fresh)[16],
                          size_t n, int kind) SP_MUST_CHECK;

/* `seinpost referral move`: u->table set. Apply from org inside write txn
 * t; *reply is a packed Frame with the ReferralUpdateAck (a refusal too,
 * which changes nothing). Store errors are returned. */
int sp_tables_move(sp_txn *t, const sp_roster *roster, const sp_policy *policy, const char *org,
                   const Seinpost__ReferralUpdate *u, uint8_t **reply, size_t *len) SP_MUST_CHECK;

/* The coordinator recorded status scaled-down on r: one table down, if
 * there is one below (audited as a move). *moved_to gets its id or "". */
int sp_tables_on_scaled_down(sp_txn *t, const sp_roster *roster, const sp_policy *policy, const char *org,
                             const char *user, const Seinpost__Referral *r, const char *reason,
                             char *moved_to, size_t len) SP_MUST_CHECK;

/* The referral's current table id into out ("" when none). */
int sp_tables_current(sp_txn *t, const uint8_t ref_id[16], char *out, size_t len, int *kind) SP_MUST_CHECK;

/* Retention: signal id, part of referral ref_id, expires: drops its table
 * marker. */
int sp_tables_forget_signal(sp_txn *t, const uint8_t ref_id[16], const uint8_t id[16]) SP_MUST_CHECK;

#endif
