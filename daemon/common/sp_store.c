/*
 * sp_store.c — the LMDB environment of a broker or node.
 *
 * One environment per state directory, one named database per enum sp_db,
 * all opened once at open time. Durability is never traded for speed: no
 * MDB_NOSYNC, MDB_NOMETASYNC, MDB_MAPASYNC or MDB_WRITEMAP, so a committed
 * transaction survives kill -9 and power loss; callers batch work into
 * fewer transactions instead (group commit).
 *
 * MDB_NOTLS ties reader slots to transaction objects rather than threads,
 * so a read transaction may be begun in one thread and finished in another,
 * and one thread may hold several read transactions.
 *
 * LMDB has no page checksums and trusts its file. A damaged data.mdb would
 * otherwise surface as SIGBUS or wild reads long after start-up, so open
 * checks what can be checked cheaply (meta pages, file length against the
 * last used page, page counts against the file) and refuses with
 * SP_ECORRUPT. The full page walk (probe_data) costs a read of the whole
 * file, so it runs only when asked (SP_STORE_CHECK: daemon start-up) or when
 * the cheap checks look inconsistent — not on every CLI open.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <assert.h>
#include <lmdb.h>

#include "sp_store.h"
#include "sp_schema.h"
#include "sp_log.h"
#include "sp_util.h"

#define SP_STORE_DEFAULT_MAP (256ULL * 1024 * 1024)

struct sp_store {
	MDB_env *env;
	MDB_dbi dbi[SP_DB_COUNT];
	int have[SP_DB_COUNT];   /* read-only: a database may not exist yet */
	int rdonly;
	atomic_int txns;         /* open transactions, for close and resize */
	uint64_t commits, commit_us_sum, commit_us_max; /* top-level write commits */
};

struct sp_txn {
	MDB_txn *txn;
	sp_store *s;
	int write;
	int child;
};

static const char *const db_names[SP_DB_COUNT] = {
	[SP_DB_META] = "meta",
	[SP_DB_OUTBOX] = "outbox",
	[SP_DB_INBOX] = "inbox",
	[SP_DB_SIGNALS] = "signals",
	[SP_DB_QUEUE] = "queue",
	[SP_DB_AUDIT] = "audit",
	[SP_DB_INVOLVE] = "involve",
	[SP_DB_AUDIX] = "auditx",
	[SP_DB_SPOOL] = "spool",
	[SP_DB_HOOK] = "hook",
	[SP_DB_FEEDBACK] = "feedback",
	[SP_DB_AWAITING] = "awaiting",
	[SP_DB_SUBJECT] = "subject",
};

/* Per thread, so concurrent transactions in different threads do not
 * overwrite each other's diagnostics. */
static _Thread_local char last_error[256] = "no error";

static void set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
}

const char *sp_store_last_error(void)
{
	return last_error;
}

void sp_store_note_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
}

/* Turn an LMDB or errno code into an SP_E* code, remembering the text. */
static int map_rc(int rc, const char *what)
{
	if (rc == 0)
		return SP_OK;
	set_error("%s: %s", what, mdb_strerror(rc));
	switch (rc) {
	case MDB_NOTFOUND:
		return SP_ENOTFOUND;
	case MDB_KEYEXIST:
		return SP_EEXIST;
	case MDB_MAP_FULL:
		return SP_EMAPFULL;
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		sp_log(LOG_ERR, "store", "database corrupt: %s", last_error);
		return SP_ECORRUPT;
	case MDB_PANIC:
		/* LMDB marks the environment unusable after a failed meta write
		 * (e.g. disk full during commit); only a reopen recovers. */
		sp_log(LOG_CRIT, "store", "database environment unusable: %s; restart needed", last_error);
		return SP_EDB;
	case MDB_BAD_VALSIZE:
		return SP_ESIZE;
	case ENOMEM:
		return SP_ENOMEM;
	case EACCES:
	case EPERM:
	case EROFS:
		return SP_EPERM;
	case EIO:
	case ENOSPC:
	case EDQUOT:
		return SP_EIO;
	case ENOENT:
		return SP_ENOTFOUND;
	default:
		return SP_EDB;
	}
}

/* An existing zero-length data.mdb would be taken by LMDB as a brand-new
 * environment: every committed record, the audit log included, would be
 * silently replaced by an empty database. Refuse instead; an operator who
 * really wants a fresh store removes the file. */
static int check_data_file(const char *dir, off_t *size)
{
	char path[4096];
	struct stat st;

	*size = -1;
	if (sp_path_join(dir, "data.mdb", path, sizeof path) != SP_OK) {
		set_error("state directory path too long");
		return SP_ESIZE;
	}
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return SP_OK;
		return map_rc(errno, "stat data.mdb");
	}
	if (!S_ISREG(st.st_mode)) {
		set_error("data.mdb is not a regular file");
		return SP_ECORRUPT;
	}
	if (st.st_size == 0) {
		set_error("data.mdb is empty (truncated); remove it only if this store never held data");
		sp_log(LOG_ERR, "store", "%s", last_error);
		return SP_ECORRUPT;
	}
	*size = st.st_size;
	return SP_OK;
}

/* After mdb_env_open: is the file shorter than the last page the meta page
 * claims? That alone is not damage (pages allocated and freed within one
 * transaction at the end are never written), but a page the trees use past
 * the end would raise SIGBUS here, so the caller then walks the pages in a
 * child first (probe_data). *is_short = 1 in that case. */
static int check_env_size(sp_store *s, const char *dir, int *is_short)
{
	MDB_envinfo info;
	MDB_stat st;
	off_t size;
	int rc;

	/* Meta first, then the file size: a live writer may commit between the
	 * two, and the file only grows before its meta page names new pages. */
	if ((rc = mdb_env_info(s->env, &info)) != 0 || (rc = mdb_env_stat(s->env, &st)) != 0)
		return map_rc(rc, "mdb_env_info");
	rc = check_data_file(dir, &size);
	if (rc != SP_OK)
		return rc;
	if (size < 0)
		return SP_OK;
	*is_short = (uint64_t)size < ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	return SP_OK;
}

/* Cheap consistency of the meta page: the main database cannot hold more
 * pages than the file has, nor be deeper than a tree of that many pages. */
static int meta_plausible(sp_store *s)
{
	MDB_envinfo info;
	MDB_stat st;
	uint64_t pages;

	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
		return 0;
	pages = (uint64_t)st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
	return pages <= (uint64_t)info.me_last_pgno + 1 && st.ms_depth <= 64 &&
	       (st.ms_entries == 0) == (st.ms_leaf_pages == 0);
}

/* Open (or create) every named database once; handles live until close. */
static int open_dbis(sp_store *s)
{
	MDB_txn *txn = NULL;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, s->rdonly ? MDB_RDONLY : 0, &txn);
	if (rc != 0) {
		rc = map_rc(rc, "mdb_txn_begin");
		goto out;
	}
	for (int i = 0; i < SP_DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, db_names[i], s->rdonly ? 0 : MDB_CREATE, &s->dbi[i]);
		if (rc == MDB_NOTFOUND && s->rdonly)
			continue; /* not created yet by the daemon: reads see it empty */
		if (rc == MDB_INCOMPATIBLE) {
			set_error("data.mdb: database '%s' has unexpected flags", db_names[i]);
			rc = SP_ECORRUPT;
			goto out;
		}
		if (rc != 0) {
			rc = map_rc(rc, "mdb_dbi_open");
			goto out;
		}
		s->have[i] = 1;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	rc = map_rc(rc, "mdb_txn_commit (open)");
out:
	if (txn)
		mdb_txn_abort(txn);
	return rc;
}

/* Child side of probe_data(): walk every page reachable from every database
 * and touch both ends of every value (overflow pages). Exit codes: 0 sound,
 * PROBE_SKIP the probe could not run (the parent's own open will report
 * why), anything else or a signal means damage. */
#define PROBE_SKIP 3
static void probe_walk(const char *dir, uint64_t map_size)
{
	MDB_envinfo info;
	MDB_stat est;
	struct stat st;
	mdb_filehandle_t fd;
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_dbi dbi;
	MDB_val k, v;
	volatile uint8_t sink = 0;
	int rc;

	if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, SP_DB_COUNT) != 0 ||
	    mdb_env_set_mapsize(env, map_size) != 0)
		_exit(PROBE_SKIP);
	rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600);
	if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH || rc == MDB_CORRUPTED)
		_exit(1);
	if (rc != 0 || mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &est) != 0 ||
	    mdb_env_get_fd(env, &fd) != 0 || fstat(fd, &st) != 0)
		_exit(PROBE_SKIP);
	/* A file shorter than the meta's last page is not damage by itself:
	 * pages allocated and freed in one transaction at the end of the file
	 * are never written. A page the trees use past the end faults below. */
	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
		_exit(PROBE_SKIP);
	/* The unnamed main database lists the named ones; walk it too. */
	for (int i = -1; i < SP_DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, i < 0 ? NULL : db_names[i], 0, &dbi);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0 || mdb_cursor_open(txn, dbi, &cur) != 0)
			_exit(1);
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if (v.mv_size)
				sink ^= ((const uint8_t *)v.mv_data)[0] ^
				        ((const uint8_t *)v.mv_data)[v.mv_size - 1];
		}
		if (rc != MDB_NOTFOUND)
			_exit(1);
		mdb_cursor_close(cur);
	}
	(void)sink;
	mdb_txn_abort(txn);
	mdb_env_close(env);
	_exit(0);
}

/* LMDB has no checksums: a garbled branch page sends it to a page number
 * past the end of the file and the read raises SIGBUS (or SIGSEGV) in
 * whichever thread touches it, possibly hours later. So before opening,
 * a child process reads the whole database once; if it dies, the file is
 * damaged and we refuse with SP_ECORRUPT instead of crashing. A child keeps
 * the fault out of this process without process-wide signal handlers.
 * Costs one read of the data at open (page cache speed). */
static int probe_data(const char *dir, uint64_t map_size)
{
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0)
		return map_rc(errno, "fork (store probe)");
	if (pid == 0) {
		/* No core dump: it would copy the database (personal data)
		 * to disk. prctl rather than setrlimit, which the unit's
		 * SystemCallFilter (~@resources) kills with SIGSYS. Quiet: a
		 * sanitizer would report the fault on stderr. */
		(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		probe_walk(dir, map_size);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return map_rc(errno, "waitpid (store probe)");
	}
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == PROBE_SKIP))
		return SP_OK;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
		/* A seccomp filter stopped the probe: no verdict on the data. */
		sp_log(LOG_WARNING, "store", "integrity probe blocked by the system call filter; skipped");
		return SP_OK;
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		set_error("data.mdb is truncated: a page the database uses lies past the end of the file");
	else if (WIFSIGNALED(status))
		set_error("data.mdb is damaged: reading it raised signal %d (%s)",
		          WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		set_error("data.mdb is damaged: its pages do not form a valid database");
	sp_log(LOG_ERR, "store", "%s", last_error);
	return SP_ECORRUPT;
}

int sp_store_open(const char *dir, uint64_t map_size, unsigned flags, sp_store **out)
{
	sp_store *s = NULL;
	unsigned envflags = MDB_NOTLS;
	off_t size;
	int dead = 0, is_short = 0, rc;

	if (!dir || !*dir || !out || (flags & ~(unsigned)(SP_STORE_RDONLY | SP_STORE_CHECK)))
		return SP_EINVAL;
	*out = NULL;
	s = calloc(1, sizeof *s);
	if (!s)
		return SP_ENOMEM;
	s->rdonly = !!(flags & SP_STORE_RDONLY);
	if (s->rdonly)
		envflags |= MDB_RDONLY;
	else if ((rc = sp_mkdir_p(dir, 0700)) != SP_OK) {
		set_error("cannot create state directory %s: %s", dir, strerror(errno));
		goto out;
	}
	rc = check_data_file(dir, &size);
	if (rc != SP_OK)
		goto out;
	if (s->rdonly && size < 0) {
		set_error("no database in state directory (data.mdb missing)");
		rc = SP_ENOTFOUND;
		goto out;
	}
	if (!map_size)
		map_size = SP_STORE_DEFAULT_MAP;
	if (size > 0 && (flags & SP_STORE_CHECK) && (rc = probe_data(dir, map_size)) != SP_OK)
		goto out;

	if ((rc = mdb_env_create(&s->env)) != 0) {
		rc = map_rc(rc, "mdb_env_create");
		goto out;
	}
	if ((rc = mdb_env_set_maxdbs(s->env, SP_DB_COUNT)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, map_size)) != 0) {
		rc = map_rc(rc, "mdb_env_set");
		goto out;
	}
	/* Even read-only, LMDB needs the lock file writable: readers register
	 * in it so the writer does not recycle pages they still see. */
	rc = mdb_env_open(s->env, dir, envflags, 0600);
	if (rc != 0) {
		int err = rc;
		rc = map_rc(err, "mdb_env_open");
		if (rc == SP_ECORRUPT)
			set_error("data.mdb is not a valid LMDB database: %s", mdb_strerror(err));
		else if (rc == SP_EPERM)
			set_error("no access to the store (read-only open still needs lock.mdb writable): %s",
			          mdb_strerror(err));
		goto out;
	}
	if ((rc = check_env_size(s, dir, &is_short)) != SP_OK)
		goto out;
	if (size > 0 && !(flags & SP_STORE_CHECK) && (is_short || !meta_plausible(s))) {
		/* The meta page disagrees with itself or with the file: walk the
		 * pages (in a child) before anything in this process touches them. */
		if ((rc = probe_data(dir, map_size)) != SP_OK)
			goto out;
	}
	/* A process killed inside a read transaction leaves its reader slot
	 * behind; the pages it pinned would never be reused and the map fills. */
	if ((rc = mdb_reader_check(s->env, &dead)) != 0) {
		rc = map_rc(rc, "mdb_reader_check");
		goto out;
	}
	if (dead > 0)
		sp_log(LOG_NOTICE, "store", "cleared %d stale reader slot(s)", dead);
	if ((rc = open_dbis(s)) != SP_OK)
		goto out;
	/* Refuse a layout newer than ours; bring an older one up to date. */
	if ((rc = sp_schema_open(s, s->rdonly, NULL, NULL)) != SP_OK)
		goto out;
	*out = s;
	s = NULL;
	rc = SP_OK;
out:
	sp_store_close(&s);
	return rc;
}

int sp_store_copy(sp_store *s, const char *dest_dir)
{
	int rc;
	if (!s || !dest_dir)
		return SP_EINVAL;
	/* A read transaction's snapshot, pages written in key order without
	 * the free ones: the live writer is never blocked. */
	rc = mdb_env_copy2(s->env, dest_dir, MDB_CP_COMPACT);
	return map_rc(rc, "mdb_env_copy2");
}

void sp_store_close(sp_store **sp)
{
	sp_store *s;

	if (!sp || !*sp)
		return;
	s = *sp;
	/* Closing under an open transaction is a programmer error. */
	assert(atomic_load(&s->txns) == 0);
	if (s->env)
		mdb_env_close(s->env);
	free(s);
	*sp = NULL;
}

int sp_txn_begin(sp_store *s, int write, sp_txn **out)
{
	sp_txn *t = NULL;
	int rc;

	if (!s || !out)
		return SP_EINVAL;
	*out = NULL;
	if (write && s->rdonly) {
		set_error("write transaction on a read-only store");
		return SP_EPERM;
	}
	t = calloc(1, sizeof *t);
	if (!t)
		return SP_ENOMEM;
	t->s = s;
	t->write = !!write;
	rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	if (rc == MDB_MAP_RESIZED && atomic_load(&s->txns) == 0) {
		/* Another process grew the map; adopt its size (allowed only
		 * while this process has no transaction open). */
		rc = mdb_env_set_mapsize(s->env, 0);
		if (rc == 0)
			rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	}
	if (rc != 0) {
		rc = map_rc(rc, "mdb_txn_begin");
		free(t);
		return rc;
	}
	atomic_fetch_add(&s->txns, 1);
	*out = t;
	return SP_OK;
}

int sp_txn_begin_child(sp_txn *parent, sp_txn **out)
{
	sp_txn *t = NULL;
	int rc;

	if (!parent || !out || !parent->write)
		return SP_EINVAL;
	*out = NULL;
	t = calloc(1, sizeof *t);
	if (!t)
		return SP_ENOMEM;
	t->s = parent->s;
	t->write = 1;
	t->child = 1;
	rc = mdb_txn_begin(parent->s->env, parent->txn, 0, &t->txn);
	if (rc != 0) {
		free(t);
		return map_rc(rc, "mdb_txn_begin (child)");
	}
	atomic_fetch_add(&t->s->txns, 1);
	*out = t;
	return SP_OK;
}

int sp_store_usage(sp_store *s, uint64_t *used, uint64_t *map_size)
{
	MDB_envinfo info;
	MDB_stat st;
	int rc;

	if (!s || !used || !map_size)
		return SP_EINVAL;
	if ((rc = mdb_env_info(s->env, &info)) != 0 || (rc = mdb_env_stat(s->env, &st)) != 0)
		return map_rc(rc, "mdb_env_info");
	*used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	*map_size = info.me_mapsize;
	return SP_OK;
}

static uint64_t sp_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void sp_store_commit_stats(const sp_store *s, uint64_t *n, uint64_t *sum_us, uint64_t *max_us)
{
	*n = s ? s->commits : 0;
	*sum_us = s ? s->commit_us_sum : 0;
	*max_us = s ? s->commit_us_max : 0;
}

int sp_store_reader_check(sp_store *s, int *cleared)
{
	int dead = 0;
	if (!s || !cleared)
		return SP_EINVAL;
	*cleared = 0;
	if (s->rdonly)
		return SP_OK;
	int rc = mdb_reader_check(s->env, &dead);
	if (rc != 0)
		return map_rc(rc, "mdb_reader_check");
	*cleared = dead;
	return SP_OK;
}

int sp_txn_commit(sp_txn **tp)
{
	sp_txn *t;
	int rc;

	if (!tp || !*tp)
		return SP_EINVAL;
	t = *tp;
	/* mdb_txn_commit frees the transaction even when it fails. */
	uint64_t t0 = t->write && !t->child ? sp_mono_us() : 0;
	rc = map_rc(mdb_txn_commit(t->txn), "mdb_txn_commit");
	if (t0 && rc == SP_OK) {
		uint64_t us = sp_mono_us() - t0;
		t->s->commits++;
		t->s->commit_us_sum += us;
		if (us > t->s->commit_us_max)
			t->s->commit_us_max = us;
	}
	atomic_fetch_sub(&t->s->txns, 1);
	free(t);
	*tp = NULL;
	return rc;
}

void sp_txn_abort(sp_txn **tp)
{
	sp_txn *t;

	if (!tp || !*tp)
		return;
	t = *tp;
	mdb_txn_abort(t->txn);
	atomic_fetch_sub(&t->s->txns, 1);
	free(t);
	*tp = NULL;
}

static int check_db(sp_txn *t, enum sp_db db)
{
	if (!t || (unsigned)db >= SP_DB_COUNT)
		return SP_EINVAL;
	return t->s->have[db] ? SP_OK : SP_ENOTFOUND;
}

int sp_store_put(sp_txn *t, enum sp_db db, const void *k, size_t klen,
                 const void *v, size_t vlen, unsigned flags)
{
	MDB_val mk = { klen, (void *)k }, mv = { vlen, (void *)v };
	int rc;

	if ((rc = check_db(t, db)) != SP_OK)
		return rc;
	if (!t->write || !k || klen == 0 || (!v && vlen) || (flags & ~(unsigned)SP_PUT_NOOVERWRITE))
		return SP_EINVAL;
	rc = mdb_put(t->txn, t->s->dbi[db], &mk, &mv,
	             (flags & SP_PUT_NOOVERWRITE) ? MDB_NOOVERWRITE : 0);
	return map_rc(rc, "mdb_put");
}

int sp_store_get(sp_txn *t, enum sp_db db, const void *k, size_t klen,
                 const void **v, size_t *vlen)
{
	MDB_val mk = { klen, (void *)k }, mv;
	int rc;

	if (v)
		*v = NULL;
	if (vlen)
		*vlen = 0;
	if ((rc = check_db(t, db)) != SP_OK)
		return rc;
	if (!k || klen == 0 || !v || !vlen)
		return SP_EINVAL;
	rc = mdb_get(t->txn, t->s->dbi[db], &mk, &mv);
	if (rc != 0)
		return map_rc(rc, "mdb_get");
	*v = mv.mv_data;
	*vlen = mv.mv_size;
	return SP_OK;
}

int sp_store_del(sp_txn *t, enum sp_db db, const void *k, size_t klen)
{
	MDB_val mk = { klen, (void *)k };
	int rc;

	if ((rc = check_db(t, db)) != SP_OK)
		return rc;
	if (!t->write || !k || klen == 0)
		return SP_EINVAL;
	return map_rc(mdb_del(t->txn, t->s->dbi[db], &mk, NULL), "mdb_del");
}

int sp_store_foreach(sp_txn *t, enum sp_db db, const void *prefix, size_t plen,
                     sp_store_visit_fn fn, void *ctx)
{
	return sp_store_foreach_from(t, db, prefix, plen, prefix, plen, fn, ctx);
}

int sp_store_foreach_from(sp_txn *t, enum sp_db db, const void *prefix, size_t plen,
                          const void *from, size_t fromlen, sp_store_visit_fn fn, void *ctx)
{
	MDB_cursor *cur = NULL;
	MDB_val k = { fromlen, (void *)from }, v;
	int rc;

	if ((rc = check_db(t, db)) != SP_OK)
		return rc == SP_ENOTFOUND ? SP_OK : rc;
	if (!fn || (plen && !prefix) || (fromlen && !from) || fromlen < plen ||
	    (plen && memcmp(from, prefix, plen) != 0))
		return SP_EINVAL;
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[db], &cur)) != 0) {
		rc = map_rc(rc, "mdb_cursor_open");
		goto out;
	}
	rc = mdb_cursor_get(cur, &k, &v, fromlen ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
			break; /* past the prefix: keys are sorted */
		int r = fn(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (r != 0) {
			rc = r;
			goto out;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	rc = (rc == 0 || rc == MDB_NOTFOUND) ? SP_OK : map_rc(rc, "mdb_cursor_get");
out:
	if (cur)
		mdb_cursor_close(cur);
	return rc;
}

int sp_store_last(sp_txn *t, enum sp_db db, const void **k, size_t *klen,
                  const void **v, size_t *vlen)
{
	MDB_cursor *cur = NULL;
	MDB_val mk, mv;
	int rc;

	if ((rc = check_db(t, db)) != SP_OK)
		return rc;
	if ((rc = mdb_cursor_open(t->txn, t->s->dbi[db], &cur)) != 0) {
		rc = map_rc(rc, "mdb_cursor_open");
		goto out;
	}
	if ((rc = mdb_cursor_get(cur, &mk, &mv, MDB_LAST)) != 0) {
		rc = map_rc(rc, "mdb_cursor_get");
		goto out;
	}
	if (k)
		*k = mk.mv_data;
	if (klen)
		*klen = mk.mv_size;
	if (v)
		*v = mv.mv_data;
	if (vlen)
		*vlen = mv.mv_size;
out:
	if (cur)
		mdb_cursor_close(cur);
	return rc;
}

int sp_store_count(sp_txn *t, enum sp_db db, uint64_t *n)
{
	MDB_stat st;
	int rc;

	if (!n)
		return SP_EINVAL;
	*n = 0;
	if ((rc = check_db(t, db)) != SP_OK)
		return rc == SP_ENOTFOUND ? SP_OK : rc;
	if ((rc = mdb_stat(t->txn, t->s->dbi[db], &st)) != 0)
		return map_rc(rc, "mdb_stat");
	*n = st.ms_entries;
	return SP_OK;
}
