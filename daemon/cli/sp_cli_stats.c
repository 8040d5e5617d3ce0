/*
 * sp_cli_stats.c — `seinpost stats`: trend figures for the M-VIK monitor,
 * from the broker's metadata only, with small-cell suppression (docs/stats.md).
 *
 * Counts "submitted" audit records per fixed calendar period (month or
 * quarter) and group (category, weight, sending role). Only complete
 * periods are shown: a period still running would change between two runs,
 * and the difference of two runs is a table of its own, unsuppressed. No
 * pseudonym, signal id or organisation id is printed.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seinpost.pb-c.h"
#include "sp_audit.h"
#include "sp_cli.h"
#include "sp_config.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "sp_stats.h"
#include "sp_store.h"
#include "sp_util.h"

enum { BY_CATEGORY = 1, BY_WEIGHT = 2, BY_ROLE = 4, BY_SOURCE = 8 };

struct stats_ctx {
	int quarter;
	int by;
	int year;              /* 0 = every complete period */
	char current[40];      /* the running period: excluded */
	const sp_roster *roster;
	sp_stats *t;
	char first[40], last[40];
	int rc;
};

static void period_of(uint64_t ms, int quarter, char *out, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	if (tm.tm_year < 0 || tm.tm_year > 8099)
		tm.tm_year = 0;
	if (quarter)
		snprintf(out, len, "%04d-Q%d", tm.tm_year + 1900, tm.tm_mon / 3 + 1);
	else
		snprintf(out, len, "%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
}

/* The period after p ("2026-12" -> "2027-01", "2026-Q4" -> "2027-Q1"). */
static void period_next(const char *p, int quarter, char *out, size_t len)
{
	int y = atoi(p), n = quarter ? atoi(p + 6) : atoi(p + 5);
	int max = quarter ? 4 : 12;
	if (++n > max) {
		n = 1;
		y++;
	}
	if (y < 0 || y > 9999 || n < 1 || n > max)
		y = 9999, n = max; /* cannot happen for periods made by period_of */
	if (quarter)
		snprintf(out, len, "%04d-Q%d", y, n);
	else
		snprintf(out, len, "%04d-%02d", y, n);
}

static void group_of(const struct stats_ctx *c, const Seinpost__AuditRecord *r, char *out, size_t len)
{
	const sp_org *o = sp_roster_find(c->roster, r->actor);
	size_t n = 0;
	out[0] = '\0';
	if (c->by & BY_CATEGORY)
		n += (size_t)snprintf(out + n, len - n, "%s", r->category);
	if ((c->by & BY_WEIGHT) && n < len)
		n += (size_t)snprintf(out + n, len - n, "%sw%u", n ? " " : "", r->weight);
	if ((c->by & BY_ROLE) && n < len)
		n += (size_t)snprintf(out + n, len - n, "%s%s", n ? " " : "", o ? o->role : "(left the network)");
	/* The broker marks an anonymous resident report's SUBMITTED record. */
	if ((c->by & BY_SOURCE) && n < len)
		snprintf(out + n, len - n, "%s%s", n ? " " : "",
		         strcmp(r->reason, "resident report") == 0 ? "resident-report" : "partner-signal");
	if (!out[0])
		snprintf(out, len, "all");
}

static int visit(void *ctx, const Seinpost__AuditRecord *r)
{
	struct stats_ctx *c = ctx;
	char period[40], group[160];
	if (r->event != SEINPOST__AUDIT_EVENT__AUDIT_SUBMITTED)
		return 0;
	period_of(r->time, c->quarter, period, sizeof period);
	if (strcmp(period, c->current) >= 0)
		return 0; /* running (or, with a stepped clock, future) period */
	if (c->year && atoi(period) != c->year)
		return 0;
	group_of(c, r, group, sizeof group);
	if (!c->first[0] || strcmp(period, c->first) < 0)
		snprintf(c->first, sizeof c->first, "%s", period);
	if (strcmp(period, c->last) > 0)
		snprintf(c->last, sizeof c->last, "%s", period);
	if ((c->rc = sp_stats_add(c->t, period, group)) != SP_OK)
		return 1;
	return 0;
}

static void cell_text(const sp_stats *t, size_t i, size_t j, unsigned k, char *out, size_t len)
{
	uint64_t v;
	if (sp_stats_get(t, i, j, &v))
		snprintf(out, len, "%llu", (unsigned long long)v);
	else
		snprintf(out, len, "<%u", k);
}

static void print_text(const sp_stats *t, const struct stats_ctx *c, unsigned k)
{
	size_t np = sp_stats_periods(t), ng = sp_stats_groups(t), w = 5;
	char cell[32];
	for (size_t j = 0; j < ng; j++)
		if (strlen(sp_stats_group(t, j)) > w)
			w = strlen(sp_stats_group(t, j));
	printf("Signals submitted per %s (broker metadata; counts below %u shown as \"<%u\",\n"
	       "and further cells hidden where a hidden count could be worked out from the totals)\n\n",
	       c->quarter ? "quarter" : "month", k, k);
	printf("%-*s", (int)w, "");
	for (size_t i = 0; i < np; i++)
		printf(" %8s", sp_stats_period(t, i));
	printf(" %8s\n", "total");
	for (size_t j = 0; j <= ng; j++) {
		size_t gj = j == ng ? SP_STATS_TOTAL : j;
		printf("%-*s", (int)w, j == ng ? "total" : sp_stats_group(t, j));
		for (size_t i = 0; i <= np; i++) {
			cell_text(t, i == np ? SP_STATS_TOTAL : i, gj, k, cell, sizeof cell);
			printf(" %8s", cell);
		}
		putchar('\n');
	}
}

static json_t *count_json(const sp_stats *t, size_t i, size_t j)
{
	uint64_t v;
	return sp_stats_get(t, i, j, &v) ? json_integer((json_int_t)v) : json_null();
}

static void print_json(const sp_stats *t, const struct stats_ctx *c, unsigned k)
{
	size_t np = sp_stats_periods(t), ng = sp_stats_groups(t);
	char now[32];
	json_t *o = json_object(), *periods = json_array(), *groups = json_array(), *rows = json_array();
	sp_iso_time(sp_now_ms(), now, sizeof now);
	json_object_set_new(o, "generated_at", json_string(now));
	json_object_set_new(o, "period", json_string(c->quarter ? "quarter" : "month"));
	json_t *by = json_array();
	if (c->by & BY_CATEGORY)
		json_array_append_new(by, json_string("category"));
	if (c->by & BY_WEIGHT)
		json_array_append_new(by, json_string("weight"));
	if (c->by & BY_ROLE)
		json_array_append_new(by, json_string("role"));
	if (c->by & BY_SOURCE)
		json_array_append_new(by, json_string("source"));
	json_object_set_new(o, "by", by);
	json_object_set_new(o, "min_cell", json_integer(k));
	json_object_set_new(o, "hidden_count", json_integer((json_int_t)sp_stats_hidden(t)));
	for (size_t i = 0; i < np; i++)
		json_array_append_new(periods, json_string(sp_stats_period(t, i)));
	for (size_t j = 0; j < ng; j++)
		json_array_append_new(groups, json_string(sp_stats_group(t, j)));
	json_object_set_new(o, "periods", periods);
	json_object_set_new(o, "groups", groups);
	/* counts[g][p]: null where suppressed */
	for (size_t j = 0; j < ng; j++) {
		json_t *row = json_array();
		for (size_t i = 0; i < np; i++)
			json_array_append_new(row, count_json(t, i, j));
		json_array_append_new(rows, row);
	}
	json_object_set_new(o, "counts", rows);
	json_t *pt = json_array(), *gt = json_array();
	for (size_t i = 0; i < np; i++)
		json_array_append_new(pt, count_json(t, i, SP_STATS_TOTAL));
	for (size_t j = 0; j < ng; j++)
		json_array_append_new(gt, count_json(t, SP_STATS_TOTAL, j));
	json_object_set_new(o, "period_totals", pt);
	json_object_set_new(o, "group_totals", gt);
	json_object_set_new(o, "total", count_json(t, SP_STATS_TOTAL, SP_STATS_TOTAL));
	char *s = json_dumps(o, JSON_INDENT(2));
	puts(s);
	free(s);
	json_decref(o);
}

static void csv_field(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void print_csv(const sp_stats *t, unsigned k)
{
	size_t np = sp_stats_periods(t), ng = sp_stats_groups(t);
	char cell[32];
	printf("period,group,count\n");
	for (size_t i = 0; i <= np; i++)
		for (size_t j = 0; j <= ng; j++) {
			csv_field(i == np ? "total" : sp_stats_period(t, i));
			putchar(',');
			csv_field(j == ng ? "total" : sp_stats_group(t, j));
			cell_text(t, i == np ? SP_STATS_TOTAL : i, j == ng ? SP_STATS_TOTAL : j, k, cell, sizeof cell);
			printf(",%s\n", cell);
		}
}

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else
			fputc(*s, f);
	}
}

/* A grouped bar chart: per period one bar per group; a hidden count is a
 * hatched stub labelled "<k", never a bar of a guessed height. */
static int write_svg(const sp_stats *t, const struct stats_ctx *c, unsigned k, const char *path)
{
	static const char *colours[] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
	                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };
	size_t np = sp_stats_periods(t), ng = sp_stats_groups(t);
	uint64_t max = 1, v;
	for (size_t i = 0; i < np; i++)
		for (size_t j = 0; j < ng; j++)
			if (sp_stats_get(t, i, j, &v) && v > max)
				max = v;
	const int bar = 14, gap = 24, left = 60, top = 50, height = 300;
	int legend_h = 20 * (int)ng + 20;
	int width = left + (int)np * ((int)ng * bar + gap) + 40;
	if (width < 520)
		width = 520;
	/* Built in memory, then written whole (temporary file, no symlink
	 * followed, renamed into place): a half chart is never left behind. */
	char *doc = NULL;
	size_t doclen = 0;
	FILE *f = open_memstream(&doc, &doclen);
	if (!f) {
		perror("seinpost stats");
		return 1;
	}
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	           "font-family=\"sans-serif\" font-size=\"12\">\n", width, top + height + 60 + legend_h);
	fprintf(f, "<defs><pattern id=\"hidden\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
	           "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#eee\"/>"
	           "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#999\" stroke-width=\"2\"/></pattern></defs>\n");
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(f, "<text x=\"%d\" y=\"24\" font-size=\"16\">Signals per %s (counts below %u hidden)</text>\n",
	        left, c->quarter ? "quarter" : "month", k);
	/* axis with four gridlines */
	for (int g = 0; g <= 4; g++) {
		int y = top + height - g * height / 4;
		fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>", left, y, width - 20, y);
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%llu</text>\n", left - 6, y + 4,
		        (unsigned long long)(max * (uint64_t)g / 4));
	}
	for (size_t i = 0; i < np; i++) {
		int x0 = left + 10 + (int)i * ((int)ng * bar + gap);
		for (size_t j = 0; j < ng; j++) {
			int x = x0 + (int)j * bar;
			if (sp_stats_get(t, i, j, &v)) {
				int h = (int)((double)v / (double)max * height);
				fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\">"
				           "<title>%s: %llu</title></rect>\n",
				        x, top + height - h, bar - 2, h, colours[j % 10], sp_stats_period(t, i),
				        (unsigned long long)v);
			} else {
				fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"12\" fill=\"url(#hidden)\" "
				           "stroke=\"%s\"/><text x=\"%d\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\">"
				           "&lt;%u</text>\n",
				        x, top + height - 12, bar - 2, colours[j % 10], x + bar / 2 - 1, top + height - 15, k);
			}
		}
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x0 + (int)ng * bar / 2,
		        top + height + 18, sp_stats_period(t, i));
	}
	for (size_t j = 0; j < ng; j++) {
		int y = top + height + 44 + (int)j * 20;
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">",
		        left, y, colours[j % 10], left + 18, y + 11);
		xml_text(f, sp_stats_group(t, j));
		fprintf(f, "</text>\n");
	}
	fprintf(f, "</svg>\n");
	if (fclose(f) != 0) {
		free(doc);
		perror("seinpost stats");
		return 1;
	}
	int rc = sp_file_write(path, doc, doclen, 0644);
	free(doc);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost stats: cannot write %s: %s\n", path, sp_strerror(rc));
		return 1;
	}
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: seinpost --config BROKER.ini stats [--period month|quarter] [--year YYYY]\n"
	             "                [--by category,weight,role,source] [--json | --csv | --svg FILE]\n"
	             "Signals submitted per complete calendar period, from the broker's metadata;\n"
	             "small cells hidden (policy: stats_min_cell, default 5). See docs/stats.md.\n");
}

int sp_cli_stats(const char *cfg_path, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "period", required_argument, NULL, 'p' }, { "by", required_argument, NULL, 'b' },
		{ "year", required_argument, NULL, 'y' },   { "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },          { "svg", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	struct stats_ctx c = { .by = BY_CATEGORY };
	int json = 0, csv = 0, o, status = 1, rc;
	const char *svg = NULL;
	sp_config cfg;
	sp_roster *roster = NULL;
	sp_policy *policy = NULL;
	sp_store *st = NULL;
	char err[512];

	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			if (strcmp(optarg, "month") == 0)
				c.quarter = 0;
			else if (strcmp(optarg, "quarter") == 0)
				c.quarter = 1;
			else {
				fprintf(stderr, "seinpost stats: --period must be month or quarter (fixed periods only: "
				                "free date ranges would let a reader recover hidden cells)\n");
				return 2;
			}
			break;
		case 'b': {
			c.by = 0;
			char buf[128];
			snprintf(buf, sizeof buf, "%s", optarg);
			for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
				if (strcmp(w, "category") == 0)
					c.by |= BY_CATEGORY;
				else if (strcmp(w, "weight") == 0)
					c.by |= BY_WEIGHT;
				else if (strcmp(w, "role") == 0)
					c.by |= BY_ROLE;
				else if (strcmp(w, "source") == 0)
					c.by |= BY_SOURCE;
				else {
					fprintf(stderr, "seinpost stats: --by takes category, weight, role and source, "
					                "comma-separated\n");
					return 2;
				}
			}
			break;
		}
		case 'y':
			c.year = atoi(optarg);
			if (c.year < 2000 || c.year > 9999) {
				fprintf(stderr, "seinpost stats: --year must be a year such as 2026\n");
				return 2;
			}
			break;
		case 'j': json = 1; break;
		case 'c': csv = 1; break;
		case 's': svg = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || json + csv + (svg != NULL) > 1) {
		usage(stderr);
		return 2;
	}
	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return rc;
	if (cfg.role != SP_RUN_BROKER) {
		fprintf(stderr, "seinpost stats: runs on the broker's configuration (the figures come from its "
		                "metadata)\n");
		return 2;
	}
	if ((rc = sp_roster_load(cfg.roster_path, cfg.operator_pk, &roster)) != SP_OK) {
		fprintf(stderr, "seinpost stats: roster %s: %s\n", cfg.roster_path, sp_strerror(rc));
		goto out;
	}
	if (sp_policy_load(cfg.policy_path, &policy, err, sizeof err) != SP_OK) {
		fprintf(stderr, "seinpost stats: %s\n", err);
		goto out;
	}
	unsigned k = sp_policy_stats_min_cell(policy);
	if ((rc = sp_store_open(cfg.state_dir, cfg.map_size, SP_STORE_RDONLY, &st)) != SP_OK) {
		fprintf(stderr, "seinpost stats: state %s: %s\n", cfg.state_dir, sp_strerror(rc));
		goto out;
	}
	if (sp_stats_new(&c.t) != SP_OK)
		goto out;
	c.roster = roster;
	period_of(sp_now_ms(), c.quarter, c.current, sizeof c.current);
	if (sp_audit_foreach(st, 1, visit, &c) != SP_OK || c.rc != SP_OK) {
		fprintf(stderr, "seinpost stats: cannot read the audit log\n");
		goto out;
	}
	/* Every period between the first and the last is a row, zeros included;
	 * with --year, every complete period of that year. */
	if (c.year) {
		snprintf(c.first, sizeof c.first, c.quarter ? "%04d-Q1" : "%04d-01", c.year);
		snprintf(c.last, sizeof c.last, c.quarter ? "%04d-Q4" : "%04d-12", c.year);
	}
	if (c.first[0]) {
		char p[40];
		snprintf(p, sizeof p, "%s", c.first);
		while (strcmp(p, c.last) <= 0 && strcmp(p, c.current) < 0) {
			if (sp_stats_touch_period(c.t, p) != SP_OK)
				goto out;
			period_next(p, c.quarter, p, sizeof p);
		}
	}
	sp_stats_suppress(c.t, k);
	if (sp_stats_periods(c.t) == 0 && !json && !csv && !svg) {
		printf("No complete %s with signals yet (the running one is never shown).\n",
		       c.quarter ? "quarter" : "month");
		status = 0;
		goto out;
	}
	if (json)
		print_json(c.t, &c, k);
	else if (csv)
		print_csv(c.t, k);
	else if (svg) {
		if (write_svg(c.t, &c, k, svg) != 0)
			goto out;
		printf("wrote %s (%zu periods, %zu groups, %zu counts hidden)\n", svg, sp_stats_periods(c.t),
		       sp_stats_groups(c.t), sp_stats_hidden(c.t));
	} else
		print_text(c.t, &c, k);
	status = 0;
out:
	sp_stats_free(&c.t);
	sp_store_close(&st);
	sp_policy_free(&policy);
	sp_roster_free(&roster);
	return status;
}
