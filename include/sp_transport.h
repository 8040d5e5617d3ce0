/*
 * sp_transport.h — ZeroMQ with CURVE everywhere.
 *
 * Broker: ROUTER, CURVE server, bound; a ZAP handler (inproc thread) admits
 * only CURVE keys on the roster and sets the ZAP User-Id to the org id, so
 * the sender of every frame is the organisation the handshake proved.
 * Node: DEALER, CURVE client pinned to the broker's key from the roster.
 * Both: heartbeats, ZMQ_MAXMSGSIZE, ZMQ_ROUTER_MANDATORY (no silent drops),
 * linger bounded.
 */
#ifndef SP_TRANSPORT_H
#define SP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_keys.h"
#include "sp_roster.h"

typedef struct sp_zap sp_zap;

/* Start the ZAP handler on ctx. Admitted keys are the roster's orgs. The
 * roster is borrowed and must outlive the handler; sp_zap_set_roster swaps it
 * atomically (for reloads). Refusals are logged with the key's hex prefix. */
int sp_zap_start(void *zctx, const sp_roster *r, sp_zap **out) SP_MUST_CHECK;
void sp_zap_set_roster(sp_zap *z, const sp_roster *r);
void sp_zap_stop(sp_zap **z);
/* Number of handshakes refused so far (for tests and status). */
uint64_t sp_zap_refused(const sp_zap *z);

typedef struct sp_transport_opts {
	const char *endpoint;     /* tcp://host:port */
	uint32_t max_frame;       /* ZMQ_MAXMSGSIZE */
	uint32_t heartbeat_ms;    /* ZMQ_HEARTBEAT_IVL; timeout = 3x */
	int sndhwm, rcvhwm;       /* 0 = library default; rcvhwm < 0: no limit */
	uint32_t handshake_ms;    /* ZMQ_HANDSHAKE_IVL (broker); 0 = library default */
} sp_transport_opts;

/* ROUTER bound at opts->endpoint with CURVE server keys from k. */
int sp_transport_broker(void *zctx, const sp_keyset *k, const sp_transport_opts *o,
                        void **sock) SP_MUST_CHECK;
/* DEALER connected to opts->endpoint. No routing id is set: the broker's
 * ROUTER assigns one and learns which org it belongs to from ZAP. org is
 * used for validation and logs only. */
int sp_transport_node(void *zctx, const sp_keyset *k, const uint8_t broker_curve_pk[32],
                      const char *org, const sp_transport_opts *o, void **sock) SP_MUST_CHECK;

/* One received message. body is malloc'd (free with sp_msg_clear).
 * For ROUTER sockets rid holds the routing id (assigned by the ROUTER) and
 * user the ZAP User-Id (the proven org id); SP_ESENDER when a message has no
 * User-Id. For DEALER both are empty. */
typedef struct sp_msg {
	uint8_t rid[256];
	size_t rid_len;
	char user[64];
	uint8_t *body;
	size_t len;
} sp_msg;

/* Non-blocking when dontwait: SP_ETIMEOUT if nothing is waiting.
 * SP_EMALFORMED for a message with an unexpected frame layout (dropped). */
int sp_transport_recv(void *sock, int is_router, int dontwait, sp_msg *m) SP_MUST_CHECK;
void sp_msg_clear(sp_msg *m);
/* Send body (to rid on a ROUTER). SP_ETIMEOUT when it would block (HWM),
 * SP_ENOTFOUND when the peer is not connected (ROUTER_MANDATORY). */
int sp_transport_send(void *sock, const uint8_t *rid, size_t rid_len,
                      const void *body, size_t len) SP_MUST_CHECK;

#endif
