/*
 * sp_cli_alarms.c — `seinpost --config NODE alarms [--json]`: the alarms
 * the privacy officer's node took from the pseudonymisation service's
 * instances (sp_oprf_alarms.h), and each instance's feed. Read from the
 * node's store: works while the node runs and while it is down.
 * `alarms --ack --user NAME`: the privacy officer acknowledges them
 * (audited in the node's log); status is healthy again until the next.
 */
#include <stdio.h>
#include <string.h>

#include "sp_cli.h"
#include "sp_oprf_alarms.h"
#include "sp_statedir.h"
#include "sp_store.h"
#include "sp_util.h"
#include "sp_wire.h"

struct list {
	json_t *arr;
	int json, rc;
	size_t n;
};

static const char *kind_name(uint32_t k)
{
	switch (k) {
	case SEINPOST__OPRF_ALARM_KIND__OPRF_ALARM_KIND_RATE_LIMIT: return "rate-limit";
	case SEINPOST__OPRF_ALARM_KIND__OPRF_ALARM_KIND_SIGNATURE: return "signature";
	default: return "unknown";
	}
}

static int one_alarm(void *ctx, const char *service, const Seinpost__OprfAlarm *a)
{
	struct list *l = ctx;
	char text[320], when[32];
	sp_oalarms_text(a, text, sizeof text);
	l->n++;
	if (!l->json) {
		printf("%s  %s #%llu  %s\n", sp_iso_time(a->time, when, sizeof when), service,
		       (unsigned long long)a->seq, text);
		return 0;
	}
	json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s}", "service", service, "seq",
	                      (json_int_t)a->seq, "kind", kind_name(a->kind), "org", a->org, "role", a->role,
	                      "asked", (json_int_t)a->asked, "used", (json_int_t)a->used, "limit",
	                      (json_int_t)a->limit, "suppressed", (json_int_t)a->suppressed, "text", text);
	if (!o || sp_cli_json_time(o, "raised_at", a->time) != 0 || json_array_append_new(l->arr, o) != 0)
		l->rc = 1;
	return 0;
}

static int one_feed(void *ctx, const char *service, const Seinpost__OprfAlarmFeed *f)
{
	struct list *l = ctx;
	char when[32];
	l->n++;
	if (!l->json) {
		printf("feed %s: %llu alarms taken, last verified answer %s%s%s\n", service,
		       (unsigned long long)f->cursor, f->last_contact ? sp_iso_time(f->last_contact, when, sizeof when)
		                                                      : "never",
		       f->broken ? "; ALARM: does not hold: " : "", f->broken ? f->reason : "");
		return 0;
	}
	json_t *o = json_pack("{s:s, s:I, s:b}", "service", service, "taken", (json_int_t)f->cursor, "broken",
	                      f->broken);
	if (!o || (f->broken && json_object_set_new(o, "reason", json_string(f->reason)) != 0) ||
	    (f->last_contact ? sp_cli_json_time(o, "last_contact_at", f->last_contact)
	                     : json_object_set_new(o, "last_contact_at", json_null())) != 0 ||
	    json_array_append_new(l->arr, o) != 0)
		l->rc = 1;
	return 0;
}

static int ack(const sp_config *cfg, const char *user)
{
	sp_lock *lock = NULL;
	sp_store *st = NULL;
	sp_txn *t = NULL;
	uint64_t n = 0;
	char why[256];
	int rc;
	if (!sp_user_ok(user) || strlen(user) > SP_MAX_USER) {
		fprintf(stderr, "seinpost alarms: --user must be 1..%d printable characters without a run of 8 or "
		        "more digits (a BSN is no user name)\n", SP_MAX_USER);
		return SP_EXIT_USAGE;
	}
	/* it writes (the acknowledgement and its audit record) beside a running node */
	if ((rc = sp_statedir_lock(cfg->state_dir, SP_LOCK_WRITER, &lock, why, sizeof why)) != SP_OK) {
		fprintf(stderr, "seinpost alarms: %s\n", why);
		return SP_EXIT_BAD;
	}
	rc = sp_store_open(cfg->state_dir, cfg->map_size, 0, &st);
	if (rc == SP_OK)
		rc = sp_txn_begin(st, 1, &t);
	if (rc == SP_OK)
		rc = sp_oalarms_ack(t, cfg->org, user, sp_now_ms(), &n);
	if (rc == SP_OK)
		rc = sp_txn_commit(&t);
	sp_txn_abort(&t);
	sp_store_close(&st);
	sp_statedir_unlock(&lock);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost alarms: state %s: %s\n", cfg->state_dir, sp_strerror(rc));
		return SP_EXIT_BAD;
	}
	printf("%llu alarm%s acknowledged by %s (audited); a newer one makes status unhealthy again\n",
	       (unsigned long long)n, n == 1 ? "" : "s", user);
	return SP_EXIT_OK;
}

static json_t *ack_json(sp_txn *t)
{
	Seinpost__OprfAlarmAck *a = NULL;
	json_t *o;
	if (sp_oalarms_ack_get(t, &a) != SP_OK || !a)
		return json_null();
	o = json_pack("{s:I, s:s}", "acknowledged", (json_int_t)a->acked, "user", a->user);
	if (o && sp_cli_json_time(o, "acknowledged_at", a->time) != 0) {
		json_decref(o);
		o = NULL;
	}
	seinpost__oprf_alarm_ack__free_unpacked(a, NULL);
	return o;
}

int sp_cli_alarms(const char *cfg_path, int argc, char **argv)
{
	sp_config cfg;
	sp_store *st = NULL;
	sp_txn *t = NULL;
	struct list al = { 0 }, fd = { 0 };
	json_t *ackj = NULL;
	const char *user = NULL;
	int rc, json = 0, do_ack = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--ack") == 0)
			do_ack = 1;
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			user = argv[++i];
		else
			json = do_ack = -1;
	}
	if (json < 0 || (do_ack && (json || !user)) || (!do_ack && user)) {
		fprintf(stderr, "usage: seinpost --config FILE alarms [--json] | alarms --ack --user NAME\n");
		return SP_EXIT_USAGE;
	}
	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return rc;
	if (do_ack)
		return ack(&cfg, user);
	rc = sp_store_open(cfg.state_dir, cfg.map_size, SP_STORE_RDONLY, &st);
	if (rc == SP_OK)
		rc = sp_txn_begin(st, 0, &t);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost alarms: state %s: %s\n", cfg.state_dir, sp_strerror(rc));
		sp_store_close(&st);
		return SP_EXIT_BAD;
	}
	al.json = fd.json = json;
	if (json) {
		al.arr = json_array();
		fd.arr = json_array();
		ackj = ack_json(t);
	}
	if (!json)
		printf("Alarms of the pseudonymisation service:\n");
	rc = sp_oalarms_foreach(t, one_alarm, &al);
	if (!json && rc == SP_OK && !al.n)
		printf("(none)\n");
	if (rc == SP_OK)
		rc = sp_oalarms_feeds(t, one_feed, &fd);
	if (!json && rc == SP_OK && !fd.n)
		printf("(no instance's alarms taken: not the privacy officer's node, or no answer yet)\n");
	if (!json && rc == SP_OK) {
		Seinpost__OprfAlarmAck *a = NULL;
		char when[32];
		if (sp_oalarms_ack_get(t, &a) == SP_OK && a) {
			printf("acknowledged: %llu by %s at %s\n", (unsigned long long)a->acked, a->user,
			       sp_iso_time(a->time, when, sizeof when));
			seinpost__oprf_alarm_ack__free_unpacked(a, NULL);
		}
	}
	sp_txn_abort(&t);
	sp_store_close(&st);
	if (rc != SP_OK || al.rc || fd.rc || (json && !ackj)) {
		fprintf(stderr, "seinpost alarms: %s\n", rc != SP_OK ? sp_strerror(rc) : "out of memory");
		json_decref(al.arr);
		json_decref(fd.arr);
		json_decref(ackj);
		return SP_EXIT_BAD;
	}
	if (!json)
		return SP_EXIT_OK;
	json_t *o = json_object();
	if (!o || json_object_set_new(o, "alarms", al.arr) != 0 || json_object_set_new(o, "feeds", fd.arr) != 0 ||
	    json_object_set_new(o, "acknowledged", ackj) != 0) {
		json_decref(o);
		return SP_EXIT_BAD;
	}
	return sp_cli_print_json(o);
}
