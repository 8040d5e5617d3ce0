/*
 * sp_oprf_client.h — a node asks the pseudonymisation service for
 * pseudonyms without showing it the identifiers (RFC 9497 VOPRF).
 *
 * The service's OPRF public key is pinned in the node's configuration
 * ([pseudonymiser] key, written at enrolment) and must equal the roster's
 * entry for [pseudonymiser] service: otherwise an operator who signs the
 * roster could swap in a key of its own. A mismatch is an alarm and nothing
 * is asked. Every answer's batched DLEQ proof is checked against the pinned
 * key before an element is unblinded; a wrong proof is an alarm too.
 *
 * Input of the PRF: one byte subject kind (sp_pseudo.h's enum) followed by
 * the normalised identifier (BSN, KvK number, BAG id). The pseudonym is the
 * unblinded element k·H(kind ‖ id), 32 bytes.
 */
#ifndef SP_OPRF_CLIENT_H
#define SP_OPRF_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include "sp_config.h"
#include "sp_error.h"
#include "sp_keys.h"
#include "sp_roster.h"

#define SP_OPRF_INPUT_MAX 64

typedef struct sp_oprfc sp_oprfc;

/* SP_OK when the node names a service ([pseudonymiser] in its config) and
 * the roster's key for it equals the pinned one; SP_ENOTFOUND when none is
 * configured; SP_EKEY with an alarm text in why otherwise. */
int sp_oprfc_check_pin(const sp_config *c, const sp_roster *r, char *why, size_t whylen) SP_MUST_CHECK;

/* Check the pin, connect (CURVE, pinned to the service's roster key).
 * k and r are borrowed and must outlive the client. */
int sp_oprfc_open(const sp_config *c, const sp_keyset *k, const sp_roster *r, sp_oprfc **out,
                  char *why, size_t whylen) SP_MUST_CHECK;
void sp_oprfc_close(sp_oprfc **c);

/* A newer roster: the pin check again (a rotation is accepted only through
 * the roster's chain of rotation proofs from the pinned group key), then
 * the instances' new public shares. SP_EKEY with the alarm in why when the
 * chain does not hold; the client then keeps the keys it had. */
int sp_oprfc_roster(sp_oprfc *c, const sp_roster *r, char *why, size_t whylen) SP_MUST_CHECK;
/* The key epoch of the pseudonyms it gives (the roster's; 0 before any
 * rotation). */
uint32_t sp_oprfc_epoch(const sp_oprfc *c);

/* Sign requests with fn instead of k's sign key (the node's network process
 * holds no sign key: the key holder signs, domain prepended by it). fn
 * gets the serialised OprfRequest without the domain. */
typedef int (*sp_oprfc_sign_fn)(void *ctx, const uint8_t *req, size_t len, uint8_t sig[64]);
void sp_oprfc_set_signer(sp_oprfc *c, sp_oprfc_sign_fn fn, void *ctx);

/* Elements per request (default 4096, at most SP_OPRF_MAX_BATCH). */
void sp_oprfc_set_batch(sp_oprfc *c, size_t batch);

/* Pseudonyms (n × 32 bytes into out) of n identifiers of one kind.
 * SP_ETIMEOUT: the service did not answer within the configured timeout;
 * SP_ECRYPTO: a proof failed (alarm, in why); a refusal by the service
 * returns its code (SP_EPERM for a rate limit) with its reason in why.
 * Nothing is partially written on failure. */
int sp_oprfc_pseudonyms(sp_oprfc *c, int purpose, int kind, const char *const *ids, size_t n,
                        uint8_t *out, char *why, size_t whylen) SP_MUST_CHECK;

/* kind ‖ id into buf; 0 when it does not fit or kind/id are invalid. */
size_t sp_oprf_input(int kind, const char *id, uint8_t *buf, size_t buflen);

#endif
