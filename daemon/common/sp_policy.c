/*
 * sp_policy.c — the sharing policy: load, validate, answer "who may see what".
 *
 * libinih does the INI syntax; everything else is driven by two tables:
 * section kinds ([policy], [category <id>], [rule <id>]) and, per kind, its
 * keys with a type, bounds and whether they are required. Adding a section
 * kind (escalation, match) means adding a struct, a key table and a row in
 * `kinds`, nothing else.
 *
 * Line numbers: inih reports only the first *syntax* error line and calls the
 * handler without one, so we feed it through our own fgets-style reader over
 * the file bytes (already in memory for the hash). The reader counts lines,
 * notices section headers (to check a finished section and to report a
 * section's own line) and indentation (inih's continuation lines), and
 * refuses NUL bytes and lines too long for inih's fixed buffer, which it
 * would otherwise split silently into two lines.
 *
 * The policy is strict on purpose: a privacy officer signs off on the text
 * they read, so anything the parser would have to guess about is an error.
 */
#include "sp_policy.h"
#include "sp_ini.h"
#include "sp_policy_tables.h"
#include "sp_policy_values.h"
#include "sp_limits.h"
#include "sp_policy_report.h"

#include <ini.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_signal.h"
#include "sp_util.h"

#define POLICY_MAX_FILE (1024u * 1024)
#define POLICY_ID_MAX 40    /* keeps "[category <id>]" within inih's section buffer */
#define POLICY_MAX_OBJECTS 4096
#define MAX_FIELDS 16

struct policy_meta {
	const char *version;
	const char *name;
	const char *owner;
	unsigned stats_min_cell; /* k of small-cell suppression; 0 = default */
	unsigned feedback_mask;  /* events told back to the signaller; 0 = every one */
	const char *interventions; /* comma list of intervention types for referral status */
	const char *resident_reports; /* roles that may enter anonymous resident reports */
	int line;
};

struct sp_policy {
	uint8_t hash[SP_POLICY_HASH_BYTES];
	struct policy_meta meta;
	int have_meta;
	sp_policy_category *cats;
	size_t ncats, capcats;
	sp_policy_rule *rules;
	size_t nrules, caprules;
	sp_policy_escalation *escs;
	size_t nescs, capescs;
	sp_policy_match *matches;
	size_t nmatches, capmatches;
	sp_policy_limits *limits;
	size_t nlimits, caplimits;
	sp_policy_report *report; /* [report]: sp_policy_report.c */
	sp_policy_tables tables;      /* [table] sections (sp_policy_tables.c) */
};

/* ---- tables ------------------------------------------------------------- */

enum ftype {
	F_TEXT,     /* free text: one line, may continue on indented lines */
	F_ID,       /* identifier (sp_ident_ok) */
	F_INT,      /* int in [min, max] */
	F_UINT,     /* unsigned in [min, max] */
	F_WEIGHTS,  /* "1-3", "2,3", "3" -> bit mask */
	F_TIERS,    /* "existence,contact" -> bit mask */
	F_KINDS,    /* "person,location" -> bit mask of subject kinds */
	F_FEEDBACK, /* "delivered,escalated" -> bit mask of sp_feedback_event */
	F_WHEN,     /* immediately | if-involved | on-escalation */
	F_ROLE,     /* a roster role that can receive signals */
	F_CATREF,   /* a category declared earlier in the file */
	F_DURATION, /* "<n> days|hours|minutes|seconds" -> seconds, max in days */
};

struct field {
	const char *key;
	enum ftype type;
	size_t off;
	int required;
	long min, max;       /* numbers: bounds; text: max length */
};

struct pctx;
struct kind {
	const char *name;          /* word before the id in the section header */
	int has_id;
	int once;                  /* at most one such section */
	const struct field *fields;
	size_t nfields;
	size_t id_off, line_off;   /* where the object keeps its id and line */
	void *(*add)(sp_policy *p);
	void *(*find)(const sp_policy *p, const char *id);
	size_t (*count)(const sp_policy *p);
	void *(*at)(sp_policy *p, size_t i);
	const char *(*check)(const void *obj); /* cross-key check at section end */
};

#define FLD(s, k, t, m, req, lo, hi) { k, t, offsetof(s, m), req, lo, hi }

static const struct field policy_fields[] = {
	FLD(struct policy_meta, "version", F_TEXT, version, 1, 0, 64),
	FLD(struct policy_meta, "name", F_TEXT, name, 1, 0, 200),
	FLD(struct policy_meta, "owner", F_TEXT, owner, 1, 0, 200),
	FLD(struct policy_meta, "stats_min_cell", F_UINT, stats_min_cell, 0, 2, 100),
	FLD(struct policy_meta, "feedback", F_FEEDBACK, feedback_mask, 0, 0, 0),
	FLD(struct policy_meta, "interventions", F_TEXT, interventions, 0, 0, 1000),
	FLD(struct policy_meta, "resident_reports", F_TEXT, resident_reports, 0, 0, 200),
};

static const struct field category_fields[] = {
	FLD(sp_policy_category, "description", F_TEXT, description, 1, 0, 1000),
	FLD(sp_policy_category, "default_weight", F_INT, default_weight, 1, 1, 3),
	FLD(sp_policy_category, "retention_days", F_UINT, retention_days, 1, 1, 3650),
	FLD(sp_policy_category, "retention_w1", F_DURATION, retention_w[1], 0, 1, 3650),
	FLD(sp_policy_category, "retention_w2", F_DURATION, retention_w[2], 0, 1, 3650),
	FLD(sp_policy_category, "retention_w3", F_DURATION, retention_w[3], 0, 1, 3650),
	FLD(sp_policy_category, "retention_escalated", F_DURATION, retention_escalated, 0, 1, 3650),
};

static const struct field escalation_fields[] = {
	FLD(sp_policy_escalation, "window_days", F_UINT, window_days, 1, 1, 3650),
	FLD(sp_policy_escalation, "min_orgs", F_UINT, min_orgs, 0, 1, 100),
	FLD(sp_policy_escalation, "min_weight_sum", F_UINT, min_weight_sum, 0, 1, 1000),
	FLD(sp_policy_escalation, "min_weight", F_INT, min_weight, 0, 1, 3),
	FLD(sp_policy_escalation, "to_role", F_ROLE, to_role, 1, 0, 0),
	FLD(sp_policy_escalation, "kind", F_KINDS, kind_mask, 0, 0, 0),
	FLD(sp_policy_escalation, "table", F_ID, table, 0, 0, 0),
	FLD(sp_policy_escalation, "basis", F_TEXT, basis, 1, 0, 1000),
	FLD(sp_policy_escalation, "purpose", F_TEXT, purpose, 1, 0, 2000),
};

static const struct field match_fields[] = {
	FLD(sp_policy_match, "window_days", F_UINT, window_days, 1, 1, 3650),
	FLD(sp_policy_match, "basis", F_TEXT, basis, 1, 0, 1000),
	FLD(sp_policy_match, "purpose", F_TEXT, purpose, 1, 0, 2000),
};

static const struct field rule_fields[] = {
	FLD(sp_policy_rule, "category", F_CATREF, category, 1, 0, 0),
	FLD(sp_policy_rule, "kind", F_KINDS, kind_mask, 0, 0, 0),
	FLD(sp_policy_rule, "weights", F_WEIGHTS, weight_mask, 1, 0, 0),
	FLD(sp_policy_rule, "role", F_ROLE, role, 1, 0, 0),
	FLD(sp_policy_rule, "tiers", F_TIERS, tiers_mask, 1, 0, 0),
	FLD(sp_policy_rule, "when", F_WHEN, when, 1, 0, 0),
	FLD(sp_policy_rule, "basis", F_TEXT, basis, 1, 0, 1000),
	FLD(sp_policy_rule, "purpose", F_TEXT, purpose, 1, 0, 2000),
};

static const struct field table_fields[] = {
	FLD(sp_policy_table, "name", F_TEXT, name, 1, 0, 200),
	FLD(sp_policy_table, "kind", F_KINDS, kind_mask, 1, 0, 0),
	FLD(sp_policy_table, "members", F_TEXT, members_text, 1, 0, 1000),
	FLD(sp_policy_table, "next", F_ID, next, 0, 0, 0),
	FLD(sp_policy_table, "requires_reason", F_ID, requires_reason, 0, 0, 0),
};

static const struct field limits_fields[] = {
	FLD(sp_policy_limits, "max_involvements", F_UINT, max_involvements, 0, 1, 100000000),
	FLD(sp_policy_limits, "involvements_per_day", F_UINT, involvements_per_day, 0, 1, 100000000),
	FLD(sp_policy_limits, "release_back_days", F_UINT, release_back_days, 0, 0, 3650),
	FLD(sp_policy_limits, "oprf_per_day", F_UINT, oprf_per_day, 0, 0, 100000000),
	FLD(sp_policy_limits, "oprf_per_request", F_UINT, oprf_per_request, 0, 1, 65535),
};

#define GROW(arr, n, cap)                                                        \
	do {                                                                     \
		if ((n) == (cap)) {                                              \
			size_t c_ = (cap) ? (cap) * 2 : 16;                      \
			void *a_ = realloc((arr), c_ * sizeof *(arr));           \
			if (!a_)                                                 \
				return NULL;                                     \
			(arr) = a_;                                              \
			(cap) = c_;                                              \
		}                                                                \
		memset(&(arr)[(n)], 0, sizeof *(arr));                           \
		return &(arr)[(n)++];                                            \
	} while (0)

static void *meta_add(sp_policy *p) { p->have_meta = 1; return &p->meta; }
static void *meta_find(const sp_policy *p, const char *id) { return p->have_meta ? (void *)&p->meta : NULL; }
static size_t meta_count(const sp_policy *p) { return p->have_meta ? 1 : 0; }
static void *meta_at(sp_policy *p, size_t i) { return &p->meta; }

static void *cat_add(sp_policy *p) { GROW(p->cats, p->ncats, p->capcats); }
static void *cat_find(const sp_policy *p, const char *id) { return (void *)sp_policy_category_find(p, id); }
static size_t cat_count(const sp_policy *p) { return p->ncats; }
static void *cat_at(sp_policy *p, size_t i) { return &p->cats[i]; }

static void *rule_add(sp_policy *p) { GROW(p->rules, p->nrules, p->caprules); }
static void *rule_find(const sp_policy *p, const char *id)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].id, id) == 0)
			return &p->rules[i];
	return NULL;
}
static size_t rule_count(const sp_policy *p) { return p->nrules; }
static void *rule_at(sp_policy *p, size_t i) { return &p->rules[i]; }

static void *esc_add(sp_policy *p) { GROW(p->escs, p->nescs, p->capescs); }
static void *esc_find(const sp_policy *p, const char *id)
{
	for (size_t i = 0; i < p->nescs; i++)
		if (strcmp(p->escs[i].id, id) == 0)
			return &p->escs[i];
	return NULL;
}
static size_t esc_count(const sp_policy *p) { return p->nescs; }
static void *esc_at(sp_policy *p, size_t i) { return &p->escs[i]; }

static void *match_add(sp_policy *p) { GROW(p->matches, p->nmatches, p->capmatches); }
static void *match_find(const sp_policy *p, const char *id)
{
	for (size_t i = 0; i < p->nmatches; i++)
		if (strcmp(p->matches[i].id, id) == 0)
			return &p->matches[i];
	return NULL;
}
static size_t match_count(const sp_policy *p) { return p->nmatches; }
static void *match_at(sp_policy *p, size_t i) { return &p->matches[i]; }

static void *table_add(sp_policy *p) { GROW(p->tables.v, p->tables.n, p->tables.cap); }
static void *table_find(const sp_policy *p, const char *id) { return (void *)sp_policy_table_find(p, id); }
static size_t table_count(const sp_policy *p) { return p->tables.n; }
static void *table_at(sp_policy *p, size_t i) { return &p->tables.v[i]; }
const sp_policy_tables *sp_policy_tables_of(const sp_policy *p) { return &p->tables; }

static void *limits_grow(sp_policy *p) { GROW(p->limits, p->nlimits, p->caplimits); }
static void *limits_add(sp_policy *p)
{
	sp_policy_limits *l = limits_grow(p);
	if (l) {
		l->release_back_days = SP_LIMITS_UNSET;
		l->oprf_per_day = SP_LIMIT_OPRF_PER_DAY_DEFAULT;
		l->oprf_per_request = SP_LIMIT_OPRF_PER_REQUEST_DEFAULT;
	}
	return l;
}
static void *limits_find(const sp_policy *p, const char *id) { return (void *)sp_policy_limits_find(p, id); }
static size_t limits_count(const sp_policy *p) { return p->nlimits; }
static void *limits_at(sp_policy *p, size_t i) { return &p->limits[i]; }
static const char *limits_check(const void *obj)
{
	return sp_role_known(((const sp_policy_limits *)obj)->role) ? NULL : "[limits ROLE]: unknown role";
}

/* A rule that can never fire would be signed off by mistake. */
static const char *esc_check(const void *obj)
{
	sp_policy_escalation *e = (sp_policy_escalation *)obj;
	if (!e->kind_mask)
		e->kind_mask = SP_POLICY_KIND_DEFAULT;
	/* An anonymous report has no subject to follow: it counts in the
	 * figures and never escalates. */
	if (e->kind_mask & SP_POLICY_KIND_BIT(0))
		return "kind 'none' (anonymous reports) never escalates";
	if (!e->min_orgs && !e->min_weight_sum && !e->min_weight)
		return "needs at least one condition: min_orgs, min_weight_sum or min_weight";
	return NULL;
}

/* Is name one of the comma-separated identifiers in list? */
static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *s = list; s && *s;) {
		while (*s == ' ' || *s == ',')
			s++;
		const char *e = s;
		while (*e && *e != ',' && *e != ' ')
			e++;
		if ((size_t)(e - s) == n && n && strncmp(s, name, n) == 0)
			return 1;
		s = e;
	}
	return 0;
}

/* Does every word of a comma list pass ok()? An empty list does. */
static int each_word(const char *list, int (*ok)(const char *word))
{
	char word[64];
	for (const char *s = list; s && *s;) {
		while (*s == ' ' || *s == ',')
			s++;
		size_t n = 0;
		while (s[n] && s[n] != ',' && s[n] != ' ')
			n++;
		if (n == 0)
			break;
		if (n >= sizeof word)
			return 0;
		memcpy(word, s, n);
		word[n] = '\0';
		if (!ok(word))
			return 0;
		s += n;
	}
	return 1;
}

static int ident_ok(const char *w)
{
	return sp_ident_ok(w);
}

static const char *meta_check(const void *obj)
{
	const struct policy_meta *m = obj;
	if (!each_word(m->interventions, ident_ok))
		return "interventions: a comma list of identifiers (a-z, 0-9, '-', '.'), each at most 63 characters";
	if (!each_word(m->resident_reports, sp_role_known))
		return "resident_reports: a comma list of known roles";
	return NULL;
}

static const char *rule_check(const void *obj)
{
	sp_policy_rule *r = (sp_policy_rule *)obj;
	if (!r->kind_mask)
		r->kind_mask = SP_POLICY_KIND_DEFAULT;
	/* A report without a subject is counted in the figures, never shared. */
	if (r->kind_mask & SP_POLICY_KIND_BIT(0))
		return "kind 'none' (anonymous reports without a subject) is never shared: they count only in the figures";
	return NULL;
}

static const char *cat_check(const void *obj)
{
	static char msg[160];
	const sp_policy_category *cat = obj;
	const char *w = sp_policy_profiling_word(cat->id);
	if (!w)
		w = sp_policy_profiling_word(cat->description);
	if (w) {
		snprintf(msg, sizeof msg, "profiling: a category about ethnicity, nationality or religion "
		                          "is refused (matched \"%s\"; docs/decisions.md)", w);
		return msg;
	}
	return NULL;
}

#define NFIELDS(a) (sizeof a / sizeof a[0])
static const struct kind kinds[] = {
	{ "policy", 0, 1, policy_fields, NFIELDS(policy_fields), (size_t)-1,
	  offsetof(struct policy_meta, line), meta_add, meta_find, meta_count, meta_at, meta_check },
	{ "category", 1, 0, category_fields, NFIELDS(category_fields),
	  offsetof(sp_policy_category, id), offsetof(sp_policy_category, line),
	  cat_add, cat_find, cat_count, cat_at, cat_check },
	{ "rule", 1, 0, rule_fields, NFIELDS(rule_fields),
	  offsetof(sp_policy_rule, id), offsetof(sp_policy_rule, line),
	  rule_add, rule_find, rule_count, rule_at, rule_check },
	{ "escalation", 1, 0, escalation_fields, NFIELDS(escalation_fields),
	  offsetof(sp_policy_escalation, id), offsetof(sp_policy_escalation, line),
	  esc_add, esc_find, esc_count, esc_at, esc_check },
	{ "match", 1, 0, match_fields, NFIELDS(match_fields),
	  offsetof(sp_policy_match, id), offsetof(sp_policy_match, line),
	  match_add, match_find, match_count, match_at, NULL },
	{ "limits", 1, 0, limits_fields, NFIELDS(limits_fields),
	  offsetof(sp_policy_limits, role), offsetof(sp_policy_limits, line),
	  limits_add, limits_find, limits_count, limits_at, limits_check },
	{ "table", 1, 0, table_fields, NFIELDS(table_fields),
	  offsetof(sp_policy_table, id), offsetof(sp_policy_table, line),
	  table_add, table_find, table_count, table_at, sp_policy_table_check },
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

#define AT(obj, off, type) ((type *)((char *)(obj) + (off)))

/* ---- parse context -------------------------------------------------------- */

struct pctx {
	sp_ini_reader rd;       /* line numbers, continuation, first error */
	sp_policy *p;
	const char *file;
	const struct kind *kind;
	void *obj;
	int nkeys;              /* keys seen in the current section */
	const struct field *last;
	int seen[MAX_FIELDS];   /* line of each key in the current section */
};

static void fail(struct pctx *c, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct pctx *c, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sp_ini_vfail(&c->rd, line, fmt, ap);
	va_end(ap);
}

/* Required keys present; called when a section ends. */
static void finish_section(struct pctx *c)
{
	if (!c->kind || c->rd.err_line)
		return;
	for (size_t i = 0; i < c->kind->nfields; i++)
		if (c->kind->fields[i].required && !c->seen[i])
			fail(c, *AT(c->obj, c->kind->line_off, int),
			     "[%s%s%s]: missing key '%s'", c->kind->name,
			     c->kind->has_id ? " " : "",
			     c->kind->has_id ? *AT(c->obj, c->kind->id_off, const char *) : "",
			     c->kind->fields[i].key);
	if (!c->rd.err_line && c->kind->check) {
		const char *msg = c->kind->check(c->obj);
		if (msg)
			fail(c, *AT(c->obj, c->kind->line_off, int), "[%s%s%s]: %s", c->kind->name,
			     c->kind->has_id ? " " : "",
			     c->kind->has_id ? *AT(c->obj, c->kind->id_off, const char *) : "", msg);
	}
	c->kind = NULL;
	c->obj = NULL;
}

/* A new [section] begins: close the previous one first. */
static void on_section(void *user)
{
	finish_section(user);
}

/* ---- value parsers -------------------------------------------------------- */

static const char *skipws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A comma list of words -> bit mask (1 << lookup(word)); `what` names the
 * list in errors ("tier", "kind") and `known` lists the words. */
static int parse_word_list(struct pctx *c, const char *v, unsigned *mask, int (*lookup)(const char *),
                           int limit, const char *what, const char *known)
{
	char item[32], pb[48];
	unsigned m = 0;
	const char *s = v;
	for (;;) {
		size_t n = 0;
		int t;
		s = skipws(s);
		while (*s && *s != ',' && *s != ' ' && *s != '\t') {
			if (n + 1 >= sizeof item)
				goto bad;
			item[n++] = *s++;
		}
		item[n] = '\0';
		s = skipws(s);
		if (n == 0 || (*s && *s != ','))
			goto bad;
		t = lookup(item);
		if (t < 0 || t >= limit) {
			fail(c, c->rd.line, "unknown %s '%s' (%s)", what, sp_ini_printable(item, pb, sizeof pb), known);
			return -1;
		}
		if (m & (1u << t)) {
			fail(c, c->rd.line, "%s '%s' listed twice", what, item);
			return -1;
		}
		m |= 1u << t;
		if (*s == '\0')
			break;
		s++;
	}
	*mask = m;
	return 0;
bad:
	fail(c, c->rd.line, "malformed %ss: expected a comma list of %s", what, known);
	return -1;
}

static int set_string(struct pctx *c, const struct field *f, const char *v)
{
	char **slot = AT(c->obj, f->off, char *);
	char *d = strdup(v);
	if (!d) {
		fail(c, c->rd.line, "out of memory");
		return -1;
	}
	*slot = d;
	return 0;
}

/* An indented line continues the previous key's text (inih hands it to us
 * under the same key). Joined with one space. */
static int append_text(struct pctx *c, const struct field *f, const char *v)
{
	char **slot = AT(c->obj, f->off, char *);
	size_t a, b;
	char *d;
	if (f->type != F_TEXT) {
		fail(c, c->rd.line, "key '%s' takes a single value; indented continuation lines "
		     "are for text", f->key);
		return -1;
	}
	if (!sp_text_ok(v, 4096, 0)) {
		fail(c, c->rd.line, "value of '%s' is not printable UTF-8", f->key);
		return -1;
	}
	a = strlen(*slot);
	b = strlen(v);
	if ((long)(a + 1 + b) > f->max) {
		fail(c, c->rd.line, "value of '%s' longer than %ld characters", f->key, f->max);
		return -1;
	}
	d = realloc(*slot, a + b + 2);
	if (!d) {
		fail(c, c->rd.line, "out of memory");
		return -1;
	}
	d[a] = ' ';
	memcpy(d + a + 1, v, b + 1);
	*slot = d;
	return 0;
}

static int set_value(struct pctx *c, const struct field *f, const char *v)
{
	char pb[48];
	long x;
	int w;
	if (!sp_text_ok(v, 4096, 0)) {
		fail(c, c->rd.line, "value of '%s' is not printable UTF-8", f->key);
		return -1;
	}
	if (!*v) {
		fail(c, c->rd.line, "empty value for '%s'", f->key);
		return -1;
	}
	switch (f->type) {
	case F_TEXT:
		if ((long)strlen(v) > f->max) {
			fail(c, c->rd.line, "value of '%s' longer than %ld characters", f->key, f->max);
			return -1;
		}
		return set_string(c, f, v);
	case F_ID:
		if (!sp_ident_ok(v) || strlen(v) > POLICY_ID_MAX) {
			fail(c, c->rd.line, "'%s' is not an identifier ([a-z0-9][a-z0-9.-]*)", f->key);
			return -1;
		}
		return set_string(c, f, v);
	case F_INT:
	case F_UINT:
		if (sp_policy_parse_long(v, &x) != 0 || x < f->min || x > f->max) {
			fail(c, c->rd.line, "'%s' must be a whole number from %ld to %ld",
			     f->key, f->min, f->max);
			return -1;
		}
		if (f->type == F_INT)
			*AT(c->obj, f->off, int) = (int)x;
		else
			*AT(c->obj, f->off, unsigned) = (unsigned)x;
		return 0;
	case F_WEIGHTS:
		if (sp_policy_parse_weights(v, AT(c->obj, f->off, unsigned)) != 0) {
			fail(c, c->rd.line, "malformed weights '%s': expected e.g. 1-3, 2,3 or 3 "
			     "(weights 1 to 3, ascending ranges, no repeats)",
			     sp_ini_printable(v, pb, sizeof pb));
			return -1;
		}
		return 0;
	case F_TIERS:
		return parse_word_list(c, v, AT(c->obj, f->off, unsigned), sp_tier_parse, SP_TIER_COUNT, "tier",
		                       "existence, contact, summary, full");
	case F_FEEDBACK:
		return parse_word_list(c, v, AT(c->obj, f->off, unsigned), sp_policy_feedback_parse,
		                       SP_FEEDBACK_COUNT, "feedback event",
		                       "delivered, opened, matched, escalated, referral, table");
	case F_KINDS:
		return parse_word_list(c, v, AT(c->obj, f->off, unsigned), sp_policy_kind_parse, 4, "kind",
		                       "person, location, business, none");
	case F_DURATION:
		if (sp_policy_parse_duration(v, f->max, AT(c->obj, f->off, unsigned)) != 0) {
			fail(c, c->rd.line, "'%s' must be a duration like '730 days', '12 hours' or "
			     "'30 seconds' (at most %ld days)", f->key, f->max);
			return -1;
		}
		return 0;
	case F_WHEN:
		w = sp_when_parse(v);
		if (w < SP_WHEN_IMMEDIATELY || w > SP_WHEN_ON_ESCALATION) {
			fail(c, c->rd.line, "unknown when '%s' (immediately, if-involved, on-escalation)",
			     sp_ini_printable(v, pb, sizeof pb));
			return -1;
		}
		*AT(c->obj, f->off, int) = w;
		return 0;
	case F_ROLE:
		if (!sp_role_known(v)) {
			fail(c, c->rd.line, "unknown role '%s'", sp_ini_printable(v, pb, sizeof pb));
			return -1;
		}
		/* The privacy officer supervises; it never receives signal content. */
		if (strcmp(v, "privacy-officer") == 0) {
			fail(c, c->rd.line, "role privacy-officer receives no signals");
			return -1;
		}
		if (strcmp(v, "pseudonymiser") == 0) {
			fail(c, c->rd.line, "role pseudonymiser receives no signals");
			return -1;
		}
		return set_string(c, f, v);
	case F_CATREF:
		/* Declared before use: the file then reads top-down, and the
		 * error can point at this very line. */
		if (!sp_policy_category_find(c->p, v)) {
			fail(c, c->rd.line, "unknown category '%s' (declare [category %s] before "
			     "the rules that use it)", sp_ini_printable(v, pb, sizeof pb),
			     sp_ini_printable(v, pb, sizeof pb));
			return -1;
		}
		return set_string(c, f, v);
	}
	return -1;
}

/* "category gia" -> kind + id; creates the object. */
static int begin_section(struct pctx *c, const char *section)
{
	char pb[64], word[32];
	const char *sp = strchr(section, ' ');
	size_t wl = sp ? (size_t)(sp - section) : strlen(section);
	const char *id = sp ? skipws(sp) : NULL;
	const struct kind *k = NULL;
	void *obj;
	int line = c->rd.header_line;

	/* inih truncates section names at 49 bytes without telling us. */
	if (strlen(section) >= 49) {
		fail(c, line, "section name too long");
		return -1;
	}
	if (wl < sizeof word) {
		memcpy(word, section, wl);
		word[wl] = '\0';
		for (size_t i = 0; i < NKINDS; i++)
			if (strcmp(kinds[i].name, word) == 0)
				k = &kinds[i];
	}
	if (!k) {
		fail(c, line, "unknown section [%s]", sp_ini_printable(section, pb, sizeof pb));
		return -1;
	}
	if (k->has_id && (!id || !*id)) {
		fail(c, line, "[%s] needs an id: [%s <id>]", k->name, k->name);
		return -1;
	}
	if (!k->has_id && id) {
		fail(c, line, "[%s] takes no id", k->name);
		return -1;
	}
	if (k->has_id && (!sp_ident_ok(id) || strlen(id) > POLICY_ID_MAX)) {
		fail(c, line, "[%s] id '%s' is not an identifier ([a-z0-9][a-z0-9.-]*, "
		     "at most %d characters)", k->name, sp_ini_printable(id, pb, sizeof pb), POLICY_ID_MAX);
		return -1;
	}
	if ((obj = k->find(c->p, id)) != NULL) {
		fail(c, line, "duplicate [%s%s%s], first at line %d", k->name, id ? " " : "",
		     id ? id : "", *AT(obj, k->line_off, int));
		return -1;
	}
	if (k->count(c->p) >= POLICY_MAX_OBJECTS || !(obj = k->add(c->p))) {
		fail(c, line, "too many sections or out of memory");
		return -1;
	}
	*AT(obj, k->line_off, int) = line;
	if (k->has_id && !(*AT(obj, k->id_off, char *) = strdup(id))) {
		fail(c, line, "out of memory");
		return -1;
	}
	c->kind = k;
	c->obj = obj;
	c->rd.cur_seq = c->rd.header_seq;
	c->nkeys = 0;
	c->last = NULL;
	memset(c->seen, 0, sizeof c->seen);
	return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct pctx *c = user;
	const struct field *f = NULL;
	char pb[48];
	size_t i;

	if (c->rd.err_line)
		return 0;
	if (!section[0] || c->rd.header_seq == 0) {
		fail(c, c->rd.line, "key outside a section");
		return 0;
	}
	if (strcmp(section, "report") == 0) /* open-ended keys: sp_policy_report.c */
		return sp_policy_report_key(c->p, &c->p->report, &c->rd, name, value) == 0;
	if (c->rd.cur_seq != c->rd.header_seq && begin_section(c, section) != 0)
		return 0;
	/* inih hands an indented line to us as more of the previous key. */
	if (c->rd.indented && c->last && strcmp(name, c->last->key) == 0)
		return append_text(c, c->last, value) == 0;
	for (i = 0; i < c->kind->nfields; i++)
		if (strcmp(c->kind->fields[i].key, name) == 0)
			f = &c->kind->fields[i];
	if (!f) {
		fail(c, c->rd.line, "unknown key '%s' in [%s]", sp_ini_printable(name, pb, sizeof pb),
		     c->kind->name);
		return 0;
	}
	i = (size_t)(f - c->kind->fields);
	if (c->seen[i]) {
		fail(c, c->rd.line, "key '%s' given twice in this section (first at line %d)",
		     f->key, c->seen[i]);
		return 0;
	}
	if (set_value(c, f, value) != 0)
		return 0;
	c->seen[i] = c->rd.line;
	c->nkeys++;
	c->last = f;
	return 1;
}

/* ---- load / free ---------------------------------------------------------- */

static void free_object(const struct kind *k, void *obj)
{
	if (k->has_id)
		free(*AT(obj, k->id_off, char *));
	for (size_t i = 0; i < k->nfields; i++) {
		enum ftype t = k->fields[i].type;
		if (t == F_TEXT || t == F_ID || t == F_ROLE || t == F_CATREF)
			free(*AT(obj, k->fields[i].off, char *));
	}
}

void sp_policy_free(sp_policy **pp)
{
	sp_policy *p;
	if (!pp || !*pp)
		return;
	p = *pp;
	for (size_t k = 0; k < NKINDS; k++)
		for (size_t i = 0, n = kinds[k].count(p); i < n; i++)
			free_object(&kinds[k], kinds[k].at(p, i));
	free(p->cats);
	free(p->rules);
	free(p->escs);
	free(p->matches);
	free(p->limits);
	sp_policy_report_free(&p->report);
	free(p->tables.v);
	free(p);
	*pp = NULL;
}

int sp_policy_load(const char *path, sp_policy **out, char *err, size_t errlen)
{
	int rc = SP_ECONFIG, r;
	uint8_t *buf = NULL;
	size_t len = 0;
	sp_policy *p = NULL;
	struct pctx c;

	memset(&c, 0, sizeof c);
	if (err && errlen)
		err[0] = '\0';
	if (!out)
		return SP_EINVAL;
	*out = NULL;
	if (!path) {
		rc = SP_EINVAL;
		goto out;
	}
	if ((r = sp_file_read(path, POLICY_MAX_FILE, &buf, &len)) != SP_OK) {
		if (err && errlen)
			snprintf(err, errlen, "%s:0: cannot read: %s", path, sp_strerror(r));
		rc = r;
		goto out;
	}
	p = calloc(1, sizeof *p);
	if (!p) {
		rc = SP_ENOMEM;
		goto out;
	}
	/* The version every signal and audit record carries: exactly these bytes. */
	crypto_generichash(p->hash, sizeof p->hash, buf, len, NULL, 0);

	c.p = p;
	c.file = path;
	c.rd.buf = buf;
	c.rd.len = len;
	c.rd.allow_continuation = 1; /* long legal texts continue on indented lines */
	c.rd.on_section = on_section;
	c.rd.user = &c;
	r = ini_parse_stream(sp_ini_read_line, &c.rd, handler, &c);
	/* inih's own first error wins when it comes before ours (e.g. a
	 * header without ']' makes later keys look misplaced). */
	if (r > 0 && (!c.rd.err_line || r < c.rd.err_line)) {
		c.rd.err_line = 0;
		fail(&c, r, "syntax error: expected [section], key = value or a comment");
	} else if (!c.rd.err_line && r < 0)
		fail(&c, 1, "cannot parse (inih error %d)", r);
	if (!c.rd.err_line && c.rd.header_seq && c.rd.cur_seq != c.rd.header_seq)
		fail(&c, c.rd.header_line, "empty section");
	finish_section(&c);
	(void)sp_policy_report_finish(p->report, &c.rd);
	if (!c.rd.err_line && !p->have_meta)
		fail(&c, 1, "missing [policy] section (version, name, owner)");
	if (!c.rd.err_line && p->ncats == 0)
		fail(&c, c.rd.line, "no [category <id>] sections");
	if (!c.rd.err_line) {
		char msg[400];
		int line = 0;
		if (sp_policy_tables_validate(p, &line, msg, sizeof msg) != 0)
			fail(&c, line, "%s", msg);
	}
	if (c.rd.err_line) {
		if (err && errlen)
			snprintf(err, errlen, "%s:%d: %s", path, c.rd.err_line, c.rd.err);
		goto out;
	}
	*out = p;
	p = NULL;
	rc = SP_OK;
out:
	sp_policy_free(&p);
	free(buf);
	return rc;
}

/* ---- queries -------------------------------------------------------------- */

const uint8_t *sp_policy_hash(const sp_policy *p)
{
	return p ? p->hash : NULL;
}

const sp_policy_limits *sp_policy_limits_find(const sp_policy *p, const char *role)
{
	for (size_t i = 0; p && role && i < p->nlimits; i++)
		if (strcmp(p->limits[i].role, role) == 0)
			return &p->limits[i];
	return NULL;
}

size_t sp_policy_limits_count(const sp_policy *p)
{
	return p->nlimits;
}

const sp_policy_limits *sp_policy_limits_at(const sp_policy *p, size_t i)
{
	return i < p->nlimits ? &p->limits[i] : NULL;
}

const char *sp_policy_name(const sp_policy *p)
{
	return p->meta.name;
}

const sp_policy_report *sp_policy_report_of(const sp_policy *p)
{
	return p->report;
}

const char *sp_policy_owner(const sp_policy *p)
{
	return p->meta.owner;
}

const char *sp_policy_version(const sp_policy *p)
{
	return p ? p->meta.version : NULL;
}

static const char *const feedback_names[SP_FEEDBACK_COUNT] = {
	"delivered", "opened", "matched", "escalated", "referral", "table",
};

int sp_policy_feedback_parse(const char *name)
{
	for (int i = 0; i < SP_FEEDBACK_COUNT; i++)
		if (strcmp(name, feedback_names[i]) == 0)
			return i;
	return -1;
}

const char *sp_policy_feedback_name(int event)
{
	return event >= 0 && event < SP_FEEDBACK_COUNT ? feedback_names[event] : "unknown";
}

unsigned sp_policy_feedback_mask(const sp_policy *p)
{
	if (p && p->meta.feedback_mask)
		return p->meta.feedback_mask;
	return (1u << SP_FEEDBACK_COUNT) - 1;
}

int sp_policy_intervention_known(const sp_policy *p, const char *type)
{
	return p && type && type[0] && in_list(p->meta.interventions, type);
}

int sp_policy_resident_reports_allowed(const sp_policy *p, const char *role)
{
	if (!p || !role || !role[0])
		return 0;
	if (!p->meta.resident_reports || !p->meta.resident_reports[0])
		return strcmp(role, "municipality") == 0;
	return in_list(p->meta.resident_reports, role);
}

const char *sp_policy_interventions(const sp_policy *p)
{
	return p && p->meta.interventions ? p->meta.interventions : "";
}

unsigned sp_policy_stats_min_cell(const sp_policy *p)
{
	return p && p->meta.stats_min_cell ? p->meta.stats_min_cell : 5;
}

const sp_policy_category *sp_policy_category_find(const sp_policy *p, const char *id)
{
	if (!p || !id)
		return NULL;
	for (size_t i = 0; i < p->ncats; i++)
		if (strcmp(p->cats[i].id, id) == 0)
			return &p->cats[i];
	return NULL;
}

size_t sp_policy_category_count(const sp_policy *p)
{
	return p ? p->ncats : 0;
}

const sp_policy_category *sp_policy_category_at(const sp_policy *p, size_t i)
{
	return p && i < p->ncats ? &p->cats[i] : NULL;
}

size_t sp_policy_rule_count(const sp_policy *p)
{
	return p ? p->nrules : 0;
}

const sp_policy_rule *sp_policy_rule_at(const sp_policy *p, size_t i)
{
	return p && i < p->nrules ? &p->rules[i] : NULL;
}

size_t sp_policy_escalation_count(const sp_policy *p)
{
	return p ? p->nescs : 0;
}

const sp_policy_escalation *sp_policy_escalation_at(const sp_policy *p, size_t i)
{
	return p && i < p->nescs ? &p->escs[i] : NULL;
}

size_t sp_policy_match_count(const sp_policy *p)
{
	return p ? p->nmatches : 0;
}

const sp_policy_match *sp_policy_match_at(const sp_policy *p, size_t i)
{
	return p && i < p->nmatches ? &p->matches[i] : NULL;
}

const sp_policy_rule *sp_policy_rule_find(const sp_policy *p, const char *id)
{
	return p && id ? rule_find(p, id) : NULL;
}

/* sp_policy_retention_s, sp_policy_entitlement, sp_policy_allows and
 * sp_policy_grants_for: sp_policy_grants.c. */
