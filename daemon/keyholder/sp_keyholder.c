/*
 * sp_keyholder.c — the node's key holder (sp_keyholder.h, docs/privsep.md).
 *
 * Process layout of a node (OpenBSD privsep, smtpd's "ca" process turned
 * parent):
 *
 *   seinpostd (key holder, parent)       holds sign.key, box.key, pseudo.key
 *     |  socketpair, SOCK_SEQPACKET       answers SIGN / UNSEAL / PSEUDONYM
 *     +-- seinpostd (network process)     ZeroMQ, submit socket, spool, LMDB,
 *           +-- hook programs              hooks; holds only the CURVE key
 *
 * The network process is forked BEFORE any secret is read, so its memory
 * never held one; the parent then loads the keys, makes itself undumpable
 * (so neither the child nor any other process of the user can read its
 * memory or ptrace it) and gives up the file system entirely (Landlock with
 * no rule). The child cannot ptrace its parent in any case: it is in a
 * nested Landlock domain, and Yama (where enabled) forbids it too.
 *
 * Either process dying stops the node: the parent sees the socket close
 * and exits 1; the child gets SIGKILL from the kernel (PR_SET_PDEATHSIG)
 * when the parent dies. systemd (Restart=on-failure) starts both again. The
 * parent never forks a second network process: a fork of the key holder
 * would copy the keys into it.
 *
 * The parser is the only code of this process that reads what the network
 * process sends. It takes no protobuf and no text: fixed fields, exact
 * lengths, and a domain string the key holder adds itself.
 */
#include "sp_keyholder.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sodium.h>

#include "seinpost.pb-c.h"
#include "sp_oprfsvc.h"

#include "sp_bsn.h"
#include "sp_log.h"
#include "sp_node.h"
#include "sp_sandbox.h"
#include "sp_signal.h"

#define C "keyholder"

static volatile sig_atomic_t continued;

static void on_cont(int sig)
{
	(void)sig;
	continued = 1;
}
#define TEXT_MAX 4096 /* a signal header or a read event; both are a few hundred bytes */

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The receipts layout of sp_signal.c, after the domain: len(org) org
 * be64(time) be32(n) n ids; org must be ours, 1 <= n <= SP_RECEIPT_BATCH_MAX. */
static int receipts_ok(const uint8_t *m, size_t len, const char *org)
{
	size_t ol = strlen(org), n;
	if (len < 1 || m[0] != ol || ol == 0 || len < 1 + ol + 12 || memcmp(m + 1, org, ol) != 0)
		return 0;
	n = be32(m + 1 + ol + 8);
	return n >= 1 && n <= SP_RECEIPT_BATCH_MAX && len == 1 + ol + 12 + 16 * n;
}

/* An OprfRequest of our organisation with whole elements: the key holder
 * signs nothing else under the service's domain. */
static int oprf_req_ok(const uint8_t *m, size_t len, const char *org)
{
	Seinpost__OprfRequest *rq = seinpost__oprf_request__unpack(NULL, len, m);
	int ok = rq && rq->org && strcmp(rq->org, org) == 0 && rq->blinded.len >= 32 && rq->blinded.len % 32 == 0 &&
	         rq->blinded.len <= 32 * SP_KH_OPRF_POINTS && rq->request_id.len == SP_OPRF_REQ_ID_BYTES;
	seinpost__oprf_request__free_unpacked(rq, NULL);
	return ok;
}

static int id_ok(int kind, const char *id)
{
	char norm[24];
	int ok = 0;
	switch (kind) {
	case SP_SUBJECT_PERSON:
		ok = strlen(id) == 9 && sp_bsn_normalise(id, norm) == SP_OK && strcmp(norm, id) == 0;
		break;
	case SP_SUBJECT_BUSINESS:
		ok = strlen(id) == 8 && sp_kvk_normalise(id, norm) == SP_OK && strcmp(norm, id) == 0;
		break;
	case SP_SUBJECT_LOCATION:
		ok = strlen(id) == 16 && sp_bag_normalise(id, norm) == SP_OK && strcmp(norm, id) == 0;
		break;
	}
	sodium_memzero(norm, sizeof norm);
	return ok;
}

int sp_keyholder_parse(const uint8_t *buf, size_t len, const char *org, sp_kh_request *out)
{
	const uint8_t *b;
	size_t bl;

	memset(out, 0, sizeof *out);
	if (!buf || !org || len < SP_KH_HDR || len > SP_KH_MSG_MAX || buf[0] != SP_KH_VERSION || buf[2] || buf[3])
		return SP_EMALFORMED;
	out->op = buf[1];
	out->seq = be32(buf + 4);
	b = buf + SP_KH_HDR;
	bl = len - SP_KH_HDR;
	switch (out->op) {
	case SP_KH_SIGN:
		if (bl < 2 || bl - 1 > SP_KH_SIGN_MAX)
			return SP_EMALFORMED;
		out->domain = b[0];
		out->msg = b + 1;
		out->len = bl - 1;
		if (out->domain == SP_KH_DOM_RECEIPTS)
			return receipts_ok(out->msg, out->len, org) ? SP_OK : SP_EMALFORMED;
		if (out->domain == SP_KH_DOM_SIGNAL || out->domain == SP_KH_DOM_READ)
			return out->len <= TEXT_MAX ? SP_OK : SP_EMALFORMED;
		if (out->domain == SP_KH_DOM_OPRF)
			return oprf_req_ok(out->msg, out->len, org) ? SP_OK : SP_EMALFORMED;
		return SP_EMALFORMED;
	case SP_KH_UNSEAL:
		if (bl != SP_SEALED_KEY_BYTES)
			return SP_EMALFORMED;
		out->msg = b;
		out->len = bl;
		return SP_OK;
	case SP_KH_PSEUDONYM:
		if (bl < 5 + 8 || bl > 5 + 16)
			return SP_EMALFORMED;
		out->epoch = be32(b);
		out->kind = b[4];
		memcpy(out->id, b + 5, bl - 5);
		out->id[bl - 5] = '\0';
		return id_ok(out->kind, out->id) ? SP_OK : SP_EMALFORMED;
	case SP_KH_INFO:
		return bl == 0 ? SP_OK : SP_EMALFORMED;
	case SP_KH_SELECT:
		if (bl != 64)
			return SP_EMALFORMED;
		out->msg = b;
		out->len = bl;
		return SP_OK;
	default:
		return SP_EMALFORMED;
	}
}

void sp_keyholder_answer(sp_kh *local, const char *org, const uint8_t *req, size_t len, uint8_t *ans,
                         size_t *anslen)
{
	sp_kh_request r;
	uint8_t *body = ans + SP_KH_HDR;
	size_t bl = 0, ol = strlen(org);
	int rc = sp_keyholder_parse(req, len, org, &r);

	if (rc == SP_OK) {
		switch (r.op) {
		case SP_KH_SIGN:
			rc = sp_kh_sign(local, r.domain, r.msg, r.len, body);
			bl = 64;
			break;
		case SP_KH_UNSEAL:
			rc = sp_kh_unseal(local, r.msg, body);
			bl = SP_TIER_KEY_BYTES;
			break;
		case SP_KH_PSEUDONYM:
			rc = sp_kh_pseudonym(local, r.epoch, r.kind, r.id, body);
			bl = 32;
			break;
		case SP_KH_SELECT:
			rc = sp_kh_select(local, r.msg, r.msg + 32, body);
			if (rc == SP_OK)
				memcpy(body + 32, sp_kh_box_pk(local), 32);
			bl = 64;
			break;
		case SP_KH_INFO: {
			uint32_t e = sp_kh_epoch(local);
			memcpy(body, sp_kh_sign_pk(local), 32);
			memcpy(body + 32, sp_kh_box_pk(local), 32);
			body[64] = (uint8_t)(e >> 24);
			body[65] = (uint8_t)(e >> 16);
			body[66] = (uint8_t)(e >> 8);
			body[67] = (uint8_t)e;
			memcpy(body + 68, org, ol);
			bl = 68 + ol;
			break;
		}
		}
	}
	sodium_memzero(&r, sizeof r);
	if (rc != SP_OK)
		bl = 0;
	ans[0] = SP_KH_VERSION;
	ans[1] = len >= 2 ? req[1] : 0;
	ans[2] = (uint8_t)((unsigned)-rc >> 8);
	ans[3] = (uint8_t)-rc;
	if (len >= SP_KH_HDR)
		memcpy(ans + 4, req + 4, 4);
	else
		memset(ans + 4, 0, 4);
	*anslen = SP_KH_HDR + bl;
}

/* ---- the process split ----------------------------------------------------- */

/* The network process: never returns. */
static void network_child(const sp_config *c, int fd, pid_t parent, volatile sig_atomic_t *stop,
                          volatile sig_atomic_t *reload)
{
	sp_kh *kh = NULL;
	char pid[24];
	int rc;

	/* The kernel kills us when the key holder dies (kill -9 included). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent)
		_exit(1);
	/* sd_notify READY/WATCHDOG come from this process (NotifyAccess=all);
	 * sd_watchdog_enabled checks WATCHDOG_PID against getpid(). */
	if (getenv("WATCHDOG_PID")) {
		snprintf(pid, sizeof pid, "%ld", (long)getpid());
		setenv("WATCHDOG_PID", pid, 1);
	}
	rc = sp_kh_remote(fd, &kh);
	if (rc == SP_OK)
		rc = sp_node_run(c, kh, stop, reload);
	sp_kh_free(&kh);
	exit(rc == SP_OK ? 0 : 1);
}

/* Every key generation (sp_keys.h): DIR, then DIR/old/<n>, newest first. */
static int load(const sp_config *c, sp_keyring *ring, sp_pseudo_keyring **kr)
{
	int rc = sp_keyring_load(c->keys_dir, ring);
	if (rc != SP_OK || !ring->k[0]->has_box) {
		sp_log(LOG_ERR, C, "keys in %s: %s", c->keys_dir, rc ? sp_strerror(rc) : "box key missing");
		return rc ? rc : SP_EKEY;
	}
	if (!c->pseudo_key_path[0])
		return SP_OK; /* no pseudonymisation secret here: pseudonyms come from the service */
	rc = sp_pseudo_keyring_load(c->pseudo_key_path, kr);
	if (rc != SP_OK)
		sp_log(LOG_ERR, C, "pseudonymisation key %s: %s", c->pseudo_key_path, sp_strerror(rc));
	return rc;
}

int sp_keyholder_run(const sp_config *c, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
	sp_keyring ring = { 0 };
	sp_pseudo_keyring *kr = NULL;
	sp_kh *local = NULL;
	uint8_t req[SP_KH_MSG_MAX], ans[SP_KH_MSG_MAX];
	int sv[2], st = 0, termed = 0, exited = 0, rc;
	pid_t pid, self = getpid();

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		sp_log(LOG_ERR, C, "socketpair: %s", strerror(errno));
		return 1;
	}
	/* A datagram larger than the sender's buffer is refused (EMSGSIZE):
	 * make room for the largest SIGN request (an OprfRequest of 4,096
	 * points, SP_KH_MSG_MAX) whatever the system's default. */
	for (int i = 0; i < 2; i++) {
		int sz = 2 * SP_KH_MSG_MAX;
		if (setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz) != 0)
			sp_log(LOG_WARNING, C, "socketpair: SO_SNDBUF: %s", strerror(errno));
	}
	pid = fork();
	if (pid < 0) {
		sp_log(LOG_ERR, C, "fork: %s", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(sv[0]);
		network_child(c, sv[1], self, stop, reload);
	}
	close(sv[1]);
	/* SIGSTOP to the node's main PID stops the network process too (it
	 * follows at its next request, sp_kh.c); SIGCONT is passed on. */
	struct sigaction sa = { .sa_handler = on_cont };
	sigaction(SIGCONT, &sa, NULL);
	/* Only now, in the parent, do the secrets enter memory. */
	rc = load(c, &ring, &kr);
	if (rc == SP_OK)
		rc = sp_kh_local_ring(c->org, &ring, c->keys_dir, kr, &local);
	if (rc == SP_OK)
		rc = sp_sandbox_keyholder(c->keys_dir);
	if (rc != SP_OK) {
		kill(pid, SIGTERM);
		termed = 1;
	} else {
		sp_log(LOG_INFO, C, "holding the node's keys; network process %ld", (long)pid);
	}
	while (!exited) {
		struct pollfd p = { .fd = sv[0], .events = POLLIN };
		if (*stop && !termed) {
			kill(pid, SIGTERM); /* the network process stops cleanly; we follow */
			termed = 1;
		}
		if (*reload) {
			*reload = 0;
			kill(pid, SIGHUP);
		}
		if (continued) {
			continued = 0;
			kill(pid, SIGCONT);
		}
		int pr = poll(&p, 1, 200);
		if (pr > 0 && (p.revents & POLLIN) && local) {
			ssize_t n = recv(sv[0], req, sizeof req, MSG_TRUNC);
			if (n > 0) {
				size_t al;
				sp_keyholder_answer(local, c->org, req, (size_t)n > sizeof req ? 0 : (size_t)n, ans, &al);
				(void)send(sv[0], ans, al, MSG_NOSIGNAL);
				sodium_memzero(req, (size_t)n > sizeof req ? sizeof req : (size_t)n);
				sodium_memzero(ans, al);
				continue;
			}
			if (n == 0)
				pr = -2; /* end of file: the network process is gone or going */
		}
		if (pr == -2 || (pr > 0 && (p.revents & (POLLHUP | POLLERR)))) {
			/* The socket closed: wait for the process itself, without spinning. */
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			exited = 1;
		} else if (waitpid(pid, &st, WNOHANG | WUNTRACED) == pid) {
			if (WIFSTOPPED(st))
				kill(pid, SIGCONT); /* it followed a stop of ours that is over: the SIGCONT raced it */
			else
				exited = 1;
		}
	}
	close(sv[0]);
	sp_kh_free(&local);
	sp_pseudo_keyring_free(&kr);
	sp_keyring_free(&ring);
	if (rc != SP_OK)
		return 1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		sp_log(LOG_INFO, C, "network process stopped; key holder exits");
		return 0;
	}
	if (WIFSIGNALED(st))
		sp_log(LOG_ERR, C, "the network process was killed by signal %d; stopping the node (systemd restarts it)",
		       WTERMSIG(st));
	else
		sp_log(LOG_ERR, C, "the network process exited with status %d; stopping the node", WEXITSTATUS(st));
	return WIFEXITED(st) ? (WEXITSTATUS(st) ? WEXITSTATUS(st) : 1) : 1;
}
