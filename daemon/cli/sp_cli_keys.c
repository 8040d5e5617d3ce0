/* sp_cli_keys.c — keygen and keys rotate: an organisation's (or the
 * broker's) keys, made on its own machine (docs/enrolment.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "sp_cli.h"
#include "sp_keys.h"
#include "sp_network.h"
#include "sp_util.h"

#define KEYGEN_USAGE "usage: seinpost keygen DIR --org ID --role ROLE [--force] [--json]\n" \
                     "       seinpost keygen DIR --broker [--force] [--json]\n"

int sp_cli_keygen(int argc, char **argv)
{
	sp_keyset *k = NULL;
	int broker = 0, force = 0, json = 0, rc;
	const char *dir = NULL, *org = NULL, *role = NULL;
	char err[512], hex[65];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--broker") == 0)
			broker = 1;
		else if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--org") == 0 && i + 1 < argc)
			org = argv[++i];
		else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc)
			role = argv[++i];
		else if (strcmp(argv[i], "--help") == 0) {
			fputs(KEYGEN_USAGE
			      "Writes curve, sign and (not for a broker) box keypairs into DIR, secrets 0600, and\n"
			      "DIR/enrol.json (public keys, id and role, signed by the new sign key) to hand to the\n"
			      "network operator. Refuses to overwrite existing keys unless --force.\n", stdout);
			return 0;
		} else if (argv[i][0] != '-' && !dir)
			dir = argv[i];
		else {
			fprintf(stderr, "seinpost keygen: unexpected argument %s\n" KEYGEN_USAGE, argv[i]);
			return 2;
		}
	}
	if (!dir || (broker && (org || role)) || (!broker && (!org || !role))) {
		fputs(KEYGEN_USAGE, stderr);
		return 2;
	}
	rc = sp_network_keygen(dir, org, role, broker, force, &k, err, sizeof err);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost keygen: %s\n", err);
		return 1;
	}
	if (json) {
		json_t *o = json_pack("{s:s,s:b,s:s}", "dir", dir, "broker", broker, "curve_public",
		                      sp_hex(k->curve_pk, 32, hex));
		if (o)
			json_object_set_new(o, "sign_public", json_string(sp_hex(k->sign_pk, 32, hex)));
		if (o && k->has_box)
			json_object_set_new(o, "box_public", json_string(sp_hex(k->box_pk, 32, hex)));
		sp_keys_free(&k);
		return sp_cli_print_json(o);
	}
	printf("curve %s\n", sp_hex(k->curve_pk, 32, hex));
	printf("sign  %s\n", sp_hex(k->sign_pk, 32, hex));
	if (k->has_box)
		printf("box   %s\n", sp_hex(k->box_pk, 32, hex));
	if (org)
		printf("send %s/enrol.json to the network operator (`seinpost roster add`)\n", dir);
	sp_keys_free(&k);
	return 0;
}

#define KEYS_USAGE "usage: seinpost keys rotate DIR [--overlap S]\n" \
                   "       seinpost keys rotate DIR --broker --roster ROSTER [--operator DIR]\n"

/* The broker's sign key: a new key, a transition record signed by both in
 * the roster, the old key kept under DIR/old/<n>/. */
static int rotate_broker(const char *dir, const char *roster, const char *opdir)
{
	sp_keyset *cur = NULL, *k = NULL;
	char tmp[4096], msg[512];
	int rc;

	if ((rc = sp_keys_load(dir, &cur)) != SP_OK) {
		fprintf(stderr, "seinpost keys rotate: keys in %s: %s\n", dir, sp_strerror(rc));
		return 1;
	}
	/* New sign key, same CURVE key (the nodes pin it). Staged in DIR/next
	 * so the roster is signed before the files move. */
	snprintf(tmp, sizeof tmp, "%s/next", dir);
	rc = sp_keys_generate(0, &k);
	if (rc == SP_OK) {
		memcpy(k->curve_pk, cur->curve_pk, 32);
		memcpy(k->curve_sk, cur->curve_sk, 32);
		rc = sp_keys_save(k, tmp);
	}
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost keys rotate: %s: %s\n", tmp, sp_strerror(rc));
		goto out;
	}
	rc = sp_network_broker_rotate(roster, opdir, dir, tmp, msg, sizeof msg);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost keys rotate: %s\n", msg);
		goto out;
	}
	rc = sp_keys_retire(dir);
	if (rc == SP_OK)
		rc = sp_keys_save(k, dir);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost keys rotate: %s: %s (the new keys are in %s)\n", dir, sp_strerror(rc), tmp);
		goto out;
	}
	/* The staged copy: the keys now live in DIR (and DIR/old/<n>). */
	for (size_t i = 0; i < 4; i++) {
		static const char *const names[] = { "curve.key", "curve.pub", "sign.key", "sign.pub" };
		char f[4200];
		snprintf(f, sizeof f, "%s/%s", tmp, names[i]);
		(void)unlink(f);
	}
	(void)rmdir(tmp);
	printf("%s\nreload the broker (SIGHUP) to sign with the new key; nodes get the roster from it\n", msg);
out:
	sp_keys_free(&cur);
	sp_keys_free(&k);
	return rc == SP_OK ? 0 : 1;
}

int sp_cli_keys(int argc, char **argv)
{
	const char *dir = NULL, *roster = NULL, *opdir = NULL;
	unsigned long long overlap = SP_OVERLAP_DEFAULT_S;
	int broker = 0;
	char err[512];

	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		fputs(KEYS_USAGE
		      "Organisation: new curve, sign and box keys in DIR, the old ones kept in DIR/old/<n>/ (the node\n"
		      "keeps opening deliveries sealed to them), and a new DIR/enrol.json signed by the new and the old\n"
		      "sign key; the operator runs `seinpost roster add` with it. The old keys stay admitted for\n"
		      "--overlap seconds (default 604800, one week).\n"
		      "Broker (run by the operator): a new sign key, a transition record signed by both keys in the\n"
		      "roster, so heads signed by the old key stay verifiable.\n", stdout);
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "rotate") != 0) {
		fputs(KEYS_USAGE, stderr);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--overlap") == 0 && i + 1 < argc) {
			char *end;
			overlap = strtoull(argv[++i], &end, 10);
			if (*end || overlap > 366ULL * 86400) {
				fprintf(stderr, "seinpost keys rotate: --overlap must be 0..31622400 seconds\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--broker") == 0)
			broker = 1;
		else if (strcmp(argv[i], "--roster") == 0 && i + 1 < argc)
			roster = argv[++i];
		else if (strcmp(argv[i], "--operator") == 0 && i + 1 < argc)
			opdir = argv[++i];
		else if (strcmp(argv[i], "--help") == 0) {
			fputs(KEYS_USAGE, stdout);
			return 0;
		} else if (argv[i][0] != '-' && !dir)
			dir = argv[i];
		else {
			fprintf(stderr, "seinpost keys rotate: unexpected argument %s\n" KEYS_USAGE, argv[i]);
			return 2;
		}
	}
	if (!dir || broker != (roster != NULL)) {
		fputs(KEYS_USAGE, stderr);
		return 2;
	}
	if (broker)
		return rotate_broker(dir, roster, opdir);
	if (sp_network_rotate(dir, overlap, err, sizeof err) != SP_OK) {
		fprintf(stderr, "seinpost keys rotate: %s\n", err);
		return 1;
	}
	printf("new keys in %s (old ones in %s/old/); send %s/enrol.json to the network operator\n"
	       "(`seinpost roster add`); the node switches when the new roster reaches it\n", dir, dir, dir);
	return 0;
}
