/*
 * sp_hook.h — delivery hooks at a receiving node: hand each newly received
 * signal or referral to the organisation's own systems (a case system
 * import), as JSON on a command's stdin and/or as a file in a spool-out
 * directory. See docs/hooks.md.
 *
 * Queue: SP_DB_HOOK be64(seq) -> HookItem (proto), seq from META "hook.seq"
 * so an item id is never reused. sp_hook_enqueue runs in the same (child)
 * transaction as the inbox write, so an acknowledged delivery cannot miss
 * its hook. The runner hands items over strictly in queue order (a consumer
 * sees a signal before its update) and deletes each in the commit right
 * after it succeeded; a failed one stays at the head with its attempts, last
 * error and next attempt (backoff), visible in `seinpost status`.
 */
#ifndef SP_HOOK_H
#define SP_HOOK_H

#include <stddef.h>
#include <stdint.h>
#include "sp_config.h"
#include "sp_error.h"
#include "sp_kh.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "sp_status.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_HOOK_BACKOFF_MAX_MS (10u * 60u * 1000u) /* retry delay cap: 10 min */
#define SP_HOOK_BAD_ATTEMPTS 3   /* status is BAD once the oldest item failed this often */
#define SP_HOOK_KILL_GRACE_MS 2000 /* SIGTERM, then SIGKILL after this */
#define SP_HOOK_ITEM_ID_MAX 64

/* Is a command or a spool-out directory configured? */
int sp_hook_enabled(const sp_config *c);

/* Queue an item for signal id inside write txn t (the inbox write's). */
int sp_hook_enqueue(sp_txn *t, const uint8_t id[16], Seinpost__HookKind kind,
                    uint64_t now_ms) SP_MUST_CHECK;

/* "signal", "referral", "update", "feedback", "withdrawn" */
const char *sp_hook_kind_name(int kind);
/* Delay before the next attempt after `attempts` failed ones (>= 1):
 * retry_s, doubling, capped at SP_HOOK_BACKOFF_MAX_MS. */
uint64_t sp_hook_backoff_ms(uint32_t retry_s, uint32_t attempts);
/* Stable id for consumers to de-duplicate: "<signal id hex>-<kind>-<seq>". */
void sp_hook_item_id(const Seinpost__HookItem *it, char *out, size_t len);
/* Serialise / parse (SP_EMALFORMED unless the signal id has 16 bytes). */
int sp_hook_item_encode(const Seinpost__HookItem *it, uint8_t **out, size_t *len) SP_MUST_CHECK;
int sp_hook_item_decode(const void *v, size_t len, Seinpost__HookItem **out) SP_MUST_CHECK;

/* The runner, driven by the node's event loop (never blocks it). The
 * config, store, key-holder handle, roster and policy are borrowed and must outlive it. */
typedef struct sp_hook sp_hook;
int sp_hook_open(const sp_config *c, sp_store *s, sp_kh *kh, const sp_roster *r,
                 const sp_policy *p, sp_hook **out) SP_MUST_CHECK;
/* The operator fixed the hook (SIGHUP): run the oldest item now instead of
 * after its backoff; a further failure backs off as before. */
void sp_hook_retry_now(sp_hook *h);
/* New items were committed: look at the queue on the next tick. */
void sp_hook_kick(sp_hook *h);
/* Advance: feed / reap / time out a running hook, or start the next due
 * item. Call every loop iteration. */
void sp_hook_tick(sp_hook *h);
/* Stop a running hook (its item stays pending, run again later), free. */
void sp_hook_close(sp_hook **h);

/* `seinpost status` lines: pending count, oldest age, attempts, last error. */
int sp_status_hook(const sp_status_src *src, sp_status *st);

/* A new roster (reload): the old one may be freed once this returns. */
void sp_hook_set_roster(sp_hook *h, const sp_roster *r);

#endif
