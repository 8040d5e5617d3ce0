/*
 * sp_node_oprf.h — the node's pseudonyms from the pseudonymisation service
 * (docs/pseudonymiser.md): when the configuration names the service
 * ([pseudonymiser]), the network process opens a client (after its sandbox,
 * pinned to the roster's key) and every new pseudonym — submit, involvement,
 * bulk involvements in batches — is k·H(kind ‖ id), epoch
 * SP_PSEUDO_EPOCH_OPRF. Requests are signed by the key holder.
 */
#ifndef SP_NODE_OPRF_H
#define SP_NODE_OPRF_H

#include "sp_config.h"
#include "sp_error.h"
#include "sp_keys.h"
#include "sp_kh.h"
#include "sp_roster.h"

/* Elements per request: an OprfRequest of this many fits the key holder's
 * SIGN limit (SP_KH_OPRF_POINTS). A bulk list of n elements goes in
 * ceil(n / SP_NODE_OPRF_BATCH) requests, several in flight at a time
 * (sp_oprf_client.c). */
#define SP_NODE_OPRF_BATCH 512

/* SP_OK (nothing to do) when no service is configured. keys: the transport
 * keys; both keys and kh must outlive the client. */
int sp_node_oprf_open(const sp_config *c, const sp_keyset *keys, const sp_roster *r, sp_kh *kh) SP_MUST_CHECK;
void sp_node_oprf_close(sp_kh *kh);
/* A newer roster: the pin chain checked again (an alarm when it fails: the
 * old keys stay), the instances' new shares and key epoch taken. */
void sp_node_oprf_roster(const sp_roster *r, sp_kh *kh);

/* How many times the service answered in this process (monotonic): held
 * submits are retried at once when it moves (sp_awaiting.h). */
uint64_t sp_node_oprf_answered(void);

#endif
