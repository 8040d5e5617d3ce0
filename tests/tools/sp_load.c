/*
 * sp_load — load generator: submits signals through a node's local submit
 * socket (exactly as `seinpost submit` does) and records every id the node
 * returned, with its submit time. Used by the delivery fault tests and the
 * benchmark. Run `sp_load --help`.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "sp_config.h"
#include "sp_log.h"
#include "sp_util.h"
#include "sp_wire.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: sp_load --config NODE.conf [-n COUNT] [--rate PER_SECOND] [--out FILE]\n"
	        "               [--category C] [--weight 1|2|3] [--bsn BSN] [--timeout-ms MS] [--quiet]\n"
	        "               [--window W] [--subjects N]\n"
	        "\n"
	        "Submits COUNT signals (default 100) through the node's local submit socket, one\n"
	        "request at a time, as fast as the node answers or paced to PER_SECOND. Every submit\n"
	        "that returned an id is written to FILE (default stdout) as one line\n"
	        "    <id-hex> <submit-unix-ms> <latency-us>\n"
	        "flushed per line, so the file is valid even if the run is interrupted. A submit\n"
	        "that fails or times out (e.g. the node was killed) is counted as failed, its\n"
	        "signal is never written, and the next one is tried after a short pause on a fresh\n"
	        "connection: the node must be up again for the run to progress.\n"
	        "\n"
	        "  -c, --config FILE     the node's seinpost.conf (finds <state>/submit.sock)\n"
	        "  -n, --count N         number of signals to submit (default 100)\n"
	        "  -r, --rate R          at most R submits per second (default: unpaced)\n"
	        "  -o, --out FILE        write ids here (default: stdout)\n"
	        "      --category C      category (default drug-recruitment)\n"
	        "      --weight W        weight (default 2)\n"
	        "      --bsn BSN         subject (default 111222333, a test BSN)\n"
	        "  -t, --timeout-ms MS   wait this long for each answer (default 5000)\n"
	        "  -w, --window W        keep up to W requests in flight on one connection (default 1:\n"
	        "                        one at a time); latency is then measured per request from\n"
	        "                        its send to its answer, queueing at the node included\n"
	        "      --subjects N      spread the signals over N synthetic subjects (valid test\n"
	        "                        BSNs, round robin) instead of the one --bsn\n"
	        "  -q, --quiet           no summary on stderr\n"
	        "\n"
	        "Summary on stderr: submitted, ok, failed, seconds, submits/s, latency p50/p99.\n"
	        "Exit 0 when every submit returned an id, 1 when some failed, 2 on usage errors.\n");
}

struct conn {
	void *ctx, *sock;
	char ep[PATH_MAX + 8];
	int timeout;
};

static int conn_open(struct conn *c)
{
	int linger = 0;
	c->sock = zmq_socket(c->ctx, ZMQ_REQ);
	if (!c->sock)
		return -1;
	zmq_setsockopt(c->sock, ZMQ_RCVTIMEO, &c->timeout, sizeof c->timeout);
	zmq_setsockopt(c->sock, ZMQ_SNDTIMEO, &c->timeout, sizeof c->timeout);
	zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
	return zmq_connect(c->sock, c->ep);
}

/* A REQ socket that lost its answer is stuck: replace it. */
static void conn_reset(struct conn *c)
{
	if (c->sock)
		zmq_close(c->sock);
	c->sock = NULL;
	(void)conn_open(c);
}

/* One submit; 0 with id filled, 1 refused by the node (message printed), -1 no answer. */
static int submit_one(struct conn *c, const Seinpost__LocalRequest *req, uint8_t id[16], char *msg, size_t msglen)
{
	uint8_t *buf = NULL;
	size_t len;
	zmq_msg_t m;
	int rc = -1;
	Seinpost__LocalReply *r = NULL;

	if (sp_wire_pack(&req->base, &buf, &len) != SP_OK)
		return -1;
	if (zmq_send(c->sock, buf, len, 0) < 0) {
		free(buf);
		snprintf(msg, msglen, "send: %s", zmq_strerror(errno));
		return -1;
	}
	free(buf);
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, c->sock, 0) < 0) {
		snprintf(msg, msglen, "no answer: %s", zmq_strerror(errno));
		zmq_msg_close(&m);
		return -1;
	}
	r = seinpost__local_reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
	zmq_msg_close(&m);
	if (!r) {
		snprintf(msg, msglen, "undecodable answer");
		return -1;
	}
	if (r->code == 0 && r->id.len == 16) {
		memcpy(id, r->id.data, 16);
		rc = 0;
	} else {
		snprintf(msg, msglen, "%s", r->message);
		rc = 1;
	}
	seinpost__local_reply__free_unpacked(r, NULL);
	return rc;
}

/* The i-th synthetic test BSN (passes the elfproef; from a fixed range, as
 * tests/bench/gen_bsn.py): subjects for load spread over many people. */
static void subject_bsn(unsigned long i, char out[10])
{
	static const int w[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
	for (unsigned long p = 30000000 + i * 11 / 10;; p++) {
		int sum = 0;
		snprintf(out, 10, "%08lu", p);
		for (int j = 0; j < 8; j++)
			sum += (out[j] - '0') * w[j];
		if (sum % 11 != 10) {
			out[8] = (char)('0' + sum % 11);
			out[9] = '\0';
			return;
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Pipelined: a DEALER keeps up to `window` requests in flight (the node
 * answers them in order, so a ring of send times matches answers to
 * requests). A node that batches concurrent submits into one commit is
 * measured this way. */
struct load {
	struct conn *c;
	FILE *out;
	uint64_t *lat;
	unsigned long count, window, weight;
	double rate;
	const char *category, *bsn;
	unsigned long subjects;
	int quiet;
};

static int run_window(struct load *l)
{
	struct conn *c = l->c;
	uint64_t *sent_wall = calloc(l->window, sizeof *sent_wall);
	struct timespec *sent_mono = calloc(l->window, sizeof *sent_mono);
	unsigned long next = 0, answered = 0, inflight = 0, head = 0;
	uint64_t ok = 0, refused = 0, failed = 0, t0 = sp_mono_ms();
	int hwm = 0;
	char summary[64], idhex[SP_ID_HEX];
	if (!sent_wall || !sent_mono)
		goto out;
	zmq_close(c->sock);
	c->sock = zmq_socket(c->ctx, ZMQ_DEALER);
	zmq_setsockopt(c->sock, ZMQ_LINGER, &hwm, sizeof hwm);
	if (!c->sock || zmq_connect(c->sock, c->ep) != 0)
		goto out;
	while (answered < l->count) {
		/* send while the window has room and the pace allows */
		while (next < l->count && inflight < l->window) {
			if (l->rate > 0) {
				uint64_t due = t0 + (uint64_t)((double)next * 1000.0 / l->rate);
				if (due > sp_mono_ms())
					break;
			}
			Seinpost__SubmitRequest s = SEINPOST__SUBMIT_REQUEST__INIT;
			Seinpost__LocalRequest req = SEINPOST__LOCAL_REQUEST__INIT;
			uint8_t *buf = NULL;
			size_t len;
			snprintf(summary, sizeof summary, "load test signal %lu", next);
			s.category = (char *)l->category;
			s.weight = (uint32_t)l->weight;
			s.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
			char sbsn[10];
			if (l->subjects) {
				subject_bsn(next % l->subjects, sbsn);
				s.subject_id = sbsn;
			} else {
				s.subject_id = (char *)l->bsn;
			}
			s.summary = summary;
			s.contact = "load generator";
			req.body_case = SEINPOST__LOCAL_REQUEST__BODY_SUBMIT;
			req.submit = &s;
			if (sp_wire_pack(&req.base, &buf, &len) != SP_OK)
				goto out;
			unsigned long slot = (head + inflight) % l->window;
			sent_wall[slot] = sp_now_ms();
			clock_gettime(CLOCK_MONOTONIC, &sent_mono[slot]);
			/* an empty delimiter, as a REQ socket sends */
			if (zmq_send(c->sock, "", 0, ZMQ_SNDMORE) < 0 || zmq_send(c->sock, buf, len, 0) < 0) {
				free(buf);
				goto out;
			}
			free(buf);
			next++;
			inflight++;
		}
		zmq_pollitem_t it = { .socket = c->sock, .events = ZMQ_POLLIN };
		long wait_ms = inflight ? c->timeout : 1;
		if (zmq_poll(&it, 1, wait_ms) <= 0) {
			if (inflight) {
				if (!l->quiet)
					fprintf(stderr, "sp_load: no answer within %d ms; stopping\n", c->timeout);
				failed += l->count - answered;
				break;
			}
			continue;
		}
		zmq_msg_t m;
		int more;
		size_t ml = sizeof more;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, c->sock, 0) < 0) /* the delimiter */
			goto out;
		zmq_getsockopt(c->sock, ZMQ_RCVMORE, &more, &ml);
		if (more && (zmq_msg_close(&m), zmq_msg_init(&m), zmq_msg_recv(&m, c->sock, 0) < 0))
			goto out;
		Seinpost__LocalReply *r = seinpost__local_reply__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
		zmq_msg_close(&m);
		struct timespec b;
		clock_gettime(CLOCK_MONOTONIC, &b);
		unsigned long slot = head;
		head = (head + 1) % l->window;
		inflight--;
		answered++;
		if (r && r->code == 0 && r->id.len == 16) {
			int64_t ns = (int64_t)(b.tv_sec - sent_mono[slot].tv_sec) * 1000000000 +
			             (int64_t)(b.tv_nsec - sent_mono[slot].tv_nsec);
			uint64_t us = ns > 0 ? (uint64_t)ns / 1000u : 0;
			l->lat[ok++] = us;
			fprintf(l->out, "%s %llu %llu\n", sp_hex(r->id.data, 16, idhex),
			        (unsigned long long)sent_wall[slot], (unsigned long long)us);
		} else {
			refused++;
			failed++;
			if (!l->quiet && refused <= 5)
				fprintf(stderr, "sp_load: refused: %s\n", r ? r->message : "undecodable answer");
		}
		if (r)
			seinpost__local_reply__free_unpacked(r, NULL);
	}
	fflush(l->out);
	double secs = (double)(sp_mono_ms() - t0) / 1000.0;
	if (!l->quiet) {
		qsort(l->lat, ok, sizeof *l->lat, cmp_u64);
		fprintf(stderr, "sp_load: submitted %lu, ok %llu, failed %llu (refused %llu), %.1f s, %.0f/s, "
		        "latency p50 %.2f ms p99 %.2f ms\n", next, (unsigned long long)ok,
		        (unsigned long long)failed, (unsigned long long)refused, secs, secs > 0 ? ok / secs : 0.0,
		        ok ? l->lat[ok / 2] / 1000.0 : 0.0, ok ? l->lat[ok * 99 / 100] / 1000.0 : 0.0);
	}
	free(sent_wall);
	free(sent_mono);
	return failed ? 1 : 0;
out:
	fprintf(stderr, "sp_load: connection failed\n");
	free(sent_wall);
	free(sent_mono);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ "category", required_argument, NULL, 'C' },
		{ "weight", required_argument, NULL, 'w' },
		{ "bsn", required_argument, NULL, 'b' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "window", required_argument, NULL, 'W' },
		{ "subjects", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfg_path = NULL, *out_path = NULL, *category = "drug-recruitment", *bsn = "111222333";
	unsigned long count = 100, weight = 2, window = 1, subjects = 0;
	double rate = 0;
	int quiet = 0, o, status = 2;
	struct conn c = { .timeout = 5000 };
	sp_config cfg;
	char err[1024], path[PATH_MAX], summary[64];
	FILE *out = stdout;
	uint64_t *lat = NULL, ok = 0, failed = 0, refused = 0;

	while ((o = getopt_long(argc, argv, "c:n:r:o:t:qhW:", opts, NULL)) != -1) {
		char *end = NULL;
		switch (o) {
		case 'c': cfg_path = optarg; break;
		case 'n': count = strtoul(optarg, &end, 10); break;
		case 'r': rate = strtod(optarg, &end); break;
		case 'o': out_path = optarg; break;
		case 'C': category = optarg; break;
		case 'w': weight = strtoul(optarg, &end, 10); break;
		case 'b': bsn = optarg; break;
		case 't': c.timeout = (int)strtol(optarg, &end, 10); break;
		case 'q': quiet = 1; break;
		case 'W': window = strtoul(optarg, &end, 10); break;
		case 'S': subjects = strtoul(optarg, &end, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (end && (*end || end == optarg)) {
			fprintf(stderr, "sp_load: bad number: %s\n", optarg);
			return 2;
		}
	}
	if (!cfg_path || optind != argc || count == 0 || weight < 1 || weight > 3 || rate < 0 || c.timeout <= 0 ||
	    window < 1 || window > 4096) {
		usage(stderr);
		return 2;
	}
	sp_log_init("sp_load", 0, 0);
	if (sp_config_load(cfg_path, &cfg, err, sizeof err) != SP_OK) {
		fprintf(stderr, "sp_load: %s\n", err);
		return 2;
	}
	if (cfg.role != SP_RUN_NODE || sp_config_submit_socket(&cfg, path, sizeof path) != SP_OK) {
		fprintf(stderr, "sp_load: %s is not a node configuration\n", cfg_path);
		return 2;
	}
	if (out_path && !(out = fopen(out_path, "a"))) {
		fprintf(stderr, "sp_load: cannot open %s: %s\n", out_path, strerror(errno));
		return 2;
	}
	lat = calloc(count, sizeof *lat);
	c.ctx = zmq_ctx_new();
	snprintf(c.ep, sizeof c.ep, "ipc://%s", path);
	if (!lat || !c.ctx || conn_open(&c) != 0) {
		fprintf(stderr, "sp_load: cannot set up the connection\n");
		goto out;
	}

	if (window > 1) {
		struct load l = { .c = &c, .out = out, .lat = lat, .count = count, .rate = rate,
		                  .window = window, .category = category, .weight = weight, .bsn = bsn,
		                  .subjects = subjects,
		                  .quiet = quiet };
		status = run_window(&l);
		goto out;
	}
	uint64_t t0 = sp_mono_ms();
	for (unsigned long i = 0; i < count; i++) {
		Seinpost__SubmitRequest s = SEINPOST__SUBMIT_REQUEST__INIT;
		Seinpost__LocalRequest req = SEINPOST__LOCAL_REQUEST__INIT;
		uint8_t id[16];
		char msg[300], idhex[SP_ID_HEX];

		if (rate > 0) {
			/* Pace against the start, so a slow answer is caught up. */
			uint64_t due = t0 + (uint64_t)((double)i * 1000.0 / rate);
			uint64_t now = sp_mono_ms();
			if (due > now)
				usleep((useconds_t)(due - now) * 1000);
		}
		snprintf(summary, sizeof summary, "load test signal %lu", i);
		s.category = (char *)category;
		s.weight = (uint32_t)weight;
		s.subject_kind = SEINPOST__SUBJECT_KIND__SUBJECT_PERSON;
		char sbsn[10];
		if (subjects) {
			subject_bsn(i % subjects, sbsn);
			s.subject_id = sbsn;
		} else {
			s.subject_id = (char *)bsn;
		}
		s.summary = summary;
		s.contact = "load generator";
		req.body_case = SEINPOST__LOCAL_REQUEST__BODY_SUBMIT;
		req.submit = &s;
		uint64_t wall = sp_now_ms();
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		int rc = submit_one(&c, &req, id, msg, sizeof msg);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (rc == 0) {
			/* Signed: the nanoseconds go negative when the request
			 * crosses a second boundary. */
			int64_t ns = (int64_t)(b.tv_sec - a.tv_sec) * 1000000000 + (int64_t)(b.tv_nsec - a.tv_nsec);
			uint64_t us = ns > 0 ? (uint64_t)ns / 1000u : 0;
			lat[ok++] = us;
			fprintf(out, "%s %llu %llu\n", sp_hex(id, 16, idhex), (unsigned long long)wall,
			        (unsigned long long)us);
			fflush(out);
			continue;
		}
		if (rc > 0) {
			refused++;
			if (!quiet && refused <= 5)
				fprintf(stderr, "sp_load: signal %lu refused: %s\n", i, msg);
		} else {
			if (!quiet && failed < 5)
				fprintf(stderr, "sp_load: signal %lu: %s\n", i, msg);
			conn_reset(&c);
		}
		failed++;
		/* Node down: do not spin. A refusal is an answer: go on. */
		usleep(rc > 0 ? 1000 : 100000);
	}
	double secs = (double)(sp_mono_ms() - t0) / 1000.0;
	if (!quiet) {
		qsort(lat, ok, sizeof *lat, cmp_u64);
		fprintf(stderr, "sp_load: submitted %lu, ok %llu, failed %llu (refused %llu), %.1f s, %.0f/s, "
		        "latency p50 %.2f ms p99 %.2f ms\n", count, (unsigned long long)ok,
		        (unsigned long long)failed, (unsigned long long)refused, secs, secs > 0 ? ok / secs : 0.0,
		        ok ? lat[ok / 2] / 1000.0 : 0.0, ok ? lat[ok * 99 / 100] / 1000.0 : 0.0);
	}
	status = failed ? 1 : 0;
out:
	if (c.sock)
		zmq_close(c.sock);
	if (c.ctx)
		zmq_ctx_term(c.ctx);
	if (out && out != stdout)
		fclose(out);
	free(lat);
	return status;
}
