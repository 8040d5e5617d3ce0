/*
 * sp_pseudonymiser.h — seinpostd in role pseudonymiser (issue 13): the
 * oblivious pseudonymisation service. See docs/pseudonymiser.md.
 */
#ifndef SP_PSEUDONYMISER_H
#define SP_PSEUDONYMISER_H

#include <signal.h>
#include "sp_config.h"

/* Runs until *stop; *reload (SIGHUP) re-reads policy and roster. */
int sp_pseudonymiser_run(const sp_config *c, volatile sig_atomic_t *stop,
                         volatile sig_atomic_t *reload);

#endif
