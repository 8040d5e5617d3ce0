/* sp_cli_audit.c — audit verify / audit log on a broker's or node's state. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seinpost.pb-c.h"
#include "sp_audit.h"
#include "sp_cli.h"
#include "sp_config.h"
#include "sp_signal.h"
#include "sp_store.h"
#include "sp_util.h"

struct log_ctx {
	int json;
	json_t *arr;
};

static void hex_or_empty(const ProtobufCBinaryData *b, size_t n, char *out)
{
	if (b->len >= n)
		sp_hex(b->data, n, out);
	else
		out[0] = '\0';
}

/* One record as one text line: the shape of `audit log` wherever it is
 * printed (here, and the privacy officer's copy in sp_cli_fg.c). */
void sp_cli_audit_record_print(const Seinpost__AuditRecord *r)
{
	char when[32], sid[SP_ID_HEX], pseudo[17];
	sp_iso_time(r->time, when, sizeof when);
	hex_or_empty(&r->signal_id, 16, sid);
	hex_or_empty(&r->pseudonym, 8, pseudo);
	printf("%6llu %s %-13s %-20s", (unsigned long long)r->seq, when, sp_audit_event_name(r->event), r->actor);
	if (r->recipient[0])
		printf(" -> %s", r->recipient);
	if (r->user[0])
		printf(" user=%s", r->user);
	if (sid[0])
		printf(" signal=%s", sid);
	if (pseudo[0])
		printf(" subject=%s…", pseudo);
	if (r->category[0])
		printf(" %s/w%u", r->category, r->weight);
	if (r->tiers) {
		printf(" tiers=");
		int first = 1;
		for (int t = 0; t < SP_TIER_COUNT; t++)
			if (r->tiers & (1u << t)) {
				printf("%s%s", first ? "" : ",", sp_tier_name(t));
				first = 0;
			}
	}
	if (r->rule_id[0])
		printf(" rule=%s", r->rule_id);
	if (r->reason[0])
		printf(" reason=\"%s\"", r->reason);
	if (r->count)
		printf(" count=%u", r->count);
	putchar('\n');
}

static int log_row(void *ctx, const Seinpost__AuditRecord *r)
{
	struct log_ctx *c = ctx;
	if (c->json)
		json_array_append_new(c->arr, sp_cli_audit_record_json(r));
	else
		sp_cli_audit_record_print(r);
	return 0;
}

int sp_cli_audit(const char *cfg_path, int argc, char **argv)
{
	sp_config cfg;
	sp_store *st = NULL;
	int rc, status = 1;
	const char *sub = argc > 1 ? argv[1] : "";
	int json = argc > 2 && strcmp(argv[2], "--json") == 0;

	/* Everything beyond a plain local log goes to the privacy officer's
	 * commands (sp_cli_fg.c). */
	if (strcmp(sub, "verify") == 0 || strcmp(sub, "who-saw") == 0 || strcmp(sub, "report") == 0 ||
	    strcmp(sub, "export") == 0 || strcmp(sub, "witness") == 0 ||
	    (strcmp(sub, "log") == 0 && (argc > 3 || (argc == 3 && !json) || sp_cli_audit_remote(cfg_path))))
		return sp_cli_audit_ext(cfg_path, argc, argv);
	if ((strcmp(sub, "verify") != 0 && strcmp(sub, "log") != 0) || argc > 3 ||
	    (argc == 3 && !json)) {
		fprintf(stderr, "usage: seinpost --config FILE audit verify\n"
		                "       seinpost --config FILE audit log [--json]\n");
		return 2;
	}
	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return rc;
	rc = sp_store_open(cfg.state_dir, cfg.map_size, SP_STORE_RDONLY, &st);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost audit: state %s: %s\n", cfg.state_dir, sp_strerror(rc));
		return 1;
	}
	if (strcmp(sub, "verify") == 0) {
		uint64_t count = 0, bad = 0;
		char why[512] = "";
		rc = sp_audit_verify(st, &count, &bad, why, sizeof why);
		if (rc == SP_OK) {
			printf("audit log OK: %llu records, hash chain intact\n", (unsigned long long)count);
			status = 0;
		} else {
			printf("audit log BROKEN at record %llu: %s\n", (unsigned long long)bad, why);
		}
	} else {
		struct log_ctx c = { .json = json, .arr = json_array() };
		rc = sp_audit_foreach(st, 1, log_row, &c);
		if (json) {
			char *s = json_dumps(c.arr, JSON_INDENT(2));
			puts(s);
			free(s);
		}
		json_decref(c.arr);
		status = rc == SP_OK ? 0 : 1;
	}
	sp_store_close(&st);
	return status;
}
