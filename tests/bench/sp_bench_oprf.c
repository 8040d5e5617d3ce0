/*
 * sp_bench_oprf.c — the OPRF's cost per element, one core:
 *   service: BlindEvaluate + its share of one batched DLEQ proof;
 *   node: Blind + its share of VerifyProof + Unblind (batched: one inversion);
 *   threshold node: 2-of-3 (two proofs checked, Lagrange-combined unblind,
 *   sp_toprf_combine_batch).
 * Process CPU time, not wall time: figures hold on a loaded machine.
 * Usage: sp_bench_oprf [BATCH] [ROUNDS] — prints one JSON object.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_oprf.h"
#include "sp_toprf.h"

#define MODE SP_OPRF_MODE_VERIFIABLE

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the build machine is shared */
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t batch = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	uint8_t sk[32], pk[32], proof[64], shares[3 * 32], commits[2 * 32];
	uint8_t *blinds, *b, *ev, *p, *ev2[2];
	double t_blind = 0, t_eval = 0, t_prove = 0, t_verify = 0, t_unblind = 0, t_comb = 0;
	char in[16];
	uint32_t idx[2] = { 1, 3 };

	if (sodium_init() < 0 || batch == 0 || batch > SP_OPRF_MAX_BATCH || rounds < 1)
		return 2;
	blinds = malloc(32 * batch);
	b = malloc(32 * batch);
	ev = malloc(32 * batch);
	p = malloc(32 * batch);
	ev2[0] = malloc(32 * batch);
	ev2[1] = malloc(32 * batch);
	if (!blinds || !b || !ev || !p || !ev2[0] || !ev2[1])
		return 1;
	if (sp_oprf_keypair(sk, pk) != SP_OK || sp_toprf_dkg_local(2, 3, shares, commits) != SP_OK)
		return 1;
	for (int r = 0; r < rounds; r++) {
		double t = now_s();
		for (size_t i = 0; i < batch; i++) {
			snprintf(in, sizeof in, "\x01%09zu", 100000000 + i);
			if (sp_oprf_blind(MODE, (uint8_t *)in, 10, NULL, blinds + 32 * i, b + 32 * i) != SP_OK)
				return 1;
		}
		t_blind += now_s() - t;
		t = now_s();
		if (sp_oprf_evaluate(sk, b, batch, ev) != SP_OK)
			return 1;
		t_eval += now_s() - t;
		t = now_s();
		if (sp_oprf_prove(MODE, sk, pk, b, ev, batch, NULL, proof) != SP_OK)
			return 1;
		t_prove += now_s() - t;
		t = now_s();
		if (sp_oprf_verify(MODE, pk, b, ev, batch, proof) != SP_OK)
			return 1;
		t_verify += now_s() - t;
		t = now_s();
		if (sp_oprf_unblind_batch(blinds, ev, batch, p, NULL) != SP_OK)
			return 1;
		t_unblind += now_s() - t;
		/* 2-of-3: the combine step alone (the proofs cost as above, twice) */
		for (int k = 0; k < 2; k++)
			if (sp_oprf_evaluate(shares + 32 * (idx[k] - 1), b, batch, ev2[k]) != SP_OK)
				return 1;
		t = now_s();
		if (sp_toprf_combine_batch(idx, 2, (const uint8_t *const *)ev2, blinds, batch, p, NULL) != SP_OK)
			return 1;
		t_comb += now_s() - t;
	}
	double n = (double)batch * rounds;
	printf("{\"batch\": %zu, \"rounds\": %d, "
	       "\"service_eval_us\": %.1f, \"service_prove_us\": %.1f, \"service_per_s\": %.0f, "
	       "\"node_blind_us\": %.1f, \"node_verify_us\": %.1f, \"node_unblind_us\": %.1f, "
	       "\"node_per_s\": %.0f, \"node_2of3_per_s\": %.0f}\n",
	       batch, rounds, 1e6 * t_eval / n, 1e6 * t_prove / n, n / (t_eval + t_prove),
	       1e6 * t_blind / n, 1e6 * t_verify / n, 1e6 * t_unblind / n,
	       n / (t_blind + t_verify + t_unblind), n / (t_blind + 2 * t_verify + t_comb));
	return 0;
}
