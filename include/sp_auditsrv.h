/*
 * sp_auditsrv.h — the broker's side of the audit protocol: tree-head proofs
 * for witnessing nodes, read receipts, and the privacy officer's queries.
 *
 * Called from the broker's frame dispatch inside the batch transaction;
 * *reply (malloc'd packed Frame, may stay NULL) is sent after commit.
 * Errors from the store are returned (the batch then acknowledges
 * nothing); a peer's bad input is logged and answered or ignored.
 */
#ifndef SP_AUDITSRV_H
#define SP_AUDITSRV_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

struct sp_policy;
typedef struct sp_auditsrv {
	const sp_roster *roster;
	const struct sp_policy *policy; /* which feedback events flow back */
	const uint8_t *sign_sk;      /* broker Ed25519, 64 bytes */
	size_t max_frame;
} sp_auditsrv;

/* 1 when the frame body is one of ours. */
int sp_auditsrv_owns(const Seinpost__Frame *f);
int sp_auditsrv_handle(const sp_auditsrv *s, sp_txn *t, const char *org, const Seinpost__Frame *f,
                       uint8_t **reply, size_t *len) SP_MUST_CHECK;

#endif
