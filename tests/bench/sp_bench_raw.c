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
 * With --sender NODE.conf --broker BROKER.conf (the benchmark's network) the
 * signal is built exactly as that node builds it (sp_submit_build, its
 * policy and roster) and the broker's own steps are timed on it:
 *   admit  sp_admit_signal: header decode, Ed25519 verify over the header
 *          and the tier digests, roster and policy (grants recomputed)
 *   route  per recipient: grants filtered for it, Delivery packed
 *   receipt decode of a DeliveryAck frame and its Ed25519 verify
 *   audit  sp_audit_append (record + Merkle nodes + indexes), batched
 * and the derived limit for one broker message is computed from them (see
 * docs/performance.md for the model).
 *
 * Prints one JSON object. Options: --messages N --records N --batch B
 * --verifies N --dir DIR (for the LMDB files; default a temp dir)
 * --sender CONF --broker CONF --category C --recipients R.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>

#include "sp_admit.h"
#include "sp_audit.h"
#include "sp_config.h"
#include "sp_keys.h"
#include "sp_policy.h"
#include "sp_pseudo.h"
#include "sp_submit.h"
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

/* Batched audit appends (the broker's sp_audit_append, Merkle + indexes):
 * microseconds per record including its share of the commit. */
static double bench_audit(const char *dir, long records, int batch)
{
	sp_store *st = NULL;
	uint8_t ps[32], sid[16];
	char sub[4096];
	snprintf(sub, sizeof sub, "%s/audit", dir);
	if (sp_store_open(sub, 1ull << 30, 0, &st) != SP_OK)
		exit(1);
	double t0 = now_s();
	for (long done = 0; done < records;) {
		sp_txn *t = NULL;
		if (sp_txn_begin(st, 1, &t) != SP_OK)
			exit(1);
		for (int i = 0; i < batch && done < records; i++, done++) {
			randombytes_buf(ps, sizeof ps);
			randombytes_buf(sid, sizeof sid);
			sp_audit_entry e = { .event = SEINPOST__AUDIT_EVENT__AUDIT_DELIVERED, .actor = "broker",
			                     .recipient = "jeugdzorg-a", .pseudonym = ps, .signal_id = sid,
			                     .category = "bench-signal", .weight = 2, .tiers = 3,
			                     .rule_id = "bench-youthcare", .legal_basis = "bench" };
			if (sp_audit_append(t, &e, NULL) != SP_OK)
				exit(1);
		}
		if (sp_txn_commit(&t) != SP_OK)
			exit(1);
	}
	double us = (now_s() - t0) * 1e6 / (double)records;
	sp_store_close(&st);
	return us;
}

/* The benchmark's real signal, built by the sender node's code path. */
static int real_frame(const char *sender_conf, const char *category, sp_keyset **keys, sp_roster **roster,
                      uint8_t **frame, size_t *flen, double *seal_us)
{
	sp_config c;
	sp_policy *pol = NULL;
	sp_pseudo_keyring *kr = NULL;
	char err[512], why[256];
	uint8_t *sig = NULL, id[16];
	size_t siglen;
	if (sp_config_load(sender_conf, &c, err, sizeof err) != SP_OK || sp_keys_load(c.keys_dir, keys) != SP_OK ||
	    sp_roster_load(c.roster_path, c.operator_pk, roster) != SP_OK ||
	    sp_policy_load(c.policy_path, &pol, err, sizeof err) != SP_OK ||
	    sp_pseudo_keyring_load(c.pseudo_key_path, &kr) != SP_OK) {
		fprintf(stderr, "sp_bench_raw: cannot load %s\n", sender_conf);
		return -1;
	}
	sp_kh *kh = NULL;
	if (sp_kh_local(c.org, *keys, kr, &kh) != SP_OK)
		return -1;
	sp_submit_ctx sc = { .org = c.org, .kh = kh, .roster = *roster, .policy = pol, .now_s = sp_now_s() };
	Seinpost__SubmitRequest rq = SEINPOST__SUBMIT_REQUEST__INIT;
	rq.category = (char *)category;
	rq.weight = 2;
	rq.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
	rq.subject_id = "111222333";
	rq.summary = "load test signal 0";
	rq.contact = "load generator";
	enum { N = 300 };
	double t0 = now_s();
	for (int i = 0; i < N; i++) {
		free(sig);
		sig = NULL;
		if (sp_submit_build(&sc, &rq, &sig, &siglen, id, why, sizeof why) != SP_OK) {
			fprintf(stderr, "sp_bench_raw: building the signal failed: %s\n", why);
			return -1;
		}
	}
	*seal_us = (now_s() - t0) * 1e6 / N;
	Seinpost__Signal *s = seinpost__signal__unpack(NULL, siglen, sig);
	Seinpost__Frame f = SEINPOST__FRAME__INIT;
	f.version = SP_WIRE_VERSION;
	f.body_case = SEINPOST__FRAME__BODY_SUBMIT;
	f.submit = s;
	int rc = s && sp_wire_pack(&f.base, frame, flen) == SP_OK ? 0 : -1;
	if (s)
		seinpost__signal__free_unpacked(s, NULL);
	free(sig);
	sp_policy_free(&pol);
	sp_pseudo_keyring_free(&kr);
	return rc;
}

int main(int argc, char **argv)
{
	long messages = 100000, records = 200000, verifies = 20000;
	int batch = 512, recipients = 2;
	const char *dir = NULL, *sender_conf = NULL, *broker_conf = NULL, *category = "bench-signal";
	char tmp[] = "/tmp/sp-bench-raw-XXXXXX";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--messages") == 0) messages = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--records") == 0) records = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--batch") == 0) batch = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--verifies") == 0) verifies = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
		else if (strcmp(argv[i], "--sender") == 0) sender_conf = argv[i + 1];
		else if (strcmp(argv[i], "--broker") == 0) broker_conf = argv[i + 1];
		else if (strcmp(argv[i], "--category") == 0) category = argv[i + 1];
		else if (strcmp(argv[i], "--recipients") == 0) recipients = atoi(argv[i + 1]);
		else { fprintf(stderr, "sp_bench_raw: unknown option %s\n", argv[i]); return 2; }
	}
	if (sodium_init() < 0)
		return 1;
	sp_log_init("sp_bench_raw", 0, 0);
	if (!dir && !(dir = mkdtemp(tmp)))
		return 1;

	sp_keyset *broker = NULL, *org = NULL;
	sp_roster *roster = NULL;
	sp_policy *bpol = NULL;
	double seal_us = 0;
	if (sp_keys_generate(0, &broker) != SP_OK)
		return 1;
	uint8_t *frame = NULL;
	size_t flen;
	if (sender_conf) {
		if (real_frame(sender_conf, category, &org, &roster, &frame, &flen, &seal_us) != 0)
			return 1;
	} else {
		if (sp_keys_generate(1, &org) != SP_OK)
			return 1;
		make_frame(org, &frame, &flen);
	}
	if (broker_conf) {
		sp_config bc;
		char err[512];
		if (sp_config_load(broker_conf, &bc, err, sizeof err) != SP_OK ||
		    sp_policy_load(bc.policy_path, &bpol, err, sizeof err) != SP_OK) {
			fprintf(stderr, "sp_bench_raw: %s\n", err);
			return 1;
		}
	}

	double zmq_rate = bench_zmq(broker, org, frame, flen, messages);

	double lmdb_rate, p50, p99;
	bench_lmdb(dir, records, batch, &lmdb_rate, &p50, &p99);
	double audit_us = bench_audit(dir, records / 2, batch);

	/* Ed25519 verify and decode+validate of the same frame */
	Seinpost__Frame *f = NULL;
	char why[256];
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

	/* The broker's admission (verify + tier digests + roster + policy) and
	 * per-recipient routing on the real signal. */
	double admit_us = 0, route_us = 0, sigverify_us = 0;
	if (roster && bpol) {
		const char *sender = NULL;
		Seinpost__SignalHeader *h = seinpost__signal_header__unpack(NULL, f->submit->header.len,
		                                                           f->submit->header.data);
		sender = h ? h->sender : "";
		sp_admit_opts ao = { .now_s = sp_now_s(), .max_skew_s = 300, .max_age_s = 86400 };
		long n = verifies / 4;
		t0 = now_s();
		for (long i = 0; i < n; i++) {
			Seinpost__SignalHeader *ho = NULL;
			if (sp_admit_signal(roster, bpol, sender, f->submit, &ao, &ho, why, sizeof why) != SP_OK) {
				fprintf(stderr, "sp_bench_raw: admit failed: %s\n", why);
				return 1;
			}
			seinpost__signal_header__free_unpacked(ho, NULL);
		}
		admit_us = (now_s() - t0) * 1e6 / (double)n;
		/* its signature part alone (the broker does it on two threads) */
		const sp_org *so = sp_roster_find(roster, sender);
		t0 = now_s();
		for (long i = 0; so && i < n; i++)
			if (sp_signal_verify(f->submit, h, so->sign_pk) != SP_OK)
				return 1;
		sigverify_us = (now_s() - t0) * 1e6 / (double)n;
		/* route: for every recipient entitled now, filter + pack a Delivery */
		int routed = 0;
		t0 = now_s();
		for (long i = 0; i < n; i++) {
			for (size_t r = 0; r < sp_roster_count(roster); r++) {
				const sp_org *to = sp_roster_at(roster, r);
				unsigned tiers_now, granted;
				const sp_policy_rule *rule;
				uint8_t *fwd = NULL, *buf = NULL;
				size_t fwdlen, len;
				if (strcmp(to->id, sender) == 0 ||
				    !sp_admit_route(bpol, to, (int)h->subject_kind, h->category, (int)h->weight, &tiers_now, &rule))
					continue;
				if (sp_signal_for_recipient(f->submit, to->id, 1u << SP_WHEN_IMMEDIATELY, &fwd, &fwdlen,
				                            &granted) != SP_OK)
					return 1;
				Seinpost__Signal *copy = seinpost__signal__unpack(NULL, fwdlen, fwd);
				Seinpost__Delivery d = SEINPOST__DELIVERY__INIT;
				d.signal = copy;
				if (!copy || sp_wire_pack(&d.base, &buf, &len) != SP_OK)
					return 1;
				seinpost__signal__free_unpacked(copy, NULL);
				free(fwd);
				free(buf);
				if (i == 0)
					routed++;
			}
		}
		route_us = routed ? (now_s() - t0) * 1e6 / (double)n / routed : 0;
		if (routed)
			recipients = routed;
		seinpost__signal_header__free_unpacked(h, NULL);
	}
	seinpost__frame__free_unpacked(f, NULL);
	t0 = now_s();
	for (long i = 0; i < verifies; i++) {
		if (sp_wire_decode_frame(frame, flen, 1 << 20, &f, why, sizeof why) != SP_OK)
			return 1;
		seinpost__frame__free_unpacked(f, NULL);
	}
	double decode_rate = (double)verifies / (now_s() - t0);

	/* Receipts: a recipient sends one DeliveryAckBatch per write transaction
	 * of its own; the broker decodes it and verifies one signature. Timed on
	 * a batch of RECEIPT_BATCH ids, reported per id (an assumed batch size:
	 * the real one grows with load, 1 when idle). */
	double receipt_us;
	{
		enum { RECEIPT_BATCH = 16 };
		uint8_t idv[RECEIPT_BATCH][16], rsig[64], *buf = NULL;
		ProtobufCBinaryData ids[RECEIPT_BATCH];
		const uint8_t *idp[RECEIPT_BATCH];
		size_t len;
		randombytes_buf(idv, sizeof idv);
		for (int k = 0; k < RECEIPT_BATCH; k++) {
			ids[k] = (ProtobufCBinaryData){ 16, idv[k] };
			idp[k] = idv[k];
		}
		Seinpost__Frame rf = SEINPOST__FRAME__INIT;
		Seinpost__DeliveryAckBatch a = SEINPOST__DELIVERY_ACK_BATCH__INIT;
		a.n_ids = RECEIPT_BATCH;
		a.ids = ids;
		a.time = sp_now_ms();
		if (sp_receipts_sign("jeugdzorg-a", a.time, idp, RECEIPT_BATCH, org->sign_sk, rsig) != SP_OK)
			return 1;
		a.signature.data = rsig;
		a.signature.len = 64;
		rf.version = SP_WIRE_VERSION;
		rf.body_case = SEINPOST__FRAME__BODY_DELIVERY_ACKS;
		rf.delivery_acks = &a;
		if (sp_wire_pack(&rf.base, &buf, &len) != SP_OK)
			return 1;
		long n = verifies / 4;
		t0 = now_s();
		for (long i = 0; i < n; i++) {
			Seinpost__Frame *df = NULL;
			const uint8_t *dp[RECEIPT_BATCH];
			if (sp_wire_decode_frame(buf, len, 1 << 20, &df, why, sizeof why) != SP_OK)
				return 1;
			for (int k = 0; k < RECEIPT_BATCH; k++)
				dp[k] = df->delivery_acks->ids[k].data;
			if (sp_receipts_verify("jeugdzorg-a", df->delivery_acks->time, dp, RECEIPT_BATCH,
			                       df->delivery_acks->signature.data, org->sign_pk) != SP_OK)
				return 1;
			seinpost__frame__free_unpacked(df, NULL);
		}
		receipt_us = (now_s() - t0) * 1e6 / (double)n / RECEIPT_BATCH;
		free(buf);
	}
	const double rbatch = 16.0; /* ids per receipt frame, as timed above */

	/* The derived limit for one signal at the broker (docs/performance.md):
	 *  I/O thread (CURVE): 1 + R / B messages in (submit, its share of the
	 *                      recipients' receipt batches of B ids), 1 + R out
	 *                      (ack, deliveries)
	 *  signature work:     the signal's header + tier digests, R / B receipt
	 *                      batch signatures;
	 *                      done before the batch on two threads (sp_workers),
	 *                      each message decoded once more there
	 *  main thread:        decode + admit (without its signature part)
	 *                      + R x route + R x receipt (without its signature)
	 *                      + LMDB: 1 signal record, 1 subject index, R x 3
	 *                        queue puts (seq, entry, index), R x 2 deletes,
	 *                        1 + R audit records (submitted, delivered)
	 *  The LMDB costs are each record's share of a batched, synced commit. */
	double zmq_us = 1e6 / zmq_rate, put_us = 1e6 / lmdb_rate, decode_us = 1e6 / decode_rate;
	double rverify_us = 1e6 / verify_rate; /* a receipt's Ed25519 verify */
	if (!sigverify_us)
		sigverify_us = rverify_us;
	double io_us = (2.0 + recipients + recipients / rbatch) * zmq_us;
	double lmdb_us = (2.0 + 5.0 * recipients) * put_us + (1.0 + recipients) * audit_us;
	double sig_us = sigverify_us + recipients / rbatch * rverify_us + (1.0 + recipients / rbatch) * decode_us;
	double main_us = decode_us + (admit_us ? admit_us - sigverify_us : 0) +
	                 recipients * (route_us + receipt_us - rverify_us / rbatch) + lmdb_us;
	double total_us = io_us + main_us + sig_us;
	double per_core = 1e6 / total_us;
	/* On 2+ cores: the I/O thread, the main thread and the signature helper
	 * overlap; the main thread also takes half of the signature work. The
	 * limit is the tighter of "all work over 2 cores" and "the main thread". */
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	double cores_limit = per_core;
	if (ncpu >= 2) {
		double by_cores = 2e6 / total_us, by_main = 1e6 / (main_us + sig_us / 2);
		cores_limit = by_cores < by_main ? by_cores : by_main;
	}

	printf("{\"frame_bytes\": %zu, \"zmq_curve_msgs_per_s\": %.0f, \"lmdb_batch\": %d, "
	       "\"lmdb_records_per_s\": %.0f, \"fsync_p50_ms\": %.3f, \"fsync_p99_ms\": %.3f, "
	       "\"ed25519_verify_per_s\": %.0f, \"decode_per_s\": %.0f, \"audit_append_us\": %.2f, "
	       "\"admit_us\": %.2f, \"route_us\": %.2f, \"receipt_us\": %.2f, \"recipients\": %d, "
	       "\"node_seal_us\": %.2f, \"broker_io_us\": %.2f, \"broker_main_us\": %.2f, \"broker_lmdb_us\": %.2f, "
	       "\"broker_sig_us\": %.2f, \"signal_verify_us\": %.2f, "
	       "\"limit_per_core_per_s\": %.0f, \"limit_per_s\": %.0f, \"broker_cores\": %d}\n",
	       flen, zmq_rate, batch, lmdb_rate, p50, p99, verify_rate, decode_rate, audit_us, admit_us, route_us,
	       receipt_us, recipients, seal_us, io_us, main_us, lmdb_us, sig_us, sigverify_us, per_core, cores_limit, ncpu >= 2 ? 2 : 1);
	free(frame);
	sp_keys_free(&broker);
	sp_keys_free(&org);
	sp_roster_free(&roster);
	sp_policy_free(&bpol);
	if (dir == tmp) {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}
