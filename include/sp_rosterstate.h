/*
 * sp_rosterstate.h — which roster a process holds.
 *
 * The configuration names the roster the organisation started with
 * (roster = ..., often under a read-only /etc). A node later takes newer
 * rosters from the broker (Frame.roster, signed by the operator) and keeps
 * the newest in its state directory as roster.bin; the CLI and the node at
 * start use whichever of the two has the higher serial. Both are verified
 * against the pinned operator_key; a roster of another network or naming
 * another broker CURVE key is refused.
 */
#ifndef SP_ROSTERSTATE_H
#define SP_ROSTERSTATE_H

#include "sp_config.h"
#include "sp_error.h"
#include "sp_roster.h"
#include "seinpost.pb-c.h"

int sp_rosterstate_load(const sp_config *c, sp_roster **out) SP_MUST_CHECK;
/* A roster offered by the broker: verified, newer than cur, same network
 * and broker CURVE key; then written to the state directory. SP_EEXIST when
 * it is not newer (nothing to do). */
int sp_rosterstate_accept(const sp_config *c, const sp_roster *cur, const Seinpost__SignedRoster *sr,
                          sp_roster **out) SP_MUST_CHECK;

#endif
