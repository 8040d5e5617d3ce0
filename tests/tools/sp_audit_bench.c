/*
 * sp_audit_bench — fill a scratch audit log with N records (heads every
 * 10,000) and time `verify` (records/s) and a who-saw index look-up.
 *   sp_audit_bench DIR [N]      (DIR must not exist; removed by the caller)
 *   sp_audit_bench STATE N BROKER_KEYS PSEUDO_KEY
 *       fills a (not yet started) broker's state with N records signed with
 *       its key, about 50,000 subjects whose pseudonyms are derived with the
 *       network's pseudonymisation key from synthetic BSNs, so the real
 *       `audit verify` and `audit who-saw` can be timed on it (make bench).
 *       Prints "who-saw subject: BSN" for one of them; no verify here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "seinpost.pb-c.h"
#include "sp_audit.h"
#include "sp_keys.h"
#include "sp_pseudo.h"
#include "sp_mtree.h"
#include "sp_sth.h"
#include "sp_store.h"
#include "sp_submit.h"
#include "sp_util.h"

static int count(void *ctx, uint64_t seq)
{
	(void)seq;
	(*(uint64_t *)ctx)++;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000, t0, hits = 0;
	uint8_t pk[32], sk[64], ps[32] = { 0 }, sid[16];
	sp_store *s = NULL;
	sp_txn *t = NULL;
	sp_audit_verify_result r;
	sp_keyset *keys = NULL;
	sp_pseudo_keyring *kr = NULL;
	enum { SUBJECTS = 50000 };
	uint8_t (*pseudo)[32] = NULL;
	char bsn[SUBJECTS > 0 ? 10 : 1];
	if (argc < 2 || sodium_init() < 0 || sp_store_open(argv[1], 65536ull << 20, 0, &s) != SP_OK)
		return 1;
	crypto_sign_keypair(pk, sk);
	if (argc > 4) {
		if (sp_keys_load(argv[3], &keys) != SP_OK || sp_pseudo_keyring_load(argv[4], &kr) != SP_OK ||
		    !(pseudo = calloc(SUBJECTS, 32)))
			return 1;
		memcpy(pk, keys->sign_pk, 32);
		memcpy(sk, keys->sign_sk, 64);
		sp_kh *kh = NULL;
		if (sp_kh_local("bench", NULL, kr, &kh) != SP_OK)
			return 1;
		/* synthetic BSNs passing the elfproef (as tests/bench/gen_bsn.py) */
		uint64_t p = 20000000;
		for (int i = 0; i < SUBJECTS; p++) {
			static const int w[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
			int sum = 0;
			snprintf(bsn, sizeof bsn, "%08llu", (unsigned long long)p);
			for (int j = 0; j < 8; j++)
				sum += (bsn[j] - '0') * w[j];
			if (sum % 11 == 10)
				continue;
			bsn[8] = (char)('0' + sum % 11);
			bsn[9] = '\0';
			uint32_t epoch;
			char why[128];
			if (sp_submit_pseudonym(kh, 1, bsn, pseudo[i], &epoch, why, sizeof why) != SP_OK)
				return 1;
			if (i == 4242)
				printf("who-saw subject: %s\n", bsn);
			i++;
		}
		sp_kh_free(&kh);
	}
	t0 = sp_mono_ms();
	for (uint64_t i = 0; i < n; i++) {
		if (!t && sp_txn_begin(s, 1, &t) != SP_OK)
			return 1;
		if (pseudo)
			memcpy(ps, pseudo[i % SUBJECTS], 32);
		else
			sp_be64_put(ps, i % SUBJECTS); /* 50,000 subjects */
		randombytes_buf(sid, sizeof sid);
		sp_audit_entry e = { .event = SEINPOST__AUDIT_EVENT__AUDIT_DELIVERED, .actor = "broker",
		                     .recipient = "school-bonnefanten", .pseudonym = ps, .signal_id = sid,
		                     .category = "drug-recruitment", .weight = 2, .tiers = 3,
		                     .rule_id = "drug-w2-school", .legal_basis = "AVG art. 6(1)(e)" };
		if (sp_audit_append(t, &e, NULL) != SP_OK)
			return 1;
		if ((i + 1) % 10000 == 0 || i + 1 == n) {
			if (sp_sth_maybe_sign(t, sk, 1, 0, 1, NULL) != SP_OK || sp_txn_commit(&t) != SP_OK)
				return 1;
		}
	}
	printf("append: %llu records in %llu ms\n", (unsigned long long)n, (unsigned long long)(sp_mono_ms() - t0));
	if (pseudo) {
		free(pseudo);
		sp_keys_free(&keys);
		sp_pseudo_keyring_free(&kr);
		sp_store_close(&s);
		return 0;
	}
	t0 = sp_mono_ms();
	if (sp_audit_verify_full(s, pk, &r) != SP_OK) {
		printf("verify failed: %s\n", r.why);
		return 1;
	}
	uint64_t ms = sp_mono_ms() - t0;
	printf("verify: %llu records, %llu heads in %llu ms = %.0f records/s\n", (unsigned long long)r.records,
	       (unsigned long long)r.heads, (unsigned long long)ms, ms ? r.records * 1000.0 / ms : 0.0);
	t0 = sp_mono_ms();
	sp_be64_put(ps, 4242);
	if (sp_txn_begin(s, 0, &t) != SP_OK ||
	    sp_mtree_index_foreach(t, SP_MTREE_BY_PSEUDO, ps, 32, count, &hits) != SP_OK)
		return 1;
	sp_txn_abort(&t);
	printf("who-saw index: %llu records for one subject in %llu ms\n", (unsigned long long)hits,
	       (unsigned long long)(sp_mono_ms() - t0));
	sp_store_close(&s);
	return 0;
}
