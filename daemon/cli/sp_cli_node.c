/* sp_cli_node.c — submit, outbox, inbox, show (node side commands). */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "sp_cli.h"
#include "sp_config.h"
#include "sp_involve.h"
#include "sp_keys.h"
#include "sp_reads.h"
#include "sp_render.h"
#include "sp_roster.h"
#include "sp_rosterstate.h"
#include "sp_signal.h"
#include "sp_store.h"
#include "sp_util.h"
#include "sp_wire.h"

#define REQUEST_TIMEOUT_MS 20000 /* an audit query goes on to the broker */

/* One request/reply on the node's local submit socket. */
int sp_cli_local_call(const sp_config *c, const Seinpost__LocalRequest *req, Seinpost__LocalReply **out)
{
	char path[PATH_MAX], ep[PATH_MAX + 8];
	void *ctx = NULL, *s = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc = SP_EIO, timeout = REQUEST_TIMEOUT_MS, linger = 0;
	zmq_msg_t msg;

	*out = NULL;
	if (sp_config_submit_socket(c, path, sizeof path) != SP_OK)
		return SP_ESIZE;
	if (access(path, W_OK) != 0) {
		fprintf(stderr, "seinpost: cannot reach the node's submit socket %s (is seinpostd running, and are you its user?)\n", path);
		return SP_EIO;
	}
	snprintf(ep, sizeof ep, "ipc://%s", path);
	ctx = zmq_ctx_new();
	s = ctx ? zmq_socket(ctx, ZMQ_REQ) : NULL;
	if (!s)
		goto out;
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
	if (zmq_connect(s, ep) != 0)
		goto out;
	rc = sp_wire_pack(&req->base, &buf, &len);
	if (rc != SP_OK)
		goto out;
	if (zmq_send(s, buf, len, 0) < 0) {
		rc = SP_EIO;
		goto out;
	}
	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, s, 0) < 0) {
		zmq_msg_close(&msg);
		fprintf(stderr, "seinpost: the node did not answer within %d s\n", REQUEST_TIMEOUT_MS / 1000);
		rc = SP_ETIMEOUT;
		goto out;
	}
	*out = seinpost__local_reply__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
	zmq_msg_close(&msg);
	rc = *out ? SP_OK : SP_EMALFORMED;
out:
	free(buf);
	if (s)
		zmq_close(s);
	if (ctx)
		zmq_ctx_term(ctx);
	return rc;
}

static const char *outbox_state_name(int s)
{
	switch (s) {
	case SEINPOST__OUTBOX_STATE__OUTBOX_PENDING: return "pending";
	case SEINPOST__OUTBOX_STATE__OUTBOX_ACCEPTED: return "accepted";
	case SEINPOST__OUTBOX_STATE__OUTBOX_REJECTED: return "rejected";
	default: return "unknown";
	}
}

/* Poll the node until the broker has answered (or the timeout). Returns
 * the exit status: 0 accepted, 1 rejected or unreachable, 3 no verdict;
 * *state names it and reason gets the broker's words for a rejection. */
static int wait_verdict(const sp_config *c, const uint8_t id[16], int seconds, const char **state,
                        char *reason, size_t reasonlen)
{
	Seinpost__LocalRequest req = SEINPOST__LOCAL_REQUEST__INIT;
	req.body_case = SEINPOST__LOCAL_REQUEST__BODY_OUTBOX_STATUS;
	req.outbox_status.data = (uint8_t *)id;
	req.outbox_status.len = 16;
	*state = "unknown";
	for (int i = 0; i < seconds * 10; i++) {
		Seinpost__LocalReply *r = NULL;
		if (sp_cli_local_call(c, &req, &r) != SP_OK)
			return 1;
		if (r->code == 0 && r->entry && r->entry->state != SEINPOST__OUTBOX_STATE__OUTBOX_PENDING) {
			int rejected = r->entry->state == SEINPOST__OUTBOX_STATE__OUTBOX_REJECTED;
			*state = rejected ? "rejected" : "accepted";
			snprintf(reason, reasonlen, "%s", rejected ? r->entry->reason : "");
			seinpost__local_reply__free_unpacked(r, NULL);
			return rejected ? 1 : 0;
		}
		seinpost__local_reply__free_unpacked(r, NULL);
		usleep(100000);
	}
	*state = "pending";
	return 3;
}

/* submit's answer for programs: one JSON object on stdout, also for errors. */
static void submit_print_json(const char *idhex, const char *state, const char *reason)
{
	json_t *o = json_object();
	if (idhex)
		json_object_set_new(o, "id", json_string(idhex));
	json_object_set_new(o, "state", json_string(state));
	if (reason && *reason)
		json_object_set_new(o, "reason", json_string(reason));
	char *txt = json_dumps(o, JSON_INDENT(2));
	if (txt)
		puts(txt);
	free(txt);
	json_decref(o);
}

int sp_cli_submit(const char *cfg_path, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "category", required_argument, NULL, 'c' },
		{ "weight", required_argument, NULL, 'w' },
		{ "bsn", required_argument, NULL, 'b' },
		{ "kvk", required_argument, NULL, 'k' },
		{ "bag", required_argument, NULL, 'g' },
		{ "name", required_argument, NULL, 'n' },
		{ "birthdate", required_argument, NULL, 'd' },
		{ "address", required_argument, NULL, 'a' },
		{ "summary", required_argument, NULL, 's' },
		{ "contact", required_argument, NULL, 't' },
		{ "narrative", required_argument, NULL, 'r' },
		{ "wait", optional_argument, NULL, 'W' },
		{ "json", no_argument, NULL, 'j' },
		{ "idempotency-key", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Seinpost__SubmitRequest s = SEINPOST__SUBMIT_REQUEST__INIT;
	Seinpost__LocalRequest req = SEINPOST__LOCAL_REQUEST__INIT;
	Seinpost__LocalReply *r = NULL;
	sp_config cfg;
	int o, wait = 0, json = 0, rc;
	char idhex[SP_ID_HEX], reason[256] = "";
	const char *state;

	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'c': s.category = optarg; break;
		case 'w': {
			char *end;
			unsigned long w = strtoul(optarg, &end, 10);
			if (*end || w < 1 || w > 3) {
				fprintf(stderr, "seinpost submit: weight must be 1 (low), 2 or 3 (high)\n");
				return 1;
			}
			s.weight = (uint32_t)w;
			break;
		}
		case 'b': s.subject_id = optarg; s.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON; break;
		case 'k': s.subject_id = optarg; s.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_BUSINESS; break;
		case 'g': s.subject_id = optarg; s.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_LOCATION; break;
		case 'n': s.name = optarg; break;
		case 'd': s.birthdate = optarg; break;
		case 'a': s.address = optarg; break;
		case 's': s.summary = optarg; break;
		case 't': s.contact = optarg; break;
		case 'r': s.narrative = optarg; break;
		case 'I': s.idempotency_key = optarg; break;
		case 'W': wait = optarg ? atoi(optarg) : 10; if (wait <= 0) wait = 10; break;
		case 'j': json = 1; break;
		case 'h':
			puts("usage: seinpost --config FILE submit --category C [--weight 1|2|3]\n"
			     "         (--bsn BSN | --kvk NUMBER | --bag ID) [--name NAME] [--birthdate YYYY-MM-DD]\n"
			     "         [--address ADDRESS] [--summary TEXT] [--contact TEXT] [--narrative TEXT] [--wait[=SECONDS]]\n"
			     "         [--idempotency-key KEY] [--json]\n"
			     "Prints the signal id once the signal is stored durably in the node's outbox.\n"
			     "--wait also waits for the broker's verdict (exit 1 when rejected, 3 when none came).\n"
			     "--idempotency-key: a submit with a KEY this node has seen before stores and sends\n"
			     "       nothing and prints the first signal's id (safe retries; at most 128 characters).\n"
			     "--json prints one object: {\"id\", \"state\": stored|accepted|rejected|pending|error,\n"
			     "       \"reason\"} — also for a refused submit (then without id, exit 1).");
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "seinpost submit: unexpected argument %s\n", argv[optind]);
		return 2;
	}
	if (!s.category || !s.subject_id) {
		fprintf(stderr, "seinpost submit: --category and one of --bsn/--kvk/--bag are required\n");
		return 2;
	}
	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return rc;
	if (cfg.role != SP_RUN_NODE) {
		fprintf(stderr, "seinpost submit: %s is not a node configuration\n", cfg_path);
		return 1;
	}
	req.body_case = SEINPOST__LOCAL_REQUEST__BODY_SUBMIT;
	req.submit = &s;
	if (sp_cli_local_call(&cfg, &req, &r) != SP_OK) {
		if (json)
			submit_print_json(NULL, "error", "the node could not be reached or did not answer");
		return 1;
	}
	if (r->code != 0) {
		fprintf(stderr, "seinpost submit: %s\n", r->message);
		if (json)
			submit_print_json(NULL, "error", r->message);
		seinpost__local_reply__free_unpacked(r, NULL);
		return 1;
	}
	uint8_t id[16];
	memcpy(id, r->id.data, 16);
	seinpost__local_reply__free_unpacked(r, NULL);
	sp_hex(id, 16, idhex);
	if (!json) {
		puts(idhex);
		fflush(stdout);
	}
	if (!wait) {
		if (json)
			submit_print_json(idhex, "stored", NULL);
		return 0;
	}
	rc = wait_verdict(&cfg, id, wait, &state, reason, sizeof reason);
	if (json)
		submit_print_json(idhex, state, reason);
	else if (rc == 0)
		fprintf(stderr, "seinpost: accepted by the broker\n");
	else if (rc == 3)
		fprintf(stderr, "seinpost: no verdict from the broker within %d s; the signal stays in the outbox and will be retried\n", wait);
	else if (*reason)
		fprintf(stderr, "seinpost: broker rejected the signal: %s\n", reason);
	return rc;
}

/* Open the node's store for reading and iterate one database. */
struct list_ctx {
	json_t *arr;
	int json;
	const sp_roster *roster;
	int count;
	sp_txn *t;
};

static int outbox_row(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct list_ctx *c = ctx;
	Seinpost__OutboxEntry *e = seinpost__outbox_entry__unpack(NULL, vl, v);
	Seinpost__SignalHeader *h = NULL;
	char idhex[SP_ID_HEX], when[32];
	if (!e || !e->signal || kl != 16)
		goto out;
	h = seinpost__signal_header__unpack(NULL, e->signal->header.len, e->signal->header.data);
	if (!h)
		goto out;
	sp_hex(k, 16, idhex);
	sp_iso_time(e->queued, when, sizeof when);
	if (c->json)
		json_array_append_new(c->arr, json_pack("{s:s,s:s,s:s,s:i,s:s,s:i,s:s}", "id", idhex, "queued", when,
		                                        "category", h->category, "weight", (int)h->weight,
		                                        "state", outbox_state_name(e->state), "code", (int)e->code,
		                                        "reason", e->reason));
	else
		printf("%s  %s  %-20s w%u  %-9s %s\n", idhex, when, h->category, h->weight,
		       outbox_state_name(e->state), e->reason);
	c->count++;
out:
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	if (e)
		seinpost__outbox_entry__free_unpacked(e, NULL);
	return 0;
}

static unsigned granted_mask(const Seinpost__Signal *s)
{
	unsigned m = 1;
	for (size_t i = 0; i < s->n_grants; i++)
		m |= 1u << s->grants[i]->tier;
	return m;
}

static int inbox_row(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct list_ctx *c = ctx;
	Seinpost__InboxEntry *e = seinpost__inbox_entry__unpack(NULL, vl, v);
	Seinpost__SignalHeader *h = NULL;
	char idhex[SP_ID_HEX], when[32], tiers[64], pseudo[17];
	if (!e || !e->delivery || !e->delivery->signal || kl != 16)
		goto out;
	h = seinpost__signal_header__unpack(NULL, e->delivery->signal->header.len, e->delivery->signal->header.data);
	if (!h || h->pseudonym.len != 32)
		goto out;
	sp_hex(k, 16, idhex);
	sp_iso_time(e->received, when, sizeof when);
	sp_render_tiers(granted_mask(e->delivery->signal), tiers, sizeof tiers);
	sp_hex(h->pseudonym.data, 8, pseudo);
	const char *rule = e->delivery->n_rule_ids ? e->delivery->rule_ids[e->delivery->n_rule_ids - 1] : "";
	char ref[SP_INVOLVE_REF_MAX + 1] = "";
	if (c->t)
		sp_involve_local_ref(c->t, h->pseudonym.data, ref, sizeof ref); /* our own pupil/client ref */
	if (c->json && ref[0])
		json_array_append_new(c->arr, json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:s}", "id", idhex,
		                                        "received", when, "from", h->sender, "category", h->category,
		                                        "weight", (int)h->weight, "tiers", tiers, "rule", rule,
		                                        "subject", pseudo, "ref", ref));
	else if (c->json)
		json_array_append_new(c->arr, json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s}", "id", idhex,
		                                        "received", when, "from", h->sender, "category", h->category,
		                                        "weight", (int)h->weight, "tiers", tiers, "rule", rule,
		                                        "subject", pseudo));
	else
		printf("%s  %s  from %-20s %-20s w%u  tiers %-26s rule %s%s%s\n", idhex, when, h->sender,
		       h->category, h->weight, tiers, rule, ref[0] ? "  ref " : "", ref);
	c->count++;
out:
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	if (e)
		seinpost__inbox_entry__free_unpacked(e, NULL);
	return 0;
}

static int list_db(const char *cfg_path, int argc, char **argv, enum sp_db db, sp_store_visit_fn fn,
                   const char *name)
{
	sp_config cfg;
	sp_store *st = NULL;
	sp_txn *t = NULL;
	struct list_ctx c = { 0 };
	int rc;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c.json = 1;
		else {
			fprintf(stderr, "usage: seinpost --config FILE %s [--json]\n", name);
			return 2;
		}
	}
	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return rc;
	rc = sp_store_open(cfg.state_dir, cfg.map_size, SP_STORE_RDONLY, &st);
	if (rc == SP_OK)
		rc = sp_txn_begin(st, 0, &t);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost %s: state %s: %s\n", name, cfg.state_dir, sp_strerror(rc));
		sp_store_close(&st);
		return 1;
	}
	c.arr = json_array();
	c.t = t;
	(void)sp_store_foreach(t, db, NULL, 0, fn, &c);
	sp_txn_abort(&t);
	sp_store_close(&st);
	if (c.json) {
		char *s = json_dumps(c.arr, JSON_INDENT(2));
		puts(s);
		free(s);
	} else if (c.count == 0)
		printf("(%s is empty)\n", name);
	json_decref(c.arr);
	return 0;
}

int sp_cli_outbox(const char *cfg_path, int argc, char **argv)
{
	return list_db(cfg_path, argc, argv, SP_DB_OUTBOX, outbox_row, "outbox");
}

int sp_cli_inbox(const char *cfg_path, int argc, char **argv)
{
	return list_db(cfg_path, argc, argv, SP_DB_INBOX, inbox_row, "inbox");
}

static void print_field(const char *label, const char *v)
{
	if (v && v[0])
		printf("  %-11s %s\n", label, v);
}

int sp_cli_show(const char *cfg_path, int argc, char **argv)
{
	sp_config cfg;
	sp_keyring ring = { 0 };
	sp_keyset *keys = NULL;
	sp_roster *roster = NULL;
	sp_policy *policy = NULL;
	sp_store *st = NULL;
	sp_txn *t = NULL;
	sp_render r = { 0 };
	const char *user = NULL, *idarg = NULL;
	uint8_t id[16];
	const void *v;
	size_t vl;
	char why[256], idhex[SP_ID_HEX], tiers[64], when[32], refhex[SP_ID_HEX], ref[SP_INVOLVE_REF_MAX + 1];
	int json = 0, rc, status = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			user = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (argv[i][0] != '-' && !idarg)
			idarg = argv[i];
		else {
			fprintf(stderr, "usage: seinpost --config FILE show ID --user NAME [--json]\n");
			return 2;
		}
	}
	if (!idarg || !user) {
		fprintf(stderr, "usage: seinpost --config FILE show ID --user NAME [--json]\n"
		                "(--user names who opens the signal; it is recorded in the audit log)\n");
		return 2;
	}
	if (!sp_text_ok(user, SP_MAX_USER, 0) || !user[0]) {
		fprintf(stderr, "seinpost show: --user must be 1..%d printable characters\n", SP_MAX_USER);
		return 2;
	}
	if (strncmp(user, SP_READ_SYSTEM_PREFIX, strlen(SP_READ_SYSTEM_PREFIX)) == 0) {
		fprintf(stderr, "seinpost show: user names starting with '%s' are reserved for the node's own "
		        "hand-overs (delivery hooks)\n", SP_READ_SYSTEM_PREFIX);
		return 2;
	}
	if (sp_unhex(idarg, id, sizeof id) != SP_OK) {
		fprintf(stderr, "seinpost show: signal id must be 32 hex characters\n");
		return 2;
	}
	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return rc;
	if ((rc = sp_keyring_load(cfg.keys_dir, &ring)) != SP_OK || !(keys = ring.k[0])->has_box) {
		fprintf(stderr, "seinpost show: keys in %s: %s\n", cfg.keys_dir, rc ? sp_strerror(rc) : "no box key");
		goto out;
	}
	if ((rc = sp_rosterstate_load(&cfg, &roster)) != SP_OK) {
		fprintf(stderr, "seinpost show: roster: %s\n", sp_strerror(rc));
		goto out;
	}
	/* Read receipts are signed by the key generation the roster names. */
	{
		const sp_org *me = sp_roster_find(roster, cfg.org);
		if (me && sp_keyring_select(&ring, me->curve_pk, me->sign_pk) == SP_OK)
			keys = ring.k[0];
	}
	if ((rc = sp_policy_load(cfg.policy_path, &policy, why, sizeof why)) != SP_OK) {
		fprintf(stderr, "seinpost show: policy: %s\n", why);
		goto out;
	}
	rc = sp_store_open(cfg.state_dir, cfg.map_size, 0, &st);
	if (rc == SP_OK)
		rc = sp_txn_begin(st, 1, &t);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost show: state %s: %s\n", cfg.state_dir, sp_strerror(rc));
		goto out;
	}
	rc = sp_store_get(t, SP_DB_INBOX, id, 16, &v, &vl);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost show: no signal %s in the inbox\n", sp_hex(id, 16, idhex));
		goto out;
	}
	if (sp_render_open(v, vl, roster, policy, sp_now_s(), cfg.org, &ring, &r, why,
	                   sizeof why) != SP_OK) {
		fprintf(stderr, "seinpost show: %s\n", why);
		goto out;
	}
	const Seinpost__SignalHeader *h = r.h;
	const Seinpost__Delivery *d = r.entry->delivery;
	/* Our own reference for the subject: local only, read before commit. */
	sp_involve_local_ref(t, h->pseudonym.data, ref, sizeof ref);
	/* Who opened what is part of "who saw what": audited before display. */
	rc = sp_render_audit(t, &r, cfg.org, user, keys->sign_sk);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost show: cannot record the read in the audit log (%s); not shown\n",
		        sp_strerror(rc));
		goto out;
	}
	if (json) {
		json_t *o = sp_render_json(&r, ref);
		char *s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
		if (!s) {
			fprintf(stderr, "seinpost show: out of memory\n");
			json_decref(o);
			goto out;
		}
		puts(s);
		free(s);
		json_decref(o);
	} else {
		sp_render_tiers(r.tiers, tiers, sizeof tiers);
		sp_iso_time(h->created * 1000u, when, sizeof when);
		sp_hex(h->id.data, 16, idhex);
		printf("signal %s\n", idhex);
		printf("  %-11s %s (signature verified)\n", "from", h->sender);
		printf("  %-11s %s, weight %u\n", "category", h->category, h->weight);
		printf("  %-11s %s\n", "created", when);
		for (size_t ri = 0; ri < d->n_rule_ids || ri == 0; ri++)
			printf("  %-11s %s\n", "rule", d->n_rule_ids ? d->rule_ids[ri] : "-");
		print_field("our ref", ref);
		if (d->referral)
			printf("  %-11s %s (escalation rule %s)\n", "referral",
			       sp_hex(d->referral->id.data, 16, refhex), d->referral->rule_id);
		printf("  %-11s %s\n", "granted", tiers);
		if (!(r.op.tiers & ~1u))
			printf("  (existence only: this organisation may know the signal exists, nothing more)\n");
		print_field("contact", r.op.contact);
		print_field("summary", r.op.summary);
		print_field("bsn", r.op.bsn);
		print_field("name", r.op.name);
		print_field("birthdate", r.op.birthdate);
		print_field("address", r.op.address);
		print_field("narrative", r.op.narrative);
	}
	status = 0;
out:
	sp_render_clear(&r);
	sp_txn_abort(&t);
	sp_store_close(&st);
	sp_roster_free(&roster);
	sp_policy_free(&policy);
	sp_keyring_free(&ring);
	return status;
}
