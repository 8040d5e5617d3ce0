/*
 * sp_report_art15.c — the AVG art. 15 report for the person it is about
 * (sp_report.h, docs/art15.md): a self-contained HTML page in Dutch or
 * English, and the same items in the JSON report.
 *
 * Each disclosure is listed once. The broker writes two records for most
 * of them: "released" when it makes a tier available (an involvement, a
 * match, an escalation) and "delivered" when the recipient acknowledged
 * it. A delivered record is paired with the oldest unpaired release of the
 * same signal to the same organisation; a release without delivery is a
 * disclosure not yet collected; reads are attached to the latest
 * disclosure they follow. The words are in sp_report_lang.c; nothing that
 * identifies a record (signal id, sequence number, pseudonym, hash) or an
 * employee reaches the HTML.
 */
#include "sp_report.h"
#include "sp_report_entry.h"

#include <stdlib.h>
#include <string.h>

#include "sp_audit.h"
#include "sp_policy.h"
#include "sp_policy_report.h"
#include "sp_reads.h"
#include "sp_render.h"
#include "sp_report_lang.h"
#include "sp_util.h"

/* The report's sentences are printf formats from the static table in
 * sp_report_lang.c (never from a record or a file). */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

/* ---- the art. 15 report: each disclosure once, in plain words ------------- */

enum via { VIA_IMMEDIATE, VIA_INVOLVED, VIA_MATCH, VIA_ESCALATION };

struct disc {
	const struct entry *rel, *del; /* "released", "delivered" (either may be NULL) */
	uint64_t opened, system;       /* first read by a person / by the organisation's own system */
	unsigned reads;
};

static int is(const struct entry *e, int ev)
{
	return e->event == ev;
}

static const struct entry *disc_main(const struct disc *d)
{
	return d->del ? d->del : d->rel;
}

static int same_key(const struct entry *a, const struct entry *b)
{
	return strcmp(a->signal, b->signal) == 0 && strcmp(a->org, b->org) == 0;
}

/* The disclosures of a sorted report; *out owned by the caller. */
static size_t disclosures(const sp_report *r, struct disc **out)
{
	struct disc *d = calloc(r->n ? r->n : 1, sizeof *d);
	size_t n = 0;
	*out = d;
	if (!d)
		return 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct entry *e = &r->e[i];
		size_t k;
		if (is(e, SEINPOST__AUDIT_EVENT__AUDIT_RELEASED)) {
			d[n++].rel = e;
		} else if (is(e, SEINPOST__AUDIT_EVENT__AUDIT_DELIVERED)) {
			for (k = 0; k < n; k++)
				if (d[k].rel && !d[k].del && same_key(d[k].rel, e))
					break;
			if (k == n)
				n++;
			d[k].del = e;
		} else if (is(e, SEINPOST__AUDIT_EVENT__AUDIT_READ)) {
			size_t best = n;
			/* the latest disclosure it follows; else the first (the reader's clock) */
			for (k = 0; k < n; k++)
				if (same_key(disc_main(&d[k]), e) && (best == n || disc_main(&d[k])->time <= e->time))
					best = k;
			if (best == n)
				continue;
			if (strncmp(e->user, SP_READ_SYSTEM_PREFIX, strlen(SP_READ_SYSTEM_PREFIX)) == 0) {
				if (!d[best].system)
					d[best].system = e->time;
			} else {
				if (!d[best].opened)
					d[best].opened = e->time;
				d[best].reads++;
			}
		}
	}
	return n;
}

static enum via disc_via(const struct disc *d)
{
	if (!d->rel)
		return VIA_IMMEDIATE;
	if (strncmp(d->rel->reason, "escalation", 10) == 0)
		return VIA_ESCALATION;
	if (strstr(d->rel->reason, "match"))
		return VIA_MATCH;
	return VIA_INVOLVED;
}

static const char *via_key(enum via v)
{
	static const char *const k[] = { "immediately", "involvement", "match", "escalation" };
	return k[v];
}

static const char *T(const sp_report *r, enum sp_report_msg m)
{
	return sp_report_t(r->lang, m);
}

static const char *org_name(const sp_report *r, const char *org)
{
	const char *n = r->policy ? sp_policy_report_org_name(sp_policy_report_of(r->policy), org) : NULL;
	return n ? n : org;
}

static const char *category_name(const sp_report *r, const char *cat)
{
	const sp_policy_category *c;
	/* [report] category.ID is the Dutch name; English reads the description */
	const char *n = r->policy && r->lang == SP_LANG_NL
	                ? sp_policy_report_category_name(sp_policy_report_of(r->policy), cat) : NULL;
	if (n)
		return n;
	c = r->policy ? sp_policy_category_find(r->policy, cat) : NULL;
	return c && c->description ? c->description : cat;
}

static const char *weight_text(const sp_report *r, uint32_t w)
{
	return T(r, w >= 3 ? M_WEIGHT_3 : w == 2 ? M_WEIGHT_2 : M_WEIGHT_1);
}

/* The rule, basis and purpose of a disclosure: the grant rule the delivery
 * carried, else the release's (an escalation rule). */
static const struct entry *disc_rule(const struct disc *d)
{
	return d->del && d->del->rule[0] ? d->del : d->rel ? d->rel : d->del;
}

static const char *purpose_of(const sp_report *r, const char *rule)
{
	const sp_policy_rule *pr;
	if (!r->policy || !rule[0])
		return NULL;
	if ((pr = sp_policy_rule_find(r->policy, rule)) != NULL)
		return pr->purpose;
	for (size_t i = 0; i < sp_policy_escalation_count(r->policy); i++)
		if (strcmp(sp_policy_escalation_at(r->policy, i)->id, rule) == 0)
			return sp_policy_escalation_at(r->policy, i)->purpose;
	return NULL;
}

/* "a, b en c" of the tier words. */
static void shared_text(const sp_report *r, uint32_t mask, char *out, size_t len)
{
	static const enum sp_report_msg words[SP_TIER_COUNT] = { M_TIER_EXISTENCE, M_TIER_CONTACT, M_TIER_SUMMARY,
	                                                         M_TIER_FULL };
	int n = 0, total = 0;
	size_t o = 0;
	out[0] = '\0';
	for (int t = 0; t < SP_TIER_COUNT; t++)
		total += !!(mask & (1u << t));
	for (int t = 0; t < SP_TIER_COUNT; t++) {
		if (!(mask & (1u << t)))
			continue;
		n++;
		if (n > 1 && n == total)
			o += (size_t)snprintf(out + o, len > o ? len - o : 0, " %s ", T(r, M_AND));
		else if (n > 1)
			o += (size_t)snprintf(out + o, len > o ? len - o : 0, ", ");
		o += (size_t)snprintf(out + o, len > o ? len - o : 0, "%s", T(r, words[t]));
	}
}

static const char *status_word(const sp_report *r, const char *reason)
{
	static const struct { const char *s; enum sp_report_msg m; } st[] = {
		{ "accepted", M_ST_ACCEPTED }, { "in-progress", M_ST_IN_PROGRESS },
		{ "intervention", M_ST_INTERVENTION }, { "declined", M_ST_DECLINED },
		{ "scaled-down", M_ST_SCALED_DOWN }, { "closed", M_ST_CLOSED },
	};
	size_t n = strcspn(reason, " :");
	for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
		if (strlen(st[i].s) == n && strncmp(reason, st[i].s, n) == 0)
			return T(r, st[i].m);
	return T(r, M_ST_OTHER);
}

static void esc(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default: fputc(*s, out);
		}
	}
}

/* A text of the table with its %s filled, escaped. */
static void say(FILE *out, const char *fmt, const char *a, const char *b, const char *c, const char *d)
{
	char buf[1400];
	snprintf(buf, sizeof buf, fmt, a ? a : "", b ? b : "", c ? c : "", d ? d : "");
	esc(out, buf);
}

static void h2(FILE *out, const char *cls, const char *text)
{
	fprintf(out, "<section class=\"%s\"><h2>", cls);
	esc(out, text);
	fputs("</h2>\n", out);
}

static void period(const sp_report *r, uint64_t s, char *out, size_t len)
{
	if (s >= 86400)
		snprintf(out, len, T(r, M_DAYS), (unsigned long long)(s / 86400));
	else
		snprintf(out, len, T(r, M_HOURS), (unsigned long long)((s + 3599) / 3600));
}

/* Distinct (category, weight) of the signals about the subject. */
static size_t signalled(const sp_report *r, const struct entry **v, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n && n < max; i++) {
		const struct entry *e = &r->e[i];
		size_t k;
		if (!is(e, SEINPOST__AUDIT_EVENT__AUDIT_SUBMITTED) && !is(e, SEINPOST__AUDIT_EVENT__AUDIT_DELIVERED) &&
		    !is(e, SEINPOST__AUDIT_EVENT__AUDIT_RELEASED))
			continue;
		if (!e->category[0])
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(v[k]->category, e->category) == 0 && v[k]->weight == e->weight)
				break;
		if (k == n)
			v[n++] = e;
	}
	return n;
}

static int any_event(const sp_report *r, int ev)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->e[i].event == ev)
			return 1;
	return 0;
}

static void html_disclosures(const sp_report *r, FILE *out, const struct disc *d, size_t nd)
{
	char t[64], words[600], line[200];
	h2(out, "recipients", T(r, M_H_RECIPIENTS));
	if (!nd) {
		fprintf(out, "<p>%s</p>\n</section>\n", T(r, M_NONE_SHARED));
		return;
	}
	fprintf(out, "<p>%s</p>\n<table class=\"disclosures\"><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
	        "<th>%s</th><th>%s</th></tr>\n", T(r, M_RECIPIENTS_INTRO), T(r, M_COL_WHEN), T(r, M_COL_TO),
	        T(r, M_COL_WHAT), T(r, M_COL_WHY), T(r, M_COL_BASIS), T(r, M_COL_OPENED));
	for (size_t i = 0; i < nd; i++) {
		const struct entry *m = disc_main(&d[i]), *ru = disc_rule(&d[i]);
		static const enum sp_report_msg via[] = { M_VIA_IMMEDIATE, M_VIA_INVOLVED, M_VIA_MATCH, M_VIA_ESCALATION };
		const char *purpose = purpose_of(r, ru->rule);
		fputs("<tr class=\"disclosure\"><td>", out);
		esc(out, sp_report_date(r->lang, m->time, t, sizeof t));
		fputs("</td><td>", out);
		esc(out, org_name(r, m->org));
		fputs("</td><td>", out);
		shared_text(r, m->tiers, words, sizeof words);
		esc(out, words);
		fputs(" <span class=\"cat\">(", out);
		esc(out, category_name(r, m->category));
		fputs(")</span></td><td>", out);
		esc(out, T(r, via[disc_via(&d[i])]));
		if (purpose) {
			fputs("<br><span class=\"purpose\">", out);
			esc(out, purpose);
			fputs("</span>", out);
		}
		fputs("</td><td>", out);
		esc(out, ru->basis[0] ? ru->basis : T(r, M_NOT_STATED));
		if (ru->rule[0]) {
			fprintf(out, "<br><span class=\"rule\">%s ", T(r, M_RULE));
			esc(out, ru->rule);
			fputs("</span>", out);
		}
		fputs("</td><td>", out);
		if (!d[i].del) {
			snprintf(line, sizeof line, T(r, M_PENDING), sp_report_date(r->lang, m->time, t, sizeof t));
			esc(out, line);
		} else {
			if (d[i].opened)
				snprintf(line, sizeof line, T(r, M_OPENED_AT), sp_report_date(r->lang, d[i].opened, t, sizeof t));
			else
				snprintf(line, sizeof line, "%s", T(r, M_NOT_OPENED));
			esc(out, line);
			if (d[i].system) {
				snprintf(line, sizeof line, T(r, M_SYSTEM_AT), sp_report_date(r->lang, d[i].system, t, sizeof t));
				fputs("<br>", out);
				esc(out, line);
			}
		}
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n</section>\n", out);
}

static void html_sources(const sp_report *r, FILE *out)
{
	char t[64];
	int any = 0;
	h2(out, "source", T(r, M_H_SOURCE));
	fputs("<ul>\n", out);
	for (size_t i = 0; i < r->n; i++) {
		const struct entry *e = &r->e[i];
		enum sp_report_msg m;
		if (is(e, SEINPOST__AUDIT_EVENT__AUDIT_SUBMITTED))
			m = M_SOURCE_SIGNAL, any = 1;
		else if (is(e, SEINPOST__AUDIT_EVENT__AUDIT_INVOLVED))
			m = M_SOURCE_INVOLVED;
		else if (is(e, SEINPOST__AUDIT_EVENT__AUDIT_UNINVOLVED))
			m = M_SOURCE_UNINVOLVED;
		else if (is(e, SEINPOST__AUDIT_EVENT__AUDIT_REJECTED))
			m = M_SOURCE_REFUSED;
		else
			continue;
		sp_report_date(r->lang, e->time, t, sizeof t);
		fputs("<li>", out);
		say(out, T(r, m), org_name(r, e->org), t, weight_text(r, e->weight), category_name(r, e->category));
		fputs("</li>\n", out);
	}
	fputs("</ul>\n", out);
	if (!any)
		fprintf(out, "<p>%s</p>\n", T(r, M_SOURCE_NONE));
	fputs("</section>\n", out);
}

static void html_events(const sp_report *r, FILE *out)
{
	char t[64];
	h2(out, "events", T(r, M_H_EVENTS));
	fputs("<ul>\n", out);
	for (size_t i = 0; i < r->n; i++) {
		const struct entry *e = &r->e[i];
		sp_report_date(r->lang, e->time, t, sizeof t);
		switch (e->event) {
		case SEINPOST__AUDIT_EVENT__AUDIT_ESCALATED:
			fputs("<li>", out); say(out, T(r, M_EV_ESCALATED), t, NULL, NULL, NULL); fputs("</li>\n", out);
			break;
		case SEINPOST__AUDIT_EVENT__AUDIT_REFERRAL_STATUS:
			fputs("<li>", out);
			say(out, T(r, M_EV_STATUS), t, org_name(r, e->org), status_word(r, e->reason), NULL);
			fputs("</li>\n", out);
			break;
		case SEINPOST__AUDIT_EVENT__AUDIT_REFERRAL_MOVED: {
			/* e->rule is "RULE: up lwo -> mot": the move without the rule id */
			const char *mv = strstr(e->rule, ": ");
			fputs("<li>", out);
			say(out, T(r, M_EV_MOVED), t, org_name(r, e->org), mv ? mv + 2 : e->rule, NULL);
			fputs("</li>\n", out);
			break;
		}
		case SEINPOST__AUDIT_EVENT__AUDIT_MATCHED:
			fputs("<li>", out); say(out, T(r, M_EV_MATCHED), t, org_name(r, e->org), NULL, NULL);
			fputs("</li>\n", out);
			break;
		case SEINPOST__AUDIT_EVENT__AUDIT_QUERY:
			fputs("<li>", out); say(out, T(r, M_EV_QUERY), t, org_name(r, e->org), NULL, NULL);
			fputs("</li>\n", out);
			break;
		case SEINPOST__AUDIT_EVENT__AUDIT_ALIAS_LINKED:
			fputs("<li>", out); say(out, T(r, M_EV_ALIAS), t, org_name(r, e->org), NULL, NULL);
			fputs("</li>\n", out);
			break;
		case SEINPOST__AUDIT_EVENT__AUDIT_WITHDRAWN: /* docs/casework.md, "Withdrawal" */
			fputs("<li>", out); say(out, T(r, M_EV_WITHDRAWN), t, org_name(r, e->org), NULL, NULL);
			fputs("</li>\n", out);
			break;
		default:
			if (e->extra) {
				fputs("<li>", out);
				say(out, T(r, M_EV_OTHER), t, sp_audit_event_name(e->event), org_name(r, e->org), NULL);
				fputs("</li>\n", out);
			}
		}
	}
	fputs("</ul>\n</section>\n", out);
}

static void html_retention(const sp_report *r, FILE *out)
{
	const struct entry *v[64];
	size_t n = signalled(r, v, 64);
	int escalated = any_event(r, SEINPOST__AUDIT_EVENT__AUDIT_ESCALATED);
	char p[48], p2[48], line[300];
	h2(out, "retention", T(r, M_H_RETENTION));
	fputs("<ul>\n", out);
	for (size_t i = 0; i < n; i++) {
		uint64_t s = r->policy ? sp_policy_retention_s(r->policy, v[i]->category, (int)v[i]->weight, 0) : 0;
		uint64_t se = r->policy ? sp_policy_retention_s(r->policy, v[i]->category, (int)v[i]->weight, 1) : 0;
		if (s)
			period(r, s, p, sizeof p);
		fputs("<li>", out);
		say(out, T(r, M_RETENTION_LINE), category_name(r, v[i]->category), weight_text(r, v[i]->weight),
		    s ? p : T(r, M_NOT_STATED), NULL);
		if (escalated && se && se != s) {
			period(r, se, p2, sizeof p2);
			snprintf(line, sizeof line, T(r, M_RETENTION_ESCALATED), p2);
			fputs("; ", out);
			esc(out, line);
		}
		fputs("</li>\n", out);
	}
	fprintf(out, "</ul>\n<p>%s</p>\n</section>\n", T(r, M_RETENTION_INTRO));
}

int sp_report_html(const sp_report *r, const char *label, FILE *out)
{
	const sp_policy_report *pr = r->policy ? sp_policy_report_of(r->policy) : NULL;
	const char *controller = sp_policy_report_controller(pr);
	struct disc *d = NULL;
	size_t nd;
	char t[64];

	sp_report_finish(r);
	nd = disclosures(r, &d);
	if (!d)
		return SP_ENOMEM;
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">\n<title>", T(r, M_HTML_LANG));
	esc(out, T(r, M_TITLE));
	fputs("</title>\n<style>\n"
	      "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222;line-height:1.5}\n"
	      "h1{color:#1d4f7a}h2{color:#1d4f7a;border-bottom:2px solid #cfe0ee;padding-bottom:.2em}\n"
	      "table{border-collapse:collapse;width:100%;font-size:.9em}td,th{border:1px solid #ccc;padding:.4em;"
	      "vertical-align:top;text-align:left}th{background:#eef4f9}\n"
	      ".purpose,.rule,.cat{color:#555;font-size:.9em}.meta{background:#f6f6f6;padding:.8em}\n"
	      ".warning{border:3px solid #c00;background:#fee;padding:1em}\n</style></head><body>\n", out);
	if (r->nwarn) {
		fputs("<div class=\"warning\"><b>", out);
		esc(out, T(r, M_WARNING));
		fputs("</b><ul>", out);
		for (size_t i = 0; i < r->nwarn; i++) {
			fputs("<li>", out);
			esc(out, r->warn[i]);
			fputs("</li>", out);
		}
		fputs("</ul></div>\n", out);
	}
	fputs("<h1>", out);
	esc(out, T(r, M_TITLE));
	fprintf(out, "</h1>\n<p>%s</p>\n<p class=\"meta\">%s: <b>", T(r, M_INTRO), T(r, M_ABOUT));
	esc(out, label ? label : "");
	fprintf(out, "</b><br>%s: %s<br>%s: ", T(r, M_MADE_ON), sp_report_date(r->lang, sp_now_ms(), t, sizeof t),
	        T(r, M_CONTROLLER));
	esc(out, controller ? controller : r->policy ? sp_policy_owner(r->policy) : T(r, M_NOT_STATED));
	fputs("</p>\n", out);

	/* (a) purposes */
	h2(out, "purposes", T(r, M_H_PURPOSES));
	fprintf(out, "<p>%s</p>\n", T(r, M_PURPOSE_GENERAL));
	if (nd) {
		fprintf(out, "<p>%s</p>\n<ul>\n", T(r, M_PURPOSE_RULES));
		for (size_t i = 0; i < nd; i++) {
			const char *rule = disc_rule(&d[i])->rule, *p = purpose_of(r, rule);
			int dup = 0;
			for (size_t k = 0; k < i && !dup; k++)
				dup = strcmp(disc_rule(&d[k])->rule, rule) == 0;
			if (!p || dup)
				continue;
			fputs("<li>", out);
			esc(out, p);
			fputs("</li>\n", out);
		}
		fputs("</ul>\n", out);
	}
	fputs("</section>\n", out);

	/* (b) categories of data */
	{
		const struct entry *v[64];
		size_t n = signalled(r, v, 64);
		static const enum sp_report_msg tw[] = { M_TIER_EXISTENCE, M_TIER_CONTACT, M_TIER_SUMMARY, M_TIER_FULL };
		h2(out, "data", T(r, M_H_DATA));
		fprintf(out, "<p>%s</p>\n<ul>\n", T(r, M_DATA_INTRO));
		for (size_t i = 0; i < sizeof tw / sizeof tw[0]; i++)
			fprintf(out, "<li>%s</li>\n", T(r, tw[i]));
		fputs("</ul>\n", out);
		if (n) {
			fprintf(out, "<p>%s</p>\n<ul>\n", T(r, M_DATA_CATS));
			for (size_t i = 0; i < n; i++) {
				int dup = 0;
				for (size_t k = 0; k < i && !dup; k++)
					dup = strcmp(v[k]->category, v[i]->category) == 0;
				if (dup)
					continue;
				fputs("<li>", out);
				esc(out, category_name(r, v[i]->category));
				fputs("</li>\n", out);
			}
			fputs("</ul>\n", out);
		}
		fputs("</section>\n", out);
	}

	html_disclosures(r, out, d, nd);   /* (c) recipients */
	html_retention(r, out);            /* (d) */

	/* (e) rights, (f) complaint */
	h2(out, "rights", T(r, M_H_RIGHTS));
	fprintf(out, "<p>%s</p>\n<p>%s: ", T(r, M_RIGHTS), T(r, M_RIGHTS_CONTACT));
	esc(out, sp_policy_report_contact(pr) ? sp_policy_report_contact(pr) : T(r, M_NOT_STATED));
	fprintf(out, "<br>%s: ", T(r, M_DPO));
	esc(out, sp_policy_report_dpo(pr) ? sp_policy_report_dpo(pr) : T(r, M_NOT_STATED));
	fputs("</p>\n</section>\n", out);
	h2(out, "complaint", T(r, M_H_COMPLAINT));
	fprintf(out, "<p>%s</p>\n</section>\n", T(r, M_COMPLAINT));

	html_sources(r, out);              /* (g) */
	h2(out, "automated", T(r, M_H_AUTOMATED));
	fprintf(out, "<p>%s</p>\n</section>\n", T(r, M_AUTOMATED)); /* (h) */
	h2(out, "transfers", T(r, M_H_TRANSFER));
	fprintf(out, "<p>%s</p>\n</section>\n", T(r, M_TRANSFER));  /* 15(2) */
	html_events(r, out);

	h2(out, "complete", T(r, M_H_COMPLETE));
	fprintf(out, "<p>%s</p>\n</section>\n</body></html>\n",
	        T(r, r->head_verified && !r->nwarn ? M_COMPLETE : M_NOT_COMPLETE));
	free(d);
	return ferror(out) ? SP_EIO : SP_OK;
}

/* The same for software: added to the JSON report (docs/json/audit-report.schema.json). */
void sp_report_art15_json(const sp_report *r, json_t *o)
{
	const sp_policy_report *pr = r->policy ? sp_policy_report_of(r->policy) : NULL;
	struct disc *d = NULL;
	size_t nd = disclosures(r, &d);
	json_t *ds = json_array(), *src = json_array(), *ev = json_array(), *ret = json_array();
	char t[40], words[600], p[48];
	const struct entry *v[64];
	size_t nv = signalled(r, v, 64);
	static const enum sp_report_msg via[] = { M_VIA_IMMEDIATE, M_VIA_INVOLVED, M_VIA_MATCH, M_VIA_ESCALATION };

	for (size_t i = 0; d && i < nd; i++) {
		const struct entry *m = disc_main(&d[i]), *ru = disc_rule(&d[i]);
		const char *purpose = purpose_of(r, ru->rule);
		json_t *x;
		shared_text(r, m->tiers, words, sizeof words);
		json_array_append_new(ds, x = json_pack("{s:s,s:s,s:o,s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:s,s:s,s:b,s:i}",
		        "organisation", m->org, "organisation_name", org_name(r, m->org),
		        "shared", sp_render_tiers_json(m->tiers), "shared_text", words, "signal", m->signal,
		        "category", m->category, "weight", (int)m->weight, "rule", ru->rule, "legal_basis", ru->basis,
		        "purpose", purpose ? purpose : "", "reason", via_key(disc_via(&d[i])),
		        "reason_text", T(r, via[disc_via(&d[i])]), "opened", d[i].opened != 0, "reads", (int)d[i].reads));
		if (!x)
			continue;
		if (d[i].rel)
			json_object_set_new(x, "made_available_at", json_string(sp_iso_time(d[i].rel->time, t, sizeof t)));
		if (d[i].del)
			json_object_set_new(x, "received_at", json_string(sp_iso_time(d[i].del->time, t, sizeof t)));
		if (d[i].opened)
			json_object_set_new(x, "opened_at", json_string(sp_iso_time(d[i].opened, t, sizeof t)));
		if (d[i].system)
			json_object_set_new(x, "handed_to_system_at", json_string(sp_iso_time(d[i].system, t, sizeof t)));
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct entry *e = &r->e[i];
		sp_iso_time(e->time, t, sizeof t);
		if (is(e, SEINPOST__AUDIT_EVENT__AUDIT_SUBMITTED))
			json_array_append_new(src, json_pack("{s:s,s:s,s:s,s:s,s:i,s:s}", "organisation", e->org,
			        "organisation_name", org_name(r, e->org), "signalled_at", t, "category", e->category,
			        "weight", (int)e->weight, "category_text", category_name(r, e->category)));
		else if (e->extra || is(e, SEINPOST__AUDIT_EVENT__AUDIT_QUERY) || is(e, SEINPOST__AUDIT_EVENT__AUDIT_WITHDRAWN) ||
		         is(e, SEINPOST__AUDIT_EVENT__AUDIT_INVOLVED) || is(e, SEINPOST__AUDIT_EVENT__AUDIT_UNINVOLVED))
			json_array_append_new(ev, json_pack("{s:s,s:s,s:s,s:s}", "event", sp_audit_event_name(e->event),
			        "at", t, "organisation", e->org, "organisation_name", org_name(r, e->org)));
		if (is(e, SEINPOST__AUDIT_EVENT__AUDIT_REFERRAL_STATUS))
			json_object_set_new(json_array_get(ev, json_array_size(ev) - 1), "status_text",
			                    json_string(status_word(r, e->reason)));
	}
	for (size_t i = 0; i < nv; i++) {
		uint64_t s = r->policy ? sp_policy_retention_s(r->policy, v[i]->category, (int)v[i]->weight, 0) : 0;
		uint64_t se = r->policy ? sp_policy_retention_s(r->policy, v[i]->category, (int)v[i]->weight, 1) : 0;
		period(r, s, p, sizeof p);
		json_array_append_new(ret, json_pack("{s:s,s:i,s:I,s:I,s:s}", "category", v[i]->category,
		        "weight", (int)v[i]->weight, "retention_s", (json_int_t)s, "retention_escalated_s",
		        (json_int_t)se, "text", s ? p : T(r, M_NOT_STATED)));
	}
	json_object_set_new(o, "lang", json_string(sp_report_lang_name(r->lang)));
	json_object_set_new(o, "disclosures", ds);
	json_object_set_new(o, "sources", src);
	json_object_set_new(o, "events", ev);
	json_object_set_new(o, "art15", json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:s}",
	        "controller", sp_policy_report_controller(pr) ? sp_policy_report_controller(pr)
	                      : r->policy ? sp_policy_owner(r->policy) : "",
	        "contact", sp_policy_report_contact(pr) ? sp_policy_report_contact(pr) : "",
	        "dpo", sp_policy_report_dpo(pr) ? sp_policy_report_dpo(pr) : "",
	        "purposes", T(r, M_PURPOSE_GENERAL), "retention", ret, "rights", T(r, M_RIGHTS),
	        "complaint", T(r, M_COMPLAINT), "automated_decision_making", T(r, M_AUTOMATED),
	        "transfers_outside_eu", T(r, M_TRANSFER), "data_categories", T(r, M_DATA_INTRO)));
	free(d);
}
