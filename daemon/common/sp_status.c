/* sp_status.c — health report: provider table, collection, output. */
#include "sp_status.h"
#include "sp_oprfsvc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_hook.h"
#include "sp_spool.h"
#include "sp_util.h"
#include "sp_witness.h"

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
};

#define ROLE_ANY (SP_RUN_BROKER | SP_RUN_NODE | SP_RUN_PSEUDONYMISER)

void sp_status_alert(const char *state_dir, const char *why)
{
	char path[4200];
	if (sp_path_join(state_dir, "alert", path, sizeof path) != SP_OK)
		return;
	if (!why) {
		(void)unlink(path);
		return;
	}
	if (sp_file_write(path, why, strlen(why), 0600) != SP_OK)
		return; /* best effort: the journal has the alert */
}

static int alert_line(const sp_status_src *src, sp_status *st)
{
	char path[4200];
	uint8_t *buf = NULL;
	size_t len;
	int rc;
	if (sp_path_join(src->cfg->state_dir, "alert", path, sizeof path) != SP_OK ||
	    sp_file_read(path, 1024, &buf, &len) != SP_OK)
		return SP_OK;
	rc = sp_status_add(st, "daemon", "alert", SP_STATUS_BAD, "%.*s", (int)len, (const char *)buf);
	free(buf);
	return rc;
}

/* A node's view of the broker's audit history (witnessing): an alarm means
 * the broker's log shrank or forked, and makes `status` exit non-zero. */
static int witness_line(const sp_status_src *src, sp_status *st)
{
	sp_witness_state w;
	char root[17];
	if (sp_witness_status(src->store, &w) != SP_OK)
		return SP_OK;
	if (w.alarm)
		return sp_status_add(st, "audit", "witness", SP_STATUS_BAD, "ALARM: %s", w.reason);
	if (!w.have_head)
		return sp_status_add(st, "audit", "witness", SP_STATUS_OK, "no signed tree head seen yet");
	return sp_status_add(st, "audit", "witness", SP_STATUS_OK,
	                     "broker history consistent up to %llu records (root %s…, %llu heads checked)",
	                     (unsigned long long)w.size, sp_hex(w.root, 8, root), (unsigned long long)w.checked);
}

/* One entry per concern. A feature adds its lines by adding a row here. */
static const struct {
	int roles;
	sp_status_provider_fn fn;
} providers[] = {
	{ ROLE_ANY, alert_line },
	{ ROLE_ANY, sp_status_store },
	{ SP_RUN_BROKER, sp_status_broker_queues },
	{ SP_RUN_NODE, sp_status_node_outbox },
	{ SP_RUN_NODE, witness_line },
	{ SP_RUN_NODE, sp_status_hook },
	{ SP_RUN_NODE, sp_spool_status },
	{ SP_RUN_PSEUDONYMISER, sp_oprfsvc_status },
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

int sp_status_collect(const sp_config *c, const sp_status_opts *o, sp_status **out)
{
	sp_status *st = NULL;
	sp_store *s = NULL;
	sp_txn *t = NULL;
	sp_status_opts opts = *o;
	int rc;

	*out = NULL;
	if (!opts.now_ms)
		opts.now_ms = sp_now_ms();
	st = calloc(1, sizeof *st);
	if (!st)
		return SP_ENOMEM;
	st->role = c->role;
	snprintf(st->org, sizeof st->org, "%s", c->org);
	rc = sp_store_open(c->state_dir, c->map_size, SP_STORE_RDONLY, &s);
	if (rc == SP_OK)
		rc = sp_txn_begin(s, 0, &t);
	if (rc != SP_OK) {
		/* Still a report: the reason is the one BAD line. */
		rc = sp_status_add(st, "store", "state", SP_STATUS_BAD, "%s: %s (%s)", c->state_dir,
		                   sp_strerror(rc), sp_store_last_error());
		goto out;
	}
	sp_status_src src = { .cfg = c, .opts = &opts, .store = s, .txn = t };
	for (size_t i = 0; i < sizeof providers / sizeof providers[0]; i++) {
		if (!(providers[i].roles & c->role))
			continue;
		rc = providers[i].fn(&src, st);
		if (rc != SP_OK) {
			rc = sp_status_add(st, "status", "error", SP_STATUS_BAD, "a status provider failed: %s",
			                   sp_strerror(rc));
			if (rc != SP_OK)
				goto out;
		}
	}
	rc = SP_OK;
out:
	sp_txn_abort(&t);
	sp_store_close(&s);
	if (rc != SP_OK) {
		sp_status_free(&st);
		return rc;
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
		json_t *o = json_pack("{s:s,s:s,s:s,s:b}", "role", role, "org", st->org,
		                      "health", level_name(worst), "healthy", worst != SP_STATUS_BAD);
		json_t *arr = json_array();
		for (size_t i = 0; i < st->n; i++)
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "section", st->lines[i].section,
			                                     "key", st->lines[i].key, "value", st->lines[i].value,
			                                     "level", level_name(st->lines[i].level)));
		json_object_set_new(o, "lines", arr);
		char *s = json_dumps(o, JSON_INDENT(2));
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
	free(*stp);
	*stp = NULL;
}
