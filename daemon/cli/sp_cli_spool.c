/* sp_cli_spool.c — `seinpost spool check`: a partner's export, checked
 * before it goes near a node (same parser as the node's spool). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <jansson.h>

#include "sp_cli.h"
#include "sp_policy.h"
#include "sp_spool.h"
#include "sp_util.h"
#include "sp_wire.h"

/* One file's verdict: text on stdout, or an object appended to arr. */
struct verdict {
	json_t *arr;
	const char *path;
	json_t *problems;
};

static void problem(struct verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct verdict *v, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (v->arr)
		json_array_append_new(v->problems, json_string(line));
	else
		printf("  %s\n", line);
}

static void refused(struct verdict *v)
{
	if (!v->arr)
		printf("%s: refused:\n", v->path);
}

static int finish(struct verdict *v, int ok, const char *kind, const char *key, size_t involvements)
{
	if (v->arr) {
		json_t *o = json_pack("{s:s,s:b,s:o}", "file", v->path, "ok", ok, "problems", v->problems);
		if (o && kind)
			json_object_set_new(o, "kind", json_string(kind));
		if (o && key)
			json_object_set_new(o, "idempotency_key", json_string(key));
		if (o && kind && strcmp(kind, "involvements") == 0)
			json_object_set_new(o, "involvements", json_integer((json_int_t)involvements));
		json_array_append_new(v->arr, o);
	}
	return ok ? 0 : 1;
}

/* One file: 0 when the node would take it (as far as can be told without
 * the node: the policy's categories only with --policy). */
static int check_file(const char *path, const sp_policy *pol, json_t *arr)
{
	char errs[SP_SPOOL_ERRORS_MAX];
	uint8_t *buf = NULL, *req = NULL;
	size_t len, reqlen;
	int kind, rc;
	struct verdict v = { .arr = arr, .path = path, .problems = arr ? json_array() : NULL };

	rc = sp_file_read(path, SP_MAX_FRAME_DEFAULT, &buf, &len);
	if (rc == SP_ESIZE) {
		refused(&v);
		problem(&v, "file too large: the limit is %u bytes (max_frame_kb)", SP_MAX_FRAME_DEFAULT);
		return finish(&v, 0, NULL, NULL, 0);
	}
	if (rc != SP_OK) {
		refused(&v);
		problem(&v, "cannot read it");
		return finish(&v, 0, NULL, NULL, 0);
	}
	rc = sp_spool_parse((const char *)buf, len, sp_now_s(), &kind, &req, &reqlen, errs, sizeof errs);
	sodium_memzero(buf, len);
	free(buf);
	if (rc != SP_OK) {
		refused(&v);
		for (char *line = strtok(errs, "\n"); line; line = strtok(NULL, "\n"))
			problem(&v, "%s", line);
		return finish(&v, 0, NULL, NULL, 0);
	}
	Seinpost__LocalRequest *r = seinpost__local_request__unpack(NULL, reqlen, req);
	sodium_memzero(req, reqlen);
	free(req);
	if (!r) {
		refused(&v);
		problem(&v, "internal: the checked request does not decode");
		return finish(&v, 0, NULL, NULL, 0);
	}
	if (kind == SP_SPOOL_SIGNAL && pol && !sp_policy_category_find(pol, r->submit->category)) {
		refused(&v);
		problem(&v, "unknown category '%s': not in the sharing policy", r->submit->category);
		rc = finish(&v, 0, "signal", r->submit->idempotency_key, 0);
	} else if (kind == SP_SPOOL_SIGNAL) {
		if (!arr)
			printf("%s: ok: signal, idempotency key %s%s\n", path, r->submit->idempotency_key,
			       pol ? "" : " (category not checked: give --policy)");
		rc = finish(&v, 1, "signal", r->submit->idempotency_key, 0);
	} else {
		if (!arr)
			printf("%s: ok: %zu involvement%s\n", path, r->involve_batch->n_items,
			       r->involve_batch->n_items == 1 ? "" : "s");
		rc = finish(&v, 1, "involvements", NULL, r->involve_batch->n_items);
	}
	seinpost__local_request__free_unpacked(r, NULL);
	return rc;
}

int sp_cli_spool(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy = NULL;
	sp_policy *pol = NULL;
	json_t *arr = NULL;
	char err[512];
	int o, bad = 0, json = 0;

	if (argc < 2 || strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "usage: seinpost spool check [--policy FILE] [--json] FILE...\n");
		return SP_EXIT_USAGE;
	}
	optind = 1;
	while ((o = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (o) {
		case 'p': policy = optarg; break;
		case 'j': json = 1; break;
		default:
			return SP_EXIT_USAGE;
		}
	}
	if (optind + 1 >= argc) {
		fprintf(stderr, "usage: seinpost spool check [--policy FILE] [--json] FILE...\n");
		return SP_EXIT_USAGE;
	}
	if (policy && sp_policy_load(policy, &pol, err, sizeof err) != SP_OK) {
		fprintf(stderr, "seinpost spool check: policy: %s\n", err);
		return SP_EXIT_BAD;
	}
	if (json)
		arr = json_array();
	for (int i = optind + 1; i < argc; i++)
		bad += check_file(argv[i], pol, arr);
	sp_policy_free(&pol);
	if (json && sp_cli_print_json(arr) != SP_EXIT_OK)
		return SP_EXIT_BAD;
	return bad ? SP_EXIT_BAD : SP_EXIT_OK;
}
