/* test_roster.c — signed roster: round trip, signature, validation on load. */
#include "sp_test.h"

#include <sodium.h>

#include "seinpost.pb-c.h"
#include "sp_enrol.h"
#include "sp_keys.h"
#include "sp_oprf.h"
#include "sp_toprf.h"
#include "sp_roster.h"
#include "sp_util.h"

static char tmp[256], path[512];
static uint8_t op_pk[32], op_sk[64], bc[32], bs[32];

static void setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_ptr_nonnull(sp_test_tmpdir(tmp, sizeof tmp));
	snprintf(path, sizeof path, "%s/roster.pb", tmp);
	crypto_sign_keypair(op_pk, op_sk);
	randombytes_buf(bc, 32);
	randombytes_buf(bs, 32);
}

static void teardown(void)
{
	sp_test_rmdir(tmp);
}

static sp_org mkorg(const char *id, const char *role)
{
	sp_org o;
	memset(&o, 0, sizeof o);
	snprintf(o.id, sizeof o.id, "%s", id);
	snprintf(o.role, sizeof o.role, "%s", role);
	randombytes_buf(o.curve_pk, 32);
	randombytes_buf(o.sign_pk, 32);
	randombytes_buf(o.box_pk, 32);
	return o;
}

static sp_roster *three(sp_org *o)
{
	sp_roster *r = NULL;
	ck_assert_int_eq(sp_roster_new("maastricht", bc, bs, &r), SP_OK);
	o[0] = mkorg("politie-limburg", "police");
	o[1] = mkorg("school-bonnefanten", "school");
	o[2] = mkorg("zvh-mh", "zvh");
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(sp_roster_add(r, &o[i]), SP_OK);
	return r;
}

START_TEST(round_trip)
{
	sp_org o[3];
	sp_roster *r = three(o), *l = NULL;
	ck_assert_int_eq(sp_roster_save(r, path, op_sk), SP_OK);
	ck_assert_int_eq(sp_roster_load(path, op_pk, &l), SP_OK);
	ck_assert_str_eq(sp_roster_network(l), "maastricht");
	ck_assert_mem_eq(sp_roster_broker_curve(l), bc, 32);
	ck_assert_mem_eq(sp_roster_broker_sign(l), bs, 32);
	ck_assert_uint_eq(sp_roster_count(l), 3);
	for (int i = 0; i < 3; i++) {
		const sp_org *f = sp_roster_find(l, o[i].id);
		ck_assert_ptr_nonnull(f);
		ck_assert_str_eq(f->role, o[i].role);
		ck_assert_mem_eq(f->curve_pk, o[i].curve_pk, 32);
		ck_assert_mem_eq(f->sign_pk, o[i].sign_pk, 32);
		ck_assert_mem_eq(f->box_pk, o[i].box_pk, 32);
		ck_assert_ptr_eq(sp_roster_find_curve(l, o[i].curve_pk), f);
	}
	ck_assert_str_eq(sp_roster_at(l, 1)->id, "school-bonnefanten");
	ck_assert_ptr_null(sp_roster_at(l, 3));
	ck_assert_ptr_null(sp_roster_find(l, "nobody"));
	ck_assert_ptr_null(sp_roster_find_curve(l, bc));
	sp_roster_free(&r);
	sp_roster_free(&l);
	ck_assert_ptr_null(l);
	sp_roster_free(&l);
}
END_TEST

START_TEST(bad_signature_and_operator)
{
	sp_org o[3];
	sp_roster *r = three(o), *l = NULL;
	uint8_t *buf = NULL, pk2[32], sk2[64];
	size_t len;

	ck_assert_int_eq(sp_roster_save(r, path, op_sk), SP_OK);
	/* Wrong operator key. */
	crypto_sign_keypair(pk2, sk2);
	ck_assert_int_eq(sp_roster_load(path, pk2, &l), SP_ESIG);
	ck_assert_ptr_null(l);
	/* Every single flipped byte is caught (signature or malformed). */
	ck_assert_int_eq(sp_file_read(path, 1 << 20, &buf, &len), SP_OK);
	for (size_t i = 0; i < len; i++) {
		int rc;
		buf[i] ^= 0x01;
		ck_assert_int_eq(sp_file_write(path, buf, len, 0644), SP_OK);
		rc = sp_roster_load(path, op_pk, &l);
		ck_assert_msg(rc == SP_ESIG || rc == SP_EMALFORMED, "byte %zu: %d", i, rc);
		ck_assert_ptr_null(l);
		buf[i] ^= 0x01;
	}
	/* Restored bytes load again. */
	ck_assert_int_eq(sp_file_write(path, buf, len, 0644), SP_OK);
	ck_assert_int_eq(sp_roster_load(path, op_pk, &l), SP_OK);
	sp_roster_free(&l);
	/* Truncated file. */
	ck_assert_int_eq(sp_file_write(path, buf, len / 2, 0644), SP_OK);
	ck_assert_int_ne(sp_roster_load(path, op_pk, &l), SP_OK);
	free(buf);
	sp_roster_free(&r);
}
END_TEST

START_TEST(add_validation)
{
	sp_org o[3], x;
	sp_roster *r = three(o), *r2 = NULL;

	x = mkorg("politie-limburg", "police");          /* duplicate id */
	ck_assert_int_eq(sp_roster_add(r, &x), SP_EEXIST);
	x = mkorg("other", "school");
	memcpy(x.sign_pk, o[0].curve_pk, 32);            /* a key already used */
	ck_assert_int_eq(sp_roster_add(r, &x), SP_EEXIST);
	x = mkorg("other", "school");
	memcpy(x.curve_pk, bc, 32);                      /* the broker's key */
	ck_assert_int_eq(sp_roster_add(r, &x), SP_EEXIST);
	x = mkorg("other", "teacher");                   /* unknown role */
	ck_assert_int_eq(sp_roster_add(r, &x), SP_EINVAL);
	x = mkorg("Other_Org", "school");                /* bad id */
	ck_assert_int_eq(sp_roster_add(r, &x), SP_EINVAL);
	x = mkorg("other", "school");
	memset(x.box_pk, 0, 32);                         /* unset key */
	ck_assert_int_eq(sp_roster_add(r, &x), SP_EINVAL);
	x = mkorg("other", "privacy-officer");
	ck_assert_int_eq(sp_roster_add(r, &x), SP_OK);
	ck_assert_uint_eq(sp_roster_count(r), 4);

	ck_assert_int_eq(sp_roster_new("Bad Net", bc, bs, &r2), SP_EINVAL);
	ck_assert_ptr_null(r2);
	ck_assert_int_eq(sp_role_known("youthcare"), 1);
	ck_assert_int_eq(sp_role_known("probation"), 1);
	ck_assert_int_eq(sp_role_known("Police"), 0);
	ck_assert_int_eq(sp_role_known(NULL), 0);
	sp_roster_free(&r);
}
END_TEST

/* A correctly signed roster whose entries are invalid: validation on load
 * must not trust the signer to have used sp_roster_add. */
static int write_signed(Seinpost__RosterOrg **orgs, size_t n)
{
	Seinpost__Roster ro = SEINPOST__ROSTER__INIT;
	Seinpost__SignedRoster sr = SEINPOST__SIGNED_ROSTER__INIT;
	uint8_t rb[4096], msg[4200], sig[64], out[4300];
	size_t rl, dl = strlen(SP_ROSTER_DOMAIN), ol;

	ro.network = "maastricht";
	ro.broker_curve_key.data = bc;
	ro.broker_curve_key.len = 32;
	ro.broker_sign_key.data = bs;
	ro.broker_sign_key.len = 32;
	ro.orgs = orgs;
	ro.n_orgs = n;
	rl = seinpost__roster__pack(&ro, rb);
	memcpy(msg, SP_ROSTER_DOMAIN, dl);
	memcpy(msg + dl, rb, rl);
	crypto_sign_detached(sig, NULL, msg, dl + rl, op_sk);
	sr.roster.data = rb;
	sr.roster.len = rl;
	sr.signature.data = sig;
	sr.signature.len = 64;
	ol = seinpost__signed_roster__pack(&sr, out);
	return sp_file_write(path, out, ol, 0644);
}

static void pb_org(Seinpost__RosterOrg *p, sp_org *o)
{
	seinpost__roster_org__init(p);
	p->id = o->id;
	p->role = o->role;
	p->curve_key.data = o->curve_pk;
	p->curve_key.len = 32;
	p->sign_key.data = o->sign_pk;
	p->sign_key.len = 32;
	p->box_key.data = o->box_pk;
	p->box_key.len = 32;
}

START_TEST(signed_but_invalid)
{
	sp_org a = mkorg("school-a", "school"), b = mkorg("school-a", "school");
	Seinpost__RosterOrg pa, pb;
	Seinpost__RosterOrg *v[2] = { &pa, &pb };
	sp_roster *l = NULL;

	pb_org(&pa, &a);
	pb_org(&pb, &b);
	ck_assert_int_eq(write_signed(v, 2), SP_OK);     /* duplicate id */
	ck_assert_int_eq(sp_roster_load(path, op_pk, &l), SP_EMALFORMED);

	snprintf(b.id, sizeof b.id, "school-b");
	memcpy(b.box_pk, a.box_pk, 32);
	ck_assert_int_eq(write_signed(v, 2), SP_OK);     /* duplicate key */
	ck_assert_int_eq(sp_roster_load(path, op_pk, &l), SP_EMALFORMED);

	randombytes_buf(b.box_pk, 32);
	snprintf(b.role, sizeof b.role, "hacker");
	ck_assert_int_eq(write_signed(v, 2), SP_OK);     /* unknown role */
	ck_assert_int_eq(sp_roster_load(path, op_pk, &l), SP_EMALFORMED);

	snprintf(b.role, sizeof b.role, "school");
	pb.curve_key.len = 31;
	ck_assert_int_eq(write_signed(v, 2), SP_OK);     /* short key */
	ck_assert_int_eq(sp_roster_load(path, op_pk, &l), SP_EMALFORMED);

	pb.curve_key.len = 32;
	ck_assert_int_eq(write_signed(v, 2), SP_OK);     /* now valid */
	ck_assert_int_eq(sp_roster_load(path, op_pk, &l), SP_OK);
	ck_assert_uint_eq(sp_roster_count(l), 2);
	sp_roster_free(&l);
}
END_TEST

/* Rotation keeps the old generation, admitted until its overlap ends and
 * never reusable; removal is remembered with its reason; all of it survives
 * a save and a signed load. */
START_TEST(rotate_and_remove)
{
	sp_org o[3], n = mkorg("x", "police");
	sp_roster *r = three(o), *l = NULL;
	const uint8_t *k[8];
	uint64_t now = 1000000;

	ck_assert_int_eq(sp_roster_rotate(r, "nobody", n.curve_pk, n.sign_pk, n.box_pk, now, now + 60), SP_ENOTFOUND);
	ck_assert_int_eq(sp_roster_rotate(r, "politie-limburg", o[1].curve_pk, n.sign_pk, n.box_pk, now, now + 60),
	                 SP_EEXIST); /* a key of another organisation */
	ck_assert_int_eq(sp_roster_rotate(r, "politie-limburg", n.curve_pk, n.sign_pk, n.box_pk, now, now + 60), SP_OK);
	/* the old generation cannot come back as a "new" one */
	ck_assert_int_eq(sp_roster_rotate(r, "politie-limburg", o[0].curve_pk, o[0].sign_pk, o[0].box_pk, now, now + 60),
	                 SP_EEXIST);
	ck_assert_int_eq(sp_roster_remove(r, "zvh-mh", "contract ended", now), SP_OK);
	ck_assert_int_eq(sp_roster_remove(r, "zvh-mh", "again", now), SP_ENOTFOUND);
	ck_assert_int_eq(sp_roster_remove(r, "school-bonnefanten", "bad\001text", now), SP_EINVAL);
	sp_roster_touch(r);
	ck_assert_int_eq(sp_roster_save(r, path, op_sk), SP_OK);
	ck_assert_int_eq(sp_roster_load(path, op_pk, &l), SP_OK);
	ck_assert_uint_eq(sp_roster_serial(l), 1);
	ck_assert_uint_eq(sp_roster_count(l), 2);
	ck_assert_ptr_null(sp_roster_find(l, "zvh-mh"));
	ck_assert_ptr_nonnull(sp_roster_removed(l, "zvh-mh"));
	ck_assert_str_eq(sp_roster_removed(l, "zvh-mh")->reason, "contract ended");
	const sp_org *p = sp_roster_find(l, "politie-limburg");
	ck_assert_mem_eq(p->sign_pk, n.sign_pk, 32);
	ck_assert_uint_eq(p->nprev, 1);
	ck_assert_mem_eq(p->prev[0].sign_pk, o[0].sign_pk, 32);
	/* old CURVE key admitted during the overlap only */
	ck_assert_ptr_eq(sp_roster_find_curve_at(l, o[0].curve_pk, now + 59), p);
	ck_assert_ptr_null(sp_roster_find_curve_at(l, o[0].curve_pk, now + 60));
	ck_assert_ptr_null(sp_roster_find_curve(l, o[0].curve_pk));
	/* sign keys: new frames within the overlap, stored signatures always */
	ck_assert_uint_eq(sp_org_sign_keys(p, now + 1, k, 8), 2);
	ck_assert_uint_eq(sp_org_sign_keys(p, now + 61, k, 8), 1);
	ck_assert_uint_eq(sp_org_sign_keys(p, 0, k, 8), 2);
	ck_assert_mem_eq(k[1], o[0].sign_pk, 32);
	/* enrolling the removed id again clears the removal */
	n = mkorg("zvh-mh", "zvh");
	ck_assert_int_eq(sp_roster_add(l, &n), SP_OK);
	ck_assert_ptr_null(sp_roster_removed(l, "zvh-mh"));
	sp_roster_free(&r);
	sp_roster_free(&l);
}
END_TEST

/* The broker's sign key moves only with a record signed by both keys, and
 * the old key stays in the list a tree head may be checked against. */
START_TEST(broker_transition)
{
	sp_roster *r = NULL, *l = NULL;
	uint8_t opk[32], osk[64], npk[32], nsk[64], m[SP_BROKER_TRANSITION_MSG], s1[64], s2[64];
	const uint8_t *k[SP_BROKER_KEYS_MAX];
	crypto_sign_keypair(opk, osk);
	crypto_sign_keypair(npk, nsk);
	ck_assert_int_eq(sp_roster_new("maastricht", bc, opk, &r), SP_OK);
	sp_roster_broker_transition_msg(opk, npk, 1234, m);
	crypto_sign_detached(s1, NULL, m, sizeof m, osk);
	crypto_sign_detached(s2, NULL, m, sizeof m, nsk);
	ck_assert_int_eq(sp_roster_broker_rotate(r, npk, 1234, s1, s1), SP_ESIG); /* new key did not sign */
	ck_assert_int_eq(sp_roster_broker_rotate(r, npk, 1235, s1, s2), SP_ESIG); /* other time */
	ck_assert_int_eq(sp_roster_broker_rotate(r, npk, 1234, s1, s2), SP_OK);
	ck_assert_mem_eq(sp_roster_broker_sign(r), npk, 32);
	ck_assert_int_eq(sp_roster_save(r, path, op_sk), SP_OK);
	ck_assert_int_eq(sp_roster_load(path, op_pk, &l), SP_OK);
	ck_assert_mem_eq(sp_roster_broker_sign(l), npk, 32);
	ck_assert_uint_eq(sp_roster_broker_keys(l, k, SP_BROKER_KEYS_MAX), 2);
	ck_assert_mem_eq(k[1], opk, 32);
	sp_roster_free(&r);
	sp_roster_free(&l);
}
END_TEST

/* enrol.json: round trip, the signatures bind every field, a rotation needs
 * the old key's signature. */
START_TEST(enrol_json)
{
	sp_keyset *k = NULL, *k2 = NULL;
	sp_enrol e, p;
	char why[256], f[600];
	uint8_t *buf = NULL;
	size_t len;
	ck_assert_int_eq(sp_keys_generate(1, &k), SP_OK);
	ck_assert_int_eq(sp_keys_generate(1, &k2), SP_OK);
	ck_assert_int_eq(sp_enrol_make(k, "school-a", "teacher", NULL, 0, &e), SP_EINVAL);
	ck_assert_int_eq(sp_enrol_make(k, "school-a", "school", NULL, 0, &e), SP_OK);
	snprintf(f, sizeof f, "%s/enrol.json", tmp);
	ck_assert_int_eq(sp_enrol_write(&e, f), SP_OK);
	ck_assert_int_eq(sp_enrol_read(f, &p, why, sizeof why), SP_OK);
	ck_assert_str_eq(p.org, "school-a");
	ck_assert_mem_eq(p.box_pk, k->box_pk, 32);
	ck_assert_int_eq(p.rotation, 0);
	/* change one character of the id: the signature no longer verifies */
	ck_assert_int_eq(sp_file_read(f, 8192, &buf, &len), SP_OK);
	char *at = strstr((char *)buf, "school-a");
	ck_assert_ptr_nonnull(at);
	at[7] = 'b';
	ck_assert_int_eq(sp_enrol_parse((char *)buf, len, &p, why, sizeof why), SP_ESIG);
	free(buf);
	ck_assert_int_eq(sp_enrol_parse("{\"format\":\"seinpost-enrol/1\",\"x\":1}", 34, &p, why, sizeof why), SP_EMALFORMED);
	ck_assert_int_eq(sp_enrol_parse("[]", 2, &p, why, sizeof why), SP_EMALFORMED);
	ck_assert_int_eq(sp_enrol_parse("{", 1, &p, why, sizeof why), SP_EMALFORMED);
	/* rotation: signed by new and old */
	ck_assert_int_eq(sp_enrol_make(k2, "school-a", "school", k, 3600, &e), SP_OK);
	ck_assert_int_eq(sp_enrol_write(&e, f), SP_OK);
	ck_assert_int_eq(sp_enrol_read(f, &p, why, sizeof why), SP_OK);
	ck_assert_int_eq(p.rotation, 1);
	ck_assert_uint_eq(p.overlap_s, 3600);
	ck_assert_mem_eq(p.prev_sign_pk, k->sign_pk, 32);
	/* a longer overlap than the old key signed is refused */
	ck_assert_int_eq(sp_file_read(f, 8192, &buf, &len), SP_OK);
	at = strstr((char *)buf, "3600");
	ck_assert_ptr_nonnull(at);
	at[0] = '9';
	ck_assert_int_eq(sp_enrol_parse((char *)buf, len, &p, why, sizeof why), SP_ESIG);
	free(buf);
	sp_keys_free(&k);
	sp_keys_free(&k2);
}
END_TEST

/* The two features together: a pseudonymiser's enrol.json (OPRF key, no
 * box key, index signed), and a roster carrying Feldman commitments, t-of-n
 * instances, rotated keys of a node and a removal survives save and load. */
START_TEST(pseudonymiser_enrol_and_roster)
{
	sp_keyset *k = NULL, *nk = NULL;
	sp_enrol e, p;
	char why[256], f[600];
	uint8_t *buf = NULL, shares[3 * 32], commits[2 * 32];
	size_t len;
	uint32_t t;
	sp_roster *r = NULL, *l = NULL;
	sp_org o[3];

	ck_assert_int_eq(sp_keys_generate(0, &k), SP_OK);
	ck_assert_int_eq(sp_keys_generate(1, &nk), SP_OK);
	ck_assert_int_eq(sp_toprf_dkg_local(2, 3, shares, commits), SP_OK);
	uint8_t pk[32];
	ck_assert_int_eq(crypto_scalarmult_ristretto255_base(pk, shares + 32), 0);
	/* a node's keys (with a box key) cannot make a pseudonymiser's file, nor the reverse */
	ck_assert_int_eq(sp_enrol_make_pseudonymiser(nk, "pseudo-mh-2", pk, 2, &e), SP_EINVAL);
	ck_assert_int_eq(sp_enrol_make(nk, "pseudo-mh-2", "pseudonymiser", NULL, 0, &e), SP_EINVAL);
	ck_assert_int_eq(sp_enrol_make_pseudonymiser(k, "pseudo-mh-2", pk, 2, &e), SP_OK);
	snprintf(f, sizeof f, "%s/enrol.json", tmp);
	ck_assert_int_eq(sp_enrol_write(&e, f), SP_OK);
	ck_assert_int_eq(sp_enrol_read(f, &p, why, sizeof why), SP_OK);
	ck_assert_int_eq(p.has_oprf, 1);
	ck_assert_uint_eq(p.oprf_index, 2);
	ck_assert_mem_eq(p.oprf_pk, pk, 32);
	ck_assert(sodium_is_zero(p.box_pk, 32));
	ck_assert_int_eq(sp_file_read(f, 8192, &buf, &len), SP_OK);
	ck_assert_ptr_nonnull(strstr((char *)buf, "\"oprf_key\""));
	ck_assert_ptr_null(strstr((char *)buf, "\"box_key\""));
	/* the index is signed */
	char *at = strstr((char *)buf, "\"oprf_index\": 2");
	ck_assert_ptr_nonnull(at);
	at[strlen("\"oprf_index\": ")] = '3';
	ck_assert_int_eq(sp_enrol_parse((char *)buf, len, &p, why, sizeof why), SP_ESIG);
	free(buf);
	/* a school's file with an oprf_key is refused */
	ck_assert_int_eq(sp_enrol_make(nk, "school-a", "school", NULL, 0, &e), SP_OK);
	ck_assert_int_eq(sp_enrol_write(&e, f), SP_OK);
	ck_assert_int_eq(sp_file_read(f, 8192, &buf, &len), SP_OK);
	{
		char *t2 = malloc(len + 32);
		ck_assert_ptr_nonnull(t2);
		ck_assert_int_eq(buf[0], '{');
		int n2 = snprintf(t2, len + 32, "{\"oprf_index\": 1, %.*s", (int)(len - 1), (char *)buf + 1);
		ck_assert_int_eq(sp_enrol_parse(t2, (size_t)n2, &p, why, sizeof why), SP_EMALFORMED);
		free(t2);
	}
	free(buf);

	/* roster: commitments first, then instances; a node rotated; one removed */
	ck_assert_int_eq(sp_roster_new("maastricht", bc, bs, &r), SP_OK);
	ck_assert_int_eq(sp_roster_set_oprf_commitments(r, commits, 2), SP_OK);
	o[0] = mkorg("politie-limburg", "police");
	o[1] = mkorg("school-bonnefanten", "school");
	ck_assert_int_eq(sp_roster_add(r, &o[0]), SP_OK);
	ck_assert_int_eq(sp_roster_add(r, &o[1]), SP_OK);
	for (uint32_t i = 0; i < 3; i++) {
		char id[32];
		snprintf(id, sizeof id, "pseudo-mh-%u", i + 1);
		o[2] = mkorg(id, "pseudonymiser");
		memset(o[2].box_pk, 0, 32);
		o[2].has_oprf = 1;
		o[2].oprf_index = i + 1;
		ck_assert_int_eq(crypto_scalarmult_ristretto255_base(o[2].oprf_pk, shares + 32 * i), 0);
		/* the wrong index for this share is refused */
		o[2].oprf_index = (i + 1) % 3 + 1;
		ck_assert_int_eq(sp_roster_add(r, &o[2]), SP_EINVAL);
		o[2].oprf_index = i + 1;
		ck_assert_int_eq(sp_roster_add(r, &o[2]), SP_OK);
	}
	/* a pseudonymiser does not rotate by enrolment (no box key) */
	uint8_t c[32], sg[32], bx[32];
	randombytes_buf(c, 32);
	randombytes_buf(sg, 32);
	randombytes_buf(bx, 32);
	ck_assert_int_ne(sp_roster_rotate(r, "pseudo-mh-1", c, sg, bx, 100, 200), SP_OK);
	ck_assert_int_eq(sp_roster_rotate(r, "politie-limburg", c, sg, bx, 100, 200), SP_OK);
	ck_assert_int_eq(sp_roster_remove(r, "school-bonnefanten", "left the network", 300), SP_OK);
	ck_assert_int_eq(sp_roster_save(r, path, op_sk), SP_OK);
	ck_assert_int_eq(sp_roster_load(path, op_pk, &l), SP_OK);
	ck_assert_mem_eq(sp_roster_oprf_commitments(l, &t), commits, 64);
	ck_assert_uint_eq(t, 2);
	ck_assert_uint_eq(sp_roster_count(l), 4);
	const sp_org *po = sp_roster_find(l, "politie-limburg");
	ck_assert_uint_eq(po->nprev, 1);
	ck_assert_mem_eq(po->curve_pk, c, 32);
	const sp_org *ps = sp_roster_find(l, "pseudo-mh-3");
	ck_assert_ptr_nonnull(ps);
	ck_assert_int_eq(ps->has_oprf, 1);
	ck_assert_uint_eq(ps->oprf_index, 3);
	ck_assert_ptr_null(sp_roster_find(l, "school-bonnefanten"));
	sp_roster_free(&l);
	sp_roster_free(&r);
	sp_keys_free(&k);
	sp_keys_free(&nk);
}
END_TEST

/* The rotation chain: a proven rotation is taken from the pinned key (also
 * from a pin two rotations back); a swapped key without a valid proof is
 * not; the chain survives save/load and a broken link is refused. */
START_TEST(oprf_rotation_chain)
{
	uint8_t shares[3 * 32], commits[2 * 32], pin[32], mid[32], pks[3 * 32], delta[32];
	sp_oprf_rotation rot;
	sp_roster *r = NULL, *l = NULL;
	sp_org o;
	uint32_t e = 99;

	ck_assert_int_eq(sp_toprf_dkg_local(2, 3, shares, commits), SP_OK);
	memcpy(pin, commits, 32);
	ck_assert_int_eq(sp_roster_new("maastricht", bc, bs, &r), SP_OK);
	ck_assert_int_eq(sp_roster_set_oprf_commitments(r, commits, 2), SP_OK);
	for (uint32_t i = 0; i < 3; i++) {
		char id[32];
		snprintf(id, sizeof id, "pseudo-mh-%u", i + 1);
		o = mkorg(id, "pseudonymiser");
		memset(o.box_pk, 0, 32);
		o.has_oprf = 1;
		o.oprf_index = i + 1;
		ck_assert_int_eq(crypto_scalarmult_ristretto255_base(o.oprf_pk, shares + 32 * i), 0);
		ck_assert_int_eq(sp_roster_add(r, &o), SP_OK);
	}
	ck_assert_int_eq(sp_roster_oprf_chain(r, pin, &e), SP_OK);
	ck_assert_uint_eq(e, 0);
	for (int round = 1; round <= 2; round++) {
		memset(&rot, 0, sizeof rot);
		memcpy(rot.old_key, commits, 32);
		ck_assert_int_eq(sp_toprf_rotate_local(2, 3, shares, commits, delta), SP_OK);
		for (int i = 0; i < 3; i++)
			ck_assert_int_eq(crypto_scalarmult_ristretto255_base(pks + 32 * i, shares + 32 * i), 0);
		memcpy(rot.new_key, commits, 32);
		rot.epoch = (uint32_t)round;
		ck_assert_int_eq(sp_toprf_dleq_prove(delta, rot.old_key, rot.new_key, 1, rot.d, rot.proof), SP_OK);
		/* a wrong epoch, a tampered proof: refused, nothing changed */
		rot.epoch = 7;
		ck_assert_int_eq(sp_roster_oprf_rotate(r, commits, 2, pks, 3, &rot), SP_EINVAL);
		rot.epoch = (uint32_t)round;
		rot.proof[3] ^= 1;
		ck_assert_int_eq(sp_roster_oprf_rotate(r, commits, 2, pks, 3, &rot), SP_ECRYPTO);
		rot.proof[3] ^= 1;
		ck_assert_int_eq(sp_roster_oprf_rotate(r, commits, 2, pks, 3, &rot), SP_OK);
		if (round == 1)
			memcpy(mid, commits, 32);
	}
	ck_assert_uint_eq(sp_roster_oprf_epoch(r), 2);
	ck_assert_int_eq(sp_roster_save(r, path, op_sk), SP_OK);
	ck_assert_int_eq(sp_roster_load(path, op_pk, &l), SP_OK);
	ck_assert_uint_eq(sp_roster_oprf_epoch(l), 2);
	ck_assert_int_eq(sp_roster_oprf_chain(l, pin, &e), SP_OK); /* two rotations from the pin */
	ck_assert_uint_eq(e, 0);
	ck_assert_int_eq(sp_roster_oprf_chain(l, mid, &e), SP_OK);
	ck_assert_uint_eq(e, 1);
	ck_assert_int_eq(sp_roster_oprf_chain(l, commits, &e), SP_OK);
	ck_assert_uint_eq(e, 2);
	ck_assert_mem_eq(sp_roster_find(l, "pseudo-mh-2")->oprf_pk, pks + 32, 32);
	/* a key that is on no chain */
	uint8_t stranger[32];
	crypto_core_ristretto255_random(stranger);
	ck_assert_int_eq(sp_roster_oprf_chain(l, stranger, NULL), SP_EKEY);
	sp_roster_free(&l);

	/* a signer that swaps the proof of the last rotation: the pin's chain fails */
	{
		uint8_t *buf = NULL, *rb, *msg, sig[64];
		size_t len, rl, dl = strlen(SP_ROSTER_DOMAIN);
		Seinpost__SignedRoster *sr;
		Seinpost__Roster *ro;
		ck_assert_int_eq(sp_file_read(path, 1u << 20, &buf, &len), SP_OK);
		sr = seinpost__signed_roster__unpack(NULL, len, buf);
		ro = seinpost__roster__unpack(NULL, sr->roster.len, sr->roster.data);
		ck_assert_uint_eq(ro->n_oprf_rotations, 2);
		ro->oprf_rotations[1]->proof.data[7] ^= 1;
		rl = seinpost__roster__get_packed_size(ro);
		rb = malloc(rl);
		seinpost__roster__pack(ro, rb);
		msg = malloc(dl + rl);
		memcpy(msg, SP_ROSTER_DOMAIN, dl);
		memcpy(msg + dl, rb, rl);
		crypto_sign_detached(sig, NULL, msg, dl + rl, op_sk);
		ck_assert_int_eq(sp_roster_load_bytes(NULL, 0, op_pk, &l), SP_EINVAL);
		Seinpost__SignedRoster s2 = SEINPOST__SIGNED_ROSTER__INIT;
		s2.roster = (ProtobufCBinaryData){ rl, rb };
		s2.signature = (ProtobufCBinaryData){ 64, sig };
		size_t l2 = seinpost__signed_roster__get_packed_size(&s2);
		uint8_t *b2 = malloc(l2);
		seinpost__signed_roster__pack(&s2, b2);
		ck_assert_int_eq(sp_roster_load_bytes(b2, l2, op_pk, &l), SP_OK); /* well-formed */
		ck_assert_int_eq(sp_roster_oprf_chain(l, pin, NULL), SP_EKEY);
		ck_assert_int_eq(sp_roster_oprf_chain(l, mid, NULL), SP_EKEY);
		ck_assert_int_eq(sp_roster_oprf_chain(l, commits, NULL), SP_OK); /* pinned to the new key itself */
		sp_roster_free(&l);
		/* a broken link (epoch 2 does not start from epoch 1's key) is malformed */
		ro->oprf_rotations[1]->proof.data[7] ^= 1;
		ro->oprf_rotations[1]->old_group_key.data[0] ^= 1;
		rl = seinpost__roster__get_packed_size(ro);
		seinpost__roster__pack(ro, rb);
		memcpy(msg + dl, rb, rl);
		crypto_sign_detached(sig, NULL, msg, dl + rl, op_sk);
		seinpost__signed_roster__pack(&s2, b2);
		ck_assert_int_eq(sp_roster_load_bytes(b2, l2, op_pk, &l), SP_EMALFORMED);
		free(b2);
		free(rb);
		free(msg);
		seinpost__roster__free_unpacked(ro, NULL);
		seinpost__signed_roster__free_unpacked(sr, NULL);
		free(buf);
	}
	sp_roster_free(&r);
}
END_TEST

static Suite *roster_suite(void)
{
	Suite *s = suite_create("roster");
	TCase *tc = tcase_create("roster");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, bad_signature_and_operator);
	tcase_add_test(tc, add_validation);
	tcase_add_test(tc, signed_but_invalid);
	tcase_add_test(tc, rotate_and_remove);
	tcase_add_test(tc, broker_transition);
	tcase_add_test(tc, enrol_json);
	tcase_add_test(tc, pseudonymiser_enrol_and_roster);
	tcase_add_test(tc, oprf_rotation_chain);
	tcase_set_timeout(tc, 60); /* the flipped-byte loop fsyncs once per byte */
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(roster_suite)
