/* test_oprf.c — RFC 9380 expand_message_xmd(SHA-512) and RFC 9497
 * OPRF(ristretto255, SHA-512) in base and verifiable mode, against the
 * published test vectors (values only; RFC 9380 appendix K.3, RFC 9497
 * appendix A.1), plus refusals of the identity and of forged proofs. */
#include "sp_test.h"
#include "sp_oprf.h"
#include "sp_util.h"

#include <sodium.h>

struct xmd_vec {
	const char *msg;
	size_t len;
	const char *hex;
};

#define XMD_Q128 "q128_"
#define XMD_A512 "a512_"
#define XMD_DST "QUUX-V01-CS02-with-expander-SHA512-256"

static const struct xmd_vec xmd_vecs[] = {
	{ "", 32,
	  "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba" },
	{ "abc", 32,
	  "0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc" },
	{ "abcdef0123456789", 32,
	  "087e45a86e2939ee8b91100af1583c4938e0f5fc6c9db4b107b83346bc967f58" },
	{ XMD_Q128, 32,
	  "7336234ee9983902440f6bc35b348352013becd88938d2afec44311caf8356b3" },
	{ XMD_A512, 32,
	  "57b5f7e766d5be68a6bfe1768e3c2b7f1228b3e4b3134956dd73a59b954c66f4" },
	{ "", 128,
	  "41b037d1734a5f8df225dd8c7de38f851efdb45c372887be655212d07251b921"
	  "b052b62eaed99b46f72f2ef4cc96bfaf254ebbbec091e1a3b9e4fb5e5b619d2e"
	  "0c5414800a1d882b62bb5cd1778f098b8eb6cb399d5d9d18f5d5842cf5d13d7e"
	  "b00a7cff859b605da678b318bd0e65ebff70bec88c753b159a805d2c89c55961" },
	{ "abc", 128,
	  "7f1dddd13c08b543f2e2037b14cefb255b44c83cc397c1786d975653e36a6b11"
	  "bdd7732d8b38adb4a0edc26a0cef4bb45217135456e58fbca1703cd6032cb134"
	  "7ee720b87972d63fbf232587043ed2901bce7f22610c0419751c065922b48843"
	  "1851041310ad659e4b23520e1772ab29dcdeb2002222a363f0c2b1c972b3efe1" },
	{ "abcdef0123456789", 128,
	  "3f721f208e6199fe903545abc26c837ce59ac6fa45733f1baaf0222f8b7acb04"
	  "24814fcb5eecf6c1d38f06e9d0a6ccfbf85ae612ab8735dfdf9ce84c372a77c8"
	  "f9e1c1e952c3a61b7567dd0693016af51d2745822663d0c2367e3f4f0bed827f"
	  "eecc2aaf98c949b5ed0d35c3f1023d64ad1407924288d366ea159f46287e61ac" },
	{ XMD_Q128, 128,
	  "b799b045a58c8d2b4334cf54b78260b45eec544f9f2fb5bd12fb603eaee70db7"
	  "317bf807c406e26373922b7b8920fa29142703dd52bdf280084fb7ef69da78af"
	  "df80b3586395b433dc66cde048a258e476a561e9deba7060af40adf30c64249c"
	  "a7ddea79806ee5beb9a1422949471d267b21bc88e688e4014087a0b592b695ed" },
	{ XMD_A512, 128,
	  "05b0bfef265dcee87654372777b7c44177e2ae4c13a27f103340d9cd11c86cb2"
	  "426ffcad5bd964080c2aee97f03be1ca18e30a1f14e27bc11ebbd650f305269c"
	  "c9fb1db08bf90bfc79b42a952b46daf810359e7bc36452684784a64952c343c5"
	  "2e5124cd1f71d474d5197fefc571a92929c9084ffe1112cf5eea5192ebff330b" },
};

static void unhex_or_fail(const char *hex, uint8_t *out, size_t n)
{
	ck_assert_int_eq(sp_unhex(hex, out, n), SP_OK);
}

START_TEST(xmd_rfc9380_vectors)
{
	char msg[600];
	uint8_t want[128], got[128];
	for (size_t i = 0; i < sizeof xmd_vecs / sizeof xmd_vecs[0]; i++) {
		const struct xmd_vec *v = &xmd_vecs[i];
		size_t ml;
		if (strcmp(v->msg, XMD_Q128) == 0 || strcmp(v->msg, XMD_A512) == 0) {
			size_t reps = v->msg[0] == 'q' ? 128 : 512;
			memcpy(msg, v->msg, 5);
			memset(msg + 5, v->msg[0], reps);
			ml = 5 + reps;
		} else {
			ml = strlen(v->msg);
			memcpy(msg, v->msg, ml);
		}
		unhex_or_fail(v->hex, want, v->len);
		ck_assert_int_eq(sp_oprf_expand_xmd(got, v->len, (const uint8_t *)msg, ml,
		                                    (const uint8_t *)XMD_DST, strlen(XMD_DST)),
		                 SP_OK);
		ck_assert_mem_eq(got, want, v->len);
	}
	/* limits: no output, an empty or oversized DST, more than 255 blocks */
	ck_assert_int_eq(sp_oprf_expand_xmd(got, 0, NULL, 0, (const uint8_t *)"x", 1), SP_EINVAL);
	ck_assert_int_eq(sp_oprf_expand_xmd(got, 32, NULL, 0, (const uint8_t *)"x", 0), SP_EINVAL);
	ck_assert_int_eq(sp_oprf_expand_xmd(got, 32, NULL, 0, (const uint8_t *)msg, 256), SP_EINVAL);
	ck_assert_int_eq(sp_oprf_expand_xmd(got, 255 * 64 + 1, NULL, 0, (const uint8_t *)"x", 1),
	                 SP_EINVAL);
}
END_TEST

/* RFC 9497 A.1: Seed, KeyInfo and the derived keys */
#define SEED "a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3"
#define KEYINFO "74657374206b6579"
#define OPRF_SKSM "5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e"
#define VOPRF_SKSM "e6f73f344b79b379f1a0dd37e07ff62e38d9f71345ce62ae3a9bc60b04ccd909"
#define VOPRF_PKSM "c803e2cc6b05fc15064549b5920659ca4a77b2cca6f04f6b357009335476ad4e"
#define BLIND1 "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706"
#define BLIND2 "222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e"
#define INPUT2 "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"

struct oprf_vec {
	const char *input; /* hex */
	const char *blind, *blinded, *evaluated, *output;
	const char *proof, *proof_r; /* verifiable mode only */
};

static const struct oprf_vec base_vecs[] = {
	{ "00", BLIND1, "609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c",
	  "7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e",
	  "527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3"
	  "ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6",
	  NULL, NULL },
	{ INPUT2, BLIND1, "da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418",
	  "b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25",
	  "f4a74c9c592497375e796aa837e907b1a045d34306a749db9f34221f7e750cb4"
	  "f2a6413a6bf6fa5e19ba6348eb673934a722a7ede2e7621306d18951e7cf2c73",
	  NULL, NULL },
};

static const struct oprf_vec verif_vecs[] = {
	{ "00", BLIND1, "863f330cc1a1259ed5a5998a23acfd37fb4351a793a5b3c090b642ddc439b945",
	  "aa8fa048764d5623868679402ff6108d2521884fa138cd7f9c7669a9a014267e",
	  "b58cfbe118e0cb94d79b5fd6a6dafb98764dff49c14e1770b566e42402da1a7d"
	  "a4d8527693914139caee5bd03903af43a491351d23b430948dd50cde10d32b3c",
	  "ddef93772692e535d1a53903db24367355cc2cc78de93b3be5a8ffcc6985dd06"
	  "6d4346421d17bf5117a2a1ff0fcb2a759f58a539dfbe857a40bce4cf49ec600d",
	  BLIND2 },
	{ INPUT2, BLIND1, "cc0b2a350101881d8a4cba4c80241d74fb7dcbfde4a61fde2f91443c2bf9ef0c",
	  "60a59a57208d48aca71e9e850d22674b611f752bed48b36f7a91b372bd7ad468",
	  "8a9a2f3c7f085b65933594309041fc1898d42d0858e59f90814ae90571a6df60"
	  "356f4610bf816f27afdd84f47719e480906d27ecd994985890e5f539e7ea74b6",
	  "401a0da6264f8cf45bb2f5264bc31e109155600babb3cd4e5af7d181a2c9dc0a"
	  "67154fabf031fd936051dec80b0b6ae29c9503493dde7393b722eafdf5a50b02",
	  BLIND2 },
};

/* Test vector 3 of the verifiable mode: batch of two, one proof */
#define BATCH_BLINDED2 "90a0145ea9da29254c3a56be4fe185465ebb3bf2a1801f7124bbbadac751e654"
#define BATCH_EVAL2 "cc5ac221950a49ceaa73c8db41b82c20372a4c8d63e5dded2db920b7eee36a2a"
#define BATCH_PROOF                                                                  \
	"cc203910175d786927eeb44ea847328047892ddf8590e723c37205cb74600b0a"           \
	"5ab5337c8eb4ceae0494c2cf89529dcf94572ed267473d567aeed6ab873dee08"
#define BATCH_PROOF_R "419c4f4f5052c53c45f3da494d2b67b220d02118e0857cdbcf037f9ea84bbe0c"

/* RFC 9497 Finalize — here only: seinpost's pseudonym is the element. */
static void finalize(const uint8_t *in, size_t inlen, const uint8_t blind[32],
                     const uint8_t evaluated[32], uint8_t out[64])
{
	crypto_hash_sha512_state st;
	uint8_t unblinded[32], l[2];
	ck_assert_int_eq(sp_oprf_unblind(blind, evaluated, unblinded), SP_OK);
	crypto_hash_sha512_init(&st);
	l[0] = (uint8_t)(inlen >> 8);
	l[1] = (uint8_t)inlen;
	crypto_hash_sha512_update(&st, l, 2);
	crypto_hash_sha512_update(&st, in, inlen);
	l[0] = 0;
	l[1] = 32;
	crypto_hash_sha512_update(&st, l, 2);
	crypto_hash_sha512_update(&st, unblinded, 32);
	crypto_hash_sha512_update(&st, (const uint8_t *)"Finalize", 8);
	crypto_hash_sha512_final(&st, out);
}

static void derive(int mode, uint8_t sk[32], uint8_t pk[32])
{
	uint8_t seed[32], info[8];
	unhex_or_fail(SEED, seed, 32);
	unhex_or_fail(KEYINFO, info, 8);
	ck_assert_int_eq(sp_oprf_derive_keypair(mode, seed, info, 8, sk, pk), SP_OK);
}

START_TEST(derive_keypair_vectors)
{
	uint8_t sk[32], pk[32], want[32];
	derive(SP_OPRF_MODE_BASE, sk, pk);
	unhex_or_fail(OPRF_SKSM, want, 32);
	ck_assert_mem_eq(sk, want, 32);
	derive(SP_OPRF_MODE_VERIFIABLE, sk, pk);
	unhex_or_fail(VOPRF_SKSM, want, 32);
	ck_assert_mem_eq(sk, want, 32);
	unhex_or_fail(VOPRF_PKSM, want, 32);
	ck_assert_mem_eq(pk, want, 32);
	ck_assert_int_eq(sp_oprf_derive_keypair(7, sk, NULL, 0, sk, pk), SP_EINVAL);
}
END_TEST

static void run_vec(int mode, const struct oprf_vec *v)
{
	uint8_t sk[32], pk[32], in[64], blind[32], b[32], want[64], ev[32], out[64], proof[64];
	uint8_t r[32];
	size_t inlen = strlen(v->input) / 2;
	derive(mode, sk, pk);
	unhex_or_fail(v->input, in, inlen);
	unhex_or_fail(v->blind, blind, 32);
	ck_assert_int_eq(sp_oprf_blind(mode, in, inlen, blind, blind, b), SP_OK);
	unhex_or_fail(v->blinded, want, 32);
	ck_assert_mem_eq(b, want, 32);
	ck_assert_int_eq(sp_oprf_evaluate(sk, b, 1, ev), SP_OK);
	unhex_or_fail(v->evaluated, want, 32);
	ck_assert_mem_eq(ev, want, 32);
	finalize(in, inlen, blind, ev, out);
	unhex_or_fail(v->output, want, 64);
	ck_assert_mem_eq(out, want, 64);
	if (!v->proof)
		return;
	unhex_or_fail(v->proof_r, r, 32);
	ck_assert_int_eq(sp_oprf_prove(mode, sk, pk, b, ev, 1, r, proof), SP_OK);
	unhex_or_fail(v->proof, want, 64);
	ck_assert_mem_eq(proof, want, 64);
	ck_assert_int_eq(sp_oprf_verify(mode, pk, b, ev, 1, proof), SP_OK);
	proof[40] ^= 1;
	ck_assert_int_eq(sp_oprf_verify(mode, pk, b, ev, 1, proof), SP_ECRYPTO);
}

START_TEST(base_mode_vectors)
{
	for (size_t i = 0; i < sizeof base_vecs / sizeof base_vecs[0]; i++)
		run_vec(SP_OPRF_MODE_BASE, &base_vecs[i]);
}
END_TEST

START_TEST(verifiable_mode_vectors)
{
	for (size_t i = 0; i < sizeof verif_vecs / sizeof verif_vecs[0]; i++)
		run_vec(SP_OPRF_MODE_VERIFIABLE, &verif_vecs[i]);
}
END_TEST

START_TEST(verifiable_batch_vector)
{
	const int mode = SP_OPRF_MODE_VERIFIABLE;
	uint8_t sk[32], pk[32], in2[17], blind[2][32], b[64], ev[64], want[64], proof[64], r[32];
	uint8_t out[64], zero = 0;
	derive(mode, sk, pk);
	unhex_or_fail(INPUT2, in2, sizeof in2);
	unhex_or_fail(BLIND1, blind[0], 32);
	unhex_or_fail(BLIND2, blind[1], 32);
	ck_assert_int_eq(sp_oprf_blind(mode, &zero, 1, blind[0], blind[0], b), SP_OK);
	ck_assert_int_eq(sp_oprf_blind(mode, in2, sizeof in2, blind[1], blind[1], b + 32), SP_OK);
	unhex_or_fail(verif_vecs[0].blinded, want, 32);
	unhex_or_fail(BATCH_BLINDED2, want + 32, 32);
	ck_assert_mem_eq(b, want, 64);
	ck_assert_int_eq(sp_oprf_evaluate(sk, b, 2, ev), SP_OK);
	unhex_or_fail(verif_vecs[0].evaluated, want, 32);
	unhex_or_fail(BATCH_EVAL2, want + 32, 32);
	ck_assert_mem_eq(ev, want, 64);
	unhex_or_fail(BATCH_PROOF_R, r, 32);
	ck_assert_int_eq(sp_oprf_prove(mode, sk, pk, b, ev, 2, r, proof), SP_OK);
	unhex_or_fail(BATCH_PROOF, want, 64);
	ck_assert_mem_eq(proof, want, 64);
	ck_assert_int_eq(sp_oprf_verify(mode, pk, b, ev, 2, proof), SP_OK);
	/* the same on two threads: byte for byte */
	{
		sp_workers *w = NULL;
		uint8_t ev2[64], proof2[64];
		ck_assert_int_eq(sp_workers_new(&w), SP_OK);
		ck_assert_int_eq(sp_oprf_evaluate_w(sk, b, 2, ev2, w), SP_OK);
		ck_assert_mem_eq(ev2, ev, 64);
		ck_assert_int_eq(sp_oprf_prove_w(mode, sk, pk, b, ev, 2, r, proof2, w), SP_OK);
		ck_assert_mem_eq(proof2, proof, 64);
		ck_assert_int_eq(sp_oprf_verify_w(mode, pk, b, ev, 2, proof, w), SP_OK);
		proof2[3] ^= 1;
		ck_assert_int_eq(sp_oprf_verify_w(mode, pk, b, ev, 2, proof2, w), SP_ECRYPTO);
		sp_workers_free(&w);
	}
	/* both outputs */
	finalize(&zero, 1, blind[0], ev, out);
	unhex_or_fail(verif_vecs[0].output, want, 64);
	ck_assert_mem_eq(out, want, 64);
	finalize(in2, sizeof in2, blind[1], ev + 32, out);
	unhex_or_fail(verif_vecs[1].output, want, 64);
	ck_assert_mem_eq(out, want, 64);
	/* the proof binds the order of the batch: swapped answers fail */
	memcpy(want, ev, 32);
	memcpy(ev, ev + 32, 32);
	memcpy(ev + 32, want, 32);
	ck_assert_int_eq(sp_oprf_verify(mode, pk, b, ev, 2, proof), SP_ECRYPTO);
}
END_TEST

/* The pseudonym path: blind → evaluate+prove → verify → unblind gives
 * sk·H(x), the element, whatever the blind. */
START_TEST(roundtrip_is_element)
{
	const int mode = SP_OPRF_MODE_VERIFIABLE;
	enum { N = 40 };
	uint8_t sk[32], pk[32], sk2[32], pk2[32], blind[N][32], b[N * 32], ev[N * 32], proof[64];
	uint8_t p[32], h[32], direct[32], again[32], blind2[32], b2[32], ev2[32];
	char in[16];
	ck_assert_int_eq(sp_oprf_keypair(sk, pk), SP_OK);
	ck_assert_int_eq(sp_oprf_keypair(sk2, pk2), SP_OK);
	for (int i = 0; i < N; i++) {
		snprintf(in, sizeof in, "1%09d", 100000 + i);
		ck_assert_int_eq(sp_oprf_blind(mode, (uint8_t *)in, 10, NULL, blind[i], b + 32 * i),
		                 SP_OK);
	}
	ck_assert_int_eq(sp_oprf_evaluate(sk, b, N, ev), SP_OK);
	ck_assert_int_eq(sp_oprf_prove(mode, sk, pk, b, ev, N, NULL, proof), SP_OK);
	ck_assert_int_eq(sp_oprf_verify(mode, pk, b, ev, N, proof), SP_OK);
	{
		sp_workers *w = NULL;
		ck_assert_int_eq(sp_workers_new(&w), SP_OK);
		ck_assert_int_eq(sp_oprf_verify_w(mode, pk, b, ev, N, proof, w), SP_OK);
		ck_assert_int_eq(sp_oprf_verify_w(mode, pk2, b, ev, N, proof, w), SP_ECRYPTO);
		sp_workers_free(&w);
	}
	/* another service key does not verify: a swapped key is caught */
	ck_assert_int_eq(sp_oprf_verify(mode, pk2, b, ev, N, proof), SP_ECRYPTO);
	/* one wrong answer in the batch fails the whole proof */
	memcpy(again, ev + 32 * 7, 32);
	ck_assert_int_eq(sp_oprf_evaluate(sk2, b + 32 * 7, 1, ev + 32 * 7), SP_OK);
	ck_assert_int_eq(sp_oprf_verify(mode, pk, b, ev, N, proof), SP_ECRYPTO);
	memcpy(ev + 32 * 7, again, 32);
	for (int i = 0; i < N; i++) {
		snprintf(in, sizeof in, "1%09d", 100000 + i);
		ck_assert_int_eq(sp_oprf_unblind(blind[i], ev + 32 * i, p), SP_OK);
		ck_assert_int_eq(sp_oprf_hash_to_group(mode, (uint8_t *)in, 10, h), SP_OK);
		ck_assert_int_eq(crypto_scalarmult_ristretto255(direct, sk, h), 0);
		ck_assert_mem_eq(p, direct, 32);
		/* another blind, same pseudonym */
		ck_assert_int_eq(sp_oprf_blind(mode, (uint8_t *)in, 10, NULL, blind2, b2), SP_OK);
		ck_assert(memcmp(b2, b + 32 * i, 32) != 0);
		ck_assert_int_eq(sp_oprf_evaluate(sk, b2, 1, ev2), SP_OK);
		ck_assert_int_eq(sp_oprf_unblind(blind2, ev2, again), SP_OK);
		ck_assert_mem_eq(again, p, 32);
	}
	/* the batched unblind (one inversion) gives the same, with and
	 * without a second thread, and refuses an identity or invalid Z */
	{
		uint8_t all[N * 32], one[32];
		sp_workers *w = NULL;
		ck_assert_int_eq(sp_workers_new(&w), SP_OK);
		for (int pass = 0; pass < 2; pass++) {
			ck_assert_int_eq(sp_oprf_unblind_batch(&blind[0][0], ev, N, all, pass ? w : NULL), SP_OK);
			for (int i = 0; i < N; i++) {
				ck_assert_int_eq(sp_oprf_unblind(blind[i], ev + 32 * i, one), SP_OK);
				ck_assert_mem_eq(all + 32 * i, one, 32);
			}
		}
		memcpy(again, ev + 32 * 9, 32);
		memset(ev + 32 * 9, 0, 32);
		ck_assert_int_eq(sp_oprf_unblind_batch(&blind[0][0], ev, N, all, w), SP_ECRYPTO);
		ck_assert_int_eq(sodium_is_zero(all, sizeof all), 1);
		ev[32 * 9 + 31] = 0x80; /* not canonical */
		ck_assert_int_eq(sp_oprf_unblind_batch(&blind[0][0], ev, N, all, NULL), SP_ECRYPTO);
		memcpy(ev + 32 * 9, again, 32);
		ev[32 * 9 + 31] |= 0x80; /* bit 255 on a valid element: refused too */
		ck_assert_int_eq(sp_oprf_unblind_batch(&blind[0][0], ev, N, all, NULL), SP_ECRYPTO);
		ck_assert_int_eq(sp_oprf_verify(mode, pk, b, ev, N, proof), SP_ECRYPTO);
		memcpy(ev + 32 * 9, again, 32);
		sp_workers_free(&w);
	}
}
END_TEST

START_TEST(identity_refused)
{
	const int mode = SP_OPRF_MODE_VERIFIABLE;
	uint8_t sk[32], pk[32], zero[64] = { 0 }, ev[64], blind[32], b[64], proof[64], p[32];
	uint8_t bad[32];
	ck_assert_int_eq(sp_oprf_keypair(sk, pk), SP_OK);
	ck_assert_int_eq(sp_oprf_element_ok(zero), 0);
	ck_assert_int_eq(sp_oprf_element_ok(pk), 1);
	/* a non-canonical encoding (all 0xff) is refused too */
	memset(bad, 0xff, sizeof bad);
	ck_assert_int_eq(sp_oprf_element_ok(bad), 0);
	ck_assert_int_eq(sp_oprf_evaluate(sk, zero, 1, ev), SP_ECRYPTO);
	ck_assert_int_eq(sp_oprf_evaluate(sk, bad, 1, ev), SP_ECRYPTO);
	ck_assert_int_eq(sp_oprf_blind(mode, (const uint8_t *)"x", 1, NULL, blind, b), SP_OK);
	memcpy(b + 32, zero, 32); /* one identity in a batch refuses the batch */
	ck_assert_int_eq(sp_oprf_evaluate(sk, b, 2, ev), SP_ECRYPTO);
	ck_assert_int_eq(sp_oprf_evaluate(sk, b, 1, ev), SP_OK);
	ck_assert_int_eq(sp_oprf_unblind(blind, zero, p), SP_ECRYPTO);
	ck_assert_int_eq(sp_oprf_prove(mode, sk, pk, b, zero, 1, NULL, proof), SP_ECRYPTO);
	ck_assert_int_eq(sp_oprf_prove(mode, sk, pk, b, ev, 1, NULL, proof), SP_OK);
	ck_assert_int_eq(sp_oprf_verify(mode, zero, b, ev, 1, proof), SP_ECRYPTO);
	ck_assert_int_eq(sp_oprf_verify(mode, pk, b, zero, 1, proof), SP_ECRYPTO);
	/* a scalar ≥ L in the proof is refused, not reduced */
	memset(proof + 32, 0xff, 32);
	ck_assert_int_eq(sp_oprf_verify(mode, pk, b, ev, 1, proof), SP_ECRYPTO);
	/* a zero blind is refused */
	ck_assert_int_eq(sp_oprf_blind(mode, (const uint8_t *)"x", 1, zero, blind, b), SP_EINVAL);
	ck_assert_int_eq(sp_oprf_evaluate(sk, b, 0, ev), SP_EINVAL);
}
END_TEST

static Suite *oprf_suite(void)
{
	Suite *s = suite_create("oprf");
	TCase *tc = tcase_create("vectors");
	tcase_add_test(tc, xmd_rfc9380_vectors);
	tcase_add_test(tc, derive_keypair_vectors);
	tcase_add_test(tc, base_mode_vectors);
	tcase_add_test(tc, verifiable_mode_vectors);
	tcase_add_test(tc, verifiable_batch_vector);
	tcase_add_test(tc, roundtrip_is_element);
	tcase_add_test(tc, identity_refused);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(oprf_suite)
