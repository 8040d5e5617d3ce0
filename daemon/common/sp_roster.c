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
#include "sp_oprf.h"
#include "sp_toprf.h"
#include "sp_util.h"

#define ROSTER_MAX_FILE (4u * 1024 * 1024)
#define ROSTER_MAX_ORGS 10000

#define ROSTER_MAX_REMOVED 10000
#define ROSTER_MAX_TRANSITIONS (SP_BROKER_KEYS_MAX - 1)

struct transition {
	uint8_t old_pk[32], new_pk[32];
	uint64_t time_ms;
	uint8_t old_sig[64], new_sig[64];
};

struct sp_roster {
	char network[SP_ID_MAX];
	uint64_t serial, issued;
	uint8_t broker_curve[32];
	uint8_t broker_sign[32];
	sp_org *orgs;
	size_t n, cap;
	sp_removal *removed;
	size_t nremoved;
	struct transition trans[ROSTER_MAX_TRANSITIONS]; /* oldest first */
	size_t ntrans;
	uint8_t *signed_bytes; /* what it was loaded from */
	size_t signed_len;
	uint8_t oprf_commit[SP_TOPRF_MAX_N][32]; /* t-of-n pseudonymisers: Feldman commitments */
	uint32_t oprf_t;                          /* 0: none (a single-key service, if any) */
	sp_oprf_rotation rot[SP_ROSTER_ROTATIONS_MAX]; /* key rotations, oldest first */
	size_t nrot;
};

static const char *const known_roles[] = {
	"police", "school", "youthcare", "municipality", "zvh",
	"privacy-officer", "healthcare", "probation",
	"pseudonymiser", /* the oblivious pseudonymisation service (sp_oprf.h) */
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
	for (size_t i = 0; i < r->ntrans; i++)
		if (memcmp(k, r->trans[i].old_pk, 32) == 0)
			return 1;
	for (size_t i = 0; i < r->n; i++) {
		const sp_org *o = &r->orgs[i];
		if (memcmp(k, o->curve_pk, 32) == 0 || memcmp(k, o->sign_pk, 32) == 0 ||
		    memcmp(k, o->box_pk, 32) == 0)
			return 1;
		for (size_t j = 0; j < o->nprev; j++)
			if (memcmp(k, o->prev[j].curve_pk, 32) == 0 || memcmp(k, o->prev[j].sign_pk, 32) == 0 ||
			    memcmp(k, o->prev[j].box_pk, 32) == 0)
				return 1;
	}
	return 0;
}

static void unremove(sp_roster *r, const char *id);

/* The three keys of one generation: set, and distinct from each other. */
static int keys_ok(const uint8_t *c, const uint8_t *s, const uint8_t *b)
{
	if (sodium_is_zero(c, 32) || sodium_is_zero(s, 32) || sodium_is_zero(b, 32))
		return SP_EINVAL;
	if (memcmp(c, s, 32) == 0 || memcmp(c, b, 32) == 0 || memcmp(s, b, 32) == 0)
		return SP_EEXIST;
	return SP_OK;
}

int sp_roster_add(sp_roster *r, const sp_org *org)
{
	int rc, is_ps;
	if (!r || !org)
		return SP_EINVAL;
	if (!bounded_ident(org->id, SP_ID_MAX) ||
	    strnlen(org->role, SP_ROLE_MAX) >= SP_ROLE_MAX || !sp_role_known(org->role) ||
	    org->nprev > SP_PREV_MAX)
		return SP_EINVAL;
	is_ps = strcmp(org->role, "pseudonymiser") == 0;
	if (is_ps) {
		/* the pseudonymiser receives nothing sealed: it has no box key;
		 * its keys do not rotate by enrolment (no older generations) */
		if (sodium_is_zero(org->curve_pk, 32) || sodium_is_zero(org->sign_pk, 32) ||
		    !sodium_is_zero(org->box_pk, 32) || org->nprev)
			return SP_EINVAL;
		if (memcmp(org->curve_pk, org->sign_pk, 32) == 0)
			return SP_EEXIST;
	} else if ((rc = keys_ok(org->curve_pk, org->sign_pk, org->box_pk)) != SP_OK) {
		return rc;
	}
	/* a pseudonymiser and only a pseudonymiser publishes an OPRF key, and
	 * it must be a usable element (never the identity) */
	if (is_ps != (org->has_oprf != 0))
		return SP_EINVAL;
	if (org->has_oprf && !sp_oprf_element_ok(org->oprf_pk))
		return SP_EINVAL;
	/* t-of-n: an instance's key is its public share under the commitments,
	 * and its index is its own */
	if ((org->oprf_index != 0) != (org->has_oprf && r->oprf_t != 0))
		return SP_EINVAL;
	if (org->oprf_index) {
		uint8_t share[32];
		if (org->oprf_index > SP_TOPRF_MAX_N ||
		    sp_toprf_public_share(&r->oprf_commit[0][0], r->oprf_t, org->oprf_index, share) != SP_OK ||
		    sodium_memcmp(share, org->oprf_pk, 32) != 0)
			return SP_EINVAL;
		for (size_t i = 0; i < r->n; i++)
			if (r->orgs[i].oprf_index == org->oprf_index)
				return SP_EEXIST;
	}
	if (sp_roster_find(r, org->id))
		return SP_EEXIST;
	if (org->has_oprf && (memcmp(org->oprf_pk, org->curve_pk, 32) == 0 || memcmp(org->oprf_pk, org->sign_pk, 32) == 0))
		return SP_EEXIST;
	if (key_taken(r, org->curve_pk) || key_taken(r, org->sign_pk) || (!is_ps && key_taken(r, org->box_pk)))
		return SP_EEXIST;
	/* Older generations obey the same rules: no key twice anywhere,
	 * also not within this organisation's own history. */
	{
		const uint8_t *all[3 * (1 + SP_PREV_MAX)];
		size_t na = 0;
		all[na++] = org->curve_pk;
		all[na++] = org->sign_pk;
		all[na++] = org->box_pk;
		for (size_t j = 0; j < org->nprev; j++) {
			const sp_orgkeys *p = &org->prev[j];
			if ((rc = keys_ok(p->curve_pk, p->sign_pk, p->box_pk)) != SP_OK)
				return rc;
			if (key_taken(r, p->curve_pk) || key_taken(r, p->sign_pk) || key_taken(r, p->box_pk))
				return SP_EEXIST;
			all[na++] = p->curve_pk;
			all[na++] = p->sign_pk;
			all[na++] = p->box_pk;
		}
		for (size_t a = 0; a < na; a++)
			for (size_t b = a + 1; b < na; b++)
				if (memcmp(all[a], all[b], 32) == 0)
					return SP_EEXIST;
	}
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
	unremove(r, org->id);
	return SP_OK;
}

int sp_roster_rotate(sp_roster *r, const char *id, const uint8_t curve_pk[32],
                     const uint8_t sign_pk[32], const uint8_t box_pk[32], uint64_t now_s,
                     uint64_t until)
{
	sp_org *o = r ? (sp_org *)sp_roster_find(r, id) : NULL;
	sp_org next;
	int rc;
	if (!r || !id || !curve_pk || !sign_pk || !box_pk)
		return SP_EINVAL;
	if (!o)
		return SP_ENOTFOUND;
	if (o->has_oprf)
		return SP_EINVAL; /* a pseudonymiser has no box key: it does not rotate by enrolment */
	if ((rc = keys_ok(curve_pk, sign_pk, box_pk)) != SP_OK)
		return rc;
	if (key_taken(r, curve_pk) || key_taken(r, sign_pk) || key_taken(r, box_pk))
		return SP_EEXIST;
	next = *o;
	/* Newest first; the oldest generation beyond SP_PREV_MAX goes. */
	memmove(&next.prev[1], &next.prev[0], (SP_PREV_MAX - 1) * sizeof next.prev[0]);
	memcpy(next.prev[0].curve_pk, o->curve_pk, 32);
	memcpy(next.prev[0].sign_pk, o->sign_pk, 32);
	memcpy(next.prev[0].box_pk, o->box_pk, 32);
	next.prev[0].retired = now_s;
	next.prev[0].until = until;
	if (next.nprev < SP_PREV_MAX)
		next.nprev++;
	memcpy(next.curve_pk, curve_pk, 32);
	memcpy(next.sign_pk, sign_pk, 32);
	memcpy(next.box_pk, box_pk, 32);
	*o = next;
	return SP_OK;
}

int sp_roster_remove(sp_roster *r, const char *id, const char *reason, uint64_t now_s)
{
	const sp_org *o;
	sp_removal *rm;
	size_t i;
	if (!r || !id || !reason || strnlen(reason, SP_REASON_MAX) >= SP_REASON_MAX ||
	    !sp_text_ok(reason, SP_REASON_MAX - 1, 0))
		return SP_EINVAL;
	if (!(o = sp_roster_find(r, id)))
		return SP_ENOTFOUND;
	if (r->nremoved >= ROSTER_MAX_REMOVED)
		return SP_ESIZE;
	rm = realloc(r->removed, (r->nremoved + 1) * sizeof *rm);
	if (!rm)
		return SP_ENOMEM;
	r->removed = rm;
	rm = &r->removed[r->nremoved++];
	memset(rm, 0, sizeof *rm);
	strcpy(rm->id, o->id);
	strcpy(rm->reason, reason);
	rm->time = now_s;
	i = (size_t)(o - r->orgs);
	memmove(&r->orgs[i], &r->orgs[i + 1], (r->n - i - 1) * sizeof r->orgs[0]);
	r->n--;
	return SP_OK;
}

/* An id that is on the roster again is no longer "removed". */
static void unremove(sp_roster *r, const char *id)
{
	for (size_t i = 0; i < r->nremoved; i++)
		if (strcmp(r->removed[i].id, id) == 0) {
			memmove(&r->removed[i], &r->removed[i + 1], (r->nremoved - i - 1) * sizeof r->removed[0]);
			r->nremoved--;
			i--;
		}
}

void sp_roster_broker_transition_msg(const uint8_t old_pk[32], const uint8_t new_pk[32], uint64_t time_ms,
                                     uint8_t out[SP_BROKER_TRANSITION_MSG])
{
	size_t dl = sizeof SP_BROKER_KEY_DOMAIN - 1;
	memcpy(out, SP_BROKER_KEY_DOMAIN, dl);
	memcpy(out + dl, old_pk, 32);
	memcpy(out + dl + 32, new_pk, 32);
	sp_be64_put(out + dl + 64, time_ms);
}

static int transition_add(sp_roster *r, const uint8_t old_pk[32], const uint8_t new_pk[32], uint64_t time_ms,
                          const uint8_t old_sig[64], const uint8_t new_sig[64])
{
	uint8_t m[SP_BROKER_TRANSITION_MSG];
	struct transition *t;
	if (r->ntrans >= ROSTER_MAX_TRANSITIONS)
		return SP_ESIZE;
	if (sodium_is_zero(new_pk, 32) || memcmp(old_pk, new_pk, 32) == 0)
		return SP_EINVAL;
	sp_roster_broker_transition_msg(old_pk, new_pk, time_ms, m);
	/* Both halves: the old key vouches for the new one, the new key
	 * proves it is held by whoever asked for the move. */
	if (crypto_sign_verify_detached(old_sig, m, sizeof m, old_pk) != 0 ||
	    crypto_sign_verify_detached(new_sig, m, sizeof m, new_pk) != 0)
		return SP_ESIG;
	if (r->ntrans && time_ms < r->trans[r->ntrans - 1].time_ms)
		return SP_EINVAL;
	t = &r->trans[r->ntrans++];
	memcpy(t->old_pk, old_pk, 32);
	memcpy(t->new_pk, new_pk, 32);
	t->time_ms = time_ms;
	memcpy(t->old_sig, old_sig, 64);
	memcpy(t->new_sig, new_sig, 64);
	return SP_OK;
}

int sp_roster_broker_rotate(sp_roster *r, const uint8_t new_pk[32], uint64_t time_ms,
                            const uint8_t old_sig[64], const uint8_t new_sig[64])
{
	int rc;
	if (!r || !new_pk || !old_sig || !new_sig)
		return SP_EINVAL;
	if (key_taken(r, new_pk))
		return SP_EEXIST;
	rc = transition_add(r, r->broker_sign, new_pk, time_ms, old_sig, new_sig);
	if (rc == SP_OK)
		memcpy(r->broker_sign, new_pk, 32);
	return rc;
}

void sp_roster_touch(sp_roster *r)
{
	if (r)
		r->serial++;
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

static ProtobufCBinaryData bin(const uint8_t *p, size_t n)
{
	return (ProtobufCBinaryData){ n, (uint8_t *)p }; /* protobuf-c does not write */
}

int sp_roster_save(const sp_roster *r, const char *path, const uint8_t operator_sk[64])
{
	int rc = SP_ENOMEM;
	Seinpost__Roster ro = SEINPOST__ROSTER__INIT;
	Seinpost__SignedRoster sr = SEINPOST__SIGNED_ROSTER__INIT;
	Seinpost__RosterOrg *orgs = NULL, **ptrs = NULL;
	Seinpost__RosterKeys *keys = NULL, **kptrs = NULL;
	Seinpost__RosterRemoval *rem = NULL, **rptrs = NULL;
	Seinpost__BrokerKeyTransition tr[ROSTER_MAX_TRANSITIONS], *tptrs[ROSTER_MAX_TRANSITIONS];
	uint8_t *rbytes = NULL, *msg = NULL, *sbytes = NULL;
	uint8_t sig[crypto_sign_BYTES];
	size_t rlen, mlen, slen, nk = 0;

	if (!r || !path || !operator_sk)
		return SP_EINVAL;
	orgs = calloc(r->n + 1, sizeof *orgs);
	ptrs = calloc(r->n + 1, sizeof *ptrs);
	keys = calloc(r->n * SP_PREV_MAX + 1, sizeof *keys);
	kptrs = calloc(r->n * SP_PREV_MAX + 1, sizeof *kptrs);
	rem = calloc(r->nremoved + 1, sizeof *rem);
	rptrs = calloc(r->nremoved + 1, sizeof *rptrs);
	if (!orgs || !ptrs || !keys || !kptrs || !rem || !rptrs)
		goto out;
	for (size_t i = 0; i < r->n; i++) {
		const sp_org *o = &r->orgs[i];
		seinpost__roster_org__init(&orgs[i]);
		orgs[i].id = (char *)o->id;
		orgs[i].role = (char *)o->role;
		orgs[i].curve_key = bin(o->curve_pk, 32);
		orgs[i].sign_key = bin(o->sign_pk, 32);
		orgs[i].box_key = bin(o->box_pk, o->has_oprf ? 0 : 32);
		if (o->has_oprf) {
			orgs[i].oprf_key = bin(o->oprf_pk, 32);
			orgs[i].oprf_index = o->oprf_index;
		}
		orgs[i].enrolled = o->enrolled;
		orgs[i].n_previous = o->nprev;
		orgs[i].previous = &kptrs[nk];
		for (size_t j = 0; j < o->nprev; j++, nk++) {
			seinpost__roster_keys__init(&keys[nk]);
			keys[nk].curve_key = bin(o->prev[j].curve_pk, 32);
			keys[nk].sign_key = bin(o->prev[j].sign_pk, 32);
			keys[nk].box_key = bin(o->prev[j].box_pk, 32);
			keys[nk].retired = o->prev[j].retired;
			keys[nk].until = o->prev[j].until;
			kptrs[nk] = &keys[nk];
		}
		ptrs[i] = &orgs[i];
	}
	for (size_t i = 0; i < r->nremoved; i++) {
		seinpost__roster_removal__init(&rem[i]);
		rem[i].id = (char *)r->removed[i].id;
		rem[i].time = r->removed[i].time;
		rem[i].reason = (char *)r->removed[i].reason;
		rptrs[i] = &rem[i];
	}
	for (size_t i = 0; i < r->ntrans; i++) {
		seinpost__broker_key_transition__init(&tr[i]);
		tr[i].old_sign_key = bin(r->trans[i].old_pk, 32);
		tr[i].new_sign_key = bin(r->trans[i].new_pk, 32);
		tr[i].time = r->trans[i].time_ms;
		tr[i].old_signature = bin(r->trans[i].old_sig, 64);
		tr[i].new_signature = bin(r->trans[i].new_sig, 64);
		tptrs[i] = &tr[i];
	}
	ro.network = (char *)r->network;
	ro.issued = sp_now_s();
	ro.serial = r->serial;
	ro.broker_curve_key = bin(r->broker_curve, 32);
	ro.broker_sign_key = bin(r->broker_sign, 32);
	ro.n_orgs = r->n;
	ro.orgs = ptrs;
	ro.n_removed = r->nremoved;
	ro.removed = rptrs;
	ro.n_broker_transitions = r->ntrans;
	ro.broker_transitions = tptrs;
	ProtobufCBinaryData commits[SP_TOPRF_MAX_N];
	for (uint32_t j = 0; j < r->oprf_t; j++) {
		commits[j].data = (uint8_t *)r->oprf_commit[j];
		commits[j].len = 32;
	}
	ro.n_oprf_commitments = r->oprf_t;
	ro.oprf_commitments = commits;
	Seinpost__OprfRotation rot[SP_ROSTER_ROTATIONS_MAX], *rotp[SP_ROSTER_ROTATIONS_MAX];
	for (size_t i = 0; i < r->nrot; i++) {
		seinpost__oprf_rotation__init(&rot[i]);
		rot[i].epoch = r->rot[i].epoch;
		rot[i].old_group_key = bin(r->rot[i].old_key, 32);
		rot[i].new_group_key = bin(r->rot[i].new_key, 32);
		rot[i].d = bin(r->rot[i].d, 32);
		rot[i].proof = bin(r->rot[i].proof, 64);
		rot[i].time = r->rot[i].time;
		rotp[i] = &rot[i];
	}
	ro.n_oprf_rotations = r->nrot;
	ro.oprf_rotations = rotp;

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
	free(keys);
	free(kptrs);
	free(rem);
	free(rptrs);
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

static int decode_org(const Seinpost__RosterOrg *po, sp_org *o)
{
	memset(o, 0, sizeof *o);
	/* a pseudonymiser has an OPRF key instead of a box key */
	if (!po || po->curve_key.len != 32 || po->sign_key.len != 32 ||
	    (po->box_key.len != 32 && !(po->box_key.len == 0 && po->oprf_key.len == 32)) ||
	    (po->oprf_key.len != 0 && po->oprf_key.len != 32) || po->n_previous > SP_PREV_MAX)
		return SP_EMALFORMED;
	if (copy_str(o->id, sizeof o->id, po->id) != SP_OK || copy_str(o->role, sizeof o->role, po->role) != SP_OK)
		return SP_EMALFORMED;
	memcpy(o->curve_pk, po->curve_key.data, 32);
	memcpy(o->sign_pk, po->sign_key.data, 32);
	if (po->box_key.len == 32)
		memcpy(o->box_pk, po->box_key.data, 32);
	if (po->oprf_key.len == 32) {
		memcpy(o->oprf_pk, po->oprf_key.data, 32);
		o->has_oprf = 1;
		o->oprf_index = po->oprf_index;
	}
	o->enrolled = po->enrolled;
	for (size_t j = 0; j < po->n_previous; j++) {
		const Seinpost__RosterKeys *k = po->previous[j];
		if (!k || k->curve_key.len != 32 || k->sign_key.len != 32 || k->box_key.len != 32)
			return SP_EMALFORMED;
		memcpy(o->prev[j].curve_pk, k->curve_key.data, 32);
		memcpy(o->prev[j].sign_pk, k->sign_key.data, 32);
		memcpy(o->prev[j].box_pk, k->box_key.data, 32);
		o->prev[j].retired = k->retired;
		o->prev[j].until = k->until;
	}
	o->nprev = po->n_previous;
	return SP_OK;
}

/* The form of the rotation chain; the proofs are sp_roster_oprf_chain's. */
static int decode_rotations(sp_roster *r, const Seinpost__Roster *ro)
{
	if (ro->n_oprf_rotations > SP_ROSTER_ROTATIONS_MAX || (ro->n_oprf_rotations && !r->oprf_t))
		return SP_EMALFORMED;
	for (size_t i = 0; i < ro->n_oprf_rotations; i++) {
		const Seinpost__OprfRotation *p = ro->oprf_rotations[i];
		sp_oprf_rotation *x = &r->rot[i];
		if (!p || p->old_group_key.len != 32 || p->new_group_key.len != 32 || p->d.len != 32 ||
		    p->proof.len != 64 || p->epoch != (i ? r->rot[i - 1].epoch + 1 : p->epoch) || p->epoch == 0 ||
		    (i && memcmp(p->old_group_key.data, r->rot[i - 1].new_key, 32) != 0) ||
		    !sp_oprf_element_ok(p->old_group_key.data) || !sp_oprf_element_ok(p->d.data))
			return SP_EMALFORMED;
		x->epoch = p->epoch;
		memcpy(x->old_key, p->old_group_key.data, 32);
		memcpy(x->new_key, p->new_group_key.data, 32);
		memcpy(x->d, p->d.data, 32);
		memcpy(x->proof, p->proof.data, 64);
		x->time = p->time;
	}
	r->nrot = ro->n_oprf_rotations;
	if (r->nrot && memcmp(r->rot[r->nrot - 1].new_key, r->oprf_commit[0], 32) != 0)
		return SP_EMALFORMED;
	return SP_OK;
}

int sp_roster_load_bytes(const uint8_t *buf, size_t len, const uint8_t operator_pk[32], sp_roster **out)
{
	int rc;
	uint8_t *msg = NULL;
	size_t mlen;
	Seinpost__SignedRoster *sr = NULL;
	Seinpost__Roster *ro = NULL;
	sp_roster *r = NULL;

	if (!out)
		return SP_EINVAL;
	*out = NULL;
	if (!buf || !operator_pk)
		return SP_EINVAL;
	if (len > ROSTER_MAX_FILE)
		return SP_ESIZE;
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
	    ro->n_orgs > ROSTER_MAX_ORGS || ro->n_removed > ROSTER_MAX_REMOVED ||
	    ro->n_broker_transitions > ROSTER_MAX_TRANSITIONS)
		goto out;
	/* The transitions lead, oldest first, to the current broker key. */
	{
		const uint8_t *first = ro->broker_sign_key.data;
		if (ro->n_broker_transitions) {
			const Seinpost__BrokerKeyTransition *t0 = ro->broker_transitions[0];
			if (!t0 || t0->old_sign_key.len != 32)
				goto out;
			first = t0->old_sign_key.data;
		}
		if (sp_roster_new(ro->network, ro->broker_curve_key.data, first, &r) != SP_OK)
			goto out;
	}
	if (ro->n_oprf_commitments > SP_TOPRF_MAX_N)
		goto out;
	if (ro->n_oprf_commitments) {
		uint8_t c[SP_TOPRF_MAX_N * 32];
		for (size_t j = 0; j < ro->n_oprf_commitments; j++) {
			if (ro->oprf_commitments[j].len != 32)
				goto out;
			memcpy(c + 32 * j, ro->oprf_commitments[j].data, 32);
		}
		if (sp_roster_set_oprf_commitments(r, c, (uint32_t)ro->n_oprf_commitments) != SP_OK)
			goto out;
	}
	if (decode_rotations(r, ro) != SP_OK)
		goto out;
	for (size_t i = 0; i < ro->n_broker_transitions; i++) {
		const Seinpost__BrokerKeyTransition *t = ro->broker_transitions[i];
		if (!t || t->old_sign_key.len != 32 || t->new_sign_key.len != 32 || t->old_signature.len != 64 ||
		    t->new_signature.len != 64 || memcmp(t->old_sign_key.data, r->broker_sign, 32) != 0)
			goto out;
		if (transition_add(r, t->old_sign_key.data, t->new_sign_key.data, t->time, t->old_signature.data,
		                   t->new_signature.data) != SP_OK)
			goto out;
		memcpy(r->broker_sign, t->new_sign_key.data, 32);
	}
	if (memcmp(r->broker_sign, ro->broker_sign_key.data, 32) != 0)
		goto out;
	r->serial = ro->serial;
	r->issued = ro->issued;
	for (size_t i = 0; i < ro->n_orgs; i++) {
		sp_org o;
		if (decode_org(ro->orgs[i], &o) != SP_OK || sp_roster_add(r, &o) != SP_OK)
			goto out;
	}
	if (ro->n_removed) {
		r->removed = calloc(ro->n_removed, sizeof *r->removed);
		if (!r->removed) {
			rc = SP_ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < ro->n_removed; i++) {
		const Seinpost__RosterRemoval *pr = ro->removed[i];
		sp_removal *x = &r->removed[r->nremoved];
		if (!pr || copy_str(x->id, sizeof x->id, pr->id) != SP_OK || !sp_ident_ok(x->id) ||
		    copy_str(x->reason, sizeof x->reason, pr->reason) != SP_OK ||
		    !sp_text_ok(x->reason, SP_REASON_MAX - 1, 0) || sp_roster_find(r, x->id))
			goto out;
		x->time = pr->time;
		r->nremoved++;
	}
	r->signed_bytes = malloc(len ? len : 1);
	if (!r->signed_bytes) {
		rc = SP_ENOMEM;
		goto out;
	}
	memcpy(r->signed_bytes, buf, len);
	r->signed_len = len;
	*out = r;
	r = NULL;
	rc = SP_OK;
out:
	if (ro)
		seinpost__roster__free_unpacked(ro, NULL);
	if (sr)
		seinpost__signed_roster__free_unpacked(sr, NULL);
	sp_roster_free(&r);
	free(msg);
	return rc;
}

int sp_roster_load(const char *path, const uint8_t operator_pk[32], sp_roster **out)
{
	uint8_t *buf = NULL;
	size_t len;
	int rc;
	if (!out)
		return SP_EINVAL;
	*out = NULL;
	if (!path || !operator_pk)
		return SP_EINVAL;
	if ((rc = sp_file_read(path, ROSTER_MAX_FILE, &buf, &len)) != SP_OK)
		return rc;
	rc = sp_roster_load_bytes(buf, len, operator_pk, out);
	free(buf);
	return rc;
}

const uint8_t *sp_roster_signed_bytes(const sp_roster *r, size_t *len)
{
	if (!r || !r->signed_bytes)
		return NULL;
	*len = r->signed_len;
	return r->signed_bytes;
}

int sp_roster_set_oprf_commitments(sp_roster *r, const uint8_t *commits, uint32_t t)
{
	if (!r || !commits || t == 0 || t > SP_TOPRF_MAX_N || r->oprf_t)
		return SP_EINVAL;
	for (size_t i = 0; i < r->n; i++)
		if (r->orgs[i].has_oprf)
			return SP_EINVAL; /* commitments first, then the instances */
	for (uint32_t j = 0; j < t; j++)
		if (!sp_oprf_element_ok(commits + 32 * j))
			return SP_EINVAL;
	memcpy(r->oprf_commit, commits, 32 * (size_t)t);
	r->oprf_t = t;
	return SP_OK;
}

const uint8_t *sp_roster_oprf_commitments(const sp_roster *r, uint32_t *t)
{
	*t = r ? r->oprf_t : 0;
	return r && r->oprf_t ? &r->oprf_commit[0][0] : NULL;
}

uint32_t sp_roster_oprf_epoch(const sp_roster *r)
{
	return r && r->nrot ? r->rot[r->nrot - 1].epoch : 0;
}

size_t sp_roster_oprf_rotation_count(const sp_roster *r)
{
	return r ? r->nrot : 0;
}

const sp_oprf_rotation *sp_roster_oprf_rotation_at(const sp_roster *r, size_t i)
{
	return r && i < r->nrot ? &r->rot[i] : NULL;
}

const sp_oprf_rotation *sp_roster_oprf_rotation_of(const sp_roster *r, uint32_t e)
{
	for (size_t i = 0; r && i < r->nrot; i++)
		if (r->rot[i].epoch == e)
			return &r->rot[i];
	return NULL;
}

int sp_roster_oprf_chain(const sp_roster *r, const uint8_t pin[32], uint32_t *pin_epoch)
{
	size_t i;
	if (!r || !pin || !r->oprf_t)
		return SP_EINVAL;
	if (sodium_memcmp(r->oprf_commit[0], pin, 32) == 0) {
		if (pin_epoch)
			*pin_epoch = sp_roster_oprf_epoch(r);
		return SP_OK;
	}
	for (i = 0; i < r->nrot; i++)
		if (sodium_memcmp(r->rot[i].old_key, pin, 32) == 0)
			break;
	if (i == r->nrot)
		return SP_EKEY;
	if (pin_epoch)
		*pin_epoch = r->rot[i].epoch - 1;
	/* every step from the pinned key on: new = δ·old with d = δ·G */
	for (; i < r->nrot; i++)
		if (sp_toprf_dleq_verify(r->rot[i].d, r->rot[i].old_key, r->rot[i].new_key, 1, r->rot[i].proof) != SP_OK)
			return SP_EKEY;
	return SP_OK;
}

int sp_roster_oprf_rotate(sp_roster *r, const uint8_t *commits, uint32_t t, const uint8_t *pks, uint32_t n,
                          const sp_oprf_rotation *rot)
{
	uint8_t share[32];
	uint32_t seen = 0;
	if (!r || !commits || !pks || !rot || t != r->oprf_t || r->nrot >= SP_ROSTER_ROTATIONS_MAX ||
	    rot->epoch != sp_roster_oprf_epoch(r) + 1 || memcmp(rot->old_key, r->oprf_commit[0], 32) != 0 ||
	    memcmp(rot->new_key, commits, 32) != 0)
		return SP_EINVAL;
	if (sp_toprf_dleq_verify(rot->d, rot->old_key, rot->new_key, 1, rot->proof) != SP_OK)
		return SP_ECRYPTO;
	for (uint32_t j = 0; j < t; j++)
		if (!sp_oprf_element_ok(commits + 32 * j))
			return SP_EINVAL;
	for (size_t i = 0; i < r->n; i++) {
		const sp_org *o = &r->orgs[i];
		if (!o->oprf_index)
			continue;
		if (o->oprf_index > n || sp_toprf_public_share(commits, t, o->oprf_index, share) != SP_OK ||
		    sodium_memcmp(share, pks + 32 * (o->oprf_index - 1), 32) != 0)
			return SP_ECRYPTO;
		seen++;
	}
	if (seen != n)
		return SP_EINVAL;
	for (size_t i = 0; i < r->n; i++)
		if (r->orgs[i].oprf_index)
			memcpy(r->orgs[i].oprf_pk, pks + 32 * (r->orgs[i].oprf_index - 1), 32);
	memcpy(r->oprf_commit, commits, 32 * (size_t)t);
	r->rot[r->nrot++] = *rot;
	return SP_OK;
}

void sp_roster_free(sp_roster **r)
{
	if (!r || !*r)
		return;
	free((*r)->orgs);
	free((*r)->removed);
	free((*r)->signed_bytes);
	free(*r);
	*r = NULL;
}

const char *sp_roster_network(const sp_roster *r)
{
	return r ? r->network : NULL;
}

uint64_t sp_roster_serial(const sp_roster *r)
{
	return r ? r->serial : 0;
}

uint64_t sp_roster_issued(const sp_roster *r)
{
	return r ? r->issued : 0;
}

const uint8_t *sp_roster_broker_curve(const sp_roster *r)
{
	return r ? r->broker_curve : NULL;
}

const uint8_t *sp_roster_broker_sign(const sp_roster *r)
{
	return r ? r->broker_sign : NULL;
}

size_t sp_roster_broker_keys(const sp_roster *r, const uint8_t *out[], size_t max)
{
	size_t n = 0;
	if (!r || !max)
		return 0;
	out[n++] = r->broker_sign;
	for (size_t i = r->ntrans; i > 0 && n < max; i--)
		out[n++] = r->trans[i - 1].old_pk;
	return n;
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

const sp_org *sp_roster_find_curve_at(const sp_roster *r, const uint8_t curve_pk[32], uint64_t now_s)
{
	const sp_org *o = sp_roster_find_curve(r, curve_pk);
	if (o || !r || !curve_pk)
		return o;
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = 0; j < r->orgs[i].nprev; j++)
			if (r->orgs[i].prev[j].until > now_s && memcmp(r->orgs[i].prev[j].curve_pk, curve_pk, 32) == 0)
				return &r->orgs[i];
	return NULL;
}

size_t sp_roster_removed_count(const sp_roster *r)
{
	return r ? r->nremoved : 0;
}

const sp_removal *sp_roster_removed_at(const sp_roster *r, size_t i)
{
	return r && i < r->nremoved ? &r->removed[i] : NULL;
}

const sp_removal *sp_roster_removed(const sp_roster *r, const char *id)
{
	if (!r || !id)
		return NULL;
	for (size_t i = 0; i < r->nremoved; i++)
		if (strcmp(r->removed[i].id, id) == 0)
			return &r->removed[i];
	return NULL;
}

size_t sp_org_sign_keys(const sp_org *o, uint64_t now_s, const uint8_t *out[], size_t max)
{
	size_t n = 0;
	if (!o || !max)
		return 0;
	out[n++] = o->sign_pk;
	for (size_t j = 0; j < o->nprev && n < max; j++)
		if (!now_s || o->prev[j].until > now_s)
			out[n++] = o->prev[j].sign_pk;
	return n;
}
