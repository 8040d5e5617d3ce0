/* sp_cli_net.c — net init (a local test network), pseudo rotate, policy check. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_cli.h"
#include "sp_config.h"
#include "sp_keys.h"
#include "sp_netinit.h"
#include "sp_network.h"
#include "sp_policy.h"
#include "sp_policy_tables.h"
#include "sp_pseudo.h"
#include "sp_render.h"
#include "sp_signal.h"
#include "sp_util.h"

int sp_cli_load_config(const char *cfg_path, sp_config *out)
{
	char err[1024];
	if (!cfg_path) {
		fprintf(stderr, "seinpost: this command needs --config FILE\n");
		return 2;
	}
	if (sp_config_load(cfg_path, out, err, sizeof err) != SP_OK) {
		fprintf(stderr, "seinpost: %s\n", err);
		return 1;
	}
	return 0;
}

/* The example policy next to the binary (build tree) or installed docs. */
int sp_cli_find_policy(char *out, size_t outlen)
{
	char exe[PATH_MAX], dir[PATH_MAX];
	const char *env = getenv("SEINPOST_POLICY");
	const char *candidates[] = { "../deploy/policy.example", "../share/doc/seinpost/policy.example" };
	if (env && access(env, R_OK) == 0) {
		snprintf(out, outlen, "%s", env);
		return 0;
	}
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	if (sp_path_dirname(exe, dir, sizeof dir) != SP_OK)
		return -1;
	for (size_t i = 0; i < 2; i++) {
		if (sp_path_join(dir, candidates[i], out, outlen) == SP_OK && access(out, R_OK) == 0)
			return 0;
	}
	return -1;
}

#define NETINIT_MAX_ORGS 512

int sp_cli_net(int argc, char **argv)
{
	static sp_netinit_org orgs[NETINIT_MAX_ORGS]; /* a test network; the roster takes more */
	size_t norgs = 0;
	sp_netinit_opts o = { .port = 7700 };
	char policy[PATH_MAX], err[1024] = "";
	const char *policy_arg = NULL;

	if (argc >= 2 && strcmp(argv[1], "migrate") == 0)
		return sp_cli_net_migrate(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "rotate") == 0) {
		char delta[PATH_MAX];
		if (argc != 3 || argv[2][0] == '-') {
			fprintf(stderr, "usage: seinpost net rotate DIR\n");
			return 2;
		}
		if (sp_network_oprf_rotate(argv[2], delta, sizeof delta, err, sizeof err) != SP_OK) {
			fprintf(stderr, "seinpost net rotate: %s\n", err);
			return 1;
		}
		printf("pseudonymisation key rotated: new shares, roster with the rotation proof, and for the broker\n"
		       "%s (0600): seinpost --config BROKER pseudonym translate FILE\n", delta);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "init") != 0) {
		fprintf(stderr, "usage: seinpost net init DIR [--org ROLE:ID]... [--port N] [--policy FILE] [--network NAME]\n"
		                "                     [--pseudonymisers N [--threshold T]] [--oprf-port N]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--org") == 0 && i + 1 < argc) {
			const char *v = argv[++i], *colon = strchr(v, ':');
			if (!colon || norgs >= NETINIT_MAX_ORGS || (size_t)(colon - v) >= SP_ROLE_MAX ||
			    strlen(colon + 1) >= SP_ID_MAX) {
				fprintf(stderr, "seinpost net init: --org expects ROLE:ID, e.g. school:school-bonnefanten\n");
				return 2;
			}
			snprintf(orgs[norgs].role, SP_ROLE_MAX, "%.*s", (int)(colon - v), v);
			snprintf(orgs[norgs].id, SP_ID_MAX, "%s", colon + 1);
			norgs++;
		} else if (strcmp(a, "--port") == 0 && i + 1 < argc) {
			char *end;
			unsigned long p = strtoul(argv[++i], &end, 10);
			if (*end || p == 0 || p > 65535) {
				fprintf(stderr, "seinpost net init: --port must be 1..65535\n");
				return 2;
			}
			o.port = (unsigned)p;
		} else if (strcmp(a, "--policy") == 0 && i + 1 < argc) {
			policy_arg = argv[++i];
		} else if ((strcmp(a, "--pseudonymisers") == 0 || strcmp(a, "--oprf-port") == 0 ||
		            strcmp(a, "--threshold") == 0) && i + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 10);
			int port = strcmp(a, "--oprf-port") == 0;
			if (*end || (port ? (v == 0 || v > 65535) : v > 16)) {
				fprintf(stderr, "seinpost net init: %s must be %s\n", a,
				        port ? "1..65535" : "0..16");
				return 2;
			}
			if (port)
				o.oprf_port = (unsigned)v;
			else if (a[2] == 'p')
				o.pseudonymisers = (unsigned)v;
			else
				o.threshold = (unsigned)v;
		} else if (strcmp(a, "--network") == 0 && i + 1 < argc) {
			o.network = argv[++i];
		} else if (a[0] != '-' && !o.dir) {
			o.dir = a;
		} else {
			fprintf(stderr, "seinpost net init: unexpected argument %s\n", a);
			return 2;
		}
	}
	if (!o.dir) {
		fprintf(stderr, "seinpost net init: DIR is required\n");
		return 2;
	}
	if (policy_arg)
		snprintf(policy, sizeof policy, "%s", policy_arg);
	else if (sp_cli_find_policy(policy, sizeof policy) != 0) {
		fprintf(stderr, "seinpost net init: no example policy found; pass --policy FILE\n");
		return 1;
	}
	{
		/* Refuse to distribute a policy that does not load. */
		sp_policy *p = NULL;
		if (sp_policy_load(policy, &p, err, sizeof err) != SP_OK) {
			fprintf(stderr, "seinpost net init: %s\n", err);
			return 1;
		}
		sp_policy_free(&p);
	}
	o.policy_src = policy;
	if (norgs) {
		o.orgs = orgs;
		o.norgs = norgs;
	}
	if (sp_mkdir_p(o.dir, 0755) != SP_OK) {
		fprintf(stderr, "seinpost net init: cannot create %s\n", o.dir);
		return 1;
	}
	if (sp_netinit(&o, err, sizeof err) != SP_OK) {
		fprintf(stderr, "seinpost net init: %s\n", err);
		return 1;
	}
	const sp_netinit_org *list = norgs ? orgs : sp_netinit_default_orgs;
	size_t n = norgs ? norgs : sp_netinit_default_norgs;
	printf("network created in %s (broker on tcp://127.0.0.1:%u)\n", o.dir, o.port);
	printf("  seinpostd --config %s/broker/seinpost.conf\n", o.dir);
	for (size_t i = 0; i < n; i++)
		printf("  seinpostd --config %s/%s/seinpost.conf   (%s)\n", o.dir, list[i].id, list[i].role);
	return 0;
}

/* seinpost pseudo rotate FILE: add a new epoch to a pseudonymisation key
 * file. The operator distributes the resulting file to every partner node
 * (never to the broker); see docs/policy-engine.md, "Pseudonym epochs". */
int sp_cli_pseudo(int argc, char **argv)
{
	sp_pseudo_keyring *kr = NULL;
	uint32_t epoch = 0;
	int rc;
	if (argc != 3 || strcmp(argv[1], "rotate") != 0) {
		fprintf(stderr, "usage: seinpost pseudo rotate FILE\n");
		return 2;
	}
	rc = sp_pseudo_keyring_load(argv[2], &kr);
	if (rc == SP_OK)
		rc = sp_pseudo_keyring_rotate(kr, &epoch);
	if (rc == SP_OK)
		rc = sp_pseudo_keyring_save(kr, argv[2]);
	sp_pseudo_keyring_free(&kr);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost pseudo rotate: %s: %s\n", argv[2], sp_strerror(rc));
		return 1;
	}
	printf("epoch %u added to %s; copy it to every partner node (never to the broker)\n", epoch, argv[2]);
	return 0;
}

/* The [table]s: members with their highest tier, the ladder (sp_policy_tables.h). */
static json_t *tables_json(const sp_policy *p)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < sp_policy_table_count(p); i++) {
		const sp_policy_table *t = sp_policy_table_at(p, i);
		json_t *m = json_array(), *k = json_array(), *o;
		for (size_t j = 0; m && j < t->nmembers; j++)
			json_array_append_new(m, json_pack("{s:s,s:s}", "role", t->members[j].role, "tier",
			                                   sp_tier_name(t->members[j].tier)));
		for (int kind = 1; k && kind <= 3; kind++)
			if (t->kind_mask & SP_POLICY_KIND_BIT(kind))
				json_array_append_new(k, json_string(sp_policy_kind_name(kind)));
		o = json_pack("{s:s,s:s,s:o,s:o,s:b}", "id", t->id, "name", t->name, "kinds", k, "members", m,
		              "requires_facts", t->requires_reason != NULL);
		if (o && t->next)
			json_object_set_new(o, "next", json_string(t->next));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *policy_json(const sp_policy *p)
{
	json_t *cats = json_array(), *rules = json_array(), *escs = json_array();
	char hex[65];
	for (size_t i = 0; cats && i < sp_policy_category_count(p); i++) {
		const sp_policy_category *c = sp_policy_category_at(p, i);
		json_array_append_new(cats, json_pack("{s:s,s:s,s:i,s:I}", "id", c->id, "description",
		                                      c->description ? c->description : "", "default_weight",
		                                      c->default_weight, "retention_s",
		                                      (json_int_t)c->retention_days * 86400));
	}
	for (size_t i = 0; rules && i < sp_policy_rule_count(p); i++) {
		const sp_policy_rule *r = sp_policy_rule_at(p, i);
		json_t *w = json_array();
		for (int k = 1; w && k <= 3; k++)
			if (r->weight_mask & (1u << k))
				json_array_append_new(w, json_integer(k));
		json_array_append_new(rules, json_pack("{s:s,s:s,s:o,s:s,s:o,s:s,s:s,s:s}", "id", r->id, "category",
		                                       r->category, "weights", w, "role", r->role, "tiers",
		                                       sp_render_tiers_json(r->tiers_mask), "when",
		                                       sp_when_name(r->when), "basis", r->basis ? r->basis : "",
		                                       "purpose", r->purpose ? r->purpose : ""));
	}
	for (size_t i = 0; escs && i < sp_policy_escalation_count(p); i++) {
		const sp_policy_escalation *e = sp_policy_escalation_at(p, i);
		json_array_append_new(escs, json_pack("{s:s,s:I,s:i,s:i,s:i,s:s,s:s,s:s}", "id", e->id, "window_s",
		                                      (json_int_t)e->window_days * 86400, "min_orgs", (int)e->min_orgs,
		                                      "min_weight_sum", (int)e->min_weight_sum, "min_weight",
		                                      e->min_weight, "to_role", e->to_role ? e->to_role : "", "basis",
		                                      e->basis ? e->basis : "", "purpose", e->purpose ? e->purpose : ""));
		if (e->table && json_array_size(escs))
			json_object_set_new(json_array_get(escs, json_array_size(escs) - 1), "table", json_string(e->table));
	}
	return json_pack("{s:b,s:s,s:s,s:o,s:o,s:o,s:o}", "ok", 1, "version", sp_policy_version(p), "hash",
	                 sp_hex(sp_policy_hash(p), SP_POLICY_HASH_BYTES, hex), "categories", cats, "rules", rules,
	                 "escalations", escs, "tables", tables_json(p));
}

int sp_cli_policy(int argc, char **argv)
{
	sp_policy *p = NULL;
	char err[1024], hex[65];
	int json = argc == 4 && strcmp(argv[3], "--json") == 0;
	if ((argc != 3 && !json) || strcmp(argv[1], "check") != 0 || argv[2][0] == '-') {
		fprintf(stderr, "usage: seinpost policy check FILE [--json]\n");
		return SP_EXIT_USAGE;
	}
	if (sp_policy_load(argv[2], &p, err, sizeof err) != SP_OK) {
		fprintf(stderr, "%s\n", err);
		if (json)
			sp_cli_print_json(json_pack("{s:s,s:b,s:s}", "file", argv[2], "ok", 0, "error", err));
		return SP_EXIT_BAD;
	}
	if (json) {
		json_t *o = policy_json(p);
		if (o)
			json_object_set_new(o, "file", json_string(argv[2]));
		sp_policy_free(&p);
		return sp_cli_print_json(o);
	}
	printf("policy %s: OK, version %s, hash %s\n\n", argv[2], sp_policy_version(p),
	       sp_hex(sp_policy_hash(p), SP_POLICY_HASH_BYTES, hex));
	sp_policy_print(p, stdout);
	sp_policy_free(&p);
	return SP_EXIT_OK;
}
