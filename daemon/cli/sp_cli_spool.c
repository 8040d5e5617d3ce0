/* sp_cli_spool.c — `seinpost spool check`: a partner's export, checked
 * before it goes near a node (same parser as the node's spool). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sp_cli.h"
#include "sp_policy.h"
#include "sp_spool.h"
#include "sp_util.h"
#include "sp_wire.h"

/* One file: 0 when the node would take it (as far as can be told without
 * the node: the policy's categories only with --policy). */
static int check_file(const char *path, const sp_policy *pol)
{
	char errs[SP_SPOOL_ERRORS_MAX];
	uint8_t *buf = NULL, *req = NULL;
	size_t len, reqlen;
	int kind, rc;

	rc = sp_file_read(path, SP_MAX_FRAME_DEFAULT, &buf, &len);
	if (rc == SP_ESIZE) {
		printf("%s: refused: file too large: the limit is %u bytes (max_frame_kb)\n", path, SP_MAX_FRAME_DEFAULT);
		return 1;
	}
	if (rc != SP_OK) {
		printf("%s: cannot read it\n", path);
		return 1;
	}
	rc = sp_spool_parse((const char *)buf, len, sp_now_s(), &kind, &req, &reqlen, errs, sizeof errs);
	sodium_memzero(buf, len);
	free(buf);
	if (rc != SP_OK) {
		printf("%s: refused:\n", path);
		for (char *line = strtok(errs, "\n"); line; line = strtok(NULL, "\n"))
			printf("  %s\n", line);
		return 1;
	}
	{
		Seinpost__LocalRequest *r = seinpost__local_request__unpack(NULL, reqlen, req);
		sodium_memzero(req, reqlen);
		free(req);
		if (!r)
			return 1;
		if (kind == SP_SPOOL_SIGNAL && pol && !sp_policy_category_find(pol, r->submit->category)) {
			printf("%s: refused:\n  unknown category '%s': not in the sharing policy\n", path, r->submit->category);
			rc = 1;
		} else if (kind == SP_SPOOL_SIGNAL) {
			printf("%s: ok: signal, idempotency key %s%s\n", path, r->submit->idempotency_key,
			       pol ? "" : " (category not checked: give --policy)");
		} else {
			printf("%s: ok: %zu involvements\n", path, r->involve_batch->n_items);
		}
		seinpost__local_request__free_unpacked(r, NULL);
	}
	return rc;
}

int sp_cli_spool(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy = NULL;
	sp_policy *pol = NULL;
	char err[512];
	int o, bad = 0;

	if (argc < 2 || strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "usage: seinpost spool check [--policy FILE] FILE...\n");
		return 2;
	}
	optind = 1;
	while ((o = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (o) {
		case 'p': policy = optarg; break;
		case 'h':
			puts("usage: seinpost spool check [--policy FILE] FILE...\n"
			     "Checks spool files (docs/spool.md) as a node's spool would, without a node:\n"
			     "JSON, fields, BSN elfproef, weight, dates, sizes; with --policy also the category.\n"
			     "Prints every problem (never a value from the file); exit 1 when any file is refused.");
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 >= argc) {
		fprintf(stderr, "usage: seinpost spool check [--policy FILE] FILE...\n");
		return 2;
	}
	if (policy && sp_policy_load(policy, &pol, err, sizeof err) != SP_OK) {
		fprintf(stderr, "seinpost spool check: policy: %s\n", err);
		return 1;
	}
	for (int i = optind + 1; i < argc; i++)
		bad += check_file(argv[i], pol);
	sp_policy_free(&pol);
	return bad ? 1 : 0;
}
