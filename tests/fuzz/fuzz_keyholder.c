/* fuzz_keyholder.c — the key holder's request parser and answer: the only
 * code of the key-holding process that reads what the network process
 * sends. Any bytes: no crash, no leak; a refusal carries a status and no
 * body; an accepted request gets exactly its answer, echoing op and
 * sequence; a signature is over the key holder's own domain string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "sp_keyholder.h"
#include "sp_oprfsvc.h"
#include "sp_reads.h"
#include "sp_signal.h"

#define ORG "fuzz-org"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sp_keyset *keys;
static sp_pseudo_keyring *kr;
static sp_kh *local;

static const char *domain(int d)
{
	return d == SP_KH_DOM_SIGNAL     ? SP_SIG_DOMAIN
	       : d == SP_KH_DOM_RECEIPTS ? SP_RECEIPTS_DOMAIN
	       : d == SP_KH_DOM_OPRF     ? SP_OPRF_REQ_DOMAIN
	                                 : SP_READ_DOMAIN;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ans[SP_KH_MSG_MAX], m[64 + SP_KH_MSG_MAX];
	sp_kh_request r;
	size_t al;
	int rc, st;

	if (!local && (sodium_init() < 0 || sp_keys_generate(1, &keys) != SP_OK ||
	               sp_pseudo_keyring_generate(1, &kr) != SP_OK || sp_kh_local(ORG, keys, kr, &local) != SP_OK))
		abort();
	rc = sp_keyholder_parse(data, size, ORG, &r);
	sp_keyholder_answer(local, ORG, data, size, ans, &al);
	st = -(int)((unsigned)ans[2] << 8 | ans[3]);
	if (al < SP_KH_HDR || ans[0] != SP_KH_VERSION)
		abort();
	if (rc != SP_OK) {
		if (st != rc || al != SP_KH_HDR)
			abort();
		return 0;
	}
	if (ans[1] != data[1] || memcmp(ans + 4, data + 4, 4) != 0)
		abort();
	if (st != SP_OK) {
		/* only a pseudonym of an epoch we lack, a grant that is not ours, or
		 * a key generation we do not hold (SELECT; none at all here) */
		if (al != SP_KH_HDR || !((r.op == SP_KH_PSEUDONYM && st == SP_EKEY) || (r.op == SP_KH_UNSEAL && st == SP_ECRYPTO) ||
		                         (r.op == SP_KH_SELECT && (st == SP_EKEY || st == SP_ENOTFOUND))))
			abort();
		return 0;
	}
	switch (r.op) {
	case SP_KH_SIGN: {
		size_t dl = strlen(domain(r.domain));
		if (al != SP_KH_HDR + 64 || r.len < 1 || r.len > SP_KH_SIGN_MAX)
			abort();
		memcpy(m, domain(r.domain), dl);
		memcpy(m + dl, r.msg, r.len);
		if (crypto_sign_verify_detached(ans + SP_KH_HDR, m, dl + r.len, keys->sign_pk) != 0)
			abort();
		break;
	}
	case SP_KH_UNSEAL:
	case SP_KH_PSEUDONYM:
		if (al != SP_KH_HDR + 32)
			abort();
		break;
	case SP_KH_INFO:
		if (al != SP_KH_HDR + 68 + strlen(ORG) || memcmp(ans + SP_KH_HDR, keys->sign_pk, 32) != 0)
			abort();
		break;
	default:
		abort();
	}
	return 0;
}
