/*
 * sp_orgverify.c — signatures against every key generation an
 * organisation (or the broker) is allowed to have used. The current key is
 * tried first: outside a rotation that is the only check made.
 */
#include "sp_orgverify.h"

#include "sp_signal.h"
#include "sp_sth.h"

#define KEYS_MAX (1 + SP_PREV_MAX)

int sp_org_verify_signal(const sp_org *o, const Seinpost__Signal *sig, const Seinpost__SignalHeader *hdr,
                         uint64_t now_s)
{
	const uint8_t *k[KEYS_MAX];
	size_t n = sp_org_sign_keys(o, now_s, k, KEYS_MAX);
	int rc = SP_ESIG;
	for (size_t i = 0; i < n && rc != SP_OK; i++)
		rc = sp_signal_verify(sig, hdr, k[i]);
	return rc;
}

int sp_org_verify_receipt(const sp_org *o, const uint8_t id[16], uint64_t time, const uint8_t sig[64],
                          uint64_t now_s)
{
	const uint8_t *k[KEYS_MAX];
	size_t n = sp_org_sign_keys(o, now_s, k, KEYS_MAX);
	int rc = SP_ESIG;
	for (size_t i = 0; i < n && rc != SP_OK; i++)
		rc = sp_receipt_verify(id, time, sig, k[i]);
	return rc;
}

int sp_org_verify_receipts(const sp_org *o, uint64_t time, const uint8_t *const *ids, size_t n,
                           const uint8_t sig[64], uint64_t now_s)
{
	const uint8_t *k[KEYS_MAX];
	size_t nk = sp_org_sign_keys(o, now_s, k, KEYS_MAX);
	int rc = SP_ESIG;
	for (size_t i = 0; i < nk && rc != SP_OK; i++)
		rc = sp_receipts_verify(o->id, time, ids, n, sig, k[i]);
	return rc;
}

int sp_roster_verify_sth(const sp_roster *r, const Seinpost__SignedTreeHead *h)
{
	const uint8_t *k[SP_BROKER_KEYS_MAX];
	size_t n = sp_roster_broker_keys(r, k, SP_BROKER_KEYS_MAX);
	int rc = SP_ESIG;
	for (size_t i = 0; i < n && rc != SP_OK; i++)
		rc = sp_sth_verify(h, k[i]);
	return rc;
}
