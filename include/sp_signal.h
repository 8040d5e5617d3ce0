/*
 * sp_signal.h — the cryptography of a signal.
 *
 * Seal: each present tier is encrypted separately with XChaCha20-Poly1305
 * under its own random key, the serialised header as associated data; the
 * header carries a BLAKE2b digest of each tier box and is signed (Ed25519) by
 * the sender; each tier key is sealed (crypto_box_seal) to each recipient the
 * policy may ever give that tier. Only the tiers granted to an organisation
 * can be opened by it; the broker holds no box key and opens nothing.
 *
 * Input Signal/SignalHeader structs must have passed sp_wire validation.
 */
#ifndef SP_SIGNAL_H
#define SP_SIGNAL_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "seinpost.pb-c.h"

#define SP_SIG_DOMAIN "seinpost/signal/v1"
#define SP_RECIP_PSEUDONYM_DOMAIN "seinpost/recip-pseudonym/v1"
/* Header format: 2 since issue 13 (subject_commitment instead of the
 * pseudonym in the signed bytes). */
#define SP_HEADER_VERSION 2
#define SP_RECEIPT_DOMAIN "seinpost/receipt/v1"
#define SP_RECEIPTS_DOMAIN "seinpost/receipts/v1"
#define SP_RECEIPT_BATCH_MAX 512 /* ids in one DeliveryAckBatch */
#define SP_TIER_KEY_BYTES 32
#define SP_SEALED_KEY_BYTES (32 + 48) /* key + crypto_box_SEALBYTES */

/* Tiers, equal to the proto enum values. */
enum sp_tier { SP_TIER_EXISTENCE = 0, SP_TIER_CONTACT = 1, SP_TIER_SUMMARY = 2, SP_TIER_FULL = 3 };
#define SP_TIER_COUNT 4
/* Grant modes, equal to the proto GrantMode values. */
enum sp_when { SP_WHEN_IMMEDIATELY = 1, SP_WHEN_IF_INVOLVED = 2, SP_WHEN_ON_ESCALATION = 3 };

const char *sp_tier_name(int tier);   /* "existence", "contact", "summary", "full" */
int sp_tier_parse(const char *s);     /* -1 when unknown */
const char *sp_when_name(int when);   /* "immediately", "if-involved", "on-escalation" */
int sp_when_parse(const char *s);     /* -1 when unknown */

/* Plaintext of the tiers. NULL or "" = absent. A tier with no field present
 * is not included in the signal at all. */
typedef struct sp_tier_plain {
	const char *contact;   /* contact tier */
	const char *summary;   /* summary tier */
	const char *bsn;       /* full tier (normalised id of the subject) */
	const char *name;
	const char *birthdate;
	const char *address;
	const char *narrative;
} sp_tier_plain;

typedef struct sp_grant_spec {
	const char *recipient;  /* roster org id */
	const uint8_t *box_pk;  /* its 32-byte X25519 key */
	int tier;               /* SP_TIER_CONTACT..SP_TIER_FULL */
	int mode;               /* enum sp_when */
} sp_grant_spec;

typedef struct sp_signal_meta {
	const char *sender;
	int subject_kind;              /* enum sp_subject_kind; 0 = none (resident report) */
	const uint8_t *pseudonym;      /* 32 bytes; NULL for kind none. Goes beside the header
	                                * (Signal.subject_pseudonym); the header carries its commitment */
	uint32_t pseudonym_epoch;
	const char *category;
	uint32_t weight;
	uint64_t created, expires;     /* unix seconds */
	const uint8_t *policy_hash;    /* 32 bytes */
	int resident_report;           /* anonymous resident report (never a person) */
	const uint8_t *id;             /* 16 bytes given in advance (a held submit); NULL: random */
} sp_signal_meta;

/* Build a complete signed Signal. *out (malloc'd, caller frees) is the
 * serialised Signal; id receives its random id. Grants for tiers that are
 * absent from plain are skipped. */
int sp_signal_seal(const sp_signal_meta *m, const sp_tier_plain *plain,
                   const sp_grant_spec *grants, size_t ngrants,
                   const uint8_t sign_sk[64],
                   uint8_t **out, size_t *outlen, uint8_t id[16]) SP_MUST_CHECK;

/* The same, signed by the key holder (sp_keyholder.h): the node's network
 * process holds no sign key. */
typedef struct sp_kh sp_kh;
int sp_signal_seal_kh(const sp_signal_meta *m, const sp_tier_plain *plain,
                      const sp_grant_spec *grants, size_t ngrants, sp_kh *kh,
                      uint8_t **out, size_t *outlen, uint8_t id[16]) SP_MUST_CHECK;

/* Signature over the header bytes and every tier box against its digest.
 * SP_ESIG / SP_ECRYPTO. */
int sp_signal_verify(const Seinpost__Signal *sig, const Seinpost__SignalHeader *hdr,
                     const uint8_t sender_sign_pk[32]) SP_MUST_CHECK;

/* What an organisation could open. Strings are malloc'd; sp_opened_clear
 * wipes and frees them. tiers is a bit mask (1 << tier) of opened tiers. */
typedef struct sp_opened {
	unsigned tiers;
	char *contact, *summary;
	char *bsn, *name, *birthdate, *address, *narrative;
} sp_opened;

/* Decrypt every tier granted to `me`. Returns 0 with tiers == 0 when only
 * existence was shared. SP_ECRYPTO when a grant or box fails to open. */
int sp_signal_open(const Seinpost__Signal *sig, const char *me,
                   const uint8_t box_pk[32], const uint8_t box_sk[32],
                   sp_opened *out) SP_MUST_CHECK;
/* The same, each grant opened by the key holder. */
int sp_signal_open_kh(const Seinpost__Signal *sig, const char *me, sp_kh *kh, sp_opened *out) SP_MUST_CHECK;
void sp_opened_clear(sp_opened *o);

/* The copy a broker forwards to one recipient: only that recipient's grants
 * whose mode bit (1 << mode) is in mode_mask, and only the tier boxes those
 * grants open. Header and signature unchanged. *tiers_out = mask of tiers. */
int sp_signal_for_recipient(const Seinpost__Signal *sig, const char *recipient,
                            unsigned mode_mask, uint8_t **out, size_t *outlen,
                            unsigned *tiers_out) SP_MUST_CHECK;

/* The header's commitment to the network pseudonym: BLAKE2b-256(P ‖ id). */
void sp_signal_commitment(const uint8_t p[32], const uint8_t id[16], uint8_t c[32]);

/* The broker's signature over a recipient's pseudonym (Delivery.
 * recipient_pseudonym): Ed25519 over SP_RECIP_PSEUDONYM_DOMAIN ‖ id ‖
 * len(to) (1 byte) ‖ to ‖ pr. SP_EINVAL for an over-long id. */
int sp_recip_pseudonym_sign(const uint8_t id[16], const char *to, const uint8_t pr[32], const uint8_t sign_sk[64],
                            uint8_t sig[64]) SP_MUST_CHECK;
int sp_recip_pseudonym_verify(const uint8_t id[16], const char *to, const uint8_t pr[32], const uint8_t sig[64],
                              const uint8_t broker_sign_pk[32]) SP_MUST_CHECK;

/* Recipient's signed receipt over SP_RECEIPT_DOMAIN || id || be64(time). */
void sp_receipt_sign(const uint8_t id[16], uint64_t time, const uint8_t sign_sk[64], uint8_t sig[64]);
int sp_receipt_verify(const uint8_t id[16], uint64_t time, const uint8_t sig[64],
                      const uint8_t sign_pk[32]) SP_MUST_CHECK;

/* One receipt for many ids (DeliveryAckBatch): Ed25519 over
 * SP_RECEIPTS_DOMAIN || len(org) (1 byte) || org || be64(time) || be32(n) ||
 * ids[0] || ... || ids[n-1], each id 16 bytes, 1 <= n <= SP_RECEIPT_BATCH_MAX,
 * org a roster id (at most SP_ID_MAX - 1 bytes). Binds who receipted, when,
 * and exactly which ids in which order. */
int sp_receipts_sign(const char *org, uint64_t time, const uint8_t *const *ids, size_t n,
                     const uint8_t sign_sk[64], uint8_t sig[64]) SP_MUST_CHECK;
/* The same, signed by the key holder. */
int sp_receipts_sign_kh(const char *org, uint64_t time, const uint8_t *const *ids, size_t n, sp_kh *kh,
                        uint8_t sig[64]) SP_MUST_CHECK;
int sp_receipts_verify(const char *org, uint64_t time, const uint8_t *const *ids, size_t n,
                       const uint8_t sig[64], const uint8_t sign_pk[32]) SP_MUST_CHECK;

#endif
