/* sp_util.c — hex, clocks, atomic files, paths, text checks. */
#include "sp_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *sp_hex(const void *bin, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = bin;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * len] = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int sp_unhex(const char *hex, void *out, size_t outlen)
{
	uint8_t *o = out;
	if (!hex || strlen(hex) != 2 * outlen)
		return SP_EINVAL;
	for (size_t i = 0; i < outlen; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return SP_EINVAL;
		o[i] = (uint8_t)(hi << 4 | lo);
	}
	return SP_OK;
}

/* Test-only clock offset (docs/delivery.md, "testing clock steps"): when
 * SEINPOST_TEST_CLOCK_FILE names a file, its content (signed seconds) is
 * added to the wall clock, re-read at most every 100 ms so a running test
 * can step a live daemon's clock either way. Unset in production; the
 * daemons log a warning at start when it is set. Monotonic time is never
 * shifted. */
#define TEST_CLOCK_ENV "SEINPOST_TEST_CLOCK_FILE"
#define TEST_CLOCK_REREAD_MS 100

static int64_t test_clock_offset_ms(void)
{
	static const char *path;
	static int inited;
	static int64_t offset_ms;
	static uint64_t next_read;
	uint64_t mono;
	if (!__atomic_load_n(&inited, __ATOMIC_ACQUIRE)) {
		path = getenv(TEST_CLOCK_ENV);
		if (path && !path[0])
			path = NULL;
		__atomic_store_n(&inited, 1, __ATOMIC_RELEASE);
	}
	if (!path)
		return 0;
	mono = sp_mono_ms();
	if (mono >= __atomic_load_n(&next_read, __ATOMIC_RELAXED)) {
		char buf[32] = "";
		FILE *f = fopen(path, "r");
		if (f) {
			if (fgets(buf, sizeof buf, f))
				__atomic_store_n(&offset_ms, (int64_t)strtoll(buf, NULL, 10) * 1000, __ATOMIC_RELAXED);
			fclose(f);
		}
		__atomic_store_n(&next_read, mono + TEST_CLOCK_REREAD_MS, __ATOMIC_RELAXED);
	}
	return __atomic_load_n(&offset_ms, __ATOMIC_RELAXED);
}

int sp_test_clock_active(void)
{
	const char *p = getenv(TEST_CLOCK_ENV);
	return p && p[0];
}

uint64_t sp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)((int64_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u) +
	                  test_clock_offset_ms());
}

uint64_t sp_now_s(void)
{
	return sp_now_ms() / 1000u;
}

uint64_t sp_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int sp_file_read(const char *path, size_t max, uint8_t **out, size_t *len)
{
	int rc = SP_EIO;
	uint8_t *buf = NULL;
	size_t n = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno == EACCES ? SP_EPERM : (errno == ENOENT ? SP_ENOTFOUND : SP_EIO);
	struct stat st;
	if (fstat(fileno(f), &st) != 0)
		goto out;
	if ((uint64_t)st.st_size > max) {
		rc = SP_ESIZE;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = SP_ENOMEM;
		goto out;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (n != (size_t)st.st_size || ferror(f))
		goto out;
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	rc = SP_OK;
out:
	free(buf);
	fclose(f);
	return rc;
}

int sp_file_write(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return SP_ESIZE;
	return sp_file_write_via(tmp, path, data, len, mode);
}

int sp_file_write_via(const char *tmp, const char *path, const void *data, size_t len, mode_t mode)
{
	char dir[PATH_MAX];
	int fd = -1, rc = SP_EIO;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return errno == EACCES ? SP_EPERM : SP_EIO;
	if (fchmod(fd, mode) != 0)
		goto out;
	const uint8_t *p = data;
	size_t left = len;
	while (left > 0) {
		ssize_t w = write(fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		p += w;
		left -= (size_t)w;
	}
	if (fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto out;
	if (sp_path_dirname(path, dir, sizeof dir) == SP_OK) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	rc = SP_OK;
out:
	if (fd >= 0)
		close(fd);
	if (rc != SP_OK)
		unlink(tmp);
	return rc;
}

int sp_file_check_private(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return errno == ENOENT ? SP_ENOTFOUND : SP_EIO;
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return SP_EPERM;
	return SP_OK;
}

int sp_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof buf)
		return SP_EINVAL;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return errno == EACCES ? SP_EPERM : SP_EIO;
		*p = '/';
	}
	if (mkdir(buf, mode) != 0 && errno != EEXIST)
		return errno == EACCES ? SP_EPERM : SP_EIO;
	return SP_OK;
}

int sp_path_join(const char *a, const char *b, char *out, size_t outlen)
{
	size_t la = strlen(a);
	int n = snprintf(out, outlen, "%s%s%s", a, (la && a[la - 1] == '/') ? "" : "/", b);
	return (n < 0 || (size_t)n >= outlen) ? SP_ESIZE : SP_OK;
}

int sp_path_resolve(const char *base_dir, const char *rel, char *out, size_t outlen)
{
	if (rel[0] == '/' || !base_dir || !base_dir[0]) {
		if (strlen(rel) >= outlen)
			return SP_ESIZE;
		strcpy(out, rel);
		return SP_OK;
	}
	return sp_path_join(base_dir, rel, out, outlen);
}

int sp_path_dirname(const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(path, '/');
	size_t n;
	if (!slash) {
		if (outlen < 2)
			return SP_ESIZE;
		strcpy(out, ".");
		return SP_OK;
	}
	n = (size_t)(slash - path);
	if (n == 0)
		n = 1;
	if (n >= outlen)
		return SP_ESIZE;
	memcpy(out, path, n);
	out[n] = '\0';
	return SP_OK;
}

void sp_be64_put(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

uint64_t sp_be64_get(const uint8_t in[8])
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

int sp_text_ok(const char *s, size_t max, int allow_newline)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	if (!s)
		return 1;
	while (*p) {
		unsigned c = *p;
		int extra;
		if (++n > max)
			return 0;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f) {
				if (!(allow_newline && (c == '\n' || c == '\t')))
					return 0;
			}
			p++;
			continue;
		}
		if ((c & 0xe0) == 0xc0 && c >= 0xc2) extra = 1;
		else if ((c & 0xf0) == 0xe0) extra = 2;
		else if ((c & 0xf8) == 0xf0 && c <= 0xf4) extra = 3;
		else return 0;
		p++;
		for (int i = 0; i < extra; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return 0;
			if (++n > max)
				return 0;
		}
	}
	return 1;
}

int sp_ident_ok(const char *s)
{
	size_t n;
	if (!s || !s[0])
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (n = 0; s[n]; n++) {
		char c = s[n];
		if (n >= 63)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

const char *sp_iso_time(uint64_t ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000u);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}
