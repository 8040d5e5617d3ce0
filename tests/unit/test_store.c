/* test_store.c — LMDB wrapper: CRUD, iteration, durability, limits, damage. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "sp_test.h"
#include "sp_store.h"

static char dir[256];

/* Each test works in its own subdirectory of the runner's base (sp_test.h). */

static void setup(void)
{
	sp_test_subdir(dir, sizeof dir);
}

static void teardown(void)
{
	sp_test_rmdir(dir);
	dir[0] = '\0';
}

/* The store lives in a subdirectory so creation (0700) is exercised too. */
static const char *store_dir(void)
{
	static char p[300];
	snprintf(p, sizeof p, "%s/state", dir);
	return p;
}

static sp_store *open_store(uint64_t map, unsigned flags)
{
	sp_store *s = NULL;
	int rc = sp_store_open(store_dir(), map, flags, &s);
	ck_assert_msg(rc == SP_OK, "open: %s (%s)", sp_strerror(rc), sp_store_last_error());
	return s;
}

static void put_str(sp_store *s, enum sp_db db, const char *k, const char *v)
{
	sp_txn *t = NULL;
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_store_put(t, db, k, strlen(k), v, strlen(v), 0), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	ck_assert_ptr_null(t);
}

/* Returns 1 if k holds exactly v, 0 if absent; fails on a different value. */
static int has_str(sp_store *s, enum sp_db db, const char *k, const char *v)
{
	sp_txn *t = NULL;
	const void *got;
	size_t glen;
	int rc, found;

	ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
	rc = sp_store_get(t, db, k, strlen(k), &got, &glen);
	ck_assert(rc == SP_OK || rc == SP_ENOTFOUND);
	found = rc == SP_OK;
	if (found) {
		ck_assert_uint_eq(glen, strlen(v));
		ck_assert(memcmp(got, v, glen) == 0);
	}
	sp_txn_abort(&t);
	return found;
}

START_TEST(test_open_creates_private_dir)
{
	sp_store *s = open_store(0, 0);
	struct stat st;
	ck_assert_int_eq(stat(store_dir(), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	sp_store_close(&s);
	ck_assert_ptr_null(s);
	sp_store_close(&s); /* NULL-safe */
	sp_store_close(NULL);
}
END_TEST

START_TEST(test_put_get_del)
{
	sp_store *s = open_store(0, 0);
	sp_txn *t = NULL;
	const void *v;
	size_t vlen;

	put_str(s, SP_DB_OUTBOX, "k1", "value one");
	ck_assert_int_eq(has_str(s, SP_DB_OUTBOX, "k1", "value one"), 1);
	/* Databases are separate namespaces. */
	ck_assert_int_eq(has_str(s, SP_DB_INBOX, "k1", ""), 0);

	put_str(s, SP_DB_OUTBOX, "k1", "replaced");
	ck_assert_int_eq(has_str(s, SP_DB_OUTBOX, "k1", "replaced"), 1);

	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_store_get(t, SP_DB_OUTBOX, "nope", 4, &v, &vlen), SP_ENOTFOUND);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(sp_store_del(t, SP_DB_OUTBOX, "k1", 2), SP_OK);
	ck_assert_int_eq(sp_store_del(t, SP_DB_OUTBOX, "k1", 2), SP_ENOTFOUND);
	/* Empty keys and bad db ids are refused, not passed to LMDB. */
	ck_assert_int_eq(sp_store_put(t, SP_DB_OUTBOX, "", 0, "x", 1, 0), SP_EINVAL);
	ck_assert_int_eq(sp_store_put(t, SP_DB_COUNT, "a", 1, "x", 1, 0), SP_EINVAL);
	/* Keys above LMDB's limit are a size error. */
	{
		char big[1024];
		memset(big, 'a', sizeof big);
		ck_assert_int_eq(sp_store_put(t, SP_DB_OUTBOX, big, sizeof big, "x", 1, 0), SP_ESIZE);
	}
	sp_txn_abort(&t);
	/* The aborted txn (with the failed put) changed nothing. */
	ck_assert_int_eq(has_str(s, SP_DB_OUTBOX, "k1", "replaced"), 1);

	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_store_del(t, SP_DB_OUTBOX, "k1", 2), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	ck_assert_int_eq(has_str(s, SP_DB_OUTBOX, "k1", ""), 0);

	/* Empty values are allowed. */
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_store_put(t, SP_DB_META, "empty", 5, NULL, 0, 0), SP_OK);
	ck_assert_int_eq(sp_store_get(t, SP_DB_META, "empty", 5, &v, &vlen), SP_OK);
	ck_assert_uint_eq(vlen, 0);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	sp_store_close(&s);
}
END_TEST

START_TEST(test_nooverwrite)
{
	sp_store *s = open_store(0, 0);
	sp_txn *t = NULL;

	put_str(s, SP_DB_SIGNALS, "id", "first");
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_store_put(t, SP_DB_SIGNALS, "id", 2, "second", 6, SP_PUT_NOOVERWRITE),
	                 SP_EEXIST);
	ck_assert_int_eq(sp_store_put(t, SP_DB_SIGNALS, "id2", 3, "x", 1, SP_PUT_NOOVERWRITE), SP_OK);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	ck_assert_int_eq(has_str(s, SP_DB_SIGNALS, "id", "first"), 1);
	ck_assert_int_eq(has_str(s, SP_DB_SIGNALS, "id2", "x"), 1);
	sp_store_close(&s);
}
END_TEST

struct seen {
	char keys[16][16];
	int n;
	int stop_at;
};

static int collect(void *ctx, const void *k, size_t klen, const void *v, size_t vlen)
{
	struct seen *s = ctx;
	ck_assert_uint_lt(klen, 16);
	ck_assert_int_lt(s->n, 16);
	memcpy(s->keys[s->n], k, klen);
	s->keys[s->n][klen] = '\0';
	/* The value is the key upper-cased: check k/v pairing. */
	ck_assert_uint_eq(vlen, klen);
	for (size_t i = 0; i < klen; i++)
		ck_assert_int_eq(((const char *)v)[i], ((const char *)k)[i] - 32);
	s->n++;
	return s->n == s->stop_at ? 42 : 0;
}

START_TEST(test_foreach_last_count)
{
	static const char *keys[] = { "b2", "a1", "c", "b1", "bz", "a2", "b3", "ab" };
	sp_store *s = open_store(0, 0);
	sp_txn *t = NULL;
	struct seen seen;
	const void *k, *v;
	size_t klen, vlen;
	uint64_t n;

	ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
	ck_assert_int_eq(sp_store_last(t, SP_DB_QUEUE, &k, &klen, &v, &vlen), SP_ENOTFOUND);
	ck_assert_int_eq(sp_store_count(t, SP_DB_QUEUE, &n), SP_OK);
	ck_assert_uint_eq(n, 0);
	sp_txn_abort(&t);

	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char up[8];
		size_t l = strlen(keys[i]);
		for (size_t j = 0; j < l; j++)
			up[j] = keys[i][j] - 32;
		ck_assert_int_eq(sp_store_put(t, SP_DB_QUEUE, keys[i], l, up, l, 0), SP_OK);
	}
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);

	ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
	memset(&seen, 0, sizeof seen);
	ck_assert_int_eq(sp_store_foreach(t, SP_DB_QUEUE, "b", 1, collect, &seen), SP_OK);
	ck_assert_int_eq(seen.n, 4);
	ck_assert_str_eq(seen.keys[0], "b1");
	ck_assert_str_eq(seen.keys[1], "b2");
	ck_assert_str_eq(seen.keys[2], "b3");
	ck_assert_str_eq(seen.keys[3], "bz");

	memset(&seen, 0, sizeof seen);
	ck_assert_int_eq(sp_store_foreach(t, SP_DB_QUEUE, NULL, 0, collect, &seen), SP_OK);
	ck_assert_int_eq(seen.n, 8);
	ck_assert_str_eq(seen.keys[0], "a1");
	ck_assert_str_eq(seen.keys[1], "a2");
	ck_assert_str_eq(seen.keys[2], "ab");
	ck_assert_str_eq(seen.keys[7], "c");

	/* A prefix with no keys, and one longer than some keys. */
	memset(&seen, 0, sizeof seen);
	ck_assert_int_eq(sp_store_foreach(t, SP_DB_QUEUE, "aa", 2, collect, &seen), SP_OK);
	ck_assert_int_eq(seen.n, 0);
	ck_assert_int_eq(sp_store_foreach(t, SP_DB_QUEUE, "zz", 2, collect, &seen), SP_OK);
	ck_assert_int_eq(seen.n, 0);

	/* The visitor's nonzero return stops and is passed through. */
	memset(&seen, 0, sizeof seen);
	seen.stop_at = 2;
	ck_assert_int_eq(sp_store_foreach(t, SP_DB_QUEUE, "b", 1, collect, &seen), 42);
	ck_assert_int_eq(seen.n, 2);

	ck_assert_int_eq(sp_store_last(t, SP_DB_QUEUE, &k, &klen, &v, &vlen), SP_OK);
	ck_assert_uint_eq(klen, 1);
	ck_assert(memcmp(k, "c", 1) == 0);
	ck_assert(memcmp(v, "C", 1) == 0);
	ck_assert_int_eq(sp_store_count(t, SP_DB_QUEUE, &n), SP_OK);
	ck_assert_uint_eq(n, 8);
	ck_assert_int_eq(sp_store_count(t, SP_DB_INBOX, &n), SP_OK);
	ck_assert_uint_eq(n, 0);
	sp_txn_abort(&t);
	sp_store_close(&s);
}
END_TEST

START_TEST(test_borrowed_values)
{
	sp_store *s = open_store(0, 0);
	sp_txn *t = NULL, *t2 = NULL;
	const void *v1, *v2;
	size_t l1, l2;

	put_str(s, SP_DB_INBOX, "one", "first value");
	put_str(s, SP_DB_INBOX, "two", "second value");
	ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
	ck_assert_int_eq(sp_store_get(t, SP_DB_INBOX, "one", 3, &v1, &l1), SP_OK);
	ck_assert_int_eq(sp_store_get(t, SP_DB_INBOX, "two", 3, &v2, &l2), SP_OK);
	/* Both stay valid for the life of the read txn, and a reader keeps its
	 * snapshot while a writer replaces the value (MVCC). */
	put_str(s, SP_DB_INBOX, "one", "changed");
	ck_assert_uint_eq(l1, 11);
	ck_assert(memcmp(v1, "first value", l1) == 0);
	ck_assert(memcmp(v2, "second value", l2) == 0);
	/* MDB_NOTLS: a second read txn in the same thread is allowed. */
	ck_assert_int_eq(sp_txn_begin(s, 0, &t2), SP_OK);
	ck_assert_int_eq(sp_store_get(t2, SP_DB_INBOX, "one", 3, &v1, &l1), SP_OK);
	ck_assert(memcmp(v1, "changed", l1) == 0);
	sp_txn_abort(&t2);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK); /* commit of a read txn just ends it */
	ck_assert_ptr_null(t);
	sp_txn_abort(&t); /* NULL-safe */
	sp_store_close(&s);
}
END_TEST

START_TEST(test_abort_discards)
{
	sp_store *s = open_store(0, 0);
	sp_txn *t = NULL;

	put_str(s, SP_DB_META, "keep", "yes");
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_store_put(t, SP_DB_META, "gone", 4, "no", 2, 0), SP_OK);
	ck_assert_int_eq(sp_store_del(t, SP_DB_META, "keep", 4), SP_OK);
	sp_txn_abort(&t);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(has_str(s, SP_DB_META, "gone", ""), 0);
	ck_assert_int_eq(has_str(s, SP_DB_META, "keep", "yes"), 1);
	sp_store_close(&s);
}
END_TEST

START_TEST(test_reopen_keeps_data)
{
	sp_store *s = open_store(0, 0);
	sp_txn *t = NULL;

	put_str(s, SP_DB_INVOLVE, "committed", "1");
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	ck_assert_int_eq(sp_store_put(t, SP_DB_INVOLVE, "aborted", 7, "1", 1, 0), SP_OK);
	sp_txn_abort(&t);
	sp_store_close(&s);

	s = open_store(0, 0);
	ck_assert_int_eq(has_str(s, SP_DB_INVOLVE, "committed", "1"), 1);
	ck_assert_int_eq(has_str(s, SP_DB_INVOLVE, "aborted", ""), 0);
	sp_store_close(&s);
}
END_TEST

START_TEST(test_map_full)
{
	sp_store *s = open_store(128 * 1024, 0);
	sp_txn *t = NULL;
	char val[1000];
	int rc = SP_OK, i;

	put_str(s, SP_DB_OUTBOX, "before", "intact");
	memset(val, 'v', sizeof val);
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	for (i = 0; i < 1000 && rc == SP_OK; i++) {
		char k[16];
		snprintf(k, sizeof k, "k%05d", i);
		rc = sp_store_put(t, SP_DB_OUTBOX, k, strlen(k), val, sizeof val, 0);
	}
	if (rc == SP_OK) {
		rc = sp_txn_commit(&t);
	} else {
		ck_assert_int_eq(rc, SP_EMAPFULL);
		sp_txn_abort(&t);
	}
	ck_assert_msg(rc == SP_EMAPFULL, "expected map full, got %s", sp_strerror(rc));
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(sp_store_last_error(), "MDB_MAP_FULL"));

	/* Still usable: old data there, new small writes commit. */
	ck_assert_int_eq(has_str(s, SP_DB_OUTBOX, "before", "intact"), 1);
	ck_assert_int_eq(has_str(s, SP_DB_OUTBOX, "k00000", ""), 0);
	put_str(s, SP_DB_OUTBOX, "after", "ok");
	ck_assert_int_eq(has_str(s, SP_DB_OUTBOX, "after", "ok"), 1);
	sp_store_close(&s);

	/* And after reopening with a larger map, the big batch fits. */
	s = open_store(0, 0);
	ck_assert_int_eq(has_str(s, SP_DB_OUTBOX, "before", "intact"), 1);
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	for (i = 0; i < 1000; i++) {
		char k[16];
		snprintf(k, sizeof k, "k%05d", i);
		ck_assert_int_eq(sp_store_put(t, SP_DB_OUTBOX, k, strlen(k), val, sizeof val, 0), SP_OK);
	}
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	sp_store_close(&s);
}
END_TEST

START_TEST(test_readonly)
{
	sp_store *s = NULL, *w;
	sp_txn *t = NULL;
	pid_t pid;
	int status;

	/* Nothing there yet: read-only open neither creates nor succeeds. */
	ck_assert_int_eq(sp_store_open(store_dir(), 0, SP_STORE_RDONLY, &s), SP_ENOTFOUND);
	ck_assert_ptr_null(s);
	ck_assert_int_ne(access(store_dir(), F_OK), 0);

	w = open_store(0, 0);
	put_str(w, SP_DB_AUDIT, "committed", "seen");
	ck_assert_int_eq(sp_txn_begin(w, 1, &t), SP_OK);
	ck_assert_int_eq(sp_store_put(t, SP_DB_AUDIT, "pending", 7, "x", 1, 0), SP_OK);

	/* A CLI tool is a separate process; LMDB must not be opened twice in
	 * one process, so the reader runs in a child while the writer's txn
	 * is still open. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sp_store *r = NULL;
		sp_txn *rt = NULL;
		const void *v;
		size_t vlen;
		int ok = sp_store_open(store_dir(), 0, SP_STORE_RDONLY, &r) == SP_OK &&
		         sp_txn_begin(r, 1, &rt) == SP_EPERM &&
		         sp_txn_begin(r, 0, &rt) == SP_OK &&
		         sp_store_get(rt, SP_DB_AUDIT, "committed", 9, &v, &vlen) == SP_OK &&
		         vlen == 4 && memcmp(v, "seen", 4) == 0 &&
		         sp_store_get(rt, SP_DB_AUDIT, "pending", 7, &v, &vlen) == SP_ENOTFOUND &&
		         sp_store_put(rt, SP_DB_AUDIT, "w", 1, "x", 1, 0) == SP_EINVAL;
		sp_txn_abort(&rt);
		sp_store_close(&r);
		_exit(ok ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	sp_store_close(&w);
}
END_TEST

static void write_file(const char *name, const void *data, size_t len)
{
	char p[400];
	int fd;
	snprintf(p, sizeof p, "%s/%s", store_dir(), name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static off_t data_size(void)
{
	char p[400];
	struct stat st;
	snprintf(p, sizeof p, "%s/data.mdb", store_dir());
	ck_assert_int_eq(stat(p, &st), 0);
	return st.st_size;
}

static void truncate_data(off_t len)
{
	char p[400];
	snprintf(p, sizeof p, "%s/data.mdb", store_dir());
	ck_assert_int_eq(truncate(p, len), 0);
}

static void expect_corrupt(unsigned flags)
{
	sp_store *s = NULL;
	int rc = sp_store_open(store_dir(), 0, flags, &s);
	ck_assert_msg(rc == SP_ECORRUPT, "expected corrupt, got %s (%s)", sp_strerror(rc),
	              sp_store_last_error());
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(sp_store_last_error(), "data.mdb"));
}

/* A store with enough data that it spans many pages. */
static void fill_store(void)
{
	sp_store *s = open_store(0, 0);
	sp_txn *t = NULL;
	char val[500];
	memset(val, 'x', sizeof val);
	ck_assert_int_eq(sp_txn_begin(s, 1, &t), SP_OK);
	for (int i = 0; i < 2000; i++) {
		char k[16];
		snprintf(k, sizeof k, "k%05d", i);
		ck_assert_int_eq(sp_store_put(t, SP_DB_QUEUE, k, strlen(k), val, sizeof val, 0), SP_OK);
	}
	ck_assert_int_eq(sp_txn_commit(&t), SP_OK);
	sp_store_close(&s);
}

START_TEST(test_corrupt_garbage)
{
	uint8_t junk[65536];
	ck_assert_int_eq(mkdir(store_dir(), 0700), 0);
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 2654435761u >> 13);
	write_file("data.mdb", junk, sizeof junk);
	expect_corrupt(0);
	expect_corrupt(SP_STORE_RDONLY);
	/* Short garbage too. */
	write_file("data.mdb", "not an lmdb file", 16);
	expect_corrupt(0);
}
END_TEST

START_TEST(test_corrupt_empty_file)
{
	fill_store();
	truncate_data(0);
	/* LMDB alone would treat this as a new database and lose everything. */
	expect_corrupt(0);
	expect_corrupt(SP_STORE_RDONLY);
	ck_assert_int_eq(data_size(), 0);
}
END_TEST

START_TEST(test_corrupt_truncated)
{
	off_t full;
	fill_store();
	full = data_size();
	ck_assert_int_gt(full, 100 * 1024);
	truncate_data(full / 2);
	expect_corrupt(0);
	expect_corrupt(SP_STORE_RDONLY);
	truncate_data(100);
	expect_corrupt(0);
}
END_TEST

START_TEST(test_corrupt_meta_garbled)
{
	char p[400];
	uint8_t junk[8192];
	int fd;

	fill_store();
	/* Overwrite both meta pages (the first two 4 KiB pages). */
	memset(junk, 0xA5, sizeof junk);
	snprintf(p, sizeof p, "%s/data.mdb", store_dir());
	fd = open(p, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, junk, sizeof junk, 0), (ssize_t)sizeof junk);
	close(fd);
	expect_corrupt(0);
}
END_TEST

/* Garble data pages one at a time: open must either succeed (the page was
 * free) or return SP_ECORRUPT — never crash this process. */
START_TEST(test_corrupt_data_pages)
{
	char p[400];
	uint8_t orig[4096], junk[4096];
	off_t pages;
	int fd, corrupt = 0, fine = 0;

	fill_store();
	pages = data_size() / 4096;
	snprintf(p, sizeof p, "%s/data.mdb", store_dir());
	for (off_t pg = 2; pg < pages; pg += 3) {
		sp_store *s = NULL;
		int rc;
		for (size_t i = 0; i < sizeof junk; i++)
			junk[i] = (uint8_t)((i + (size_t)pg) * 2654435761u >> 11);
		fd = open(p, O_RDWR);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(pread(fd, orig, sizeof orig, pg * 4096), (ssize_t)sizeof orig);
		ck_assert_int_eq(pwrite(fd, junk, sizeof junk, pg * 4096), (ssize_t)sizeof junk);
		rc = sp_store_open(store_dir(), 0, SP_STORE_RDONLY | SP_STORE_CHECK, &s);
		ck_assert_msg(rc == SP_OK || rc == SP_ECORRUPT, "page %lld: %s", (long long)pg,
		              sp_strerror(rc));
		if (rc == SP_OK) {
			uint64_t n;
			sp_txn *t = NULL;
			/* Accepted: the page must really be unreachable. */
			ck_assert_int_eq(sp_txn_begin(s, 0, &t), SP_OK);
			ck_assert_int_eq(sp_store_count(t, SP_DB_QUEUE, &n), SP_OK);
			ck_assert_uint_eq(n, 2000);
			sp_txn_abort(&t);
			fine++;
		} else {
			corrupt++;
		}
		sp_store_close(&s);
		ck_assert_int_eq(pwrite(fd, orig, sizeof orig, pg * 4096), (ssize_t)sizeof orig);
		close(fd);
	}
	ck_assert_int_gt(corrupt, 10);
	ck_assert_int_gt(fine, 0); /* free pages exist: the test is not vacuous */
	/* Restored: the store opens cleanly again. */
	{
		sp_store *s = open_store(0, 0);
		sp_store_close(&s);
	}
}
END_TEST

START_TEST(test_bad_args)
{
	sp_store *s = NULL;
	sp_txn *t = NULL;
	ck_assert_int_eq(sp_store_open(NULL, 0, 0, &s), SP_EINVAL);
	ck_assert_int_eq(sp_store_open(store_dir(), 0, 0x80, &s), SP_EINVAL);
	ck_assert_int_eq(sp_txn_begin(NULL, 0, &t), SP_EINVAL);
	ck_assert_int_eq(sp_txn_commit(&t), SP_EINVAL);
	ck_assert_ptr_nonnull(sp_store_last_error());
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");
	tcase_add_unchecked_fixture(tc, sp_test_base_setup, sp_test_base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_open_creates_private_dir);
	tcase_add_test(tc, test_put_get_del);
	tcase_add_test(tc, test_nooverwrite);
	tcase_add_test(tc, test_foreach_last_count);
	tcase_add_test(tc, test_borrowed_values);
	tcase_add_test(tc, test_abort_discards);
	tcase_add_test(tc, test_reopen_keeps_data);
	tcase_add_test(tc, test_map_full);
	tcase_add_test(tc, test_readonly);
	tcase_add_test(tc, test_bad_args);
	suite_add_tcase(s, tc);

	tc = tcase_create("damage");
	tcase_add_unchecked_fixture(tc, sp_test_base_setup, sp_test_base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_corrupt_garbage);
	tcase_add_test(tc, test_corrupt_empty_file);
	tcase_add_test(tc, test_corrupt_truncated);
	tcase_add_test(tc, test_corrupt_meta_garbled);
	tcase_add_test(tc, test_corrupt_data_pages);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(store_suite)
