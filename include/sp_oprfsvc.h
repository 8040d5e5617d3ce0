/*
 * sp_oprfsvc.h — the oblivious pseudonymisation service's request handling
 * and its key file (role pseudonymiser; docs/pseudonymiser.md).
 *
 * A request is an OprfSignedRequest: an OprfRequest signed with the
 * requesting organisation's Ed25519 key over SP_OPRF_REQ_DOMAIN ‖ request.
 * The service evaluates only when the signer is the organisation the CURVE
 * handshake proved, on the roster, within its role's [limits ROLE] of the
 * sharing policy; it counts per signing organisation per UTC day in LMDB
 * and audits every evaluation and every refusal in its own audit log.
 *
 * Key files in the service's key directory: oprf.key (0600, hex scalar,
 * refused when group/world-accessible) and oprf.pub (hex sk·G).
 */
#ifndef SP_OPRFSVC_H
#define SP_OPRFSVC_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "sp_workers.h"

#define SP_OPRF_REQ_DOMAIN "seinpost/oprf-req/v1"
#define SP_OPRF_REQ_ID_BYTES 16

typedef struct sp_oprf_key {
	uint8_t sk[32];
	uint8_t pk[32];
} sp_oprf_key; /* sodium_malloc'd */

int sp_oprf_key_generate(sp_oprf_key **out) SP_MUST_CHECK;
int sp_oprf_key_save(const sp_oprf_key *k, const char *keys_dir) SP_MUST_CHECK;
/* SP_EPERM on a loose oprf.key, SP_EKEY when oprf.pub is not sk·G. */
int sp_oprf_key_load(const char *keys_dir, sp_oprf_key **out) SP_MUST_CHECK;
void sp_oprf_key_free(sp_oprf_key **k);

typedef struct sp_oprfsvc_ctx {
	const sp_roster *roster;    /* borrowed */
	const sp_policy *policy;    /* borrowed: [limits ROLE] */
	const sp_oprf_key *key;     /* borrowed */
	const char *self;           /* our roster id (audit actor of refusals) */
	uint32_t max_clock_skew_s;
	sp_workers *workers;        /* borrowed, may be NULL: a second core for the OPRF work */
} sp_oprfsvc_ctx;

/* Handle one request that arrived from proven_org (the ZAP User-Id).
 * Counters and the audit record are written in t (a write transaction the
 * caller commits). *reply (malloc'd OprfReply) is set whenever SP_OK is
 * returned, also for refusals; alarm gets a fixed text (no personal data)
 * when the refusal is one the privacy officer must see (rate limit, bad
 * signature), else "". A non-OK return means a store failure: abort t. */
int sp_oprfsvc_handle(const sp_oprfsvc_ctx *c, sp_txn *t, const char *proven_org,
                      const uint8_t *req, size_t len, uint64_t now_ms, uint8_t **reply,
                      size_t *rlen, char *alarm, size_t alarmlen) SP_MUST_CHECK;

/* Evaluations counted for org on the UTC day of now_ms. */
int sp_oprfsvc_used(sp_txn *t, const char *org, uint64_t now_ms, uint64_t *used) SP_MUST_CHECK;

/* status provider (sp_status.c): evaluations per organisation today. */
struct sp_status;
struct sp_status_src;
int sp_oprfsvc_status(const struct sp_status_src *src, struct sp_status *st);

/* The limits in force for an organisation of role. */
void sp_oprfsvc_limits(const sp_policy *p, const char *role, uint32_t *per_day,
                       uint32_t *per_request);

#endif
