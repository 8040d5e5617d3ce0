/*
 * sp_bench_oprfc.c — a submit's added latency: what a node's submit spends
 * asking the pseudonymisation service for one pseudonym (blind, sign, the
 * round trip over CURVE, the service's evaluation, proof and audit commit,
 * the proof's verification, unblind), measured through the node's own
 * client (sp_oprf_client.c) against the running service(s) of a node's
 * configuration. Signed here with the node's key: the key holder's round
 * trip that a daemon adds is measured apart (sp_bench_kh).
 * Usage: sp_bench_oprfc NODE.conf [COUNT] — prints one JSON object (wall
 * time in ms: p50, p90, p99, max).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seinpost.pb-c.h"
#include "sp_config.h"
#include "sp_keys.h"
#include "sp_oprf_client.h"
#include "sp_roster.h"
#include "sp_util.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	sp_config cfg;
	sp_keyset *keys = NULL;
	sp_roster *roster = NULL;
	sp_oprfc *cl = NULL;
	char err[1024], why[512], bsn[16];
	size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000;
	double *lat;
	uint8_t out[32];

	if (argc < 2 || n == 0 || sodium_init() < 0) {
		fprintf(stderr, "usage: sp_bench_oprfc NODE.conf [COUNT]\n");
		return 2;
	}
	if (sp_config_load(argv[1], &cfg, err, sizeof err) != SP_OK) {
		fprintf(stderr, "sp_bench_oprfc: %s\n", err);
		return 1;
	}
	if (sp_keys_load(cfg.keys_dir, &keys) != SP_OK ||
	    sp_roster_load(cfg.roster_path, cfg.operator_pk, &roster) != SP_OK ||
	    sp_oprfc_open(&cfg, keys, roster, &cl, why, sizeof why) != SP_OK) {
		fprintf(stderr, "sp_bench_oprfc: cannot open the client: %s\n", why);
		return 1;
	}
	if (!(lat = calloc(n, sizeof *lat)))
		return 1;
	for (size_t i = 0, x = 40000000; i < n + 20; i++, x++) {
		/* a synthetic BSN passing the elfproef (the warm-up is not counted) */
		int s;
		for (;; x++) {
			char t[16];
			snprintf(t, sizeof t, "%08zu", x);
			s = 0;
			for (int d = 0; d < 8; d++)
				s += (9 - d) * (t[d] - '0');
			s %= 11;
			if (s != 10)
				break;
		}
		snprintf(bsn, sizeof bsn, "%08zu%d", x, s);
		const char *ids[1] = { bsn };
		double t0 = now_ms();
		if (sp_oprfc_pseudonyms(cl, SEINPOST__OPRF_PURPOSE__OPRF_PURPOSE_SUBMIT, 1, ids, 1, out,
		                        why, sizeof why) != SP_OK) {
			fprintf(stderr, "sp_bench_oprfc: %s\n", why);
			return 1;
		}
		if (i >= 20)
			lat[i - 20] = now_ms() - t0;
	}
	qsort(lat, n, sizeof *lat, cmp);
	printf("{\"count\": %zu, \"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f}\n", n,
	       lat[n / 2], lat[n * 9 / 10], lat[n * 99 / 100], lat[n - 1]);
	free(lat);
	sp_oprfc_close(&cl);
	sp_roster_free(&roster);
	sp_keys_free(&keys);
	return 0;
}
