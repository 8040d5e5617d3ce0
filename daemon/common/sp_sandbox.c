/*
 * sp_sandbox.c — Landlock, no_new_privs and dumpable (sp_sandbox.h).
 *
 * The system calls are made directly (glibc has no wrappers); the unit's
 * SystemCallFilter must allow them (deploy/seinpostd@.service).
 */
#include "sp_sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/landlock.h>

#include "sp_log.h"
#include "sp_util.h"

#define C "sandbox"
#define MAX_DENY 8

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

/* Rights that apply to a file (a rule on a file may carry only these). */
#define FILE_RIGHTS_V1 (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE)
#define DIR_RIGHTS_V1                                                                                          \
	(LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |          \
	 LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |               \
	 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |            \
	 LANDLOCK_ACCESS_FS_MAKE_SYM)

#define SCOPE_SIGNAL (1ULL << 1) /* ABI 6: no signals to processes outside the domain */

struct rights {
	uint64_t file, all;
};

/* struct landlock_ruleset_attr as of ABI 6 (the installed header may be
 * older); the kernel reads as much of it as the size we pass. */
struct ruleset_attr {
	uint64_t handled_access_fs, handled_access_net, scoped;
};

static int create_ruleset(int abi, uint64_t fs, uint64_t scoped)
{
	struct ruleset_attr ra = { .handled_access_fs = fs, .scoped = abi >= 6 ? scoped : 0 };
	return (int)syscall(SYS_landlock_create_ruleset, &ra, abi >= 6 ? sizeof ra : sizeof ra.handled_access_fs, 0);
}

static int warned;
static int hook_rs = -1; /* the hooks' ruleset, made before the network process is restricted */

int sp_sandbox_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : (int)v;
}

/* The rights this kernel knows; newer ones (network, scopes, ...) are left
 * unhandled on purpose: they are not about reading files. */
static struct rights rights_for(int abi)
{
	struct rights r = { FILE_RIGHTS_V1, FILE_RIGHTS_V1 | DIR_RIGHTS_V1 };
	if (abi >= 2)
		r.all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3) {
		r.file |= LANDLOCK_ACCESS_FS_TRUNCATE;
		r.all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	}
	if (abi >= 5) {
		r.file |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
		r.all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	}
	return r;
}

static void warn_once(void)
{
	if (warned++)
		return;
	sp_log(LOG_WARNING, C, "Landlock is not available (kernel older than 5.13 or the LSM is disabled): "
	       "the node's keys/ and state stay readable by its network process and hooks at the file "
	       "level; the secret keys are still only in the key holder's memory (docs/privsep.md)");
}

/* 1 when p lies strictly beneath dir (both absolute, normalised). */
static int beneath(const char *p, const char *dir)
{
	size_t l = strlen(dir);
	if (l == 1)
		return p[1] != '\0'; /* dir is "/" */
	return strncmp(p, dir, l) == 0 && p[l] == '/';
}

/* Allow every entry of dir except the denied paths; go down into the
 * entries that lie on the way to a denied path. */
static void allow_except(int rs, const char *dir, char deny[][PATH_MAX], size_t n, struct rights r, int depth)
{
	DIR *d;
	struct dirent *e;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || depth > 64) {
		if (dfd >= 0)
			close(dfd);
		return; /* no rule: denied, which fails closed */
	}
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char child[PATH_MAX];
		int skip = 0, down = 0;
		struct stat st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(child, sizeof child, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, e->d_name) >=
		    (int)sizeof child)
			continue;
		for (size_t i = 0; i < n; i++) {
			if (strcmp(child, deny[i]) == 0)
				skip = 1;
			else if (beneath(deny[i], child))
				down = 1;
		}
		if (skip)
			continue;
		int fd = openat(dirfd(d), e->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) != 0 || S_ISLNK(st.st_mode)) {
			close(fd);
			continue;
		}
		if (down && S_ISDIR(st.st_mode)) {
			close(fd);
			allow_except(rs, child, deny, n, r, depth + 1);
			continue;
		}
		struct landlock_path_beneath_attr pb = {
			.allowed_access = S_ISDIR(st.st_mode) ? r.all : r.file,
			.parent_fd = fd,
		};
		if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0)
			sp_log(LOG_DEBUG, C, "no rule for %s: %s", child, strerror(errno));
		close(fd);
	}
	closedir(d);
}

static int ruleset(const char *const *deny, size_t n, uint64_t scoped, int *fd)
{
	char real[MAX_DENY][PATH_MAX];
	size_t nr = 0;
	int abi = sp_sandbox_abi(), rs;
	struct rights r;

	*fd = -1;
	if (abi < 1) {
		warn_once();
		return SP_OK;
	}
	r = rights_for(abi);
	for (size_t i = 0; i < n && nr < MAX_DENY; i++) {
		if (!deny[i] || deny[i][0] != '/')
			continue;
		if (!realpath(deny[i], real[nr]))
			continue; /* does not exist: nothing to hide */
		if (strcmp(real[nr], "/") == 0)
			return SP_EINVAL;
		nr++;
	}
	rs = create_ruleset(abi, r.all, scoped);
	if (rs < 0) {
		sp_log(LOG_ERR, C, "landlock_create_ruleset: %s", strerror(errno));
		return SP_EIO;
	}
	if (nr == 0) {
		/* Nothing to hide: allow everything beneath / in one rule. */
		int root = open("/", O_PATH | O_CLOEXEC);
		struct landlock_path_beneath_attr pb = { .allowed_access = r.all, .parent_fd = root };
		if (root >= 0) {
			(void)syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
			close(root);
		}
	} else {
		allow_except(rs, "/", real, nr, r, 0);
	}
	*fd = rs;
	return SP_OK;
}

int sp_sandbox_ruleset(const char *const *deny, size_t n, int *fd)
{
	return ruleset(deny, n, 0, fd);
}

int sp_sandbox_enforce(int fd)
{
	int rc = SP_OK;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		sp_log(LOG_ERR, C, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		rc = SP_EIO;
	}
	if (rc == SP_OK && fd >= 0 && syscall(SYS_landlock_restrict_self, fd, 0) != 0) {
		sp_log(LOG_ERR, C, "landlock_restrict_self: %s", strerror(errno));
		rc = SP_EIO;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

void sp_sandbox_nodump(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		sp_log(LOG_WARNING, C, "PR_SET_DUMPABLE: %s", strerror(errno));
}

int sp_sandbox_network(const sp_config *c)
{
	const char *deny[3] = { c->keys_dir, c->pseudo_key_path, getenv("CREDENTIALS_DIRECTORY") };
	char probe[PATH_MAX];
	int fd, rc, abi = sp_sandbox_abi();

	/* Directories the node creates at start, made now: their parent may be
	 * on the way to keys/, where nothing new can be made after this. */
	if (sp_mkdir_p(c->state_dir, 0700) != SP_OK ||
	    (c->hook_out[0] && sp_mkdir_p(c->hook_out, 0700) != SP_OK))
		sp_log(LOG_WARNING, C, "cannot create the state or spool-out directory");
	/* Plaintext passes through this process: no core dumps of it either. */
	sp_sandbox_nodump();
	/* The hooks' rules first: making them means listing the directories on
	 * the way to the state directory, which this process cannot do later. */
	if (c->hook_command[0] && hook_rs < 0 && sp_sandbox_hook_ruleset(c, &hook_rs) != SP_OK)
		return SP_EIO;
	/* Signals only within its own domain and below (its hooks): not to
	 * the key holder, nor to other processes of the user. */
	rc = ruleset(deny, 3, SCOPE_SIGNAL, &fd);
	if (rc == SP_OK)
		rc = sp_sandbox_enforce(fd);
	if (rc != SP_OK)
		return rc;
	/* Check, and say so: the operator (and the tests) can see it holds. */
	if (snprintf(probe, sizeof probe, "%s/sign.key", c->keys_dir) >= (int)sizeof probe)
		return SP_OK;
	fd = open(probe, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		sp_log(LOG_WARNING, C, "the network process can read %s%s", probe,
		       abi ? "" : " (no Landlock on this kernel)");
	} else if (errno == EACCES) {
		sp_log(LOG_INFO, C, "keys/ is out of reach of the network process (Landlock ABI %d): "
		       "opening sign.key: %s", abi, strerror(EACCES));
	} else {
		sp_log(LOG_INFO, C, "opening sign.key from the network process: %s", strerror(errno));
	}
	return SP_OK;
}

int sp_sandbox_hook_ruleset(const sp_config *c, int *fd)
{
	const char *deny[4] = { c->state_dir, c->keys_dir, c->pseudo_key_path, getenv("CREDENTIALS_DIRECTORY") };
	return ruleset(deny, 4, SCOPE_SIGNAL, fd); /* a hook cannot signal the node */
}

int sp_sandbox_hook_fd(void)
{
	return hook_rs;
}

int sp_sandbox_broker(const sp_config *c)
{
	const char *deny[2] = { c->keys_dir, getenv("CREDENTIALS_DIRECTORY") };
	int fd, rc;
	if (sp_mkdir_p(c->state_dir, 0700) != SP_OK)
		sp_log(LOG_WARNING, C, "cannot create the state directory");
	sp_sandbox_nodump();
	rc = sp_sandbox_ruleset(deny, 2, &fd);
	if (rc == SP_OK)
		rc = sp_sandbox_enforce(fd);
	if (rc == SP_OK && fd >= 0)
		sp_log(LOG_INFO, C, "broker: keys/ closed after start (Landlock ABI %d), no core dumps",
		       sp_sandbox_abi());
	return rc;
}

int sp_sandbox_keyholder(const char *keys_dir)
{
	int abi = sp_sandbox_abi(), rs = -1;
	sp_sandbox_nodump();
	if (abi >= 1) {
		/* Handled rights and one rule: read keys/ (files and listing),
		 * nothing else; no file may be written or opened elsewhere. */
		rs = create_ruleset(abi, rights_for(abi).all, 0); /* it must still signal its child */
		if (rs < 0) {
			sp_log(LOG_ERR, C, "landlock_create_ruleset: %s", strerror(errno));
			return SP_EIO;
		}
		int kfd = keys_dir ? open(keys_dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
		if (kfd >= 0) {
			struct landlock_path_beneath_attr pb = {
				.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR,
				.parent_fd = kfd,
			};
			if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0)
				sp_log(LOG_WARNING, C, "no read rule for %s: %s (a rotated key then needs a restart)",
				       keys_dir, strerror(errno));
			close(kfd);
		}
	} else {
		warn_once();
	}
	return sp_sandbox_enforce(rs);
}
