/* seinpost — command-line tool: keys, test networks, submit, inbox, audit. */
#include <stdio.h>
#include <string.h>
#include <sodium.h>

#include "sp_cli.h"
#include "sp_log.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: seinpost [--config FILE] COMMAND [ARGS]\n"
	        "\n"
	        "Network set-up (docs/enrolment.md):\n"
	        "  network create DIR --name NAME [--listen EP] [--policy FILE] [--state DIR]\n"
	        "                                 operator: keys, empty signed roster, broker config\n"
	        "  keygen DIR --org ID --role ROLE [--force]\n"
	        "                                 an organisation's keys (0600) and DIR/enrol.json\n"
	        "  keygen DIR --broker [--force]  a broker's keys\n"
	        "  roster add ROSTER ENROL.JSON   enrol an organisation or take its rotated keys\n"
	        "  roster remove ROSTER ID --reason TEXT\n"
	        "                                 revoke an organisation (refused at its next message)\n"
	        "  roster show ROSTER [--json]    verify and list the roster\n"
	        "  node config DIR --network ROSTER --broker tcp://HOST:PORT [--state DIR]\n"
	        "                                 write an organisation's production configuration\n"
	        "  keys rotate DIR [--overlap S]  new keys without loss; a new enrol.json for the operator\n"
	        "  keys rotate DIR --broker --roster ROSTER\n"
	        "                                 the broker's sign key (transition record in the roster)\n"
	        "  net init DIR [--org ROLE:ID]... [--port N] [--policy FILE] [--network NAME]\n"
	        "                                 create a complete local test network\n"
	        "  policy check FILE              validate a sharing policy, print who may see what\n"
	        "  pseudo rotate FILE             add a new epoch to a pseudonymisation key file\n"
	        "  spool check [--policy FILE] FILE...\n"
	        "                                 check spool files as a node would (docs/spool.md)\n"
	        "\n"
	        "With --config FILE of a node:\n"
	        "  submit --category C [--weight N] --bsn BSN [--name ..] [--birthdate YYYY-MM-DD]\n"
	        "         [--address ..] [--summary ..] [--contact ..] [--narrative ..] [--wait[=S]]\n"
	        "         [--idempotency-key KEY]\n"
	        "                                 submit a signal; prints its id once it is durable\n"
	        "  outbox [--json]                signals we sent and the broker's verdict\n"
	        "  inbox [--json]                 signals we received\n"
	        "  show ID --user NAME [--json]   verify and decrypt what we were granted (audited)\n"
	        "  involve --bsn BSN [--until YYYY-MM-DD] [--ref REF]\n"
	        "                                 register our involvement with a subject (REF stays local)\n"
	        "  uninvolve --bsn BSN            end it\n"
	        "  referrals [--json]             escalation referrals received (ZVH)\n"
	        "\n"
	        "With --config FILE of a broker or node:\n"
	        "  audit verify                   check records, hash chain and signed tree heads\n"
	        "  audit log [--since T] [--until T] [--org O] [--signal ID] [--json]\n"
	        "                                 list audit records (privacy officer: the broker's)\n"
	        "  audit witness [--json]         the broker history this node witnessed (exit 1: alarm)\n"
	        "  audit export --json            records, leaf hashes, signed heads for independent checks\n"
	        "\n"
	        "With --config FILE of the privacy officer's node (or --pseudonym on the broker):\n"
	        "  audit who-saw --bsn BSN [--json]            every disclosure and read about a person\n"
	        "  audit report --bsn BSN --format html|json   AVG art. 15 subject access report\n"
	        "\n"
	        "With --config FILE of a broker or node:\n"
	        "  status [--json] [--max-age S]  queues, outbox, oldest undelivered, last commit;\n"
	        "                                 exit 1 when unhealthy\n"
	        "\n"
	        "See seinpost(1), seinpostd(8), seinpost.conf(5), seinpost-policy(5).\n");
}

int main(int argc, char **argv)
{
	const char *cfg = NULL;
	int i = 1;

	if (sodium_init() < 0) {
		fprintf(stderr, "seinpost: libsodium failed to initialise\n");
		return 1;
	}
	sp_log_init("seinpost", 0, 0);
	while (i < argc && argv[i][0] == '-') {
		if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
			cfg = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			cfg = argv[i] + 9;
			i++;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			puts("seinpost 0.1.0");
			return 0;
		} else {
			fprintf(stderr, "seinpost: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[i];
	int sub_argc = argc - i;
	char **sub_argv = argv + i;
	if (strcmp(cmd, "keygen") == 0)
		return sp_cli_keygen(sub_argc, sub_argv);
	if (strcmp(cmd, "network") == 0)
		return sp_cli_network(sub_argc, sub_argv);
	if (strcmp(cmd, "keys") == 0)
		return sp_cli_keys(sub_argc, sub_argv);
	if (strcmp(cmd, "roster") == 0)
		return sp_cli_roster(sub_argc, sub_argv);
	if (strcmp(cmd, "node") == 0)
		return sp_cli_nodeconf(sub_argc, sub_argv);
	if (strcmp(cmd, "net") == 0)
		return sp_cli_net(sub_argc, sub_argv);
	if (strcmp(cmd, "pseudo") == 0)
		return sp_cli_pseudo(sub_argc, sub_argv);
	if (strcmp(cmd, "policy") == 0)
		return sp_cli_policy(sub_argc, sub_argv);
	if (strcmp(cmd, "spool") == 0)
		return sp_cli_spool(sub_argc, sub_argv);
	if (strcmp(cmd, "submit") == 0)
		return sp_cli_submit(cfg, sub_argc, sub_argv);
	if (strcmp(cmd, "outbox") == 0)
		return sp_cli_outbox(cfg, sub_argc, sub_argv);
	if (strcmp(cmd, "inbox") == 0)
		return sp_cli_inbox(cfg, sub_argc, sub_argv);
	if (strcmp(cmd, "show") == 0)
		return sp_cli_show(cfg, sub_argc, sub_argv);
	if (strcmp(cmd, "audit") == 0)
		return sp_cli_audit(cfg, sub_argc, sub_argv);
	if (strcmp(cmd, "involve") == 0 || strcmp(cmd, "uninvolve") == 0)
		return sp_cli_involve(cfg, sub_argc, sub_argv);
	if (strcmp(cmd, "referrals") == 0)
		return sp_cli_referrals(cfg, sub_argc, sub_argv);
	if (strcmp(cmd, "status") == 0)
		return sp_cli_status(cfg, sub_argc, sub_argv);
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "seinpost: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
