/*
 * sp_spool.h — spool ingestion at a node (issue #7, docs/spool.md).
 *
 * A partner system drops one JSON file per signal (or per list of
 * involvement registrations) into the node's spool directory, written as a
 * temporary name and renamed into place. The node reads each `*.json` file
 * once it appears, validates it with the same rules as `seinpost submit`,
 * and moves it to done/ (with the assigned signal id beside it) or to
 * rejected/ beside a `.error` file naming every problem (field and reason,
 * never its content). Nothing of a rejected file is stored or sent.
 *
 * Two layers: a pure parser (sp_spool_parse.c: bytes -> LocalRequest,
 * unit-tested and fuzzed) and the directory watcher (sp_spool.c: inotify +
 * a scan at start-up and on retry, the idempotency keys, status lines).
 */
#ifndef SP_SPOOL_H
#define SP_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include "sp_error.h"
#include "sp_status.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_SPOOL_NAME_MAX 200      /* file name length in the spool directory */
#define SP_SPOOL_ERRORS_MAX 4096   /* text of a .error file */
#define SP_SPOOL_KEY_BYTES 32      /* stored idempotency key: BLAKE2b-256 */

enum sp_spool_kind { SP_SPOOL_SIGNAL = 1, SP_SPOOL_INVOLVE = 2 };

/* ---- the parser (pure: no files, no store, no clock) ---------------------- */

/* Parse one spool file. On success (SP_OK) *req is a packed LocalRequest
 * (malloc'd; body submit for a signal, involve_batch for involvements) and
 * *kind says which. A signal without "idempotency_key" gets the BLAKE2b of
 * the file's bytes as its key, so the same file twice is one signal.
 * now_s: involvement end dates must lie after it.
 * On failure errs gets one line per problem ("field 'weight': must be 1, 2
 * or 3"), never a value from the file; the return code is that of the first
 * problem (SP_EMALFORMED, SP_EBSN, SP_EWEIGHT, SP_EDATE, SP_ESIZE ...). */
int sp_spool_parse(const char *buf, size_t len, uint64_t now_s, int *kind, uint8_t **req, size_t *reqlen,
                   char *errs, size_t errlen) SP_MUST_CHECK;

/* The key stored in SP_DB_SPOOL for an idempotency key (domain-separated
 * BLAKE2b-256, so the raw key never sits in the store). */
void sp_spool_key(const char *idempotency_key, uint8_t out[SP_SPOOL_KEY_BYTES]);

/* What SP_DB_SPOOL holds for a key: the signal id and its expiry (be64
 * unix seconds), so the key is forgotten with the signal (storage
 * limitation). */
#define SP_SPOOL_KEY_VALUE (16 + 8)
void sp_spool_key_value(const uint8_t id[16], uint64_t expires, uint8_t out[SP_SPOOL_KEY_VALUE]);

/* Delete the keys whose signal expired before now_s (at most a few
 * thousand per call; the rest next time). *pruned: how many. */
int sp_spool_prune(sp_txn *t, uint64_t now_s, size_t *pruned) SP_MUST_CHECK;

/* ---- the directory watcher ------------------------------------------------ */

typedef struct sp_spool sp_spool;

/* One file taken from the spool, parsed, waiting for the node's verdict. */
typedef struct sp_spool_file {
	char name[SP_SPOOL_NAME_MAX + 1];
	int kind;             /* enum sp_spool_kind */
	uint8_t *req;         /* packed LocalRequest */
	size_t reqlen;
	struct stat st;       /* the file as read: one renamed over it since is not moved */
} sp_spool_file;

/* Watch dir (created 0750 when missing, with done/ and rejected/). Files
 * larger than max_bytes are rejected without being read. Every file already
 * there is queued (dropped while the node was down). SP_EPERM when the
 * directory is writable by others (anyone could submit as this node). */
int sp_spool_open(const char *dir, size_t max_bytes, sp_spool **out) SP_MUST_CHECK;
void sp_spool_close(sp_spool **s);

/* The inotify descriptor, for the node's poll loop. */
int sp_spool_fd(const sp_spool *s);

/* Files queued and not yet taken: the node does not sleep while > 0. */
size_t sp_spool_waiting(const sp_spool *s);

/* Read pending inotify events (non-blocking) and rescan the directory when
 * a retry is due or events were lost. now_ms: monotonic. */
void sp_spool_events(sp_spool *s, uint64_t now_ms);

/* The next queued file that parses: 1 with *out (give it one of the
 * verdicts below), 0 when none is waiting.
 * Files that do not parse are moved to rejected/ on the way. */
int sp_spool_next(sp_spool *s, sp_spool_file **out);

/* Verdicts; each frees f. done: move to done/ with the signal id (NULL for
 * involvements). reject: to rejected/ with errs. later: a local fault (disk
 * full, policy mismatch): leave the file in place and try again later. */
void sp_spool_done(sp_spool *s, sp_spool_file *f, const uint8_t *id);
void sp_spool_reject(sp_spool *s, sp_spool_file *f, const char *errs);
void sp_spool_later(sp_spool *s, sp_spool_file *f, uint64_t now_ms);

/* The broker finally rejected signal id, which came from a spool file: the
 * file (found by its done/NAME.id) moves with its .id to rejected/, beside
 * a NAME.error holding reason (no personal data). When done/ no longer holds
 * it, rejected/<id>.error is written instead. Rare: a scan of done/. */
void sp_spool_verdict(sp_spool *s, const uint8_t id[16], const char *reason);

/* `seinpost status` lines (files waiting and their age, rejected, done,
 * keys); nothing when no spool is configured. */
int sp_spool_status(const sp_status_src *src, sp_status *st);

#endif
