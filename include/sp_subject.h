/*
 * sp_subject.h — subject handles and per-recipient pseudonyms (broker,
 * issue 13).
 *
 * The network pseudonym P reaches the broker only (beside the signed
 * header, and in involvement updates). The broker keeps a stable random
 * handle per P (SP_DB_SUBJECT: P -> 16-byte handle) and gives each
 * recipient R its own pseudonym
 *
 *     P_R = BLAKE2b-256(key = recipient secret, "recip-v1" ‖ R ‖ 0 ‖ handle)
 *
 * in a delivery field it signs (sp_recip_pseudonym_sign, sp_signal.h). P_R is
 * stable for R, differs between recipients, and no recipient can invert it
 * or link it with another recipient's. The handle, not P, goes into the
 * hash, so a rotation of the pseudonymisation key (P' = δ·P) re-keys the
 * table and every P_R stays the same. The recipient secret is 32 random
 * bytes made at the first use and kept in the broker's store (META
 * SP_MK_RECIP_SECRET): whoever holds the broker's store already holds P.
 */
#ifndef SP_SUBJECT_H
#define SP_SUBJECT_H

#include <stdint.h>
#include "sp_error.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

#define SP_SUBJECT_HANDLE_BYTES 16

/* The handle of P, made (random) and stored inside t when new. */
int sp_subject_handle(sp_txn *t, const uint8_t p[32], uint8_t handle[SP_SUBJECT_HANDLE_BYTES]) SP_MUST_CHECK;

/* Recipient `to`'s pseudonym of the subject P (handle made when new). */
int sp_subject_recipient_pseudonym(sp_txn *t, const uint8_t p[32], const char *to, uint8_t pr[32]) SP_MUST_CHECK;

/* After a stored involvement update of `org`: every pseudonym of the
 * update (one per epoch) shares one handle — the first one any of them has,
 * else a new one — and pr is org's pseudonym of the subject. */
int sp_subject_involved(sp_txn *t, const Seinpost__InvolveUpdate *u, const char *org, uint8_t pr[32]) SP_MUST_CHECK;

/* The broker's sign key for the signature over P_R (set once at start; the
 * broker's process holds it for tree heads already). */
void sp_subject_set_signer(const uint8_t sign_sk[64]);

/* P_R of `to` and the broker's signature over it for signal `id`.
 * SP_EINVAL when no signer was set. */
int sp_subject_seal_for(sp_txn *t, const uint8_t p[32], const uint8_t id[16], const char *to, uint8_t pr[32],
                        uint8_t sig[64]) SP_MUST_CHECK;

/* What a delivery borrows until it is packed (sp_subject_name_delivery). */
typedef struct sp_subject_named {
	uint8_t pr[32], sig[64];
	Seinpost__Referral referral;
	int has;          /* a subject: p and epoch set */
	uint8_t p[32];    /* P under the current key epoch, for the queue's receipt index */
	uint32_t epoch;   /* its header-style epoch (sp_translate.h) */
} sp_subject_named;

/* Name the subject of d (a delivery of sig, a signal the broker holds, to
 * `to`) by to's own pseudonym: d->recipient_pseudonym and the broker's
 * signature, and a copy of d->referral (if any) naming it so. P beside the
 * header is translated to the current key epoch first. Nothing is set for a
 * signal without a subject. */
int sp_subject_name_delivery(sp_txn *t, const Seinpost__Signal *sig, const char *to, Seinpost__Delivery *d,
                             sp_subject_named *n) SP_MUST_CHECK;

#endif
