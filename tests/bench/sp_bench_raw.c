/*
 * sp_bench_raw — what the machine's raw components can do, measured in the
 * same run as the end-to-end benchmark (tests/bench/run.sh):
 *
 *   zmq    DEALER -> ROUTER over tcp loopback, CURVE + ZAP (as the broker runs
 *          it), frames of the benchmark's signal size, one way.
 *   lmdb   synced (full durability) appends of audit-sized records, in
 *          batches: records/s, and commit (fsync) latency percentiles for
 *          single-record commits.
 *   ed25519 verify of a signal header signature.
 *   decode protobuf unpack + validation of a submit frame (sp_wire).
 *
 * Prints one JSON object. Options: --messages N --records N --batch B
 * --verifies N --dir DIR (for the LMDB files; default a temp dir).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>

#include "sp_keys.h"
#include "sp_log.h"
#include "sp_roster.h"
#include "sp_signal.h"
#include "sp_store.h"
#include "sp_transport.h"
#include "sp_util.h"
#include "sp_wire.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* A typical submit frame: drug-recruitment, three tiers, grants to 3 orgs. */
static void make_frame(const sp_keyset *k, uint8_t **frame, size_t *flen)
{
	uint8_t pseudo[32], ph[32], id[16], *sig = NULL;
	size_t siglen;
	randombytes_buf(pseudo, sizeof pseudo);
	randombytes_buf(ph, sizeof ph);
	uint8_t pk[3][32], sk[32];
	for (int i = 0; i < 3; i++)
		crypto_box_keypair(pk[i], sk);
	sp_grant_spec g[] = {
		{ "school-a", pk[0], SP_TIER_CONTACT, SP_WHEN_IMMEDIATELY },
		{ "youthcare-b", pk[1], SP_TIER_CONTACT, SP_WHEN_IMMEDIATELY },
		{ "youthcare-b", pk[1], SP_TIER_SUMMARY, SP_WHEN_IMMEDIATELY },
		{ "zvh-c", pk[2], SP_TIER_SUMMARY, SP_WHEN_ON_ESCALATION },
		{ "zvh-c", pk[2], SP_TIER_FULL, SP_WHEN_ON_ESCALATION },
	};
	sp_signal_meta m = {
		.sender = "police-x", .subject_kind = 1, .pseudonym = pseudo, .pseudonym_epoch = 1,
		.category = "drug-recruitment", .weight = 2, .created = sp_now_s(),
		.expires = sp_now_s() + 86400, .policy_hash = ph,
	};
	sp_tier_plain p = {
		.contact = "Wijkagent Maastricht-Centrum, 0900-8844",
		.summary = "Seen being recruited for parcel courier work near the station, twice this month",
		.bsn = "111222333", .name = "Benchmark Person", .birthdate = "2010-05-01",
		.address = "Teststraat 1, Maastricht",
	};
	if (sp_signal_seal(&m, &p, g, 5, k->sign_sk, &sig, &siglen, id) != SP_OK)
		exit(1);
	Seinpost__Signal *s = seinpost__signal__unpack(NULL, siglen, sig);
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	f.version = SP_WIRE_VERSION;
	f.body_case = SEINPOST__FRAME__BODY_SUBMIT;
	f.submit = s;
	if (sp_wire_pack(&f.base, frame, flen) != SP_OK)
		exit(1);
	seinpost__signal__free_unpacked(s, NULL);
	free(sig);
}

struct sender {
	void *sock;
	const uint8_t *frame;
	size_t len;
	long n;
};

static void *send_all(void *arg)
{
	struct sender *s = arg;
	for (long i = 0; i < s->n;) {
		int rc = sp_transport_send(s->sock, NULL, 0, s->frame, s->len);
		if (rc == SP_OK)
			i++;
		else if (rc != SP_ETIMEOUT)
			break;
	}
	return NULL;
}

static double bench_zmq(const sp_keyset *broker, const sp_keyset *org, const uint8_t *frame,
                        size_t len, long n)
{
	void *ctx = zmq_ctx_new(), *router = NULL, *dealer = NULL;
	sp_roster *r = NULL;
	sp_zap *zap = NULL;
	sp_org o = { .id = "police-x", .role = "police" };
	char ep[64];
	double rate = 0;
	memcpy(o.curve_pk, org->curve_pk, 32);
	memcpy(o.sign_pk, org->sign_pk, 32);
	memcpy(o.box_pk, org->box_pk, 32);
	if (sp_roster_new("bench", broker->curve_pk, broker->sign_pk, &r) != SP_OK || sp_roster_add(r, &o) != SP_OK ||
	    sp_zap_start(ctx, r, &zap) != SP_OK)
		exit(1);
	sp_transport_opts to = { .endpoint = "tcp://127.0.0.1:*", .max_frame = 1 << 20, .heartbeat_ms = 2000 };
	if (sp_transport_broker(ctx, broker, &to, &router) != SP_OK)
		exit(1);
	size_t eplen = sizeof ep;
	zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, ep, &eplen);
	to.endpoint = ep;
	if (sp_transport_node(ctx, org, broker->curve_pk, "police-x", &to, &dealer) != SP_OK)
		exit(1);
	/* warm up: the handshake */
	sp_msg m;
	while (sp_transport_send(dealer, NULL, 0, frame, len) != SP_OK)
		zmq_poll(NULL, 0, 10);
	memset(&m, 0, sizeof m);
	if (sp_transport_recv(router, 1, 0, &m) != SP_OK)
		exit(1);
	sp_msg_clear(&m);
	struct sender s = { dealer, frame, len, n };
	pthread_t th;
	double t0 = now_s();
	pthread_create(&th, NULL, send_all, &s);
	for (long i = 0; i < n; i++) {
		memset(&m, 0, sizeof m);
		if (sp_transport_recv(router, 1, 0, &m) != SP_OK)
			break;
		sp_msg_clear(&m);
	}
	rate = (double)n / (now_s() - t0);
	pthread_join(th, NULL);
	zmq_close(dealer);
	zmq_close(router);
	sp_zap_stop(&zap);
	zmq_ctx_term(ctx);
	sp_roster_free(&r);
	return rate;
}

static void bench_lmdb(const char *dir, long records, int batch, double *per_s, double *p50, double *p99)
{
	sp_store *st = NULL;
	uint8_t rec[256], key[8];
	randombytes_buf(rec, sizeof rec);
	if (sp_store_open(dir, 1ull << 30, 0, &st) != SP_OK)
		exit(1);
	/* 1. commit latency of single-record transactions: the fsync cost */
	enum { SINGLES = 200 };
	double lat[SINGLES];
	uint64_t seq = 0;
	for (int i = 0; i < SINGLES; i++) {
		sp_txn *t = NULL;
		double t0 = now_s();
		sp_be64_put(key, ++seq);
		if (sp_txn_begin(st, 1, &t) != SP_OK || sp_store_put(t, SP_DB_AUDIT, key, 8, rec, sizeof rec, 0) != SP_OK ||
		    sp_txn_commit(&t) != SP_OK)
			exit(1);
		lat[i] = (now_s() - t0) * 1000.0;
	}
	qsort(lat, SINGLES, sizeof lat[0], cmp_double);
	*p50 = lat[SINGLES / 2];
	*p99 = lat[SINGLES * 99 / 100];
	/* 2. batched appends: records per second with group commit */
	double t0 = now_s();
	for (long done = 0; done < records;) {
		sp_txn *t = NULL;
		if (sp_txn_begin(st, 1, &t) != SP_OK)
			exit(1);
		for (int i = 0; i < batch && done < records; i++, done++) {
			sp_be64_put(key, ++seq);
			if (sp_store_put(t, SP_DB_AUDIT, key, 8, rec, sizeof rec, 0) != SP_OK)
				exit(1);
		}
		if (sp_txn_commit(&t) != SP_OK)
			exit(1);
	}
	*per_s = (double)records / (now_s() - t0);
	sp_store_close(&st);
}

int main(int argc, char **argv)
{
	long messages = 100000, records = 200000, verifies = 20000;
	int batch = 512;
	const char *dir = NULL;
	char tmp[] = "/tmp/sp-bench-raw-XXXXXX";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--messages") == 0) messages = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--records") == 0) records = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--batch") == 0) batch = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--verifies") == 0) verifies = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
		else { fprintf(stderr, "sp_bench_raw: unknown option %s\n", argv[i]); return 2; }
	}
	if (sodium_init() < 0)
		return 1;
	sp_log_init("sp_bench_raw", 0, 0);
	if (!dir && !(dir = mkdtemp(tmp)))
		return 1;

	sp_keyset *broker = NULL, *org = NULL;
	if (sp_keys_generate(0, &broker) != SP_OK || sp_keys_generate(1, &org) != SP_OK)
		return 1;
	uint8_t *frame = NULL;
	size_t flen;
	make_frame(org, &frame, &flen);

	double zmq_rate = bench_zmq(broker, org, frame, flen, messages);

	double lmdb_rate, p50, p99;
	bench_lmdb(dir, records, batch, &lmdb_rate, &p50, &p99);

	/* Ed25519 verify and decode+validate of the same frame */
	Seinpost__Frame *f = NULL;
	char why[128];
	if (sp_wire_decode_frame(frame, flen, 1 << 20, &f, why, sizeof why) != SP_OK)
		return 1;
	uint8_t msg[512], sig[64];
	size_t mlen = f->submit->header.len < sizeof msg ? f->submit->header.len : sizeof msg;
	memcpy(msg, f->submit->header.data, mlen);
	crypto_sign_detached(sig, NULL, msg, mlen, org->sign_sk);
	double t0 = now_s();
	for (long i = 0; i < verifies; i++)
		if (crypto_sign_verify_detached(sig, msg, mlen, org->sign_pk) != 0)
			return 1;
	double verify_rate = (double)verifies / (now_s() - t0);
	seinpost__frame__free_unpacked(f, NULL);
	t0 = now_s();
	for (long i = 0; i < verifies; i++) {
		if (sp_wire_decode_frame(frame, flen, 1 << 20, &f, why, sizeof why) != SP_OK)
			return 1;
		seinpost__frame__free_unpacked(f, NULL);
	}
	double decode_rate = (double)verifies / (now_s() - t0);

	printf("{\"frame_bytes\": %zu, \"zmq_curve_msgs_per_s\": %.0f, \"lmdb_batch\": %d, "
	       "\"lmdb_records_per_s\": %.0f, \"fsync_p50_ms\": %.3f, \"fsync_p99_ms\": %.3f, "
	       "\"ed25519_verify_per_s\": %.0f, \"decode_per_s\": %.0f}\n",
	       flen, zmq_rate, batch, lmdb_rate, p50, p99, verify_rate, decode_rate);
	free(frame);
	sp_keys_free(&broker);
	sp_keys_free(&org);
	if (dir == tmp) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}
