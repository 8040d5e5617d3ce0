/* sp_spool_parse.c — one spool file's bytes -> a local request (pure: no
 * files, no store, no clock), or every problem with field and reason. */
#include "sp_spool.h"

#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_bsn.h"
#include "sp_involve.h"
#include "sp_util.h"
#include "sp_wire.h"

#define MAX_PROBLEMS 50   /* lines in one .error file */

/* ---- problems: one line each, field and reason, never a value ---------- */

struct problems {
	char *buf;
	size_t len, used;
	int rc, n, full;
};

#define MORE "(more problems not listed)\n"
#define PROBLEM_MAX 240      /* room kept for one more line and the MORE note */

static void problem(struct problems *p, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void problem(struct problems *p, int rc, const char *fmt, ...)
{
	va_list ap;
	int w;
	if (!p->rc)
		p->rc = rc;
	if (p->full)
		return;
	if (++p->n > MAX_PROBLEMS || p->used + PROBLEM_MAX + sizeof MORE > p->len) {
		snprintf(p->buf + p->used, p->len - p->used, MORE);
		p->full = 1;
		return;
	}
	va_start(ap, fmt);
	w = vsnprintf(p->buf + p->used, PROBLEM_MAX, fmt, ap);
	va_end(ap);
	if (w < 0)
		return;
	p->used += (size_t)w < PROBLEM_MAX - 1 ? (size_t)w : PROBLEM_MAX - 1;
	p->buf[p->used++] = '\n';
	p->buf[p->used] = '\0';
}

/* A field name from the file is echoed only when it looks like one: a key
 * could itself be a BSN or a name. */
static const char *shown_key(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > 32)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || k[i] == '_' || (k[i] >= 'A' && k[i] <= 'Z')))
			return NULL;
	return k;
}

static void unknown_field(struct problems *p, const char *where, const char *k)
{
	const char *s = shown_key(k);
	if (s)
		problem(p, SP_EMALFORMED, "%sunknown field '%s'", where, s);
	else
		problem(p, SP_EMALFORMED, "%sunknown field (its name is not shown: not a plain word)", where);
}

static int key_in(const char *k, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(k, *list) == 0)
			return 1;
	return 0;
}

/* An optional string field: NULL when absent, a problem when not a string. */
static const char *opt_string(struct problems *p, json_t *o, const char *where, const char *field)
{
	json_t *v = json_object_get(o, field);
	if (!v)
		return NULL;
	if (!json_is_string(v)) {
		problem(p, SP_EMALFORMED, "field '%s%s': must be a string", where, field);
		return NULL;
	}
	return json_string_value(v);
}

/* Free text: the limits of sp_wire.h (which checks again on the node's
 * decode), here so that every oversized field is listed at once. */
static const char *text_field(struct problems *p, json_t *o, const char *field, size_t max, int newline)
{
	const char *v = opt_string(p, o, "", field), *why;
	if (v && strlen(v) > max)
		problem(p, SP_ESIZE, "field '%s': longer than %zu bytes", field, max);
	else if (v && (why = sp_text_problem(v, max, newline)))
		problem(p, SP_EMALFORMED, "field '%s': not acceptable text: %s", field, why);
	return v;
}

static int key_ok(const char *k)
{
	size_t n = strlen(k);
	if (n < 1 || n > SP_IDEMPOTENCY_KEY_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (k[i] < 0x20 || k[i] > 0x7e)
			return 0;
	return 1;
}

static int pack_request(Seinpost__LocalRequest *r, uint8_t **out, size_t *outlen, struct problems *p)
{
	int rc = sp_wire_pack(&r->base, out, outlen);
	if (rc != SP_OK)
		problem(p, rc, "internal: the request could not be built (%s)", sp_strerror(rc));
	return rc;
}

static int parse_signal(json_t *root, const char *buf, size_t len, uint8_t **out, size_t *outlen,
                        struct problems *p)
{
	static const char *const fields[] = { "type", "idempotency_key", "category", "weight", "bsn", "kvk", "bag",
	                                      "name", "birthdate", "address", "summary", "contact", "narrative",
	                                      "resident_report", NULL };
	Seinpost__SubmitRequest s = SEINPOST__SUBMIT_REQUEST__INIT;
	Seinpost__LocalRequest r = SEINPOST__LOCAL_REQUEST__INIT;
	const char *k, *key;
	char norm[24], keybuf[8 + 2 * SP_SPOOL_KEY_BYTES + 1];
	json_t *v;
	int nsubj;

	json_object_foreach(root, k, v) {
		if (!key_in(k, fields))
			unknown_field(p, "", k);
	}
	s.category = (char *)opt_string(p, root, "", "category");
	if (!json_object_get(root, "category"))
		problem(p, SP_ECATEGORY, "field 'category': required (a category of the sharing policy)");
	else if (s.category && !sp_ident_ok(s.category))
		problem(p, SP_ECATEGORY, "field 'category': not a category name (lower-case letters, digits, '.', '-')");
	v = json_object_get(root, "weight");
	if (v) {
		json_int_t w = json_is_integer(v) ? json_integer_value(v) : 0;
		if (w < 1 || w > 3)
			problem(p, SP_EWEIGHT, "field 'weight': must be 1 (low), 2 or 3 (high)");
		else
			s.weight = (uint32_t)w;
	}
	v = json_object_get(root, "resident_report");
	if (v && !json_is_boolean(v))
		problem(p, SP_EINVAL, "field 'resident_report': must be true or false");
	s.resident_report = v && json_is_true(v);
	if (s.resident_report && json_object_get(root, "bsn"))
		problem(p, SP_EINVAL, "field 'bsn': an anonymous resident report is never about a person");
	/* Exactly one subject, as with --bsn / --kvk / --bag; a resident report
	 * may have none (counted in the figures only). */
	nsubj = !!json_object_get(root, "bsn") + !!json_object_get(root, "kvk") + !!json_object_get(root, "bag");
	if (nsubj == 0 && s.resident_report) {
		/* no subject */
	} else if (nsubj == 0) {
		problem(p, SP_EINVAL, "field 'bsn': required (or 'kvk' for a business, 'bag' for a location)");
	} else if (nsubj > 1) {
		problem(p, SP_EINVAL, "fields 'bsn', 'kvk', 'bag': give exactly one subject");
	} else if ((s.subject_id = (char *)opt_string(p, root, "", "bsn"))) {
		s.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
		if (sp_bsn_normalise(s.subject_id, norm) != SP_OK)
			problem(p, SP_EBSN, "field 'bsn': invalid BSN: must be 9 digits (8 with a leading zero dropped) "
			        "passing the elfproef");
	} else if ((s.subject_id = (char *)opt_string(p, root, "", "kvk"))) {
		s.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_BUSINESS;
		if (sp_kvk_normalise(s.subject_id, norm) != SP_OK)
			problem(p, SP_EINVAL, "field 'kvk': invalid KvK number: must be 8 digits");
	} else if ((s.subject_id = (char *)opt_string(p, root, "", "bag"))) {
		s.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_LOCATION;
		if (sp_bag_normalise(s.subject_id, norm) != SP_OK)
			problem(p, SP_EINVAL, "field 'bag': invalid BAG id: must be 16 digits");
	}
	sodium_memzero(norm, sizeof norm);
	s.birthdate = (char *)opt_string(p, root, "", "birthdate");
	if (s.birthdate && sp_date_check(s.birthdate) != SP_OK)
		problem(p, SP_EDATE, "field 'birthdate': expected YYYY-MM-DD, a real date in the past");
	s.name = (char *)text_field(p, root, "name", SP_MAX_NAME, 0);
	s.address = (char *)text_field(p, root, "address", SP_MAX_ADDRESS, 0);
	s.summary = (char *)text_field(p, root, "summary", SP_MAX_SUMMARY, 1);
	s.contact = (char *)text_field(p, root, "contact", SP_MAX_CONTACT, 0);
	s.narrative = (char *)text_field(p, root, "narrative", SP_MAX_NARRATIVE, 1);
	key = opt_string(p, root, "", "idempotency_key");
	if (key && !key_ok(key))
		problem(p, SP_EINVAL, "field 'idempotency_key': must be 1 to %d printable ASCII characters",
		        SP_IDEMPOTENCY_KEY_MAX);
	if (p->rc)
		return p->rc;
	if (!key) {
		/* No key given: the file's bytes are the key, so the same file
		 * dropped twice is one signal. */
		uint8_t h[SP_SPOOL_KEY_BYTES];
		crypto_generichash(h, sizeof h, (const uint8_t *)buf, len, NULL, 0);
		memcpy(keybuf, "blake2b:", 8);
		sp_hex(h, sizeof h, keybuf + 8);
		key = keybuf;
	}
	s.idempotency_key = (char *)key;
	r.body_case = SEINPOST__LOCAL_REQUEST__BODY_SUBMIT;
	r.submit = &s;
	return pack_request(&r, out, outlen, p);
}

static int parse_involvements(json_t *root, uint64_t now_s, uint8_t **out, size_t *outlen, struct problems *p)
{
	static const char *const fields[] = { "type", "involvements", NULL };
	static const char *const item_fields[] = { "bsn", "ref", "until", "remove", NULL };
	Seinpost__InvolveBatchRequest b = SEINPOST__INVOLVE_BATCH_REQUEST__INIT;
	Seinpost__LocalRequest r = SEINPOST__LOCAL_REQUEST__INIT;
	Seinpost__InvolveRequest *items = NULL, **ptrs = NULL;
	json_t *arr, *v;
	const char *k;
	size_t n;
	int rc;

	json_object_foreach(root, k, v) {
		if (!key_in(k, fields))
			unknown_field(p, "", k);
	}
	arr = json_object_get(root, "involvements");
	if (!arr) {
		problem(p, SP_EMALFORMED, "field 'involvements': required (a list of {\"bsn\", \"ref\", \"until\"})");
		return p->rc;
	}
	n = json_is_array(arr) ? json_array_size(arr) : 0;
	if (!json_is_array(arr) || n < 1 || n > SP_INVOLVE_BATCH_MAX) {
		problem(p, SP_EMALFORMED, "field 'involvements': must be a list of 1 to %d entries (split longer lists "
		        "over several files)", SP_INVOLVE_BATCH_MAX);
		return p->rc;
	}
	items = calloc(n, sizeof *items);
	ptrs = calloc(n, sizeof *ptrs);
	if (!items || !ptrs) {
		problem(p, SP_ENOMEM, "internal: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(arr, i);
		char where[48], norm[24];
		const char *bsn, *ref, *until;
		json_t *rm;
		uint64_t t;
		snprintf(where, sizeof where, "involvements[%zu].", i);
		seinpost__involve_request__init(&items[i]);
		ptrs[i] = &items[i];
		if (!json_is_object(it)) {
			problem(p, SP_EMALFORMED, "field 'involvements[%zu]': must be an object", i);
			continue;
		}
		json_object_foreach(it, k, v) {
			if (!key_in(k, item_fields)) {
				char w[64];
				snprintf(w, sizeof w, "field 'involvements[%zu]': ", i);
				unknown_field(p, w, k);
			}
		}
		bsn = opt_string(p, it, where, "bsn");
		ref = opt_string(p, it, where, "ref");
		until = opt_string(p, it, where, "until");
		if (!json_object_get(it, "bsn"))
			problem(p, SP_EBSN, "field '%sbsn': required", where);
		else if (bsn && sp_bsn_normalise(bsn, norm) != SP_OK)
			problem(p, SP_EBSN, "field '%sbsn': invalid BSN: must be 9 digits (8 with a leading zero dropped) "
			        "passing the elfproef", where);
		sodium_memzero(norm, sizeof norm);
		if (ref && (strlen(ref) > SP_INVOLVE_REF_MAX || !sp_text_ok(ref, SP_INVOLVE_REF_MAX, 0)))
			problem(p, SP_EINVAL, "field '%sref': must be at most %d printable characters", where,
			        SP_INVOLVE_REF_MAX);
		rm = json_object_get(it, "remove");
		if (rm && !json_is_boolean(rm))
			problem(p, SP_EMALFORMED, "field '%sremove': must be true or false", where);
		else if (json_is_true(rm) && (ref || until))
			problem(p, SP_EINVAL, "field '%sremove': a removal takes only the BSN (no ref, no until)", where);
		items[i].remove = json_is_true(rm);
		if (until && sp_involve_parse_date(until, &t) != SP_OK)
			problem(p, SP_EDATE, "field '%suntil': expected YYYY-MM-DD, a real date", where);
		else if (until && t <= now_s)
			problem(p, SP_EEXPIRED, "field '%suntil': the date has passed; an involvement must end in the future",
			        where);
		items[i].subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
		items[i].subject_id = (char *)bsn;
		items[i].ref = (char *)(ref ? ref : "");
		items[i].until = (char *)(until ? until : "");
	}
	if (p->rc)
		goto out;
	b.n_items = n;
	b.items = ptrs;
	r.body_case = SEINPOST__LOCAL_REQUEST__BODY_INVOLVE_BATCH;
	r.involve_batch = &b;
	(void)pack_request(&r, out, outlen, p);
out:
	rc = p->rc;
	free(items);
	free(ptrs);
	return rc;
}

int sp_spool_parse(const char *buf, size_t len, uint64_t now_s, int *kind, uint8_t **req, size_t *reqlen,
                   char *errs, size_t errlen)
{
	struct problems p = { .buf = errs, .len = errlen };
	json_error_t je;
	json_t *root, *type;
	const char *ts;
	int rc;

	*req = NULL;
	*reqlen = 0;
	*kind = 0;
	if (errlen < 2 * PROBLEM_MAX)
		return SP_EINVAL;
	errs[0] = '\0';
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		/* jansson quotes the token near the error ("near '12345678x'"):
		 * that could be a BSN, so the quote is cut off. */
		char text[JSON_ERROR_TEXT_LENGTH];
		char *near;
		snprintf(text, sizeof text, "%s", je.text);
		if ((near = strstr(text, " near '")))
			*near = '\0';
		problem(&p, SP_EMALFORMED, "not JSON: line %d column %d: %s%s", je.line, je.column, text,
		        je.position >= (int)len || strstr(je.text, "end of file") ? " (half-written file?)" : "");
		return p.rc;
	}
	if (!json_is_object(root)) {
		problem(&p, SP_EMALFORMED, "not a JSON object: a spool file holds one object {\"type\": ...}");
		goto out;
	}
	type = json_object_get(root, "type");
	ts = json_is_string(type) ? json_string_value(type) : NULL;
	if (ts && strcmp(ts, "signal") == 0) {
		*kind = SP_SPOOL_SIGNAL;
		(void)parse_signal(root, buf, len, req, reqlen, &p);
	} else if (ts && strcmp(ts, "involvement") == 0) {
		*kind = SP_SPOOL_INVOLVE;
		(void)parse_involvements(root, now_s, req, reqlen, &p);
	} else {
		problem(&p, SP_EMALFORMED, "field 'type': %s (\"signal\" or \"involvement\")", type ? "unknown" : "required");
	}
out:
	json_decref(root);
	rc = p.rc;
	if (rc != SP_OK) {
		free(*req);
		*req = NULL;
		*reqlen = 0;
		*kind = 0;
	}
	return rc;
}
