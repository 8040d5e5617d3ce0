/* sp_cli_node.c — submit, outbox, inbox, show (node side commands). */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "sp_awaiting.h"
#include "sp_cli.h"
#include "sp_config.h"
#include "sp_feedback_keep.h"
#include "sp_involve.h"
#include "sp_keys.h"
#include "sp_reads.h"
#include "sp_render.h"
#include "sp_roster.h"
#include "sp_rosterstate.h"
#include "sp_signal.h"
#include "sp_statedir.h"
#include "sp_store.h"
#include "sp_util.h"
#include "sp_wire.h"

#define REQUEST_TIMEOUT_MS 20000 /* an audit query goes on to the broker */

int sp_cli_local_call(const sp_config *c, const Seinpost__LocalRequest *req, Seinpost__LocalReply **out)
{
	return sp_cli_local_call_ms(c, req, out, REQUEST_TIMEOUT_MS);
}

/* One request/reply on the node's local submit socket. */
int sp_cli_local_call_ms(const sp_config *c, const Seinpost__LocalRequest *req, Seinpost__LocalReply **out,
                         int timeout_ms)
{
	char path[PATH_MAX], ep[PATH_MAX + 8];
	void *ctx = NULL, *s = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc = SP_EIO, timeout = timeout_ms > 0 ? timeout_ms : 1, linger = 0;
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
		if (timeout >= 1000)
			fprintf(stderr, "seinpost: the node did not answer within %d s\n", timeout / 1000);
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
	case SEINPOST__OUTBOX_STATE__OUTBOX_DEFERRED: return "deferred";
	case SEINPOST__OUTBOX_STATE__OUTBOX_WITHDRAWN: return "withdrawn";
	default: return "unknown";
	}
}

/* Poll the node until the broker has answered, for at most seconds (each
 * call to the node included). Returns the exit status: 0 accepted, 1
 * rejected, 3 no verdict in time — also when the node stopped answering or
 * the broker only refused it for now (deferred: retried). *state names it:
 * accepted, rejected, deferred or stored; reason gets the broker's words. */
static int wait_verdict(const sp_config *c, const uint8_t id[16], int seconds, const char **state,
                        char *reason, size_t reasonlen)
{
	Seinpost__LocalRequest req = SEINPOST__LOCAL_REQUEST__INIT;
	uint64_t deadline = sp_mono_ms() + (uint64_t)seconds * 1000u;
	req.body_case = SEINPOST__LOCAL_REQUEST__BODY_OUTBOX_STATUS;
	req.outbox_status.data = (uint8_t *)id;
	req.outbox_status.len = 16;
	/* *state comes set: stored (it is in the outbox: that much is
	 * certain) or waiting (held for the pseudonymisation service) */
	for (;;) {
		Seinpost__LocalReply *r = NULL;
		uint64_t now = sp_mono_ms();
		if (now >= deadline)
			break;
		if (sp_cli_local_call_ms(c, &req, &r, (int)(deadline - now)) != SP_OK)
			break; /* the node is gone or silent: no verdict came */
		if (r->code == 0 && r->entry && (r->entry->state == SEINPOST__OUTBOX_STATE__OUTBOX_ACCEPTED ||
		                                 r->entry->state == SEINPOST__OUTBOX_STATE__OUTBOX_REJECTED)) {
			int rejected = r->entry->state == SEINPOST__OUTBOX_STATE__OUTBOX_REJECTED;
			*state = rejected ? "rejected" : "accepted";
			snprintf(reason, reasonlen, "%s", rejected ? r->entry->reason : "");
			seinpost__local_reply__free_unpacked(r, NULL);
			return rejected ? 1 : 0;
		}
		if (r->code == 0 && r->entry && r->entry->state == SEINPOST__OUTBOX_STATE__OUTBOX_DEFERRED) {
			*state = "deferred";
			snprintf(reason, reasonlen, "%s", r->entry->reason);
		}
		seinpost__local_reply__free_unpacked(r, NULL);
		now = sp_mono_ms();
		if (now >= deadline)
			break;
		usleep(deadline - now < 100 ? (useconds_t)(deadline - now) * 1000 : 100000);
	}
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
		{ "resident-report", no_argument, NULL, 'R' },
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
				return SP_EXIT_USAGE;
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
		case 'R': s.resident_report = 1; break;
		case 'W': wait = optarg ? atoi(optarg) : 10; if (wait <= 0) wait = 10; break;
		case 'j': json = 1; break;
		case 'h':
			puts("usage: seinpost --config FILE submit --category C [--weight 1|2|3]\n"
			     "         (--bsn BSN | --kvk NUMBER | --bag ID) [--name NAME] [--birthdate YYYY-MM-DD]\n"
			     "         [--address ADDRESS] [--summary TEXT] [--contact TEXT] [--narrative TEXT] [--wait[=SECONDS]]\n"
			     "         [--idempotency-key KEY] [--resident-report] [--json]\n"
			     "Prints the signal id once the signal is stored durably in the node's outbox.\n"
			     "--wait also waits for the broker's verdict, at most SECONDS (default 10): exit 0 accepted,\n"
			     "       1 rejected, 3 no verdict in time (the node stopped answering, or the broker refused\n"
			     "       it for now: state deferred, retried). The signal stays stored in every case.\n"
			     "       When the pseudonymisation service cannot be reached the submit is held, encrypted,\n"
			     "       and sent once its pseudonym can be computed: state waiting, exit 0 (with --wait 3).\n"
			     "--idempotency-key: a submit with a KEY this node has seen before stores and sends\n"
			     "       nothing and prints the first signal's id (safe retries; at most 128 characters).\n"
			     "--json prints one object: {\"id\", \"state\": stored|waiting|accepted|rejected|deferred|error,\n"
			     "       \"reason\"} — also for a refused submit (then without id, exit 1).\n"
			     "--resident-report: an anonymous report by a resident (Meld Misdaad Anoniem), entered by a\n"
			     "       role the policy's resident_reports names (default: the municipality). About a place\n"
			     "       (--bag) or a business (--kvk), never a person; with neither it has no subject and\n"
			     "       counts only in the figures (`seinpost stats`): never shared, never escalated.");
			return 0;
		default:
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "seinpost submit: unexpected argument %s\n", argv[optind]);
		return 2;
	}
	if (!s.category || (!s.subject_id && !s.resident_report)) {
		fprintf(stderr, "seinpost submit: --category and one of --bsn/--kvk/--bag are required\n");
		return 2;
	}
	if (s.resident_report && s.subject_kind == SEINPOST__SUBJECT_KIND__SUBJECT_PERSON) {
		fprintf(stderr, "seinpost submit: an anonymous resident report is never about a person: give --bag, --kvk or no subject\n");
		return 2;
	}
	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return rc;
	if (cfg.role != SP_RUN_NODE) {
		fprintf(stderr, "seinpost submit: %s is not a node configuration\n", cfg_path);
		return SP_EXIT_USAGE;
	}
	req.body_case = SEINPOST__LOCAL_REQUEST__BODY_SUBMIT;
	req.submit = &s;
	if ((rc = sp_cli_local_call(&cfg, &req, &r)) != SP_OK) {
		if (json)
			submit_print_json(NULL, "error", "the node could not be reached or did not answer");
		return sp_cli_call_exit(rc);
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
	state = r->waiting ? "waiting" : "stored";
	seinpost__local_reply__free_unpacked(r, NULL);
	sp_hex(id, 16, idhex);
	if (!json) {
		puts(idhex);
		fflush(stdout);
	}
	if (!wait) {
		if (json)
			submit_print_json(idhex, state, NULL);
		else if (strcmp(state, "waiting") == 0)
			fprintf(stderr, "seinpost: waiting: the pseudonymisation service cannot be reached; the submit is "
			        "held encrypted and sent once its pseudonym can be computed\n");
		return 0;
	}
	rc = wait_verdict(&cfg, id, wait, &state, reason, sizeof reason);
	if (json)
		submit_print_json(idhex, state, reason);
	else if (rc == 0)
		fprintf(stderr, "seinpost: accepted by the broker\n");
	else if (rc == 3 && strcmp(state, "deferred") == 0)
		fprintf(stderr, "seinpost: the broker refused the signal for now (%s); it stays in the outbox and "
		        "is retried\n", reason);
	else if (rc == 3 && strcmp(state, "waiting") == 0)
		fprintf(stderr, "seinpost: no verdict within %d s; the submit waits for the pseudonymisation service, "
		        "held encrypted, and is sent once its pseudonym can be computed\n", wait);
	else if (rc == 3)
		fprintf(stderr, "seinpost: no verdict within %d s; the signal is stored in the outbox and will be sent "
		        "when the node and the broker are running\n", wait);
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
	/* A stored copy whose header no longer decodes is still listed: its
	 * state and reason say what became of it. */
	h = seinpost__signal_header__unpack(NULL, e->signal->header.len, e->signal->header.data);
	sp_hex(k, 16, idhex);
	sp_iso_time(e->queued, when, sizeof when);
	if (c->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:s,s:i,s:s}", "id", idhex, "queued_at", when,
		                      "category", h ? h->category : "", "weight", h ? (int)h->weight : 0,
		                      "state", outbox_state_name(e->state), "code", (int)e->code,
		                      "reason", e->reason);
		/* what happened with it since: existence tier (sp_feedback_keep.h) */
		if (o)
			json_object_set_new(o, "feedback", sp_feedback_json(c->t, k));
		json_array_append_new(c->arr, o);
	} else {
		printf("%s  %s  %-20s w%u  %-9s %s\n", idhex, when, h ? h->category : "(damaged)", h ? h->weight : 0,
		       outbox_state_name(e->state), e->reason);
		sp_feedback_print(c->t, k, stdout);
	}
	c->count++;
out:
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	if (e)
		seinpost__outbox_entry__free_unpacked(e, NULL);
	return 0;
}

/* Submits held for the pseudonymisation service (sp_awaiting.h): listed
 * with the outbox, state waiting (or rejected, with the reason). */
static int awaiting_row(void *ctx, const uint8_t id[16], uint64_t held_ms, const char *category, uint32_t weight,
                        const char *state, const char *reason)
{
	struct list_ctx *c = ctx;
	char idhex[SP_ID_HEX], when[32];
	sp_hex(id, 16, idhex);
	sp_iso_time(held_ms, when, sizeof when);
	if (c->json)
		json_array_append_new(c->arr, json_pack("{s:s,s:s,s:s,s:i,s:s,s:i,s:s}", "id", idhex, "queued_at", when,
		                                        "category", category, "weight", (int)weight, "state", state,
		                                        "code", 0, "reason", reason));
	else
		printf("%s  %s  %-20s w%u  %-9s %s\n", idhex, when, category, weight, state, reason);
	c->count++;
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
	char idhex[SP_ID_HEX], when[32], created[32], tiers[64], pseudo[17];
	if (!e || !e->delivery || !e->delivery->signal || kl != 16)
		goto out;
	h = sp_wire_header_of(e->delivery->signal, &e->delivery->recipient_pseudonym); /* ours, not P */
	if (!h || h->pseudonym.len != 32)
		goto out;
	sp_hex(k, 16, idhex);
	sp_iso_time(e->received, when, sizeof when);
	sp_iso_time(h->created * 1000u, created, sizeof created);
	sp_render_tiers(granted_mask(e->delivery->signal), tiers, sizeof tiers);
	sp_hex(h->pseudonym.data, 8, pseudo);
	const char *rule = e->delivery->n_rule_ids ? e->delivery->rule_ids[e->delivery->n_rule_ids - 1] : "";
	char ref[SP_INVOLVE_REF_MAX + 1] = "";
	if (c->t)
		sp_involve_local_ref(c->t, h->pseudonym.data, ref, sizeof ref); /* our own pupil/client ref */
	if (c->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:i,s:o,s:s,s:s}", "id", idhex, "received_at", when, "from",
		                      h->sender, "category", h->category, "weight", (int)h->weight, "tiers",
		                      sp_render_tiers_json(granted_mask(e->delivery->signal)), "rule", rule,
		                      "subject", pseudo);
		if (o)
			json_object_set_new(o, "created_at", json_string(created));
		if (o && ref[0])
			json_object_set_new(o, "ref", json_string(ref));
		if (o && e->withdrawn) /* a tombstone: sp_withdrawn.h */
			json_object_set_new(o, "withdrawn_at", json_string(sp_iso_time(e->withdrawn, when, sizeof when)));
		json_array_append_new(c->arr, o);
	} else
		printf("%s  %s  from %-20s %-20s w%u  tiers %-26s rule %s%s%s%s\n", idhex, when, h->sender,
		       h->category, h->weight, e->withdrawn ? "-" : tiers, rule, ref[0] ? "  ref " : "", ref,
		       e->withdrawn ? "  WITHDRAWN by its sender (content deleted)" : "");
	c->count++;
out:
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	if (e)
		seinpost__inbox_entry__free_unpacked(e, NULL);
	return 0;
}

/* The inbox in creation order (the sender's clock, then id): arrival order
 * follows retries and outages, and seinpost promises no order across them
 * (docs/delivery.md). */
struct by_created {
	uint64_t created;
	uint8_t id[16];
};

struct collect_ctx {
	struct by_created *v;
	size_t n, cap;
	int rc;
};

static int collect_created(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct collect_ctx *c = ctx;
	Seinpost__InboxEntry *e;
	uint64_t created = 0;
	if (kl != 16)
		return 0;
	e = seinpost__inbox_entry__unpack(NULL, vl, v);
	if (e && e->delivery && e->delivery->signal) {
		Seinpost__SignalHeader *h = seinpost__signal_header__unpack(NULL, e->delivery->signal->header.len,
		                                                           e->delivery->signal->header.data);
		if (h)
			created = h->created;
		if (h)
			seinpost__signal_header__free_unpacked(h, NULL);
	}
	if (e)
		seinpost__inbox_entry__free_unpacked(e, NULL);
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		void *p = realloc(c->v, cap * sizeof *c->v);
		if (!p) {
			c->rc = SP_ENOMEM;
			return 1;
		}
		c->v = p;
		c->cap = cap;
	}
	c->v[c->n].created = created;
	memcpy(c->v[c->n].id, k, 16);
	c->n++;
	return 0;
}

static int cmp_created(const void *a, const void *b)
{
	const struct by_created *x = a, *y = b;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return memcmp(x->id, y->id, 16);
}

static int foreach_by_created(sp_txn *t, enum sp_db db, sp_store_visit_fn fn, void *ctx)
{
	struct collect_ctx c = { 0 };
	int rc = sp_store_foreach(t, db, NULL, 0, collect_created, &c);
	if (rc == 1)
		rc = c.rc;
	if (rc == SP_OK && c.n)
		qsort(c.v, c.n, sizeof *c.v, cmp_created);
	for (size_t i = 0; rc == SP_OK && i < c.n; i++) {
		const void *v;
		size_t vl;
		if (sp_store_get(t, db, c.v[i].id, 16, &v, &vl) == SP_OK)
			(void)fn(ctx, c.v[i].id, 16, v, vl);
	}
	free(c.v);
	return rc;
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
	if (db == SP_DB_INBOX)
		(void)foreach_by_created(t, db, fn, &c);
	else
		(void)sp_store_foreach(t, db, NULL, 0, fn, &c);
	if (db == SP_DB_OUTBOX)
		(void)sp_awaiting_foreach(t, awaiting_row, &c);
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
	sp_kh *kh = NULL;
	sp_roster *roster = NULL;
	sp_policy *policy = NULL;
	sp_store *st = NULL;
	sp_txn *t = NULL;
	sp_lock *lock = NULL;
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
	if (!sp_user_ok(user) || strlen(user) > SP_MAX_USER) {
		fprintf(stderr, "seinpost show: --user must be 1..%d printable characters without a run of 8 or "
		        "more digits (a BSN is no user name)\n", SP_MAX_USER);
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
	/* The CLI is not network-facing: it opens with the keys in this process. */
	if ((rc = sp_kh_local_ring(cfg.org, &ring, NULL, NULL, &kh)) != SP_OK) {
		fprintf(stderr, "seinpost show: %s\n", sp_strerror(rc));
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
	/* It writes (the read record) beside a running node: a writer's lock. */
	if ((rc = sp_statedir_lock(cfg.state_dir, SP_LOCK_WRITER, &lock, why, sizeof why)) != SP_OK) {
		fprintf(stderr, "seinpost show: %s\n", why);
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
	if (sp_render_open(v, vl, roster, policy, sp_now_s(), cfg.org, kh, &r, why, sizeof why) != SP_OK) {
		fprintf(stderr, "seinpost show: %s\n", why);
		goto out;
	}
	const Seinpost__SignalHeader *h = r.h;
	const Seinpost__Delivery *d = r.entry->delivery;
	/* Our own reference for the subject: local only, read before commit. */
	sp_involve_local_ref(t, h->pseudonym.data, ref, sizeof ref);
	/* Who opened what is part of "who saw what": audited before display. */
	rc = sp_render_audit(t, &r, cfg.org, user, kh);
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
		if (r.withheld[0])
			printf("  %-11s %s\n", "withheld", r.withheld);
	}
	status = 0;
	if (r.withheld[0]) {
		fprintf(stderr, "seinpost show: the sender's %s is not acceptable text (%s); withheld\n", r.withheld,
		        r.withheld_why);
		status = 1;
	}
out:
	sp_render_clear(&r);
	sp_txn_abort(&t);
	sp_store_close(&st);
	sp_roster_free(&roster);
	sp_policy_free(&policy);
	sp_kh_free(&kh);
	sp_keyring_free(&ring);
	sp_statedir_unlock(&lock);
	return status;
}
