/*
 * sp_cli_backup.c — seinpost backup / restore: a verified copy of a live
 * store, and putting one back.
 *
 *   seinpost [--config FILE] backup [--state DIR] DEST
 *   seinpost [--config FILE] restore [--state DIR] SRC
 *
 * backup copies the LMDB environment with mdb_env_copy2(MDB_CP_COMPACT)
 * (what `mdb_copy -c` does) from a read transaction, so the daemon keeps
 * writing meanwhile; the copy is one committed state. It is written into a
 * hidden sibling of DEST, checked there exactly as restore will check it,
 * described in DEST/backup.json (layout version, audit size, SHA-256 of
 * data.mdb) and only then renamed to DEST: a DEST that exists is complete.
 *
 * restore refuses to overwrite a store, refuses while any process has the
 * target store open (LMDB's lock on lock.mdb), checks the backup's SHA-256
 * against its manifest, copies it next to the target, checks the copy (every
 * page readable, layout version one this binary knows, audit hash chain,
 * Merkle tree and signed tree heads), and renames it into place.
 *
 * A backup holds personal data (sealed, but also pseudonyms and the audit
 * log): everything is written 0600 in a 0700 directory. No message here
 * prints a record's content.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp_audit.h"
#include "sp_cli.h"
#include "sp_config.h"
#include "sp_roster.h"
#include "sp_schema.h"
#include "sp_store.h"
#include "sp_util.h"

#define MANIFEST "backup.json"
#define FORMAT "seinpost-backup-1"

struct facts {
	uint32_t schema;
	uint64_t records, heads, bytes;
	uint8_t sha[32];
	int signatures;      /* tree-head signatures checked against the roster */
	char why[600];
};

/* Where the store is, from --state DIR or the configuration; the broker's
 * sign key (to check tree heads) when a configuration and roster are given. */
struct target {
	char state[PATH_MAX];
	uint64_t map_size;
	int role;
	char org[64];
	uint8_t broker_pk[32];
	int have_pk;
};

static int help(FILE *out, const char *cmd)
{
	if (strcmp(cmd, "backup") == 0)
		fprintf(out,
		        "usage: seinpost [--config FILE] backup [--state DIR] DEST\n"
		        "\n"
		        "Copies the store of a broker or node (running or not) into the new directory\n"
		        "DEST: a compacted, consistent copy (mdb_copy -c), checked like restore checks\n"
		        "it, with DEST/backup.json describing it. The store is the configuration's\n"
		        "state directory, or DIR. Exit 0 when the backup is complete and verified.\n");
	else
		fprintf(out,
		        "usage: seinpost [--config FILE] restore [--state DIR] SRC\n"
		        "\n"
		        "Puts the backup SRC (made by seinpost backup) back as the store of a stopped\n"
		        "broker or node: the configuration's state directory, or DIR, which must hold\n"
		        "no store. The copy is checked first (checksum, every page, layout version,\n"
		        "audit chain, Merkle tree and signed tree heads); nothing is changed when a\n"
		        "check fails. Start the daemon afterwards; it migrates an older layout.\n");
	return out == stdout ? 0 : 2;
}

static int load_target(const char *cfg_path, const char *state, struct target *t)
{
	sp_config cfg;
	sp_roster *roster = NULL;
	int rc;

	memset(t, 0, sizeof *t);
	if (cfg_path) {
		if ((rc = sp_cli_load_config(cfg_path, &cfg)) != 0)
			return rc;
		snprintf(t->state, sizeof t->state, "%s", cfg.state_dir);
		t->map_size = cfg.map_size;
		t->role = cfg.role;
		snprintf(t->org, sizeof t->org, "%s", cfg.org);
		if (sp_roster_load(cfg.roster_path, cfg.operator_pk, &roster) == SP_OK &&
		    sp_roster_broker_sign(roster)) {
			memcpy(t->broker_pk, sp_roster_broker_sign(roster), 32);
			t->have_pk = 1;
		}
		sp_roster_free(&roster);
	}
	if (state) {
		if (strlen(state) >= sizeof t->state)
			return 2;
		strcpy(t->state, state);
	}
	if (!t->state[0])
		return 2;
	return 0;
}

static int fsync_path(const char *path, int dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
	int rc;
	if (fd < 0)
		return SP_EIO;
	rc = fsync(fd) == 0 ? SP_OK : SP_EIO;
	close(fd);
	return rc;
}

static int sha256_file(const char *path, uint8_t out[32], uint64_t *bytes)
{
	crypto_hash_sha256_state st;
	static uint8_t buf[1 << 16];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? SP_ENOTFOUND : SP_EIO;
	*bytes = 0;
	crypto_hash_sha256_init(&st);
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
		*bytes += (uint64_t)n;
	}
	close(fd);
	if (n < 0)
		return SP_EIO;
	crypto_hash_sha256_final(&st, out);
	return SP_OK;
}

static int copy_file(const char *from, const char *to)
{
	static uint8_t buf[1 << 16];
	int in = -1, out = -1, rc = SP_EIO;
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		goto out;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		goto out;
	while ((n = read(in, buf, sizeof buf)) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				goto out;
			}
			off += w;
		}
	}
	if (n < 0 || fsync(out) != 0)
		goto out;
	rc = SP_OK;
out:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) != 0)
		rc = SP_EIO;
	return rc;
}

/* The checks restore relies on, on a copy in dir (which then holds only
 * data.mdb again: the lock file a read-only open makes is removed). */
static int check_copy(const char *dir, const struct target *t, struct facts *f)
{
	sp_store *st = NULL;
	sp_txn *tx = NULL;
	sp_audit_verify_result r;
	char lock[PATH_MAX];
	int rc;

	f->why[0] = '\0';
	rc = sp_store_open(dir, t->map_size, SP_STORE_RDONLY | SP_STORE_CHECK, &st);
	if (rc != SP_OK) {
		snprintf(f->why, sizeof f->why, "the copy does not open: %s (%s)", sp_strerror(rc),
		         sp_store_last_error());
		goto out;
	}
	if ((rc = sp_txn_begin(st, 0, &tx)) != SP_OK || (rc = sp_schema_get(tx, &f->schema)) != SP_OK) {
		snprintf(f->why, sizeof f->why, "layout version unreadable: %s", sp_strerror(rc));
		goto out;
	}
	sp_txn_abort(&tx);
	memset(&r, 0, sizeof r);
	rc = sp_audit_verify_full(st, t->have_pk ? t->broker_pk : NULL, &r);
	if (rc != SP_OK) {
		if (r.bad_head)
			snprintf(f->why, sizeof f->why, "audit log broken at tree head of size %llu: %s",
			         (unsigned long long)r.bad_head, r.why);
		else
			snprintf(f->why, sizeof f->why, "audit log broken at record %llu: %s",
			         (unsigned long long)r.bad_seq, r.why[0] ? r.why : sp_strerror(rc));
		goto out;
	}
	f->records = r.records;
	f->heads = r.heads;
	f->signatures = t->have_pk;
out:
	sp_txn_abort(&tx);
	sp_store_close(&st);
	if (sp_path_join(dir, "lock.mdb", lock, sizeof lock) == SP_OK)
		(void)unlink(lock);
	return rc;
}

static int write_manifest(const char *dir, const char *src, const struct target *t, const struct facts *f)
{
	char path[PATH_MAX], when[SP_ISO_TIME], sha[65];
	json_t *o;
	char *text = NULL;
	int rc;

	sp_iso_time(sp_now_ms(), when, sizeof when);
	sp_hex(f->sha, 32, sha);
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:I,s:I,s:b,s:I,s:s}",
	              "format", FORMAT, "created_at", when, "source_state", src,
	              "role", t->role == SP_RUN_BROKER ? "broker" : t->role == SP_RUN_NODE ? "node" : "",
	              "org", t->org, "schema_version", (int)f->schema,
	              "audit_records", (json_int_t)f->records, "signed_tree_heads", (json_int_t)f->heads,
	              "tree_head_signatures_checked", f->signatures,
	              "data_bytes", (json_int_t)f->bytes, "data_sha256", sha);
	if (!o)
		return SP_ENOMEM;
	text = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	if (!text)
		return SP_ENOMEM;
	rc = sp_path_join(dir, MANIFEST, path, sizeof path);
	if (rc == SP_OK)
		rc = sp_file_write(path, text, strlen(text), 0600);
	free(text);
	return rc;
}

static void print_facts(const char *what, const char *where, const struct facts *f)
{
	printf("%s OK: %s (%llu bytes, layout version %u, audit log %llu records, %llu signed tree heads%s)\n",
	       what, where, (unsigned long long)f->bytes, f->schema, (unsigned long long)f->records,
	       (unsigned long long)f->heads,
	       f->signatures ? " verified" : "; signatures not checked without --config");
}

/* Split the options shared by both commands. */
static int parse(int argc, char **argv, const char **state, const char **path)
{
	*state = NULL;
	*path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
			*state = argv[++i];
		else if (argv[i][0] == '-' || *path)
			return -1;
		else
			*path = argv[i];
	}
	return *path ? 0 : -1;
}

int sp_cli_backup(const char *cfg_path, int argc, char **argv)
{
	struct target t;
	struct facts f;
	sp_store *st = NULL;
	const char *state, *dest;
	char tmp[PATH_MAX], data[PATH_MAX], up[PATH_MAX];
	int rc, status = 1, made = 0;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return help(stdout, "backup");
	if (parse(argc, argv, &state, &dest) != 0 || (!cfg_path && !state))
		return help(stderr, "backup");
	if ((rc = load_target(cfg_path, state, &t)) != 0)
		return rc == 2 ? help(stderr, "backup") : rc;
	memset(&f, 0, sizeof f);
	if (access(dest, F_OK) == 0) {
		fprintf(stderr, "seinpost backup: %s exists; a backup goes into a new directory\n", dest);
		return 1;
	}
	if (snprintf(tmp, sizeof tmp, "%s.partial-%ld", dest, (long)getpid()) >= (int)sizeof tmp ||
	    sp_path_join(tmp, "data.mdb", data, sizeof data) != SP_OK ||
	    sp_path_dirname(dest, up, sizeof up) != SP_OK) {
		fprintf(stderr, "seinpost backup: path too long\n");
		return 1;
	}
	if (mkdir(tmp, 0700) != 0) {
		fprintf(stderr, "seinpost backup: cannot create %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	made = 1;
	rc = sp_store_open(t.state, t.map_size, SP_STORE_RDONLY, &st);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost backup: state %s: %s (%s)\n", t.state, sp_strerror(rc),
		        sp_store_last_error());
		goto out;
	}
	rc = sp_store_copy(st, tmp);
	sp_store_close(&st);
	if (rc != SP_OK) {
		fprintf(stderr, "seinpost backup: copy failed: %s (%s)\n", sp_strerror(rc), sp_store_last_error());
		goto out;
	}
	/* LMDB creates the copy 0666 less the umask: it is as private as the store. */
	if (chmod(data, 0600) != 0 || fsync_path(data, 0) != SP_OK ||
	    sha256_file(data, f.sha, &f.bytes) != SP_OK) {
		fprintf(stderr, "seinpost backup: cannot write %s: %s\n", data, strerror(errno));
		goto out;
	}
	if (check_copy(tmp, &t, &f) != SP_OK) {
		fprintf(stderr, "seinpost backup: the copy fails its check, nothing kept: %s\n", f.why);
		goto out;
	}
	if ((rc = write_manifest(tmp, t.state, &t, &f)) != SP_OK || fsync_path(tmp, 1) != SP_OK) {
		fprintf(stderr, "seinpost backup: cannot write the manifest: %s\n", sp_strerror(rc));
		goto out;
	}
	if (rename(tmp, dest) != 0) {
		fprintf(stderr, "seinpost backup: cannot rename to %s: %s\n", dest, strerror(errno));
		goto out;
	}
	made = 0;
	(void)fsync_path(up, 1);
	print_facts("backup", dest, &f);
	status = 0;
out:
	if (made) {
		char p[PATH_MAX];
		if (sp_path_join(tmp, MANIFEST, p, sizeof p) == SP_OK)
			(void)unlink(p);
		if (sp_path_join(tmp, "lock.mdb", p, sizeof p) == SP_OK)
			(void)unlink(p);
		(void)unlink(data);
		(void)rmdir(tmp);
	}
	return status;
}

/* LMDB keeps a shared lock on lock.mdb for as long as a process has the
 * environment open: if we can take it exclusively, nobody has. */
static int store_in_use(const char *state)
{
	char lock[PATH_MAX];
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	int fd, busy;

	if (sp_path_join(state, "lock.mdb", lock, sizeof lock) != SP_OK)
		return 1;
	fd = open(lock, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	busy = fcntl(fd, F_SETLK, &fl) != 0;
	close(fd); /* drops the lock */
	return busy;
}

/* The manifest's checksum, when there is a manifest. */
static int check_manifest(const char *src, const char *data, struct facts *f, int *have)
{
	char path[PATH_MAX], hex[65];
	json_t *m = NULL;
	json_error_t je;
	const char *want;
	int rc = SP_ECORRUPT;

	*have = 0;
	if (sp_path_join(src, MANIFEST, path, sizeof path) != SP_OK)
		return SP_ESIZE;
	if (sha256_file(data, f->sha, &f->bytes) != SP_OK) {
		snprintf(f->why, sizeof f->why, "%.400s cannot be read", data);
		return SP_EIO;
	}
	if (access(path, F_OK) != 0)
		return SP_OK;
	*have = 1;
	m = json_load_file(path, 0, &je);
	want = m ? json_string_value(json_object_get(m, "data_sha256")) : NULL;
	if (!m || !want || strcmp(json_string_value(json_object_get(m, "format")) ?
	                          json_string_value(json_object_get(m, "format")) : "", FORMAT) != 0) {
		snprintf(f->why, sizeof f->why, "%.400s is not a seinpost backup manifest", path);
		goto out;
	}
	if (strcmp(want, sp_hex(f->sha, 32, hex)) != 0) {
		snprintf(f->why, sizeof f->why, "data.mdb does not match its manifest (SHA-256 differs): "
		         "damaged or changed since the backup");
		goto out;
	}
	rc = SP_OK;
out:
	json_decref(m);
	return rc;
}

int sp_cli_restore(const char *cfg_path, int argc, char **argv)
{
	struct target t;
	struct facts f;
	struct stat sd;
	const char *state, *src;
	char data[PATH_MAX], stage[PATH_MAX], staged[PATH_MAX], final[PATH_MAX], lock[PATH_MAX];
	int rc, status = 1, have_manifest = 0, made = 0;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return help(stdout, "restore");
	if (parse(argc, argv, &state, &src) != 0 || (!cfg_path && !state))
		return help(stderr, "restore");
	if ((rc = load_target(cfg_path, state, &t)) != 0)
		return rc == 2 ? help(stderr, "restore") : rc;
	memset(&f, 0, sizeof f);
	if (sp_path_join(src, "data.mdb", data, sizeof data) != SP_OK ||
	    sp_path_join(t.state, "data.mdb", final, sizeof final) != SP_OK ||
	    sp_path_join(t.state, "lock.mdb", lock, sizeof lock) != SP_OK ||
	    snprintf(stage, sizeof stage, "%s/.restore-%ld", t.state, (long)getpid()) >= (int)sizeof stage ||
	    sp_path_join(stage, "data.mdb", staged, sizeof staged) != SP_OK) {
		fprintf(stderr, "seinpost restore: path too long\n");
		return 1;
	}
	if (access(data, R_OK) != 0) {
		fprintf(stderr, "seinpost restore: %s: no data.mdb to restore\n", src);
		return 1;
	}
	if (sp_mkdir_p(t.state, 0700) != SP_OK || stat(t.state, &sd) != 0) {
		fprintf(stderr, "seinpost restore: cannot create %s\n", t.state);
		return 1;
	}
	if (access(final, F_OK) == 0) {
		fprintf(stderr, "seinpost restore: %s already holds a store; stop the daemon and move "
		        "data.mdb away first (restore never overwrites)\n", t.state);
		return 1;
	}
	if (store_in_use(t.state)) {
		fprintf(stderr, "seinpost restore: a process still has the store in %s open; stop the daemon first\n",
		        t.state);
		return 1;
	}
	if (check_manifest(src, data, &f, &have_manifest) != SP_OK) {
		fprintf(stderr, "seinpost restore: %s\n", f.why);
		return 1;
	}
	if (!have_manifest)
		fprintf(stderr, "seinpost restore: note: %s has no %s; checking the store itself only\n", src, MANIFEST);
	if (mkdir(stage, 0700) != 0) {
		fprintf(stderr, "seinpost restore: cannot create %s: %s\n", stage, strerror(errno));
		return 1;
	}
	made = 1;
	if (copy_file(data, staged) != SP_OK) {
		fprintf(stderr, "seinpost restore: cannot copy into %s: %s\n", stage, strerror(errno));
		goto out;
	}
	if (check_copy(stage, &t, &f) != SP_OK) {
		fprintf(stderr, "seinpost restore: the backup fails its check, nothing changed: %s\n", f.why);
		goto out;
	}
	/* Run as root for a service's state directory: the files are the
	 * directory owner's, or the daemon could not open them. */
	if (geteuid() == 0 && (chown(stage, sd.st_uid, sd.st_gid) != 0 ||
	                       chown(staged, sd.st_uid, sd.st_gid) != 0)) {
		fprintf(stderr, "seinpost restore: cannot give %s to its owner: %s\n", staged, strerror(errno));
		goto out;
	}
	/* The old environment's lock file describes readers of a store that is
	 * gone; nobody holds it (checked above). */
	(void)unlink(lock);
	if (rename(staged, final) != 0) {
		fprintf(stderr, "seinpost restore: cannot move the store into place: %s\n", strerror(errno));
		goto out;
	}
	if (fsync_path(t.state, 1) != SP_OK) {
		fprintf(stderr, "seinpost restore: cannot sync %s: %s\n", t.state, strerror(errno));
		goto out;
	}
	print_facts("restore", t.state, &f);
	if (f.schema < SP_SCHEMA_VERSION)
		printf("layout version %u: the daemon migrates it to %u when it starts\n", f.schema,
		       (unsigned)SP_SCHEMA_VERSION);
	if (t.role == SP_RUN_BROKER)
		printf("note: nodes that witnessed tree heads newer than this backup will report the "
		       "broker's log as rolled back (docs/operations.md, \"Restoring the broker\")\n");
	status = 0;
out:
	if (made) {
		char p[PATH_MAX];
		if (sp_path_join(stage, "lock.mdb", p, sizeof p) == SP_OK)
			(void)unlink(p);
		(void)unlink(staged);
		(void)rmdir(stage);
	}
	return status;
}
