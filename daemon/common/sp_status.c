/* sp_status.c — health report: lines, numbers, output (text, JSON,
 * Prometheus). The provider table and the collection are the CLI's
 * (cli/sp_status_collect.c): they reach into node and broker code, which
 * common/ must not. */
#include "sp_status.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_util.h"

struct line {
	char section[32];
	char key[64];
	char value[256];
	int level;
};

struct sp_status {
	struct line *lines;
	size_t n, cap;
	int role;
	char org[64];
	uint64_t now_ms;
	json_t *root;   /* sections (objects) and "orgs" (array) */
	json_t *times;  /* "section/key" -> unix seconds, for Prometheus */
};

int sp_status_add(sp_status *st, const char *section, const char *key, int level, const char *fmt, ...)
{
	va_list ap;
	struct line *l;
	if (!st || !section || !key || !fmt)
		return SP_EINVAL;
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		void *p = realloc(st->lines, cap * sizeof *st->lines);
		if (!p)
			return SP_ENOMEM;
		st->lines = p;
		st->cap = cap;
	}
	l = &st->lines[st->n++];
	snprintf(l->section, sizeof l->section, "%s", section);
	snprintf(l->key, sizeof l->key, "%s", key);
	va_start(ap, fmt);
	vsnprintf(l->value, sizeof l->value, fmt, ap);
	va_end(ap);
	l->level = level;
	return SP_OK;
}

static json_t *section(sp_status *st, const char *name)
{
	json_t *o = json_object_get(st->root, name);
	if (!o) {
		o = json_object();
		json_object_set_new(st->root, name, o);
	}
	return o;
}

static json_t *org_obj(sp_status *st, const char *org)
{
	json_t *a = json_object_get(st->root, "orgs"), *o;
	size_t i;
	if (!a) {
		a = json_array();
		json_object_set_new(st->root, "orgs", a);
	}
	json_array_foreach(a, i, o)
		if (strcmp(json_string_value(json_object_get(o, "org")) ?: "", org) == 0)
			return o;
	o = json_pack("{s:s}", "org", org);
	json_array_append_new(a, o);
	return o;
}

static json_t *num(double v)
{
	/* Counts and whole seconds stay integers in the JSON. */
	if (v >= 0 && v < 9007199254740992.0 && v == (double)(uint64_t)v)
		return json_integer((json_int_t)v);
	return json_real(v);
}

void sp_status_num(sp_status *st, const char *sec, const char *key, double v)
{
	if (st)
		json_object_set_new(section(st, sec), key, num(v));
}

void sp_status_bool(sp_status *st, const char *sec, const char *key, int v)
{
	if (st)
		json_object_set_new(section(st, sec), key, json_boolean(v));
}

void sp_status_str(sp_status *st, const char *sec, const char *key, const char *v)
{
	if (st)
		json_object_set_new(section(st, sec), key, json_string(v ? v : ""));
}

static json_t *instant(sp_status *st, const char *where, uint64_t ms)
{
	char when[32];
	if (!ms)
		return json_null();
	json_object_set_new(st->times, where, json_integer((json_int_t)(ms / 1000)));
	return json_string(sp_iso_time(ms, when, sizeof when));
}

void sp_status_time(sp_status *st, const char *sec, const char *key_at, uint64_t ms)
{
	char where[160];
	if (!st)
		return;
	snprintf(where, sizeof where, "%s/%s", sec, key_at);
	json_object_set_new(section(st, sec), key_at, instant(st, where, ms));
}

void sp_status_org_num(sp_status *st, const char *org, const char *key, double v)
{
	if (st)
		json_object_set_new(org_obj(st, org), key, num(v));
}

void sp_status_org_bool(sp_status *st, const char *org, const char *key, int v)
{
	if (st)
		json_object_set_new(org_obj(st, org), key, json_boolean(v));
}

void sp_status_org_time(sp_status *st, const char *org, const char *key_at, uint64_t ms)
{
	char where[200];
	if (!st)
		return;
	snprintf(where, sizeof where, "org:%s/%s", org, key_at);
	json_object_set_new(org_obj(st, org), key_at, instant(st, where, ms));
}

const char *sp_status_age(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;
	if (s < 120)
		snprintf(buf, len, "%llu s", (unsigned long long)s);
	else if (s < 7200)
		snprintf(buf, len, "%llu min", (unsigned long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, len, "%.1f h", (double)s / 3600.0);
	else
		snprintf(buf, len, "%llu d", (unsigned long long)(s / 86400));
	return buf;
}

int sp_status_new(int role, const char *org, uint64_t now_ms, sp_status **out)
{
	sp_status *st = calloc(1, sizeof *st);
	*out = NULL;
	if (!st)
		return SP_ENOMEM;
	st->role = role;
	snprintf(st->org, sizeof st->org, "%s", org);
	st->now_ms = now_ms;
	st->root = json_object();
	st->times = json_object();
	if (!st->root || !st->times) {
		sp_status_free(&st);
		return SP_ENOMEM;
	}
	*out = st;
	return SP_OK;
}

int sp_status_level(const sp_status *st)
{
	int worst = SP_STATUS_OK;
	for (size_t i = 0; st && i < st->n; i++)
		if (st->lines[i].level > worst)
			worst = st->lines[i].level;
	return worst;
}

static const char *level_name(int l)
{
	return l == SP_STATUS_BAD ? "BAD" : l == SP_STATUS_WARN ? "warn" : "ok";
}

void sp_status_print(const sp_status *st, FILE *out, int json)
{
	int worst = sp_status_level(st);
	const char *role = sp_config_role_name(st->role);
	if (json) {
		char when[32];
		json_t *o = json_deep_copy(st->root);
		json_object_set_new(o, "role", json_string(role));
		json_object_set_new(o, "org", json_string(st->org));
		json_object_set_new(o, "health", json_string(level_name(worst)));
		json_object_set_new(o, "healthy", json_boolean(worst != SP_STATUS_BAD));
		json_object_set_new(o, "checked_at", json_string(sp_iso_time(st->now_ms, when, sizeof when)));
		json_t *arr = json_array();
		for (size_t i = 0; i < st->n; i++)
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "section", st->lines[i].section,
			                                     "key", st->lines[i].key, "value", st->lines[i].value,
			                                     "level", level_name(st->lines[i].level)));
		json_object_set_new(o, "lines", arr);
		char *s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
		if (s)
			fprintf(out, "%s\n", s);
		free(s);
		json_decref(o);
		return;
	}
	fprintf(out, "%s %s\n", role, st->org);
	for (size_t i = 0; i < st->n; i++) {
		const struct line *l = &st->lines[i];
		fprintf(out, "  %-9s %-22s %s%s\n", l->section, l->key, l->value,
		        l->level == SP_STATUS_BAD ? "   <-- BAD" : l->level == SP_STATUS_WARN ? "   <-- warning" : "");
	}
	fprintf(out, "health: %s\n", worst == SP_STATUS_BAD ? "UNHEALTHY" : worst == SP_STATUS_WARN ? "ok (with warnings)" : "ok");
}

void sp_status_free(sp_status **stp)
{
	if (!stp || !*stp)
		return;
	free((*stp)->lines);
	json_decref((*stp)->root);
	json_decref((*stp)->times);
	free(*stp);
	*stp = NULL;
}

/* ---- Prometheus text format ------------------------------------------------
 * One row per metric: where its value lives in the report. Instants are unix
 * seconds (kept aside by sp_status_time). Labels: role and id (this daemon's
 * organisation), and org for the per-recipient rows. No pseudonyms, ever. */
enum { P_GAUGE, P_COUNTER };
static const struct prom {
	const char *sec, *key;     /* sec "org": per organisation; key ending _at: an instant */
	const char *name;
	int type;
	const char *help;
} prom_rows[] = {
	{ "daemon", "reachable", "seinpost_up", P_GAUGE, "1 when the daemon answered status over its local socket" },
	{ "daemon", "storage_failing", "seinpost_storage_failing", P_GAUGE, "1 while commits fail (disk or map full)" },
	{ "daemon", "storage_refused", "seinpost_storage_refused", P_GAUGE, "writes refused in the current storage episode" },
	{ "daemon", "signals_in", "seinpost_signals_in_total", P_COUNTER, "signals in since start (broker: accepted; node: received)" },
	{ "daemon", "signals_out", "seinpost_signals_out_total", P_COUNTER, "signals out since start (broker: delivered; node: submitted)" },
	{ "daemon", "signals_rejected", "seinpost_signals_rejected_total", P_COUNTER, "signals the broker rejected since start" },
	{ "daemon", "quarantined", "seinpost_quarantined_total", P_COUNTER, "deliveries quarantined since start" },
	{ "daemon", "commit_max_ms", "seinpost_commit_duration_max_seconds", P_GAUGE, "longest write commit since start (fsync included)" },
	{ "daemon", "readers_cleared", "seinpost_stale_readers_cleared_total", P_COUNTER, "stale LMDB reader slots cleared" },
	{ "daemon", "handshake_failures", "seinpost_handshake_failures_total", P_COUNTER, "CURVE handshakes with the broker that failed" },
	{ "daemon", "orgs_connected", "seinpost_orgs_connected", P_GAUGE, "organisations heard from in the last 10 s" },
	{ "daemon", "started_at", "seinpost_start_time_seconds", P_GAUGE, "when the daemon started (unix seconds)" },
	{ "store", "map_used_bytes", "seinpost_store_map_used_bytes", P_GAUGE, "LMDB map in use" },
	{ "store", "map_size_bytes", "seinpost_store_map_size_bytes", P_GAUGE, "LMDB map size" },
	{ "store", "last_commit_at", "seinpost_last_commit_time_seconds", P_GAUGE, "last write commit (unix seconds)" },
	{ "delivery", "undelivered", "seinpost_undelivered", P_GAUGE, "deliveries queued at the broker, all recipients" },
	{ "delivery", "oldest_undelivered_age_s", "seinpost_queue_oldest_age_seconds_max", P_GAUGE, "age of the oldest queued delivery" },
	{ "delivery", "signals_held", "seinpost_signals_held", P_GAUGE, "signals the broker holds (dedup index)" },
	{ "outbox", "pending", "seinpost_outbox_pending", P_GAUGE, "signals not yet answered by the broker" },
	{ "outbox", "oldest_pending_age_s", "seinpost_outbox_oldest_age_seconds", P_GAUGE, "age of the oldest unanswered signal" },
	{ "inbox", "received", "seinpost_inbox_signals", P_GAUGE, "signals held in the inbox" },
	{ "audit", "tree_head_age_s", "seinpost_tree_head_age_seconds", P_GAUGE, "age of the latest signed tree head (node: witnessed)" },
	{ "broker", "contact_age_s", "seinpost_broker_contact_age_seconds", P_GAUGE, "seconds since the last frame from the broker" },
	{ "broker", "last_contact_at", "seinpost_broker_last_contact_time_seconds", P_GAUGE, "last frame from the broker (unix seconds)" },
	{ "spool", "waiting", "seinpost_spool_waiting", P_GAUGE, "spool files waiting" },
	{ "spool", "oldest_age_s", "seinpost_spool_oldest_age_seconds", P_GAUGE, "age of the oldest waiting spool file" },
	{ "spool", "rejected", "seinpost_spool_rejected", P_GAUGE, "spool files in rejected/" },
	{ "hook", "pending", "seinpost_hook_pending", P_GAUGE, "deliveries waiting for the hand-over hook" },
	{ "hook", "oldest_age_s", "seinpost_hook_oldest_age_seconds", P_GAUGE, "age of the oldest hand-over waiting" },
	{ "org", "queue_depth", "seinpost_queue_depth", P_GAUGE, "deliveries queued for a recipient" },
	{ "org", "queue_oldest_age_s", "seinpost_queue_oldest_age_seconds", P_GAUGE, "age of a recipient's oldest queued delivery" },
	{ "org", "connected", "seinpost_org_connected", P_GAUGE, "1 when the organisation was heard in the last 10 s" },
	{ "org", "last_seen_at", "seinpost_org_last_seen_time_seconds", P_GAUGE, "last frame from the organisation (unix seconds)" },
};

/* Label values are org ids ([a-z0-9.-]) and roles; escape anyway. */
static void prom_label(FILE *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', out);
		if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

static int prom_value(const sp_status *st, const char *where, const json_t *v, double *out)
{
	const json_t *t;
	size_t n = strlen(where);
	if (n > 3 && strcmp(where + n - 3, "_at") == 0) {
		t = json_object_get(st->times, where);
		if (!t)
			return 0;
		*out = (double)json_integer_value(t);
		return 1;
	}
	if (json_is_boolean(v))
		*out = json_is_true(v);
	else if (json_is_number(v))
		*out = json_number_value(v);
	else
		return 0;
	return 1;
}

static void prom_line(FILE *out, const sp_status *st, const char *name, const char *org, double v)
{
	fprintf(out, "%s{role=\"%s\",id=\"", name, sp_config_role_name(st->role));
	prom_label(out, st->org);
	if (org) {
		fputs("\",org=\"", out);
		prom_label(out, org);
	}
	fprintf(out, "\"} %.10g\n", v);
}

void sp_status_prometheus(const sp_status *st, FILE *out)
{
	const json_t *orgs = json_object_get(st->root, "orgs");
	for (size_t r = 0; r < sizeof prom_rows / sizeof prom_rows[0]; r++) {
		const struct prom *p = &prom_rows[r];
		char where[200];
		double v;
		size_t n;
		int head = 0;
		if (strcmp(p->sec, "org") != 0) {
			const json_t *v0 = json_object_get(json_object_get(st->root, p->sec), p->key);
			snprintf(where, sizeof where, "%s/%s", p->sec, p->key);
			if (!v0 || !prom_value(st, where, v0, &v))
				continue;
			fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", p->name, p->help, p->name,
			        p->type == P_COUNTER ? "counter" : "gauge");
			/* Prometheus wants base units: milliseconds become seconds. */
			n = strlen(p->key);
			prom_line(out, st, p->name, NULL, n > 3 && strcmp(p->key + n - 3, "_ms") == 0 ? v / 1000 : v);
			continue;
		}
		size_t i;
		const json_t *o;
		json_array_foreach(orgs, i, o) {
			const char *org = json_string_value(json_object_get(o, "org"));
			const json_t *v0 = json_object_get(o, p->key);
			if (!org || !v0)
				continue;
			snprintf(where, sizeof where, "org:%s/%s", org, p->key);
			if (!prom_value(st, where, v0, &v))
				continue;
			if (!head++)
				fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", p->name, p->help, p->name);
			prom_line(out, st, p->name, org, v);
		}
	}
	/* Commit latency as a summary (sum and count): rate(sum)/rate(count)
	 * is the mean over any window. */
	const json_t *d = json_object_get(st->root, "daemon");
	const json_t *cs = json_object_get(d, "commit_sum_s"), *cn = json_object_get(d, "commits");
	if (cs && cn) {
		fputs("# HELP seinpost_commit_duration_seconds write commits (fsync included) since start\n"
		      "# TYPE seinpost_commit_duration_seconds summary\n", out);
		prom_line(out, st, "seinpost_commit_duration_seconds_sum", NULL, json_number_value(cs));
		prom_line(out, st, "seinpost_commit_duration_seconds_count", NULL, json_number_value(cn));
	}
	fputs("# HELP seinpost_healthy 1 when status finds nothing BAD\n# TYPE seinpost_healthy gauge\n", out);
	prom_line(out, st, "seinpost_healthy", NULL, sp_status_level(st) != SP_STATUS_BAD);
}
