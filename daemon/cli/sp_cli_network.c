/* sp_cli_network.c — `seinpost network create`: the operator's start of a
 * network (docs/enrolment.md). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_cli.h"
#include "sp_network.h"
#include "sp_keys.h"
#include "sp_util.h"

#define USAGE "usage: seinpost network create DIR --name NAME [--listen tcp://HOST:PORT] [--policy FILE] [--state DIR]\n" \
              "       [--pseudonymisers N [--threshold T]] [--oprf-port P]\n"

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
		      "to /var/lib/seinpost/broker.\n"
		      "--pseudonymisers 1: the pseudonymisation service in DIR/pseudo-mh (listening on port P,\n"
		      "default 7701); N > 1 with --threshold T: T-of-N instances DIR/pseudo-mh-1..N on ports\n"
		      "P..P+N-1, their shares from a DKG run here (a local network only), enrolled on the\n"
		      "roster (docs/pseudonymiser.md); such a network has no partners/pseudo.key.\n", stdout);
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
		else if ((strcmp(argv[i], "--pseudonymisers") == 0 || strcmp(argv[i], "--threshold") == 0 ||
		          strcmp(argv[i], "--oprf-port") == 0) && i + 1 < argc) {
			char *end;
			const char *a = argv[i];
			unsigned long v = strtoul(argv[++i], &end, 10);
			int port = strcmp(a, "--oprf-port") == 0;
			if (*end || (port ? (v == 0 || v > 65535) : v > 16)) {
				fprintf(stderr, "seinpost network create: %s must be %s\n", a, port ? "1..65535" : "0..16");
				return 2;
			}
			if (port)
				o.oprf_port = (unsigned)v;
			else if (a[2] == 'p')
				o.pseudonymisers = (unsigned)v;
			else
				o.threshold = (unsigned)v;
		}
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
