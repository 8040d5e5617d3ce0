/*
 * sp_cli_translate.c — `seinpost --config BROKER pseudonym translate FILE`:
 * the broker's part of a rotation of the pseudonymisation key (sp_translate.h).
 *
 * Runs with the broker stopped (the state to itself, SP_LOCK_ADMIN): one
 * write transaction re-keys every stored pseudonym, stores δ sealed and
 * appends the audit record; either all of it commits or none, so a crash or
 * a refusal leaves the broker at the old epoch and the command is simply run
 * again. The file is refused when it is group- or world-accessible. Start
 * the broker afterwards: it loads the new epoch and translates what is still
 * in flight under the old one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sp_cli.h"
#include "sp_config.h"
#include "sp_roster.h"
#include "sp_statedir.h"
#include "sp_store.h"
#include "sp_translate.h"
#include "sp_util.h"

int sp_cli_translate(const char *cfg_path, int argc, char **argv)
{
	sp_config cfg;
	sp_roster *r = NULL;
	sp_store *st = NULL;
	sp_lock *lock = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t count = 0;
	char why[512] = "";
	int rc, ret = 1;

	if (argc != 3 || argv[2][0] == '-') {
		fprintf(stderr, "usage: seinpost --config BROKER pseudonym translate FILE\n");
		return 2;
	}
	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return rc;
	if (cfg.role != SP_RUN_BROKER) {
		fprintf(stderr, "seinpost pseudonym translate: %s is not a broker's configuration\n", cfg_path);
		return 2;
	}
	if ((rc = sp_file_check_private(argv[2])) != SP_OK || (rc = sp_file_read(argv[2], 1024, &buf, &len)) != SP_OK) {
		fprintf(stderr, "seinpost pseudonym translate: %s: %s%s\n", argv[2], sp_strerror(rc),
		        rc == SP_EPERM ? " (the file holds a secret: mode 0600)" : "");
		goto out;
	}
	/* a broker that never ran has no state yet: the pass makes it */
	if ((rc = sp_statedir_prepare(cfg.state_dir, why, sizeof why)) != SP_OK) {
		fprintf(stderr, "seinpost pseudonym translate: %s\n", why);
		goto out;
	}
	if ((rc = sp_statedir_lock(cfg.state_dir, SP_LOCK_ADMIN, &lock, why, sizeof why)) != SP_OK) {
		fprintf(stderr, "seinpost pseudonym translate: stop the broker first: %s\n", why);
		goto out;
	}
	if ((rc = sp_roster_load(cfg.roster_path, cfg.operator_pk, &r)) != SP_OK) {
		fprintf(stderr, "seinpost pseudonym translate: roster %s: %s\n", cfg.roster_path, sp_strerror(rc));
		goto out;
	}
	if ((rc = sp_store_open(cfg.state_dir, cfg.map_size, SP_STORE_CHECK, &st)) != SP_OK) {
		fprintf(stderr, "seinpost pseudonym translate: state %s: %s\n", cfg.state_dir, sp_strerror(rc));
		goto out;
	}
	if ((rc = sp_translate_apply(st, cfg.keys_dir, r, buf, len, &count, why, sizeof why)) != SP_OK) {
		fprintf(stderr, "seinpost pseudonym translate: %s\n", why);
		goto out;
	}
	printf("translated %llu stored pseudonyms into key epoch %u in one transaction; start the broker\n"
	       "delta is now sealed in the store: delete %s (it translates pseudonyms without the service)\n",
	       (unsigned long long)count, sp_translate_epoch(), argv[2]);
	ret = 0;
out:
	if (buf) {
		sodium_memzero(buf, len);
		free(buf);
	}
	sp_store_close(&st);
	sp_roster_free(&r);
	sp_statedir_unlock(&lock);
	return ret;
}
