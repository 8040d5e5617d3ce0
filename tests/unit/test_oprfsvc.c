/* test_oprfsvc.c — the pseudonymisation service's request handling: the
 * roster entry of a pseudonymiser, [limits ROLE] in the policy, signed
 * requests counted per organisation, refusals audited, the client's pin.
 * (The same over real processes: tests/e2e/test_oprf_service.sh.) */
#include "sp_test.h"

#include <sodium.h>
#include <sys/stat.h>

#include "seinpost.pb-c.h"
#include "sp_audit.h"
#include "sp_config.h"
#include "sp_oprf.h"
#include "sp_oprf_client.h"
#include "sp_oprfsvc.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "sp_util.h"

static char dir[256];
static uint8_t school_sk[64], police_sk[64];
static sp_roster *roster;
static sp_policy *policy;
static sp_oprf_key *okey;
static sp_store *store;

static sp_org mkorg(const char *id, const char *role, uint8_t sign_sk[64])
{
	sp_org o;
	memset(&o, 0, sizeof o);
	snprintf(o.id, sizeof o.id, "%s", id);
	snprintf(o.role, sizeof o.role, "%s", role);
	randombytes_buf(o.curve_pk, 32);
	randombytes_buf(o.box_pk, 32);
	crypto_sign_keypair(o.sign_pk, sign_sk);
	return o;
}

static void setup(void)
{
	char path[512], err[512];
	uint8_t bc[32], bs[32], sk[64];
	sp_org s = mkorg("school-a", "school", school_sk), p = mkorg("police-a", "police", police_sk);
	sp_org ps = mkorg("pseudo-mh", "pseudonymiser", sk);
	FILE *f;
	uint8_t *buf = NULL;
	size_t len;

	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_ptr_nonnull(sp_test_tmpdir(dir, sizeof dir));
	randombytes_buf(bc, 32);
	randombytes_buf(bs, 32);
	ck_assert_int_eq(sp_oprf_key_generate(&okey), SP_OK);
	ck_assert_int_eq(sp_roster_new("test", bc, bs, &roster), SP_OK);
	ck_assert_int_eq(sp_roster_add(roster, &s), SP_OK);
	ck_assert_int_eq(sp_roster_add(roster, &p), SP_OK);
	memset(ps.box_pk, 0, 32);
	memcpy(ps.oprf_pk, okey->pk, 32);
	ps.has_oprf = 1;
	ck_assert_int_eq(sp_roster_add(roster, &ps), SP_OK);
	/* the example policy plus a tight limit for schools */
	ck_assert_int_eq(sp_file_read("deploy/policy.example", 1 << 20, &buf, &len), SP_OK);
	snprintf(path, sizeof path, "%s/policy.ini", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fwrite(buf, 1, len, f);
	fputs("\n[limits school]\noprf_per_day = 10\noprf_per_request = 4\n", f);
	fclose(f);
	free(buf);
	ck_assert_msg(sp_policy_load(path, &policy, err, sizeof err) == SP_OK, "%s", err);
	snprintf(path, sizeof path, "%s/state", dir);
	ck_assert_int_eq(sp_store_open(path, 0, 0, &store), SP_OK);
}

static void teardown(void)
{
	sp_store_close(&store);
	sp_policy_free(&policy);
	sp_roster_free(&roster);
	sp_oprf_key_free(&okey);
	sp_test_rmdir(dir);
}

static int zero_elem = -1; /* >= 0: that element becomes the identity before signing */

/* A signed request of n fresh blinded elements. */
static size_t request(const char *org, const uint8_t sk[64], size_t n, uint64_t time,
                      uint8_t *blinded, uint8_t *out, size_t outlen)
{
	Seinpost__OprfRequest rq = SEINPOST__OPRF_REQUEST__INIT;
	Seinpost__OprfSignedRequest sr = SEINPOST__OPRF_SIGNED_REQUEST__INIT;
	uint8_t rid[16], msg[8192], sig[64], blind[32];
	size_t dl = strlen(SP_OPRF_REQ_DOMAIN), rl, len;
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(sp_oprf_blind(SP_OPRF_MODE_VERIFIABLE, (const uint8_t *)"\x01" "111222333",
		                               10, NULL, blind, blinded + 32 * i),
		                 SP_OK);
	if (zero_elem >= 0)
		memset(blinded + 32 * zero_elem, 0, 32);
	randombytes_buf(rid, sizeof rid);
	rq.org = (char *)org;
	rq.request_id.data = rid;
	rq.request_id.len = 16;
	rq.time = time;
	rq.blinded.data = blinded;
	rq.blinded.len = 32 * n;
	rq.purpose = SEINPOST__OPRF_PURPOSE__OPRF_PURPOSE_LOOKUP;
	rl = seinpost__oprf_request__get_packed_size(&rq);
	ck_assert_uint_lt(dl + rl, sizeof msg);
	memcpy(msg, SP_OPRF_REQ_DOMAIN, dl);
	seinpost__oprf_request__pack(&rq, msg + dl);
	crypto_sign_detached(sig, NULL, msg, dl + rl, sk);
	sr.request.data = msg + dl;
	sr.request.len = rl;
	sr.signature.data = sig;
	sr.signature.len = 64;
	len = seinpost__oprf_signed_request__get_packed_size(&sr);
	ck_assert_uint_le(len, outlen);
	seinpost__oprf_signed_request__pack(&sr, out);
	return len;
}

/* Handle in one committed transaction; returns the reply's code. */
static int serve(const char *proven, const uint8_t *req, size_t len, uint64_t now, char *alarm,
                 Seinpost__OprfReply **rep_out)
{
	sp_oprfsvc_ctx c = { roster, policy, okey, "pseudo-mh", 300, NULL };
	sp_txn *t = NULL;
	uint8_t *reply = NULL;
	size_t rlen = 0;
	int code;
	ck_assert_int_eq(sp_txn_begin(store, 1, &t), SP_OK);
	ck_assert_int_eq(sp_oprfsvc_handle(&c, t, proven, req, len, now, &reply, &rlen, alarm, 256),
	                 SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	Seinpost__OprfReply *rep = seinpost__oprf_reply__unpack(NULL, rlen, reply);
	free(reply);
	ck_assert_ptr_nonnull(rep);
	code = rep->code;
	if (rep_out)
		*rep_out = rep;
	else
		seinpost__oprf_reply__free_unpacked(rep, NULL);
	return code;
}

struct counts {
	unsigned evaluated, refused, elements;
};

static int count_visit(void *ctx, const Seinpost__AuditRecord *r)
{
	struct counts *c = ctx;
	if (r->event == SEINPOST__AUDIT_EVENT__AUDIT_OPRF_EVALUATED) {
		c->evaluated++;
		c->elements += r->count;
	} else if (r->event == SEINPOST__AUDIT_EVENT__AUDIT_OPRF_REFUSED) {
		c->refused++;
	}
	return 0;
}

START_TEST(serves_verifiable_batches)
{
	uint8_t b[4 * 32], req[4096];
	char alarm[256];
	uint64_t now = sp_now_ms(), used = 0;
	Seinpost__OprfReply *rep = NULL;
	size_t len = request("school-a", school_sk, 4, now, b, req, sizeof req);
	ck_assert_int_eq(serve("school-a", req, len, now, alarm, &rep), SP_OK);
	ck_assert_str_eq(alarm, "");
	ck_assert_uint_eq(rep->evaluated.len, 4 * 32);
	ck_assert_int_eq(sp_oprf_verify(SP_OPRF_MODE_VERIFIABLE, okey->pk, b, rep->evaluated.data, 4,
	                                rep->proof.data),
	                 SP_OK);
	ck_assert_uint_eq(rep->used_today, 4);
	ck_assert_uint_eq(rep->limit_per_day, 10);
	seinpost__oprf_reply__free_unpacked(rep, NULL);
	/* counted per signing organisation, in the store */
	{
		sp_txn *t = NULL;
		ck_assert_int_eq(sp_txn_begin(store, 0, &t), SP_OK);
		ck_assert_int_eq(sp_oprfsvc_used(t, "school-a", now, &used), SP_OK);
		ck_assert_uint_eq(used, 4);
		ck_assert_int_eq(sp_oprfsvc_used(t, "school-a", now + 86400000ull, &used), SP_OK);
		ck_assert_uint_eq(used, 0); /* a new UTC day */
		sp_txn_abort(&t);
	}
	/* police have the default limits */
	len = request("police-a", police_sk, 4, now, b, req, sizeof req);
	ck_assert_int_eq(serve("police-a", req, len, now, alarm, NULL), SP_OK);
}
END_TEST

START_TEST(refusals_are_audited)
{
	uint8_t b[8 * 32], req[4096];
	char alarm[256];
	uint64_t now = sp_now_ms();
	struct counts c = { 0 };
	size_t len;

	/* another organisation's connection */
	len = request("school-a", school_sk, 1, now, b, req, sizeof req);
	ck_assert_int_eq(serve("police-a", req, len, now, alarm, NULL), SP_ESENDER);
	/* signed by someone else */
	len = request("school-a", police_sk, 1, now, b, req, sizeof req);
	ck_assert_int_eq(serve("school-a", req, len, now, alarm, NULL), SP_ESIG);
	ck_assert_ptr_nonnull(strstr(alarm, "signature"));
	/* an old request */
	len = request("school-a", school_sk, 1, now - 3600000, b, req, sizeof req);
	ck_assert_int_eq(serve("school-a", req, len, now, alarm, NULL), SP_ECLOCK);
	/* more than the per-request limit of schools (4) */
	len = request("school-a", school_sk, 5, now, b, req, sizeof req);
	ck_assert_int_eq(serve("school-a", req, len, now, alarm, NULL), SP_ESIZE);
	/* the daily limit (10): 4 + 4 pass, the next 4 are refused with an alarm */
	len = request("school-a", school_sk, 4, now, b, req, sizeof req);
	ck_assert_int_eq(serve("school-a", req, len, now, alarm, NULL), SP_OK);
	ck_assert_int_eq(serve("school-a", req, len, now, alarm, NULL), SP_OK);
	ck_assert_int_eq(serve("school-a", req, len, now, alarm, NULL), SP_EPERM);
	ck_assert_ptr_nonnull(strstr(alarm, "rate limit: school-a"));
	/* an identity element refuses the batch */
	zero_elem = 1;
	len = request("police-a", police_sk, 2, now, b, req, sizeof req);
	zero_elem = -1;
	ck_assert_int_eq(serve("police-a", req, len, now, alarm, NULL), SP_ECRYPTO);
	/* garbage */
	ck_assert_int_eq(serve("police-a", (const uint8_t *)"\xff\xff", 2, now, alarm, NULL),
	                 SP_EMALFORMED);
	ck_assert_int_eq(sp_audit_foreach(store, 1, count_visit, &c), SP_OK);
	ck_assert_uint_eq(c.evaluated, 2);
	ck_assert_uint_eq(c.elements, 8);
	ck_assert_uint_eq(c.refused, 7);
}
END_TEST

START_TEST(roster_and_limits)
{
	sp_org o;
	uint8_t sk[64];
	uint32_t day, req;
	char path[512];
	sp_roster *l = NULL;
	uint8_t op_pk[32], op_sk[64];
	/* a pseudonymiser without an OPRF key, with a box key, or an OPRF key
	 * on another role, or the identity as its key: refused */
	o = mkorg("pseudo-2", "pseudonymiser", sk);
	memset(o.box_pk, 0, 32);
	ck_assert_int_eq(sp_roster_add(roster, &o), SP_EINVAL);
	o.has_oprf = 1;
	ck_assert_int_eq(sp_roster_add(roster, &o), SP_EINVAL); /* all-zero = identity */
	ck_assert_int_eq(sp_oprf_keypair(sk, o.oprf_pk), SP_OK);
	randombytes_buf(o.box_pk, 32);
	ck_assert_int_eq(sp_roster_add(roster, &o), SP_EINVAL);
	o = mkorg("school-b", "school", sk);
	o.has_oprf = 1;
	ck_assert_int_eq(sp_oprf_keypair(sk, o.oprf_pk), SP_OK);
	ck_assert_int_eq(sp_roster_add(roster, &o), SP_EINVAL);
	/* round trip keeps the key */
	crypto_sign_keypair(op_pk, op_sk);
	snprintf(path, sizeof path, "%s/roster.bin", dir);
	ck_assert_int_eq(sp_roster_save(roster, path, op_sk), SP_OK);
	ck_assert_int_eq(sp_roster_load(path, op_pk, &l), SP_OK);
	ck_assert_int_eq(sp_roster_find(l, "pseudo-mh")->has_oprf, 1);
	ck_assert_mem_eq(sp_roster_find(l, "pseudo-mh")->oprf_pk, okey->pk, 32);
	ck_assert_int_eq(sp_roster_find(l, "school-a")->has_oprf, 0);
	sp_roster_free(&l);
	/* limits */
	sp_oprfsvc_limits(policy, "school", &day, &req);
	ck_assert_uint_eq(day, 10);
	ck_assert_uint_eq(req, 4);
	sp_oprfsvc_limits(policy, "police", &day, &req);
	ck_assert_uint_eq(day, SP_LIMIT_OPRF_PER_DAY_DEFAULT);
	ck_assert_uint_eq(req, SP_LIMIT_OPRF_PER_REQUEST_DEFAULT);
}
END_TEST

START_TEST(policy_limits_strict)
{
	static const char *bad[] = {
		"[limits wizard]\noprf_per_day = 1\n",      /* unknown role */
		"[limits school]\noprf_per_request = 0\n",  /* below 1 */
		"[limits school]\noprf_per_week = 1\n",     /* unknown key */
		"[limits school]\noprf_per_day = 1\n[limits school]\noprf_per_day = 2\n",
	};
	uint8_t *buf = NULL;
	size_t len;
	char path[512], err[512];
	ck_assert_int_eq(sp_file_read("deploy/policy.example", 1 << 20, &buf, &len), SP_OK);
	snprintf(path, sizeof path, "%s/bad.ini", dir);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sp_policy *p = NULL;
		FILE *f = fopen(path, "w");
		fwrite(buf, 1, len, f);
		fputs(bad[i], f);
		fclose(f);
		ck_assert_msg(sp_policy_load(path, &p, err, sizeof err) == SP_ECONFIG, "case %zu", i);
	}
	free(buf);
	/* a rule cannot give signals to the pseudonymiser */
	ck_assert_ptr_null(sp_policy_limits_find(policy, "police"));
}
END_TEST

START_TEST(client_pin_against_roster)
{
	sp_config c;
	char why[512];
	memset(&c, 0, sizeof c);
	snprintf(c.path, sizeof c.path, "/etc/seinpost/node.conf");
	ck_assert_int_eq(sp_oprfc_check_pin(&c, roster, why, sizeof why), SP_ENOTFOUND);
	snprintf(c.oprf_service, sizeof c.oprf_service, "pseudo-mh");
	memcpy(c.oprf_pin, okey->pk, 32);
	ck_assert_int_eq(sp_oprfc_check_pin(&c, roster, why, sizeof why), SP_OK);
	c.oprf_pin[5] ^= 1; /* the roster's key changed under the node */
	ck_assert_int_eq(sp_oprfc_check_pin(&c, roster, why, sizeof why), SP_EKEY);
	ck_assert_ptr_nonnull(strstr(why, "ALARM"));
	c.oprf_pin[5] ^= 1;
	snprintf(c.oprf_service, sizeof c.oprf_service, "school-a"); /* not a pseudonymiser */
	ck_assert_int_eq(sp_oprfc_check_pin(&c, roster, why, sizeof why), SP_EKEY);
}
END_TEST

START_TEST(key_file)
{
	sp_oprf_key *k = NULL;
	char kd[512], p[600];
	snprintf(kd, sizeof kd, "%s/keys", dir);
	ck_assert_int_eq(sp_oprf_key_save(okey, kd), SP_OK);
	ck_assert_int_eq(sp_oprf_key_load(kd, &k), SP_OK);
	ck_assert_mem_eq(k->sk, okey->sk, 32);
	sp_oprf_key_free(&k);
	snprintf(p, sizeof p, "%s/oprf.key", kd);
	ck_assert_int_eq(chmod(p, 0640), 0);
	ck_assert_int_eq(sp_oprf_key_load(kd, &k), SP_EPERM);
	ck_assert_int_eq(chmod(p, 0600), 0);
	/* a public key that is not sk·G */
	snprintf(p, sizeof p, "%s/oprf.pub", kd);
	ck_assert_int_eq(sp_file_write(p, "0000000000000000000000000000000000000000000000000000000000000001\n",
	                               65, 0644),
	                 SP_OK);
	ck_assert_int_eq(sp_oprf_key_load(kd, &k), SP_EKEY);
	ck_assert_ptr_null(k);
}
END_TEST

static Suite *oprfsvc_suite(void)
{
	Suite *s = suite_create("oprfsvc");
	TCase *tc = tcase_create("service");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, serves_verifiable_batches);
	tcase_add_test(tc, refusals_are_audited);
	tcase_add_test(tc, roster_and_limits);
	tcase_add_test(tc, policy_limits_strict);
	tcase_add_test(tc, client_pin_against_roster);
	tcase_add_test(tc, key_file);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(oprfsvc_suite)
