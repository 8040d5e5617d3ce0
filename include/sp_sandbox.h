/*
 * sp_sandbox.h — what a process gives up after start: Landlock file-system
 * rules, no new privileges, no core dumps (docs/privsep.md).
 *
 * Landlock (Linux >= 5.13, unprivileged) can only allow, never deny. To
 * take away a few paths (keys/, the state directory) and leave the rest of
 * the file system as it was, sp_sandbox_ruleset walks from / down to each
 * denied path and allows every sibling on the way (directories with their
 * whole subtree). Consequence, documented: in a directory on the way to a
 * denied path, entries created after start are out of reach until restart
 * (keep keys/ in a directory of its own). Symbolic links met on the way get
 * no rule; their targets are reached through their own path.
 *
 * Without Landlock (old kernel, LSM disabled) every call logs one warning
 * and succeeds: the keys are still only in the key holder's memory, but
 * another process of the same user can read the files.
 */
#ifndef SP_SANDBOX_H
#define SP_SANDBOX_H

#include <stddef.h>
#include "sp_config.h"
#include "sp_error.h"

/* The Landlock ABI version of the running kernel, 0 when there is none. */
int sp_sandbox_abi(void);

/* A ruleset fd allowing everything except deny[0..n-1] (absolute paths;
 * a path that does not exist is ignored). *fd = -1 without Landlock. */
int sp_sandbox_ruleset(const char *const *deny, size_t n, int *fd) SP_MUST_CHECK;
/* no_new_privs + landlock_restrict_self(fd) for the calling thread;
 * closes fd. fd -1: no_new_privs only. */
int sp_sandbox_enforce(int fd) SP_MUST_CHECK;
/* PR_SET_DUMPABLE 0: no core dump, /proc/PID/mem and ptrace closed to
 * other processes of the same user. */
void sp_sandbox_nodump(void);

/* The node's network process: keys/, the pseudonymisation key and the
 * systemd credentials directory become unreadable; checked by opening
 * keys/sign.key, logged either way. */
int sp_sandbox_network(const sp_config *c) SP_MUST_CHECK;
/* The ruleset for delivery hooks (on top of the network process's): the
 * state directory too. *fd = -1 without Landlock. */
int sp_sandbox_hook_ruleset(const sp_config *c, int *fd) SP_MUST_CHECK;
/* The hooks' ruleset made by sp_sandbox_network (-1: none, or no Landlock);
 * a hook child applies it with landlock_restrict_self before exec. */
int sp_sandbox_hook_fd(void);
/* The broker after start: keys/ unreadable, no dumps, no new privileges. */
int sp_sandbox_broker(const sp_config *c) SP_MUST_CHECK;
/* The key holder after loading its keys: no file system at all, except
 * reading keys_dir (NULL: none), where `keys rotate` puts a new key
 * generation that a new roster may name while the node runs. */
int sp_sandbox_keyholder(const char *keys_dir) SP_MUST_CHECK;

#endif
