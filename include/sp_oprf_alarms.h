/*
 * sp_oprf_alarms.h — the privacy officer's node takes the alarms of every
 * pseudonymisation service instance it names (docs/pseudonymiser.md,
 * Alarms).
 *
 * A node whose roster role is privacy-officer and whose configuration has a
 * [pseudonymiser] section asks each instance, over a CURVE connection of
 * its own pinned to the instance's roster key, for the alarms after its
 * cursor (OprfAlarmFetch, every SP_OALARMS_POLL_MS and at once while more
 * are waiting). A page is taken only when its signature verifies against
 * the instance's roster sign key, it answers our nonce, names us and the
 * instance, and starts right after our cursor; its alarms and the new
 * cursor commit in one transaction. A feed that does not hold (a bad
 * signature, an instance whose alarm log shrank or that withholds alarms
 * its page counts) is a sticky alarm of its own. `status` is BAD while an
 * alarm is kept that the privacy officer has not acknowledged (`seinpost
 * alarms --ack --user NAME`, audited); a broken feed stays BAD.
 */
#ifndef SP_OPRF_ALARMS_H
#define SP_OPRF_ALARMS_H

#include <stddef.h>
#include <stdint.h>
#include "sp_config.h"
#include "sp_error.h"
#include "sp_keys.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_OALARMS_POLL_MS 1000     /* ask each instance this often */
#define SP_OALARMS_TIMEOUT_MS 10000 /* an unanswered fetch is given up after this */
#define SP_OALARMS_STALE_MS 120000  /* status warns after this long without a verified page */

typedef struct sp_oalarms sp_oalarms;

/* *out stays NULL (SP_OK) when c is not the privacy officer's node or names
 * no pseudonymisation service. zctx is the caller's (same thread). */
int sp_oalarms_open(const sp_config *c, const sp_keyset *k, const sp_roster *r, void *zctx,
                    sp_oalarms **out) SP_MUST_CHECK;
/* Read answers, take verified pages into st, send due fetches. r: the
 * roster in force (its sign keys verify the pages). NULL-safe. */
void sp_oalarms_tick(sp_oalarms *a, sp_store *st, const sp_roster *r, uint64_t mono_now);
void sp_oalarms_close(sp_oalarms **a);

/* One line of text for an alarm (no personal data). */
void sp_oalarms_text(const Seinpost__OprfAlarm *a, char *buf, size_t len);

/* Reading (status, `seinpost alarms`): every kept alarm, per instance in
 * sequence order; every instance's feed state. */
typedef int (*sp_oalarms_alarm_fn)(void *ctx, const char *service, const Seinpost__OprfAlarm *a);
typedef int (*sp_oalarms_feed_fn)(void *ctx, const char *service, const Seinpost__OprfAlarmFeed *f);
int sp_oalarms_foreach(sp_txn *t, sp_oalarms_alarm_fn fn, void *ctx) SP_MUST_CHECK;
int sp_oalarms_feeds(sp_txn *t, sp_oalarms_feed_fn fn, void *ctx) SP_MUST_CHECK;

/* The privacy officer acknowledges every alarm kept now (audited locally
 * with user and count, in t). *acked: how many. The status is BAD again
 * when a newer one arrives. */
int sp_oalarms_ack(sp_txn *t, const char *org, const char *user, uint64_t now_ms, uint64_t *acked) SP_MUST_CHECK;
/* The last acknowledgement (*a NULL when none). Free with
 * seinpost__oprf_alarm_ack__free_unpacked. */
int sp_oalarms_ack_get(sp_txn *t, Seinpost__OprfAlarmAck **a) SP_MUST_CHECK;

struct sp_status;
struct sp_status_src;
int sp_oalarms_status(const struct sp_status_src *src, struct sp_status *st);

#endif
