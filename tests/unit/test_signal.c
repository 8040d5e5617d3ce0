/* test_signal.c — seal, verify, open, per-recipient copies, receipts. */
#include "sp_test.h"
#include "sp_signal.h"
#include "sp_pseudo.h"

#include <sodium.h>

typedef struct party {
	const char *id;
	uint8_t box_pk[32], box_sk[32];
} party;

static uint8_t sign_pk[32], sign_sk[64];
static party school = { "school-bonnefanten", {0}, {0} };
static party zvh = { "zvh-mh", {0}, {0} };
static party police = { "politie-limburg", {0}, {0} };
static party youthcare = { "youthcare-mosa", {0}, {0} };
static uint8_t pseudonym[32], policy_hash[32];

static const sp_tier_plain plain_all = {
	.contact = "J. de Vries, wijkagent, 043-1234567",
	.summary = "Signalen van ronselen bij de schoolpoort.",
	.bsn = "111222333",
	.name = "Jan Jansen",
	.birthdate = "2009-04-01",
	.address = "Markt 1, Maastricht",
	.narrative = "Lange beschrijving.\nTweede regel.",
};

static void setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	crypto_sign_keypair(sign_pk, sign_sk);
	crypto_box_keypair(school.box_pk, school.box_sk);
	crypto_box_keypair(zvh.box_pk, zvh.box_sk);
	crypto_box_keypair(police.box_pk, police.box_sk);
	crypto_box_keypair(youthcare.box_pk, youthcare.box_sk);
	randombytes_buf(pseudonym, sizeof pseudonym);
	randombytes_buf(policy_hash, sizeof policy_hash);
}

static sp_signal_meta meta(void)
{
	sp_signal_meta m = {
		.sender = "politie-limburg",
		.subject_kind = SP_SUBJECT_PERSON,
		.pseudonym = pseudonym,
		.pseudonym_epoch = 1,
		.category = "criminal-exploitation",
		.weight = 2,
		.created = 1700000000,
		.expires = 1700000000 + 180 * 86400,
		.policy_hash = policy_hash,
	};
	return m;
}

/* school: contact now; zvh: contact now + summary on escalation;
 * police: full now; youthcare: nothing. */
static const sp_grant_spec *grants(size_t *n)
{
	static sp_grant_spec g[4];
	g[0] = (sp_grant_spec){ school.id, school.box_pk, SP_TIER_CONTACT, SP_WHEN_IMMEDIATELY };
	g[1] = (sp_grant_spec){ zvh.id, zvh.box_pk, SP_TIER_CONTACT, SP_WHEN_IMMEDIATELY };
	g[2] = (sp_grant_spec){ zvh.id, zvh.box_pk, SP_TIER_SUMMARY, SP_WHEN_ON_ESCALATION };
	g[3] = (sp_grant_spec){ police.id, police.box_pk, SP_TIER_FULL, SP_WHEN_IMMEDIATELY };
	*n = 4;
	return g;
}

static Seinpost__Signal *seal_default(uint8_t id[16])
{
	uint8_t *buf = NULL;
	size_t len = 0, n;
	const sp_grant_spec *g = grants(&n);
	sp_signal_meta m = meta();
	Seinpost__Signal *sig;
	ck_assert_int_eq(sp_signal_seal(&m, &plain_all, g, n, sign_sk, &buf, &len, id), SP_OK);
	sig = seinpost__signal__unpack(NULL, len, buf);
	ck_assert_ptr_nonnull(sig);
	free(buf);
	return sig;
}

static int verify(const Seinpost__Signal *sig)
{
	Seinpost__SignalHeader *h = seinpost__signal_header__unpack(NULL, sig->header.len, sig->header.data);
	int rc;
	if (!h)
		return SP_EMALFORMED;
	rc = sp_signal_verify(sig, h, sign_pk);
	seinpost__signal_header__free_unpacked(h, NULL);
	return rc;
}

START_TEST(seal_verify)
{
	uint8_t id[16];
	Seinpost__Signal *sig = seal_default(id);
	Seinpost__SignalHeader *h = seinpost__signal_header__unpack(NULL, sig->header.len, sig->header.data);
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(h->version, SP_HEADER_VERSION);
	ck_assert_uint_eq(h->id.len, 16);
	ck_assert_mem_eq(h->id.data, id, 16);
	ck_assert_str_eq(h->sender, "politie-limburg");
	ck_assert_str_eq(h->category, "criminal-exploitation");
	ck_assert_uint_eq(h->weight, 2);
	/* issue 13: the signed header commits to P; P travels beside it */
	ck_assert_uint_eq(h->pseudonym.len, 0);
	{
		uint8_t c[32];
		sp_signal_commitment(pseudonym, id, c);
		ck_assert_uint_eq(h->subject_commitment.len, 32);
		ck_assert_mem_eq(h->subject_commitment.data, c, 32);
		ck_assert_uint_eq(sig->subject_pseudonym.len, 32);
		ck_assert_mem_eq(sig->subject_pseudonym.data, pseudonym, 32);
	}
	ck_assert_mem_eq(h->policy_hash.data, policy_hash, 32);
	ck_assert_uint_eq(h->n_tiers, 3);
	ck_assert_uint_eq(sig->n_tiers, 3);
	ck_assert_uint_eq(sig->n_grants, 4);
	for (size_t i = 0; i < sig->n_grants; i++)
		ck_assert_uint_eq(sig->grants[i]->sealed_key.len, SP_SEALED_KEY_BYTES);
	/* the header is readable, the content is not */
	ck_assert_ptr_null(memmem(sig->tiers[0]->ciphertext.data, sig->tiers[0]->ciphertext.len, "Vries", 5));
	ck_assert_int_eq(sp_signal_verify(sig, h, sign_pk), SP_OK);
	ck_assert_int_eq(sp_signal_verify(sig, NULL, sign_pk), SP_OK);
	/* another sender's key */
	{
		uint8_t pk2[32], sk2[64];
		crypto_sign_keypair(pk2, sk2);
		ck_assert_int_eq(sp_signal_verify(sig, h, pk2), SP_ESIG);
	}
	seinpost__signal_header__free_unpacked(h, NULL);
	seinpost__signal__free_unpacked(sig, NULL);
}
END_TEST

START_TEST(tamper_header_bits)
{
	uint8_t id[16];
	Seinpost__Signal *sig = seal_default(id);
	Seinpost__SignalHeader *h = seinpost__signal_header__unpack(NULL, sig->header.len, sig->header.data);
	for (size_t i = 0; i < sig->header.len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			sig->header.data[i] ^= (uint8_t)(1u << bit);
			ck_assert_msg(verify(sig) != SP_OK, "header byte %zu bit %d", i, bit);
			ck_assert_msg(sp_signal_verify(sig, NULL, sign_pk) != SP_OK, "byte %zu", i);
			/* a stale decoded header must not vouch for changed bytes */
			ck_assert_int_ne(sp_signal_verify(sig, h, sign_pk), SP_OK);
			sig->header.data[i] ^= (uint8_t)(1u << bit);
		}
	}
	ck_assert_int_eq(verify(sig), SP_OK);
	seinpost__signal_header__free_unpacked(h, NULL);
	seinpost__signal__free_unpacked(sig, NULL);
}
END_TEST

START_TEST(tamper_signature_and_boxes)
{
	uint8_t id[16];
	Seinpost__Signal *sig = seal_default(id);
	for (size_t i = 0; i < sig->signature.len; i++) {
		sig->signature.data[i] ^= 0x01;
		ck_assert_int_eq(verify(sig), SP_ESIG);
		sig->signature.data[i] ^= 0x01;
	}
	for (size_t t = 0; t < sig->n_tiers; t++) {
		Seinpost__TierBox *b = sig->tiers[t];
		for (size_t i = 0; i < b->ciphertext.len; i += 7) {
			b->ciphertext.data[i] ^= 0x80;
			ck_assert_int_eq(verify(sig), SP_ECRYPTO);
			b->ciphertext.data[i] ^= 0x80;
		}
		b->nonce.data[3] ^= 0x04;
		ck_assert_int_eq(verify(sig), SP_ECRYPTO);
		b->nonce.data[3] ^= 0x04;
		/* relabel a box as another tier */
		Seinpost__Tier was = b->tier;
		b->tier = was == SEINPOST__TIER__TIER_FULL ? SEINPOST__TIER__TIER_CONTACT : was + 1;
		ck_assert_int_eq(verify(sig), SP_ECRYPTO);
		b->tier = was;
	}
	ck_assert_int_eq(verify(sig), SP_OK);
	seinpost__signal__free_unpacked(sig, NULL);
}
END_TEST

START_TEST(box_from_other_signal)
{
	uint8_t id1[16], id2[16];
	Seinpost__Signal *a = seal_default(id1), *b = seal_default(id2);
	Seinpost__TierBox *keep = a->tiers[0];
	ck_assert(memcmp(id1, id2, 16) != 0);
	a->tiers[0] = b->tiers[0];
	ck_assert_int_eq(verify(a), SP_ECRYPTO);
	a->tiers[0] = keep;
	seinpost__signal__free_unpacked(a, NULL);
	seinpost__signal__free_unpacked(b, NULL);
}
END_TEST

START_TEST(open_contact_only)
{
	uint8_t id[16];
	sp_opened o;
	Seinpost__Signal *sig = seal_default(id);
	ck_assert_int_eq(sp_signal_open(sig, school.id, school.box_pk, school.box_sk, &o), SP_OK);
	ck_assert_uint_eq(o.tiers, 1u << SP_TIER_CONTACT);
	ck_assert_str_eq(o.contact, plain_all.contact);
	ck_assert_ptr_null(o.summary);
	ck_assert_ptr_null(o.bsn);
	ck_assert_ptr_null(o.narrative);
	sp_opened_clear(&o);
	ck_assert_ptr_null(o.contact);
	ck_assert_uint_eq(o.tiers, 0);
	sp_opened_clear(&o); /* twice is fine */
	sp_opened_clear(NULL);

	/* zvh holds contact and (on escalation) summary, not full */
	ck_assert_int_eq(sp_signal_open(sig, zvh.id, zvh.box_pk, zvh.box_sk, &o), SP_OK);
	ck_assert_uint_eq(o.tiers, (1u << SP_TIER_CONTACT) | (1u << SP_TIER_SUMMARY));
	ck_assert_str_eq(o.summary, plain_all.summary);
	ck_assert_ptr_null(o.bsn);
	sp_opened_clear(&o);

	/* police holds full */
	ck_assert_int_eq(sp_signal_open(sig, police.id, police.box_pk, police.box_sk, &o), SP_OK);
	ck_assert_uint_eq(o.tiers, 1u << SP_TIER_FULL);
	ck_assert_str_eq(o.bsn, "111222333");
	ck_assert_str_eq(o.name, plain_all.name);
	ck_assert_str_eq(o.birthdate, plain_all.birthdate);
	ck_assert_str_eq(o.address, plain_all.address);
	ck_assert_str_eq(o.narrative, plain_all.narrative);
	ck_assert_ptr_null(o.contact);
	sp_opened_clear(&o);
	seinpost__signal__free_unpacked(sig, NULL);
}
END_TEST

START_TEST(open_nothing_granted)
{
	uint8_t id[16];
	sp_opened o;
	Seinpost__Signal *sig = seal_default(id);
	ck_assert_int_eq(sp_signal_open(sig, youthcare.id, youthcare.box_pk, youthcare.box_sk, &o), SP_OK);
	ck_assert_uint_eq(o.tiers, 0);
	ck_assert_ptr_null(o.contact);
	ck_assert_ptr_null(o.summary);
	ck_assert_ptr_null(o.bsn);
	seinpost__signal__free_unpacked(sig, NULL);
}
END_TEST

START_TEST(open_failures)
{
	uint8_t id[16];
	sp_opened o;
	Seinpost__Signal *sig = seal_default(id);
	Seinpost__Grant *g = NULL;

	/* claiming to be the school with another key */
	ck_assert_int_eq(sp_signal_open(sig, school.id, youthcare.box_pk, youthcare.box_sk, &o), SP_ECRYPTO);
	ck_assert_uint_eq(o.tiers, 0);
	ck_assert_ptr_null(o.contact);

	/* the zvh's summary grant is opened after its contact grant: a bad
	 * summary box must fail the whole open and leave nothing behind */
	for (size_t i = 0; i < sig->n_tiers; i++)
		if (sig->tiers[i]->tier == SEINPOST__TIER__TIER_SUMMARY)
			sig->tiers[i]->ciphertext.data[0] ^= 1;
	ck_assert_int_eq(sp_signal_open(sig, zvh.id, zvh.box_pk, zvh.box_sk, &o), SP_ECRYPTO);
	ck_assert_uint_eq(o.tiers, 0);
	ck_assert_ptr_null(o.contact);
	for (size_t i = 0; i < sig->n_tiers; i++)
		if (sig->tiers[i]->tier == SEINPOST__TIER__TIER_SUMMARY)
			sig->tiers[i]->ciphertext.data[0] ^= 1;

	/* a grant relabelled to a tier its key does not open */
	for (size_t i = 0; i < sig->n_grants; i++)
		if (strcmp(sig->grants[i]->recipient, school.id) == 0)
			g = sig->grants[i];
	ck_assert_ptr_nonnull(g);
	g->tier = SEINPOST__TIER__TIER_FULL;
	ck_assert_int_eq(sp_signal_open(sig, school.id, school.box_pk, school.box_sk, &o), SP_ECRYPTO);
	g->tier = SEINPOST__TIER__TIER_CONTACT;
	/* a damaged sealed key */
	g->sealed_key.data[40] ^= 1;
	ck_assert_int_eq(sp_signal_open(sig, school.id, school.box_pk, school.box_sk, &o), SP_ECRYPTO);
	g->sealed_key.data[40] ^= 1;
	ck_assert_int_eq(sp_signal_open(sig, school.id, school.box_pk, school.box_sk, &o), SP_OK);
	sp_opened_clear(&o);
	seinpost__signal__free_unpacked(sig, NULL);
}
END_TEST

/* The box AD is the core header: a header that the sender re-signs with a
 * different weight verifies, but its old boxes no longer decrypt. */
START_TEST(ad_binds_header)
{
	uint8_t id[16], *hb = NULL;
	sp_opened o;
	Seinpost__Signal *sig = seal_default(id);
	Seinpost__SignalHeader *h = seinpost__signal_header__unpack(NULL, sig->header.len, sig->header.data);
	uint8_t *msg, newsig[64];
	size_t hl, dl = strlen(SP_SIG_DOMAIN);
	ProtobufCBinaryData oldh = sig->header, olds = sig->signature;

	h->weight = 3;
	hl = seinpost__signal_header__get_packed_size(h);
	hb = malloc(hl);
	seinpost__signal_header__pack(h, hb);
	msg = malloc(dl + hl);
	memcpy(msg, SP_SIG_DOMAIN, dl);
	memcpy(msg + dl, hb, hl);
	crypto_sign_detached(newsig, NULL, msg, dl + hl, sign_sk);
	sig->header.data = hb;
	sig->header.len = hl;
	sig->signature.data = newsig;
	sig->signature.len = 64;
	ck_assert_int_eq(sp_signal_verify(sig, h, sign_pk), SP_OK);
	ck_assert_int_eq(sp_signal_open(sig, school.id, school.box_pk, school.box_sk, &o), SP_ECRYPTO);
	ck_assert_uint_eq(o.tiers, 0);
	sig->header = oldh;
	sig->signature = olds;
	ck_assert_int_eq(sp_signal_open(sig, school.id, school.box_pk, school.box_sk, &o), SP_OK);
	sp_opened_clear(&o);
	free(msg);
	free(hb);
	seinpost__signal_header__free_unpacked(h, NULL);
	seinpost__signal__free_unpacked(sig, NULL);
}
END_TEST

static Seinpost__Signal *forward(const Seinpost__Signal *sig, const char *to, unsigned mask,
                                 unsigned *tiers)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	Seinpost__Signal *out;
	ck_assert_int_eq(sp_signal_for_recipient(sig, to, mask, &buf, &len, tiers), SP_OK);
	out = seinpost__signal__unpack(NULL, len, buf);
	ck_assert_ptr_nonnull(out);
	free(buf);
	return out;
}

/* issue 13: the broker's signature over a recipient's pseudonym binds the
 * signal, the recipient and the pseudonym. */
START_TEST(recip_pseudonym_sig)
{
	uint8_t pk[32], sk[64], id[16] = { 1 }, pr[32] = { 2 }, sig[64];
	crypto_sign_keypair(pk, sk);
	ck_assert_int_eq(sp_recip_pseudonym_sign(id, "school-a", pr, sk, sig), SP_OK);
	ck_assert_int_eq(sp_recip_pseudonym_verify(id, "school-a", pr, sig, pk), SP_OK);
	ck_assert_int_eq(sp_recip_pseudonym_verify(id, "school-b", pr, sig, pk), SP_ESIG);
	id[0] ^= 1;
	ck_assert_int_eq(sp_recip_pseudonym_verify(id, "school-a", pr, sig, pk), SP_ESIG);
	id[0] ^= 1;
	pr[5] ^= 1;
	ck_assert_int_eq(sp_recip_pseudonym_verify(id, "school-a", pr, sig, pk), SP_ESIG);
}
END_TEST

START_TEST(for_recipient)
{
	uint8_t id[16];
	unsigned tiers = 99;
	sp_opened o;
	Seinpost__Signal *sig = seal_default(id), *f;

	/* zvh, immediate only: its contact grant, the contact box */
	f = forward(sig, zvh.id, 1u << SP_WHEN_IMMEDIATELY, &tiers);
	ck_assert_uint_eq(tiers, 1u << SP_TIER_CONTACT);
	ck_assert_uint_eq(f->n_grants, 1);
	ck_assert_str_eq(f->grants[0]->recipient, zvh.id);
	ck_assert_int_eq(f->grants[0]->tier, SEINPOST__TIER__TIER_CONTACT);
	ck_assert_uint_eq(f->n_tiers, 1);
	ck_assert_int_eq(f->tiers[0]->tier, SEINPOST__TIER__TIER_CONTACT);
	ck_assert_mem_eq(f->header.data, sig->header.data, sig->header.len);
	ck_assert_uint_eq(f->subject_pseudonym.len, 0); /* issue 13: P never forwarded */
	ck_assert_int_eq(verify(f), SP_OK);
	ck_assert_int_eq(sp_signal_open(f, zvh.id, zvh.box_pk, zvh.box_sk, &o), SP_OK);
	ck_assert_uint_eq(o.tiers, 1u << SP_TIER_CONTACT);
	sp_opened_clear(&o);
	seinpost__signal__free_unpacked(f, NULL);

	/* after escalation the summary grant is released too */
	f = forward(sig, zvh.id, (1u << SP_WHEN_IMMEDIATELY) | (1u << SP_WHEN_ON_ESCALATION), &tiers);
	ck_assert_uint_eq(tiers, (1u << SP_TIER_CONTACT) | (1u << SP_TIER_SUMMARY));
	ck_assert_uint_eq(f->n_grants, 2);
	ck_assert_uint_eq(f->n_tiers, 2);
	for (size_t i = 0; i < f->n_tiers; i++)
		ck_assert_int_ne(f->tiers[i]->tier, SEINPOST__TIER__TIER_FULL);
	ck_assert_int_eq(verify(f), SP_OK);
	seinpost__signal__free_unpacked(f, NULL);

	/* escalation-only mask: summary alone */
	f = forward(sig, zvh.id, 1u << SP_WHEN_ON_ESCALATION, &tiers);
	ck_assert_uint_eq(tiers, 1u << SP_TIER_SUMMARY);
	seinpost__signal__free_unpacked(f, NULL);

	/* school cannot be handed police's full tier */
	f = forward(sig, school.id, ~0u, &tiers);
	ck_assert_uint_eq(tiers, 1u << SP_TIER_CONTACT);
	for (size_t i = 0; i < f->n_grants; i++)
		ck_assert_str_eq(f->grants[i]->recipient, school.id);
	ck_assert_int_eq(sp_signal_open(f, police.id, police.box_pk, police.box_sk, &o), SP_OK);
	ck_assert_uint_eq(o.tiers, 0);
	seinpost__signal__free_unpacked(f, NULL);

	/* no grants at all: existence only, still signed */
	f = forward(sig, youthcare.id, ~0u, &tiers);
	ck_assert_uint_eq(tiers, 0);
	ck_assert_uint_eq(f->n_grants, 0);
	ck_assert_uint_eq(f->n_tiers, 0);
	ck_assert_int_eq(verify(f), SP_OK);
	seinpost__signal__free_unpacked(f, NULL);
	seinpost__signal__free_unpacked(sig, NULL);
}
END_TEST

START_TEST(seal_partial_and_invalid)
{
	sp_tier_plain p = { .contact = "tel 06", .summary = "" };
	sp_signal_meta m = meta();
	size_t n, len = 0;
	const sp_grant_spec *g = grants(&n);
	uint8_t *buf = NULL, id[16];
	Seinpost__Signal *sig;
	sp_opened o;

	/* only contact present: summary/full grants are dropped */
	ck_assert_int_eq(sp_signal_seal(&m, &p, g, n, sign_sk, &buf, &len, id), SP_OK);
	sig = seinpost__signal__unpack(NULL, len, buf);
	free(buf);
	ck_assert_ptr_nonnull(sig);
	ck_assert_uint_eq(sig->n_tiers, 1);
	ck_assert_uint_eq(sig->n_grants, 2);
	ck_assert_int_eq(verify(sig), SP_OK);
	ck_assert_int_eq(sp_signal_open(sig, police.id, police.box_pk, police.box_sk, &o), SP_OK);
	ck_assert_uint_eq(o.tiers, 0);
	seinpost__signal__free_unpacked(sig, NULL);

	/* existence only */
	{
		sp_tier_plain none = { 0 };
		ck_assert_int_eq(sp_signal_seal(&m, &none, g, n, sign_sk, &buf, &len, id), SP_OK);
		sig = seinpost__signal__unpack(NULL, len, buf);
		free(buf);
		ck_assert_uint_eq(sig->n_tiers, 0);
		ck_assert_uint_eq(sig->n_grants, 0);
		ck_assert_int_eq(verify(sig), SP_OK);
		seinpost__signal__free_unpacked(sig, NULL);
	}

	/* bad grant specs */
	{
		sp_grant_spec bad = { school.id, school.box_pk, SP_TIER_EXISTENCE, SP_WHEN_IMMEDIATELY };
		ck_assert_int_eq(sp_signal_seal(&m, &plain_all, &bad, 1, sign_sk, &buf, &len, id), SP_EINVAL);
		bad.tier = SP_TIER_CONTACT;
		bad.mode = 0;
		ck_assert_int_eq(sp_signal_seal(&m, &plain_all, &bad, 1, sign_sk, &buf, &len, id), SP_EINVAL);
		bad.mode = SP_WHEN_IMMEDIATELY;
		bad.box_pk = NULL;
		ck_assert_int_eq(sp_signal_seal(&m, &plain_all, &bad, 1, sign_sk, &buf, &len, id), SP_EINVAL);
		ck_assert_ptr_null(buf);
	}
}
END_TEST

START_TEST(receipts)
{
	uint8_t id[16], sig[64];
	randombytes_buf(id, sizeof id);
	sp_receipt_sign(id, 1700000123, sign_sk, sig);
	ck_assert_int_eq(sp_receipt_verify(id, 1700000123, sig, sign_pk), SP_OK);
	ck_assert_int_eq(sp_receipt_verify(id, 1700000124, sig, sign_pk), SP_ESIG);
	id[5] ^= 1;
	ck_assert_int_eq(sp_receipt_verify(id, 1700000123, sig, sign_pk), SP_ESIG);
	id[5] ^= 1;
	sig[10] ^= 1;
	ck_assert_int_eq(sp_receipt_verify(id, 1700000123, sig, sign_pk), SP_ESIG);
	sig[10] ^= 1;
	/* domain-separated: a signal signature is not a receipt */
	{
		uint8_t msg[64];
		size_t dl = strlen(SP_RECEIPT_DOMAIN);
		ck_assert_uint_eq(dl, 19);
		memcpy(msg, SP_RECEIPT_DOMAIN, dl);
		memcpy(msg + dl, id, 16);
		memset(msg + dl + 16, 0, 8);
		msg[dl + 16 + 7] = 42;
		crypto_sign_detached(sig, NULL, msg, dl + 24, sign_sk);
		ck_assert_int_eq(sp_receipt_verify(id, 42, sig, sign_pk), SP_OK);
	}
}
END_TEST

/* One signature over a batch of ids binds the org, the time, every id and
 * their order; nothing can be added, dropped or swapped. */
START_TEST(receipt_batches)
{
	uint8_t idv[3][16], sig[64];
	const uint8_t *ids[SP_RECEIPT_BATCH_MAX + 1];
	randombytes_buf(idv, sizeof idv);
	for (int i = 0; i < 3; i++)
		ids[i] = idv[i];
	ck_assert_int_eq(sp_receipts_sign("jeugdzorg-a", 1700000123, ids, 3, sign_sk, sig), SP_OK);
	ck_assert_int_eq(sp_receipts_verify("jeugdzorg-a", 1700000123, ids, 3, sig, sign_pk), SP_OK);
	ck_assert_int_eq(sp_receipts_verify("jeugdzorg-b", 1700000123, ids, 3, sig, sign_pk), SP_ESIG);
	ck_assert_int_eq(sp_receipts_verify("jeugdzorg-a", 1700000124, ids, 3, sig, sign_pk), SP_ESIG);
	ck_assert_int_eq(sp_receipts_verify("jeugdzorg-a", 1700000123, ids, 2, sig, sign_pk), SP_ESIG);
	ids[0] = idv[1];
	ids[1] = idv[0];
	ck_assert_int_eq(sp_receipts_verify("jeugdzorg-a", 1700000123, ids, 3, sig, sign_pk), SP_ESIG);
	ids[0] = idv[0];
	ids[1] = idv[1];
	idv[2][15] ^= 1;
	ck_assert_int_eq(sp_receipts_verify("jeugdzorg-a", 1700000123, ids, 3, sig, sign_pk), SP_ESIG);
	idv[2][15] ^= 1;
	sig[3] ^= 1;
	ck_assert_int_eq(sp_receipts_verify("jeugdzorg-a", 1700000123, ids, 3, sig, sign_pk), SP_ESIG);
	sig[3] ^= 1;
	/* a batch of one is not a single receipt, nor the other way round */
	ck_assert_int_eq(sp_receipts_sign("jeugdzorg-a", 42, ids, 1, sign_sk, sig), SP_OK);
	ck_assert_int_eq(sp_receipt_verify(idv[0], 42, sig, sign_pk), SP_ESIG);
	sp_receipt_sign(idv[0], 42, sign_sk, sig);
	ck_assert_int_eq(sp_receipts_verify("jeugdzorg-a", 42, ids, 1, sig, sign_pk), SP_ESIG);
	/* counts and arguments */
	for (int i = 0; i <= SP_RECEIPT_BATCH_MAX; i++)
		ids[i] = idv[i % 3];
	ck_assert_int_eq(sp_receipts_sign("jeugdzorg-a", 1, ids, SP_RECEIPT_BATCH_MAX, sign_sk, sig), SP_OK);
	ck_assert_int_eq(sp_receipts_verify("jeugdzorg-a", 1, ids, SP_RECEIPT_BATCH_MAX, sig, sign_pk), SP_OK);
	ck_assert_int_eq(sp_receipts_sign("jeugdzorg-a", 1, ids, SP_RECEIPT_BATCH_MAX + 1, sign_sk, sig), SP_EINVAL);
	ck_assert_int_eq(sp_receipts_sign("jeugdzorg-a", 1, ids, 0, sign_sk, sig), SP_EINVAL);
	ck_assert_int_eq(sp_receipts_sign("", 1, ids, 1, sign_sk, sig), SP_EINVAL);
	ck_assert_int_eq(sp_receipts_sign(NULL, 1, ids, 1, sign_sk, sig), SP_EINVAL);
	ck_assert_int_eq(sp_receipts_verify("jeugdzorg-a", 1, NULL, 1, sig, sign_pk), SP_EINVAL);
}
END_TEST

START_TEST(names)
{
	for (int t = 0; t < SP_TIER_COUNT; t++)
		ck_assert_int_eq(sp_tier_parse(sp_tier_name(t)), t);
	ck_assert_str_eq(sp_tier_name(SP_TIER_SUMMARY), "summary");
	ck_assert_int_eq(sp_tier_parse("secret"), -1);
	ck_assert_int_eq(sp_tier_parse(NULL), -1);
	ck_assert_str_eq(sp_tier_name(9), "unknown");
	for (int w = SP_WHEN_IMMEDIATELY; w <= SP_WHEN_ON_ESCALATION; w++)
		ck_assert_int_eq(sp_when_parse(sp_when_name(w)), w);
	ck_assert_str_eq(sp_when_name(SP_WHEN_IF_INVOLVED), "if-involved");
	ck_assert_int_eq(sp_when_parse("later"), -1);
	ck_assert_str_eq(sp_when_name(0), "unknown");
	/* enum values equal the proto's */
	ck_assert_int_eq(SP_TIER_FULL, SEINPOST__TIER__TIER_FULL);
	ck_assert_int_eq(SP_WHEN_ON_ESCALATION, SEINPOST__GRANT_MODE__GRANT_ON_ESCALATION);
}
END_TEST

static Suite *signal_suite(void)
{
	Suite *s = suite_create("signal");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, seal_verify);
	tcase_add_test(tc, tamper_header_bits);
	tcase_add_test(tc, tamper_signature_and_boxes);
	tcase_add_test(tc, box_from_other_signal);
	tcase_add_test(tc, open_contact_only);
	tcase_add_test(tc, open_nothing_granted);
	tcase_add_test(tc, open_failures);
	tcase_add_test(tc, ad_binds_header);
	tcase_add_test(tc, for_recipient);
	tcase_add_test(tc, recip_pseudonym_sig);
	tcase_add_test(tc, seal_partial_and_invalid);
	tcase_add_test(tc, receipts);
	tcase_add_test(tc, receipt_batches);
	tcase_add_test(tc, names);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(signal_suite)
