/*
 * sp_forge — test tool that plays a misbehaving or curious participant, for
 * the end-to-end tests. It uses real keys from a `net init` network.
 *
 *   sp_forge overgrant NODE.conf TIER ROLE-ORG  send a signal granting TIER
 *                                               immediately to ROLE-ORG beyond policy
 *   sp_forge impersonate NODE.conf OTHER-ORG    header claims OTHER-ORG as sender
 *   sp_forge stranger BROKER.conf               connect with a key not on the roster
 *   sp_forge open-as NODE.conf SENDER.conf ID   take the full signal from the
 *                                               sender's outbox, try to open it with
 *                                               NODE's keys; prints the tiers opened
 *   sp_forge garbage NODE.conf                  send a malformed frame
 *   sp_forge garbage-flood NODE.conf N          send N malformed frames; prints SENT N
 *   sp_forge unknownfield NODE.conf             a well-formed signal with an unknown field added
 *   sp_forge link NODE.conf BSN-A BSN-B EPOCH   one involvement update naming BSN-A (epoch 1)
 *                                               and BSN-B (under EPOCH): the alias trick
 *   sp_forge feedback NODE.conf                 ask the broker for feedback from seq 0
 *                                               as NODE (a curious partner); prints
 *                                               "ID EVENT ROLE" per item, then END
 *   sp_forge withdraw NODE.conf ID              send the broker a withdrawal of signal ID
 *                                               as NODE, skipping the node's own checks;
 *                                               prints "OK <msg>", "REFUSED <code> <msg>"
 *                                               or NO-ANSWER
 *   sp_forge false-read NODE.conf ID USER       queue a signed read receipt for a
 *                                               signal NODE never received
 *   sp_forge longexpiry NODE.conf               a signal whose expiry exceeds the
 *                                               policy's retention
 *   sp_forge badtext NODE.conf                  a valid signal whose sealed summary and
 *                                               contact are not acceptable text (a C1
 *                                               control, a surrogate): what a sender
 *                                               without the node's checks could send
 *   sp_forge receipt NODE.conf ID HOW           a DeliveryAckBatch for ID as NODE:
 *                                               HOW = good (NODE's key), badkey (a
 *                                               fresh key), otherorg (NODE's key over
 *                                               another org name); prints SENT
 *   sp_forge outbox NODE.conf KIND [ORG]        put a bad signal of KIND into NODE's
 *                                               outbox as pending, for the node itself
 *                                               to send (issue 11: every rejection
 *                                               through a real node); prints its id.
 *                                               KIND: overgrant (ORG gets tier full),
 *                                               impersonate (ORG as sender), category,
 *                                               future, past, expired, longexpiry,
 *                                               policyver, stranger-grant, self-grant,
 *                                               dup-grant, damage-sig, damage-header,
 *                                               plain (a good signal: from a
 *                                               privacy officer's node, SP_EROLE),
 *                                               resident-role (a resident report from
 *                                               a role the policy does not name),
 *                                               none-grant (a report without subject
 *                                               granting ORG a tier)
 *
 * Prints one line: the broker's verdict ("OK", "DUPLICATE", "REJECTED <code>
 * <reason>", "NO-ANSWER") or the tiers opened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>

#include "sp_config.h"
#include "sp_keys.h"
#include "sp_log.h"
#include "sp_outbox.h"
#include "sp_policy.h"
#include "sp_pseudo.h"
#include "sp_reads.h"
#include "sp_roster.h"
#include "sp_signal.h"
#include "sp_store.h"
#include "sp_transport.h"
#include "sp_util.h"
#include "sp_wire.h"

static uint64_t g_lifetime = 86400; /* seconds from now to the header expiry */
static const char *g_summary = "forge summary", *g_contact = "forge contact";
static int64_t g_created_off;        /* seconds added to the created time */
static const char *g_category;       /* header category, when not the grants' */
static int g_kind = 1;               /* header subject kind (1 person) */
static int g_resident;               /* header resident_report */
static const uint8_t *g_policy_hash; /* header policy hash, when not ours */

struct ctx {
	sp_config cfg;
	sp_keyset *keys;
	sp_roster *roster;
	sp_policy *policy;
	sp_pseudo_keyring *pseudo;
	void *zctx, *sock;
};

static void die(const char *what)
{
	fprintf(stderr, "sp_forge: %s\n", what);
	exit(2);
}

static void load(struct ctx *c, const char *conf)
{
	char err[1024];
	if (sp_config_load(conf, &c->cfg, err, sizeof err) != SP_OK)
		die(err);
	if (sp_keys_load(c->cfg.keys_dir, &c->keys) != SP_OK)
		die("keys");
	if (sp_roster_load(c->cfg.roster_path, c->cfg.operator_pk, &c->roster) != SP_OK)
		die("roster");
	if (sp_policy_load(c->cfg.policy_path, &c->policy, err, sizeof err) != SP_OK)
		die(err);
	if (c->cfg.pseudo_key_path[0] && sp_pseudo_keyring_load(c->cfg.pseudo_key_path, &c->pseudo) != SP_OK)
		die("pseudo key");
}

static void unload(struct ctx *c)
{
	if (c->sock)
		zmq_close(c->sock);
	if (c->zctx)
		zmq_ctx_term(c->zctx);
	sp_pseudo_keyring_free(&c->pseudo);
	sp_policy_free(&c->policy);
	sp_roster_free(&c->roster);
	sp_keys_free(&c->keys);
}

static void connect_as(struct ctx *c, const sp_keyset *k, const char *org)
{
	sp_transport_opts o = { .endpoint = c->cfg.endpoint, .max_frame = c->cfg.max_frame, .heartbeat_ms = 1000 };
	c->zctx = zmq_ctx_new();
	if (sp_transport_node(c->zctx, k, sp_roster_broker_curve(c->roster), org, &o, &c->sock) != SP_OK)
		die("connect");
}

/* Send a frame and print the broker's SubmitAck (or NO-ANSWER after 3 s). */
static int send_and_report(struct ctx *c, const uint8_t *buf, size_t len)
{
	zmq_pollitem_t it = { .socket = c->sock, .events = ZMQ_POLLIN };
	if (sp_transport_send(c->sock, NULL, 0, buf, len) != SP_OK) {
		/* not yet connected: retry for a moment */
		for (int i = 0; i < 30; i++) {
			zmq_poll(NULL, 0, 100);
			if (sp_transport_send(c->sock, NULL, 0, buf, len) == SP_OK)
				break;
		}
	}
	for (int waited = 0; waited < 3000; waited += 100) {
		if (zmq_poll(&it, 1, 100) <= 0)
			continue;
		sp_msg m;
		memset(&m, 0, sizeof m);
		if (sp_transport_recv(c->sock, 0, 1, &m) != SP_OK)
			continue;
		Seinpost__Frame *f = NULL;
		char why[256];
		if (sp_wire_decode_frame(m.body, m.len, 1 << 20, &f, why, sizeof why) == SP_OK &&
		    f->body_case == SEINPOST__FRAME__BODY_INVOLVE_ACK) {
			Seinpost__InvolveAck *a = f->involve_ack;
			if (a->status == SEINPOST__STATUS__STATUS_REJECTED)
				printf("REJECTED %d %s\n", a->code, a->reason);
			else
				printf("OK\n");
			seinpost__frame__free_unpacked(f, NULL);
			sp_msg_clear(&m);
			return 0;
		}
		if (f && f->body_case == SEINPOST__FRAME__BODY_SUBMIT_ACK) {
			Seinpost__SubmitAck *a = f->submit_ack;
			if (a->status == SEINPOST__STATUS__STATUS_REJECTED)
				printf("REJECTED %d %s\n", a->code, a->reason);
			else
				printf("%s\n", a->status == SEINPOST__STATUS__STATUS_OK ? "OK" : "DUPLICATE");
			seinpost__frame__free_unpacked(f, NULL);
			sp_msg_clear(&m);
			return 0;
		}
		if (f)
			seinpost__frame__free_unpacked(f, NULL);
		sp_msg_clear(&m);
	}
	printf("NO-ANSWER\n");
	return 0;
}

/* Ask for feedback from the start of the log and print every item the
 * broker answers, following `more`. */
static void ask_feedback(struct ctx *c)
{
	zmq_pollitem_t it = { .socket = c->sock, .events = ZMQ_POLLIN };
	uint64_t after = 0;
	for (int round = 0; round < 1000; round++) {
		Seinpost__Frame q = SEINPOST__FRAME__INIT;
		Seinpost__FeedbackRequest r = SEINPOST__FEEDBACK_REQUEST__INIT;
		uint8_t *buf = NULL;
		size_t len;
		int more = 0, got = 0;
		r.after_seq = after;
		q.version = SP_WIRE_VERSION;
		q.body_case = SEINPOST__FRAME__BODY_FEEDBACK_REQUEST;
		q.feedback_request = &r;
		if (sp_wire_pack(&q.base, &buf, &len) != SP_OK)
			die("pack");
		for (int i = 0; i < 30 && sp_transport_send(c->sock, NULL, 0, buf, len) != SP_OK; i++)
			zmq_poll(NULL, 0, 100);
		free(buf);
		for (int waited = 0; waited < 5000 && !got; waited += 100) {
			sp_msg m;
			Seinpost__Frame *f = NULL;
			char why[256];
			if (zmq_poll(&it, 1, 100) <= 0)
				continue;
			memset(&m, 0, sizeof m);
			if (sp_transport_recv(c->sock, 0, 1, &m) != SP_OK)
				continue;
			if (sp_wire_decode_frame(m.body, m.len, 1 << 24, &f, why, sizeof why) == SP_OK &&
			    f->body_case == SEINPOST__FRAME__BODY_FEEDBACK) {
				char idhex[SP_ID_HEX];
				for (size_t i = 0; i < f->feedback->n_items; i++) {
					const Seinpost__FeedbackItem *x = f->feedback->items[i];
					printf("%s %s %s\n", sp_hex(x->signal_id.data, 16, idhex), x->event, x->role);
				}
				after = f->feedback->next_seq;
				more = f->feedback->more;
				got = 1;
			}
			if (f)
				seinpost__frame__free_unpacked(f, NULL);
			sp_msg_clear(&m);
		}
		if (!got) {
			printf("NO-ANSWER\n");
			return;
		}
		if (!more)
			break;
	}
	printf("END\n");
}

/* A withdrawal straight to the broker (sp_withdraw.h), and its answer. */
static void withdraw(struct ctx *c, const char *idhex)
{
	zmq_pollitem_t it = { .socket = c->sock, .events = ZMQ_POLLIN };
	Seinpost__Frame q = SEINPOST__FRAME__INIT;
	Seinpost__Withdraw w = SEINPOST__WITHDRAW__INIT;
	uint8_t id[16], reqid[16], *buf = NULL;
	size_t len;
	if (sp_unhex(idhex, id, sizeof id) != SP_OK)
		die("ID: 32 hex digits");
	randombytes_buf(reqid, sizeof reqid);
	w.id = (ProtobufCBinaryData){ 16, reqid };
	w.signal_id = (ProtobufCBinaryData){ 16, id };
	w.reason = "forged withdrawal";
	w.user = "forge";
	q.version = SP_WIRE_VERSION;
	q.body_case = SEINPOST__FRAME__BODY_WITHDRAW;
	q.withdraw = &w;
	if (sp_wire_pack(&q.base, &buf, &len) != SP_OK)
		die("pack");
	for (int i = 0; i < 30 && sp_transport_send(c->sock, NULL, 0, buf, len) != SP_OK; i++)
		zmq_poll(NULL, 0, 100);
	free(buf);
	for (int waited = 0; waited < 10000; waited += 100) {
		sp_msg m;
		Seinpost__Frame *f = NULL;
		char why[256];
		if (zmq_poll(&it, 1, 100) <= 0)
			continue;
		memset(&m, 0, sizeof m);
		if (sp_transport_recv(c->sock, 0, 1, &m) != SP_OK)
			continue;
		if (sp_wire_decode_frame(m.body, m.len, 1 << 24, &f, why, sizeof why) == SP_OK &&
		    f->body_case == SEINPOST__FRAME__BODY_WITHDRAW_ACK &&
		    memcmp(f->withdraw_ack->id.data, reqid, 16) == 0) {
			if (f->withdraw_ack->code == 0)
				printf("OK %s\n", f->withdraw_ack->message);
			else
				printf("REFUSED %d %s\n", f->withdraw_ack->code, f->withdraw_ack->message);
			seinpost__frame__free_unpacked(f, NULL);
			sp_msg_clear(&m);
			return;
		}
		if (f)
			seinpost__frame__free_unpacked(f, NULL);
		sp_msg_clear(&m);
	}
	printf("NO-ANSWER\n");
}

static int send_signal(struct ctx *c, const uint8_t *sig, size_t siglen)
{
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	Seinpost__Signal *s = seinpost__signal__unpack(NULL, siglen, sig);
	uint8_t *buf;
	size_t len;
	if (!s)
		die("unpack");
	f.version = SP_WIRE_VERSION;
	f.body_case = SEINPOST__FRAME__BODY_SUBMIT;
	f.submit = s;
	if (sp_wire_pack(&f.base, &buf, &len) != SP_OK)
		die("pack");
	seinpost__signal__free_unpacked(s, NULL);
	send_and_report(c, buf, len);
	free(buf);
	return 0;
}

/* A signal as a well-behaved node would build it, then with extra grants. */
static void build(struct ctx *c, const char *sender, const char *category, int weight,
                  const sp_grant_spec *extra, size_t nextra, uint8_t **out, size_t *outlen)
{
	sp_grant_spec *g = NULL, *all;
	size_t n = 0;
	uint8_t pseudo[32], id[16];
	if (sp_policy_grants_for(c->policy, c->roster, c->cfg.org, 1, category, weight, &g, &n) != SP_OK)
		die("grants");
	all = calloc(n + nextra + 1, sizeof *all);
	if (n)
		memcpy(all, g, n * sizeof *g);
	if (nextra)
		memcpy(all + n, extra, nextra * sizeof *extra);
	if (sp_pseudo_derive(c->pseudo, sp_pseudo_current_epoch(c->pseudo), g_kind ? g_kind : 1,
	                     g_kind == 3 ? "0935010000123456" : g_kind == 2 ? "12345678" : "111222333", pseudo) != SP_OK)
		die("pseudo");
	sp_signal_meta m = {
		.sender = sender, .subject_kind = g_kind, .pseudonym = g_kind ? pseudo : NULL,
		.resident_report = g_resident,
		.pseudonym_epoch = sp_pseudo_current_epoch(c->pseudo), .category = g_category ? g_category : category,
		.weight = (uint32_t)weight, .created = (uint64_t)((int64_t)sp_now_s() + g_created_off),
		.expires = (uint64_t)((int64_t)sp_now_s() + g_created_off) + g_lifetime,
		.policy_hash = g_policy_hash ? g_policy_hash : sp_policy_hash(c->policy),
	};
	sp_tier_plain p = { .contact = g_contact, .summary = g_summary, .bsn = "111222333", .name = "Forge Name" };
	if (sp_signal_seal(&m, &p, all, n + nextra, c->keys->sign_sk, out, outlen, id) != SP_OK)
		die("seal");
	free(all);
	free(g);
}

/* A bad signal of one kind, stored in the node's outbox as if submitted. */
static void outbox_put(struct ctx *c, const char *kind, const char *org)
{
	static uint8_t other_hash[32];
	const sp_org *to = org ? sp_roster_find(c->roster, org) : NULL;
	sp_grant_spec extra[2];
	size_t nextra = 0;
	const char *sender = c->cfg.org;
	uint8_t *sig = NULL, *ebuf = NULL, id[16];
	size_t siglen, elen;
	Seinpost__Signal *s;
	Seinpost__SignalHeader *h;
	sp_store *st = NULL;
	sp_txn *t = NULL;
	char idhex[SP_ID_HEX];

	memset(extra, 0, sizeof extra);
	if (strcmp(kind, "overgrant") == 0 && to) {
		extra[nextra++] = (sp_grant_spec){ .recipient = to->id, .box_pk = to->box_pk, .tier = SP_TIER_FULL,
		                                   .mode = SP_WHEN_IMMEDIATELY };
	} else if (strcmp(kind, "impersonate") == 0 && to) {
		sender = to->id;
	} else if (strcmp(kind, "category") == 0) {
		g_category = "knitting";
	} else if (strcmp(kind, "future") == 0) {
		g_created_off = 3600;
	} else if (strcmp(kind, "past") == 0) {
		g_created_off = -8 * 86400;
		g_lifetime = 30ull * 86400; /* not expired: the clock check answers */
	} else if (strcmp(kind, "expired") == 0) {
		g_created_off = -120;
		g_lifetime = 60;
	} else if (strcmp(kind, "longexpiry") == 0) {
		g_lifetime = 4000ull * 86400;
	} else if (strcmp(kind, "policyver") == 0) {
		randombytes_buf(other_hash, sizeof other_hash);
		g_policy_hash = other_hash;
	} else if (strcmp(kind, "stranger-grant") == 0) {
		extra[nextra++] = (sp_grant_spec){ .recipient = "nobody-here", .box_pk = c->keys->box_pk,
		                                   .tier = SP_TIER_CONTACT, .mode = SP_WHEN_IMMEDIATELY };
	} else if (strcmp(kind, "self-grant") == 0) {
		extra[nextra++] = (sp_grant_spec){ .recipient = c->cfg.org, .box_pk = c->keys->box_pk,
		                                   .tier = SP_TIER_CONTACT, .mode = SP_WHEN_IMMEDIATELY };
	} else if (strcmp(kind, "dup-grant") == 0 && to) {
		extra[nextra++] = (sp_grant_spec){ .recipient = to->id, .box_pk = to->box_pk, .tier = SP_TIER_CONTACT,
		                                   .mode = SP_WHEN_IMMEDIATELY };
		extra[nextra++] = extra[0];
	} else if (strcmp(kind, "resident-role") == 0) {
		g_kind = 3; /* a resident report about a location, from a role the policy does not name */
		g_resident = 1;
	} else if (strcmp(kind, "none-grant") == 0 && to) {
		g_kind = 0; /* a report without a subject that tries to share anyway */
		g_resident = 1;
		extra[nextra++] = (sp_grant_spec){ .recipient = to->id, .box_pk = to->box_pk, .tier = SP_TIER_CONTACT,
		                                   .mode = SP_WHEN_IMMEDIATELY };
	} else if (strcmp(kind, "damage-sig") != 0 && strcmp(kind, "damage-header") != 0 && strcmp(kind, "plain") != 0) {
		die("unknown KIND (or ORG missing or not on the roster)");
	}
	build(c, sender, "drug-recruitment", 2, extra, nextra, &sig, &siglen);
	s = seinpost__signal__unpack(NULL, siglen, sig);
	if (!s || !(h = seinpost__signal_header__unpack(NULL, s->header.len, s->header.data)))
		die("unpack");
	memcpy(id, h->id.data, 16);
	seinpost__signal_header__free_unpacked(h, NULL);
	if (strcmp(kind, "damage-sig") == 0)
		s->signature.data[7] ^= 0x40; /* a flipped bit in the stored copy */
	if (strcmp(kind, "damage-header") == 0)
		s->header.len = 5; /* a stored copy cut short: the header no longer decodes */
	{
		Seinpost__OutboxEntry e = SEINPOST__OUTBOX_ENTRY__INIT;
		e.signal = s;
		e.queued = sp_now_ms();
		e.state = SEINPOST__OUTBOX_STATE__OUTBOX_PENDING;
		if (sp_wire_pack(&e.base, &ebuf, &elen) != SP_OK)
			die("pack");
	}
	if (sp_store_open(c->cfg.state_dir, c->cfg.map_size, 0, &st) != SP_OK || sp_txn_begin(st, 1, &t) != SP_OK ||
	    sp_outbox_add(t, id, ebuf, elen) != SP_OK || sp_txn_commit(&t) != SP_OK)
		die("store in the outbox");
	sp_store_close(&st);
	seinpost__signal__free_unpacked(s, NULL);
	free(ebuf);
	free(sig);
	printf("%s\n", sp_hex(id, 16, idhex));
}

int main(int argc, char **argv)
{
	struct ctx c = { 0 };
	uint8_t *sig = NULL;
	size_t siglen;

	if (sodium_init() < 0 || argc < 3)
		die("usage: see the comment at the top of tests/tools/sp_forge.c");
	sp_log_init("sp_forge", 0, 0);
	load(&c, argv[2]);

	if (strcmp(argv[1], "outbox") == 0 && (argc == 4 || argc == 5)) {
		outbox_put(&c, argv[3], argc == 5 ? argv[4] : NULL);
	} else if (strcmp(argv[1], "overgrant") == 0 && argc == 5) {
		const sp_org *to = sp_roster_find(c.roster, argv[4]);
		if (!to)
			die("unknown org");
		sp_grant_spec extra = { .recipient = to->id, .box_pk = to->box_pk,
		                        .tier = sp_tier_parse(argv[3]), .mode = SP_WHEN_IMMEDIATELY };
		build(&c, c.cfg.org, "drug-recruitment", 2, &extra, 1, &sig, &siglen);
		connect_as(&c, c.keys, c.cfg.org);
		send_signal(&c, sig, siglen);
	} else if (strcmp(argv[1], "longexpiry") == 0 && argc == 3) {
		g_lifetime = 4000ull * 86400; /* beyond any retention the policy allows */
		build(&c, c.cfg.org, "drug-recruitment", 2, NULL, 0, &sig, &siglen);
		connect_as(&c, c.keys, c.cfg.org);
		send_signal(&c, sig, siglen);
	} else if (strcmp(argv[1], "badtext") == 0 && argc == 3) {
		g_summary = "forge \xc2\x9b" "2J summary";     /* U+009B CSI, a C1 control */
		g_contact = "forge \xed\xa0\x80 contact";       /* a UTF-16 surrogate */
		build(&c, c.cfg.org, "drug-recruitment", 2, NULL, 0, &sig, &siglen);
		connect_as(&c, c.keys, c.cfg.org);
		send_signal(&c, sig, siglen);
	} else if (strcmp(argv[1], "impersonate") == 0 && argc == 4) {
		build(&c, argv[3], "drug-recruitment", 2, NULL, 0, &sig, &siglen);
		connect_as(&c, c.keys, c.cfg.org);
		send_signal(&c, sig, siglen);
	} else if (strcmp(argv[1], "stranger") == 0 && argc == 3) {
		sp_keyset *k = NULL;
		if (sp_keys_generate(1, &k) != SP_OK)
			die("keygen");
		connect_as(&c, k, "stranger");
		Seinpost__Frame f = SEINPOST__FRAME__INIT;
		Seinpost__Hello h = SEINPOST__HELLO__INIT;
		uint8_t ph[32] = { 0 }, *buf;
		size_t len;
		h.org = "politie-limburg"; /* claims a roster name; the key decides */
		h.policy_hash.data = ph;
		h.policy_hash.len = 32;
		f.version = 1;
		f.body_case = SEINPOST__FRAME__BODY_HELLO;
		f.hello = &h;
		if (sp_wire_pack(&f.base, &buf, &len) != SP_OK)
			die("pack");
		send_and_report(&c, buf, len);
		free(buf);
		sp_keys_free(&k);
	} else if (strcmp(argv[1], "receipt") == 0 && argc == 5) {
		Seinpost__Frame f = SEINPOST__FRAME__INIT;
		Seinpost__DeliveryAckBatch a = SEINPOST__DELIVERY_ACK_BATCH__INIT;
		ProtobufCBinaryData idb;
		uint8_t id[16], rsig[64], *buf;
		const uint8_t *idp[1] = { id };
		const char *org = c.cfg.org;
		sp_keyset *k = NULL;
		size_t len;
		if (sp_unhex(argv[3], id, 16) != SP_OK)
			die("id");
		if (strcmp(argv[4], "badkey") == 0 && sp_keys_generate(1, &k) != SP_OK)
			die("keygen");
		else if (strcmp(argv[4], "otherorg") == 0)
			org = "jeugdzorg-mh";
		else if (strcmp(argv[4], "good") != 0 && strcmp(argv[4], "badkey") != 0)
			die("HOW: good, badkey or otherorg");
		idb = (ProtobufCBinaryData){ 16, id };
		a.n_ids = 1;
		a.ids = &idb;
		a.time = sp_now_ms();
		if (sp_receipts_sign(org, a.time, idp, 1, (k ? k : c.keys)->sign_sk, rsig) != SP_OK)
			die("sign");
		a.signature = (ProtobufCBinaryData){ 64, rsig };
		f.version = 1;
		f.body_case = SEINPOST__FRAME__BODY_DELIVERY_ACKS;
		f.delivery_acks = &a;
		if (sp_wire_pack(&f.base, &buf, &len) != SP_OK)
			die("pack");
		connect_as(&c, c.keys, c.cfg.org);
		int sent = 0;
		for (int i = 0; i < 30 && !sent; i++) {
			sent = sp_transport_send(c.sock, NULL, 0, buf, len) == SP_OK;
			if (!sent)
				zmq_poll(NULL, 0, 100); /* not yet connected */
		}
		zmq_poll(NULL, 0, 1000); /* let it leave before the socket closes */
		printf("%s\n", sent ? "SENT" : "NOT-SENT");
		free(buf);
		sp_keys_free(&k);
	} else if (strcmp(argv[1], "withdraw") == 0 && argc == 4) {
		connect_as(&c, c.keys, c.cfg.org);
		withdraw(&c, argv[3]);
	} else if (strcmp(argv[1], "feedback") == 0 && argc == 3) {
		connect_as(&c, c.keys, c.cfg.org);
		ask_feedback(&c);
	} else if (strcmp(argv[1], "garbage") == 0 && argc == 3) {
		static const uint8_t junk[] = { 0x08, 0x01, 0x1a, 0xff, 0xff, 0x01, 0x00 };
		connect_as(&c, c.keys, c.cfg.org);
		send_and_report(&c, junk, sizeof junk);
	} else if (strcmp(argv[1], "garbage-flood") == 0 && argc == 4) {
		static const uint8_t junk[] = { 0x08, 0x01, 0x1a, 0xff, 0xff, 0x01, 0x00 };
		long n = atol(argv[3]), sent = 1;
		connect_as(&c, c.keys, c.cfg.org);
		for (int i = 0; i < 50 && sp_transport_send(c.sock, NULL, 0, junk, sizeof junk) != SP_OK; i++)
			zmq_poll(NULL, 0, 100); /* not yet connected */
		zmq_poll(NULL, 0, 500);
		for (int stuck = 0; sent < n && stuck < 100;) {
			if (sp_transport_send(c.sock, NULL, 0, junk, sizeof junk) == SP_OK) {
				sent++;
				stuck = 0;
			} else {
				stuck++;
				zmq_poll(NULL, 0, 20); /* the send queue is full: let it drain */
			}
		}
		/* Stay connected while the broker drains them: a peer that leaves
		 * while the broker's receive pipe is full trips a libzmq 4.3
		 * assertion (libzmq issue 3937; docs/threat-model.md). */
		zmq_poll(NULL, 0, 15000);
		printf("SENT %ld\n", sent);
	} else if (strcmp(argv[1], "unknownfield") == 0 && argc == 3) {
		/* field 99, varint 1: protobuf-c keeps it, the wire layer refuses it */
		uint8_t *more;
		build(&c, c.cfg.org, "drug-recruitment", 2, NULL, 0, &sig, &siglen);
		if (!(more = realloc(sig, siglen + 3)))
			die("memory");
		sig = more;
		sig[siglen++] = 0x98;
		sig[siglen++] = 0x06;
		sig[siglen++] = 0x01;
		connect_as(&c, c.keys, c.cfg.org);
		send_signal(&c, sig, siglen);
	} else if (strcmp(argv[1], "link") == 0 && argc == 6) {
		Seinpost__Frame f = SEINPOST__FRAME__INIT;
		Seinpost__InvolveUpdate u = SEINPOST__INVOLVE_UPDATE__INIT;
		Seinpost__PseudonymAt pa = SEINPOST__PSEUDONYM_AT__INIT, pb = SEINPOST__PSEUDONYM_AT__INIT;
		Seinpost__PseudonymAt *ps[2] = { &pa, &pb };
		uint8_t a[32], b[32], *buf;
		size_t len;
		uint32_t ep = sp_pseudo_current_epoch(c.pseudo);
		if (sp_pseudo_derive(c.pseudo, ep, 1, argv[3], a) != SP_OK ||
		    sp_pseudo_derive(c.pseudo, ep, 1, argv[4], b) != SP_OK)
			die("pseudo");
		pa.epoch = ep;
		pa.pseudonym = (ProtobufCBinaryData){ 32, a };
		pb.epoch = (uint32_t)atoi(argv[5]);
		pb.pseudonym = (ProtobufCBinaryData){ 32, b };
		u.pseudonyms = ps;
		u.n_pseudonyms = 2;
		u.until = sp_now_s() + 30 * 86400;
		u.subject_kind = 1;
		f.version = SP_WIRE_VERSION;
		f.body_case = SEINPOST__FRAME__BODY_INVOLVE;
		f.involve = &u;
		if (sp_wire_pack(&f.base, &buf, &len) != SP_OK)
			die("pack");
		connect_as(&c, c.keys, c.cfg.org);
		send_and_report(&c, buf, len);
		free(buf);
	} else if (strcmp(argv[1], "false-read") == 0 && argc == 5) {
		sp_store *st = NULL;
		sp_txn *t = NULL;
		uint8_t id[16];
		if (sp_unhex(argv[3], id, 16) != SP_OK)
			die("id");
		if (sp_store_open(c.cfg.state_dir, 0, 0, &st) != SP_OK || sp_txn_begin(st, 1, &t) != SP_OK ||
		    sp_reads_queue(t, c.keys->sign_sk, c.cfg.org, argv[4], id, 1u) != SP_OK ||
		    sp_txn_commit(&t) != SP_OK)
			die("queue read receipt");
		sp_store_close(&st);
		printf("QUEUED\n");
	} else if (strcmp(argv[1], "open-as") == 0 && argc == 5) {
		struct ctx s = { 0 };
		sp_store *st = NULL;
		sp_txn *t = NULL;
		const void *v;
		size_t vl;
		uint8_t id[16];
		sp_opened op = { 0 };
		load(&s, argv[3]);
		if (sp_unhex(argv[4], id, 16) != SP_OK)
			die("id");
		if (sp_store_open(s.cfg.state_dir, 0, SP_STORE_RDONLY, &st) != SP_OK ||
		    sp_txn_begin(st, 0, &t) != SP_OK || sp_store_get(t, SP_DB_OUTBOX, id, 16, &v, &vl) != SP_OK)
			die("outbox entry");
		Seinpost__OutboxEntry *e = seinpost__outbox_entry__unpack(NULL, vl, v);
		if (!e || !e->signal)
			die("decode");
		int rc = sp_signal_open(e->signal, c.cfg.org, c.keys->box_pk, c.keys->box_sk, &op);
		printf("rc=%d tiers=", rc);
		int first = 1;
		for (int i = 1; i < SP_TIER_COUNT; i++)
			if (op.tiers & (1u << i)) {
				printf("%s%s", first ? "" : ",", sp_tier_name(i));
				first = 0;
			}
		printf("%s\n", first ? "none" : "");
		sp_opened_clear(&op);
		seinpost__outbox_entry__free_unpacked(e, NULL);
		sp_txn_abort(&t);
		sp_store_close(&st);
		unload(&s);
		unload(&c);
		return 0;
	} else {
		die("usage: see the comment at the top of tests/tools/sp_forge.c");
	}
	free(sig);
	unload(&c);
	return 0;
}
