/* sp_cli_status.c — `seinpost --config FILE status [--json] [--max-age S]`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_cli.h"
#include "sp_config.h"
#include "sp_status.h"

int sp_cli_status(const char *cfg_path, int argc, char **argv)
{
	sp_status_opts o = { .max_age_s = 86400, .map_bad_pct = 90 };
	sp_status *st = NULL;
	sp_config cfg;
	int json = 0, rc;

	for (int i = 1; i < argc; i++) {
		char *end;
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--max-age") == 0 && i + 1 < argc) {
			o.max_age_s = strtoull(argv[++i], &end, 10);
			if (*end || !o.max_age_s) {
				fprintf(stderr, "seinpost status: --max-age takes a number of seconds > 0\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--help") == 0) {
			puts("usage: seinpost --config FILE status [--json] [--max-age SECONDS]\n"
			     "Queue depth per recipient (broker), outbox depth (node), oldest undelivered age,\n"
			     "delivery hooks pending (node), last commit time and store space. Reads the state\n"
			     "read-only; works whether or not the daemon runs. Exit 0 healthy, 1 unhealthy (a line\n"
			     "marked BAD: map >= 90% used, something undelivered for longer than --max-age,\n"
			     "default 86400, a hook item that failed 3 times), 2 unreadable.");
			return 0;
		} else {
			fprintf(stderr, "usage: seinpost --config FILE status [--json] [--max-age SECONDS]\n");
			return 2;
		}
	}
	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return 2;
	rc = sp_status_collect(&cfg, &o, &st);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost status: %s\n", sp_strerror(rc));
		return 2;
	}
	sp_status_print(st, stdout, json);
	rc = sp_status_level(st) == SP_STATUS_BAD ? 1 : 0;
	sp_status_free(&st);
	return rc;
}
