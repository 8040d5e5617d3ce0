/*
 * sp_transport.c — ZeroMQ with CURVE everywhere, and the ZAP handler that
 * turns a proven CURVE key into an organisation id.
 *
 * Trust boundary: the only identity the broker may believe is the ZAP
 * User-Id, which this handler sets from the roster entry whose CURVE key the
 * handshake proved. Nodes do not choose a routing id: the ROUTER assigns a
 * random one per connection, and the broker learns "org -> routing id" only
 * from messages whose User-Id is that org. A peer therefore cannot squat
 * another organisation's routing id to receive its deliveries.
 *
 * The ZAP handler is a thread owning a REP socket on
 * inproc://zeromq.zap.01 and a PAIR socket it polls for "stop". Both are
 * created in sp_zap_start (so the handler is bound before any CURVE server
 * socket exists) and handed to the thread; pthread_create is the full memory
 * barrier libzmq asks for when a socket moves between threads.
 */
#include "sp_transport.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "sp_log.h"
#include "sp_util.h"
#include "sp_wire.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN "seinpost"
#define ZAP_MAX_PARTS 16
#define LINGER_MS 1000
#define RECONNECT_MAX_MS 5000

struct sp_zap {
	void *rep;            /* owned by the thread once started */
	void *ctl_thread;     /* PAIR, thread side */
	void *ctl_main;       /* PAIR, caller side */
	pthread_t thread;
	int running;
	pthread_mutex_t lock; /* guards roster: a lookup never sees a freed roster */
	const sp_roster *roster;
	uint64_t refused;     /* __atomic */
};

/* ---- ZAP handler -------------------------------------------------------- */

static int part_is(zmq_msg_t *m, const char *s)
{
	size_t n = strlen(s);
	return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), s, n) == 0;
}

static int send_str(void *sock, const void *data, size_t len, int more)
{
	return zmq_send(sock, data, len, more ? ZMQ_SNDMORE : 0) < 0 ? -1 : 0;
}

/* One request/reply. REP requires a reply to every request, so even a
 * malformed request gets one (status 500) to keep the socket usable. */
static void zap_serve_one(sp_zap *z)
{
	zmq_msg_t parts[ZAP_MAX_PARTS];
	int n = 0, more = 1;
	const char *status = "500", *text = "malformed ZAP request";
	char user[SP_ID_MAX] = "";
	char hex[17];
	const uint8_t *key = NULL;

	while (more) {
		zmq_msg_t scratch, *m = n < ZAP_MAX_PARTS ? &parts[n] : &scratch;
		zmq_msg_init(m);
		if (zmq_msg_recv(m, z->rep, 0) < 0) {
			zmq_msg_close(m);
			goto out;
		}
		more = zmq_msg_more(m);
		if (m == &scratch)
			zmq_msg_close(m); /* drained; the request is malformed anyway */
		else
			n++;
	}
	/* RFC 27: version, request id, domain, address, identity, mechanism,
	 * credentials...; CURVE has exactly one credential, the client key. */
	if (n < 6 || !part_is(&parts[0], "1.0"))
		goto reply;
	if (!part_is(&parts[5], "CURVE")) {
		status = "400";
		text = "mechanism not allowed";
		sp_log(LOG_WARNING, "zap", "refused a handshake: mechanism is not CURVE");
		__atomic_add_fetch(&z->refused, 1, __ATOMIC_RELAXED);
		goto reply;
	}
	if (n != 7 || zmq_msg_size(&parts[6]) != 32)
		goto reply;
	key = zmq_msg_data(&parts[6]);
	pthread_mutex_lock(&z->lock);
	const sp_org *org = z->roster ? sp_roster_find_curve_at(z->roster, key, sp_now_s()) : NULL;
	if (org)
		snprintf(user, sizeof user, "%s", org->id);
	pthread_mutex_unlock(&z->lock);
	if (user[0]) {
		status = "200";
		text = "OK";
	} else {
		status = "400";
		text = "key not on the roster";
		sp_hex(key, 4, hex);
		sp_log(LOG_WARNING, "zap", "refused CURVE key %s...: not on the roster", hex);
		__atomic_add_fetch(&z->refused, 1, __ATOMIC_RELAXED);
	}
reply:
	if (status[0] == '5')
		__atomic_add_fetch(&z->refused, 1, __ATOMIC_RELAXED);
	/* A failed send leaves nothing to recover here; libzmq then treats the
	 * handshake as failed, which is the safe outcome. */
	if (send_str(z->rep, "1.0", 3, 1) == 0 &&
	    send_str(z->rep, n > 1 ? zmq_msg_data(&parts[1]) : "", n > 1 ? zmq_msg_size(&parts[1]) : 0, 1) == 0 &&
	    send_str(z->rep, status, 3, 1) == 0 &&
	    send_str(z->rep, text, strlen(text), 1) == 0 &&
	    send_str(z->rep, user, strlen(user), 1) == 0)
		(void)send_str(z->rep, "", 0, 0);
out:
	for (int i = 0; i < n; i++)
		zmq_msg_close(&parts[i]);
}

static void *zap_thread(void *arg)
{
	sp_zap *z = arg;
	for (;;) {
		zmq_pollitem_t items[2] = {
			{ z->rep, 0, ZMQ_POLLIN, 0 },
			{ z->ctl_thread, 0, ZMQ_POLLIN, 0 },
		};
		if (zmq_poll(items, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			sp_log(LOG_ERR, "zap", "poll failed: %s", zmq_strerror(errno));
			break; /* ETERM: the context is going away */
		}
		if (items[1].revents & ZMQ_POLLIN)
			break;
		if (items[0].revents & ZMQ_POLLIN)
			zap_serve_one(z);
	}
	zmq_close(z->rep);
	zmq_close(z->ctl_thread);
	z->rep = z->ctl_thread = NULL;
	return NULL;
}

static int set_int(void *s, int opt, int v)
{
	return zmq_setsockopt(s, opt, &v, sizeof v);
}

int sp_zap_start(void *zctx, const sp_roster *r, sp_zap **out)
{
	sp_zap *z = NULL;
	char ctl[64];
	int rc = SP_EIO;

	*out = NULL;
	if (!zctx)
		return SP_EINVAL;
	z = calloc(1, sizeof *z);
	if (!z)
		return SP_ENOMEM;
	pthread_mutex_init(&z->lock, NULL);
	z->roster = r;
	snprintf(ctl, sizeof ctl, "inproc://sp-zap-ctl-%p", (void *)z);
	z->rep = zmq_socket(zctx, ZMQ_REP);
	z->ctl_thread = zmq_socket(zctx, ZMQ_PAIR);
	z->ctl_main = zmq_socket(zctx, ZMQ_PAIR);
	if (!z->rep || !z->ctl_thread || !z->ctl_main)
		goto out;
	(void)set_int(z->rep, ZMQ_LINGER, 0);
	(void)set_int(z->ctl_thread, ZMQ_LINGER, 0);
	(void)set_int(z->ctl_main, ZMQ_LINGER, 0);
	if (zmq_bind(z->rep, ZAP_ENDPOINT) != 0) {
		/* EADDRINUSE: another handler already serves this context. */
		sp_log(LOG_ERR, "zap", "cannot bind %s: %s", ZAP_ENDPOINT, zmq_strerror(errno));
		rc = errno == EADDRINUSE ? SP_EEXIST : SP_EIO;
		goto out;
	}
	if (zmq_bind(z->ctl_thread, ctl) != 0 || zmq_connect(z->ctl_main, ctl) != 0)
		goto out;
	if (pthread_create(&z->thread, NULL, zap_thread, z) != 0)
		goto out;
	z->running = 1;
	*out = z;
	z = NULL;
	rc = SP_OK;
out:
	if (z) {
		if (z->rep)
			zmq_close(z->rep);
		if (z->ctl_thread)
			zmq_close(z->ctl_thread);
		if (z->ctl_main)
			zmq_close(z->ctl_main);
		pthread_mutex_destroy(&z->lock);
		free(z);
	}
	return rc;
}

void sp_zap_set_roster(sp_zap *z, const sp_roster *r)
{
	if (!z)
		return;
	/* Once this returns no lookup uses the old roster: the caller may free it. */
	pthread_mutex_lock(&z->lock);
	z->roster = r;
	pthread_mutex_unlock(&z->lock);
}

uint64_t sp_zap_refused(const sp_zap *z)
{
	return z ? __atomic_load_n(&z->refused, __ATOMIC_RELAXED) : 0;
}

void sp_zap_stop(sp_zap **zp)
{
	sp_zap *z;
	if (!zp || !*zp)
		return;
	z = *zp;
	if (z->running) {
		/* If the send fails the context is terminating, and zmq_poll in
		 * the thread returns ETERM: the join completes either way. */
		(void)zmq_send(z->ctl_main, "", 0, 0);
		pthread_join(z->thread, NULL);
	}
	zmq_close(z->ctl_main);
	pthread_mutex_destroy(&z->lock);
	free(z);
	*zp = NULL;
}

/* ---- sockets ------------------------------------------------------------ */

static int set_common(void *s, const sp_transport_opts *o)
{
	int64_t max = o->max_frame ? (int64_t)o->max_frame : (int64_t)SP_MAX_FRAME_DEFAULT;
	int hb = (int)o->heartbeat_ms;

	if (zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max) != 0 ||
	    set_int(s, ZMQ_LINGER, LINGER_MS) != 0)
		return -1;
	if (hb > 0) {
		/* TTL travels to the peer in deciseconds, max 6553.5 s. */
		int timeout = hb > 2000000 ? 6000000 : hb * 3;
		int ttl = timeout > 6553500 ? 6553500 : timeout;
		if (set_int(s, ZMQ_HEARTBEAT_IVL, hb) != 0 ||
		    set_int(s, ZMQ_HEARTBEAT_TIMEOUT, timeout) != 0 ||
		    set_int(s, ZMQ_HEARTBEAT_TTL, ttl) != 0)
			return -1;
	}
	/* A connection that has not completed the CURVE handshake by then is
	 * closed: idle connections cannot hold the descriptors for good. */
	if (o->handshake_ms > 0 && set_int(s, ZMQ_HANDSHAKE_IVL, (int)o->handshake_ms) != 0)
		return -1;
	if (o->sndhwm > 0 && set_int(s, ZMQ_SNDHWM, o->sndhwm) != 0)
		return -1;
	if (o->rcvhwm != 0 && set_int(s, ZMQ_RCVHWM, o->rcvhwm < 0 ? 0 : o->rcvhwm) != 0)
		return -1;
	return 0;
}

int sp_transport_broker(void *zctx, const sp_keyset *k, const sp_transport_opts *o,
                        void **sock)
{
	void *s = NULL;
	int rc = SP_EIO;

	*sock = NULL;
	if (!zctx || !k || !o || !o->endpoint)
		return SP_EINVAL;
	s = zmq_socket(zctx, ZMQ_ROUTER);
	if (!s)
		return SP_EIO;
	/* The secret key is copied by libzmq into its own (plain) memory. */
	if (set_int(s, ZMQ_CURVE_SERVER, 1) != 0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, k->curve_sk, 32) != 0 ||
	    zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN)) != 0 ||
	    set_int(s, ZMQ_ROUTER_MANDATORY, 1) != 0 ||
	    set_common(s, o) != 0) {
		sp_log(LOG_ERR, "transport", "broker socket options: %s", zmq_strerror(errno));
		goto out;
	}
	if (zmq_bind(s, o->endpoint) != 0) {
		int e = zmq_errno();
		sp_log(LOG_ERR, "transport", "cannot listen on %s: %s%s", o->endpoint, zmq_strerror(e),
		       e == EADDRINUSE ? " (another broker, or another program, uses that port)" : "");
		goto out;
	}
	*sock = s;
	s = NULL;
	rc = SP_OK;
out:
	if (s) {
		(void)set_int(s, ZMQ_LINGER, 0);
		zmq_close(s);
	}
	return rc;
}

int sp_transport_node(void *zctx, const sp_keyset *k, const uint8_t broker_curve_pk[32],
                      const char *org, const sp_transport_opts *o, void **sock)
{
	void *s = NULL;
	int rc = SP_EIO;

	*sock = NULL;
	if (!zctx || !k || !broker_curve_pk || !o || !o->endpoint || !sp_ident_ok(org))
		return SP_EINVAL;
	s = zmq_socket(zctx, ZMQ_DEALER);
	if (!s)
		return SP_EIO;
	if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, broker_curve_pk, 32) != 0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, k->curve_pk, 32) != 0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, k->curve_sk, 32) != 0 ||
	    set_int(s, ZMQ_RECONNECT_IVL_MAX, RECONNECT_MAX_MS) != 0 ||
	    set_common(s, o) != 0) {
		sp_log(LOG_ERR, "transport", "node socket options: %s", zmq_strerror(errno));
		goto out;
	}
	if (zmq_connect(s, o->endpoint) != 0) {
		sp_log(LOG_ERR, "transport", "cannot connect %s: %s", o->endpoint, zmq_strerror(errno));
		goto out;
	}
	*sock = s;
	s = NULL;
	rc = SP_OK;
out:
	if (s) {
		(void)set_int(s, ZMQ_LINGER, 0);
		zmq_close(s);
	}
	return rc;
}

/* ---- messages ----------------------------------------------------------- */

static int map_errno(int e)
{
	switch (e) {
	case EAGAIN:
	case EINTR:
		return SP_ETIMEOUT;
	case EHOSTUNREACH:
		return SP_ENOTFOUND;
	default:
		return SP_EIO;
	}
}

static void drain(void *sock, zmq_msg_t *last)
{
	while (zmq_msg_more(last)) {
		zmq_msg_close(last);
		zmq_msg_init(last);
		if (zmq_msg_recv(last, sock, 0) < 0)
			break;
	}
}

static int copy_body(zmq_msg_t *msg, sp_msg *m)
{
	size_t n = zmq_msg_size(msg);
	m->body = malloc(n + 1);
	if (!m->body)
		return SP_ENOMEM;
	memcpy(m->body, zmq_msg_data(msg), n);
	m->len = n;
	return SP_OK;
}

int sp_transport_recv(void *sock, int is_router, int dontwait, sp_msg *m)
{
	zmq_msg_t a, b;
	int rc = SP_EIO;
	const char *user;
	size_t ulen;

	memset(m, 0, sizeof *m);
	zmq_msg_init(&a);
	zmq_msg_init(&b);
	if (zmq_msg_recv(&a, sock, dontwait ? ZMQ_DONTWAIT : 0) < 0) {
		rc = map_errno(errno);
		goto out;
	}
	if (!is_router) {
		if (zmq_msg_more(&a)) {
			drain(sock, &a);
			rc = SP_EMALFORMED;
			goto out;
		}
		rc = copy_body(&a, m);
		goto out;
	}
	/* ROUTER: [routing id][body]; the rest of a message is always there. */
	if (!zmq_msg_more(&a) || zmq_msg_size(&a) > sizeof m->rid) {
		drain(sock, &a);
		rc = SP_EMALFORMED;
		goto out;
	}
	if (zmq_msg_recv(&b, sock, 0) < 0) {
		rc = map_errno(errno);
		goto out;
	}
	if (zmq_msg_more(&b)) {
		drain(sock, &b);
		rc = SP_EMALFORMED;
		goto out;
	}
	user = zmq_msg_gets(&b, "User-Id");
	ulen = user ? strlen(user) : 0;
	if (ulen == 0 || ulen >= sizeof m->user) {
		rc = SP_ESENDER;
		goto out;
	}
	memcpy(m->rid, zmq_msg_data(&a), zmq_msg_size(&a));
	m->rid_len = zmq_msg_size(&a);
	memcpy(m->user, user, ulen + 1);
	rc = copy_body(&b, m);
out:
	zmq_msg_close(&a);
	zmq_msg_close(&b);
	if (rc != SP_OK)
		sp_msg_clear(m);
	return rc;
}

void sp_msg_clear(sp_msg *m)
{
	if (!m)
		return;
	free(m->body);
	memset(m, 0, sizeof *m);
}

int sp_transport_send(void *sock, const uint8_t *rid, size_t rid_len,
                      const void *body, size_t len)
{
	int type = 0;
	int64_t max = 0;
	size_t sz = sizeof type, msz = sizeof max;

	if (!sock || (!body && len > 0))
		return SP_EINVAL;
	if (zmq_getsockopt(sock, ZMQ_TYPE, &type, &sz) != 0)
		return SP_EIO;
	/* The peer drops the whole connection on a message over its
	 * MAXMSGSIZE; both ends use the same max_frame, so refuse it here. */
	if (zmq_getsockopt(sock, ZMQ_MAXMSGSIZE, &max, &msz) == 0 && max > 0 && len > (uint64_t)max)
		return SP_ESIZE;
	if (type == ZMQ_ROUTER) {
		if (!rid || rid_len == 0 || rid_len > 255)
			return SP_EINVAL;
		if (zmq_send(sock, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
			return map_errno(errno);
	}
	/* A ROUTER accepts the rest of a message once its first part went out. */
	if (zmq_send(sock, body, len, ZMQ_DONTWAIT) < 0)
		return map_errno(errno);
	return SP_OK;
}
