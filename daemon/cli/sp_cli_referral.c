/*
 * sp_cli_referral.c — `seinpost referral status` and `referral move`: the
 * coordinator records what happens with a referral and moves it between the
 * policy's tables (op- en afschalen). The node passes it to the broker and
 * prints the broker's verdict; nothing is kept when it refuses.
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
	        "usage: seinpost --config NODE.conf referral status ID STATUS [TYPE] --reason TEXT [--user NAME]\n"
	        "STATUS: accepted | in-progress | intervention TYPE | declined | scaled-down | closed\n"
	        "  TYPE comes from the policy's `interventions` list.\n"
	        "Only the coordinator of the referral (the role its escalation rule names, e.g. zvh) may set it.\n"
	        "The reason is kept in the broker's audit log: no personal data (numbers of 8 or more digits are\n"
	        "refused). Each signaller of the referral learns the status, never the reason.\n"
	        "       seinpost --config NODE.conf referral move ID TABLE --reason TEXT [--user NAME]\n"
	        "  TABLE is a [table] of the policy on the referral's ladder (`seinpost policy check` lists them):\n"
	        "  up along `next` releases to the new table's members the grants sealed for them at submit, up\n"
	        "  to their tier; down stops further releases to roles no longer at the table (grants already\n"
	        "  delivered cannot be recalled). A table with requires_reason = facts (the MOT) needs\n"
	        "  --reason 'facts: WHAT' (the concrete facts, no personal data).\n"
	        "Exit status: 0 recorded, 1 refused, 2 usage, 3 the broker gave no verdict.\n");
}

int sp_cli_referral(const char *cfg_path, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	Seinpost__ReferralUpdate u = SEINPOST__REFERRAL_UPDATE__INIT;
	Seinpost__LocalRequest req = SEINPOST__LOCAL_REQUEST__INIT;
	Seinpost__LocalReply *r = NULL;
	uint8_t ref[16];
	sp_config cfg;
	int o, rc;

	optind = 1;
	while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (o) {
		case 'r': u.reason = optarg; break;
		case 'u': u.user = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* referral status ID STATUS [TYPE] [--reason ...] (options may follow) */
	int pos = optind;
	char *args[4] = { 0 };
	int na = 0;
	for (int i = pos; i < argc; i++) {
		if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
			u.reason = argv[++i];
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			u.user = argv[++i];
		else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (na < 4)
			args[na++] = argv[i];
		else
			na = 5;
	}
	int move = na >= 1 && strcmp(args[0], "move") == 0;
	if (na < 3 || na > 4 || (strcmp(args[0], "status") != 0 && !move) || (move && na != 3)) {
		usage(stderr);
		return 2;
	}
	if (strlen(args[1]) != 32 || sp_unhex(args[1], ref, 16) != SP_OK) {
		fprintf(stderr, "seinpost referral: ID is the referral's 32 hex digits (see `seinpost referrals`)\n");
		return 2;
	}
	u.status = move ? "" : args[2];
	u.intervention = na == 4 ? args[3] : "";
	u.table = move ? args[2] : "";
	if (!u.reason || !u.reason[0]) {
		fprintf(stderr, "seinpost referral: --reason is required (kept in the audit log)\n");
		return 2;
	}
	if (!u.user)
		u.user = "";
	u.referral_id = (ProtobufCBinaryData){ 16, ref };
	u.id = (ProtobufCBinaryData){ 16, ref }; /* replaced by the node */
	if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return rc;
	if (cfg.role != SP_RUN_NODE) {
		fprintf(stderr, "seinpost referral: %s is not a node configuration\n", cfg_path);
		return 2;
	}
	req.body_case = SEINPOST__LOCAL_REQUEST__BODY_REFERRAL_UPDATE;
	req.referral_update = &u;
	if (sp_cli_local_call(&cfg, &req, &r) != SP_OK)
		return 3; /* cannot reach the node */
	rc = r->code == 0 ? 0 : r->code == SP_ETIMEOUT ? 3 : 1;
	fprintf(rc ? stderr : stdout, "seinpost referral: %s\n", r->message);
	seinpost__local_reply__free_unpacked(r, NULL);
	return rc;
}
