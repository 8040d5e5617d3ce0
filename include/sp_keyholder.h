/*
 * sp_keyholder.h — the node's key holder process (daemon/keyholder/): the
 * only process that holds the secret sign key, box key and
 * pseudonymisation key. Protocol and client handle: sp_kh.h.
 */
#ifndef SP_KEYHOLDER_H
#define SP_KEYHOLDER_H

#include <signal.h>
#include "sp_config.h"
#include "sp_kh.h"

/* A parsed request (all pointers borrow the datagram). */
typedef struct sp_kh_request {
	int op;
	uint32_t seq;
	int domain;                /* SIGN */
	const uint8_t *msg;        /* SIGN: message; UNSEAL: 80 bytes; SELECT: curve_pk, sign_pk */
	size_t len;
	uint32_t epoch;            /* PSEUDONYM */
	int kind;
	char id[17];               /* PSEUDONYM: NUL-terminated digits */
} sp_kh_request;

/* The one parser of what the network process sends (fuzzed:
 * tests/fuzz/fuzz_keyholder.c). org: ours, for the receipts layout check.
 * SP_EMALFORMED for anything but a well-formed request. */
int sp_keyholder_parse(const uint8_t *buf, size_t len, const char *org, sp_kh_request *out) SP_MUST_CHECK;
/* Answer one datagram with the local handle: writes the answer (header +
 * body) into ans (SP_KH_MSG_MAX bytes), *anslen its length. Always answers
 * (a refusal carries its status). */
void sp_keyholder_answer(sp_kh *local, const char *org, const uint8_t *req, size_t len, uint8_t *ans,
                         size_t *anslen);

/* The node's process split: fork the network process (which runs
 * sp_node_run with a remote handle) and become the key holder: load the
 * keys, lock down (no dumps, no file system, no new privileges) and answer
 * until the network process exits. Either one dying stops both (docs/privsep.md).
 * Returns the exit code for main. */
int sp_keyholder_run(const sp_config *c, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);

#endif
