/*
 * sp_roster.h — the signed list of organisations in a network.
 *
 * Stored as a SignedRoster protobuf: the serialised Roster and an Ed25519
 * signature by the network operator (the broker's sign key) over
 * "seinpost/roster/v1" || roster bytes. Nodes and broker refuse peers not on it.
 */
#ifndef SP_ROSTER_H
#define SP_ROSTER_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"

#define SP_ROSTER_DOMAIN "seinpost/roster/v1"
#define SP_ID_MAX 64
#define SP_ROLE_MAX 32

typedef struct sp_org {
	char id[SP_ID_MAX];
	char role[SP_ROLE_MAX];
	uint8_t curve_pk[32];
	uint8_t sign_pk[32];
	uint8_t box_pk[32];
} sp_org;

typedef struct sp_roster sp_roster; /* opaque */

/* Known roles: police, school, youthcare, municipality, zvh, privacy-officer,
 * healthcare, probation. 1 if known. */
int sp_role_known(const char *role);

int sp_roster_new(const char *network, const uint8_t broker_curve_pk[32],
                  const uint8_t broker_sign_pk[32], sp_roster **out) SP_MUST_CHECK;
/* SP_EEXIST on a duplicate id or key, SP_EINVAL on a bad id or unknown role. */
int sp_roster_add(sp_roster *r, const sp_org *org) SP_MUST_CHECK;
/* Sign with the operator's key and write atomically (0644: it is public). */
int sp_roster_save(const sp_roster *r, const char *path, const uint8_t operator_sk[64]) SP_MUST_CHECK;
/* Verify the signature against operator_pk (SP_ESIG), decode and validate
 * every entry (SP_EMALFORMED). */
int sp_roster_load(const char *path, const uint8_t operator_pk[32], sp_roster **out) SP_MUST_CHECK;
void sp_roster_free(sp_roster **r);

const char *sp_roster_network(const sp_roster *r);
const uint8_t *sp_roster_broker_curve(const sp_roster *r);
const uint8_t *sp_roster_broker_sign(const sp_roster *r);
size_t sp_roster_count(const sp_roster *r);
const sp_org *sp_roster_at(const sp_roster *r, size_t i);          /* borrowed */
const sp_org *sp_roster_find(const sp_roster *r, const char *id);  /* NULL if absent */
const sp_org *sp_roster_find_curve(const sp_roster *r, const uint8_t curve_pk[32]);

#endif
