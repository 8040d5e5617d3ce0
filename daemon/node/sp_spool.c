/* sp_spool.c — spool ingestion: the directory watcher, the idempotency keys
 * and the status lines (docs/spool.md); the parser is sp_spool_parse.c. */
#include "sp_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp_log.h"
#include "sp_status.h"
#include "sp_store.h"
#include "sp_util.h"

#define C "spool"
#define RETRY_MS 5000     /* a file left in place for a local fault is tried again after this */
#define KEY_DOMAIN "seinpost/idempotency/v1"

/* ---- idempotency keys ----------------------------------------------------- */

void sp_spool_key(const char *idempotency_key, uint8_t out[SP_SPOOL_KEY_BYTES])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, SP_SPOOL_KEY_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)KEY_DOMAIN, sizeof KEY_DOMAIN);
	crypto_generichash_update(&st, (const uint8_t *)idempotency_key, strlen(idempotency_key));
	crypto_generichash_final(&st, out, SP_SPOOL_KEY_BYTES);
}

void sp_spool_key_value(const uint8_t id[16], uint64_t expires, uint8_t out[SP_SPOOL_KEY_VALUE])
{
	memcpy(out, id, 16);
	sp_be64_put(out + 16, expires);
}

#define PRUNE_MAX 4096

struct prune {
	uint64_t now_s;
	uint8_t (*keys)[SP_SPOOL_KEY_BYTES];
	size_t n;
};

static int prune_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct prune *pr = ctx;
	if (kl == SP_SPOOL_KEY_BYTES && vl == SP_SPOOL_KEY_VALUE && sp_be64_get((const uint8_t *)v + 16) < pr->now_s)
		memcpy(pr->keys[pr->n++], k, SP_SPOOL_KEY_BYTES);
	return pr->n == PRUNE_MAX;
}

int sp_spool_prune(sp_txn *t, uint64_t now_s, size_t *pruned)
{
	struct prune pr = { .now_s = now_s };
	int rc;
	*pruned = 0;
	pr.keys = malloc(PRUNE_MAX * sizeof *pr.keys);
	if (!pr.keys)
		return SP_ENOMEM;
	/* collect first: no deletes under the iteration's cursor */
	(void)sp_store_foreach(t, SP_DB_SPOOL, NULL, 0, prune_one, &pr);
	rc = SP_OK;
	for (size_t i = 0; i < pr.n && rc == SP_OK; i++)
		rc = sp_store_del(t, SP_DB_SPOOL, pr.keys[i], SP_SPOOL_KEY_BYTES);
	if (rc == SP_OK)
		*pruned = pr.n;
	free(pr.keys);
	return rc;
}

/* ---- the directory watcher ------------------------------------------------ */

struct sp_spool {
	char dir[PATH_MAX];
	int dfd, donefd, rejfd, ifd;
	size_t max;
	char **q;          /* names waiting, FIFO from head */
	size_t head, n, cap;
	int rescan;        /* events were lost: read the directory again */
	uint64_t retry_at; /* monotonic ms; 0 = no retry pending */
	int fault_logged;  /* "left in the spool" said once per local fault */
	int lost;          /* the directory was removed or moved: watch it again */
	uint64_t reattach_at; /* monotonic ms of the next attempt */
};

/* Names we read: "*.json", not hidden. Temporary names ("*.tmp", ".x")
 * are how writers keep half-written files out of our sight. */
static int name_ok(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && n <= SP_SPOOL_NAME_MAX && name[0] != '.' && strcmp(name + n - 5, ".json") == 0;
}

/* File names are chosen by the partner system; a name with a long run of
 * digits may hold a BSN, and one with control characters (a newline) would
 * forge journal lines: neither is logged. */
static const char *log_name(const char *name)
{
	int run = 0;
	if (!sp_text_ok(name, SP_SPOOL_NAME_MAX, 0))
		return "(name not logged: holds control characters or is not UTF-8)";
	for (const char *c = name; *c; c++) {
		run = (*c >= '0' && *c <= '9') ? run + 1 : 0;
		if (run >= 8)
			return "(name not logged: holds a long number)";
	}
	return name;
}

static void enqueue(sp_spool *s, const char *name)
{
	char *dup;
	if (!name_ok(name))
		return;
	if (s->head == s->n)
		s->head = s->n = 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **q = realloc(s->q, cap * sizeof *q);
		if (!q) {
			s->rescan = 1; /* picked up again by the next scan */
			return;
		}
		s->q = q;
		s->cap = cap;
	}
	if (!(dup = strdup(name))) {
		s->rescan = 1;
		return;
	}
	s->q[s->n++] = dup;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Everything in the directory, in name order (partners can number files). */
static void scan(sp_spool *s)
{
	int fd = dup(s->dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	size_t from = s->n;
	if (!d) {
		if (fd >= 0)
			close(fd);
		sp_log(LOG_ERR, C, "cannot read the spool directory %s", s->dir);
		return;
	}
	rewinddir(d);
	while ((e = readdir(d)))
		enqueue(s, e->d_name);
	closedir(d);
	if (s->n > from)
		qsort(s->q + from, s->n - from, sizeof *s->q, cmp_names);
}

/* Opened once, never followed: the partner account can rename or replace
 * done/ and rejected/ (it can write the spool directory), but we keep
 * writing into the directories we opened. */
static int open_subdir(int dfd, const char *name)
{
	if (mkdirat(dfd, name, 0750) != 0 && errno != EEXIST)
		return -1;
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static void detach(sp_spool *s)
{
	int *fds[] = { &s->ifd, &s->dfd, &s->donefd, &s->rejfd };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

/* Open the directory (creating it and done/, rejected/), check who may
 * write to it, watch it, then read what is already there. */
static int attach(sp_spool *s)
{
	const char *dir = s->dir;
	if (sp_mkdir_p(dir, 0750) != SP_OK ||
	    (s->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (s->donefd = open_subdir(s->dfd, "done")) < 0 ||
	    (s->rejfd = open_subdir(s->dfd, "rejected")) < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			sp_log(LOG_ERR, C, "spool directory %s, its done/ or its rejected/ is a symbolic link or no directory: refused "
			       "(whoever can replace it chooses where the node writes)", dir);
		else
			sp_log(LOG_ERR, C, "spool directory %s: %s", dir, strerror(errno));
		detach(s);
		return SP_EIO;
	}
	{
		/* Whoever can write here submits as this organisation. */
		struct stat st;
		if (fstat(s->dfd, &st) != 0 || (st.st_mode & S_IWOTH)) {
			sp_log(LOG_ERR, C, "spool directory %s is writable by every user, so anyone could submit signals "
			       "as this organisation; chmod o-w it", dir);
			detach(s);
			return SP_EPERM;
		}
	}
	/* IN_DELETE_SELF / IN_MOVE_SELF: the directory was replaced under us;
	 * files dropped into the new one must not wait unseen. */
	s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ifd < 0 ||
	    inotify_add_watch(s->ifd, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
		sp_log(LOG_ERR, C, "cannot watch the spool directory %s: %s", dir, strerror(errno));
		detach(s);
		return SP_EIO;
	}
	/* Watch first, then scan: a file arriving in between is queued twice,
	 * and the second time it is gone (harmless), never missed. */
	scan(s);
	sp_log(LOG_INFO, C, "watching %s (%zu files waiting)", dir, s->n - s->head);
	return SP_OK;
}

int sp_spool_open(const char *dir, size_t max_bytes, sp_spool **out)
{
	sp_spool *s = calloc(1, sizeof *s);
	int rc;
	*out = NULL;
	if (!s)
		return SP_ENOMEM;
	s->dfd = s->donefd = s->rejfd = s->ifd = -1;
	s->max = max_bytes;
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	if ((rc = attach(s)) != SP_OK) {
		sp_spool_close(&s);
		return rc;
	}
	*out = s;
	return SP_OK;
}

void sp_spool_close(sp_spool **ps)
{
	sp_spool *s = *ps;
	if (!s)
		return;
	for (size_t i = s->head; i < s->n; i++)
		free(s->q[i]);
	free(s->q);
	detach(s);
	free(s);
	*ps = NULL;
}

int sp_spool_fd(const sp_spool *s)
{
	return s->ifd;
}

size_t sp_spool_waiting(const sp_spool *s)
{
	return s->n - s->head;
}

void sp_spool_events(sp_spool *s, uint64_t now_ms)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t got;
	if (s->lost) {
		if (now_ms < s->reattach_at)
			return;
		if (attach(s) != SP_OK) {
			s->reattach_at = now_ms + RETRY_MS;
			return;
		}
		s->lost = 0;
		sp_log(LOG_NOTICE, C, "spool directory %s is watched again", s->dir);
	}
	while (s->ifd >= 0 && (got = read(s->ifd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + got;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
				s->lost = 1;
			else if (ev->mask & IN_Q_OVERFLOW)
				s->rescan = 1;
			else if (ev->len)
				enqueue(s, ev->name);
			p += sizeof *ev + ev->len;
		}
	}
	if (s->lost) {
		/* Files still queued belong to the old directory: drop the queue,
		 * the re-attach scans whatever is in the directory then. */
		sp_log(LOG_ERR, C, "spool directory %s was removed or moved; watching for it again every %d s",
		       s->dir, RETRY_MS / 1000);
		for (size_t i = s->head; i < s->n; i++)
			free(s->q[i]);
		s->head = s->n = 0;
		detach(s);
		s->reattach_at = now_ms + RETRY_MS;
		return;
	}
	if (s->retry_at && now_ms >= s->retry_at)
		s->rescan = 1;
	if (s->rescan && s->head == s->n) {
		s->rescan = 0;
		s->retry_at = 0;
		scan(s);
	}
}

static void file_free(sp_spool_file *f)
{
	if (!f)
		return;
	if (f->req)
		sodium_memzero(f->req, f->reqlen);
	free(f->req);
	free(f);
}

static void sync_dirs(sp_spool *s, int tofd)
{
	if (fsync(tofd) != 0 || fsync(s->dfd) != 0)
		sp_log(LOG_WARNING, C, "fsync of the spool directory failed: %s", strerror(errno));
}

/* Sidecar first (written atomically), then the file: after a crash in
 * between the file is still in the spool and is handled again. was: the
 * file as we read it (NULL: not read); a file renamed over it since then is
 * another file, left for its own turn. */
static void move_to(sp_spool *s, const char *name, const struct stat *was, int tofd, const char *sub,
                    const char *ext, const char *text)
{
	struct stat now;
	if (was && (fstatat(s->dfd, name, &now, AT_SYMLINK_NOFOLLOW) != 0 || now.st_ino != was->st_ino ||
	            now.st_dev != was->st_dev)) {
		sp_log(LOG_WARNING, C, "%s was replaced while being handled; the new file gets its own turn",
		       log_name(name));
		s->rescan = 1;
		return;
	}
	if (text) {
		/* Into the directory we hold open, by name only (never a path
		 * rebuilt at write time, never a planted link). */
		char side[NAME_MAX + 1], tmp[NAME_MAX + 1];
		if (snprintf(side, sizeof side, "%s%s", name, ext) >= (int)sizeof side ||
		    snprintf(tmp, sizeof tmp, ".%s.tmp", side) >= (int)sizeof tmp ||
		    sp_file_write_at(tofd, tmp, side, text, strlen(text), 0640) != SP_OK)
			sp_log(LOG_ERR, C, "cannot write %s/%s%s in the spool directory", sub, log_name(name), ext);
	}
	if (renameat(s->dfd, name, tofd, name) != 0) {
		sp_log(LOG_ERR, C, "cannot move %s to %s/: %s; trying again later", log_name(name), sub, strerror(errno));
		s->retry_at = sp_mono_ms() + RETRY_MS;
		return;
	}
	sync_dirs(s, tofd);
}

static void reject_name(sp_spool *s, const char *name, const struct stat *was, const char *errs)
{
	const char *nl = strchr(errs, '\n');
	size_t problems = 1;
	/* The journal gets the count only: a problem names fields, and an
	 * unknown field's name is the partner's text (it could be a person's
	 * name used as a key). The reasons are in the .error file, beside the
	 * file itself and as sensitive as it. */
	for (const char *c = errs; (c = strchr(c, '\n')) && c[1]; c++)
		problems++;
	sp_log(LOG_WARNING, C, "%s rejected: %zu problem(s), see rejected/%s.error", log_name(name), problems,
	       log_name(name));
	if (nl)
		move_to(s, name, was, s->rejfd, "rejected", ".error", errs);
	else {
		char line[SP_SPOOL_ERRORS_MAX + 2];
		snprintf(line, sizeof line, "%s\n", errs);
		move_to(s, name, was, s->rejfd, "rejected", ".error", line);
	}
}

int sp_spool_next(sp_spool *s, sp_spool_file **out)
{
	*out = NULL;
	while (s->head < s->n) {
		char *name = s->q[s->head++];
		char errs[SP_SPOOL_ERRORS_MAX];
		struct stat st;
		char *buf = NULL;
		size_t len = 0;
		ssize_t r;
		sp_spool_file *f = NULL;
		int fd = openat(s->dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ELOOP)
				reject_name(s, name, NULL, "not a regular file (a symbolic link); write the file itself");
			else if (errno != ENOENT) { /* ENOENT: handled already (queued twice) */
				sp_log(LOG_ERR, C, "cannot open %s: %s; trying again later", log_name(name), strerror(errno));
				s->retry_at = sp_mono_ms() + RETRY_MS;
			}
			free(name);
			continue;
		}
		if (fstat(fd, &st) != 0) {
			close(fd);
			free(name);
			s->retry_at = sp_mono_ms() + RETRY_MS;
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			close(fd);
			reject_name(s, name, &st, "not a regular file");
			free(name);
			continue;
		}
		if ((size_t)st.st_size > s->max) {
			/* Not read at all: the size says enough. */
			close(fd);
			snprintf(errs, sizeof errs, "file too large: %lld bytes, the limit is %zu bytes (max_frame_kb)",
			         (long long)st.st_size, s->max);
			reject_name(s, name, &st, errs);
			free(name);
			continue;
		}
		buf = malloc((size_t)st.st_size + 1);
		while (buf && (r = read(fd, buf + len, (size_t)st.st_size + 1 - len)) > 0 && len + (size_t)r <= (size_t)st.st_size)
			len += (size_t)r;
		close(fd);
		if (!buf || len != (size_t)st.st_size) {
			/* grew while we read, or a read error: not ours to judge yet */
			sp_log(LOG_WARNING, C, "%s changed while being read; trying again later", log_name(name));
			s->retry_at = sp_mono_ms() + RETRY_MS;
			free(buf);
			free(name);
			continue;
		}
		f = calloc(1, sizeof *f);
		if (!f) {
			s->retry_at = sp_mono_ms() + RETRY_MS;
			sodium_memzero(buf, len);
			free(buf);
			free(name);
			continue;
		}
		snprintf(f->name, sizeof f->name, "%s", name);
		f->st = st;
		free(name);
		if (sp_spool_parse(buf, len, sp_now_s(), &f->kind, &f->req, &f->reqlen, errs, sizeof errs) != SP_OK) {
			reject_name(s, f->name, &st, errs);
			file_free(f);
			f = NULL;
		}
		sodium_memzero(buf, len);
		free(buf);
		if (f) {
			*out = f;
			return 1;
		}
	}
	return 0;
}

void sp_spool_done(sp_spool *s, sp_spool_file *f, const uint8_t *id)
{
	char line[SP_ID_HEX + 1];
	s->fault_logged = 0;
	if (id) {
		sp_hex(id, SP_ID_BYTES, line);
		strcat(line, "\n");
		sp_log(LOG_INFO, C, "%s done: signal %.32s", log_name(f->name), line);
	} else {
		sp_log(LOG_INFO, C, "%s done: involvements stored", log_name(f->name));
	}
	move_to(s, f->name, &f->st, s->donefd, "done", ".id", id ? line : NULL);
	file_free(f);
}

void sp_spool_reject(sp_spool *s, sp_spool_file *f, const char *errs)
{
	reject_name(s, f->name, &f->st, errs);
	file_free(f);
}

void sp_spool_later(sp_spool *s, sp_spool_file *f, uint64_t now_ms)
{
	/* Once per fault, not once per file every 5 s: the store's own error
	 * and `seinpost status` say what is wrong. */
	if (!s->fault_logged)
		sp_log(LOG_WARNING, C, "%s and any further files left in the spool (local fault); trying again "
		       "every %d s", log_name(f->name), RETRY_MS / 1000);
	s->fault_logged = 1;
	s->retry_at = now_ms + RETRY_MS;
	file_free(f);
}

/* done/NAME.id holding idhex: NAME into name (1), or 0 when none does. */
static int find_done(sp_spool *s, const char *idhex, char *name, size_t namelen)
{
	int fd = dup(s->donefd), found = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	rewinddir(d);
	while (!found && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char buf[SP_ID_HEX + 1] = "";
		int f;
		ssize_t r;
		if (n < 4 || n - 3 > namelen || strcmp(e->d_name + n - 3, ".id") != 0)
			continue;
		f = openat(s->donefd, e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (f < 0)
			continue;
		r = read(f, buf, SP_ID_HEX - 1);
		close(f);
		if (r == SP_ID_HEX - 1 && memcmp(buf, idhex, SP_ID_HEX - 1) == 0) {
			memcpy(name, e->d_name, n - 3);
			name[n - 3] = '\0';
			found = name_ok(name);
		}
	}
	closedir(d);
	return found;
}

void sp_spool_verdict(sp_spool *s, const uint8_t id[16], const char *reason)
{
	char idhex[SP_ID_HEX], name[SP_SPOOL_NAME_MAX + 1], path[PATH_MAX], idname[SP_SPOOL_NAME_MAX + 4];
	char text[600];
	if (!s || s->lost)
		return;
	sp_hex(id, SP_ID_BYTES, idhex);
	snprintf(text, sizeof text, "rejected by the broker after the file was accepted (signal %s): %s\n", idhex,
	         reason);
	if (!find_done(s, idhex, name, sizeof name)) {
		if (snprintf(path, sizeof path, "%s/rejected/%s.error", s->dir, idhex) < (int)sizeof path &&
		    sp_file_write(path, text, strlen(text), 0640) == SP_OK)
			sp_log(LOG_WARNING, C, "signal %s (from the spool) rejected by the broker: see rejected/%s.error",
			       idhex, idhex);
		return;
	}
	if (snprintf(path, sizeof path, "%s/rejected/%s.error", s->dir, name) >= (int)sizeof path ||
	    sp_file_write(path, text, strlen(text), 0640) != SP_OK) {
		sp_log(LOG_ERR, C, "cannot write rejected/%s.error in the spool directory", log_name(name));
		return;
	}
	snprintf(idname, sizeof idname, "%s.id", name);
	if (renameat(s->donefd, name, s->rejfd, name) != 0 || renameat(s->donefd, idname, s->rejfd, idname) != 0)
		sp_log(LOG_ERR, C, "cannot move done/%s to rejected/: %s", log_name(name), strerror(errno));
	sync_dirs(s, s->rejfd);
	(void)fsync(s->donefd);
	sp_log(LOG_WARNING, C, "%s was rejected by the broker; moved to rejected/ with its .error", log_name(name));
}

/* ---- seinpost status -------------------------------------------------------- */

/* Spool files in dir (sub NULL) or dir/sub; *oldest_ms: oldest mtime. */
static size_t count_files(const char *dir, const char *sub, uint64_t *oldest_ms)
{
	char path[PATH_MAX];
	DIR *d;
	struct dirent *e;
	size_t n = 0;
	if (snprintf(path, sizeof path, "%s%s%s", dir, sub ? "/" : "", sub ? sub : "") >= (int)sizeof path ||
	    !(d = opendir(path)))
		return 0;
	while ((e = readdir(d))) {
		struct stat st;
		if (!name_ok(e->d_name))
			continue;
		n++;
		if (oldest_ms && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			uint64_t t = (uint64_t)st.st_mtim.tv_sec * 1000u + (uint64_t)st.st_mtim.tv_nsec / 1000000u;
			if (!*oldest_ms || t < *oldest_ms)
				*oldest_ms = t;
		}
	}
	closedir(d);
	return n;
}

int sp_spool_status(const sp_status_src *src, sp_status *st)
{
	const char *dir = src->cfg->spool_in;
	uint64_t oldest = 0, now = src->opts->now_ms ? src->opts->now_ms : sp_now_ms(), keys = 0, age;
	size_t waiting, rejected;
	char agebuf[32];
	int rc;
	if (!dir[0])
		return SP_OK;
	waiting = count_files(dir, NULL, &oldest);
	rejected = count_files(dir, "rejected", NULL);
	age = oldest && now > oldest ? now - oldest : 0;
	sp_status_num(st, "spool", "waiting", (double)waiting);
	sp_status_num(st, "spool", "oldest_age_s", waiting ? (double)(age / 1000) : 0);
	sp_status_num(st, "spool", "rejected", (double)rejected);
	rc = sp_status_add(st, "spool", "waiting", waiting && age > src->opts->max_age_s * 1000 ? SP_STATUS_BAD : SP_STATUS_OK,
	                   "%zu files%s%s", waiting, waiting ? ", oldest " : "",
	                   waiting ? sp_status_age(age, agebuf, sizeof agebuf) : "");
	if (rc == SP_OK)
		rc = sp_status_add(st, "spool", "rejected", rejected ? SP_STATUS_WARN : SP_STATUS_OK, "%zu files%s", rejected,
		                   rejected ? " (the reasons are in rejected/*.error)" : "");
	if (rc == SP_OK)
		rc = sp_status_add(st, "spool", "done", SP_STATUS_OK, "%zu files", count_files(dir, "done", NULL));
	if (rc == SP_OK && sp_store_count(src->txn, SP_DB_SPOOL, &keys) == SP_OK)
		rc = sp_status_add(st, "spool", "idempotency keys", SP_STATUS_OK, "%llu", (unsigned long long)keys);
	return rc;
}
