/* sp_status.c — health report: lines, output, the daemons' alert file.
 * The provider table and the collection are the CLI's (cli/sp_status_collect.c):
 * they reach into node and broker code, which common/ must not. */
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
};


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

int sp_status_new(int role, const char *org, sp_status **out)
{
	sp_status *st = calloc(1, sizeof *st);
	*out = NULL;
	if (!st)
		return SP_ENOMEM;
	st->role = role;
	snprintf(st->org, sizeof st->org, "%s", org);
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
	const char *role = st->role == SP_RUN_BROKER ? "broker" : "node";
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
