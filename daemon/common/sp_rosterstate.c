/* sp_rosterstate.c — the newest verified roster of a process (sp_rosterstate.h). */
#include "sp_rosterstate.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sp_log.h"
#include "sp_util.h"

#define KEPT "roster.bin"

static int kept_path(const sp_config *c, char out[PATH_MAX])
{
	return sp_path_join(c->state_dir, KEPT, out, PATH_MAX);
}

int sp_rosterstate_load(const sp_config *c, sp_roster **out)
{
	sp_roster *conf = NULL, *kept = NULL;
	char p[PATH_MAX];
	int rc = sp_roster_load(c->roster_path, c->operator_pk, &conf);
	if (rc != SP_OK || c->role != SP_RUN_NODE || kept_path(c, p) != SP_OK ||
	    sp_roster_load(p, c->operator_pk, &kept) != SP_OK) {
		*out = conf;
		return rc;
	}
	if (rc == SP_OK && (sp_roster_serial(kept) <= sp_roster_serial(conf) ||
	                    strcmp(sp_roster_network(kept), sp_roster_network(conf)) != 0 ||
	                    memcmp(sp_roster_broker_curve(kept), sp_roster_broker_curve(conf), 32) != 0)) {
		sp_roster_free(&kept);
		*out = conf;
		return SP_OK;
	}
	sp_roster_free(&conf);
	*out = kept;
	return SP_OK;
}

int sp_rosterstate_accept(const sp_config *c, const sp_roster *cur, const Seinpost__SignedRoster *sr,
                          sp_roster **out)
{
	uint8_t *buf = NULL;
	size_t len;
	char p[PATH_MAX];
	sp_roster *r = NULL;
	int rc;

	*out = NULL;
	len = seinpost__signed_roster__get_packed_size(sr);
	if (!(buf = malloc(len ? len : 1)))
		return SP_ENOMEM;
	seinpost__signed_roster__pack(sr, buf);
	rc = sp_roster_load_bytes(buf, len, c->operator_pk, &r);
	if (rc == SP_OK && sp_roster_serial(r) <= sp_roster_serial(cur))
		rc = SP_EEXIST;
	else if (rc == SP_OK && (strcmp(sp_roster_network(r), sp_roster_network(cur)) != 0 ||
	                         memcmp(sp_roster_broker_curve(r), sp_roster_broker_curve(cur), 32) != 0))
		rc = SP_EKEY;
	if (rc == SP_OK && (rc = kept_path(c, p)) == SP_OK)
		rc = sp_file_write(p, buf, len, 0644);
	free(buf);
	if (rc != SP_OK) {
		sp_roster_free(&r);
		return rc;
	}
	*out = r;
	return SP_OK;
}
