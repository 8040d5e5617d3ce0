/*
 * sp_wire.h — the one validation layer for outside input.
 *
 * Every frame from the network, every request on the local socket and every
 * stored record is decoded here and checked (sizes, required fields, enum
 * ranges, identifier syntax) before anything else reads it. On failure the
 * functions return SP_EMALFORMED / SP_ESIZE / SP_EWEIGHT and write a short
 * reason (no personal data) into why.
 */
#ifndef SP_WIRE_H
#define SP_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "seinpost.pb-c.h"

#define SP_WIRE_VERSION 1
#define SP_MAX_FRAME_DEFAULT (256u * 1024u)
#define SP_MAX_CONTACT 1024
#define SP_MAX_SUMMARY 4096
#define SP_MAX_NARRATIVE 16384
#define SP_MAX_NAME 256
#define SP_MAX_ADDRESS 512
#define SP_MAX_TIER_BOX (SP_MAX_NARRATIVE + 4096)
#define SP_MAX_GRANTS 512
#define SP_MAX_USER 64
#define SP_IDEMPOTENCY_KEY_MAX 128 /* SubmitRequest.idempotency_key */
/* Upper bound of one request on a node's local socket (packed bytes); a
 * client sending many items (involve --file) batches by this, not by count. */
#define SP_MAX_LOCAL_REQUEST (64u * 1024u)

/* Decode and validate a node<->broker frame (exactly one body set; a
 * submitted/delivered Signal is checked with sp_wire_check_signal). Free with
 * seinpost__frame__free_unpacked(f, NULL). */
int sp_wire_decode_frame(const uint8_t *buf, size_t len, size_t max,
                         Seinpost__Frame **out, char *why, size_t whylen) SP_MUST_CHECK;

/* Check a Signal's fields and decode + check its header. *hdr_out (may be
 * NULL) must be freed with seinpost__signal_header__free_unpacked. */
int sp_wire_check_signal(const Seinpost__Signal *sig, Seinpost__SignalHeader **hdr_out,
                         char *why, size_t whylen) SP_MUST_CHECK;

/* The network pseudonym P (issue 13) is never in the signed header: the
 * header carries its commitment, and P travels beside it
 * (Signal.subject_pseudonym) to the broker only. A header decoded here from
 * a signal that carries P has P filled in as h->pseudonym after the
 * commitment is checked; a recipient's header has its own pseudonym filled in
 * (Delivery.recipient_pseudonym), so code reads h->pseudonym as "the subject,
 * as this party knows it". */

/* A delivery's signal as sp_wire_check_signal, its header's pseudonym being
 * the recipient's own (d->recipient_pseudonym). */
int sp_wire_delivery_header(const Seinpost__Delivery *d, Seinpost__SignalHeader **hdr_out, char *why,
                            size_t whylen) SP_MUST_CHECK;

/* The header of a stored signal (our own store: decoded, not fully checked),
 * with P or, when `mine` is given and non-empty, the recipient's pseudonym
 * filled in. NULL when it does not decode or P does not match. Free with
 * seinpost__signal_header__free_unpacked. */
Seinpost__SignalHeader *sp_wire_header_of(const Seinpost__Signal *sig, const ProtobufCBinaryData *mine);

/* Decode a serialised Signal (e.g. from the outbox) and validate it. */
int sp_wire_decode_signal(const uint8_t *buf, size_t len, Seinpost__Signal **sig,
                          Seinpost__SignalHeader **hdr, char *why, size_t whylen) SP_MUST_CHECK;

/* Local socket request (submit from CLI / case system). Field sizes checked;
 * content checks (BSN, category) are the node's. */
int sp_wire_decode_local(const uint8_t *buf, size_t len, Seinpost__LocalRequest **out,
                         char *why, size_t whylen) SP_MUST_CHECK;

/* Stored values (our own LMDB, still checked: a damaged value must not be
 * trusted). The header of a broker's stored signal (SP_DB_SIGNALS):
 * SP_ECORRUPT when it does not decode. Free with
 * seinpost__signal_header__free_unpacked. */
int sp_wire_stored_signal_header(const void *v, size_t len, Seinpost__SignalHeader **hdr) SP_MUST_CHECK;
/* A node's feedback item (sp_feedback_keep.c). Free with
 * seinpost__feedback_item__free_unpacked. */
int sp_wire_stored_feedback(const void *v, size_t len, Seinpost__FeedbackItem **out) SP_MUST_CHECK;

/* The pseudonymisation service's alarm feed (sp_oprf_alarmfeed.c, node
 * sp_oprf_alarms.c). A fetch: alarm_from >= 1, a 16-byte nonce, no unknown
 * field (an OprfSignedRequest is not a fetch: SP_EMALFORMED). A reply: code,
 * or a page and a 64-byte signature; the page's ids are identifiers, its
 * alarms at most SP_OPRF_ALARM_PAGE_MAX, sequence numbers following
 * from_seq. *page is NULL when the reply carries a code. Free with the
 * messages' free_unpacked. */
#define SP_OPRF_ALARM_PAGE_MAX 256
#define SP_OPRF_ALARM_NONCE 16
int sp_wire_decode_oprf_alarm_fetch(const uint8_t *buf, size_t len,
                                    Seinpost__OprfAlarmFetch **out) SP_MUST_CHECK;
int sp_wire_decode_oprf_alarm_reply(const uint8_t *buf, size_t len, Seinpost__OprfAlarmReply **reply,
                                    Seinpost__OprfAlarmPage **page, char *why, size_t whylen) SP_MUST_CHECK;
/* A stored OprfAlarm (either side's store): SP_ECORRUPT when it does not
 * decode or its ids are not identifiers. */
int sp_wire_stored_oprf_alarm(const void *v, size_t len, Seinpost__OprfAlarm **out) SP_MUST_CHECK;

/* The rotation ceremony's file for the broker (PseudonymTranslation,
 * sp_translate.h): sizes checked, δ non-zero and canonical, d = δ·G, the
 * group key a valid element. Free with
 * seinpost__pseudonym_translation__free_unpacked (wipe delta first). */
int sp_wire_decode_translation(const uint8_t *buf, size_t len, Seinpost__PseudonymTranslation **out,
                               char *why, size_t whylen) SP_MUST_CHECK;

/* The ceremony between machines (sp_ceremony.c): a signed deal (sizes,
 * counts and ranges; the signature and the session are the caller's), and
 * a rotation proposal. Free with the protobuf-c free functions. */
int sp_wire_decode_ceremony_deal(const uint8_t *buf, size_t len, Seinpost__SignedCeremonyDeal **sd,
                                 Seinpost__CeremonyDeal **deal, char *why, size_t whylen) SP_MUST_CHECK;
int sp_wire_decode_ceremony_rotation(const uint8_t *buf, size_t len, Seinpost__CeremonyRotation **out, char *why,
                                     size_t whylen) SP_MUST_CHECK;

/* Serialise any protobuf-c message into a malloc'd buffer. */
int sp_wire_pack(const ProtobufCMessage *m, uint8_t **out, size_t *len) SP_MUST_CHECK;

#endif
