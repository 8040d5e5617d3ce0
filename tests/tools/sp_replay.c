/*
 * sp_replay — replays and clock abuse against the broker, for the delivery
 * tests. Connects with a node's real keys (as that node).
 *
 *   sp_replay resend NODE.conf ID     send the stored signal ID again, byte for byte
 *   sp_replay mutate NODE.conf ID     same id, one byte of a sealed grant changed
 *   sp_replay aged NODE.conf SECONDS  a fresh, validly signed signal whose created
 *                                     time is now + SECONDS (negative: in the past)
 *
 * Prints the broker's verdict: OK, DUPLICATE, REJECTED <code> <reason> or
 * NO-ANSWER (3 s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>

#include "sp_config.h"
#include "sp_keys.h"
#include "sp_log.h"
#include "sp_policy.h"
#include "sp_pseudo.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "sp_submit.h"
#include "sp_transport.h"
#include "sp_util.h"
#include "sp_wire.h"

static void die(const char *what)
{
	fprintf(stderr, "sp_replay: %s\n", what);
	exit(2);
}

static Seinpost__Signal *stored_signal(const sp_config *c, const char *idhex)
{
	sp_store *st = NULL;
	sp_txn *t = NULL;
	const void *v;
	size_t vl;
	uint8_t id[16];
	Seinpost__OutboxEntry *e;
	Seinpost__Signal *s;
	uint8_t *buf;
	size_t len;
	if (sp_unhex(idhex, id, 16) != SP_OK)
		die("id must be 32 hex characters");
	if (sp_store_open(c->state_dir, c->map_size, SP_STORE_RDONLY, &st) != SP_OK || sp_txn_begin(st, 0, &t) != SP_OK ||
	    sp_store_get(t, SP_DB_OUTBOX, id, 16, &v, &vl) != SP_OK)
		die("no such outbox entry");
	e = seinpost__outbox_entry__unpack(NULL, vl, v);
	if (!e || !e->signal || sp_wire_pack(&e->signal->base, &buf, &len) != SP_OK)
		die("outbox entry undecodable");
	s = seinpost__signal__unpack(NULL, len, buf);
	free(buf);
	seinpost__outbox_entry__free_unpacked(e, NULL);
	sp_txn_abort(&t);
	sp_store_close(&st);
	return s;
}

static void send_and_report(const sp_config *c, const Seinpost__Signal *sig)
{
	sp_keyset *k = NULL;
	sp_roster *r = NULL;
	void *zctx = zmq_ctx_new(), *sock = NULL;
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	uint8_t *buf;
	size_t len;
	if (sp_keys_load(c->keys_dir, &k) != SP_OK || sp_roster_load(c->roster_path, c->operator_pk, &r) != SP_OK)
		die("keys or roster");
	sp_transport_opts o = { .endpoint = c->endpoint, .max_frame = c->max_frame, .heartbeat_ms = 1000 };
	if (sp_transport_node(zctx, k, sp_roster_broker_curve(r), c->org, &o, &sock) != SP_OK)
		die("connect");
	f.version = SP_WIRE_VERSION;
	f.body_case = SEINPOST__FRAME__BODY_SUBMIT;
	f.submit = (Seinpost__Signal *)sig;
	if (sp_wire_pack(&f.base, &buf, &len) != SP_OK)
		die("pack");
	for (int i = 0; i < 30 && sp_transport_send(sock, NULL, 0, buf, len) != SP_OK; i++)
		zmq_poll(NULL, 0, 100);
	free(buf);
	zmq_pollitem_t it = { .socket = sock, .events = ZMQ_POLLIN };
	const char *verdict = NULL;
	for (int waited = 0; waited < 3000 && !verdict; waited += 100) {
		sp_msg m;
		Seinpost__Frame *in = NULL;
		char why[256];
		if (zmq_poll(&it, 1, 100) <= 0)
			continue;
		memset(&m, 0, sizeof m);
		if (sp_transport_recv(sock, 0, 1, &m) != SP_OK)
			continue;
		if (sp_wire_decode_frame(m.body, m.len, 1 << 20, &in, why, sizeof why) == SP_OK &&
		    in->body_case == SEINPOST__FRAME__BODY_SUBMIT_ACK) {
			const Seinpost__SubmitAck *a = in->submit_ack;
			if (a->status == SEINPOST__STATUS__STATUS_REJECTED)
				printf("REJECTED %d %s\n", a->code, a->reason);
			else
				printf("%s\n", a->status == SEINPOST__STATUS__STATUS_OK ? "OK" : "DUPLICATE");
			verdict = "";
		}
		if (in)
			seinpost__frame__free_unpacked(in, NULL);
		sp_msg_clear(&m);
	}
	if (!verdict)
		printf("NO-ANSWER\n");
	zmq_close(sock);
	zmq_ctx_term(zctx);
	sp_roster_free(&r);
	sp_keys_free(&k);
}

int main(int argc, char **argv)
{
	sp_config c;
	char err[1024];
	Seinpost__Signal *sig = NULL;

	if (sodium_init() < 0 || argc != 4)
		die("usage: sp_replay resend|mutate NODE.conf ID | aged NODE.conf SECONDS");
	sp_log_init("sp_replay", 0, 0);
	if (sp_config_load(argv[2], &c, err, sizeof err) != SP_OK)
		die(err);
	if (strcmp(argv[1], "resend") == 0 || strcmp(argv[1], "mutate") == 0) {
		sig = stored_signal(&c, argv[3]);
		if (!sig)
			die("decode");
		if (strcmp(argv[1], "mutate") == 0) {
			if (!sig->n_grants || !sig->grants[0]->sealed_key.len)
				die("signal has no grant to change");
			sig->grants[0]->sealed_key.data[sig->grants[0]->sealed_key.len - 1] ^= 0x01;
		}
		send_and_report(&c, sig);
		seinpost__signal__free_unpacked(sig, NULL);
	} else if (strcmp(argv[1], "aged") == 0) {
		sp_keyset *k = NULL;
		sp_roster *r = NULL;
		sp_policy *p = NULL;
		sp_pseudo_keyring *kr = NULL;
		uint8_t *buf = NULL, id[16];
		size_t len;
		char why[256];
		long long off = atoll(argv[3]);
		if (sp_keys_load(c.keys_dir, &k) != SP_OK || sp_roster_load(c.roster_path, c.operator_pk, &r) != SP_OK ||
		    sp_policy_load(c.policy_path, &p, err, sizeof err) != SP_OK ||
		    sp_pseudo_keyring_load(c.pseudo_key_path, &kr) != SP_OK)
			die("keys, roster, policy or pseudonym key");
		Seinpost__SubmitRequest req = SEINPOST__SUBMIT_REQUEST__INIT;
		req.category = (char *)sp_policy_category_at(p, 0)->id;
		req.weight = 2;
		req.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
		req.subject_id = "111222333";
		req.contact = "replay test";
		sp_kh *kh = NULL;
		if (sp_kh_local(c.org, k, kr, &kh) != SP_OK)
			die("keys");
		sp_submit_ctx sc = { .org = c.org, .kh = kh, .roster = r, .policy = p,
		                     .now_s = (uint64_t)((long long)sp_now_s() + off) };
		if (sp_submit_build(&sc, &req, &buf, &len, id, why, sizeof why) != SP_OK)
			die(why);
		sig = seinpost__signal__unpack(NULL, len, buf);
		if (!sig)
			die("decode");
		send_and_report(&c, sig);
		seinpost__signal__free_unpacked(sig, NULL);
		free(buf);
		sp_kh_free(&kh);
		sp_pseudo_keyring_free(&kr);
		sp_policy_free(&p);
		sp_roster_free(&r);
		sp_keys_free(&k);
	} else {
		die("usage: sp_replay resend|mutate NODE.conf ID | aged NODE.conf SECONDS");
	}
	return 0;
}
