/*
 * sp_clockstep.h — the broker notices when its wall clock jumps (issue 11).
 *
 * Once a second the broker compares the wall clock with the monotonic one;
 * when their difference changes by SP_CLOCKSTEP_MIN_MS or more, the wall
 * clock stepped (an operator, NTP correcting a large error, a VM restored).
 * The step goes into the audit log as a `clock-step` record whose code is
 * the step in seconds, so `audit verify` can report it as a warning; tree
 * heads keep their order regardless (sp_sth clamps). At start, a wall clock
 * behind the last signed head is a step back while the broker was stopped.
 * Forward steps while stopped look like downtime and cannot be told apart.
 */
#ifndef SP_CLOCKSTEP_H
#define SP_CLOCKSTEP_H

#include <stdint.h>
#include "sp_error.h"
#include "sp_store.h"

#define SP_CLOCKSTEP_MIN_MS 2000

typedef struct sp_clockstep {
	int have;          /* offset_ms holds the last reading */
	int64_t offset_ms; /* wall - monotonic at the last reading */
} sp_clockstep;

/* Read both clocks; record a step (in t) when there was one. *step_ms (may
 * be NULL) gets its size, 0 when none. */
int sp_clockstep_check(sp_clockstep *c, sp_txn *t, int64_t *step_ms) SP_MUST_CHECK;

#endif
