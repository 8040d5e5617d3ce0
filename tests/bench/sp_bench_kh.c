/* sp_bench_kh.c — what privilege separation costs per operation: each
 * secret-key operation of a node (sign, open a grant, pseudonymise) done
 * in-process and through the key holder (one SOCK_SEQPACKET round trip to
 * a second process, as the daemon does). Prints one JSON object; the
 * "added" figures are the difference of the medians, per operation, in
 * microseconds.
 * Usage: sp_bench_kh [N] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "sp_keyholder.h"

#define ORG "politie-limburg"

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void serve(sp_kh *local, int fd)
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

/* op: 0 sign (a 300-byte header), 1 unseal, 2 pseudonym, 3 a 1-byte sign (the round trip alone) */
static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The median of n timed calls: the build machine is shared and loaded, a
 * mean would measure the neighbours. */
static double run(sp_kh *kh, int op, int n, const uint8_t *sealed)
{
	uint8_t msg[300], out[64];
	double *t = malloc((size_t)n * sizeof *t), med;
	if (!t)
		exit(1);
	memset(msg, 'h', sizeof msg);
	for (int i = 0; i < n; i++) {
		double t0 = now_us();
		int rc = op == 0   ? sp_kh_sign(kh, SP_KH_DOM_SIGNAL, msg, sizeof msg, out)
		         : op == 1 ? sp_kh_unseal(kh, sealed, out)
		         : op == 2 ? sp_kh_pseudonym(kh, 1, 1, "111222333", out)
		                   : sp_kh_sign(kh, SP_KH_DOM_READ, msg, 1, out);
		if (rc != SP_OK) {
			fprintf(stderr, "sp_bench_kh: op %d failed: %s\n", op, sp_strerror(rc));
			exit(1);
		}
		t[i] = now_us() - t0;
	}
	qsort(t, (size_t)n, sizeof *t, cmp);
	med = t[n / 2];
	free(t);
	return med;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000, sv[2], st;
	sp_keyset *keys = NULL;
	sp_pseudo_keyring *kr = NULL;
	sp_kh *local = NULL, *remote = NULL;
	uint8_t key[32], sealed[80];
	static const char *names[] = { "sign_300B", "unseal", "pseudonym", "round_trip_only" };
	double l[4], r[4];
	pid_t pid;

	if (n < 1 || sodium_init() < 0 || sp_keys_generate(1, &keys) != SP_OK ||
	    sp_pseudo_keyring_generate(1, &kr) != SP_OK || sp_kh_local(ORG, keys, kr, &local) != SP_OK ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return 1;
	randombytes_buf(key, sizeof key);
	if (crypto_box_seal(sealed, key, 32, keys->box_pk) != 0)
		return 1;
	pid = fork();
	if (pid == 0) {
		close(sv[1]);
		serve(local, sv[0]);
	}
	close(sv[0]);
	if (sp_kh_remote(sv[1], &remote) != SP_OK)
		return 1;
	for (int op = 0; op < 4; op++) {
		(void)run(local, op, n / 10 + 1, sealed); /* warm up */
		l[op] = run(local, op, n, sealed);
		r[op] = run(remote, op, n, sealed);
	}
	printf("{\"n\": %d", n);
	for (int op = 0; op < 4; op++)
		printf(", \"%s\": {\"in_process_us\": %.2f, \"key_holder_us\": %.2f, \"added_us\": %.2f}", names[op],
		       l[op], r[op], r[op] - l[op]);
	/* A submitted signal: one pseudonym + one signature through the key
	 * holder; a received one: one grant opened per granted tier at hand-over
	 * plus its share of one receipt signature per batch. */
	printf(", \"added_per_submit_us\": %.2f}\n", (r[0] - l[0]) + (r[2] - l[2]));
	sp_kh_free(&remote);
	waitpid(pid, &st, 0);
	sp_kh_free(&local);
	sp_pseudo_keyring_free(&kr);
	sp_keys_free(&keys);
	return 0;
}
