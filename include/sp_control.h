/*
 * sp_control.h — the broker's control socket, <state>/control.sock (mode
 * 0600 in the 0700 state directory, so only the broker's user reaches it).
 * `seinpost status` asks it for the broker's health (LocalRequest.health ->
 * LocalReply.health, the same framing as a node's submit.sock): storage
 * failing, counters, and the organisations connected now and when each was
 * last heard. Answering writes no file, so it works on a full disk.
 *
 * It also keeps the "last seen" table: the broker calls sp_control_seen for
 * every frame an authenticated organisation sends. An organisation counts
 * as connected when heard within SP_CONTROL_CONNECTED_MS (nodes greet every
 * 2 s).
 */
#ifndef SP_CONTROL_H
#define SP_CONTROL_H

#include "sp_config.h"
#include "sp_error.h"
#include "sp_health.h"
#include "sp_roster.h"
#include "sp_store.h"

#define SP_CONTROL_CONNECTED_MS 10000

typedef struct sp_control sp_control;

/* Bind <state>/control.sock in zctx; every roster organisation starts as
 * "never seen". */
int sp_control_open(void *zctx, const sp_config *cfg, const sp_roster *r, sp_control **out) SP_MUST_CHECK;
void sp_control_close(sp_control **c);   /* removes the socket file */
/* For zmq_poll. */
void *sp_control_socket(sp_control *c);
/* A frame from org (the authenticated id). */
void sp_control_seen(sp_control *c, const char *org);
/* Answer every waiting request (non-blocking). */
void sp_control_serve(sp_control *c, const sp_health *h, sp_store *s);
/* Organisations heard within SP_CONTROL_CONNECTED_MS. */
size_t sp_control_connected(const sp_control *c);

/* Path of a daemon's control socket: the node's submit.sock, the broker's
 * control.sock. */
int sp_control_path(const sp_config *cfg, char *out, size_t outlen) SP_MUST_CHECK;

#endif
