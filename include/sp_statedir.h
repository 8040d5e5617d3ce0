/*
 * sp_statedir.h — the state directory of a broker or node: create it, refuse
 * filesystems LMDB must not live on, and keep it to one owner at a time.
 *
 * Locks (flock(2), released by the kernel when the process dies, kill -9
 * included; nothing to clean up):
 *   SP_LOCK_DAEMON  exclusive on <state>/seinpostd.lock, held for the life of
 *                   seinpostd; the file holds its pid. A second daemon on the
 *                   same state is refused: "already running (pid N)".
 *   SP_LOCK_WRITER  a CLI that writes beside a running daemon (show: read
 *                   records; who-saw: query records): shared on
 *                   <state>/writers.lock. LMDB serialises the writes
 *                   themselves; this lock only keeps out an SP_LOCK_ADMIN.
 *   SP_LOCK_ADMIN   a CLI that needs the state to itself (restore, offline
 *                   migration): exclusive on both files; refused while the
 *                   daemon or a writer runs.
 * The lock files are never removed: removing a locked file would let a second
 * process lock a new inode under the same name.
 *
 * Remote and FUSE filesystems: LMDB's locking and mmap coherence need a local
 * filesystem (its documentation: "do not use LMDB databases on remote
 * filesystems"). sp_statedir_prepare refuses NFS, CIFS/SMB, FUSE and other
 * network filesystems by statfs(2) f_type.
 */
#ifndef SP_STATEDIR_H
#define SP_STATEDIR_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"

enum sp_lock_kind { SP_LOCK_DAEMON = 1, SP_LOCK_WRITER, SP_LOCK_ADMIN };

typedef struct sp_lock sp_lock;

/* Create dir (0700, parents too) when missing, then check its filesystem.
 * On failure why holds one clear line (with the errno text or the
 * filesystem's name). SP_EIO/SP_EPERM: cannot create; SP_ECONFIG: remote or
 * FUSE filesystem. */
int sp_statedir_prepare(const char *dir, char *why, size_t whylen) SP_MUST_CHECK;

/* Classify a statfs f_type: NULL for a local filesystem, else its name
 * ("NFS", "CIFS/SMB", "FUSE", ...) for one that state must not live on. */
const char *sp_statedir_remote_fs(uint64_t f_type);

/* Take a lock of the given kind (never blocks). SP_EBUSY when another
 * process holds it; why then says who ("already running (pid N)"). The lock
 * is owned by the caller: sp_statedir_unlock releases it (NULL-safe). */
int sp_statedir_lock(const char *dir, enum sp_lock_kind kind, sp_lock **out,
                     char *why, size_t whylen) SP_MUST_CHECK;
void sp_statedir_unlock(sp_lock **l);

#endif
