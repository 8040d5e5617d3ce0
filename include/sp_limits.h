/*
 * sp_limits.h — per-role limits from the policy's [limits ROLE] sections.
 *
 * One section syntax for every limit an organisation of a role is held to:
 *
 *   [limits school]
 *   max_involvements     = 2000   ; active involvements per organisation
 *   involvements_per_day = 500    ; new registrations per organisation per UTC day
 *   release_back_days    = 30     ; a new involvement releases signals at most this old
 *
 * The pseudonymisation service's rate limits (issue 13) are further keys of
 * the same section. A key left out is no limit. The broker counts per
 * organisation in SP_DB_META ("lim.n" org, "lim.d" org be32(day)), in the
 * transaction that stores the involvement, so a count never runs ahead of
 * what is stored. A refusal is SP_ELIMIT, audited as a REJECTED record with
 * that code (who-saw lists it; the privacy officer's node raises an alarm).
 */
#ifndef SP_LIMITS_H
#define SP_LIMITS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "sp_error.h"
#include "sp_policy.h"
#include "sp_store.h"

#define SP_LIMITS_UNSET UINT_MAX

/* May org (of role) register one more involvement now? SP_OK, SP_ELIMIT
 * with why filled (no personal data), or a store error. */
int sp_limits_involve_check(sp_txn *t, const sp_policy *p, const char *org, const char *role,
                            uint64_t now_s, char *why, size_t whylen) SP_MUST_CHECK;
/* Count a new involvement (added = 1) or one that ended (added = -1). */
int sp_limits_involve_count(sp_txn *t, const char *org, int added, uint64_t now_s) SP_MUST_CHECK;
/* Signals created before this (unix s) are not released to a new
 * involvement of that role; 0 = no bound. */
uint64_t sp_limits_release_since(const sp_policy *p, const char *role, uint64_t now_s);
/* The [limits] part of `seinpost policy check`. */
void sp_limits_print(const sp_policy *p, FILE *out);

#endif
