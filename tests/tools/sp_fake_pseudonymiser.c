/*
 * sp_fake_pseudonymiser.c — a hostile pseudonymisation instance for the
 * e2e tests: it takes a real instance's configuration (its CURVE keys and
 * address, so nodes connect and the handshake succeeds) but evaluates with a
 * key of its own and proves that key honestly. A node must refuse every
 * answer (the proof is not against the instance's key on the roster), raise
 * the alarm and ask another instance.
 *
 * With --forge-alarms it also answers the privacy officer's alarm fetches
 * with pages signed by a key of its own: the node must refuse them and
 * raise the feed's alarm (tests/e2e/test_oprf_alarms.sh).
 *
 * Usage: sp_fake_pseudonymiser CONFIG [--forge-alarms] — runs until SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "sp_config.h"
#include "sp_keys.h"
#include "sp_oprf_alarmfeed.h"
#include "sp_oprfsvc.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "sp_transport.h"
#include "sp_util.h"
#include "sp_wire.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	sp_config cfg;
	sp_keyset *keys = NULL, *forger = NULL;
	sp_roster *roster = NULL;
	sp_policy *policy = NULL;
	sp_oprf_key *wrong = NULL;
	sp_store *store = NULL;
	sp_zap *zap = NULL;
	void *zctx, *sock = NULL;
	char err[512], dir[4200];
	struct sigaction sa = { 0 };

	int forge = argc == 3 && strcmp(argv[2], "--forge-alarms") == 0;
	if ((argc != 2 && !forge) || sp_config_load(argv[1], &cfg, err, sizeof err) != SP_OK) {
		fprintf(stderr, "usage: sp_fake_pseudonymiser CONFIG [--forge-alarms]\n");
		return 2;
	}
	snprintf(dir, sizeof dir, "%s/fake-state", cfg.state_dir);
	if (sp_keys_load(cfg.keys_dir, &keys) != SP_OK ||
	    sp_roster_load(cfg.roster_path, cfg.operator_pk, &roster) != SP_OK ||
	    sp_policy_load(cfg.policy_path, &policy, err, sizeof err) != SP_OK ||
	    sp_oprf_key_generate(&wrong) != SP_OK || sp_keys_generate(0, &forger) != SP_OK ||
	    sp_store_open(dir, 0, 0, &store) != SP_OK)
		return 1;
	zctx = zmq_ctx_new();
	sp_transport_opts o = { .endpoint = cfg.oprf_endpoint, .max_frame = cfg.max_frame,
		                .heartbeat_ms = cfg.heartbeat_ms };
	if (!zctx || sp_zap_start(zctx, roster, &zap) != SP_OK ||
	    sp_transport_broker(zctx, keys, &o, &sock) != SP_OK)
		return 1;
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("listening on %s (with a wrong key)\n", cfg.oprf_endpoint);
	fflush(stdout);
	sp_oprfsvc_ctx ctx = { roster, policy, wrong, cfg.org, cfg.max_clock_skew_s, NULL };
	while (!stop) {
		zmq_pollitem_t it = { .socket = sock, .events = ZMQ_POLLIN };
		sp_msg m;
		sp_txn *t = NULL;
		uint8_t *reply = NULL;
		size_t rlen = 0;
		char alarm[256];
		if (zmq_poll(&it, 1, 200) <= 0)
			continue;
		if (sp_transport_recv(sock, 1, 1, &m) != SP_OK) {
			sp_msg_clear(&m);
			continue;
		}
		Seinpost__OprfAlarmFetch *f = NULL;
		if (sp_wire_decode_oprf_alarm_fetch(m.body, m.len, &f) == SP_OK) {
			if (forge && sp_txn_begin(store, 0, &t) == SP_OK &&
			    sp_oprf_alarm_serve(t, roster, forger, cfg.org, m.user, f, sp_now_ms(), &reply, &rlen) == SP_OK &&
			    sp_transport_send(sock, m.rid, m.rid_len, reply, rlen) != SP_OK)
				fprintf(stderr, "reply not sent\n");
			seinpost__oprf_alarm_fetch__free_unpacked(f, NULL);
		} else if (sp_txn_begin(store, 1, &t) == SP_OK &&
		    sp_oprfsvc_handle(&ctx, t, m.user, m.body, m.len, sp_now_ms(), &reply, &rlen, alarm,
		                      sizeof alarm) == SP_OK &&
		    sp_txn_commit(&t) == SP_OK)
			if (sp_transport_send(sock, m.rid, m.rid_len, reply, rlen) != SP_OK)
				fprintf(stderr, "reply not sent\n");
		sp_txn_abort(&t);
		free(reply);
		sp_msg_clear(&m);
	}
	zmq_close(sock);
	sp_zap_stop(&zap);
	zmq_ctx_term(zctx);
	sp_store_close(&store);
	sp_oprf_key_free(&wrong);
	sp_policy_free(&policy);
	sp_roster_free(&roster);
	sp_keys_free(&keys);
	sp_keys_free(&forger);
	return 0;
}
