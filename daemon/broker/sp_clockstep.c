/* sp_clockstep.c — wall clock steps at the broker, into the audit log. */
#include "sp_clockstep.h"

#include <stdio.h>

#include "sp_audit.h"
#include "sp_log.h"
#include "sp_sth.h"
#include "sp_util.h"
#include "seinpost.pb-c.h"

#define C "broker"

static int record(sp_txn *t, int64_t step_ms, const char *how)
{
	char why[160];
	int64_t s = (step_ms + (step_ms < 0 ? -500 : 500)) / 1000; /* nearest second */
	sp_audit_entry e = {
		.event = SEINPOST__AUDIT_EVENT__AUDIT_CLOCK_STEP,
		.actor = "broker",
		.code = s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : (int32_t)s,
		.reason = why,
	};
	snprintf(why, sizeof why, "wall clock stepped %+lld s %s", (long long)s, how);
	sp_log(LOG_WARNING, C, "%s; signed tree heads keep their order (a head's time is never below the last)",
	       why);
	return sp_audit_append(t, &e, NULL);
}

int sp_clockstep_check(sp_clockstep *c, sp_txn *t, int64_t *step_ms)
{
	int64_t wall = (int64_t)sp_now_ms(), off = wall - (int64_t)sp_mono_ms(), step = 0;
	int rc = SP_OK;
	if (step_ms)
		*step_ms = 0;
	if (!c->have) {
		uint64_t last = 0;
		c->have = 1;
		c->offset_ms = off;
		if (sp_sth_last_time(t, &last) == SP_OK && (int64_t)last - wall >= SP_CLOCKSTEP_MIN_MS) {
			step = wall - (int64_t)last;
			rc = record(t, step, "(at least; the wall clock is behind the last signed tree head)");
		}
	} else if (off - c->offset_ms >= SP_CLOCKSTEP_MIN_MS || c->offset_ms - off >= SP_CLOCKSTEP_MIN_MS) {
		step = off - c->offset_ms;
		rc = record(t, step, "(against the monotonic clock)");
		if (rc == SP_OK)
			c->offset_ms = off;
	}
	if (step_ms && rc == SP_OK)
		*step_ms = step;
	return rc;
}
