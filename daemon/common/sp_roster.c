/*
 * sp_roster.c — the signed list of organisations in a network.
 *
 * The roster is the root of trust for identities: the ZAP handler admits
 * only CURVE keys on it, and tier keys are sealed only to box keys on it.
 * A roster is therefore accepted only with a valid operator signature and
 * only when every entry passes the same checks sp_roster_add applies, so a
 * forged or hand-edited file can never introduce a key twice (which would
 * let one organisation speak as another).
 */
#include "sp_roster.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "seinpost.pb-c.h"
#include "sp_util.h"

#define ROSTER_MAX_FILE (4u * 1024 * 1024)
#define ROSTER_MAX_ORGS 10000

struct sp_roster {
	char network[SP_ID_MAX];
	uint8_t broker_curve[32];
	uint8_t broker_sign[32];
	sp_org *orgs;
	size_t n, cap;
};

static const char *const known_roles[] = {
	"police", "school", "youthcare", "municipality", "zvh",
	"privacy-officer", "healthcare", "probation",
};

int sp_role_known(const char *role)
{
	if (!role)
		return 0;
	for (size_t i = 0; i < sizeof known_roles / sizeof known_roles[0]; i++)
		if (strcmp(role, known_roles[i]) == 0)
			return 1;
	return 0;
}

static int bounded_ident(const char *s, size_t max)
{
	return s && strnlen(s, max) < max && sp_ident_ok(s);
}

int sp_roster_new(const char *network, const uint8_t broker_curve_pk[32],
                  const uint8_t broker_sign_pk[32], sp_roster **out)
{
	sp_roster *r;
	if (!out)
		return SP_EINVAL;
	*out = NULL;
	if (!bounded_ident(network, SP_ID_MAX) || !broker_curve_pk || !broker_sign_pk)
		return SP_EINVAL;
	/* An all-zero key is what an unset field decodes to: never a real key. */
	if (sodium_is_zero(broker_curve_pk, 32) || sodium_is_zero(broker_sign_pk, 32))
		return SP_EINVAL;
	r = calloc(1, sizeof *r);
	if (!r)
		return SP_ENOMEM;
	strcpy(r->network, network);
	memcpy(r->broker_curve, broker_curve_pk, 32);
	memcpy(r->broker_sign, broker_sign_pk, 32);
	*out = r;
	return SP_OK;
}

/* 1 when k equals any key already in the roster, broker keys included:
 * a shared key would make two parties indistinguishable. */
static int key_taken(const sp_roster *r, const uint8_t k[32])
{
	if (memcmp(k, r->broker_curve, 32) == 0 || memcmp(k, r->broker_sign, 32) == 0)
		return 1;
	for (size_t i = 0; i < r->n; i++) {
		const sp_org *o = &r->orgs[i];
		if (memcmp(k, o->curve_pk, 32) == 0 || memcmp(k, o->sign_pk, 32) == 0 ||
		    memcmp(k, o->box_pk, 32) == 0)
			return 1;
	}
	return 0;
}

int sp_roster_add(sp_roster *r, const sp_org *org)
{
	if (!r || !org)
		return SP_EINVAL;
	if (!bounded_ident(org->id, SP_ID_MAX) ||
	    strnlen(org->role, SP_ROLE_MAX) >= SP_ROLE_MAX || !sp_role_known(org->role))
		return SP_EINVAL;
	if (sodium_is_zero(org->curve_pk, 32) || sodium_is_zero(org->sign_pk, 32) ||
	    sodium_is_zero(org->box_pk, 32))
		return SP_EINVAL;
	if (sp_roster_find(r, org->id))
		return SP_EEXIST;
	if (memcmp(org->curve_pk, org->sign_pk, 32) == 0 ||
	    memcmp(org->curve_pk, org->box_pk, 32) == 0 ||
	    memcmp(org->sign_pk, org->box_pk, 32) == 0)
		return SP_EEXIST;
	if (key_taken(r, org->curve_pk) || key_taken(r, org->sign_pk) || key_taken(r, org->box_pk))
		return SP_EEXIST;
	if (r->n >= ROSTER_MAX_ORGS)
		return SP_ESIZE;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		sp_org *o = realloc(r->orgs, cap * sizeof *o);
		if (!o)
			return SP_ENOMEM;
		r->orgs = o;
		r->cap = cap;
	}
	r->orgs[r->n] = *org;
	r->n++;
	return SP_OK;
}

/* The signed bytes: domain || roster. Domain separation keeps a roster
 * signature from ever being valid as a signal or tree-head signature. */
static int signed_message(const uint8_t *roster, size_t len, uint8_t **out, size_t *outlen)
{
	size_t dlen = strlen(SP_ROSTER_DOMAIN);
	uint8_t *m = malloc(dlen + len + 1);
	if (!m)
		return SP_ENOMEM;
	memcpy(m, SP_ROSTER_DOMAIN, dlen);
	if (len)
		memcpy(m + dlen, roster, len);
	*out = m;
	*outlen = dlen + len;
	return SP_OK;
}

int sp_roster_save(const sp_roster *r, const char *path, const uint8_t operator_sk[64])
{
	int rc = SP_ENOMEM;
	Seinpost__Roster ro = SEINPOST__ROSTER__INIT;
	Seinpost__SignedRoster sr = SEINPOST__SIGNED_ROSTER__INIT;
	Seinpost__RosterOrg *orgs = NULL, **ptrs = NULL;
	uint8_t *rbytes = NULL, *msg = NULL, *sbytes = NULL;
	uint8_t sig[crypto_sign_BYTES];
	size_t rlen, mlen, slen;

	if (!r || !path || !operator_sk)
		return SP_EINVAL;
	if (r->n) {
		orgs = calloc(r->n, sizeof *orgs);
		ptrs = calloc(r->n, sizeof *ptrs);
		if (!orgs || !ptrs)
			goto out;
	}
	for (size_t i = 0; i < r->n; i++) {
		seinpost__roster_org__init(&orgs[i]);
		/* protobuf-c takes non-const pointers but does not write. */
		orgs[i].id = (char *)r->orgs[i].id;
		orgs[i].role = (char *)r->orgs[i].role;
		orgs[i].curve_key.data = (uint8_t *)r->orgs[i].curve_pk;
		orgs[i].curve_key.len = 32;
		orgs[i].sign_key.data = (uint8_t *)r->orgs[i].sign_pk;
		orgs[i].sign_key.len = 32;
		orgs[i].box_key.data = (uint8_t *)r->orgs[i].box_pk;
		orgs[i].box_key.len = 32;
		ptrs[i] = &orgs[i];
	}
	ro.network = (char *)r->network;
	ro.issued = sp_now_s();
	ro.broker_curve_key.data = (uint8_t *)r->broker_curve;
	ro.broker_curve_key.len = 32;
	ro.broker_sign_key.data = (uint8_t *)r->broker_sign;
	ro.broker_sign_key.len = 32;
	ro.n_orgs = r->n;
	ro.orgs = ptrs;

	rlen = seinpost__roster__get_packed_size(&ro);
	rbytes = malloc(rlen ? rlen : 1);
	if (!rbytes)
		goto out;
	seinpost__roster__pack(&ro, rbytes);
	if ((rc = signed_message(rbytes, rlen, &msg, &mlen)) != SP_OK)
		goto out;
	crypto_sign_detached(sig, NULL, msg, mlen, operator_sk);

	sr.roster.data = rbytes;
	sr.roster.len = rlen;
	sr.signature.data = sig;
	sr.signature.len = sizeof sig;
	slen = seinpost__signed_roster__get_packed_size(&sr);
	rc = SP_ENOMEM;
	sbytes = malloc(slen ? slen : 1);
	if (!sbytes)
		goto out;
	seinpost__signed_roster__pack(&sr, sbytes);
	/* 0644: the roster holds public keys only and every node reads it. */
	rc = sp_file_write(path, sbytes, slen, 0644);
out:
	free(orgs);
	free(ptrs);
	free(rbytes);
	free(msg);
	free(sbytes);
	return rc;
}

static int copy_str(char *dst, size_t dstlen, const char *src)
{
	if (!src || strnlen(src, dstlen) >= dstlen)
		return SP_EMALFORMED;
	strcpy(dst, src);
	return SP_OK;
}

int sp_roster_load(const char *path, const uint8_t operator_pk[32], sp_roster **out)
{
	int rc;
	uint8_t *buf = NULL, *msg = NULL;
	size_t len, mlen;
	Seinpost__SignedRoster *sr = NULL;
	Seinpost__Roster *ro = NULL;
	sp_roster *r = NULL;

	if (!out)
		return SP_EINVAL;
	*out = NULL;
	if (!path || !operator_pk)
		return SP_EINVAL;
	if ((rc = sp_file_read(path, ROSTER_MAX_FILE, &buf, &len)) != SP_OK)
		goto out;
	rc = SP_EMALFORMED;
	sr = seinpost__signed_roster__unpack(NULL, len, buf);
	if (!sr || sr->signature.len != crypto_sign_BYTES || !sr->roster.data)
		goto out;
	/* Verify before decoding the roster: unauthenticated bytes get no
	 * further than the outer envelope. */
	if ((rc = signed_message(sr->roster.data, sr->roster.len, &msg, &mlen)) != SP_OK)
		goto out;
	if (crypto_sign_verify_detached(sr->signature.data, msg, mlen, operator_pk) != 0) {
		rc = SP_ESIG;
		goto out;
	}
	rc = SP_EMALFORMED;
	ro = seinpost__roster__unpack(NULL, sr->roster.len, sr->roster.data);
	if (!ro || ro->broker_curve_key.len != 32 || ro->broker_sign_key.len != 32 ||
	    ro->n_orgs > ROSTER_MAX_ORGS)
		goto out;
	if (sp_roster_new(ro->network, ro->broker_curve_key.data, ro->broker_sign_key.data, &r) != SP_OK)
		goto out;
	for (size_t i = 0; i < ro->n_orgs; i++) {
		const Seinpost__RosterOrg *po = ro->orgs[i];
		sp_org o;
		memset(&o, 0, sizeof o);
		if (po->curve_key.len != 32 || po->sign_key.len != 32 || po->box_key.len != 32)
			goto out;
		if (copy_str(o.id, sizeof o.id, po->id) != SP_OK ||
		    copy_str(o.role, sizeof o.role, po->role) != SP_OK)
			goto out;
		memcpy(o.curve_pk, po->curve_key.data, 32);
		memcpy(o.sign_pk, po->sign_key.data, 32);
		memcpy(o.box_pk, po->box_key.data, 32);
		if (sp_roster_add(r, &o) != SP_OK)
			goto out;
	}
	*out = r;
	r = NULL;
	rc = SP_OK;
out:
	if (ro)
		seinpost__roster__free_unpacked(ro, NULL);
	if (sr)
		seinpost__signed_roster__free_unpacked(sr, NULL);
	sp_roster_free(&r);
	free(buf);
	free(msg);
	return rc;
}

void sp_roster_free(sp_roster **r)
{
	if (!r || !*r)
		return;
	free((*r)->orgs);
	free(*r);
	*r = NULL;
}

const char *sp_roster_network(const sp_roster *r)
{
	return r ? r->network : NULL;
}

const uint8_t *sp_roster_broker_curve(const sp_roster *r)
{
	return r ? r->broker_curve : NULL;
}

const uint8_t *sp_roster_broker_sign(const sp_roster *r)
{
	return r ? r->broker_sign : NULL;
}

size_t sp_roster_count(const sp_roster *r)
{
	return r ? r->n : 0;
}

const sp_org *sp_roster_at(const sp_roster *r, size_t i)
{
	return r && i < r->n ? &r->orgs[i] : NULL;
}

const sp_org *sp_roster_find(const sp_roster *r, const char *id)
{
	if (!r || !id)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->orgs[i].id, id) == 0)
			return &r->orgs[i];
	return NULL;
}

const sp_org *sp_roster_find_curve(const sp_roster *r, const uint8_t curve_pk[32])
{
	if (!r || !curve_pk)
		return NULL;
	for (size_t i = 0; i < r->n; i++)
		if (memcmp(r->orgs[i].curve_pk, curve_pk, 32) == 0)
			return &r->orgs[i];
	return NULL;
}
