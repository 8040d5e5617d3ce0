/*
 * sp_meta_keys.h — the one registry of keys in SP_DB_META, the store's
 * shared table of small named values (sp_store.h). Each key or key prefix
 * has exactly one owner module, named beside it: only the owner reads,
 * writes or deletes it, and other modules go through the owner's API (e.g.
 * retention drops a subject index entry with sp_release_index_del, not by
 * rebuilding its key). A new key is added here first, with a prefix that no
 * other key starts with.
 */
#ifndef SP_META_KEYS_H
#define SP_META_KEYS_H

/* ---- every process ---------------------------------------------------- */
#define SP_MK_AUDIT_HEAD     "audit.head"     /* sp_audit.c: be64(last seq) || hash of the last record */
#define SP_MK_STH_LAST       "audit.sth.last" /* sp_sth.c: the last signed tree head's size and time */
#define SP_MK_LAST_COMMIT    "last.commit"    /* the event loop (sp_broker.c, sp_node.c): be64 unix ms; read by status */
/* "schema.version": SP_SCHEMA_KEY, sp_schema.c (the store layout version) */

/* ---- broker ----------------------------------------------------------- */
#define SP_MK_QUEUE_SEQ      "queue.seq"      /* sp_queue.c: the next delivery sequence number */
#define SP_MK_QUEUE_INDEX    "q:"             /* sp_queue.c: org id -> be64(seq) [be64(epoch) P]; dropped by sp_rostersync.c on revocation */
#define SP_MK_QUARANTINE     "x:"             /* sp_quarantine.c: deliveries their recipient keeps refusing */
#define SP_MK_POLICY_CUR     "pv.cur"         /* sp_polver.c: the policy hash in force and since when */
#define SP_MK_POLICY_PREV    "pv.prev"        /* sp_polver.c: the previous one (roll-out grace) */
#define SP_MK_SUBJECT        "s:"             /* sp_release.c: pseudonym || id -> created, weight, sender */
#define SP_MK_HELD           "r:"             /* sp_release.c: grants held for a later release */
#define SP_MK_ESCALATED      "e:"             /* sp_release.c: pseudonym || id -> the referral it is part of */
#define SP_MK_IF_INVOLVED    "i:"             /* sp_escalate.c: org '\0' id: if-involved grants released */
#define SP_MK_ALIAS          "a:"             /* sp_escalate.c: two pseudonyms (epochs) of one subject */
#define SP_MK_REFERRAL       "f:"             /* sp_escalate.c: pseudonym -> the subject's open Referral */
#define SP_MK_TABLE          "tb:"            /* sp_tables.c: referral -> its table */
#define SP_MK_TABLE_SIGNAL   "tbs"            /* sp_tables.c: referral || id: the signal joined its table */
#define SP_MK_WITHDRAW_NOTE  "W:"             /* sp_withdraw.c: id || org: a delivery was queued to org */
#define SP_MK_LIMITS         "lim."           /* sp_limits.c: [limits ROLE] counters per organisation */
#define SP_MK_RECIP_SECRET   "recip.key"      /* sp_subject.c: the secret of per-recipient pseudonyms */
#define SP_MK_TRANSLATE      "xl:"            /* sp_translate.c: be32(key epoch) -> δ of that epoch, sealed */

/* ---- node ------------------------------------------------------------- */
#define SP_MK_OUTBOX_PENDING "ob.p"           /* sp_outbox.c: pending index */
#define SP_MK_OUTBOX_INDEX   "ob.i"           /* sp_outbox.c: position -> id */
#define SP_MK_OUTBOX_LAST    "ob.n"           /* sp_outbox.c: the last position */
#define SP_MK_OUTBOX_VERSION "ob.v"           /* sp_outbox.c: index layout version */
#define SP_MK_REJECTIONS     "vd.rej"         /* sp_verdict.c: be64(final rejections) || be64(unix ms of the last) */
#define SP_MK_HOOK_SEQ       "hook.seq"       /* sp_hook.c: the next hand-over sequence number */
#define SP_MK_INVOLVE_PENDING "iv.p"          /* sp_involve.c: involvements not yet acknowledged */
#define SP_MK_INVOLVE_INDEXED "iv.indexed"    /* sp_involve.c: the pending index is built */
#define SP_MK_OALARM_FEED    "oa.f/"          /* sp_oprf_alarms.c: instance -> OprfAlarmFeed (cursor) */
#define SP_MK_OALARM_ACK     "oa.ack"         /* sp_oprf_alarms.c: OprfAlarmAck, the privacy officer's last acknowledgement */
#define SP_MK_OALARM_REC     "oa.r/"          /* sp_oprf_alarms.c: instance '\0' be64(seq) -> OprfAlarm */

/* ---- pseudonymiser ---------------------------------------------------- */
#define SP_MK_OPRF_USED      "oprf.used/"     /* sp_oprfsvc.c: evaluations per organisation per day */
#define SP_MK_OPRF_ALARM     "oprf.alarm"     /* sp_oprfsvc.c: the rate-limit alarm */
#define SP_MK_OPRF_ALARM_SEQ "oprf.aseq"      /* sp_oprf_alarmfeed.c: be64(the last alarm's seq) */
#define SP_MK_OPRF_ALARM_LOG "oprf.al/"       /* sp_oprf_alarmfeed.c: be64(seq) -> OprfAlarm */
#define SP_MK_OPRF_ALARM_WIN "oprf.aw/"       /* sp_oprf_alarmfeed.c: kind byte ‖ org -> the minute's alarm count */

#endif
