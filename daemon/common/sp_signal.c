/*
 * sp_signal.c — the cryptography of a signal: seal, verify, open, forward.
 *
 * Binding of boxes to the signal (the AD / digest circularity)
 * -------------------------------------------------------------
 * The signed header carries a digest of every tier box, so the boxes must
 * exist before the header is final; the boxes, in turn, take the header as
 * associated data. We break the cycle by splitting the header in two:
 *
 *   core header = the SignalHeader with the `tiers` (digest) list empty,
 *                 serialised with protobuf-c (fields in number order);
 *   AD of every tier box = the core header bytes;
 *   signed header = core fields + the digests (field 12, packed last), and
 *                 Signal.signature = Ed25519(SP_SIG_DOMAIN || signed header).
 *
 * Why this still binds each box to its one signal:
 *  - AEAD: a box only decrypts under the AD of its own signal's core header
 *    (random id, sender, pseudonym, category, weight, times, policy hash), so
 *    it cannot be grafted onto another signal or a header with a raised or
 *    lowered weight;
 *  - digest: BLAKE2b-256(nonce || ciphertext) of each box is inside the signed
 *    header, so no box can be swapped, re-encrypted or relabelled with
 *    another tier without breaking the signature (the plaintext also repeats
 *    its tier, checked on open);
 *  - the tier keys are random per signal, so a grant copied from another
 *    signal yields a key that opens nothing here.
 * Header bytes must be canonical (re-packing the decoded header gives the
 * exact bytes that were signed); verify and open refuse anything else, which
 * makes the re-packed core header identical to the prefix the sender used.
 *
 * Grants (sealed tier keys) are deliberately outside the signature: the
 * broker strips them per recipient. A grant can only ever carry a key the
 * sender chose, so adding or dropping grants cannot widen what opens.
 */
#include "sp_signal.h"
#include "sp_kh.h"
#include "sp_util.h"
#include "sp_wire.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define DIGEST_BYTES 32
#define TIER_VALID(t) ((t) >= SP_TIER_CONTACT && (t) <= SP_TIER_FULL)
#define WHEN_VALID(w) ((w) >= SP_WHEN_IMMEDIATELY && (w) <= SP_WHEN_ON_ESCALATION)


/*
 * Locked scratch memory for secrets while sealing. sodium_malloc costs
 * several system calls (mmap, mprotect for the guard pages, mlock) and as
 * many to free; per signal that was a large part of a node's submit cost
 * (docs/performance.md). Each thread keeps one guarded, locked region per
 * slot, grown on demand and wiped with sodium_memzero after every use, so
 * secrets still never live in swappable or unguarded heap memory.
 */
enum { SCRATCH_KEYS, SCRATCH_PLAIN, SCRATCH_SLOTS };
static _Thread_local struct {
	uint8_t *p;
	size_t cap;
} scratch[SCRATCH_SLOTS];

static uint8_t *scratch_get(int slot, size_t n)
{
	if (n > scratch[slot].cap) {
		size_t cap = n < 4096 ? 4096 : n;
		uint8_t *p = sodium_malloc(cap);
		if (!p)
			return NULL;
		sodium_free(scratch[slot].p); /* wipes */
		scratch[slot].p = p;
		scratch[slot].cap = cap;
	}
	return scratch[slot].p;
}

static void scratch_done(int slot, size_t n)
{
	if (scratch[slot].p)
		sodium_memzero(scratch[slot].p, n < scratch[slot].cap ? n : scratch[slot].cap);
}

static const char *const tier_names[SP_TIER_COUNT] = { "existence", "contact", "summary", "full" };
static const char *const when_names[] = { NULL, "immediately", "if-involved", "on-escalation" };

const char *sp_tier_name(int tier)
{
	if (tier < 0 || tier >= SP_TIER_COUNT)
		return "unknown";
	return tier_names[tier];
}

int sp_tier_parse(const char *s)
{
	if (!s)
		return -1;
	for (int i = 0; i < SP_TIER_COUNT; i++)
		if (strcmp(s, tier_names[i]) == 0)
			return i;
	return -1;
}

const char *sp_when_name(int when)
{
	if (!WHEN_VALID(when))
		return "unknown";
	return when_names[when];
}

int sp_when_parse(const char *s)
{
	if (!s)
		return -1;
	for (int i = SP_WHEN_IMMEDIATELY; i <= SP_WHEN_ON_ESCALATION; i++)
		if (strcmp(s, when_names[i]) == 0)
			return i;
	return -1;
}

/* ---- helpers ------------------------------------------------------------ */

static int nonempty(const char *s)
{
	return s && s[0];
}

static int pack_msg(const ProtobufCMessage *m, uint8_t **out, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return SP_ENOMEM;
	if (protobuf_c_message_pack(m, buf) != n) {
		free(buf);
		return SP_EINVAL;
	}
	*out = buf;
	*len = n;
	return SP_OK;
}

/* The AD of every tier box: the header without its digest list. */
static int pack_core(const Seinpost__SignalHeader *hdr, uint8_t **out, size_t *len)
{
	Seinpost__SignalHeader core = *hdr;
	core.n_tiers = 0;
	core.tiers = NULL;
	return pack_msg(&core.base, out, len);
}

/* True when hdr re-packs to exactly the bytes that were signed. */
static int header_canonical(const Seinpost__SignalHeader *hdr, const ProtobufCBinaryData *bytes)
{
	/* A broker's decoded header carries P filled in beside the commitment
	 * (sp_wire.h); the signed bytes never do. */
	Seinpost__SignalHeader signed_part = *hdr;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ok;
	if (signed_part.subject_commitment.len) {
		signed_part.pseudonym.data = NULL;
		signed_part.pseudonym.len = 0;
	}
	if (pack_msg(&signed_part.base, &buf, &len) != SP_OK)
		return 0;
	ok = len == bytes->len && (len == 0 || memcmp(buf, bytes->data, len) == 0);
	free(buf);
	return ok;
}

static void box_digest(const Seinpost__TierBox *b, uint8_t out[DIGEST_BYTES])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, DIGEST_BYTES);
	crypto_generichash_update(&st, b->nonce.data, b->nonce.len);
	crypto_generichash_update(&st, b->ciphertext.data, b->ciphertext.len);
	crypto_generichash_final(&st, out, DIGEST_BYTES);
}

/* The header's digest entry for a tier; NULL when absent or ambiguous. */
static const Seinpost__TierDigest *header_digest(const Seinpost__SignalHeader *hdr, int tier)
{
	const Seinpost__TierDigest *found = NULL;
	for (size_t i = 0; i < hdr->n_tiers; i++) {
		const Seinpost__TierDigest *d = hdr->tiers[i];
		if (!d || (int)d->tier != tier)
			continue;
		if (found || d->digest.len != DIGEST_BYTES)
			return NULL;
		found = d;
	}
	return found;
}

/* A box is well formed and matches the digest the sender signed. */
static int box_matches(const Seinpost__SignalHeader *hdr, const Seinpost__TierBox *b)
{
	uint8_t dg[DIGEST_BYTES];
	const Seinpost__TierDigest *d;
	if (!b || !TIER_VALID((int)b->tier) || b->nonce.len != NONCE_BYTES ||
	    b->ciphertext.len < crypto_aead_xchacha20poly1305_ietf_ABYTES)
		return 0;
	d = header_digest(hdr, (int)b->tier);
	if (!d)
		return 0;
	box_digest(b, dg);
	return sodium_memcmp(dg, d->digest.data, DIGEST_BYTES) == 0;
}

static int sign_msg(const ProtobufCBinaryData *hdr, uint8_t **msg, size_t *len)
{
	size_t dl = strlen(SP_SIG_DOMAIN);
	uint8_t *m = malloc(dl + hdr->len + 1);
	if (!m)
		return SP_ENOMEM;
	memcpy(m, SP_SIG_DOMAIN, dl);
	if (hdr->len)
		memcpy(m + dl, hdr->data, hdr->len);
	*msg = m;
	*len = dl + hdr->len;
	return SP_OK;
}

/* ---- seal --------------------------------------------------------------- */

static void fill_content(Seinpost__TierContent *c, int tier, const sp_tier_plain *p)
{
	c->tier = (Seinpost__Tier)tier;
	switch (tier) {
	case SP_TIER_CONTACT:
		c->text = (char *)p->contact;
		break;
	case SP_TIER_SUMMARY:
		c->text = (char *)p->summary;
		break;
	case SP_TIER_FULL:
		if (nonempty(p->narrative)) c->text = (char *)p->narrative;
		if (nonempty(p->bsn)) c->bsn = (char *)p->bsn;
		if (nonempty(p->name)) c->name = (char *)p->name;
		if (nonempty(p->birthdate)) c->birthdate = (char *)p->birthdate;
		if (nonempty(p->address)) c->address = (char *)p->address;
		break;
	}
}

static unsigned present_tiers(const sp_tier_plain *p)
{
	unsigned m = 0;
	if (nonempty(p->contact))
		m |= 1u << SP_TIER_CONTACT;
	if (nonempty(p->summary))
		m |= 1u << SP_TIER_SUMMARY;
	if (nonempty(p->bsn) || nonempty(p->name) || nonempty(p->birthdate) ||
	    nonempty(p->address) || nonempty(p->narrative))
		m |= 1u << SP_TIER_FULL;
	return m;
}

/* Encrypt one tier into box (ciphertext malloc'd), key and nonce fresh. */
static int seal_tier(int tier, const sp_tier_plain *p, const uint8_t *ad, size_t adlen,
                     const uint8_t key[SP_TIER_KEY_BYTES], uint8_t nonce[NONCE_BYTES],
                     Seinpost__TierBox *box)
{
	Seinpost__TierContent c = SEINPOST__TIER_CONTENT__INIT;
	uint8_t *pt = NULL, *ct = NULL;
	size_t ptlen, ctlen;
	unsigned long long clen = 0;
	int rc;

	fill_content(&c, tier, p);
	ptlen = protobuf_c_message_get_packed_size(&c.base);
	if (ptlen + crypto_aead_xchacha20poly1305_ietf_ABYTES > SP_MAX_TIER_BOX)
		return SP_ESIZE;
	pt = scratch_get(SCRATCH_PLAIN, ptlen ? ptlen : 1); /* plaintext is personal data */
	ct = malloc(ptlen + crypto_aead_xchacha20poly1305_ietf_ABYTES);
	if (!pt || !ct) {
		rc = SP_ENOMEM;
		goto out;
	}
	protobuf_c_message_pack(&c.base, pt);
	randombytes_buf(nonce, NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, pt, ptlen, ad, adlen,
	                                           NULL, nonce, key);
	ctlen = (size_t)clen;
	box->tier = (Seinpost__Tier)tier;
	box->nonce.data = nonce;
	box->nonce.len = NONCE_BYTES;
	box->ciphertext.data = ct;
	box->ciphertext.len = ctlen;
	ct = NULL;
	rc = SP_OK;
out:
	if (pt)
		scratch_done(SCRATCH_PLAIN, ptlen);
	free(ct);
	return rc;
}

/* The signature is made here (sign_sk) or by the key holder (kh): the key
 * holder prepends SP_SIG_DOMAIN itself, so it gets the header bytes only. */
static int seal(const sp_signal_meta *m, const sp_tier_plain *plain,
                const sp_grant_spec *grants, size_t ngrants,
                const uint8_t *sign_sk, sp_kh *kh,
                uint8_t **out, size_t *outlen, uint8_t id_out[16])
{
	Seinpost__SignalHeader hdr = SEINPOST__SIGNAL_HEADER__INIT;
	Seinpost__TierDigest digests[SP_TIER_COUNT], *dptr[SP_TIER_COUNT];
	Seinpost__TierBox boxes[SP_TIER_COUNT], *bptr[SP_TIER_COUNT];
	uint8_t dig[SP_TIER_COUNT][DIGEST_BYTES];
	uint8_t nonces[SP_TIER_COUNT][NONCE_BYTES];
	uint8_t id[SP_ID_BYTES], signature[crypto_sign_BYTES], commitment[32];
	Seinpost__Signal sig = SEINPOST__SIGNAL__INIT;
	Seinpost__Grant *gv = NULL, **gptr = NULL;
	uint8_t *keys = NULL, *core = NULL, *hbytes = NULL, *msg = NULL, *sealed = NULL;
	size_t corelen = 0, hlen = 0, msglen = 0, nbox = 0, ng = 0;
	unsigned present;
	int rc;

	if (!m || !plain || (!sign_sk && !kh) || !out || !outlen || !id_out || (ngrants && !grants))
		return SP_EINVAL;
	*out = NULL;
	*outlen = 0;
	if (!m->sender || !m->category || !m->policy_hash ||
	    m->subject_kind < SEINPOST__SUBJECT_KIND__SUBJECT_NONE ||
	    m->subject_kind > SEINPOST__SUBJECT_KIND__SUBJECT_LOCATION)
		return SP_EINVAL;
	/* Only a resident report may lack a subject, and then has no pseudonym;
	 * a resident report is never about a person. */
	if ((m->subject_kind == SEINPOST__SUBJECT_KIND__SUBJECT_NONE) != !m->pseudonym ||
	    (m->subject_kind == SEINPOST__SUBJECT_KIND__SUBJECT_NONE && !m->resident_report) ||
	    (m->resident_report && m->subject_kind == SEINPOST__SUBJECT_KIND__SUBJECT_PERSON))
		return SP_EINVAL;
	if (ngrants > SP_MAX_GRANTS)
		return SP_ESIZE;
	for (size_t i = 0; i < ngrants; i++)
		if (!grants[i].recipient || !grants[i].box_pk || !TIER_VALID(grants[i].tier) ||
		    !WHEN_VALID(grants[i].mode))
			return SP_EINVAL;
	if (sodium_init() < 0)
		return SP_ECRYPTO;
	memset(boxes, 0, sizeof boxes);

	keys = scratch_get(SCRATCH_KEYS, SP_TIER_COUNT * SP_TIER_KEY_BYTES);
	gv = calloc(ngrants ? ngrants : 1, sizeof *gv);
	gptr = calloc(ngrants ? ngrants : 1, sizeof *gptr);
	sealed = malloc((ngrants ? ngrants : 1) * SP_SEALED_KEY_BYTES);
	if (!keys || !gv || !gptr || !sealed) {
		rc = SP_ENOMEM;
		goto out;
	}

	if (m->id)
		memcpy(id, m->id, sizeof id);
	else
		randombytes_buf(id, sizeof id);
	hdr.version = SP_HEADER_VERSION;
	hdr.id.data = id;
	hdr.id.len = sizeof id;
	hdr.sender = (char *)m->sender;
	hdr.subject_kind = (Seinpost__SubjectKind)m->subject_kind;
	if (m->pseudonym) { /* the header commits to P; P itself goes beside it, to the broker only */
		sp_signal_commitment(m->pseudonym, id, commitment);
		hdr.subject_commitment.data = commitment;
		hdr.subject_commitment.len = sizeof commitment;
		sig.subject_pseudonym.data = (uint8_t *)m->pseudonym;
		sig.subject_pseudonym.len = 32;
	}
	hdr.resident_report = m->resident_report;
	hdr.pseudonym_epoch = m->pseudonym_epoch;
	hdr.category = (char *)m->category;
	hdr.weight = m->weight;
	hdr.created = m->created;
	hdr.expires = m->expires;
	hdr.policy_hash.data = (uint8_t *)m->policy_hash;
	hdr.policy_hash.len = 32;

	/* 1. The core header (no digests yet) is the AD of every box. */
	rc = pack_core(&hdr, &core, &corelen);
	if (rc != SP_OK)
		goto out;

	/* 2. One fresh key and nonce per present tier. */
	present = present_tiers(plain);
	for (int t = SP_TIER_CONTACT; t <= SP_TIER_FULL; t++) {
		if (!(present & (1u << t)))
			continue;
		crypto_aead_xchacha20poly1305_ietf_keygen(keys + t * SP_TIER_KEY_BYTES);
		seinpost__tier_box__init(&boxes[nbox]);
		rc = seal_tier(t, plain, core, corelen, keys + t * SP_TIER_KEY_BYTES,
		               nonces[t], &boxes[nbox]);
		if (rc != SP_OK)
			goto out;
		seinpost__tier_digest__init(&digests[nbox]);
		box_digest(&boxes[nbox], dig[t]);
		digests[nbox].tier = (Seinpost__Tier)t;
		digests[nbox].digest.data = dig[t];
		digests[nbox].digest.len = DIGEST_BYTES;
		dptr[nbox] = &digests[nbox];
		bptr[nbox] = &boxes[nbox];
		nbox++;
	}

	/* 3. The signed header = core + digests of the boxes. */
	hdr.n_tiers = nbox;
	hdr.tiers = nbox ? dptr : NULL;
	rc = pack_msg(&hdr.base, &hbytes, &hlen);
	if (rc != SP_OK)
		goto out;
	sig.header.data = hbytes;
	sig.header.len = hlen;
	if (kh) {
		rc = sp_kh_sign(kh, SP_KH_DOM_SIGNAL, hbytes, hlen, signature);
	} else {
		rc = sign_msg(&sig.header, &msg, &msglen);
		if (rc == SP_OK)
			crypto_sign_detached(signature, NULL, msg, msglen, sign_sk);
	}
	if (rc != SP_OK)
		goto out;
	sig.signature.data = signature;
	sig.signature.len = sizeof signature;

	/* 4. Seal each present tier's key to each granted recipient. */
	for (size_t i = 0; i < ngrants; i++) {
		const sp_grant_spec *g = &grants[i];
		uint8_t *sk = sealed + ng * SP_SEALED_KEY_BYTES;
		if (!(present & (1u << g->tier)))
			continue;
		if (crypto_box_seal(sk, keys + g->tier * SP_TIER_KEY_BYTES, SP_TIER_KEY_BYTES,
		                    g->box_pk) != 0) {
			rc = SP_EKEY; /* a low-order / invalid recipient key */
			goto out;
		}
		seinpost__grant__init(&gv[ng]);
		gv[ng].recipient = (char *)g->recipient;
		gv[ng].tier = (Seinpost__Tier)g->tier;
		gv[ng].mode = (Seinpost__GrantMode)g->mode;
		gv[ng].sealed_key.data = sk;
		gv[ng].sealed_key.len = SP_SEALED_KEY_BYTES;
		gptr[ng] = &gv[ng];
		ng++;
	}

	sig.n_tiers = nbox;
	sig.tiers = nbox ? bptr : NULL;
	sig.n_grants = ng;
	sig.grants = ng ? gptr : NULL;
	rc = pack_msg(&sig.base, out, outlen);
	if (rc != SP_OK)
		goto out;
	memcpy(id_out, id, sizeof id);
out:
	for (size_t i = 0; i < SP_TIER_COUNT; i++)
		free(boxes[i].ciphertext.data);
	if (keys)
		scratch_done(SCRATCH_KEYS, SP_TIER_COUNT * SP_TIER_KEY_BYTES);
	free(gv);
	free(gptr);
	free(sealed);
	free(core);
	free(hbytes);
	free(msg);
	return rc;
}

int sp_signal_seal(const sp_signal_meta *m, const sp_tier_plain *plain,
                   const sp_grant_spec *grants, size_t ngrants,
                   const uint8_t sign_sk[64],
                   uint8_t **out, size_t *outlen, uint8_t id_out[16])
{
	if (!sign_sk)
		return SP_EINVAL;
	return seal(m, plain, grants, ngrants, sign_sk, NULL, out, outlen, id_out);
}

int sp_signal_seal_kh(const sp_signal_meta *m, const sp_tier_plain *plain,
                      const sp_grant_spec *grants, size_t ngrants, sp_kh *kh,
                      uint8_t **out, size_t *outlen, uint8_t id_out[16])
{
	if (!kh)
		return SP_EINVAL;
	return seal(m, plain, grants, ngrants, NULL, kh, out, outlen, id_out);
}

/* ---- verify ------------------------------------------------------------- */

int sp_signal_verify(const Seinpost__Signal *sig, const Seinpost__SignalHeader *hdr,
                     const uint8_t sender_sign_pk[32])
{
	Seinpost__SignalHeader *own = NULL;
	uint8_t *msg = NULL;
	size_t msglen = 0;
	unsigned seen = 0;
	int rc;

	if (!sig || !sender_sign_pk)
		return SP_EINVAL;
	if (!hdr) {
		own = seinpost__signal_header__unpack(NULL, sig->header.len, sig->header.data);
		if (!own)
			return SP_ESIG;
		hdr = own;
	}
	/* hdr must be exactly what was signed, and canonical (see top). */
	if (sig->signature.len != crypto_sign_BYTES || !header_canonical(hdr, &sig->header)) {
		rc = SP_ESIG;
		goto out;
	}
	rc = sign_msg(&sig->header, &msg, &msglen);
	if (rc != SP_OK)
		goto out;
	if (crypto_sign_verify_detached(sig->signature.data, msg, msglen, sender_sign_pk) != 0) {
		rc = SP_ESIG;
		goto out;
	}
	/* Every box present must be the one the sender signed; boxes may be
	 * missing (a forwarded copy carries only what the recipient may open). */
	for (size_t i = 0; i < sig->n_tiers; i++) {
		const Seinpost__TierBox *b = sig->tiers[i];
		if (!box_matches(hdr, b) || (seen & (1u << b->tier))) {
			rc = SP_ECRYPTO;
			goto out;
		}
		seen |= 1u << b->tier;
	}
	rc = SP_OK;
out:
	free(msg);
	if (own)
		seinpost__signal_header__free_unpacked(own, NULL);
	return rc;
}

/* ---- open --------------------------------------------------------------- */

static char *dup_field(const char *s, int *err)
{
	char *d;
	if (!nonempty(s))
		return NULL;
	d = strdup(s);
	if (!d)
		*err = SP_ENOMEM;
	return d;
}

static void wipe_str(char *s)
{
	if (s && s != protobuf_c_empty_string)
		sodium_memzero(s, strlen(s));
}

static void content_free(Seinpost__TierContent *c)
{
	if (!c)
		return;
	wipe_str(c->text);
	wipe_str(c->bsn);
	wipe_str(c->name);
	wipe_str(c->birthdate);
	wipe_str(c->address);
	seinpost__tier_content__free_unpacked(c, NULL);
}

static int content_take(const Seinpost__TierContent *c, int tier, sp_opened *o)
{
	int err = SP_OK;
	switch (tier) {
	case SP_TIER_CONTACT:
		o->contact = dup_field(c->text, &err);
		break;
	case SP_TIER_SUMMARY:
		o->summary = dup_field(c->text, &err);
		break;
	case SP_TIER_FULL:
		o->narrative = dup_field(c->text, &err);
		o->bsn = dup_field(c->bsn, &err);
		o->name = dup_field(c->name, &err);
		o->birthdate = dup_field(c->birthdate, &err);
		o->address = dup_field(c->address, &err);
		break;
	}
	return err;
}

static const Seinpost__TierBox *find_box(const Seinpost__Signal *sig, int tier)
{
	const Seinpost__TierBox *found = NULL;
	for (size_t i = 0; i < sig->n_tiers; i++) {
		if (!sig->tiers[i] || (int)sig->tiers[i]->tier != tier)
			continue;
		if (found)
			return NULL; /* two boxes for one tier: refuse, do not pick */
		found = sig->tiers[i];
	}
	return found;
}

/* The grant is opened here (box keys) or by the key holder (kh), which
 * returns the one tier key and keeps the box key. */
static int open_signal(const Seinpost__Signal *sig, const char *me,
                       const uint8_t *box_pk, const uint8_t *box_sk, sp_kh *kh,
                       sp_opened *out)
{
	Seinpost__SignalHeader *hdr = NULL;
	Seinpost__TierContent *c = NULL;
	uint8_t *key = NULL, *pt = NULL, *core = NULL;
	size_t corelen = 0;
	int rc = SP_ECRYPTO;

	if (!sig || !me || (!kh && (!box_pk || !box_sk)) || !out)
		return SP_EINVAL;
	memset(out, 0, sizeof *out);
	if (sodium_init() < 0)
		return SP_ECRYPTO;
	hdr = seinpost__signal_header__unpack(NULL, sig->header.len, sig->header.data);
	if (!hdr || !header_canonical(hdr, &sig->header))
		goto out;
	rc = pack_core(hdr, &core, &corelen);
	if (rc != SP_OK)
		goto out;
	key = sodium_malloc(SP_TIER_KEY_BYTES);
	if (!key) {
		rc = SP_ENOMEM;
		goto out;
	}

	for (size_t i = 0; i < sig->n_grants; i++) {
		const Seinpost__Grant *g = sig->grants[i];
		const Seinpost__TierBox *b;
		unsigned long long ptlen = 0;
		int tier;

		if (!g || !g->recipient || strcmp(g->recipient, me) != 0)
			continue;
		tier = (int)g->tier;
		rc = SP_ECRYPTO;
		if (!TIER_VALID(tier) || g->sealed_key.len != SP_SEALED_KEY_BYTES)
			goto out;
		if (out->tiers & (1u << tier))
			continue; /* same tier granted twice (e.g. two modes) */
		if (kh ? sp_kh_unseal(kh, g->sealed_key.data, key) != SP_OK
		       : crypto_box_seal_open(key, g->sealed_key.data, g->sealed_key.len, box_pk, box_sk) != 0)
			goto out;
		/* Check the box against the signed digest before decrypting. */
		b = find_box(sig, tier);
		if (!b || !box_matches(hdr, b))
			goto out;
		pt = sodium_malloc(b->ciphertext.len);
		if (!pt) {
			rc = SP_ENOMEM;
			goto out;
		}
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &ptlen, NULL,
		        b->ciphertext.data, b->ciphertext.len, core, corelen,
		        b->nonce.data, key) != 0)
			goto out;
		sodium_memzero(key, SP_TIER_KEY_BYTES);
		c = seinpost__tier_content__unpack(NULL, (size_t)ptlen, pt);
		sodium_free(pt);
		pt = NULL;
		if (!c || (int)c->tier != tier)
			goto out;
		rc = content_take(c, tier, out);
		if (rc != SP_OK)
			goto out;
		content_free(c);
		c = NULL;
		out->tiers |= 1u << tier;
	}
	rc = SP_OK;
out:
	content_free(c);
	sodium_free(pt);
	sodium_free(key); /* wipes the tier key */
	free(core);
	if (hdr)
		seinpost__signal_header__free_unpacked(hdr, NULL);
	if (rc != SP_OK)
		sp_opened_clear(out);
	return rc;
}

int sp_signal_open(const Seinpost__Signal *sig, const char *me,
                   const uint8_t box_pk[32], const uint8_t box_sk[32],
                   sp_opened *out)
{
	return open_signal(sig, me, box_pk, box_sk, NULL, out);
}

int sp_signal_open_kh(const Seinpost__Signal *sig, const char *me, sp_kh *kh, sp_opened *out)
{
	if (!kh)
		return SP_EINVAL;
	return open_signal(sig, me, NULL, NULL, kh, out);
}

static void free_str(char **s)
{
	if (!*s)
		return;
	sodium_memzero(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

void sp_opened_clear(sp_opened *o)
{
	if (!o)
		return;
	free_str(&o->contact);
	free_str(&o->summary);
	free_str(&o->bsn);
	free_str(&o->name);
	free_str(&o->birthdate);
	free_str(&o->address);
	free_str(&o->narrative);
	o->tiers = 0;
}

/* ---- forwarding --------------------------------------------------------- */

int sp_signal_for_recipient(const Seinpost__Signal *sig, const char *recipient,
                            unsigned mode_mask, uint8_t **out, size_t *outlen,
                            unsigned *tiers_out)
{
	Seinpost__Signal copy = SEINPOST__SIGNAL__INIT;
	Seinpost__Grant **gp = NULL;
	Seinpost__TierBox **bp = NULL;
	unsigned tiers = 0;
	size_t ng = 0, nb = 0;
	int rc;

	if (!sig || !recipient || !out || !outlen || !tiers_out)
		return SP_EINVAL;
	*out = NULL;
	*outlen = 0;
	*tiers_out = 0;
	gp = calloc(sig->n_grants ? sig->n_grants : 1, sizeof *gp);
	bp = calloc(sig->n_tiers ? sig->n_tiers : 1, sizeof *bp);
	if (!gp || !bp) {
		rc = SP_ENOMEM;
		goto out;
	}
	/* Shallow copy: the new Signal borrows the grants and boxes of sig. */
	for (size_t i = 0; i < sig->n_grants; i++) {
		Seinpost__Grant *g = sig->grants[i];
		if (!g || !g->recipient || strcmp(g->recipient, recipient) != 0)
			continue;
		if (!TIER_VALID((int)g->tier) || !WHEN_VALID((int)g->mode) ||
		    !(mode_mask & (1u << g->mode)))
			continue;
		gp[ng++] = g;
		tiers |= 1u << g->tier;
	}
	for (size_t i = 0; i < sig->n_tiers; i++) {
		Seinpost__TierBox *b = sig->tiers[i];
		if (b && TIER_VALID((int)b->tier) && (tiers & (1u << b->tier)))
			bp[nb++] = b;
	}
	copy.header = sig->header;
	copy.signature = sig->signature;
	copy.n_grants = ng;
	copy.grants = ng ? gp : NULL;
	copy.n_tiers = nb;
	copy.tiers = nb ? bp : NULL;
	rc = pack_msg(&copy.base, out, outlen);
	if (rc == SP_OK)
		*tiers_out = tiers;
out:
	free(gp);
	free(bp);
	return rc;
}

/* ---- the subject's pseudonym: commitment, per-recipient pseudonym -------- */

void sp_signal_commitment(const uint8_t p[32], const uint8_t id[16], uint8_t c[32])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, p, 32);
	crypto_generichash_update(&st, id, 16);
	crypto_generichash_final(&st, c, 32);
}

#define RECIP_DOMAIN_LEN (sizeof SP_RECIP_PSEUDONYM_DOMAIN - 1)
#define RECIP_MSG_MAX (RECIP_DOMAIN_LEN + 16 + 1 + 255 + 32)

static size_t recip_msg(const uint8_t id[16], const char *to, const uint8_t pr[32], uint8_t msg[RECIP_MSG_MAX])
{
	size_t tl = strlen(to), n = 0;
	if (tl > 255)
		return 0;
	memcpy(msg, SP_RECIP_PSEUDONYM_DOMAIN, RECIP_DOMAIN_LEN);
	n = RECIP_DOMAIN_LEN;
	memcpy(msg + n, id, 16);
	n += 16;
	msg[n++] = (uint8_t)tl;
	memcpy(msg + n, to, tl);
	n += tl;
	memcpy(msg + n, pr, 32);
	return n + 32;
}

int sp_recip_pseudonym_sign(const uint8_t id[16], const char *to, const uint8_t pr[32], const uint8_t sign_sk[64],
                            uint8_t sig[64])
{
	uint8_t msg[RECIP_MSG_MAX];
	size_t n = recip_msg(id, to, pr, msg);
	if (!n)
		return SP_EINVAL;
	crypto_sign_detached(sig, NULL, msg, n, sign_sk);
	return SP_OK;
}

int sp_recip_pseudonym_verify(const uint8_t id[16], const char *to, const uint8_t pr[32], const uint8_t sig[64],
                              const uint8_t broker_sign_pk[32])
{
	uint8_t msg[RECIP_MSG_MAX];
	size_t n = recip_msg(id, to, pr, msg);
	if (!n)
		return SP_EINVAL;
	return crypto_sign_verify_detached(sig, msg, n, broker_sign_pk) == 0 ? SP_OK : SP_ESIG;
}

/* ---- receipts ----------------------------------------------------------- */

#define RECEIPT_DOMAIN_LEN (sizeof SP_RECEIPT_DOMAIN - 1)

static void receipt_msg(const uint8_t id[16], uint64_t time,
                        uint8_t msg[RECEIPT_DOMAIN_LEN + 16 + 8])
{
	memcpy(msg, SP_RECEIPT_DOMAIN, RECEIPT_DOMAIN_LEN);
	memcpy(msg + RECEIPT_DOMAIN_LEN, id, 16);
	sp_be64_put(msg + RECEIPT_DOMAIN_LEN + 16, time);
}

void sp_receipt_sign(const uint8_t id[16], uint64_t time, const uint8_t sign_sk[64], uint8_t sig[64])
{
	uint8_t msg[RECEIPT_DOMAIN_LEN + 16 + 8];
	receipt_msg(id, time, msg);
	crypto_sign_detached(sig, NULL, msg, sizeof msg, sign_sk);
}

int sp_receipt_verify(const uint8_t id[16], uint64_t time, const uint8_t sig[64],
                      const uint8_t sign_pk[32])
{
	uint8_t msg[RECEIPT_DOMAIN_LEN + 16 + 8];
	if (!id || !sig || !sign_pk)
		return SP_EINVAL;
	receipt_msg(id, time, msg);
	return crypto_sign_verify_detached(sig, msg, sizeof msg, sign_pk) == 0 ? SP_OK : SP_ESIG;
}

/* ---- batched receipts -------------------------------------------------- */

#define RECEIPTS_DOMAIN_LEN (sizeof SP_RECEIPTS_DOMAIN - 1)
#define RECEIPTS_MSG_MAX (RECEIPTS_DOMAIN_LEN + 1 + 255 + 8 + 4 + SP_RECEIPT_BATCH_MAX * 16)

static int receipts_msg(const char *org, uint64_t time, const uint8_t *const *ids, size_t n,
                        uint8_t *msg, size_t *len)
{
	size_t ol, p = 0;
	if (!org || !ids || n < 1 || n > SP_RECEIPT_BATCH_MAX)
		return SP_EINVAL;
	ol = strlen(org);
	if (ol < 1 || ol > 255)
		return SP_EINVAL;
	memcpy(msg, SP_RECEIPTS_DOMAIN, RECEIPTS_DOMAIN_LEN);
	p = RECEIPTS_DOMAIN_LEN;
	msg[p++] = (uint8_t)ol; /* length-prefixed: org and ids cannot shift into each other */
	memcpy(msg + p, org, ol);
	p += ol;
	sp_be64_put(msg + p, time);
	p += 8;
	msg[p++] = (uint8_t)(n >> 24);
	msg[p++] = (uint8_t)(n >> 16);
	msg[p++] = (uint8_t)(n >> 8);
	msg[p++] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		if (!ids[i])
			return SP_EINVAL;
		memcpy(msg + p, ids[i], 16);
		p += 16;
	}
	*len = p;
	return SP_OK;
}

int sp_receipts_sign(const char *org, uint64_t time, const uint8_t *const *ids, size_t n,
                     const uint8_t sign_sk[64], uint8_t sig[64])
{
	uint8_t msg[RECEIPTS_MSG_MAX];
	size_t len;
	int rc = receipts_msg(org, time, ids, n, msg, &len);
	if (rc != SP_OK)
		return rc;
	crypto_sign_detached(sig, NULL, msg, len, sign_sk);
	return SP_OK;
}

int sp_receipts_sign_kh(const char *org, uint64_t time, const uint8_t *const *ids, size_t n, sp_kh *kh,
                        uint8_t sig[64])
{
	uint8_t msg[RECEIPTS_MSG_MAX];
	size_t len;
	int rc = receipts_msg(org, time, ids, n, msg, &len);
	if (rc != SP_OK)
		return rc;
	return sp_kh_sign(kh, SP_KH_DOM_RECEIPTS, msg + RECEIPTS_DOMAIN_LEN, len - RECEIPTS_DOMAIN_LEN, sig);
}

int sp_receipts_verify(const char *org, uint64_t time, const uint8_t *const *ids, size_t n,
                       const uint8_t sig[64], const uint8_t sign_pk[32])
{
	uint8_t msg[RECEIPTS_MSG_MAX];
	size_t len;
	int rc;
	if (!sig || !sign_pk)
		return SP_EINVAL;
	rc = receipts_msg(org, time, ids, n, msg, &len);
	if (rc != SP_OK)
		return rc;
	return crypto_sign_verify_detached(sig, msg, len, sign_pk) == 0 ? SP_OK : SP_ESIG;
}
