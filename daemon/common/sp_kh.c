/*
 * sp_kh.c — the handle on secret-key operations (sp_keyholder.h): in this
 * process (CLI, tools, and the key holder itself) or across the socketpair
 * to the node's key holder (the network process).
 *
 * The remote side is deliberately synchronous: one request, one answer,
 * matched by sequence number. The key holder answers from memory in
 * microseconds. When it dies the socket reaches end of file (and the
 * kernel kills this process anyway, PR_SET_PDEATHSIG): the handle stays
 * "lost" and the node stops; systemd restarts both. When it is alive but
 * does not answer we wait: a wedge ends with the systemd watchdog, whose
 * pings come from this event loop; after SP_KH_TIMEOUT_MS we say so once.
 * When it was stopped (SIGSTOP to the node's main PID), this process stops
 * itself too, ZeroMQ's I/O thread included, so the node stands still as a
 * one-process node did; the key holder passes SIGCONT on.
 */
#include "sp_kh.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sodium.h>

#include "sp_log.h"
#include "sp_oprfsvc.h"
#include "sp_reads.h"
#include "sp_signal.h"
#include "sp_util.h"

#define C "keyholder"

struct sp_kh {
	int fd;                          /* -1: local */
	const sp_keyset *keys;           /* local */
	sp_keyring *ring;                /* local, key generations (instead of keys) */
	const char *keys_dir;            /* local: re-read ring from here on SELECT */
	const sp_pseudo_keyring *kr;     /* local, may be NULL */
	char org[64];
	uint8_t sign_pk[32], box_pk[32];
	uint32_t epoch;
	uint32_t seq;
	int lost;
	pid_t peer;                      /* remote: the key holder (our parent) */
	sp_kh_oprf_fn oprf;              /* the pseudonymisation service, if set */
	void *oprf_ctx;
	uint32_t oprf_epoch;             /* the service's key epoch (rotations by translation) */
};

/* 1 when process pid is stopped (state T or t in /proc/PID/stat). */
static int stopped(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold anything */
	return p && p[1] == ' ' && (p[2] == 'T' || p[2] == 't');
}

static void be32_put(uint8_t b[4], uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static uint32_t be32_get(const uint8_t b[4])
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static const char *domain_string(int d)
{
	switch (d) {
	case SP_KH_DOM_SIGNAL: return SP_SIG_DOMAIN;
	case SP_KH_DOM_RECEIPTS: return SP_RECEIPTS_DOMAIN;
	case SP_KH_DOM_READ: return SP_READ_DOMAIN;
	case SP_KH_DOM_OPRF: return SP_OPRF_REQ_DOMAIN;
	default: return NULL;
	}
}

int sp_kh_local(const char *org, const sp_keyset *k, const sp_pseudo_keyring *kr, sp_kh **out)
{
	sp_kh *kh;
	*out = NULL;
	if (!org || (!k && !kr) || strlen(org) >= sizeof kh->org)
		return SP_EINVAL;
	kh = calloc(1, sizeof *kh);
	if (!kh)
		return SP_ENOMEM;
	kh->fd = -1;
	kh->keys = k;
	kh->kr = kr;
	snprintf(kh->org, sizeof kh->org, "%s", org);
	if (k) {
		memcpy(kh->sign_pk, k->sign_pk, 32);
		memcpy(kh->box_pk, k->box_pk, 32);
	}
	kh->epoch = kr ? sp_pseudo_current_epoch(kr) : 0;
	*out = kh;
	return SP_OK;
}

int sp_kh_local_ring(const char *org, sp_keyring *ring, const char *keys_dir, const sp_pseudo_keyring *kr,
                     sp_kh **out)
{
	int rc;
	if (!ring || ring->n < 1)
		return SP_EINVAL;
	rc = sp_kh_local(org, ring->k[0], kr, out);
	if (rc == SP_OK) {
		(*out)->keys = NULL;
		(*out)->ring = ring;
		(*out)->keys_dir = keys_dir;
	}
	return rc;
}

/* The local keys that sign: the current generation. */
static const sp_keyset *cur(const sp_kh *kh)
{
	return kh->ring ? kh->ring->k[0] : kh->keys;
}

/* One round trip. body/blen: request body; ans/anslen: the answer body,
 * which must be exactly anslen bytes. */
static int call(sp_kh *kh, int op, const uint8_t *b1, size_t l1, const uint8_t *b2, size_t l2,
                uint8_t *ans, size_t anslen)
{
	uint8_t buf[SP_KH_MSG_MAX];
	size_t len = SP_KH_HDR + l1 + l2;
	uint32_t seq;
	ssize_t r;
	int rc = SP_EIO;

	if (kh->lost)
		return SP_EIO;
	if (len > sizeof buf)
		return SP_ESIZE;
	seq = ++kh->seq;
	buf[0] = SP_KH_VERSION;
	buf[1] = (uint8_t)op;
	buf[2] = buf[3] = 0;
	be32_put(buf + 4, seq);
	if (l1)
		memcpy(buf + SP_KH_HDR, b1, l1);
	if (l2)
		memcpy(buf + SP_KH_HDR + l1, b2, l2);
	do
		r = send(kh->fd, buf, len, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)len)
		goto lost;
	for (int waited = 0;;) {
		struct pollfd p = { .fd = kh->fd, .events = POLLIN };
		int pr = poll(&p, 1, 200);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			if (kh->peer > 1 && stopped(kh->peer))
				raise(SIGSTOP); /* until the key holder passes SIGCONT on */
			waited += 200;
			if (waited == SP_KH_TIMEOUT_MS)
				sp_log(LOG_WARNING, C, "the key holder has not answered for %d s (stopped?); waiting",
				       SP_KH_TIMEOUT_MS / 1000);
			continue;
		}
		if (pr < 0)
			goto lost;
		r = recv(kh->fd, buf, sizeof buf, MSG_TRUNC);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (size_t)r > sizeof buf || r < SP_KH_HDR)
			goto lost; /* EOF: the key holder is gone */
		break;
	}
	if (buf[0] != SP_KH_VERSION || buf[1] != op ||
	    be32_get(buf + 4) != seq)
		goto lost; /* out of step: nothing after this can be trusted */
	rc = -(int)((unsigned)buf[2] << 8 | buf[3]);
	if (rc == SP_OK && (size_t)r - SP_KH_HDR != anslen)
		rc = SP_EMALFORMED;
	else if (rc == SP_OK)
		memcpy(ans, buf + SP_KH_HDR, anslen);
	sodium_memzero(buf, (size_t)r);
	return rc;
lost:
	if (!kh->lost)
		sp_log(LOG_ERR, C, "the key holder does not answer (%s); stopping", r == 0 ? "it exited" : strerror(errno));
	kh->lost = 1;
	sodium_memzero(buf, sizeof buf);
	return SP_EIO;
}

int sp_kh_remote(int fd, sp_kh **out)
{
	uint8_t info[32 + 32 + 4 + 64];
	sp_kh *kh;
	int rc;
	*out = NULL;
	kh = calloc(1, sizeof *kh);
	if (!kh) {
		close(fd);
		return SP_ENOMEM;
	}
	kh->fd = fd;
	kh->peer = getppid();
	/* INFO's org is variable: ask with room for the longest and check. */
	{
		uint8_t buf[SP_KH_MSG_MAX];
		uint8_t req[SP_KH_HDR] = { SP_KH_VERSION, SP_KH_INFO, 0, 0, 0, 0, 0, 1 };
		ssize_t r;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		kh->seq = 1;
		rc = SP_EIO;
		if (send(fd, req, sizeof req, MSG_NOSIGNAL) != (ssize_t)sizeof req ||
		    poll(&p, 1, SP_KH_TIMEOUT_MS) <= 0)
			goto out;
		r = recv(fd, buf, sizeof buf, 0);
		if (r < SP_KH_HDR + 68 + 1 || r > SP_KH_HDR + (ssize_t)sizeof info - 1 || buf[0] != SP_KH_VERSION ||
		    buf[1] != SP_KH_INFO || buf[2] || buf[3])
			goto out;
		memcpy(info, buf + SP_KH_HDR, (size_t)r - SP_KH_HDR);
		memcpy(kh->sign_pk, info, 32);
		memcpy(kh->box_pk, info + 32, 32);
		kh->epoch = be32_get(info + 64);
		memcpy(kh->org, info + 68, (size_t)r - SP_KH_HDR - 68);
		kh->org[(size_t)r - SP_KH_HDR - 68] = '\0';
		rc = SP_OK;
	}
out:
	if (rc != SP_OK) {
		sp_log(LOG_ERR, C, "the key holder did not answer at start");
		sp_kh_free(&kh);
		return rc;
	}
	*out = kh;
	return SP_OK;
}

void sp_kh_free(sp_kh **khp)
{
	if (!khp || !*khp)
		return;
	if ((*khp)->fd >= 0)
		close((*khp)->fd);
	sodium_memzero(*khp, sizeof **khp);
	free(*khp);
	*khp = NULL;
}

int sp_kh_sign(sp_kh *kh, int domain, const uint8_t *msg, size_t len, uint8_t sig[64])
{
	const char *d = domain_string(domain);
	if (!kh || !d || !msg || len < 1 || len > SP_KH_SIGN_MAX || !sig)
		return SP_EINVAL;
	if (kh->fd >= 0) {
		uint8_t dom = (uint8_t)domain;
		return call(kh, SP_KH_SIGN, &dom, 1, msg, len, sig, 64);
	}
	if (!cur(kh))
		return SP_EKEY;
	size_t dl = strlen(d);
	uint8_t *m = malloc(dl + len);
	if (!m)
		return SP_ENOMEM;
	memcpy(m, d, dl);
	memcpy(m + dl, msg, len);
	crypto_sign_detached(sig, NULL, m, dl + len, cur(kh)->sign_sk);
	free(m);
	return SP_OK;
}

int sp_kh_unseal(sp_kh *kh, const uint8_t sealed[80], uint8_t key[32])
{
	if (!kh || !sealed || !key)
		return SP_EINVAL;
	if (kh->fd >= 0)
		return call(kh, SP_KH_UNSEAL, sealed, SP_SEALED_KEY_BYTES, NULL, 0, key, SP_TIER_KEY_BYTES);
	if (kh->ring) {
		/* The current box key first, then those of earlier generations:
		 * a delivery sealed before a rotation stays openable. */
		int rc = SP_EKEY;
		for (size_t i = 0; i < kh->ring->n; i++) {
			const sp_keyset *k = kh->ring->k[i];
			if (!k->has_box)
				continue;
			if (crypto_box_seal_open(key, sealed, SP_SEALED_KEY_BYTES, k->box_pk, k->box_sk) == 0)
				return SP_OK;
			rc = SP_ECRYPTO;
		}
		return rc;
	}
	if (!kh->keys || !kh->keys->has_box)
		return SP_EKEY;
	return crypto_box_seal_open(key, sealed, SP_SEALED_KEY_BYTES, kh->keys->box_pk, kh->keys->box_sk) == 0
	       ? SP_OK : SP_ECRYPTO;
}

int sp_kh_select(sp_kh *kh, const uint8_t curve_pk[32], const uint8_t sign_pk[32], uint8_t curve_sk[32])
{
	int rc;
	if (!kh || !curve_pk || !sign_pk || !curve_sk)
		return SP_EINVAL;
	if (kh->fd >= 0) {
		uint8_t ans[64];
		rc = call(kh, SP_KH_SELECT, curve_pk, 32, sign_pk, 32, ans, sizeof ans);
		if (rc == SP_OK) {
			memcpy(curve_sk, ans, 32);
			memcpy(kh->sign_pk, sign_pk, 32);
			memcpy(kh->box_pk, ans + 32, 32);
		}
		sodium_memzero(ans, sizeof ans);
		return rc;
	}
	if (!kh->ring)
		return SP_EKEY;
	rc = sp_keyring_select(kh->ring, curve_pk, sign_pk);
	if (rc == SP_ENOTFOUND && kh->keys_dir) {
		/* `keys rotate` wrote a generation after we loaded: read keys/ again. */
		sp_keyring fresh;
		if (sp_keyring_load(kh->keys_dir, &fresh) == SP_OK) {
			if (sp_keyring_select(&fresh, curve_pk, sign_pk) == SP_OK) {
				sp_keyring_free(kh->ring);
				*kh->ring = fresh;
				rc = SP_OK;
			} else {
				sp_keyring_free(&fresh);
			}
		}
	}
	if (rc != SP_OK)
		return rc;
	if (!kh->ring->k[0]->has_box)
		return SP_EKEY;
	memcpy(curve_sk, kh->ring->k[0]->curve_sk, 32);
	memcpy(kh->sign_pk, kh->ring->k[0]->sign_pk, 32);
	memcpy(kh->box_pk, kh->ring->k[0]->box_pk, 32);
	return SP_OK;
}

int sp_kh_pseudonym(sp_kh *kh, uint32_t epoch, int kind, const char *normalised_id, uint8_t out[32])
{
	size_t l;
	if (!kh || !normalised_id || !out || kind < 1 || kind > 3)
		return SP_EINVAL;
	l = strlen(normalised_id);
	if (l < 1 || l > 16)
		return SP_EINVAL;
	if (kh->oprf && epoch == SP_PSEUDO_EPOCH_OPRF + kh->oprf_epoch) {
		char why[256];
		return kh->oprf(kh->oprf_ctx, 2 /* OPRF_PURPOSE_SUBMIT */, kind, &normalised_id, 1, out, why, sizeof why);
	}
	if (kh->fd >= 0) {
		uint8_t b[5];
		be32_put(b, epoch);
		b[4] = (uint8_t)kind;
		return call(kh, SP_KH_PSEUDONYM, b, 5, (const uint8_t *)normalised_id, l, out, 32);
	}
	if (!kh->kr)
		return SP_EKEY;
	return sp_pseudo_derive(kh->kr, epoch, kind, normalised_id, out);
}

void sp_kh_set_oprf(sp_kh *kh, sp_kh_oprf_fn fn, void *ctx)
{
	if (!kh)
		return;
	kh->oprf = fn;
	kh->oprf_ctx = fn ? ctx : NULL;
}

void sp_kh_set_oprf_epoch(sp_kh *kh, uint32_t key_epoch)
{
	if (kh && key_epoch <= SP_PSEUDO_EPOCH_OPRF_MAX)
		kh->oprf_epoch = key_epoch;
}

int sp_kh_uses_oprf(const sp_kh *kh)
{
	return kh && kh->oprf;
}

int sp_kh_pseudonyms(sp_kh *kh, int purpose, int kind, const char *const *ids, size_t n, uint8_t *out, char *why,
                     size_t whylen)
{
	if (!kh || !ids || !out || n == 0)
		return SP_EINVAL;
	if (!kh->oprf)
		return SP_ENOTFOUND;
	return kh->oprf(kh->oprf_ctx, purpose, kind, ids, n, out, why, whylen);
}

uint32_t sp_kh_epoch(const sp_kh *kh)
{
	return kh->oprf ? SP_PSEUDO_EPOCH_OPRF + kh->oprf_epoch : kh->epoch;
}

const uint8_t *sp_kh_sign_pk(const sp_kh *kh)
{
	return kh->sign_pk;
}

const uint8_t *sp_kh_box_pk(const sp_kh *kh)
{
	return kh->box_pk;
}

int sp_kh_lost(const sp_kh *kh)
{
	return kh && kh->lost;
}
