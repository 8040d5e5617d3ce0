/*
 * sp_roster.h — the signed list of organisations in a network.
 *
 * Stored as a SignedRoster protobuf: the serialised Roster and an Ed25519
 * signature by the network operator over "seinpost/roster/v1" || roster
 * bytes. The operator's sign key is its own (`seinpost network create`),
 * kept apart from the broker's; broker and nodes pin its public half
 * (operator_key). Nodes and broker refuse peers not on it.
 *
 * Key rotation (docs/enrolment.md): an organisation's replaced keys stay in
 * its entry as `previous` generations. Until the end of the overlap window
 * (`until`) the broker still admits the old CURVE key and accepts frames
 * signed by the old sign key; after it, only stored signatures are checked
 * against it. The broker's own sign key moves by a transition record
 * signed by the old and the new key, so heads signed before stay verifiable.
 */
#ifndef SP_ROSTER_H
#define SP_ROSTER_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"

#define SP_ROSTER_DOMAIN "seinpost/roster/v1"
#define SP_BROKER_KEY_DOMAIN "seinpost/broker-key/v1"
#define SP_ID_MAX 64
#define SP_ROLE_MAX 32
#define SP_PREV_MAX 4          /* key generations kept per organisation */
#define SP_REASON_MAX 256
#define SP_BROKER_KEYS_MAX 17  /* current + 16 transitions */

typedef struct sp_orgkeys {
	uint8_t curve_pk[32];
	uint8_t sign_pk[32];
	uint8_t box_pk[32];
	uint64_t retired; /* unix s */
	uint64_t until;   /* unix s: end of the overlap */
} sp_orgkeys;

typedef struct sp_org {
	char id[SP_ID_MAX];
	char role[SP_ROLE_MAX];
	uint8_t curve_pk[32];
	uint8_t sign_pk[32];
	uint8_t box_pk[32];
	uint64_t enrolled;              /* unix s, 0 = unknown */
	size_t nprev;
	sp_orgkeys prev[SP_PREV_MAX];   /* newest first */
	uint8_t oprf_pk[32];  /* role pseudonymiser: its OPRF public key sk·G */
	int has_oprf;         /* 1 exactly for role pseudonymiser */
	uint32_t oprf_index;  /* t-of-n: Shamir index 1..n (oprf_pk = s_i·G); 0 = single key */
} sp_org;

typedef struct sp_removal {
	char id[SP_ID_MAX];
	uint64_t time;                  /* unix s */
	char reason[SP_REASON_MAX];
} sp_removal;

typedef struct sp_roster sp_roster; /* opaque */

/* Known roles: police, school, youthcare, municipality, zvh, privacy-officer,
 * healthcare, probation, pseudonymiser. 1 if known. */
int sp_role_known(const char *role);

int sp_roster_new(const char *network, const uint8_t broker_curve_pk[32],
                  const uint8_t broker_sign_pk[32], sp_roster **out) SP_MUST_CHECK;
/* SP_EEXIST on a duplicate id or key, SP_EINVAL on a bad id or unknown role. */
int sp_roster_add(sp_roster *r, const sp_org *org) SP_MUST_CHECK;
/* Rotation: the org's current keys become previous generation 0 (retired
 * now_s, admitted until `until`); the oldest beyond SP_PREV_MAX is dropped.
 * SP_ENOTFOUND for an unknown id, SP_EEXIST when a new key is already used
 * anywhere (also by this org's older generations). */
int sp_roster_rotate(sp_roster *r, const char *id, const uint8_t curve_pk[32],
                     const uint8_t sign_pk[32], const uint8_t box_pk[32], uint64_t now_s,
                     uint64_t until) SP_MUST_CHECK;
/* Take an organisation off; remembered as removed with the reason (printable
 * text, at most SP_REASON_MAX-1 bytes). SP_ENOTFOUND when not on it. */
int sp_roster_remove(sp_roster *r, const char *id, const char *reason, uint64_t now_s) SP_MUST_CHECK;
/* The broker's sign key moves to new_pk; both signatures over
 * sp_roster_broker_transition_msg must verify (SP_ESIG). */
int sp_roster_broker_rotate(sp_roster *r, const uint8_t new_pk[32], uint64_t time_ms,
                            const uint8_t old_sig[64], const uint8_t new_sig[64]) SP_MUST_CHECK;
#define SP_BROKER_TRANSITION_MSG (sizeof SP_BROKER_KEY_DOMAIN - 1 + 32 + 32 + 8)
void sp_roster_broker_transition_msg(const uint8_t old_pk[32], const uint8_t new_pk[32], uint64_t time_ms,
                                     uint8_t out[SP_BROKER_TRANSITION_MSG]);
/* serial + 1: every signed change gets a higher serial, so a node can tell
 * a newer roster from an older one. */
void sp_roster_touch(sp_roster *r);

/* Sign with the operator's key and write atomically (0644: it is public). */
int sp_roster_save(const sp_roster *r, const char *path, const uint8_t operator_sk[64]) SP_MUST_CHECK;
/* Verify the signature against operator_pk (SP_ESIG), decode and validate
 * every entry (SP_EMALFORMED). */
int sp_roster_load(const char *path, const uint8_t operator_pk[32], sp_roster **out) SP_MUST_CHECK;
int sp_roster_load_bytes(const uint8_t *buf, size_t len, const uint8_t operator_pk[32],
                         sp_roster **out) SP_MUST_CHECK;
/* The exact signed bytes it was loaded from (SignedRoster), borrowed; NULL
 * for a roster built in memory. */
const uint8_t *sp_roster_signed_bytes(const sp_roster *r, size_t *len);
void sp_roster_free(sp_roster **r);
/* t-of-n pseudonymisation: the Feldman commitments (t × 32 bytes, C_0 = the
 * group key), set before any pseudonymiser is added; each instance then
 * needs oprf_index and oprf_pk = Σ index^j·C_j. */
int sp_roster_set_oprf_commitments(sp_roster *r, const uint8_t *commits, uint32_t t) SP_MUST_CHECK;
/* NULL and *t = 0 when the network has no threshold service. Borrowed. */
const uint8_t *sp_roster_oprf_commitments(const sp_roster *r, uint32_t *t);

/* Key rotation by translation (docs/pseudonymiser.md, "Rotation"): each
 * rotation carries d = δ·G and a DLEQ proof that the new group key is the
 * old one times the same δ. The roster loader checks only the form of the
 * chain (epochs 1, 2, ... in order, each new key the next one's old key,
 * the last new key C_0); the proofs are checked by sp_roster_oprf_chain. */
#define SP_ROSTER_ROTATIONS_MAX 64
typedef struct sp_oprf_rotation {
	uint32_t epoch;          /* the key epoch it starts */
	uint8_t old_key[32], new_key[32], d[32], proof[64];
	uint64_t time;           /* unix s */
} sp_oprf_rotation;
/* The current key epoch: the last rotation's, 0 before any. */
uint32_t sp_roster_oprf_epoch(const sp_roster *r);
size_t sp_roster_oprf_rotation_count(const sp_roster *r);
const sp_oprf_rotation *sp_roster_oprf_rotation_at(const sp_roster *r, size_t i); /* borrowed */
/* The rotation that starts epoch e, or NULL. */
const sp_oprf_rotation *sp_roster_oprf_rotation_of(const sp_roster *r, uint32_t e);
/* SP_OK when the pinned group key is C_0, or is the old key of a rotation
 * from which every later rotation's proof verifies up to C_0 (*pin_epoch:
 * the epoch the pin belongs to; may be NULL). SP_EKEY otherwise: the roster
 * signer may not put a key of its own in place of the pinned one. */
int sp_roster_oprf_chain(const sp_roster *r, const uint8_t pin[32], uint32_t *pin_epoch) SP_MUST_CHECK;
/* The ceremony's change: new commitments (t × 32, same t), every
 * instance's new public share (pks: 32 bytes per index 1..n, n = the
 * instances on the roster) and the rotation record (its proof verified,
 * old_key the current C_0, new_key commits[0], epoch the current + 1). */
int sp_roster_oprf_rotate(sp_roster *r, const uint8_t *commits, uint32_t t, const uint8_t *pks, uint32_t n,
                          const sp_oprf_rotation *rot) SP_MUST_CHECK;

const char *sp_roster_network(const sp_roster *r);
uint64_t sp_roster_serial(const sp_roster *r);
uint64_t sp_roster_issued(const sp_roster *r);   /* unix s */
const uint8_t *sp_roster_broker_curve(const sp_roster *r);
const uint8_t *sp_roster_broker_sign(const sp_roster *r);
/* The broker's sign keys a tree head may carry: current first, then the
 * older ones of the transition records (newest first). Returns the count. */
size_t sp_roster_broker_keys(const sp_roster *r, const uint8_t *out[], size_t max);
size_t sp_roster_count(const sp_roster *r);
const sp_org *sp_roster_at(const sp_roster *r, size_t i);          /* borrowed */
const sp_org *sp_roster_find(const sp_roster *r, const char *id);  /* NULL if absent */
const sp_org *sp_roster_find_curve(const sp_roster *r, const uint8_t curve_pk[32]);
/* Also a previous CURVE key whose overlap has not ended at now_s. */
const sp_org *sp_roster_find_curve_at(const sp_roster *r, const uint8_t curve_pk[32], uint64_t now_s);
size_t sp_roster_removed_count(const sp_roster *r);
const sp_removal *sp_roster_removed_at(const sp_roster *r, size_t i);
const sp_removal *sp_roster_removed(const sp_roster *r, const char *id); /* NULL if not removed */

/* Sign keys of an organisation: current first, then previous generations;
 * with now_s != 0 only those whose overlap has not ended (what may sign a
 * NEW frame), with now_s == 0 all (checking stored signatures). */
size_t sp_org_sign_keys(const sp_org *o, uint64_t now_s, const uint8_t *out[], size_t max);

#endif
