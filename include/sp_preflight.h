/*
 * sp_preflight.h — every check the daemon's start-up runs, in one place,
 * so that `seinpostd --check-config` and the start itself agree: the key
 * files (present, matching, mode 0600 or stricter), the pseudonymisation
 * key (nodes only, never the broker), the roster's signature and our place
 * on it, the policy, and the state directory.
 */
#ifndef SP_PREFLIGHT_H
#define SP_PREFLIGHT_H

#include <stddef.h>
#include "sp_config.h"
#include "sp_error.h"

/* SP_OK, or the first problem's code with why naming the file and what is
 * wrong ("keys/sign.key: mode 0644; a secret key must be 0600 or stricter
 * (chmod 600 ...)"), never a key's content. */
int sp_preflight(const sp_config *cfg, char *why, size_t whylen) SP_MUST_CHECK;

#endif
