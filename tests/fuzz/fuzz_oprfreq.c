/*
 * fuzz_oprfreq.c — OprfSignedRequest frames through sp_oprfsvc_handle, the
 * pseudonymisation service's one entry point for outside input.
 *
 * The input is served as it is (decode, sender and signature checks), then,
 * when it decodes, its inner request is re-signed with the fixed test key of
 * "school-a" and served again at the request's own time, so the checks
 * behind the signature (sizes, limits, elements, the OPRF) are reached.
 * Every reply must decode. Keys here are public test material only.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seinpost.pb-c.h"
#include "sp_oprfsvc.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[256];
static sp_roster *roster;
static sp_policy *policy;
static sp_oprf_key *key;
static sp_store *store;
static uint8_t school_sk[64];

static void cleanup(void)
{
	char cmd[300];
	sp_store_close(&store);
	sp_roster_free(&roster);
	sp_policy_free(&policy);
	sp_oprf_key_free(&key);
	if (dir[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
}

static int setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[300], err[256];
	uint8_t pk[32], bc[32] = { 1 }, bs[32] = { 2 };
	sp_org o;
	FILE *f;
	if (roster)
		return 0;
	if (sodium_init() < 0)
		return -1;
	snprintf(dir, sizeof dir, "%s/sp-fuzz-oprf-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		dir[0] = '\0';
		return -1;
	}
	atexit(cleanup);
	crypto_sign_seed_keypair(pk, school_sk, sp_fuzz_operator_seed);
	if (sp_oprf_key_generate(&key) != SP_OK || sp_roster_new("fuzz", bc, bs, &roster) != SP_OK)
		return -1;
	memset(&o, 0, sizeof o);
	snprintf(o.id, sizeof o.id, "school-a");
	snprintf(o.role, sizeof o.role, "school");
	memset(o.curve_pk, 3, 32);
	memset(o.box_pk, 4, 32);
	memcpy(o.sign_pk, pk, 32);
	if (sp_roster_add(roster, &o) != SP_OK)
		return -1;
	snprintf(path, sizeof path, "%s/policy.ini", dir);
	if (!(f = fopen(path, "w")))
		return -1;
	fputs("[policy]\nversion = fuzz\nname = fuzz\nowner = fuzz\n"
	      "[limits school]\noprf_per_day = 1000000\noprf_per_request = 64\n"
	      "[category c]\ndescription = d\ndefault_weight = 1\nretention_days = 1\n", f);
	fclose(f);
	if (sp_policy_load(path, &policy, err, sizeof err) != SP_OK)
		return -1;
	snprintf(path, sizeof path, "%s/state", dir);
	return sp_store_open(path, 64u << 20, 0, &store) == SP_OK ? 0 : -1;
}

static void serve(const uint8_t *data, size_t size, uint64_t now)
{
	sp_oprfsvc_ctx c = { roster, policy, key, "pseudo-fuzz", 300, NULL };
	sp_txn *t = NULL;
	uint8_t *reply = NULL;
	size_t rlen = 0;
	char alarm[256];
	if (sp_txn_begin(store, 1, &t) != SP_OK)
		abort();
	if (sp_oprfsvc_handle(&c, t, "school-a", data, size, now, &reply, &rlen, alarm,
	                      sizeof alarm) == SP_OK) {
		Seinpost__OprfReply *r = seinpost__oprf_reply__unpack(NULL, rlen, reply);
		if (!r)
			abort(); /* the service must always answer something decodable */
		seinpost__oprf_reply__free_unpacked(r, NULL);
	}
	free(reply);
	sp_txn_abort(&t); /* keep the store small: nothing needs to persist */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Seinpost__OprfSignedRequest *sr;
	Seinpost__OprfRequest *rq;
	if (setup() != 0)
		abort();
	serve(data, size, 1767225600000ull);
	sr = seinpost__oprf_signed_request__unpack(NULL, size, data);
	if (!sr)
		return 0;
	rq = seinpost__oprf_request__unpack(NULL, sr->request.len, sr->request.data);
	if (rq) {
		size_t dl = strlen(SP_OPRF_REQ_DOMAIN);
		uint8_t sig[64], *msg = malloc(dl + sr->request.len + 1);
		if (msg) {
			ProtobufCBinaryData orig = sr->signature;
			memcpy(msg, SP_OPRF_REQ_DOMAIN, dl);
			if (sr->request.len)
				memcpy(msg + dl, sr->request.data, sr->request.len);
			crypto_sign_detached(sig, NULL, msg, dl + sr->request.len, school_sk);
			sr->signature.data = sig;
			sr->signature.len = sizeof sig;
			size_t n = seinpost__oprf_signed_request__get_packed_size(sr);
			uint8_t *out = malloc(n + 1);
			if (out) {
				seinpost__oprf_signed_request__pack(sr, out);
				serve(out, n, rq->time);
				free(out);
			}
			sr->signature = orig;
			free(msg);
		}
		seinpost__oprf_request__free_unpacked(rq, NULL);
	}
	seinpost__oprf_signed_request__free_unpacked(sr, NULL);
	return 0;
}
