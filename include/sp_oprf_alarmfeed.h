/*
 * sp_oprf_alarmfeed.h — the pseudonymisation service's alarms, kept in
 * order and served to the privacy officer (docs/pseudonymiser.md, Alarms).
 *
 * Every alarm (a rate-limit refusal, a request over an organisation's name
 * whose signature fails) gets the next sequence number and is written in the
 * same transaction as its refusal and audit record: an alarm the service
 * refused for is never lost. The privacy officer's node pulls them with a
 * cursor (OprfAlarmFetch over its CURVE connection); the service answers the
 * privacy-officer role only, with a page signed by its sign key over
 * SP_OPRF_ALARM_DOMAIN ‖ page. No personal data: org, role, counts, time,
 * kind.
 */
#ifndef SP_OPRF_ALARMFEED_H
#define SP_OPRF_ALARMFEED_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_keys.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_OPRF_ALARM_DOMAIN "seinpost/oprf-alarms/v1"

typedef struct sp_oprf_alarm {
	int kind;          /* SEINPOST__OPRF_ALARM_KIND__*; 0 = none */
	const char *org;
	const char *role;
	uint64_t asked, used, limit;
} sp_oprf_alarm;

/* At most this many alarms per organisation and kind a minute: a node that
 * retries refused requests in a loop must not flood the privacy officer's
 * store. Further refusals raise none; the next alarm of that organisation
 * and kind counts them (OprfAlarm.suppressed), and each is in the audit log. */
#define SP_OPRF_ALARM_BURST 10
#define SP_OPRF_ALARM_WINDOW_MS 60000

/* Append an alarm at now_ms in t (the refusal's write transaction), or
 * count it as suppressed (above). */
int sp_oprf_alarm_append(sp_txn *t, uint64_t now_ms, const sp_oprf_alarm *a) SP_MUST_CHECK;

/* The newest alarm's sequence number (0: none). */
int sp_oprf_alarm_last(sp_txn *t, uint64_t *seq) SP_MUST_CHECK;

/* Answer a fetch from proven_org (the ZAP User-Id) from t (read): a signed
 * page of alarms from f->alarm_from on, or code SP_EROLE when proven_org is
 * not a privacy officer on the roster. *reply is a malloc'd OprfAlarmReply. */
int sp_oprf_alarm_serve(sp_txn *t, const sp_roster *r, const sp_keyset *k, const char *self,
                        const char *proven_org, const Seinpost__OprfAlarmFetch *f, uint64_t now_ms,
                        uint8_t **reply, size_t *rlen) SP_MUST_CHECK;

#endif
