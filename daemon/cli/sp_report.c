/*
 * sp_report.c — who-saw list and subject access report (sp_report.h): the
 * records about one subject, listed as text or JSON. The art. 15 page and
 * its JSON items are in sp_report_art15.c.
 *
 * A read record carries no rule: the rule and legal basis of a read are
 * those of the disclosure to the same organisation for the same signal, so
 * they are filled in from the matching "delivered" record.
 */
#include "sp_cli.h"
#include "sp_render.h"
#include "sp_report.h"
#include "sp_report_entry.h"

#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_audit.h"
#include "sp_reads.h"
#include "sp_signal.h"
#include "sp_util.h"

void sp_report_set_context(sp_report *r, const struct sp_policy *policy, const struct sp_roster *roster, int lang)
{
	r->policy = policy;
	r->roster = roster;
	r->lang = lang;
}

int sp_report_new(sp_report **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? SP_OK : SP_ENOMEM;
}

void sp_report_free(sp_report **r)
{
	if (!r || !*r)
		return;
	for (size_t i = 0; i < (*r)->n; i++) {
		free((*r)->e[i].record);
		free((*r)->e[i].path);
	}
	free((*r)->e);
	free(*r);
	*r = NULL;
}

size_t sp_report_count(const sp_report *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += !r->e[i].extra;
	return n;
}

void sp_report_set_head(sp_report *r, uint64_t size, uint64_t time_ms, const uint8_t root[32], int verified)
{
	r->head_size = size;
	r->head_time = time_ms;
	if (root)
		memcpy(r->head_root, root, 32);
	r->head_verified = verified;
}

void sp_report_set_signature(sp_report *r, const uint8_t sig[64], const uint8_t pseudonym[32])
{
	memcpy(r->head_sig, sig, 64);
	r->have_sig = 1;
	sp_hex(pseudonym, 32, r->pseudonym);
}

void sp_report_add_earlier(sp_report *r, uint32_t epoch, const uint8_t p[32], const uint8_t proof[64],
                           const uint8_t d[32])
{
	struct earlier *x;
	if (r->nearlier == sizeof r->earlier / sizeof r->earlier[0])
		return;
	x = &r->earlier[r->nearlier++];
	x->epoch = epoch;
	sp_hex(p, 32, x->pseudonym);
	sp_hex(d, 32, x->d);
	sp_hex(proof, 64, x->proof);
}

void sp_report_warn(sp_report *r, const char *fmt, ...)
{
	va_list ap;
	if (r->nwarn == MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(r->warn[r->nwarn++], sizeof r->warn[0], fmt, ap);
	va_end(ap);
}

size_t sp_report_warnings(const sp_report *r)
{
	return r->nwarn;
}

int sp_report_add_proven(sp_report *r, const Seinpost__AuditRecord *rec, const uint8_t *raw, size_t len,
                         const sp_merkle_hash *path, size_t n)
{
	size_t before = r->n, b64 = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	struct entry *e;
	int rc = sp_report_add(r, rec, 1);
	if (rc != SP_OK || r->n == before || r->e[r->n - 1].extra)
		return rc;
	e = &r->e[r->n - 1];
	e->record = malloc(b64);
	e->path = malloc(n ? n * 65 : 1);
	if (!e->record || !e->path)
		return SP_ENOMEM;
	sodium_bin2base64(e->record, b64, raw, len, sodium_base64_VARIANT_ORIGINAL);
	e->path[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		sp_hex(path[i], 32, e->path + i * 65);
		if (i + 1 < n)
			e->path[i * 65 + 64] = ',';
	}
	return SP_OK;
}

static void cpy(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "");
}

int sp_report_add(sp_report *r, const Seinpost__AuditRecord *rec, int proven)
{
	struct entry *e;
	int extra = 0;
	switch (rec->event) {
	case SEINPOST__AUDIT_EVENT__AUDIT_ESCALATED:
	case SEINPOST__AUDIT_EVENT__AUDIT_MATCHED:
	case SEINPOST__AUDIT_EVENT__AUDIT_REFERRAL_STATUS:
		extra = 1; /* what happened with the case: the report tells it, who-saw does not list it */
		break;
	case SEINPOST__AUDIT_EVENT__AUDIT_DELIVERED:
	case SEINPOST__AUDIT_EVENT__AUDIT_READ:
	case SEINPOST__AUDIT_EVENT__AUDIT_SUBMITTED:
	case SEINPOST__AUDIT_EVENT__AUDIT_RELEASED:
	case SEINPOST__AUDIT_EVENT__AUDIT_QUERY:
	case SEINPOST__AUDIT_EVENT__AUDIT_INVOLVED:
	case SEINPOST__AUDIT_EVENT__AUDIT_UNINVOLVED:
	case SEINPOST__AUDIT_EVENT__AUDIT_ALIAS_LINKED:
	case SEINPOST__AUDIT_EVENT__AUDIT_REFERRAL_MOVED: /* who may see what changed (sp_tables.h) */
	case SEINPOST__AUDIT_EVENT__AUDIT_WITHDRAWN:            /* its sender withdrew it (issue 16) */
	case SEINPOST__AUDIT_EVENT__AUDIT_WITHDRAWAL_DELIVERED: /* a recipient deleted its copy */
		break;
	case SEINPOST__AUDIT_EVENT__AUDIT_REJECTED:
		if (rec->code == SP_ELIMIT)
			break; /* an involvement refused beyond the policy's limits */
		return SP_OK;
	default:
		if (rec->event < 280 || rec->event >= 300 || rec->pseudonym.len != 32)
			return SP_OK; /* not a disclosure, read or look-up */
		extra = 1; /* a later case event of issue 16 (280s), told as such */
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 32;
		struct entry *ne = realloc(r->e, cap * sizeof *ne);
		if (!ne)
			return SP_ENOMEM;
		r->e = ne;
		r->cap = cap;
	}
	e = &r->e[r->n++];
	memset(e, 0, sizeof *e);
	e->seq = rec->seq;
	e->time = rec->event_time ? rec->event_time : rec->time;
	e->event = rec->event;
	/* a disclosure or release is about its recipient, not the broker */
	cpy(e->org, sizeof e->org,
	    (rec->event == SEINPOST__AUDIT_EVENT__AUDIT_DELIVERED || rec->event == SEINPOST__AUDIT_EVENT__AUDIT_RELEASED ||
	     rec->event == SEINPOST__AUDIT_EVENT__AUDIT_WITHDRAWAL_DELIVERED) && rec->recipient[0] ? rec->recipient
	                                                                               : rec->actor);
	cpy(e->user, sizeof e->user, rec->user);
	cpy(e->unix_user, sizeof e->unix_user, rec->unix_user);
	cpy(e->rule, sizeof e->rule, rec->rule_id);
	if (rec->event == SEINPOST__AUDIT_EVENT__AUDIT_REFERRAL_MOVED) { /* "rule: up lwo -> mot" */
		size_t n = strcspn(rec->reason, "(:");
		while (n && rec->reason[n - 1] == ' ')
			n--;
		snprintf(e->rule, sizeof e->rule, "%.24s: %.*s", rec->rule_id, (int)n, rec->reason);
	}
	cpy(e->basis, sizeof e->basis, rec->legal_basis);
	cpy(e->category, sizeof e->category, rec->category);
	if (rec->signal_id.len == 16)
		sp_hex(rec->signal_id.data, 16, e->signal);
	cpy(e->reason, sizeof e->reason, rec->reason);
	e->weight = rec->weight;
	e->tiers = rec->tiers;
	e->proven = proven;
	e->extra = extra;
	return SP_OK;
}

static int by_time(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void sp_report_finish(const sp_report *rc)
{
	sp_report *r = (sp_report *)rc;
	qsort(r->e, r->n, sizeof *r->e, by_time);
	for (size_t i = 0; i < r->n; i++) {
		struct entry *e = &r->e[i];
		if (e->event != SEINPOST__AUDIT_EVENT__AUDIT_READ || e->rule[0])
			continue;
		for (size_t j = 0; j < r->n; j++) {
			const struct entry *d = &r->e[j];
			if (d->event == SEINPOST__AUDIT_EVENT__AUDIT_DELIVERED && strcmp(d->signal, e->signal) == 0 &&
			    strcmp(d->org, e->org) == 0) {
				cpy(e->rule, sizeof e->rule, d->rule);
				cpy(e->basis, sizeof e->basis, d->basis);
			}
		}
	}
}

static const char *when(uint64_t ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000u);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

static void tiers_text(uint32_t mask, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (int t = 0; t < SP_TIER_COUNT; t++)
		if (mask & (1u << t))
			o += (size_t)snprintf(out + o, len > o ? len - o : 0, "%s%s", o ? "," : "", sp_tier_name(t));
	if (!o)
		snprintf(out, len, "-");
}

static const char *what(int ev)
{
	switch (ev) {
	case SEINPOST__AUDIT_EVENT__AUDIT_DELIVERED: return "disclosed";
	case SEINPOST__AUDIT_EVENT__AUDIT_READ: return "read";
	case SEINPOST__AUDIT_EVENT__AUDIT_SUBMITTED: return "signalled";
	case SEINPOST__AUDIT_EVENT__AUDIT_RELEASED: return "released";
	case SEINPOST__AUDIT_EVENT__AUDIT_QUERY: return "audit-query";
	case SEINPOST__AUDIT_EVENT__AUDIT_INVOLVED: return "involved";
	case SEINPOST__AUDIT_EVENT__AUDIT_UNINVOLVED: return "uninvolved";
	case SEINPOST__AUDIT_EVENT__AUDIT_ALIAS_LINKED: return "alias-link";
	case SEINPOST__AUDIT_EVENT__AUDIT_REJECTED: return "refused";
	default: return sp_audit_event_name(ev);
	}
}

/* The stated name and, where recorded, the Unix account that ran the command. */
static void report_user(const struct entry *e, char *out, size_t len)
{
	snprintf(out, len, "%s%s%s%s", e->user[0] ? e->user : "-", e->unix_user[0] ? " [unix:" : "", e->unix_user,
	         e->unix_user[0] ? "]" : "");
}

void sp_report_text(const sp_report *r, FILE *out)
{
	char t[40], tiers[64], user[128];
	/* Columns as wide as their widest cell, so long rule names, user names
	 * and tier lists do not push the rest out of line. */
	int w[5] = { 4, 12, 4, 5, 4 };
	sp_report_finish(r);
	for (size_t i = 0; i < r->nwarn; i++)
		fprintf(out, "WARNING: %s\n", r->warn[i]);
	if (r->nwarn)
		fputs("WARNING: this answer is NOT proven complete; the privacy officer must investigate\n\n", out);
	for (size_t i = 0; i < r->n; i++) {
		const struct entry *e = &r->e[i];
		int n[5];
		if (e->extra)
			continue;
		tiers_text(e->tiers, tiers, sizeof tiers);
		report_user(e, user, sizeof user);
		n[0] = (int)strlen(what(e->event));
		n[1] = (int)strlen(e->org);
		n[2] = (int)strlen(user);
		n[3] = (int)strlen(tiers);
		n[4] = e->rule[0] ? (int)strlen(e->rule) : 1;
		for (int k = 0; k < 5; k++)
			if (n[k] > w[k])
				w[k] = n[k];
	}
	fprintf(out, "%-23s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", "time", w[0], "what", w[1], "organisation", w[2],
	        "user", w[3], "tiers", w[4], "rule", "legal basis");
	for (size_t i = 0; i < r->n; i++) {
		const struct entry *e = &r->e[i];
		if (e->extra)
			continue;
		tiers_text(e->tiers, tiers, sizeof tiers);
		report_user(e, user, sizeof user);
		fprintf(out, "%-23s  %-*s  %-*s  %-*s  %-*s  %-*s  %s\n", when(e->time, t, sizeof t), w[0],
		        what(e->event), w[1], e->org, w[2], user, w[3], tiers, w[4], e->rule[0] ? e->rule : "-",
		        e->basis[0] ? e->basis : "-");
	}
	if (r->head_size)
		fprintf(out, "%zu entries; %s against the broker's signed tree head of size %llu\n", sp_report_count(r),
		        r->head_verified && !r->nwarn ? "complete (from the verified copy of the whole log), every "
		        "record proven included" : "NOT verified",
		        (unsigned long long)r->head_size);
}

static json_t *entries_json(const sp_report *r)
{
	json_t *a = json_array();
	char t[40];
	for (size_t i = 0; a && i < r->n; i++) {
		const struct entry *e = &r->e[i];
		json_t *o;
		if (e->extra)
			continue;
		json_array_append_new(a, o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:i,s:b}",
		                                   "seq", (json_int_t)e->seq, "recorded_at", sp_iso_time(e->time, t, sizeof t),
		                                   "what", what(e->event), "organisation", e->org, "user", e->user,
		                                   "tiers", sp_render_tiers_json(e->tiers), "rule", e->rule,
		                                   "legal_basis", e->basis, "signal", e->signal, "category", e->category,
		                                   "weight", (int)e->weight, "proven", e->proven));
		if (o && e->unix_user[0])
			json_object_set_new(o, "unix_user", json_string(e->unix_user));
		if (o && e->record && e->path) {
			json_t *p = json_array();
			for (const char *h = e->path; *h; h += h[64] ? 65 : 64)
				json_array_append_new(p, json_stringn(h, 64));
			json_object_set_new(o, "proof", json_pack("{s:I,s:s,s:o}", "leaf_index", (json_int_t)(e->seq - 1),
			                                          "record", e->record, "inclusion_path", p));
		}
	}
	return a;
}

int sp_report_json(const sp_report *r, const char *label, FILE *out)
{
	char root[65], t[40];
	json_t *o;
	char *s;
	sp_report_finish(r);
	sp_hex(r->head_root, 32, root);
	json_t *head = sp_cli_tree_head_json(r->head_size, r->head_root, r->head_time);
	if (head)
		json_object_set_new(head, "verified", json_boolean(r->head_verified));
	o = json_pack("{s:s,s:s,s:s,s:o,s:o}", "report", "AVG art. 15 subject access: who saw what",
	              "subject", label ? label : "", "generated_at", sp_iso_time(sp_now_ms(), t, sizeof t),
	              "entries", entries_json(r), "tree_head", head);
	(void)root;
	if (!o)
		return SP_ENOMEM;
	{
		json_t *w = json_array();
		for (size_t i = 0; i < r->nwarn; i++)
			json_array_append_new(w, json_string(r->warn[i]));
		json_object_set_new(o, "warnings", w);
		json_object_set_new(o, "complete", json_boolean(r->head_verified && !r->nwarn));
	}
	if (r->policy)
		sp_report_art15_json(r, o); /* the art. 15 report, not who-saw */
	if (r->have_sig) {
		char sig[129];
		json_object_set_new(o, "pseudonym", json_string(r->pseudonym));
		if (r->nearlier) {
			json_t *a = json_array();
			for (size_t i = 0; i < r->nearlier; i++)
				json_array_append_new(a, json_pack("{s:I,s:s,s:s,s:s}", "epoch", (json_int_t)r->earlier[i].epoch,
				                                   "pseudonym", r->earlier[i].pseudonym, "d", r->earlier[i].d,
				                                   "proof", r->earlier[i].proof));
			json_object_set_new(o, "earlier_pseudonyms", a);
		}
		json_object_set_new(o, "signed_tree_head",
		                    json_pack("{s:I,s:I,s:s,s:s,s:s,s:s}", "tree_size", (json_int_t)r->head_size,
		                              "timestamp_ms", (json_int_t)r->head_time, "signed_at",
		                              sp_iso_time(r->head_time, t, sizeof t), "root_hash", root, "signature",
		                              sp_hex(r->head_sig, 64, sig), "signed_message",
		                              "'seinpost/sth/v1' || be64(tree_size) || be64(timestamp_ms) || root_hash"));
	}
	s = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	if (!s)
		return SP_ENOMEM;
	fprintf(out, "%s\n", s);
	free(s);
	return SP_OK;
}

