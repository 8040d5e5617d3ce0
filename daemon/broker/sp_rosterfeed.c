/*
 * sp_rosterfeed.c — the broker's roster reader (sp_rosterfeed.h).
 *
 * Protocol over a SOCK_STREAM socketpair: the broker writes one byte; the
 * reader answers be32 status (0 or -SP_E*), be32 length, then the bytes.
 */
#include "sp_rosterfeed.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sp_log.h"
#include "sp_sandbox.h"
#include "sp_util.h"

#define C "rosterfeed"
#define FEED_MAX (4u * 1024 * 1024)

static int feed_fd = -1;
static pid_t feed_pid = -1;

static int write_all(int fd, const void *b, size_t n)
{
	const uint8_t *p = b;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *b, size_t n)
{
	uint8_t *p = b;
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void reader(int fd, const char *path, pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent)
		_exit(1);
	sp_sandbox_nodump();
	for (;;) {
		uint8_t req, hdr[8], *buf = NULL;
		size_t len = 0;
		if (read_all(fd, &req, 1) != 0)
			_exit(0);
		int rc = sp_file_read(path, FEED_MAX, &buf, &len);
		put32(hdr, (uint32_t)-rc);
		put32(hdr + 4, rc == SP_OK ? (uint32_t)len : 0);
		if (write_all(fd, hdr, 8) != 0 || (rc == SP_OK && write_all(fd, buf, len) != 0))
			_exit(0);
		free(buf);
	}
}

int sp_rosterfeed_start(const char *path)
{
	int sv[2];
	pid_t self = getpid();
	if (feed_fd >= 0)
		return SP_OK;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return SP_EIO;
	feed_pid = fork();
	if (feed_pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return SP_EIO;
	}
	if (feed_pid == 0) {
		close(sv[0]);
		reader(sv[1], path, self);
		_exit(0);
	}
	close(sv[1]);
	feed_fd = sv[0];
	return SP_OK;
}

int sp_rosterfeed_read(const char *path, size_t max, uint8_t **out, size_t *len)
{
	uint8_t req = 1, hdr[8];
	uint32_t st, n;
	*out = NULL;
	*len = 0;
	if (feed_fd < 0)
		return sp_file_read(path, max, out, len);
	if (write_all(feed_fd, &req, 1) != 0 || read_all(feed_fd, hdr, 8) != 0)
		goto lost;
	st = get32(hdr);
	n = get32(hdr + 4);
	if (st != 0)
		return -(int)st;
	if (n > max || n > FEED_MAX)
		goto lost;
	if (!(*out = malloc(n ? n : 1)))
		return SP_ENOMEM;
	if (read_all(feed_fd, *out, n) != 0) {
		free(*out);
		*out = NULL;
		goto lost;
	}
	*len = n;
	return SP_OK;
lost:
	sp_log(LOG_ERR, C, "the roster reader does not answer");
	sp_rosterfeed_stop();
	return SP_EIO;
}

void sp_rosterfeed_stop(void)
{
	int st;
	if (feed_fd >= 0)
		close(feed_fd); /* EOF: the reader exits */
	feed_fd = -1;
	if (feed_pid > 0) {
		kill(feed_pid, SIGTERM);
		waitpid(feed_pid, &st, 0);
	}
	feed_pid = -1;
}
