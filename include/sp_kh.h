/*
 * sp_kh.h — the handle on the secret-key operations and the key holder's
 * protocol (common/sp_kh.c). The key-holder process itself is
 * sp_keyholder.h (daemon/keyholder/). docs/privsep.md.
 *
 * A node runs as two processes (OpenBSD privsep): the key holder (parent)
 * and the network process (child: ZeroMQ sockets, submit socket, spool,
 * LMDB, hooks). The network process asks for the few operations that need
 * a secret, over a SOCK_SEQPACKET socketpair, one request and one answer at
 * a time:
 *
 *   SIGN       domain + message -> Ed25519 signature. The key holder prepends
 *              the domain string itself (signal, receipts, read receipt), so
 *              it never signs anything that verifies under another domain
 *              (a roster, a tree head, an enrolment).
 *   UNSEAL     one sealed grant (crypto_box_seal, 80 bytes) -> the 32-byte
 *              tier key of that one signal. The box key never leaves.
 *   PSEUDONYM  epoch, kind, normalised identifier -> pseudonym.
 *   INFO       -> our org, sign and box public keys, current epoch.
 *   SELECT     curve and sign public keys that a new roster names for us ->
 *              the CURVE secret of that key generation (a transport key,
 *              which the network process holds anyway) and its box public
 *              key. From then on SIGN uses that generation's sign key;
 *              UNSEAL always tries every generation's box key, current
 *              first. A generation the key holder does not hold makes it
 *              re-read keys/ once (after `keys rotate` on a running node;
 *              it keeps read-only access to keys/ for that). Enrolment,
 *              issue 15; docs/privsep.md "Key rotation".
 *
 * Message format (both directions, one datagram each, little surprise):
 *   byte 0      SP_KH_VERSION
 *   byte 1      op (enum sp_kh_op)
 *   bytes 2..3  request: 0; answer: status (big endian, 0 = ok, else -SP_E*)
 *   bytes 4..7  sequence number (big endian), echoed in the answer
 *   bytes 8..   body, exact length per op (below); at most SP_KH_MSG_MAX in all
 * Request bodies:
 *   SIGN       u8 domain, message (1..SP_KH_SIGN_MAX bytes; receipts: the
 *              exact SP_RECEIPTS layout, org = ours, 1..512 ids)
 *   UNSEAL     80 bytes
 *   PSEUDONYM  be32 epoch, u8 kind (1..3), the identifier (9, 8 or 16 digits;
 *              a BSN must pass the elfproef)
 *   INFO       empty
 *   SELECT     32 curve_pk, 32 sign_pk
 * Answer bodies (status 0): SIGN 64 bytes; UNSEAL 32; PSEUDONYM 32;
 *   INFO 32 sign_pk, 32 box_pk, be32 epoch, org (1..63 bytes);
 *   SELECT 32 curve_sk, 32 box_pk (SP_ENOTFOUND: no such generation).
 * Anything else is refused with SP_EMALFORMED and changes nothing.
 */
#ifndef SP_KH_H
#define SP_KH_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_keys.h"
#include "sp_pseudo.h"

#define SP_KH_VERSION 1
#define SP_KH_HDR 8
/* The largest message signed: an OprfRequest of SP_KH_OPRF_POINTS blinded
 * elements (32 bytes each) plus its org, id, time and purpose (a receipts
 * batch of 512 ids is 8,480 bytes). A request of 4,096 points is one
 * SEQPACKET datagram of ~132 KB: the key holder's socketpair has its send
 * buffers raised for it (sp_keyholder.c). */
#define SP_KH_OPRF_POINTS 4096
#define SP_KH_SIGN_MAX (SP_KH_OPRF_POINTS * 32 + 1024)
#define SP_KH_MSG_MAX (SP_KH_HDR + 1 + SP_KH_SIGN_MAX)
#define SP_KH_TIMEOUT_MS 10000 /* at start: no INFO answer means no key holder; later: warn once */

enum sp_kh_op { SP_KH_SIGN = 1, SP_KH_UNSEAL = 2, SP_KH_PSEUDONYM = 3, SP_KH_INFO = 4, SP_KH_SELECT = 5 };
/* SP_KH_DOM_OPRF: a request to the pseudonymisation service (an OprfRequest
 * of our organisation, sp_oprfsvc.h's domain). */
enum sp_kh_domain { SP_KH_DOM_SIGNAL = 1, SP_KH_DOM_RECEIPTS = 2, SP_KH_DOM_READ = 3, SP_KH_DOM_OPRF = 4 };

/* The epoch of pseudonyms from the pseudonymisation service (k·H(kind‖id));
 * pseudo.key's epochs count from 1 and never reach it. */
#define SP_PSEUDO_EPOCH_OPRF 0x4f505200u
/* After the service's key rotated by translation (docs/pseudonymiser.md)
 * its pseudonyms are of epoch SP_PSEUDO_EPOCH_OPRF + the roster's key
 * epoch (1, 2, ...; at most SP_PSEUDO_EPOCH_OPRF_MAX). */
#define SP_PSEUDO_EPOCH_OPRF_MAX 0xffu
#define SP_PSEUDO_EPOCH_IS_OPRF(e) (((e) & ~SP_PSEUDO_EPOCH_OPRF_MAX) == SP_PSEUDO_EPOCH_OPRF)
/* The service, as the network process reaches it (sp_node_oprf.c). */
typedef int (*sp_kh_oprf_fn)(void *ctx, int purpose, int kind, const char *const *ids, size_t n, uint8_t *out,
                             char *why, size_t whylen);

/* A handle on the secret-key operations: either in this process (local:
 * the CLI and tools, which are not network-facing) or across the socketpair
 * to the key holder (remote: the node's network process). Both answer the
 * same calls, so the code that signs or opens does not know which. */
typedef struct sp_kh sp_kh;

/* Local: borrows k and kr for the handle's life; either may be NULL (no
 * signing and opening, or no pseudonyms: SP_EKEY). org: our roster id. */
int sp_kh_local(const char *org, const sp_keyset *k, const sp_pseudo_keyring *kr, sp_kh **out) SP_MUST_CHECK;
/* Local over key generations (sp_keys.h): ring->k[0] signs, every box
 * key opens; ring is borrowed and reordered by sp_kh_select. keys_dir:
 * where to re-read the generations when SELECT names an unknown one (NULL:
 * never). */
int sp_kh_local_ring(const char *org, sp_keyring *ring, const char *keys_dir, const sp_pseudo_keyring *kr,
                     sp_kh **out) SP_MUST_CHECK;
/* Remote: takes fd (closed by sp_kh_free); asks INFO once. */
int sp_kh_remote(int fd, sp_kh **out) SP_MUST_CHECK;
void sp_kh_free(sp_kh **kh);

/* Ed25519 over the domain's string || msg. */
int sp_kh_sign(sp_kh *kh, int domain, const uint8_t *msg, size_t len, uint8_t sig[64]) SP_MUST_CHECK;
/* Open one sealed grant addressed to our box key. SP_ECRYPTO when it is not. */
int sp_kh_unseal(sp_kh *kh, const uint8_t sealed[80], uint8_t key[32]) SP_MUST_CHECK;
/* Switch to the key generation with these public keys (a new roster names
 * them): SIGN uses it from now on, sp_kh_sign_pk/box_pk report it, and
 * curve_sk gets its CURVE secret for the transport. SP_ENOTFOUND when no
 * generation has both keys. */
int sp_kh_select(sp_kh *kh, const uint8_t curve_pk[32], const uint8_t sign_pk[32],
                 uint8_t curve_sk[32]) SP_MUST_CHECK;
/* sp_pseudo_derive by the key holder. SP_EKEY when the epoch is unknown. */
int sp_kh_pseudonym(sp_kh *kh, uint32_t epoch, int kind, const char *normalised_id,
                    uint8_t out[32]) SP_MUST_CHECK;
/* Pseudonyms from the pseudonymisation service from now on: sp_kh_epoch
 * says SP_PSEUDO_EPOCH_OPRF and sp_kh_pseudonym of that epoch asks fn;
 * older epochs still go to pseudo.key. fn NULL: back to pseudo.key. */
void sp_kh_set_oprf(sp_kh *kh, sp_kh_oprf_fn fn, void *ctx);
int sp_kh_uses_oprf(const sp_kh *kh);
/* The service's key epoch from the roster (sp_roster_oprf_epoch): new
 * pseudonyms are of epoch SP_PSEUDO_EPOCH_OPRF + key_epoch. */
void sp_kh_set_oprf_epoch(sp_kh *kh, uint32_t key_epoch);
/* n pseudonyms of one kind from the service in batches (SP_ENOTFOUND when
 * no service is set). SP_ETIMEOUT: unreachable; why says what failed. */
int sp_kh_pseudonyms(sp_kh *kh, int purpose, int kind, const char *const *ids, size_t n, uint8_t *out, char *why,
                     size_t whylen) SP_MUST_CHECK;
/* From INFO (remote) or the keys (local); borrowed for the handle's life. */
uint32_t sp_kh_epoch(const sp_kh *kh);
const uint8_t *sp_kh_sign_pk(const sp_kh *kh);
const uint8_t *sp_kh_box_pk(const sp_kh *kh);
/* Remote: 1 once the key holder stopped answering (the node must stop). */
int sp_kh_lost(const sp_kh *kh);

#endif
