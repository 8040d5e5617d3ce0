/* sp_cli_roster.c — `seinpost roster add|remove|show`: the operator's view
 * and edits of the signed roster (docs/enrolment.md). Every edit re-signs
 * with the operator key; the broker picks it up on SIGHUP and hands it to
 * the nodes. */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "sp_cli.h"
#include "sp_keys.h"
#include "sp_network.h"
#include "sp_roster.h"
#include "sp_util.h"

#define USAGE "usage: seinpost roster add ROSTER ENROL.JSON [--operator DIR]\n" \
              "       seinpost roster remove ROSTER ID --reason TEXT [--operator DIR]\n" \
              "       seinpost roster show ROSTER [--json] [--operator-key FILE]\n"

static int edit(int argc, char **argv, int add)
{
	const char *pos[2] = { NULL, NULL }, *opdir = NULL, *reason = NULL;
	int npos = 0, rc;
	char msg[512];
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--operator") == 0 && i + 1 < argc)
			opdir = argv[++i];
		else if (!add && strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
			reason = argv[++i];
		else if (argv[i][0] != '-' && npos < 2)
			pos[npos++] = argv[i];
		else {
			fprintf(stderr, "seinpost roster: unexpected argument %s\n" USAGE, argv[i]);
			return 2;
		}
	}
	if (npos != 2 || (!add && (!reason || !reason[0]))) {
		fputs(USAGE, stderr);
		return 2;
	}
	rc = add ? sp_network_roster_add(pos[0], opdir, pos[1], msg, sizeof msg)
	         : sp_network_roster_remove(pos[0], opdir, pos[1], reason, msg, sizeof msg);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost roster %s: %s\n", add ? "add" : "remove", msg);
		return 1;
	}
	printf("%s; %s re-signed (reload the broker: SIGHUP / systemctl reload)\n", msg, pos[0]);
	return 0;
}

static const char *iso_s(uint64_t s, char *buf, size_t len)
{
	return sp_iso_time(s * 1000u, buf, len);
}

static json_t *hexj(const uint8_t *k, size_t n)
{
	char h[129];
	return json_string(sp_hex(k, n, h));
}

static int show_json(const sp_roster *r, const uint8_t op[32])
{
	json_t *o = json_object(), *orgs = json_array(), *rem = json_array(), *bprev = json_array();
	const uint8_t *bk[SP_BROKER_KEYS_MAX];
	size_t nbk = sp_roster_broker_keys(r, bk, SP_BROKER_KEYS_MAX);
	char t[40];
	for (size_t i = 1; i < nbk; i++)
		json_array_append_new(bprev, hexj(bk[i], 32));
	for (size_t i = 0; i < sp_roster_count(r); i++) {
		const sp_org *g = sp_roster_at(r, i);
		json_t *prev = json_array();
		for (size_t j = 0; j < g->nprev; j++) {
			char t2[40];
			json_array_append_new(prev, json_pack("{s:o, s:o, s:o, s:s, s:s}", "curve_key", hexj(g->prev[j].curve_pk, 32),
			                                      "sign_key", hexj(g->prev[j].sign_pk, 32), "box_key",
			                                      hexj(g->prev[j].box_pk, 32), "retired_at",
			                                      iso_s(g->prev[j].retired, t, sizeof t), "overlap_ends_at",
			                                      iso_s(g->prev[j].until, t2, sizeof t2)));
		}
		json_t *e = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "id", g->id, "role", g->role, "curve_key",
		                      hexj(g->curve_pk, 32), "sign_key", hexj(g->sign_pk, 32),
		                      g->has_oprf ? "oprf_key" : "box_key", hexj(g->has_oprf ? g->oprf_pk : g->box_pk, 32),
		                      "previous_keys", prev);
		if (g->oprf_index)
			json_object_set_new(e, "oprf_index", json_integer(g->oprf_index));
		if (g->enrolled)
			json_object_set_new(e, "enrolled_at", json_string(iso_s(g->enrolled, t, sizeof t)));
		json_array_append_new(orgs, e);
	}
	for (size_t i = 0; i < sp_roster_removed_count(r); i++) {
		const sp_removal *x = sp_roster_removed_at(r, i);
		json_array_append_new(rem, json_pack("{s:s, s:s, s:s}", "id", x->id, "removed_at", iso_s(x->time, t, sizeof t),
		                                     "reason", x->reason));
	}
	json_object_set_new(o, "network", json_string(sp_roster_network(r)));
	json_object_set_new(o, "serial", json_integer((json_int_t)sp_roster_serial(r)));
	json_object_set_new(o, "issued_at", json_string(iso_s(sp_roster_issued(r), t, sizeof t)));
	json_object_set_new(o, "operator_key", hexj(op, 32));
	json_object_set_new(o, "broker", json_pack("{s:o, s:o, s:o}", "curve_key", hexj(sp_roster_broker_curve(r), 32),
	                                           "sign_key", hexj(sp_roster_broker_sign(r), 32),
	                                           "previous_sign_keys", bprev));
	json_object_set_new(o, "organisations", orgs);
	{
		uint32_t nc;
		const uint8_t *c = sp_roster_oprf_commitments(r, &nc);
		if (c) {
			json_t *ca = json_array();
			for (uint32_t j = 0; j < nc; j++)
				json_array_append_new(ca, hexj(c + 32 * j, 32));
			json_object_set_new(o, "oprf_commitments", ca);
		}
	}
	json_object_set_new(o, "removed", rem);
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
	return 0;
}

static void show_text(const sp_roster *r)
{
	char t[40], h[65], h2[65];
	uint64_t now = sp_now_s();
	printf("network %s, serial %llu, issued %s\n", sp_roster_network(r), (unsigned long long)sp_roster_serial(r),
	       iso_s(sp_roster_issued(r), t, sizeof t));
	printf("broker   sign %.16s...  curve %.16s...\n", sp_hex(sp_roster_broker_sign(r), 32, h),
	       sp_hex(sp_roster_broker_curve(r), 32, h2));
	printf("%-24s %-16s %-20s %s\n", "ORGANISATION", "ROLE", "SIGN KEY", "OLD KEYS");
	for (size_t i = 0; i < sp_roster_count(r); i++) {
		const sp_org *g = sp_roster_at(r, i);
		size_t live = 0;
		for (size_t j = 0; j < g->nprev; j++)
			live += g->prev[j].until > now;
		printf("%-24s %-16s %.16s...  %zu (%zu in overlap)\n", g->id, g->role, sp_hex(g->sign_pk, 32, h), g->nprev, live);
	}
	for (size_t i = 0; i < sp_roster_removed_count(r); i++) {
		const sp_removal *x = sp_roster_removed_at(r, i);
		printf("removed  %-24s %s  %s\n", x->id, iso_s(x->time, t, sizeof t), x->reason);
	}
}

static int show(int argc, char **argv)
{
	const char *path = NULL, *opfile = NULL;
	char def[PATH_MAX], d[PATH_MAX];
	uint8_t op[32];
	sp_roster *r = NULL;
	int json = 0, rc;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--operator-key") == 0 && i + 1 < argc)
			opfile = argv[++i];
		else if (argv[i][0] != '-' && !path)
			path = argv[i];
		else {
			fprintf(stderr, "seinpost roster show: unexpected argument %s\n" USAGE, argv[i]);
			return 2;
		}
	}
	if (!path) {
		fputs(USAGE, stderr);
		return 2;
	}
	if (!opfile) {
		if (sp_path_dirname(path, d, sizeof d) != SP_OK || sp_path_join(d, "operator.pub", def, sizeof def) != SP_OK)
			return 2;
		opfile = def;
	}
	if ((rc = sp_keys_read_public(opfile, op)) != SP_OK) {
		fprintf(stderr, "seinpost roster show: operator key %s: %s (pass --operator-key FILE)\n", opfile,
		        sp_strerror(rc));
		return 1;
	}
	if ((rc = sp_roster_load(path, op, &r)) != SP_OK) {
		fprintf(stderr, "seinpost roster show: %s: %s\n", path, sp_strerror(rc));
		return 1;
	}
	if (json)
		show_json(r, op);
	else
		show_text(r);
	sp_roster_free(&r);
	return 0;
}

int sp_cli_roster(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		fputs(USAGE
		      "add: enrol the organisation of ENROL.JSON (from `seinpost keygen --org`), or replace its keys\n"
		      "     when it comes from `seinpost keys rotate` signed by its current sign key.\n"
		      "remove: take an organisation off; the broker refuses its next message after a reload.\n"
		      "show: verify the operator's signature and list the roster.\n"
		      "The operator key is DIR/operator/ next to ROSTER unless --operator DIR.\n", stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return edit(argc, argv, 1);
	if (argc >= 2 && strcmp(argv[1], "remove") == 0)
		return edit(argc, argv, 0);
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return show(argc, argv);
	fputs(USAGE, stderr);
	return 2;
}
