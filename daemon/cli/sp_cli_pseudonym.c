/*
 * sp_cli_pseudonym.c — `seinpost --config NODE pseudonym`: ask the
 * pseudonymisation service for the network pseudonyms of identifiers
 * (the privacy officer's look-up, a bulk check before an import).
 *
 * The identifiers are normalised and validated here (elfproef for BSNs),
 * blinded before they leave the process, and never printed back: the
 * output is one pseudonym (hex) per input line, in input order.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_bsn.h"
#include "sp_cli.h"
#include "sp_config.h"
#include "sp_keys.h"
#include "sp_oprf_client.h"
#include "sp_pseudo.h"
#include "sp_roster.h"
#include "sp_rosterstate.h"
#include "sp_util.h"
#include "seinpost.pb-c.h"

#define MAX_IDS 1000000

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: seinpost --config NODE pseudonym [--kind person|business|location]\n"
	        "                [--batch N] (--file FILE | ID...)\n"
	        "\n"
	        "Print the network pseudonym (64 hex characters) of each identifier, one per\n"
	        "line, in input order. The identifiers are blinded before they leave this\n"
	        "process; the pseudonymisation service counts and audits every evaluation\n"
	        "against this organisation's daily limit. FILE holds one identifier a line.\n"
	        "Exit 0 ok, 1 refused or a proof failed (alarm), 2 usage or a malformed\n"
	        "identifier, 3 the service did not answer in time.\n");
}

static int normalise(int kind, const char *in, char *out)
{
	switch (kind) {
	case SP_SUBJECT_PERSON: return sp_bsn_normalise(in, out);
	case SP_SUBJECT_BUSINESS: return sp_kvk_normalise(in, out);
	case SP_SUBJECT_LOCATION: return sp_bag_normalise(in, out);
	default: return SP_EINVAL;
	}
}

static int add_id(char ***ids, size_t *n, size_t *cap, int kind, const char *raw, size_t line)
{
	char norm[32];
	if (normalise(kind, raw, norm) != SP_OK) {
		/* the position, never the value: it may be a mistyped BSN */
		fprintf(stderr, "seinpost pseudonym: identifier %zu is not valid for its kind\n", line);
		return 2;
	}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		char **p = c <= MAX_IDS ? realloc(*ids, c * sizeof *p) : NULL;
		if (!p) {
			fprintf(stderr, "seinpost pseudonym: too many identifiers\n");
			return 2;
		}
		*ids = p;
		*cap = c;
	}
	if (!((*ids)[*n] = strdup(norm)))
		return 1;
	(*n)++;
	return 0;
}

static int read_file(const char *path, int kind, char ***ids, size_t *n, size_t *cap)
{
	FILE *f = fopen(path, "r");
	char line[128];
	size_t ln = 0;
	int rc = 0;
	if (!f) {
		fprintf(stderr, "seinpost pseudonym: cannot open %s: %s\n", path, strerror(errno));
		return 2;
	}
	while (rc == 0 && fgets(line, sizeof line, f)) {
		size_t l = strcspn(line, "\r\n");
		ln++;
		line[l] = '\0';
		if (l == 0)
			continue;
		rc = add_id(ids, n, cap, kind, line, ln);
	}
	fclose(f);
	return rc;
}

int sp_cli_oprf_lookup(const sp_config *cfg, int kind, const char *norm, uint8_t out[32], char *why, size_t whylen)
{
	sp_keyset *keys = NULL;
	sp_roster *roster = NULL;
	sp_oprfc *cl = NULL;
	const char *ids[1] = { norm };
	int r;
	why[0] = '\0';
	if ((r = sp_keys_load(cfg->keys_dir, &keys)) == SP_OK &&
	    (r = sp_rosterstate_load(cfg, &roster)) == SP_OK &&
	    (r = sp_oprfc_open(cfg, keys, roster, &cl, why, whylen)) == SP_OK)
		r = sp_oprfc_pseudonyms(cl, SEINPOST__OPRF_PURPOSE__OPRF_PURPOSE_LOOKUP, kind, ids, 1, out, why, whylen);
	if (r != SP_OK && !why[0])
		snprintf(why, whylen, "%s", sp_strerror(r));
	sp_oprfc_close(&cl);
	sp_roster_free(&roster);
	sp_keys_free(&keys);
	return r;
}

int sp_cli_pseudonym(const char *cfg_path, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "file", required_argument, NULL, 'f' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	sp_config cfg;
	sp_keyset *keys = NULL;
	sp_roster *roster = NULL;
	sp_oprfc *cl = NULL;
	const char *file = NULL;
	char **ids = NULL, why[512], hex[65];
	uint8_t *out = NULL;
	size_t n = 0, cap = 0, batch = 0;
	int kind = SP_SUBJECT_PERSON, c, rc = 2, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (strcmp(optarg, "person") == 0)
				kind = SP_SUBJECT_PERSON;
			else if (strcmp(optarg, "business") == 0)
				kind = SP_SUBJECT_BUSINESS;
			else if (strcmp(optarg, "location") == 0)
				kind = SP_SUBJECT_LOCATION;
			else {
				usage(stderr);
				return 2;
			}
			break;
		case 'f': file = optarg; break;
		case 'b': batch = strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if ((file != NULL) == (optind < argc)) {
		usage(stderr);
		return 2;
	}
	if ((r = sp_cli_load_config(cfg_path, &cfg)) != 0)
		return r;
	if (cfg.role != SP_RUN_NODE || !cfg.oprf_service[0]) {
		fprintf(stderr, "seinpost pseudonym: needs the configuration of a node with a "
		                "[pseudonymiser] section\n");
		return 2;
	}
	if (file)
		rc = read_file(file, kind, &ids, &n, &cap);
	else
		for (rc = 0; rc == 0 && optind < argc; optind++)
			rc = add_id(&ids, &n, &cap, kind, argv[optind], n + 1);
	if (rc != 0)
		goto out;
	rc = 1;
	if (n == 0) {
		rc = 2;
		goto out;
	}
	if ((r = sp_keys_load(cfg.keys_dir, &keys)) != SP_OK) {
		fprintf(stderr, "seinpost pseudonym: keys: %s\n", sp_strerror(r));
		goto out;
	}
	if ((r = sp_rosterstate_load(&cfg, &roster)) != SP_OK) {
		fprintf(stderr, "seinpost pseudonym: roster: %s\n", sp_strerror(r));
		goto out;
	}
	if ((r = sp_oprfc_open(&cfg, keys, roster, &cl, why, sizeof why)) != SP_OK) {
		fprintf(stderr, "seinpost pseudonym: %s\n", why[0] ? why : sp_strerror(r));
		goto out;
	}
	if (batch)
		sp_oprfc_set_batch(cl, batch);
	if (!(out = malloc(32 * n)))
		goto out;
	r = sp_oprfc_pseudonyms(cl, SEINPOST__OPRF_PURPOSE__OPRF_PURPOSE_LOOKUP, kind,
	                        (const char *const *)ids, n, out, why, sizeof why);
	if (r == SP_ETIMEOUT) {
		fprintf(stderr, "seinpost pseudonym: the pseudonymisation service did not answer "
		                "within %u ms\n", cfg.oprf_timeout_ms);
		rc = 3;
		goto out;
	}
	if (r != SP_OK) {
		fprintf(stderr, "seinpost pseudonym: %s\n", why[0] ? why : sp_strerror(r));
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		printf("%s\n", sp_hex(out + 32 * i, 32, hex));
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(out);
	sp_oprfc_close(&cl);
	sp_roster_free(&roster);
	sp_keys_free(&keys);
	return rc;
}
