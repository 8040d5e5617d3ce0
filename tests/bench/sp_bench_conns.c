/*
 * sp_bench_conns — hold one CURVE connection per organisation to a broker,
 * as that many real nodes would, so the benchmark can measure the broker's
 * footprint with N connected nodes without running N node processes.
 *
 *   sp_bench_conns SECONDS NODE.conf...
 *
 * Each config is loaded like a node loads it (keys, signed roster, broker
 * endpoint); the connection completes the CURVE handshake (ZAP admits the
 * roster key) and sends a Hello. Prints "connected N" once every socket has
 * an answer from the broker, then holds them for SECONDS (or until killed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>

#include "sp_config.h"
#include "sp_keys.h"
#include "sp_log.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "sp_transport.h"
#include "sp_util.h"
#include "sp_wire.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: sp_bench_conns SECONDS NODE.conf...\n");
		return 2;
	}
	int secs = atoi(argv[1]), n = argc - 2, answered = 0, status = 1;
	void *ctx = zmq_ctx_new();
	void **socks = calloc((size_t)n, sizeof *socks);
	char *got = calloc((size_t)n, 1);
	if (sodium_init() < 0 || !ctx || !socks || !got)
		return 1;
	sp_log_init("sp_bench_conns", 0, 0);
	for (int i = 0; i < n; i++) {
		sp_config c;
		sp_keyset *k = NULL;
		sp_roster *r = NULL;
		sp_policy *pol = NULL;
		char err[512];
		if (sp_config_load(argv[i + 2], &c, err, sizeof err) != SP_OK ||
		    sp_keys_load(c.keys_dir, &k) != SP_OK ||
		    sp_roster_load(c.roster_path, c.operator_pk, &r) != SP_OK ||
		    sp_policy_load(c.policy_path, &pol, err, sizeof err) != SP_OK) {
			fprintf(stderr, "sp_bench_conns: cannot load %s\n", argv[i + 2]);
			goto out;
		}
		sp_transport_opts o = { .endpoint = c.endpoint, .max_frame = c.max_frame,
		                        .heartbeat_ms = c.heartbeat_ms };
		if (sp_transport_node(ctx, k, sp_roster_broker_curve(r), c.org, &o, &socks[i]) != SP_OK) {
			fprintf(stderr, "sp_bench_conns: cannot connect for %s\n", c.org);
			goto out;
		}
		Seinpost__Frame f = SEINPOST__FRAME__INIT;
		Seinpost__Hello h = SEINPOST__HELLO__INIT;
		uint8_t *buf = NULL;
		size_t len;
		h.org = c.org;
		h.policy_hash.data = (uint8_t *)sp_policy_hash(pol);
		h.policy_hash.len = 32;
		f.version = SP_WIRE_VERSION;
		f.body_case = SEINPOST__FRAME__BODY_HELLO;
		f.hello = &h;
		if (sp_wire_pack(&f.base, &buf, &len) != SP_OK ||
		    sp_transport_send(socks[i], NULL, 0, buf, len) != SP_OK) {
			free(buf);
			goto out;
		}
		free(buf);
		sp_keys_free(&k);
		sp_roster_free(&r);
		sp_policy_free(&pol);
	}
	/* Wait for every broker answer (the handshake and the Hello went through). */
	uint64_t deadline = sp_mono_ms() + 30000;
	while (answered < n && sp_mono_ms() < deadline) {
		for (int i = 0; i < n; i++) {
			sp_msg m;
			memset(&m, 0, sizeof m);
			while (sp_transport_recv(socks[i], 0, 1, &m) == SP_OK) {
				if (!got[i]) {
					got[i] = 1;
					answered++;
				}
				sp_msg_clear(&m);
				memset(&m, 0, sizeof m);
			}
		}
		usleep(10000);
	}
	printf("connected %d\n", answered);
	fflush(stdout);
	if (answered < n)
		goto out;
	for (uint64_t end = sp_mono_ms() + (uint64_t)secs * 1000; sp_mono_ms() < end;) {
		for (int i = 0; i < n; i++) { /* drain answers so nothing piles up */
			sp_msg m;
			memset(&m, 0, sizeof m);
			while (sp_transport_recv(socks[i], 0, 1, &m) == SP_OK) {
				sp_msg_clear(&m);
				memset(&m, 0, sizeof m);
			}
		}
		usleep(100000);
	}
	status = 0;
out:
	for (int i = 0; i < n; i++)
		if (socks[i]) {
			int linger = 0;
			zmq_setsockopt(socks[i], ZMQ_LINGER, &linger, sizeof linger);
			zmq_close(socks[i]);
		}
	zmq_ctx_term(ctx);
	free(socks);
	free(got);
	return status;
}
