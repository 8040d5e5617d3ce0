/*
 * sp_awaiting.h — submits held while the pseudonymisation service gives no
 * pseudonym (issue 13, faults; daemon/node/sp_awaiting.c).
 *
 * When the service is unreachable (SP_ETIMEOUT: no answer, or fewer than the
 * threshold of instances), a submit from the local socket is not refused: it
 * is validated as far as it can be, given its signal id, and stored in
 * SP_DB_AWAITING — the whole SubmitRequest encrypted under a random data key
 * that is sealed (crypto_box_seal) to this node's own box key, so only the
 * key holder can open it again (its UNSEAL, as for a grant). The network
 * process keeps no key to it. The node loop retries with backoff; once the
 * service answers, the signal is built and sealed exactly as a normal submit
 * (same id, created at the time of the submit), put in the outbox as pending
 * and the held entry deleted, in one transaction. A held submit older than
 * max_age_s (or past its retention) is rejected: its data is deleted, a
 * tombstone with the reason stays until the retention ends, so `seinpost
 * outbox` can say what became of it. A refusal by the service (rate limit,
 * a proof that fails) is never held: that submit is refused.
 */
#ifndef SP_AWAITING_H
#define SP_AWAITING_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_kh.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "sp_status.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_AWAITING_WARN_S 300   /* status warns when one waits longer */
#define SP_AWAITING_BATCH 16     /* built per round at most */
#define SP_AWAITING_SCAN 256     /* entries handled per round at most (deletions included) */

typedef struct sp_awaiting sp_awaiting;

/* All borrowed for the object's life. */
typedef struct sp_awaiting_opts {
	const char *org;
	sp_kh *kh;
	sp_roster *const *roster; /* where the current roster is (a reload replaces it) */
	const sp_policy *policy;
	sp_store *store;
	uint32_t max_age_s;   /* give up on a held submit older than this */
	uint32_t retry_ms;    /* first retry; doubles up to 30 x this, at most 60 s */
} sp_awaiting_opts;

/* NULL in *out (and SP_OK) when the node takes no pseudonyms from a service. */
int sp_awaiting_new(const sp_awaiting_opts *o, sp_awaiting **out) SP_MUST_CHECK;
void sp_awaiting_free(sp_awaiting **a);

/* Hold req (a submit that failed with SP_ETIMEOUT for want of a pseudonym).
 * *reply (malloc'd, caller frees) is the packed LocalReply for the client:
 * the id and waiting = true, or the known id for a known idempotency key, or
 * a refusal when it could not be stored. SP_ENOTFOUND when a is NULL (the
 * caller refuses the submit as before). */
int sp_awaiting_hold(sp_awaiting *a, const Seinpost__SubmitRequest *req, uint8_t **reply,
                     size_t *replylen) SP_MUST_CHECK;

/* When due: build what waits (at most SP_AWAITING_BATCH), reject what is too
 * old. Returns how many went to the outbox (the caller sends them). */
size_t sp_awaiting_tick(sp_awaiting *a, uint64_t now_mono_ms);

/* Is id held (not rejected)? */
int sp_awaiting_held(sp_txn *t, const uint8_t id[16]);

/* For `seinpost outbox`: each entry, oldest key first. state "waiting" or
 * "rejected"; strings borrowed for the call. */
typedef int (*sp_awaiting_visit_fn)(void *ctx, const uint8_t id[16], uint64_t held_ms, const char *category,
                                    uint32_t weight, const char *state, const char *reason);
int sp_awaiting_foreach(sp_txn *t, sp_awaiting_visit_fn fn, void *ctx);

/* `seinpost status`: awaiting/waiting (WARN past SP_AWAITING_WARN_S, BAD
 * past max_age_s) and awaiting/rejected. */
int sp_awaiting_status(const sp_status_src *src, sp_status *st);

#endif
