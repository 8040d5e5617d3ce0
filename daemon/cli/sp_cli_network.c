/* sp_cli_network.c — `seinpost network create`: the operator's start of a
 * network (docs/enrolment.md). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "sp_cli.h"
#include "sp_network.h"
#include "sp_keys.h"
#include "sp_util.h"

#define USAGE "usage: seinpost network create DIR --name NAME [--listen tcp://HOST:PORT] [--policy FILE] [--state DIR]\n"

int sp_cli_network(int argc, char **argv)
{
	sp_network_opts o = { 0 };
	char err[1024], hex[65];
	uint8_t op[32];
	char p[PATH_MAX];

	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		fputs(USAGE
		      "Creates, in DIR: the operator's roster-signing key (operator/, keep it off the broker host)\n"
		      "and its public half operator.pub, the broker's keys and configuration (broker/), an empty\n"
		      "roster signed by the operator (roster.bin), the policy (policy.ini) and the partners'\n"
		      "pseudonymisation key (partners/pseudo.key, never for the broker). Broker state defaults\n"
		      "to /var/lib/seinpost/broker.\n", stdout);
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "create") != 0) {
		fputs(USAGE, stderr);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			o.name = argv[++i];
		else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			o.listen = argv[++i];
		else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
			o.policy_src = argv[++i];
		else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			o.state = argv[++i];
		else if (strcmp(argv[i], "--help") == 0) {
			fputs(USAGE, stdout);
			return 0;
		} else if (argv[i][0] != '-' && !o.dir)
			o.dir = argv[i];
		else {
			fprintf(stderr, "seinpost network create: unexpected argument %s\n" USAGE, argv[i]);
			return 2;
		}
	}
	if (!o.dir || !o.name) {
		fputs(USAGE, stderr);
		return 2;
	}
	if (!o.policy_src && sp_cli_find_policy(p, sizeof p) == 0)
		o.policy_src = p;
	if (!o.policy_src) {
		fprintf(stderr, "seinpost network create: no example policy found; pass --policy FILE\n");
		return 1;
	}
	if (sp_network_create(&o, err, sizeof err) != SP_OK) {
		fprintf(stderr, "seinpost network create: %s\n", err);
		return 1;
	}
	snprintf(err, sizeof err, "%s/operator.pub", o.dir);
	if (sp_keys_read_public(err, op) != SP_OK)
		return 1;
	printf("network %s created in %s\n"
	       "  operator key  %s (operator/; keep it off the broker host)\n"
	       "  broker        seinpostd --config %s/broker/seinpost.conf\n"
	       "  enrol         seinpost roster add %s/roster.bin ORG/enrol.json\n",
	       o.name, o.dir, sp_hex(op, 32, hex), o.dir, o.dir);
	return 0;
}
