/* sp_link.c — the node's link to the broker: monitor events, contact, one
 * log line per change. See sp_link.h. */
#include "sp_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "sp_log.h"
#include "sp_util.h"

#define C "node"

struct sp_link {
	void *mon;                 /* PAIR receiving the monitor's events */
	char endpoint[256];
	uint64_t start_mono;
	uint64_t contact_mono;     /* last frame from the broker, 0 = never */
	uint64_t tcp_connects;     /* since the last contact */
	uint64_t handshakes_failed;/* since the last contact */
	int logged_bad;            /* the current bad state was logged */
	const char *state;
};

int sp_link_open(void *zctx, void *sock, const char *endpoint, sp_link **out)
{
	static unsigned seq;
	char ep[64];
	int linger = 0;
	sp_link *l = calloc(1, sizeof *l);
	*out = NULL;
	if (!l)
		return SP_ENOMEM;
	snprintf(l->endpoint, sizeof l->endpoint, "%s", endpoint);
	snprintf(ep, sizeof ep, "inproc://sp-link-%u", seq++);
	l->start_mono = sp_mono_ms();
	l->state = "connecting";
	if (zmq_socket_monitor(sock, ep, ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
	                                 ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
	                                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0 ||
	    !(l->mon = zmq_socket(zctx, ZMQ_PAIR)) ||
	    zmq_setsockopt(l->mon, ZMQ_LINGER, &linger, sizeof linger) != 0 || zmq_connect(l->mon, ep) != 0) {
		sp_log(LOG_WARNING, C, "cannot monitor the broker link: %s; status shows contact only",
		       zmq_strerror(zmq_errno()));
		if (l->mon)
			zmq_close(l->mon);
		l->mon = NULL;
	}
	*out = l;
	return SP_OK;
}

void sp_link_close(sp_link **lp)
{
	if (!lp || !*lp)
		return;
	if ((*lp)->mon)
		zmq_close((*lp)->mon);
	free(*lp);
	*lp = NULL;
}

static void set_state(sp_link *l, sp_health *h, const char *state, const char *hint)
{
	l->state = state;
	h->link_state = state;
	snprintf(h->link_hint, sizeof h->link_hint, "%s", hint ? hint : "");
}

int sp_link_contact(sp_link *l, sp_health *h)
{
	uint64_t now = sp_mono_ms();
	int back;
	if (!l)
		return 0;
	/* Only the end of an outage (nothing accepted the connection) makes the
	 * node resend at once; a broker that was silent because it was busy
	 * (connections accepted, handshakes not completed) keeps the grown
	 * backoff, so the node does not pile resends on it. */
	back = l->logged_bad && strcmp(l->state, "unreachable") == 0;
	if (l->logged_bad) {
		uint64_t since = l->contact_mono ? l->contact_mono : l->start_mono;
		sp_log(LOG_NOTICE, C, "the broker at %s answers again (no answer for %llu s)", l->endpoint,
		       (unsigned long long)((now - since) / 1000));
	}
	l->logged_bad = 0;
	l->contact_mono = now;
	l->tcp_connects = 0;
	l->handshakes_failed = 0;
	h->broker_contact_ms = sp_now_ms();
	set_state(l, h, "connected", NULL);
	return back;
}

/* Events: a 6-byte first part (u16 event, u32 value), the endpoint second. */
static void drain(sp_link *l, sp_health *h)
{
	for (int k = 0; l->mon && k < 256; k++) {
		zmq_msg_t m;
		uint16_t ev = 0;
		int more = 0;
		size_t ml = sizeof more;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, l->mon, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			return;
		}
		if (zmq_msg_size(&m) >= 2)
			memcpy(&ev, zmq_msg_data(&m), 2);
		zmq_msg_close(&m);
		zmq_getsockopt(l->mon, ZMQ_RCVMORE, &more, &ml);
		while (more) {
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, l->mon, 0) < 0)
				more = 0;
			else
				zmq_getsockopt(l->mon, ZMQ_RCVMORE, &more, &ml);
			zmq_msg_close(&m);
		}
		if (ev == ZMQ_EVENT_CONNECTED)
			l->tcp_connects++;
		else if (ev & (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
		               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)) {
			l->handshakes_failed++;
			h->handshake_failures++;
		}
	}
}

void sp_link_tick(sp_link *l, sp_health *h)
{
	uint64_t now = sp_mono_ms(), last;
	char hint[512];
	if (!l)
		return;
	drain(l, h);
	last = l->contact_mono ? l->contact_mono : l->start_mono;
	if (now - last < SP_LINK_SILENT_MS)
		return;
	/* Silent for long enough: say why we think so, once. */
	if (l->tcp_connects || l->handshakes_failed) {
		snprintf(hint, sizeof hint,
		         "%.200s accepts connections but the CURVE handshake never completes: the broker is hung, or (more likely when it lasts) check that this node's "
		         "roster has this network's broker key, that 'broker' is this network's broker, and that "
		         "this organisation is on the broker's roster", l->endpoint);
		if (strcmp(l->state, "no-handshake") != 0)
			l->logged_bad = 0;
		set_state(l, h, "no-handshake", hint);
	} else {
		snprintf(hint, sizeof hint, "nothing answers at %.200s: check that the broker runs and that the "
		         "address and port are right (firewall?)", l->endpoint);
		if (strcmp(l->state, "unreachable") != 0)
			l->logged_bad = 0;
		set_state(l, h, "unreachable", hint);
	}
	if (!l->logged_bad) {
		sp_log(LOG_ERR, C, "no answer from the broker for %llu s: %s", (unsigned long long)((now - last) / 1000),
		       h->link_hint);
		l->logged_bad = 1;
	}
}
