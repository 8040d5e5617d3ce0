/* sp_control.c — the broker's control socket for `seinpost status`, and the
 * table of when each organisation was last heard. See sp_control.h. */
#include "sp_control.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "seinpost.pb-c.h"
#include "sp_log.h"
#include "sp_util.h"
#include "sp_wire.h"

#define C "control"
#define ENV_MAX 64

struct seen {
	char org[SP_ID_MAX + 1];
	uint64_t wall_ms, mono_ms;
};

struct sp_control {
	void *sock;
	char path[4200];
	struct seen *orgs;
	size_t n, cap;
};

int sp_control_path(const sp_config *cfg, char *out, size_t outlen)
{
	return sp_path_join(cfg->state_dir, cfg->role == SP_RUN_BROKER ? "control.sock" : "submit.sock", out, outlen);
}

static struct seen *find(sp_control *c, const char *org, int add)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->orgs[i].org, org) == 0)
			return &c->orgs[i];
	if (!add || strlen(org) > SP_ID_MAX)
		return NULL;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		void *p = realloc(c->orgs, cap * sizeof *c->orgs);
		if (!p)
			return NULL;
		c->orgs = p;
		c->cap = cap;
	}
	memset(&c->orgs[c->n], 0, sizeof c->orgs[c->n]);
	memcpy(c->orgs[c->n].org, org, strlen(org) + 1);
	return &c->orgs[c->n++];
}

int sp_control_open(void *zctx, const sp_config *cfg, const sp_roster *r, sp_control **out)
{
	sp_control *c = calloc(1, sizeof *c);
	char ep[4300];
	int linger = 0;
	int64_t maxmsg = 4096;
	int rc = SP_EIO;

	*out = NULL;
	if (!c)
		return SP_ENOMEM;
	for (size_t i = 0; r && i < sp_roster_count(r); i++)
		if (!find(c, sp_roster_at(r, i)->id, 1)) {
			rc = SP_ENOMEM;
			goto out;
		}
	if (sp_control_path(cfg, c->path, sizeof c->path) != SP_OK) {
		rc = SP_ESIZE;
		goto out;
	}
	/* Ours to remove: the state directory is locked to this daemon. */
	unlink(c->path);
	snprintf(ep, sizeof ep, "ipc://%s", c->path);
	c->sock = zmq_socket(zctx, ZMQ_ROUTER);
	if (!c->sock)
		goto out;
	zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
	if (zmq_bind(c->sock, ep) != 0) {
		sp_log(LOG_ERR, C, "cannot bind the control socket %s: %s", c->path, zmq_strerror(zmq_errno()));
		goto out;
	}
	if (chmod(c->path, 0600) != 0)
		goto out;
	*out = c;
	c = NULL;
	rc = SP_OK;
out:
	sp_control_close(&c);
	return rc;
}

void sp_control_close(sp_control **cp)
{
	sp_control *c;
	if (!cp || !*cp)
		return;
	c = *cp;
	if (c->sock) {
		zmq_close(c->sock);
		unlink(c->path);
	}
	free(c->orgs);
	free(c);
	*cp = NULL;
}

void *sp_control_socket(sp_control *c)
{
	return c ? c->sock : NULL;
}

void sp_control_seen(sp_control *c, const char *org)
{
	struct seen *s;
	if (!c || !org || !org[0] || !(s = find(c, org, 1)))
		return;
	s->wall_ms = sp_now_ms();
	s->mono_ms = sp_mono_ms();
}

static int is_connected(const struct seen *s, uint64_t mono)
{
	return s->mono_ms && mono - s->mono_ms <= SP_CONTROL_CONNECTED_MS;
}

size_t sp_control_connected(const sp_control *c)
{
	size_t n = 0;
	uint64_t mono = sp_mono_ms();
	for (size_t i = 0; c && i < c->n; i++)
		n += (size_t)is_connected(&c->orgs[i], mono);
	return n;
}

static void answer(sp_control *c, const uint8_t *env, size_t envlen, const uint8_t *body, size_t len,
                   const sp_health *h, sp_store *st)
{
	Seinpost__LocalRequest *req = NULL;
	Seinpost__LocalReply rep = SEINPOST__LOCAL_REPLY__INIT;
	Seinpost__HealthReport hr = SEINPOST__HEALTH_REPORT__INIT;
	Seinpost__OrgSeen *os = NULL, **osp = NULL;
	uint8_t *buf = NULL;
	size_t blen = 0;
	char why[256];
	uint64_t mono = sp_mono_ms();

	if (sp_wire_decode_local(body, len, &req, why, sizeof why) != SP_OK ||
	    req->body_case != SEINPOST__LOCAL_REQUEST__BODY_HEALTH) {
		rep.code = SP_EINVAL;
		rep.message = "the broker's control socket answers health requests only";
	} else {
		sp_health_report(h, st, &hr);
		os = calloc(c->n ? c->n : 1, sizeof *os);
		osp = calloc(c->n ? c->n : 1, sizeof *osp);
		if (os && osp) {
			for (size_t i = 0; i < c->n; i++) {
				seinpost__org_seen__init(&os[i]);
				os[i].org = c->orgs[i].org;
				os[i].last_seen = c->orgs[i].wall_ms;
				os[i].connected = is_connected(&c->orgs[i], mono);
				osp[i] = &os[i];
			}
			hr.n_orgs = c->n;
			hr.orgs = osp;
		}
		rep.health = &hr;
	}
	if (sp_wire_pack(&rep.base, &buf, &blen) == SP_OK) {
		if (zmq_send(c->sock, env, envlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
		    zmq_send(c->sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
		    zmq_send(c->sock, buf, blen, ZMQ_DONTWAIT) < 0)
			sp_log(LOG_DEBUG, C, "status answer not delivered (client gone)");
	}
	free(buf);
	free(os);
	free(osp);
	if (req)
		seinpost__local_request__free_unpacked(req, NULL);
}

/* One request: routing id, empty delimiter, body (a REQ client). Anything
 * else is read to its end and dropped. */
void sp_control_serve(sp_control *c, const sp_health *h, sp_store *st)
{
	for (int k = 0; c && k < 16; k++) {
		zmq_msg_t part[3];
		int n = 0, more = 1, ok = 1;
		while (more) {
			zmq_msg_t m;
			size_t ml = sizeof more;
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, c->sock, n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
				zmq_msg_close(&m);
				if (n == 0)
					return;
				ok = 0;
				break;
			}
			zmq_getsockopt(c->sock, ZMQ_RCVMORE, &more, &ml);
			if (n < 3)
				part[n++] = m;
			else {
				zmq_msg_close(&m);
				ok = 0;
			}
		}
		if (ok && n == 3 && zmq_msg_size(&part[0]) <= ENV_MAX && zmq_msg_size(&part[1]) == 0)
			answer(c, zmq_msg_data(&part[0]), zmq_msg_size(&part[0]), zmq_msg_data(&part[2]),
			       zmq_msg_size(&part[2]), h, st);
		for (int i = 0; i < n; i++)
			zmq_msg_close(&part[i]);
	}
}
