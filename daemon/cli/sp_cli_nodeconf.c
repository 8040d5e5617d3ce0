/* sp_cli_nodeconf.c — `seinpost node config`: an organisation's production
 * configuration from the network's roster (docs/enrolment.md). */
#include <stdio.h>
#include <string.h>

#include "sp_cli.h"
#include "sp_network.h"

#define USAGE "usage: seinpost node config DIR --network ROSTER --broker tcp://HOST:PORT [--keys DIR]\n" \
              "       [--state DIR] [--policy FILE] [--pseudonym-key FILE] [--operator-key FILE] [--org ID]\n" \
              "       [--pseudonymiser \"EP...\"]\n"

int sp_cli_nodeconf(int argc, char **argv)
{
	sp_node_config_opts o = { 0 };
	char err[1024];
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		fputs(USAGE
		      "Writes DIR/seinpost.conf with copies of the roster, policy and pseudonymisation key.\n"
		      "Keys default to DIR/keys (from `seinpost keygen DIR/keys --org ID --role ROLE`), the\n"
		      "organisation id to the one in its enrol.json, state to /var/lib/seinpost/<org>, and\n"
		      "operator.pub, policy.ini and partners/pseudo.key to the files next to ROSTER.\n"
		      "--pseudonymiser: the endpoints of the pseudonymisation service's instances on the\n"
		      "roster (space-separated, in index order); the node pins its key from the roster,\n"
		      "takes its pseudonyms from the service and gets no pseudonymisation key.\n", stdout);
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "config") != 0) {
		fputs(USAGE, stderr);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		const char **dst = NULL;
		if (strcmp(argv[i], "--network") == 0)
			dst = &o.roster;
		else if (strcmp(argv[i], "--broker") == 0)
			dst = &o.broker;
		else if (strcmp(argv[i], "--keys") == 0)
			dst = &o.keys;
		else if (strcmp(argv[i], "--state") == 0)
			dst = &o.state;
		else if (strcmp(argv[i], "--policy") == 0)
			dst = &o.policy;
		else if (strcmp(argv[i], "--pseudonym-key") == 0)
			dst = &o.pseudo;
		else if (strcmp(argv[i], "--operator-key") == 0)
			dst = &o.operator_pub;
		else if (strcmp(argv[i], "--org") == 0)
			dst = &o.org;
		else if (strcmp(argv[i], "--pseudonymiser") == 0)
			dst = &o.oprf_endpoints;
		else if (strcmp(argv[i], "--help") == 0) {
			fputs(USAGE, stdout);
			return 0;
		} else if (argv[i][0] != '-' && !o.dir) {
			o.dir = argv[i];
			continue;
		}
		if (!dst || i + 1 >= argc) {
			fprintf(stderr, "seinpost node config: unexpected argument %s\n" USAGE, argv[i]);
			return 2;
		}
		*dst = argv[++i];
	}
	if (!o.dir || !o.roster || !o.broker) {
		fputs(USAGE, stderr);
		return 2;
	}
	if (sp_network_node_config(&o, err, sizeof err) != SP_OK) {
		fprintf(stderr, "seinpost node config: %s\n", err);
		return 1;
	}
	printf("wrote %s/seinpost.conf\n  seinpostd --config %s/seinpost.conf\n", o.dir, o.dir);
	return 0;
}
