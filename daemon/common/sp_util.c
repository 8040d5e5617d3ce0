/* sp_util.c — hex, clocks, atomic files, paths, text checks. */
#include "sp_util.h"

#include <sodium.h>

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

/* Refuse a directory that is a symbolic link: whoever can replace it
 * would choose where we write. */
int sp_dir_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno == ELOOP || errno == ENOTDIR)
		return SP_EPERM;
	return errno == ENOENT ? SP_ENOTFOUND : errno == EACCES ? SP_EPERM : SP_EIO;
}

int sp_file_write(const char *path, const void *data, size_t len, mode_t mode)
{
	char dir[PATH_MAX], tmp[NAME_MAX + 1];
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	int dfd, rc;
	if (!*base || snprintf(tmp, sizeof tmp, "%s.tmp.%ld", base, (long)getpid()) >= (int)sizeof tmp)
		return SP_ESIZE;
	if (sp_path_dirname(path, dir, sizeof dir) != SP_OK)
		return SP_ESIZE;
	/* The directory by descriptor, then only names inside it: a path
	 * component swapped after this point changes nothing. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno == EACCES ? SP_EPERM : SP_EIO;
	rc = sp_file_write_at(dfd, tmp, base, data, len, mode);
	close(dfd);
	return rc;
}

int sp_file_write_at(int dfd, const char *tmp, const char *name, const void *data, size_t len, mode_t mode)
{
	int fd = -1, rc = SP_EIO;
	/* A stale or planted temp name goes first (unlinkat removes a link,
	 * never what it points at); O_EXCL|O_NOFOLLOW then creates a new file
	 * or fails: never opens one someone else put there. */
	if (unlinkat(dfd, tmp, 0) != 0 && errno != ENOENT)
		return errno == EACCES || errno == EPERM ? SP_EPERM : SP_EIO;
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
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
	/* renameat replaces a symbolic link at name itself, not its target. */
	if (renameat(dfd, tmp, dfd, name) != 0)
		goto out;
	(void)fsync(dfd);
	rc = SP_OK;
out:
	if (fd >= 0)
		close(fd);
	if (rc != SP_OK)
		(void)unlinkat(dfd, tmp, 0);
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

/*
 * The one definition of acceptable text (docs/decisions.md, "Text"): strict
 * UTF-8 as RFC 3629 has it (no overlong forms, no surrogates U+D800..DFFF,
 * nothing above U+10FFFF) and no control character, C0 (U+0000..001F),
 * DEL or C1 (U+0080..009F), except newline and tab where allowed. A C1
 * character such as U+009B (CSI) drives a terminal just as ESC does, and
 * anything jansson refuses would silently vanish from JSON output.
 */
const char *sp_text_problem(const char *s, size_t max, int allow_newline)
{
	const unsigned char *p = (const unsigned char *)s;
	if (!s)
		return NULL;
	while (*p) {
		unsigned c = *p, cp;
		int extra;
		if ((size_t)(p - (const unsigned char *)s) >= max)
			return "too long";
		if (c < 0x80) {
			if ((c < 0x20 || c == 0x7f) && !(allow_newline && (c == '\n' || c == '\t')))
				return allow_newline || (c != '\n' && c != '\t') ? "a control character"
				                                               : "a newline or tab (one line only)";
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			extra = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			extra = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			extra = 3;
			cp = c & 0x07;
		} else {
			return "invalid UTF-8";
		}
		if ((size_t)(p - (const unsigned char *)s) + (size_t)extra >= max)
			return "too long";
		for (int i = 1; i <= extra; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return "invalid UTF-8";
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return "invalid UTF-8 (overlong or out of range)";
		if (cp >= 0xd800 && cp <= 0xdfff)
			return "invalid UTF-8 (a surrogate)";
		if (cp <= 0x9f)
			return "a control character";
		p += 1 + extra;
	}
	return NULL;
}

int sp_text_ok(const char *s, size_t max, int allow_newline)
{
	return sp_text_problem(s, max, allow_newline) == NULL;
}

int sp_user_ok(const char *s)
{
	int run = 0;
	if (!s || !s[0] || !sp_text_ok(s, SP_USER_MAX, 0))
		return 0;
	/* A long run of digits may be a BSN typed in the wrong field; it would
	 * land in the audit log for as long as the log is kept. */
	for (const char *c = s; *c; c++) {
		run = (*c >= '0' && *c <= '9') ? run + 1 : 0;
		if (run >= 8)
			return 0;
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

void *sp_secret_alloc(size_t size)
{
	void *p;
	if (sodium_init() < 0)
		return NULL;
	p = sodium_malloc(size);
	if (p)
		sodium_memzero(p, size);
	return p;
}
