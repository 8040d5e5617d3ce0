/*
 * sp_link.h — a node's view of its link to the broker, for `status` and for
 * one clear log line when it does not work.
 *
 * A ZeroMQ socket monitor tells TCP connects, disconnects and CURVE handshake
 * outcomes; the node tells every frame the broker sends (sp_link_contact).
 * With no frame for SP_LINK_SILENT_MS the link is:
 *   no-handshake  TCP connects but the CURVE handshake never completes (the
 *                 roster holds another broker key, the address is another
 *                 network's broker, or this organisation is not on the
 *                 broker's roster);
 *   unreachable   nothing accepts the TCP connection.
 * Each bad state is logged once with what to check, and the return once
 * with how long it lasted.
 */
#ifndef SP_LINK_H
#define SP_LINK_H

#include "sp_error.h"
#include "sp_health.h"

#define SP_LINK_SILENT_MS 10000

typedef struct sp_link sp_link;

/* Monitor sock (the node's DEALER) in zctx; endpoint for the messages. */
int sp_link_open(void *zctx, void *sock, const char *endpoint, sp_link **out) SP_MUST_CHECK;
void sp_link_close(sp_link **l);
/* A frame from the broker arrived. Returns 1 when it ends an outage (the
 * link was reported unreachable): the caller resends what waited, at once. */
int sp_link_contact(sp_link *l, sp_health *h);
/* Drain monitor events, update h->link_state / link_hint, log changes. */
void sp_link_tick(sp_link *l, sp_health *h);

#endif
