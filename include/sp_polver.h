/*
 * sp_polver.h — the broker remembers which policy version it held before
 * the current one, and when it changed (issue 11, policy roll-outs).
 *
 * Signals sealed under the previous version are accepted for policy_grace_s
 * after the change (sp_admit), so signals that nodes stored before a
 * roll-out still arrive. Durable in SP_DB_META, owned here:
 *
 *   "pv.cur"  -> policy hash (32)                   the version last loaded
 *   "pv.prev" -> policy hash (32) || be64(unix ms)  the one before, and when
 *                                                    the current one replaced it
 */
#ifndef SP_POLVER_H
#define SP_POLVER_H

#include <stdint.h>
#include "sp_error.h"
#include "sp_store.h"

typedef struct sp_polver {
	int has_prev;
	uint8_t prev[32];
	uint64_t changed_ms;   /* when the current version replaced prev */
} sp_polver;

/* Record that the broker now holds the policy with hash cur (in t), and
 * fill *out. *changed (may be NULL): 1 when cur differs from the version
 * loaded before. */
int sp_polver_note(sp_txn *t, const uint8_t cur[32], uint64_t now_ms, sp_polver *out, int *changed) SP_MUST_CHECK;

#endif
