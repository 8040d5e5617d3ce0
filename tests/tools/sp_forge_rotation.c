/*
 * sp_forge_rotation — a hostile roster signer (tests only): swaps the
 * pseudonymisation service's group key for one of its own (a fresh local
 * DKG: new commitments, instance keys to match) and adds a rotation record
 * whose d and proof are not a proof of anything, then signs the roster with
 * the operator key like an honest change (serial + 1).
 *
 * usage: sp_forge_rotation ROSTER OPERATOR_DIR OUT
 * A node pinned to the old group key must refuse it with an alarm. A
 * one-shot tool: it leaves its allocations to the exit (tests run it with
 * ASAN_OPTIONS=detect_leaks=0).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seinpost.pb-c.h"
#include "sp_keys.h"
#include "sp_roster.h"
#include "sp_toprf.h"
#include "sp_util.h"

int main(int argc, char **argv)
{
	uint8_t *buf = NULL, shares[SP_TOPRF_MAX_N * 32], commits[SP_TOPRF_MAX_N * 32], pk[SP_TOPRF_MAX_N][32];
	uint8_t d[32], proof[64], *rb, *msg, sig[64];
	size_t len, rl, dl = strlen(SP_ROSTER_DOMAIN);
	sp_keyset *op = NULL;
	Seinpost__SignedRoster *sr;
	Seinpost__Roster *ro;
	Seinpost__OprfRotation rot = SEINPOST__OPRF_ROTATION__INIT, **rots;
	uint32_t t;

	if (argc != 4 || sodium_init() < 0)
		return 2;
	if (sp_file_read(argv[1], 4u << 20, &buf, &len) != SP_OK || sp_keys_load_sign(argv[2], &op) != SP_OK)
		return 1;
	if (!(sr = seinpost__signed_roster__unpack(NULL, len, buf)) ||
	    !(ro = seinpost__roster__unpack(NULL, sr->roster.len, sr->roster.data)) || ro->n_oprf_commitments < 1)
		return 1;
	t = (uint32_t)ro->n_oprf_commitments;
	if (sp_toprf_dkg_local(t, 3, shares, commits) != SP_OK)
		return 1;
	for (size_t i = 0; i < ro->n_orgs; i++) {
		Seinpost__RosterOrg *o = ro->orgs[i];
		if (!o->oprf_index)
			continue;
		if (sp_toprf_public_share(commits, t, o->oprf_index, pk[o->oprf_index - 1]) != SP_OK)
			return 1;
		o->oprf_key.data = pk[o->oprf_index - 1];
	}
	/* a rotation record of the right form, proving nothing */
	crypto_core_ristretto255_random(d);
	randombytes_buf(proof, 64);
	proof[31] &= 0x0f;
	proof[63] &= 0x0f;
	rot.epoch = ro->n_oprf_rotations ? ro->oprf_rotations[ro->n_oprf_rotations - 1]->epoch + 1 : 1;
	rot.old_group_key = ro->oprf_commitments[0];
	rot.new_group_key = (ProtobufCBinaryData){ 32, commits };
	rot.d = (ProtobufCBinaryData){ 32, d };
	rot.proof = (ProtobufCBinaryData){ 64, proof };
	rot.time = sp_now_s();
	rots = calloc(ro->n_oprf_rotations + 1, sizeof *rots);
	memcpy(rots, ro->oprf_rotations, ro->n_oprf_rotations * sizeof *rots);
	rots[ro->n_oprf_rotations] = &rot;
	ro->oprf_rotations = rots;
	ro->n_oprf_rotations++;
	for (uint32_t j = 0; j < t; j++)
		ro->oprf_commitments[j].data = commits + 32 * j;
	ro->serial++;
	rl = seinpost__roster__get_packed_size(ro);
	rb = malloc(rl);
	seinpost__roster__pack(ro, rb);
	msg = malloc(dl + rl);
	memcpy(msg, SP_ROSTER_DOMAIN, dl);
	memcpy(msg + dl, rb, rl);
	crypto_sign_detached(sig, NULL, msg, dl + rl, op->sign_sk);
	sr->roster = (ProtobufCBinaryData){ rl, rb };
	sr->signature = (ProtobufCBinaryData){ 64, sig };
	len = seinpost__signed_roster__get_packed_size(sr);
	buf = malloc(len);
	seinpost__signed_roster__pack(sr, buf);
	return sp_file_write(argv[3], buf, len, 0644) == SP_OK ? 0 : 1;
}
