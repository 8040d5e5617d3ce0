/* sp_netinit.c — generate a local test network (keys, roster, configs). */
#include "sp_netinit.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <unistd.h>

#include "sp_network.h"
#include "sp_util.h"

const sp_netinit_org sp_netinit_default_orgs[] = {
	{ "police", "politie-limburg" },
	{ "school", "school-bonnefanten" },
	{ "youthcare", "jeugdzorg-mh" },
	{ "zvh", "zvh-mh" },
	/* The privacy officer (FG): pseudonymisation key, audit queries, no signals. */
	{ "privacy-officer", "fg-mh" },
};
const size_t sp_netinit_default_norgs = sizeof sp_netinit_default_orgs / sizeof sp_netinit_default_orgs[0];

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

/* The enrolment steps an operator and each organisation take one by one
 * (docs/enrolment.md), run in one go: network create, then per
 * organisation keygen and roster add, then node config with the final
 * roster. Test settings: everything on 127.0.0.1, state next to each
 * configuration, short heartbeats, logs to stderr. */
int sp_netinit(const sp_netinit_opts *o, char *err, size_t errlen)
{
	const sp_netinit_org *orgs = o->orgs ? o->orgs : sp_netinit_default_orgs;
	size_t norgs = o->orgs ? o->norgs : sp_netinit_default_norgs;
	char ep[64], dir[PATH_MAX], keys[PATH_MAX], path[PATH_MAX], roster[PATH_MAX], msg[512], oeps[1024] = "";
	unsigned oprf_port = o->oprf_port ? o->oprf_port : o->port + 1;
	int rc;

	err[0] = '\0';
	for (size_t i = 0; i < norgs; i++) {
		if (!sp_ident_ok(orgs[i].id) || strcmp(orgs[i].id, "broker") == 0 || strcmp(orgs[i].id, "operator") == 0 ||
		    strcmp(orgs[i].id, "partners") == 0 || strncmp(orgs[i].id, SP_PSEUDONYMISER_ID, strlen(SP_PSEUDONYMISER_ID)) == 0) {
			ERR("organisation id '%s' is not valid (lower case letters, digits, '-' and '.')", orgs[i].id);
			return SP_EINVAL;
		}
		if (strcmp(orgs[i].role, "pseudonymiser") == 0) {
			ERR("a pseudonymiser is not a node: use --pseudonymisers N");
			return SP_EINVAL;
		}
		if (!sp_role_known(orgs[i].role)) {
			ERR("role '%s' is not known (police, school, youthcare, municipality, zvh, privacy-officer, healthcare, probation)",
			    orgs[i].role);
			return SP_EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(orgs[i].id, orgs[j].id) == 0) {
				ERR("organisation '%s' is listed twice", orgs[i].id);
				return SP_EEXIST;
			}
	}
	if (sp_path_join(o->dir, "broker", dir, sizeof dir) != SP_OK || sp_path_join(o->dir, "roster.bin", roster, sizeof roster) != SP_OK)
		return SP_ESIZE;
	if (access(dir, F_OK) == 0) {
		ERR("%s already holds a network (%s exists); choose another directory", o->dir, dir);
		return SP_EEXIST;
	}
	snprintf(ep, sizeof ep, "tcp://127.0.0.1:%u", o->port);
	sp_network_opts no = { .dir = o->dir, .name = o->network ? o->network : "seinpost-local", .listen = ep,
	                       .policy_src = o->policy_src, .state = "state", .test_limits = 1,
	                       .pseudonymisers = o->pseudonymisers, .threshold = o->threshold,
	                       .oprf_host = "127.0.0.1", .oprf_port = oprf_port };
	for (unsigned i = 0, l = 0; i < o->pseudonymisers && l < sizeof oeps; i++)
		l += (unsigned)snprintf(oeps + l, sizeof oeps - l, "%stcp://127.0.0.1:%u", i ? " " : "", oprf_port + i);
	if ((rc = sp_network_create(&no, err, errlen)) != SP_OK)
		return rc;
	for (size_t i = 0; i < norgs; i++) {
		if (sp_path_join(o->dir, orgs[i].id, dir, sizeof dir) != SP_OK ||
		    sp_path_join(dir, "keys", keys, sizeof keys) != SP_OK || sp_path_join(keys, "enrol.json", path, sizeof path) != SP_OK)
			return SP_ESIZE;
		if ((rc = sp_network_keygen(keys, orgs[i].id, orgs[i].role, 0, 0, NULL, err, errlen)) != SP_OK)
			return rc;
		if ((rc = sp_network_roster_add(roster, NULL, path, msg, sizeof msg)) != SP_OK) {
			ERR("%s", msg);
			return rc;
		}
	}
	for (size_t i = 0; i < norgs; i++) {
		if (sp_path_join(o->dir, orgs[i].id, dir, sizeof dir) != SP_OK)
			return SP_ESIZE;
		sp_node_config_opts nc = { .dir = dir, .roster = roster, .broker = ep, .state = "state", .test_limits = 1,
		                           .oprf_endpoints = o->pseudonymisers ? oeps : NULL };
		if ((rc = sp_network_node_config(&nc, err, errlen)) != SP_OK)
			return rc;
	}
	return SP_OK;
}
