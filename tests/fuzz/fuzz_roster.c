/*
 * fuzz_roster.c — SignedRoster files through sp_roster_load, and the same
 * bytes as an enrol.json through sp_enrol_parse (the other file an operator
 * takes from outside when enrolling).
 *
 * enrol.json: whatever parses must write back and parse to the same fields
 * (round trip), and a parsed file's signatures verified, so a random input
 * that parses is a real self-signed enrolment.
 *
 * The input is loaded as it is (exercising signature and outer decoding),
 * then, when it decodes as a SignedRoster, its roster bytes are re-signed
 * with the fixed test operator key and loaded again: random mutations almost
 * never carry a valid signature, and the entry validation behind it is the
 * part worth fuzzing. The operator key is public test material only.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seinpost.pb-c.h"
#include "sp_enrol.h"
#include "sp_roster.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[256];
static uint8_t op_pk[32], op_sk[64];

static void cleanup(void)
{
	if (path[0])
		unlink(path);
}

static int setup(void)
{
	const char *tmp = getenv("TMPDIR");
	int fd;
	if (path[0])
		return 0;
	if (sodium_init() < 0)
		return -1;
	crypto_sign_seed_keypair(op_pk, op_sk, sp_fuzz_operator_seed);
	snprintf(path, sizeof path, "%s/sp-fuzz-roster-XXXXXX", tmp ? tmp : "/tmp");
	if ((fd = mkstemp(path)) < 0) {
		path[0] = '\0';
		return -1;
	}
	close(fd);
	atexit(cleanup);
	return 0;
}

static int write_file(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	int ok;
	if (!f)
		return -1;
	ok = fwrite(data, 1, size, f) == size;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

static void load(void)
{
	sp_roster *r = NULL;
	if (sp_roster_load(path, op_pk, &r) != SP_OK)
		return;
	/* touch everything a caller would read */
	(void)sp_roster_network(r);
	(void)sp_roster_broker_curve(r);
	(void)sp_roster_broker_sign(r);
	for (size_t i = 0; i < sp_roster_count(r); i++) {
		const sp_org *o = sp_roster_at(r, i);
		if (!o || sp_roster_find(r, o->id) != o || sp_roster_find_curve(r, o->curve_pk) != o)
			abort();
	}
	sp_roster_free(&r);
}

static void enrol(const uint8_t *data, size_t size)
{
	sp_enrol e, back;
	char why[256], p2[300];
	if (sp_enrol_parse((const char *)data, size, &e, why, sizeof why) != SP_OK) {
		if (!why[0] || strlen(why) >= sizeof why)
			abort(); /* every refusal says why */
		return;
	}
	snprintf(p2, sizeof p2, "%s.json", path);
	if (sp_enrol_write(&e, p2) != SP_OK)
		abort();
	if (sp_enrol_read(p2, &back, why, sizeof why) != SP_OK || memcmp(&e, &back, sizeof e) != 0)
		abort();
	unlink(p2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Seinpost__SignedRoster *sr;
	uint8_t *msg = NULL;

	if (setup() != 0 || write_file(data, size) != 0)
		return 0;
	load();
	enrol(data, size);

	sr = seinpost__signed_roster__unpack(NULL, size, data);
	if (!sr)
		return 0;
	size_t dl = strlen(SP_ROSTER_DOMAIN);
	uint8_t sig[64];
	ProtobufCBinaryData orig = sr->signature;
	msg = malloc(dl + sr->roster.len + 1);
	if (msg) {
		memcpy(msg, SP_ROSTER_DOMAIN, dl);
		if (sr->roster.len)
			memcpy(msg + dl, sr->roster.data, sr->roster.len);
		crypto_sign_detached(sig, NULL, msg, dl + sr->roster.len, op_sk);
		sr->signature.data = sig;
		sr->signature.len = sizeof sig;
		size_t n = seinpost__signed_roster__get_packed_size(sr);
		uint8_t *out = malloc(n + 1);
		if (out) {
			seinpost__signed_roster__pack(sr, out);
			if (write_file(out, n) == 0)
				load();
			free(out);
		}
	}
	/* the signature points at our stack buffer: give back the original
	 * allocation before free_unpacked */
	sr->signature = orig;
	seinpost__signed_roster__free_unpacked(sr, NULL);
	free(msg);
	return 0;
}
