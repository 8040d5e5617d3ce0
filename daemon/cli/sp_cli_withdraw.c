/*
 * sp_cli_withdraw.c — `seinpost withdraw ID --reason TEXT`: the organisation
 * that sent a signal withdraws it (as in the Verwijsindex). The node checks
 * its outbox, the broker decides and answers; a refusal changes nothing.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seinpost.pb-c.h"
#include "sp_cli.h"
#include "sp_config.h"
#include "sp_util.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: seinpost --config NODE.conf withdraw ID --reason TEXT [--user NAME]\n"
	        "Withdraws a signal this organisation sent. Keys already delivered cannot be recalled: the\n"
	        "broker drops every grant it still holds for the signal and never releases one again, and\n"
	        "each recipient's node deletes its copy and refuses to open it. A referral the signal alone\n"
	        "carried is closed. The reason is kept in the audit log: no personal data (numbers of 8 or\n"
	        "more digits are refused).\n"
	        "Exit status: 0 withdrawn, 1 refused (unknown id, not ours, already withdrawn), 2 usage,\n"
	        "3 no verdict in time (the broker may still act on it once reachable: see `seinpost outbox`).\n");
}

int sp_cli_withdraw(const char *cfg_path, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Seinpost__Withdraw w = SEINPOST__WITHDRAW__INIT;
	Seinpost__LocalRequest req = SEINPOST__LOCAL_REQUEST__INIT;
	Seinpost__LocalReply *r = NULL;
	const char *idarg = NULL;
	uint8_t id[16], reqid[16] = { 0 };
	sp_config cfg;
	int o, rc;

	optind = 1;
	/* argv[0] is "withdraw"; options and the id in any order */
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'r': w.reason = optarg; break;
		case 'u': w.user = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	for (int i = optind; i < argc; i++) {
		if (idarg) {
			usage(stderr);
			return 2;
		}
		idarg = argv[i];
	}
	if (!idarg) {
		usage(stderr);
		return 2;
	}
	if (strlen(idarg) != 32 || sp_unhex(idarg, id, sizeof id) != SP_OK) {
		fprintf(stderr, "seinpost withdraw: ID is the signal's 32 hex digits (see `seinpost outbox`)\n");
		return 2;
	}
	if (!w.reason || !w.reason[0]) {
		fprintf(stderr, "seinpost withdraw: --reason is required (kept in the audit log)\n");
		return 2;
	}
	if (!w.user)
		w.user = "";
	w.signal_id = (ProtobufCBinaryData){ 16, id };
	w.id = (ProtobufCBinaryData){ 16, reqid }; /* replaced by the node */
	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return rc;
	if (cfg.role != SP_RUN_NODE) {
		fprintf(stderr, "seinpost withdraw: %s is not a node configuration\n", cfg_path);
		return 2;
	}
	req.body_case = SEINPOST__LOCAL_REQUEST__BODY_WITHDRAW;
	req.withdraw = &w;
	if (sp_cli_local_call(&cfg, &req, &r) != SP_OK)
		return 3; /* cannot reach the node */
	rc = r->code == 0 ? 0 : r->code == SP_ETIMEOUT ? 3 : 1;
	fprintf(rc ? stderr : stdout, "seinpost withdraw: %s\n", r->message);
	seinpost__local_reply__free_unpacked(r, NULL);
	return rc;
}
