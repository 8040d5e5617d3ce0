/* sp_subject.c — subject handles and per-recipient pseudonyms (sp_subject.h). */
#include "sp_subject.h"
#include "sp_meta_keys.h"

#include <sodium.h>
#include <string.h>

#include "sp_signal.h"
#include "sp_translate.h"
#include "sp_wire.h"
#include "seinpost.pb-c.h"

#define RECIP_DOMAIN "recip-v1"

static const uint8_t *signer; /* the broker's Ed25519 secret key, set at start */

void sp_subject_set_signer(const uint8_t sign_sk[64])
{
	signer = sign_sk;
}

/* The recipient secret, made on first use inside t. */
static int recip_secret(sp_txn *t, uint8_t key[32])
{
	const void *v;
	size_t vl;
	int rc = sp_store_get(t, SP_DB_META, SP_MK_RECIP_SECRET, strlen(SP_MK_RECIP_SECRET), &v, &vl);
	if (rc == SP_OK) {
		if (vl != 32)
			return SP_ECORRUPT;
		memcpy(key, v, 32);
		return SP_OK;
	}
	if (rc != SP_ENOTFOUND)
		return rc;
	randombytes_buf(key, 32);
	return sp_store_put(t, SP_DB_META, SP_MK_RECIP_SECRET, strlen(SP_MK_RECIP_SECRET), key, 32, 0);
}

int sp_subject_handle(sp_txn *t, const uint8_t p[32], uint8_t handle[SP_SUBJECT_HANDLE_BYTES])
{
	const void *v;
	size_t vl;
	int rc = sp_store_get(t, SP_DB_SUBJECT, p, 32, &v, &vl);
	if (rc == SP_OK) {
		if (vl != SP_SUBJECT_HANDLE_BYTES)
			return SP_ECORRUPT;
		memcpy(handle, v, SP_SUBJECT_HANDLE_BYTES);
		return SP_OK;
	}
	if (rc != SP_ENOTFOUND)
		return rc;
	randombytes_buf(handle, SP_SUBJECT_HANDLE_BYTES);
	return sp_store_put(t, SP_DB_SUBJECT, p, 32, handle, SP_SUBJECT_HANDLE_BYTES, 0);
}

int sp_subject_recipient_pseudonym(sp_txn *t, const uint8_t p[32], const char *to, uint8_t pr[32])
{
	uint8_t key[32], handle[SP_SUBJECT_HANDLE_BYTES];
	crypto_generichash_state st;
	int rc = recip_secret(t, key);
	if (rc == SP_OK)
		rc = sp_subject_handle(t, p, handle);
	if (rc != SP_OK) {
		sodium_memzero(key, sizeof key);
		return rc;
	}
	/* R ends with its NUL: no id is a prefix of another's input */
	crypto_generichash_init(&st, key, sizeof key, 32);
	crypto_generichash_update(&st, (const uint8_t *)RECIP_DOMAIN, strlen(RECIP_DOMAIN));
	crypto_generichash_update(&st, (const uint8_t *)to, strlen(to) + 1);
	crypto_generichash_update(&st, handle, sizeof handle);
	crypto_generichash_final(&st, pr, 32);
	sodium_memzero(key, sizeof key);
	sodium_memzero(&st, sizeof st);
	return SP_OK;
}

int sp_subject_seal_for(sp_txn *t, const uint8_t p[32], const uint8_t id[16], const char *to, uint8_t pr[32],
                        uint8_t sig[64])
{
	int rc;
	if (!signer)
		return SP_EINVAL;
	if ((rc = sp_subject_recipient_pseudonym(t, p, to, pr)) != SP_OK)
		return rc;
	return sp_recip_pseudonym_sign(id, to, pr, signer, sig);
}

int sp_subject_involved(sp_txn *t, const Seinpost__InvolveUpdate *u, const char *org, uint8_t pr[32])
{
	uint8_t handle[SP_SUBJECT_HANDLE_BYTES];
	const void *v;
	size_t vl;
	int have = 0, rc;
	uint8_t ps[16][32]; /* under the current key epoch: an update in flight across a rotation */
	if (u->n_pseudonyms < 1 || u->n_pseudonyms > 16)
		return SP_EINVAL;
	for (size_t i = 0; i < u->n_pseudonyms; i++)
		if ((rc = sp_translate_to_current(u->pseudonyms[i]->epoch, u->pseudonyms[i]->pseudonym.data, ps[i])) != SP_OK)
			return rc;
	for (size_t i = 0; i < u->n_pseudonyms && !have; i++) {
		rc = sp_store_get(t, SP_DB_SUBJECT, ps[i], 32, &v, &vl);
		if (rc == SP_OK && vl == SP_SUBJECT_HANDLE_BYTES) {
			memcpy(handle, v, sizeof handle);
			have = 1;
		} else if (rc != SP_OK && rc != SP_ENOTFOUND)
			return rc;
	}
	if (!have)
		randombytes_buf(handle, sizeof handle);
	for (size_t i = 0; i < u->n_pseudonyms; i++) {
		rc = sp_store_get(t, SP_DB_SUBJECT, ps[i], 32, &v, &vl);
		if (rc == SP_ENOTFOUND)
			rc = sp_store_put(t, SP_DB_SUBJECT, ps[i], 32, handle, sizeof handle, 0);
		if (rc != SP_OK)
			return rc;
	}
	return sp_subject_recipient_pseudonym(t, ps[0], org, pr);
}

static int seal_for_signal(sp_txn *t, const Seinpost__Signal *sig, const char *to, sp_subject_named *n)
{
	Seinpost__SignalHeader *h;
	int rc;
	n->has = 0;
	if (sig->subject_pseudonym.len == 0)
		return SP_OK; /* no subject (a resident report without one) */
	/* P as the broker's stores know it: the current key epoch's (sp_translate.h) */
	if (!(h = sp_wire_header_of(sig, NULL)) || h->pseudonym.len != 32) {
		rc = SP_ECORRUPT;
		goto out;
	}
	if ((rc = sp_translate_header(h)) == SP_OK &&
	    (rc = sp_subject_seal_for(t, h->pseudonym.data, h->id.data, to, n->pr, n->sig)) == SP_OK) {
		memcpy(n->p, h->pseudonym.data, 32);
		n->epoch = h->pseudonym_epoch;
		n->has = 1;
	}
out:
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	return rc;
}

int sp_subject_name_delivery(sp_txn *t, const Seinpost__Signal *sig, const char *to, Seinpost__Delivery *d,
                             sp_subject_named *n)
{
	int rc = seal_for_signal(t, sig, to, n);
	if (rc != SP_OK || !n->has)
		return rc;
	d->recipient_pseudonym.data = n->pr;
	d->recipient_pseudonym.len = sizeof n->pr;
	d->recipient_pseudonym_sig.data = n->sig;
	d->recipient_pseudonym_sig.len = sizeof n->sig;
	if (d->referral) { /* the ZVH knows the subject of its referral by its own pseudonym too */
		n->referral = *d->referral;
		n->referral.pseudonym.data = n->pr;
		n->referral.pseudonym.len = sizeof n->pr;
		d->referral = &n->referral;
	}
	return SP_OK;
}
