/*
 * sp_policy_report.c — the policy's [report] section (sp_policy_report.h).
 *
 * Kept out of sp_policy.c, which only hands the section's keys here: the
 * keys are open-ended (name.ORG, category.ID), which the field table there
 * does not model. Same rules as the rest of the file: unknown keys, keys
 * given twice, a second [report] and text that is not printable are errors
 * naming the line.
 */
#include "sp_policy_report.h"

#include <stdlib.h>
#include <string.h>

#include "sp_util.h"

#define TEXT_MAX 400   /* controller, contact, dpo */
#define NAME_MAX_ 120  /* a display name */
#define NAMES_MAX 1024

struct named {
	char *key;   /* org id or category id */
	char *text;
	int line;
};

struct sp_policy_report {
	int header_seq;             /* of the [report] header that opened it */
	int line;
	char *fixed[3];             /* controller, contact, dpo */
	int fixed_line[3];
	struct named *names;        /* name.* and category.* */
	size_t nnames, cap;
	char **last;                /* value an indented line continues */
	size_t last_max;
};

static const char *const fixed_keys[3] = { "controller", "contact", "dpo" };

void sp_policy_report_free(sp_policy_report **rp)
{
	if (!rp || !*rp)
		return;
	for (int i = 0; i < 3; i++)
		free((*rp)->fixed[i]);
	for (size_t i = 0; i < (*rp)->nnames; i++) {
		free((*rp)->names[i].key);
		free((*rp)->names[i].text);
	}
	free((*rp)->names);
	free(*rp);
	*rp = NULL;
}

static int text_value(sp_ini_reader *rd, const char *key, const char *v, size_t max)
{
	if (!v[0] || !sp_text_ok(v, max, 0)) {
		sp_ini_fail(rd, rd->line, "[report]: value of '%s' must be printable text of 1..%zu characters", key, max);
		return -1;
	}
	return 0;
}

/* name.ORG or category.ID: the kind (0 name, 1 category) and the id. */
static int named_key(const char *name, int *kind, const char **id)
{
	if (strncmp(name, "name.", 5) == 0)
		*kind = 0, *id = name + 5;
	else if (strncmp(name, "category.", 9) == 0)
		*kind = 1, *id = name + 9;
	else
		return -1;
	return sp_ident_ok(*id) ? 0 : -1;
}

static int add_named(const sp_policy *p, sp_policy_report *r, sp_ini_reader *rd, const char *name, const char *v)
{
	const char *id;
	int kind;
	char pb[48];
	if (named_key(name, &kind, &id) != 0) {
		sp_ini_fail(rd, rd->line, "[report]: unknown key '%s' (controller, contact, dpo, name.ORG, category.ID)",
		            sp_ini_printable(name, pb, sizeof pb));
		return -1;
	}
	if (kind == 1 && !sp_policy_category_find(p, id)) {
		sp_ini_fail(rd, rd->line, "[report]: '%s' names no category declared above", name);
		return -1;
	}
	for (size_t i = 0; i < r->nnames; i++)
		if (strcmp(r->names[i].key, name) == 0) {
			sp_ini_fail(rd, rd->line, "[report]: key '%s' given twice (first at line %d)", name,
			            r->names[i].line);
			return -1;
		}
	if (text_value(rd, name, v, NAME_MAX_) != 0)
		return -1;
	if (r->nnames == NAMES_MAX) {
		sp_ini_fail(rd, rd->line, "[report]: more than %d names", NAMES_MAX);
		return -1;
	}
	if (r->nnames == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct named *n = realloc(r->names, cap * sizeof *n);
		if (!n)
			goto oom;
		r->names = n;
		r->cap = cap;
	}
	struct named *n = &r->names[r->nnames];
	n->key = strdup(name);
	n->text = strdup(v);
	n->line = rd->line;
	if (!n->key || !n->text) {
		free(n->key);
		free(n->text);
		goto oom;
	}
	r->nnames++;
	r->last = &n->text;
	r->last_max = NAME_MAX_;
	return 0;
oom:
	sp_ini_fail(rd, rd->line, "out of memory");
	return -1;
}

/* An indented line: more of the previous value, joined with a space. */
static int append(sp_policy_report *r, sp_ini_reader *rd, const char *v)
{
	size_t a = strlen(*r->last), b = strlen(v);
	char *d;
	if (!sp_text_ok(v, r->last_max, 0) || a + 1 + b > r->last_max) {
		sp_ini_fail(rd, rd->line, "[report]: continued value not printable or longer than %zu characters",
		            r->last_max);
		return -1;
	}
	if (!(d = realloc(*r->last, a + b + 2))) {
		sp_ini_fail(rd, rd->line, "out of memory");
		return -1;
	}
	d[a] = ' ';
	memcpy(d + a + 1, v, b + 1);
	*r->last = d;
	return 0;
}

int sp_policy_report_key(const sp_policy *p, sp_policy_report **rp, sp_ini_reader *rd, const char *name,
                         const char *value)
{
	sp_policy_report *r = *rp;
	if (!r) {
		if (!(r = *rp = calloc(1, sizeof *r))) {
			sp_ini_fail(rd, rd->line, "out of memory");
			return -1;
		}
		r->header_seq = rd->header_seq;
		r->line = rd->header_line;
	} else if (r->header_seq != rd->header_seq) {
		sp_ini_fail(rd, rd->header_line, "duplicate [report], first at line %d", r->line);
		return -1;
	}
	rd->cur_seq = rd->header_seq; /* the section is not empty */
	if (rd->indented && r->last)
		return append(r, rd, value);
	r->last = NULL;
	for (int i = 0; i < 3; i++) {
		if (strcmp(name, fixed_keys[i]) != 0)
			continue;
		if (r->fixed[i]) {
			sp_ini_fail(rd, rd->line, "[report]: key '%s' given twice (first at line %d)", name,
			            r->fixed_line[i]);
			return -1;
		}
		if (text_value(rd, name, value, TEXT_MAX) != 0)
			return -1;
		if (!(r->fixed[i] = strdup(value))) {
			sp_ini_fail(rd, rd->line, "out of memory");
			return -1;
		}
		r->fixed_line[i] = rd->line;
		r->last = &r->fixed[i];
		r->last_max = TEXT_MAX;
		return 0;
	}
	return add_named(p, r, rd, name, value);
}

int sp_policy_report_finish(sp_policy_report *r, sp_ini_reader *rd)
{
	if (!r || rd->err_line)
		return 0;
	for (int i = 0; i < 3; i++)
		if (!r->fixed[i]) {
			sp_ini_fail(rd, r->line, "[report]: missing key '%s'", fixed_keys[i]);
			return -1;
		}
	return 0;
}

const char *sp_policy_report_controller(const sp_policy_report *r)
{
	return r ? r->fixed[0] : NULL;
}

const char *sp_policy_report_contact(const sp_policy_report *r)
{
	return r ? r->fixed[1] : NULL;
}

const char *sp_policy_report_dpo(const sp_policy_report *r)
{
	return r ? r->fixed[2] : NULL;
}

static const char *lookup(const sp_policy_report *r, const char *prefix, size_t plen, const char *id)
{
	for (size_t i = 0; r && id && i < r->nnames; i++)
		if (strncmp(r->names[i].key, prefix, plen) == 0 && strcmp(r->names[i].key + plen, id) == 0)
			return r->names[i].text;
	return NULL;
}

const char *sp_policy_report_org_name(const sp_policy_report *r, const char *org)
{
	return lookup(r, "name.", 5, org);
}

const char *sp_policy_report_category_name(const sp_policy_report *r, const char *category)
{
	return lookup(r, "category.", 9, category);
}
