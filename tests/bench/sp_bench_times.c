/*
 * sp_bench_times — read a daemon's LMDB read-only (while it runs) and print
 * the figures the benchmark needs, precisely (unix ms), without going through
 * the CLI's human formats:
 *
 *   sp_bench_times inbox CONF            one line per inbox entry: <id-hex> <received-ms>
 *   sp_bench_times delivered CONF FROM   DELIVERED audit records with seq >= FROM:
 *                                        "<count> <max-time-ms>"
 *   sp_bench_times auditsize CONF        the audit log's last seq
 *   sp_bench_times involve CONF          entries in the involvement table
 *                                        (node: local mappings; broker: pseudonym x org)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "seinpost.pb-c.h"
#include "sp_audit.h"
#include "sp_config.h"
#include "sp_log.h"
#include "sp_store.h"
#include "sp_util.h"

static int inbox_row(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	Seinpost__InboxEntry *e = seinpost__inbox_entry__unpack(NULL, vl, v);
	char hex[SP_ID_HEX];
	if (e && kl == 16)
		printf("%s %llu\n", sp_hex(k, 16, hex), (unsigned long long)e->received);
	if (e)
		seinpost__inbox_entry__free_unpacked(e, NULL);
	return 0;
}

static int count_row(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	(*(uint64_t *)ctx)++;
	return 0;
}

struct dl {
	uint64_t count, max;
};

static int delivered_row(void *ctx, const Seinpost__AuditRecord *r)
{
	struct dl *d = ctx;
	if (r->event == SEINPOST__AUDIT_EVENT__AUDIT_DELIVERED) {
		d->count++;
		if (r->time > d->max)
			d->max = r->time;
	}
	return 0;
}

int main(int argc, char **argv)
{
	sp_config c;
	sp_store *s = NULL;
	sp_txn *t = NULL;
	char err[512];
	int rc = 1;
	if (argc < 3) {
		fprintf(stderr, "usage: sp_bench_times inbox|delivered|auditsize|involve CONF [FROM]\n");
		return 2;
	}
	sp_log_init("sp_bench_times", 0, 0);
	if (sodium_init() < 0 || sp_config_load(argv[2], &c, err, sizeof err) != SP_OK) {
		fprintf(stderr, "sp_bench_times: %s\n", err);
		return 2;
	}
	if (sp_store_open(c.state_dir, c.map_size, SP_STORE_RDONLY, &s) != SP_OK)
		return 1;
	if (strcmp(argv[1], "inbox") == 0) {
		if (sp_txn_begin(s, 0, &t) == SP_OK && sp_store_foreach(t, SP_DB_INBOX, NULL, 0, inbox_row, NULL) == SP_OK)
			rc = 0;
	} else if (strcmp(argv[1], "delivered") == 0) {
		struct dl d = { 0, 0 };
		uint64_t from = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
		if (sp_audit_foreach(s, from ? from : 1, delivered_row, &d) == SP_OK) {
			printf("%llu %llu\n", (unsigned long long)d.count, (unsigned long long)d.max);
			rc = 0;
		}
	} else if (strcmp(argv[1], "auditsize") == 0) {
		uint64_t n = 0;
		if (sp_txn_begin(s, 0, &t) == SP_OK && sp_audit_size(t, &n) == SP_OK) {
			printf("%llu\n", (unsigned long long)n);
			rc = 0;
		}
	} else if (strcmp(argv[1], "involve") == 0) {
		uint64_t n = 0;
		if (sp_txn_begin(s, 0, &t) == SP_OK && sp_store_foreach(t, SP_DB_INVOLVE, NULL, 0, count_row, &n) == SP_OK) {
			printf("%llu\n", (unsigned long long)n);
			rc = 0;
		}
	} else {
		fprintf(stderr, "sp_bench_times: unknown command %s\n", argv[1]);
		rc = 2;
	}
	sp_txn_abort(&t);
	sp_store_close(&s);
	return rc;
}
