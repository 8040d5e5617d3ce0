/* test_oprf_alarms.c — the pseudonymisation service's alarm feed: alarms
 * numbered without gaps, a fetch told from an evaluation request, pages
 * served to the privacy officer only, signed over the domain with the
 * fetch's nonce, and a page whose numbers do not follow refused by the
 * decoder. (Over real processes: tests/e2e/test_oprf_alarms.sh.) */
#include "sp_test.h"

#include <sodium.h>

#include "seinpost.pb-c.h"
#include "sp_oprf_alarmfeed.h"
#include "sp_oprf_alarms.h"
#include "sp_roster.h"
#include "sp_store.h"
#include "sp_util.h"
#include "sp_wire.h"

static char dir[256];
static sp_roster *roster;
static sp_keyset *svc;
static sp_store *store;

static sp_org mkorg(const char *id, const char *role, const uint8_t *sign_pk)
{
	sp_org o;
	uint8_t sk[64];
	memset(&o, 0, sizeof o);
	snprintf(o.id, sizeof o.id, "%s", id);
	snprintf(o.role, sizeof o.role, "%s", role);
	randombytes_buf(o.curve_pk, 32);
	randombytes_buf(o.box_pk, 32);
	if (sign_pk)
		memcpy(o.sign_pk, sign_pk, 32);
	else
		crypto_sign_keypair(o.sign_pk, sk);
	return o;
}

static void setup(void)
{
	char path[512];
	uint8_t bc[32], bs[32];
	sp_org s = mkorg("school-a", "school", NULL), po = mkorg("fg-a", "privacy-officer", NULL), ps;
	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_ptr_nonnull(sp_test_tmpdir(dir, sizeof dir));
	ck_assert_int_eq(sp_keys_generate(0, &svc), SP_OK);
	ps = mkorg("pseudo-mh", "pseudonymiser", svc->sign_pk);
	memset(ps.box_pk, 0, 32);
	crypto_core_ristretto255_random(ps.oprf_pk);
	ps.has_oprf = 1;
	randombytes_buf(bc, 32);
	randombytes_buf(bs, 32);
	ck_assert_int_eq(sp_roster_new("test", bc, bs, &roster), SP_OK);
	ck_assert_int_eq(sp_roster_add(roster, &s), SP_OK);
	ck_assert_int_eq(sp_roster_add(roster, &po), SP_OK);
	ck_assert_int_eq(sp_roster_add(roster, &ps), SP_OK);
	snprintf(path, sizeof path, "%s/state", dir);
	ck_assert_int_eq(sp_store_open(path, 0, 0, &store), SP_OK);
}

static void teardown(void)
{
	sp_store_close(&store);
	sp_roster_free(&roster);
	sp_keys_free(&svc);
	sp_test_rmdir(dir);
}

static void append(uint64_t now, int kind, uint64_t asked, uint64_t used)
{
	sp_oprf_alarm a = { kind, "school-a", "school", asked, used, 300 };
	sp_txn *t = NULL;
	ck_assert_int_eq(sp_txn_begin(store, 1, &t), SP_OK);
	ck_assert_int_eq(sp_oprf_alarm_append(t, now, &a), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
}

static size_t fetch(uint64_t from, uint32_t max, uint8_t nonce[16], uint8_t *out, size_t outlen)
{
	Seinpost__OprfAlarmFetch f = SEINPOST__OPRF_ALARM_FETCH__INIT;
	size_t n;
	f.alarm_from = from;
	f.alarm_max = max;
	f.alarm_nonce.data = nonce;
	f.alarm_nonce.len = 16;
	n = seinpost__oprf_alarm_fetch__get_packed_size(&f);
	ck_assert_uint_le(n, outlen);
	seinpost__oprf_alarm_fetch__pack(&f, out);
	return n;
}

/* Serve a fetch from `who`; the reply's raw bytes in *raw (free them). */
static void serve(const char *who, uint64_t from, uint32_t max, uint8_t nonce[16], uint8_t **raw, size_t *rlen)
{
	Seinpost__OprfAlarmFetch *f = NULL;
	uint8_t buf[128];
	size_t n = fetch(from, max, nonce, buf, sizeof buf);
	sp_txn *t = NULL;
	ck_assert_int_eq(sp_wire_decode_oprf_alarm_fetch(buf, n, &f), SP_OK);
	ck_assert_int_eq(sp_txn_begin(store, 0, &t), SP_OK);
	ck_assert_int_eq(sp_oprf_alarm_serve(t, roster, svc, "pseudo-mh", who, f, 1234, raw, rlen), SP_OK);
	sp_txn_abort(&t);
	seinpost__oprf_alarm_fetch__free_unpacked(f, NULL);
}

START_TEST(numbered_and_told_apart)
{
	Seinpost__OprfSignedRequest sr = SEINPOST__OPRF_SIGNED_REQUEST__INIT;
	Seinpost__OprfAlarmFetch *f = NULL;
	uint8_t req[200] = { 0 }, sig[64] = { 0 }, buf[512], nonce[16] = { 0 };
	size_t n;
	uint64_t last;
	sp_txn *t = NULL;

	append(1000, SEINPOST__OPRF_ALARM_KIND__OPRF_ALARM_KIND_RATE_LIMIT, 256, 250);
	append(2000, SEINPOST__OPRF_ALARM_KIND__OPRF_ALARM_KIND_SIGNATURE, 0, 0);
	ck_assert_int_eq(sp_txn_begin(store, 0, &t), SP_OK);
	ck_assert_int_eq(sp_oprf_alarm_last(t, &last), SP_OK);
	sp_txn_abort(&t);
	ck_assert_uint_eq(last, 2);

	/* an evaluation request is not a fetch, nor is a fetch without cursor or nonce */
	sr.request.data = req;
	sr.request.len = sizeof req;
	sr.signature.data = sig;
	sr.signature.len = 64;
	ck_assert_uint_le(seinpost__oprf_signed_request__get_packed_size(&sr), sizeof buf);
	n = seinpost__oprf_signed_request__pack(&sr, buf);
	ck_assert_int_eq(sp_wire_decode_oprf_alarm_fetch(buf, n, &f), SP_EMALFORMED);
	ck_assert_ptr_null(f);
	n = fetch(0, 10, nonce, buf, sizeof buf);
	ck_assert_int_eq(sp_wire_decode_oprf_alarm_fetch(buf, n, &f), SP_EMALFORMED);
	ck_assert_int_eq(sp_wire_decode_oprf_alarm_fetch(buf, 0, &f), SP_EMALFORMED);
	n = fetch(1, 10, nonce, buf, sizeof buf);
	ck_assert_int_eq(sp_wire_decode_oprf_alarm_fetch(buf, n, &f), SP_OK);
	seinpost__oprf_alarm_fetch__free_unpacked(f, NULL);
}
END_TEST

START_TEST(privacy_officer_only)
{
	Seinpost__OprfAlarmReply *r = NULL;
	Seinpost__OprfAlarmPage *p = NULL;
	uint8_t nonce[16], *raw = NULL;
	size_t rlen;
	append(1000, SEINPOST__OPRF_ALARM_KIND__OPRF_ALARM_KIND_RATE_LIMIT, 256, 250);
	randombytes_buf(nonce, sizeof nonce);
	serve("school-a", 1, 10, nonce, &raw, &rlen);
	ck_assert_int_eq(sp_wire_decode_oprf_alarm_reply(raw, rlen, &r, &p, NULL, 0), SP_OK);
	ck_assert_int_eq(r->code, SP_EROLE);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(r->page.len, 0);
	seinpost__oprf_alarm_reply__free_unpacked(r, NULL);
	free(raw);
	serve("pseudo-mh", 1, 10, nonce, &raw, &rlen); /* another pseudonymiser: no either */
	ck_assert_int_eq(sp_wire_decode_oprf_alarm_reply(raw, rlen, &r, &p, NULL, 0), SP_OK);
	ck_assert_int_eq(r->code, SP_EROLE);
	seinpost__oprf_alarm_reply__free_unpacked(r, NULL);
	free(raw);
}
END_TEST

static int verify(const Seinpost__OprfAlarmReply *r)
{
	size_t dl = strlen(SP_OPRF_ALARM_DOMAIN);
	uint8_t *m = malloc(dl + r->page.len);
	int ok;
	memcpy(m, SP_OPRF_ALARM_DOMAIN, dl);
	memcpy(m + dl, r->page.data, r->page.len);
	ok = crypto_sign_verify_detached(r->signature.data, m, dl + r->page.len, svc->sign_pk) == 0;
	free(m);
	return ok;
}

START_TEST(signed_pages_from_the_cursor)
{
	Seinpost__OprfAlarmReply *r = NULL;
	Seinpost__OprfAlarmPage *p = NULL;
	uint8_t nonce[16], *raw = NULL;
	size_t rlen;
	char text[320];
	for (int i = 0; i < 5; i++)
		append(1000 + (uint64_t)i, SEINPOST__OPRF_ALARM_KIND__OPRF_ALARM_KIND_RATE_LIMIT, 256, 250 + (uint64_t)i);
	randombytes_buf(nonce, sizeof nonce);
	serve("fg-a", 2, 3, nonce, &raw, &rlen);
	ck_assert_int_eq(sp_wire_decode_oprf_alarm_reply(raw, rlen, &r, &p, NULL, 0), SP_OK);
	ck_assert_int_eq(r->code, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert(verify(r));
	ck_assert_str_eq(p->service, "pseudo-mh");
	ck_assert_str_eq(p->to, "fg-a");
	ck_assert_mem_eq(p->nonce.data, nonce, 16);
	ck_assert_uint_eq(p->from_seq, 2);
	ck_assert_uint_eq(p->last_seq, 5);
	ck_assert_uint_eq(p->n_alarms, 3);
	ck_assert_uint_eq(p->alarms[0]->seq, 2);
	ck_assert_uint_eq(p->alarms[2]->seq, 4);
	ck_assert_uint_eq(p->alarms[0]->used, 251);
	ck_assert_uint_eq(p->alarms[0]->time, 1001);
	sp_oalarms_text(p->alarms[0], text, sizeof text);
	ck_assert_str_eq(text, "rate limit: school-a (school) asked for 256 evaluations with 251 of 300 used today; refused");

	/* one byte of the page changed: the signature no longer holds */
	r->page.data[r->page.len - 1] ^= 1;
	ck_assert(!verify(r));
	seinpost__oprf_alarm_page__free_unpacked(p, NULL);
	seinpost__oprf_alarm_reply__free_unpacked(r, NULL);
	free(raw);

	/* past the end: no alarms, the count says there are none newer */
	serve("fg-a", 6, 10, nonce, &raw, &rlen);
	ck_assert_int_eq(sp_wire_decode_oprf_alarm_reply(raw, rlen, &r, &p, NULL, 0), SP_OK);
	ck_assert_uint_eq(p->n_alarms, 0);
	ck_assert_uint_eq(p->last_seq, 5);
	seinpost__oprf_alarm_page__free_unpacked(p, NULL);
	seinpost__oprf_alarm_reply__free_unpacked(r, NULL);
	free(raw);
}
END_TEST

/* A page whose alarms do not follow its from_seq (a gap) is malformed. */
START_TEST(gaps_refused)
{
	Seinpost__OprfAlarmReply rep = SEINPOST__OPRF_ALARM_REPLY__INIT, *r = NULL;
	Seinpost__OprfAlarmPage pg = SEINPOST__OPRF_ALARM_PAGE__INIT, *p = NULL;
	Seinpost__OprfAlarm a1 = SEINPOST__OPRF_ALARM__INIT, a3 = SEINPOST__OPRF_ALARM__INIT;
	Seinpost__OprfAlarm *as[2] = { &a1, &a3 };
	uint8_t nonce[16] = { 1 }, sig[64] = { 0 }, page[512], buf[1024];
	size_t pl, n;
	a1.seq = 1;
	a3.seq = 3;
	a1.org = a3.org = "school-a";
	a1.role = a3.role = "school";
	a1.kind = a3.kind = 1;
	pg.service = "pseudo-mh";
	pg.to = "fg-a";
	pg.nonce.data = nonce;
	pg.nonce.len = 16;
	pg.from_seq = 1;
	pg.last_seq = 3;
	pg.alarms = as;
	pg.n_alarms = 2;
	pl = seinpost__oprf_alarm_page__pack(&pg, page);
	rep.page.data = page;
	rep.page.len = pl;
	rep.signature.data = sig;
	rep.signature.len = 64;
	n = seinpost__oprf_alarm_reply__pack(&rep, buf);
	ck_assert_int_eq(sp_wire_decode_oprf_alarm_reply(buf, n, &r, &p, NULL, 0), SP_EMALFORMED);
	ck_assert_ptr_null(r);
	a3.seq = 2; /* now they follow */
	pl = seinpost__oprf_alarm_page__pack(&pg, page);
	rep.page.len = pl;
	n = seinpost__oprf_alarm_reply__pack(&rep, buf);
	ck_assert_int_eq(sp_wire_decode_oprf_alarm_reply(buf, n, &r, &p, NULL, 0), SP_OK);
	seinpost__oprf_alarm_page__free_unpacked(p, NULL);
	seinpost__oprf_alarm_reply__free_unpacked(r, NULL);
}
END_TEST

/* A node looping refused requests raises at most SP_OPRF_ALARM_BURST
 * alarms a minute per organisation and kind; the next counts the rest. */
START_TEST(a_flood_is_bounded)
{
	Seinpost__OprfAlarmReply *r = NULL;
	Seinpost__OprfAlarmPage *p = NULL;
	sp_oprf_alarm other = { SEINPOST__OPRF_ALARM_KIND__OPRF_ALARM_KIND_RATE_LIMIT, "police-a", "police", 1, 2, 3 };
	uint8_t nonce[16] = { 0 }, *raw = NULL;
	size_t rlen;
	uint64_t last;
	sp_txn *t = NULL;
	char text[320];
	for (int i = 0; i < SP_OPRF_ALARM_BURST + 5; i++)
		append(10000 + (uint64_t)i, SEINPOST__OPRF_ALARM_KIND__OPRF_ALARM_KIND_RATE_LIMIT, 256, 250);
	append(10100, SEINPOST__OPRF_ALARM_KIND__OPRF_ALARM_KIND_SIGNATURE, 0, 0); /* another kind: raised */
	ck_assert_int_eq(sp_txn_begin(store, 1, &t), SP_OK);
	ck_assert_int_eq(sp_oprf_alarm_append(t, 10200, &other), SP_OK);       /* another org: raised */
	ck_assert_int_eq(sp_oprf_alarm_last(t, &last), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	ck_assert_uint_eq(last, SP_OPRF_ALARM_BURST + 2);
	append(10000 + SP_OPRF_ALARM_WINDOW_MS, SEINPOST__OPRF_ALARM_KIND__OPRF_ALARM_KIND_RATE_LIMIT, 256, 250);
	serve("fg-a", SP_OPRF_ALARM_BURST + 3, 10, nonce, &raw, &rlen);
	ck_assert_int_eq(sp_wire_decode_oprf_alarm_reply(raw, rlen, &r, &p, NULL, 0), SP_OK);
	ck_assert_uint_eq(p->n_alarms, 1);
	ck_assert_uint_eq(p->alarms[0]->suppressed, 5);
	sp_oalarms_text(p->alarms[0], text, sizeof text);
	ck_assert_ptr_nonnull(strstr(text, "after 5 more such refusals"));
	seinpost__oprf_alarm_page__free_unpacked(p, NULL);
	seinpost__oprf_alarm_reply__free_unpacked(r, NULL);
	free(raw);
}
END_TEST

static Suite *oprf_alarms_suite(void)
{
	Suite *s = suite_create("oprf_alarms");
	TCase *tc = tcase_create("feed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, numbered_and_told_apart);
	tcase_add_test(tc, privacy_officer_only);
	tcase_add_test(tc, signed_pages_from_the_cursor);
	tcase_add_test(tc, gaps_refused);
	tcase_add_test(tc, a_flood_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(oprf_alarms_suite)
