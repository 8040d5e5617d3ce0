/* sp_cli_status.c — `seinpost --config FILE status [--json|--prometheus]
 * [--max-age S] [--broker-limit S] [--timeout S]`: the daemon's own view
 * (asked over its local socket) and the store's, read-only. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "seinpost.pb-c.h"
#include "sp_cli.h"
#include "sp_config.h"
#include "sp_control.h"
#include "sp_status.h"
#include "sp_wire.h"

#define USAGE "usage: seinpost --config FILE status [--json | --prometheus] [--max-age S] [--broker-limit S] [--timeout S]\n"

/* One health request to the daemon (node: submit.sock, broker:
 * control.sock). Writes nothing to disk. *reply owned by the caller. */
static int ask_daemon(const sp_config *c, int timeout_ms, Seinpost__LocalReply **reply, char *why, size_t whylen)
{
	Seinpost__LocalRequest req = SEINPOST__LOCAL_REQUEST__INIT;
	Seinpost__HealthRequest hr = SEINPOST__HEALTH_REQUEST__INIT;
	char path[PATH_MAX], ep[PATH_MAX + 8];
	void *ctx = NULL, *s = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc = SP_EIO, linger = 0;
	zmq_msg_t msg;

	*reply = NULL;
	if (sp_control_path(c, path, sizeof path) != SP_OK)
		return SP_ESIZE;
	if (access(path, F_OK) != 0) {
		snprintf(why, whylen, "no socket %.400s (is seinpostd running?)", path);
		return SP_ENOTFOUND;
	}
	if (access(path, W_OK) != 0) {
		snprintf(why, whylen, "no access to %.400s (run as the daemon's user)", path);
		return SP_EPERM;
	}
	snprintf(ep, sizeof ep, "ipc://%s", path);
	req.body_case = SEINPOST__LOCAL_REQUEST__BODY_HEALTH;
	req.health = &hr;
	ctx = zmq_ctx_new();
	s = ctx ? zmq_socket(ctx, ZMQ_REQ) : NULL;
	if (!s)
		goto out;
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms);
	zmq_setsockopt(s, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms);
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_connect(s, ep) != 0 || (rc = sp_wire_pack(&req.base, &buf, &len)) != SP_OK)
		goto out;
	rc = SP_ETIMEOUT;
	if (zmq_send(s, buf, len, 0) < 0)
		goto out;
	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, s, 0) < 0) {
		zmq_msg_close(&msg);
		goto out;
	}
	*reply = seinpost__local_reply__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
	zmq_msg_close(&msg);
	rc = *reply && (*reply)->health ? SP_OK : SP_EMALFORMED;
out:
	if (rc == SP_ETIMEOUT)
		snprintf(why, whylen, "no answer on %.400s within %d s (not running, or hung)", path, timeout_ms / 1000);
	else if (rc == SP_EMALFORMED)
		snprintf(why, whylen, "the daemon's answer has no health report (an older seinpostd?)");
	else if (rc != SP_OK && !why[0])
		snprintf(why, whylen, "%s", sp_strerror(rc));
	free(buf);
	if (s)
		zmq_close(s);
	if (ctx)
		zmq_ctx_term(ctx);
	return rc;
}

static int seconds_arg(const char *opt, const char *v, uint64_t *out)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	if (*end || !n || v[0] == '-') {
		fprintf(stderr, "seinpost status: %s takes a number of seconds > 0\n", opt);
		return -1;
	}
	*out = n;
	return 0;
}

int sp_cli_status(const char *cfg_path, int argc, char **argv)
{
	sp_status_opts o = { .max_age_s = 86400, .map_bad_pct = 90, .broker_limit_s = 60 };
	sp_status *st = NULL;
	Seinpost__LocalReply *reply = NULL;
	sp_config cfg;
	uint64_t timeout_s = 5;
	char why[512] = "";
	int json = 0, prom = 0, rc, reachable;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--prometheus") == 0) {
			prom = 1;
		} else if (strcmp(argv[i], "--max-age") == 0 && i + 1 < argc) {
			if (seconds_arg("--max-age", argv[++i], &o.max_age_s))
				return 2;
		} else if (strcmp(argv[i], "--broker-limit") == 0 && i + 1 < argc) {
			if (seconds_arg("--broker-limit", argv[++i], &o.broker_limit_s))
				return 2;
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			if (seconds_arg("--timeout", argv[++i], &timeout_s) || timeout_s > 600)
				return 2;
		} else if (strcmp(argv[i], "--help") == 0) {
			fputs(USAGE
			      "The daemon's own view, asked over its local socket (works on a full disk): running or\n"
			      "not, storage failing, the link to the broker and the last contact (node), the\n"
			      "organisations connected and when each was last seen (broker), counters; and the\n"
			      "store's, read-only: queues per recipient, outbox, oldest undelivered, hooks, spool,\n"
			      "tree head, space.\n"
			      "  --json           numbers with the unit in the key (docs/json/status.schema.json)\n"
			      "  --prometheus     Prometheus text format for node_exporter's textfile collector\n"
			      "  --max-age S      something undelivered for longer is BAD (default 86400)\n"
			      "  --broker-limit S node: no contact with the broker for longer is BAD (default 60)\n"
			      "  --timeout S      how long to wait for the daemon (default 5)\n"
			      "Exit 0 healthy, 1 unhealthy (a line marked BAD), 2 usage or unreadable state,\n"
			      "3 cannot reach the daemon (the report still shows what the store holds).\n",
			      stdout);
			return 0;
		} else {
			fputs(USAGE, stderr);
			return 2;
		}
	}
	if (json && prom) {
		fputs("seinpost status: --json and --prometheus exclude each other\n", stderr);
		return 2;
	}
	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return 2;
	/* The pseudonymiser has no control socket yet: its status is its
	 * store's (counts per organisation, the last alarm). */
	if (cfg.role == SP_RUN_PSEUDONYMISER) {
		rc = SP_OK;
		why[0] = '\0';
	} else {
		rc = ask_daemon(&cfg, (int)timeout_s * 1000, &reply, why, sizeof why);
	}
	reachable = rc == SP_OK;
	o.daemon_asked = 1;
	o.health = reachable && reply ? reply->health : NULL;
	o.daemon_error = why;
	rc = sp_status_collect(&cfg, &o, &st);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost status: %s\n", sp_strerror(rc));
		rc = 2;
		goto out;
	}
	if (prom)
		sp_status_prometheus(st, stdout);
	else
		sp_status_print(st, stdout, json);
	if (!reachable) {
		fprintf(stderr, "seinpost status: cannot reach the daemon: %s\n", why);
		rc = 3;
	} else {
		rc = sp_status_level(st) == SP_STATUS_BAD ? 1 : 0;
	}
out:
	sp_status_free(&st);
	if (reply)
		seinpost__local_reply__free_unpacked(reply, NULL);
	return rc;
}
