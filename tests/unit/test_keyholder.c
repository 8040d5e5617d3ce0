/* test_keyholder.c — the key holder's protocol: a remote handle over a real
 * socketpair answers exactly as a local one; the parser refuses everything
 * outside the fixed format (sp_keyholder.h). */
#include "sp_test.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sodium.h>

#include "sp_keyholder.h"
#include "sp_oprfsvc.h"
#include "seinpost.pb-c.h"
#include "sp_reads.h"
#include "sp_signal.h"

#define ORG "politie-limburg"

static sp_keyset *keys;
static sp_pseudo_keyring *kr;
static sp_kh *local, *remote;
static pid_t server;

/* A key holder in a child process: the same answer function the daemon runs. */
static void serve(int fd)
{
	uint8_t req[SP_KH_MSG_MAX], ans[SP_KH_MSG_MAX];
	for (;;) {
		ssize_t n = recv(fd, req, sizeof req, MSG_TRUNC);
		size_t al;
		if (n <= 0)
			_exit(0);
		sp_keyholder_answer(local, ORG, req, (size_t)n > sizeof req ? 0 : (size_t)n, ans, &al);
		if (send(fd, ans, al, MSG_NOSIGNAL) < 0)
			_exit(0);
	}
}

static void setup(void)
{
	int sv[2];
	ck_assert_int_ge(sodium_init(), 0);
	ck_assert_int_eq(sp_keys_generate(1, &keys), SP_OK);
	ck_assert_int_eq(sp_pseudo_keyring_generate(3, &kr), SP_OK);
	ck_assert_int_eq(sp_kh_local(ORG, keys, kr, &local), SP_OK);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	for (int i = 0; i < 2; i++) { /* as sp_keyholder_run: room for the largest SIGN */
		int sz = 2 * SP_KH_MSG_MAX;
		ck_assert_int_eq(setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz), 0);
	}
	server = fork();
	ck_assert_int_ge(server, 0);
	if (server == 0) {
		close(sv[1]);
		serve(sv[0]);
	}
	close(sv[0]);
	ck_assert_int_eq(sp_kh_remote(sv[1], &remote), SP_OK);
}

static void teardown(void)
{
	int st;
	sp_kh_free(&remote); /* closes the socket: the server exits */
	waitpid(server, &st, 0);
	sp_kh_free(&local);
	sp_pseudo_keyring_free(&kr);
	sp_keys_free(&keys);
}

START_TEST(info)
{
	ck_assert_mem_eq(sp_kh_sign_pk(remote), keys->sign_pk, 32);
	ck_assert_mem_eq(sp_kh_box_pk(remote), keys->box_pk, 32);
	ck_assert_uint_eq(sp_kh_epoch(remote), 3);
	ck_assert_int_eq(sp_kh_lost(remote), 0);
}
END_TEST

START_TEST(sign_domains)
{
	static const uint8_t msg[] = "a canonical header";
	uint8_t sig[64], m[64];
	size_t dl = strlen(SP_SIG_DOMAIN);
	ck_assert_int_eq(sp_kh_sign(remote, SP_KH_DOM_SIGNAL, msg, sizeof msg, sig), SP_OK);
	/* the key holder prepends the domain: the signature is over domain || msg */
	memcpy(m, SP_SIG_DOMAIN, dl);
	memcpy(m + dl, msg, sizeof msg);
	ck_assert_int_eq(crypto_sign_verify_detached(sig, m, dl + sizeof msg, keys->sign_pk), 0);
	ck_assert_int_ne(crypto_sign_verify_detached(sig, msg, sizeof msg, keys->sign_pk), 0);
	/* the same call on a local handle gives the same (deterministic) signature */
	uint8_t sig2[64];
	ck_assert_int_eq(sp_kh_sign(local, SP_KH_DOM_SIGNAL, msg, sizeof msg, sig2), SP_OK);
	ck_assert_mem_eq(sig, sig2, 64);
	/* an unknown domain is refused by the client and, raw, by the key holder */
	ck_assert_int_eq(sp_kh_sign(remote, 9, msg, sizeof msg, sig), SP_EINVAL);
}
END_TEST

START_TEST(receipts)
{
	uint8_t ids[3][16], sig[64];
	const uint8_t *idp[3] = { ids[0], ids[1], ids[2] };
	randombytes_buf(ids, sizeof ids);
	ck_assert_int_eq(sp_receipts_sign_kh(ORG, 1234, idp, 3, remote, sig), SP_OK);
	ck_assert_int_eq(sp_receipts_verify(ORG, 1234, idp, 3, sig, keys->sign_pk), SP_OK);
	/* receipts in another organisation's name: refused by the key holder */
	ck_assert_int_eq(sp_receipts_sign_kh("school-bonnefanten", 1234, idp, 3, remote, sig), SP_EMALFORMED);
	ck_assert_int_eq(sp_kh_lost(remote), 0); /* a refusal is an answer, not a loss */
}
END_TEST

START_TEST(unseal)
{
	uint8_t key[32], sealed[SP_SEALED_KEY_BYTES], out[32];
	sp_keyset *other = NULL;
	randombytes_buf(key, sizeof key);
	ck_assert_int_eq(crypto_box_seal(sealed, key, 32, keys->box_pk), 0);
	ck_assert_int_eq(sp_kh_unseal(remote, sealed, out), SP_OK);
	ck_assert_mem_eq(out, key, 32);
	/* a grant to somebody else does not open */
	ck_assert_int_eq(sp_keys_generate(1, &other), SP_OK);
	ck_assert_int_eq(crypto_box_seal(sealed, key, 32, other->box_pk), 0);
	ck_assert_int_eq(sp_kh_unseal(remote, sealed, out), SP_ECRYPTO);
	sp_keys_free(&other);
}
END_TEST

START_TEST(pseudonyms)
{
	uint8_t a[32], b[32];
	ck_assert_int_eq(sp_kh_pseudonym(remote, 3, 1, "111222333", a), SP_OK);
	ck_assert_int_eq(sp_pseudo_derive(kr, 3, 1, "111222333", b), SP_OK);
	ck_assert_mem_eq(a, b, 32);
	ck_assert_int_eq(sp_kh_pseudonym(remote, 2, 1, "111222333", a), SP_EKEY); /* no such epoch */
	ck_assert_int_eq(sp_kh_pseudonym(remote, 3, 1, "111222334", a), SP_EMALFORMED); /* elfproef */
	ck_assert_int_eq(sp_kh_pseudonym(remote, 3, 2, "1234567", a), SP_EMALFORMED);   /* KvK: 8 digits */
	ck_assert_int_eq(sp_kh_pseudonym(remote, 3, 2, "12345678", a), SP_OK);
	ck_assert_int_eq(sp_kh_pseudonym(remote, 3, 3, "0123456789012345", a), SP_OK);
	ck_assert_int_eq(sp_kh_pseudonym(remote, 3, 3, "012345678901234x", a), SP_EMALFORMED);
}
END_TEST

START_TEST(signal_through_keyholder)
{
	static const uint8_t phash[32], pseudo[32] = { 7 };
	sp_signal_meta m = { .sender = ORG, .subject_kind = 1, .pseudonym = pseudo, .pseudonym_epoch = 3,
	                     .category = "drug-recruitment", .weight = 2, .created = 1, .expires = 2,
	                     .policy_hash = phash };
	sp_tier_plain p = { .contact = "wijkagent", .summary = "samenvatting" };
	sp_grant_spec g = { .recipient = ORG, .box_pk = keys->box_pk, .tier = SP_TIER_SUMMARY,
	                    .mode = SP_WHEN_IMMEDIATELY };
	uint8_t *buf = NULL, id[16];
	size_t len;
	sp_opened op;
	ck_assert_int_eq(sp_signal_seal_kh(&m, &p, &g, 1, remote, &buf, &len, id), SP_OK);
	Seinpost__Signal *s = seinpost__signal__unpack(NULL, len, buf);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sp_signal_verify(s, NULL, keys->sign_pk), SP_OK);
	ck_assert_int_eq(sp_signal_open_kh(s, ORG, remote, &op), SP_OK);
	ck_assert_str_eq(op.summary, "samenvatting");
	ck_assert_ptr_null(op.contact); /* not granted */
	sp_opened_clear(&op);
	seinpost__signal__free_unpacked(s, NULL);
	free(buf);
}
END_TEST

static size_t req(uint8_t *b, int op, const void *body, size_t bl)
{
	b[0] = SP_KH_VERSION;
	b[1] = (uint8_t)op;
	b[2] = b[3] = 0;
	b[4] = b[5] = b[6] = 0;
	b[7] = 9;
	memcpy(b + SP_KH_HDR, body, bl);
	return SP_KH_HDR + bl;
}

/* The pseudonymisation service's domain: only an OprfRequest of our own
 * organisation with whole elements is signed, over its domain || request. */
static size_t oprf_req(const char *org, size_t nbytes, uint8_t *out)
{
	static uint8_t rid[SP_OPRF_REQ_ID_BYTES], blinded[32 * (SP_KH_OPRF_POINTS + 1)];
	Seinpost__OprfRequest rq = SEINPOST__OPRF_REQUEST__INIT;
	rq.org = (char *)org;
	rq.request_id = (ProtobufCBinaryData){ sizeof rid, rid };
	rq.time = 1;
	rq.blinded = (ProtobufCBinaryData){ nbytes, blinded };
	rq.purpose = 2;
	return seinpost__oprf_request__pack(&rq, out);
}

START_TEST(oprf_domain)
{
	uint8_t msg[256], m[512], sig[64];
	size_t n = oprf_req(ORG, 64, msg), dl = strlen(SP_OPRF_REQ_DOMAIN);
	ck_assert_int_eq(sp_kh_sign(remote, SP_KH_DOM_OPRF, msg, n, sig), SP_OK);
	memcpy(m, SP_OPRF_REQ_DOMAIN, dl);
	memcpy(m + dl, msg, n);
	ck_assert_int_eq(crypto_sign_verify_detached(sig, m, dl + n, keys->sign_pk), 0);
	n = oprf_req("school-bonnefanten", 64, msg); /* another organisation's request */
	ck_assert_int_eq(sp_kh_sign(remote, SP_KH_DOM_OPRF, msg, n, sig), SP_EMALFORMED);
	n = oprf_req(ORG, 33, msg); /* not whole elements */
	ck_assert_int_eq(sp_kh_sign(remote, SP_KH_DOM_OPRF, msg, n, sig), SP_EMALFORMED);
	n = oprf_req(ORG, 0, msg); /* no element */
	ck_assert_int_eq(sp_kh_sign(remote, SP_KH_DOM_OPRF, msg, n, sig), SP_EMALFORMED);
	/* a bulk request: up to SP_KH_OPRF_POINTS points in one signature, not one more */
	static uint8_t big[SP_KH_SIGN_MAX + 64], bm[SP_KH_SIGN_MAX + 128];
	n = oprf_req(ORG, 32 * SP_KH_OPRF_POINTS, big);
	ck_assert_int_eq(sp_kh_sign(remote, SP_KH_DOM_OPRF, big, n, sig), SP_OK);
	memcpy(bm, SP_OPRF_REQ_DOMAIN, dl);
	memcpy(bm + dl, big, n);
	ck_assert_int_eq(crypto_sign_verify_detached(sig, bm, dl + n, keys->sign_pk), 0);
	n = oprf_req(ORG, 32 * (SP_KH_OPRF_POINTS + 1), big);
	ck_assert_int_eq(sp_kh_sign(remote, SP_KH_DOM_OPRF, big, n, sig), SP_EMALFORMED);
	ck_assert_int_eq(sp_kh_lost(remote), 0);
}
END_TEST

START_TEST(parser_refuses)
{
	uint8_t b[SP_KH_MSG_MAX + 16], ans[SP_KH_MSG_MAX];
	sp_kh_request r;
	size_t n, al;
	memset(b, 0, sizeof b);
	ck_assert_int_eq(sp_keyholder_parse(b, 0, ORG, &r), SP_EMALFORMED);
	n = req(b, SP_KH_INFO, "", 0);
	ck_assert_int_eq(sp_keyholder_parse(b, n, ORG, &r), SP_OK);
	ck_assert_uint_eq(r.seq, 9);
	ck_assert_int_eq(sp_keyholder_parse(b, n - 1, ORG, &r), SP_EMALFORMED); /* short header */
	b[0] = 2;
	ck_assert_int_eq(sp_keyholder_parse(b, n, ORG, &r), SP_EMALFORMED); /* version */
	n = req(b, SP_KH_INFO, "x", 1);
	ck_assert_int_eq(sp_keyholder_parse(b, n, ORG, &r), SP_EMALFORMED); /* INFO has no body */
	n = req(b, 7, "", 0);
	ck_assert_int_eq(sp_keyholder_parse(b, n, ORG, &r), SP_EMALFORMED); /* unknown op */
	n = req(b, SP_KH_SELECT, b + 100, 63);
	ck_assert_int_eq(sp_keyholder_parse(b, n, ORG, &r), SP_EMALFORMED); /* SELECT: 64 bytes exactly */
	n = req(b, SP_KH_SELECT, b + 100, 65);
	ck_assert_int_eq(sp_keyholder_parse(b, n, ORG, &r), SP_EMALFORMED);
	n = req(b, SP_KH_UNSEAL, b + 100, 79);
	ck_assert_int_eq(sp_keyholder_parse(b, n, ORG, &r), SP_EMALFORMED); /* 80 bytes exactly */
	n = req(b, SP_KH_SIGN, "\x09xyz", 4);
	ck_assert_int_eq(sp_keyholder_parse(b, n, ORG, &r), SP_EMALFORMED); /* unknown domain */
	n = req(b, SP_KH_SIGN, "\x04xyz", 4);
	ck_assert_int_eq(sp_keyholder_parse(b, n, ORG, &r), SP_EMALFORMED); /* OPRF: not an OprfRequest */
	n = req(b, SP_KH_SIGN, "\x01", 1);
	ck_assert_int_eq(sp_keyholder_parse(b, n, ORG, &r), SP_EMALFORMED); /* empty message */
	memset(b + SP_KH_HDR, 'a', SP_KH_MSG_MAX);
	b[SP_KH_HDR] = SP_KH_DOM_SIGNAL;
	ck_assert_int_eq(sp_keyholder_parse(b, SP_KH_HDR + 4097 + 1, ORG, &r), SP_EMALFORMED); /* header too long */
	ck_assert_int_eq(sp_keyholder_parse(b, SP_KH_MSG_MAX + 1, ORG, &r), SP_EMALFORMED);
	/* a refusal is answered with its status, the request's op and sequence, no body */
	n = req(b, SP_KH_UNSEAL, "short", 5);
	sp_keyholder_answer(local, ORG, b, n, ans, &al);
	ck_assert_uint_eq(al, SP_KH_HDR);
	ck_assert_int_eq(-(int)((unsigned)ans[2] << 8 | ans[3]), SP_EMALFORMED);
	ck_assert_int_eq(ans[1], SP_KH_UNSEAL);
	ck_assert_int_eq(ans[7], 9);
}
END_TEST

/* Key rotation (issue 15): a key holder over two generations opens grants
 * sealed to either box key, and SELECT switches the signing generation and
 * hands out only that generation's CURVE secret. */
START_TEST(generations)
{
	sp_keyring ring = { 0 };
	sp_kh *lr = NULL, *rr = NULL;
	uint8_t key[32], sealed[SP_SEALED_KEY_BYTES], out[32], csk[32], sig[64], m[64];
	int sv[2], st;
	pid_t pid;
	static const uint8_t msg[] = "x";
	ck_assert_int_eq(sp_keys_generate(1, &ring.k[0]), SP_OK); /* new */
	ck_assert_int_eq(sp_keys_generate(1, &ring.k[1]), SP_OK); /* old */
	ring.n = 2;
	sp_keyset *nw = ring.k[0], *old = ring.k[1];
	ck_assert_int_eq(sp_kh_local_ring(ORG, &ring, NULL, NULL, &lr), SP_OK);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[1]);
		local = lr;
		serve(sv[0]);
	}
	close(sv[0]);
	ck_assert_int_eq(sp_kh_remote(sv[1], &rr), SP_OK);
	ck_assert_mem_eq(sp_kh_sign_pk(rr), nw->sign_pk, 32);
	/* a grant sealed to the old box key still opens */
	randombytes_buf(key, sizeof key);
	ck_assert_int_eq(crypto_box_seal(sealed, key, 32, old->box_pk), 0);
	ck_assert_int_eq(sp_kh_unseal(rr, sealed, out), SP_OK);
	ck_assert_mem_eq(out, key, 32);
	/* keys of two different generations: no such generation, nothing changes */
	ck_assert_int_eq(sp_kh_select(rr, nw->curve_pk, old->sign_pk, csk), SP_ENOTFOUND);
	ck_assert_mem_eq(sp_kh_sign_pk(rr), nw->sign_pk, 32);
	/* the roster names the old generation: it signs, and only its CURVE secret comes back */
	ck_assert_int_eq(sp_kh_select(rr, old->curve_pk, old->sign_pk, csk), SP_OK);
	ck_assert_mem_eq(csk, old->curve_sk, 32);
	ck_assert_mem_eq(sp_kh_sign_pk(rr), old->sign_pk, 32);
	ck_assert_mem_eq(sp_kh_box_pk(rr), old->box_pk, 32);
	ck_assert_int_eq(sp_kh_sign(rr, SP_KH_DOM_READ, msg, 1, sig), SP_OK);
	memcpy(m, SP_READ_DOMAIN, strlen(SP_READ_DOMAIN));
	m[strlen(SP_READ_DOMAIN)] = 'x';
	ck_assert_int_eq(crypto_sign_verify_detached(sig, m, strlen(SP_READ_DOMAIN) + 1, old->sign_pk), 0);
	/* and a grant sealed to the new box key still opens after the switch */
	ck_assert_int_eq(crypto_box_seal(sealed, key, 32, nw->box_pk), 0);
	ck_assert_int_eq(sp_kh_unseal(rr, sealed, out), SP_OK);
	sp_kh_free(&rr);
	waitpid(pid, &st, 0);
	sp_kh_free(&lr);
	sp_keyring_free(&ring);
}
END_TEST

START_TEST(lost_keyholder)
{
	int st;
	kill(server, SIGKILL);
	waitpid(server, &st, 0);
	uint8_t sig[64];
	ck_assert_int_eq(sp_kh_sign(remote, SP_KH_DOM_READ, (const uint8_t *)"x", 1, sig), SP_EIO);
	ck_assert_int_eq(sp_kh_lost(remote), 1);
	/* and stays lost: no half-answered request can be mistaken for the next */
	ck_assert_int_eq(sp_kh_sign(remote, SP_KH_DOM_READ, (const uint8_t *)"x", 1, sig), SP_EIO);
}
END_TEST

static Suite *keyholder_suite(void)
{
	Suite *s = suite_create("keyholder");
	TCase *tc = tcase_create("protocol");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, info);
	tcase_add_test(tc, sign_domains);
	tcase_add_test(tc, receipts);
	tcase_add_test(tc, unseal);
	tcase_add_test(tc, pseudonyms);
	tcase_add_test(tc, signal_through_keyholder);
	tcase_add_test(tc, parser_refuses);
	tcase_add_test(tc, oprf_domain);
	tcase_add_test(tc, generations);
	tcase_add_test(tc, lost_keyholder);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(keyholder_suite)
