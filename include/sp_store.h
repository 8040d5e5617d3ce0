/*
 * sp_store.h — the LMDB environment of a broker or node.
 *
 * One environment per process state directory, named databases per concern.
 * Always full durability: no MDB_NOSYNC, MDB_NOMETASYNC, MDB_MAPASYNC or
 * MDB_WRITEMAP. Stale readers are cleared at open, and by the daemons every
 * few seconds (sp_store_reader_check). Values returned by
 * sp_store_get / iteration are BORROWED: valid until the transaction ends;
 * copy them out before commit or abort.
 */
#ifndef SP_STORE_H
#define SP_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"

enum sp_db {
	SP_DB_META = 0,   /* small named values: audit head, counters */
	SP_DB_OUTBOX,     /* node: signal id -> OutboxEntry */
	SP_DB_INBOX,      /* node: signal id -> InboxEntry */
	SP_DB_SIGNALS,    /* broker: signal id -> BrokerSignal (dedup index) */
	SP_DB_QUEUE,      /* broker: recipient '\0' be64(seq) -> Delivery */
	SP_DB_AUDIT,      /* be64(seq) -> AuditRecord */
	SP_DB_INVOLVE,    /* pseudonym || org -> Involvement */
	SP_DB_AUDIX,      /* audit side tables: Merkle nodes, tree heads, indexes (sp_mtree.h) */
	SP_DB_SPOOL,      /* node: spool idempotency key -> signal id (sp_spool.h) */
	SP_DB_HOOK,       /* node: pending hand-overs to the organisation's systems (sp_hook.h) */
	SP_DB_FEEDBACK,   /* node: what happened with the signals we sent (sp_feedback_keep.h) */
	SP_DB_AWAITING,   /* node: signal id -> AwaitingEntry, submits waiting for a pseudonym (sp_awaiting.h) */
	SP_DB_SUBJECT,    /* broker: network pseudonym -> subject handle (sp_subject.h) */
	SP_DB_COUNT
};

typedef struct sp_store sp_store;
typedef struct sp_txn sp_txn;

#define SP_STORE_RDONLY 0x1
/* Also read every reachable page once (in a child process) before opening,
 * so damage deep in the tree is reported as SP_ECORRUPT instead of a SIGBUS
 * hours later. Costs one full read of data.mdb: the daemons ask for it at
 * start-up; CLI opens do not. Without it, open still checks the file
 * (present, non-empty, regular), the meta pages (mdb_env_open) and the file
 * length against the last used page, and falls back to the full walk when
 * those look inconsistent. */
#define SP_STORE_CHECK 0x2

/* Opens (creating the directory 0700 when missing and not read-only).
 * map_size in bytes (0 = 256 MiB). SP_ECORRUPT when the files cannot be
 * opened as an LMDB environment. Checks the layout version (sp_schema.h):
 * SP_ESCHEMA for a store newer than this binary; a read-write open migrates
 * an older one. */
int sp_store_open(const char *dir, uint64_t map_size, unsigned flags, sp_store **out) SP_MUST_CHECK;
void sp_store_close(sp_store **s);

int sp_txn_begin(sp_store *s, int write, sp_txn **out) SP_MUST_CHECK;
/* Commit frees the txn; SP_EMAPFULL / SP_EIO on failure (txn is aborted). */
int sp_txn_commit(sp_txn **t) SP_MUST_CHECK;
void sp_txn_abort(sp_txn **t);  /* NULL-safe */
/* A child of a write transaction (LMDB nested transaction): its changes
 * become part of the parent on commit, vanish on abort, and a failure in it
 * (e.g. SP_EMAPFULL) leaves the parent usable. The parent must not be used
 * while the child is open. Lets a group commit isolate one bad frame. */
int sp_txn_begin_child(sp_txn *parent, sp_txn **out) SP_MUST_CHECK;

/* flags: SP_PUT_NOOVERWRITE -> SP_EEXIST when the key exists. */
#define SP_PUT_NOOVERWRITE 0x1
int sp_store_put(sp_txn *t, enum sp_db db, const void *k, size_t klen,
                 const void *v, size_t vlen, unsigned flags) SP_MUST_CHECK;
/* SP_ENOTFOUND when absent. *v borrowed. */
int sp_store_get(sp_txn *t, enum sp_db db, const void *k, size_t klen,
                 const void **v, size_t *vlen) SP_MUST_CHECK;
int sp_store_del(sp_txn *t, enum sp_db db, const void *k, size_t klen) SP_MUST_CHECK;

/* Visit keys starting with prefix (plen 0 = all) in key order; fn returns
 * nonzero to stop (that value is returned). k/v borrowed. */
typedef int (*sp_store_visit_fn)(void *ctx, const void *k, size_t klen,
                                 const void *v, size_t vlen);
int sp_store_foreach(sp_txn *t, enum sp_db db, const void *prefix, size_t plen,
                     sp_store_visit_fn fn, void *ctx);
/* Like sp_store_foreach, but starts at the first key >= from (which must
 * itself start with prefix) instead of at the prefix: a cursor seek, so a
 * caller that remembers where it stopped does not rescan what it has seen. */
int sp_store_foreach_from(sp_txn *t, enum sp_db db, const void *prefix, size_t plen,
                          const void *from, size_t fromlen, sp_store_visit_fn fn, void *ctx);
/* Last key/value of a database; SP_ENOTFOUND when empty. Borrowed. */
int sp_store_last(sp_txn *t, enum sp_db db, const void **k, size_t *klen,
                  const void **v, size_t *vlen) SP_MUST_CHECK;
/* Number of entries. */
int sp_store_count(sp_txn *t, enum sp_db db, uint64_t *n) SP_MUST_CHECK;

/* Space: bytes of the map in use (last page) and the map size. */
int sp_store_usage(sp_store *s, uint64_t *used, uint64_t *map_size) SP_MUST_CHECK;

/* Clear reader slots left by processes that died inside a read transaction
 * (kill -9 of a CLI or mdb_dump): until cleared, every page they could see
 * stays pinned and the file grows. *cleared: slots freed now. */
int sp_store_reader_check(sp_store *s, int *cleared) SP_MUST_CHECK;

/* Top-level write commits of this process since open: count, total and
 * longest duration (microseconds, fsync included). For status/metrics. */
void sp_store_commit_stats(const sp_store *s, uint64_t *n, uint64_t *sum_us, uint64_t *max_us);

/* A consistent, compacted copy of the whole environment as it stands at
 * one committed transaction (mdb_env_copy2, MDB_CP_COMPACT), written to
 * dest_dir/data.mdb; dest_dir must exist and hold no data.mdb. Safe while
 * other processes write the store. The copy is not fsync'd. */
int sp_store_copy(sp_store *s, const char *dest_dir) SP_MUST_CHECK;

/* Last LMDB error text for diagnostics (static string). */
const char *sp_store_last_error(void);
/* Set that text (modules checking a store at open: sp_schema). */
void sp_store_note_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
