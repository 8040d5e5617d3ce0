/* sp_statedir.c — create the state directory, refuse remote and FUSE
 * filesystems, and keep the state to one daemon (flock). See sp_statedir.h. */
#include "sp_statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "sp_util.h"

struct sp_lock {
	int daemon_fd;   /* seinpostd.lock, or -1 */
	int writers_fd;  /* writers.lock, or -1 */
};

/* f_type values from linux/magic.h and the filesystems' sources, spelled
 * out: not every one is in the installed headers. */
static const struct {
	uint64_t magic;
	const char *name;
} remote_fs[] = {
	{ 0x6969, "NFS" },
	{ 0x517B, "SMB" },
	{ 0xFF534D42, "CIFS/SMB" },
	{ 0xFE534D42, "SMB2/SMB3" },
	{ 0x65735546, "FUSE" },
	{ 0x00c36400, "CephFS" },
	{ 0x5346414F, "AFS" },
	{ 0x6B414653, "AFS" },
	{ 0x73757245, "Coda" },
	{ 0x01021997, "9P" },
	{ 0x0BD00BD0, "Lustre" },
	{ 0x47504653, "GPFS" },
	{ 0x01161970, "GFS2" },
	{ 0x7461636f, "OCFS2" },
	{ 0x564c, "NCP" },
};

const char *sp_statedir_remote_fs(uint64_t f_type)
{
	for (size_t i = 0; i < sizeof remote_fs / sizeof remote_fs[0]; i++)
		if (remote_fs[i].magic == (f_type & 0xffffffffu))
			return remote_fs[i].name;
	return NULL;
}

static int err_of(int e)
{
	return e == EACCES || e == EPERM || e == EROFS ? SP_EPERM : SP_EIO;
}

int sp_statedir_prepare(const char *dir, char *why, size_t whylen)
{
	char buf[4096];
	struct statfs fs;
	size_t n;
	const char *name;

	if (!dir || !*dir || (n = strlen(dir)) >= sizeof buf) {
		snprintf(why, whylen, "state directory: no path, or path too long");
		return SP_EINVAL;
	}
	memcpy(buf, dir, n + 1);
	/* Each missing parent in turn, so the message names the one that failed. */
	for (char *p = buf + 1;; p++) {
		int end = *p == '\0';
		if (*p != '/' && !end)
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
			int e = errno;
			snprintf(why, whylen, "cannot create state directory %s: %s", buf, strerror(e));
			return err_of(e);
		}
		if (end)
			break;
		*p = '/';
	}
	if (statfs(dir, &fs) != 0) {
		int e = errno;
		snprintf(why, whylen, "state directory %s: statfs: %s", dir, strerror(e));
		return err_of(e);
	}
	name = sp_statedir_remote_fs((uint64_t)fs.f_type);
	if (name) {
		snprintf(why, whylen, "state directory %s is on a %s filesystem (type 0x%llx); LMDB needs a local "
		         "filesystem (its locks and memory map are not coherent over a network or FUSE): "
		         "put state on a local disk", dir, name, (unsigned long long)fs.f_type);
		return SP_ECONFIG;
	}
	return SP_OK;
}

static int open_lock(const char *dir, const char *file, int *fd, char *why, size_t whylen)
{
	char path[4200];
	if (sp_path_join(dir, file, path, sizeof path) != SP_OK) {
		snprintf(why, whylen, "state directory path too long");
		return SP_ESIZE;
	}
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (*fd < 0) {
		int e = errno;
		snprintf(why, whylen, "cannot open lock file %s: %s", path, strerror(e));
		return err_of(e);
	}
	return SP_OK;
}

static long read_pid(int fd)
{
	char b[32];
	ssize_t n = pread(fd, b, sizeof b - 1, 0);
	if (n <= 0)
		return 0;
	b[n] = '\0';
	return strtol(b, NULL, 10);
}

/* flock without blocking; SP_EBUSY when held elsewhere. */
static int try_lock(int fd, int op)
{
	while (flock(fd, op | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		return errno == EWOULDBLOCK ? SP_EBUSY : SP_EIO;
	}
	return SP_OK;
}

int sp_statedir_lock(const char *dir, enum sp_lock_kind kind, sp_lock **out, char *why, size_t whylen)
{
	sp_lock *l = NULL;
	int rc;

	if (!dir || !out || kind < SP_LOCK_DAEMON || kind > SP_LOCK_ADMIN)
		return SP_EINVAL;
	*out = NULL;
	l = calloc(1, sizeof *l);
	if (!l)
		return SP_ENOMEM;
	l->daemon_fd = l->writers_fd = -1;
	if (kind == SP_LOCK_DAEMON || kind == SP_LOCK_ADMIN) {
		if ((rc = open_lock(dir, "seinpostd.lock", &l->daemon_fd, why, whylen)) != SP_OK)
			goto out;
		rc = try_lock(l->daemon_fd, LOCK_EX);
		if (rc == SP_EBUSY) {
			long pid = read_pid(l->daemon_fd);
			if (kind == SP_LOCK_DAEMON)
				snprintf(why, whylen, "already running (pid %ld) on %s", pid, dir);
			else
				snprintf(why, whylen, "seinpostd is running (pid %ld) on %s; stop it first", pid, dir);
			goto out;
		}
		if (rc != SP_OK) {
			snprintf(why, whylen, "cannot lock %s/seinpostd.lock: %s", dir, strerror(errno));
			goto out;
		}
	}
	if (kind == SP_LOCK_DAEMON) {
		char pid[32];
		int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
		if (ftruncate(l->daemon_fd, 0) != 0 || pwrite(l->daemon_fd, pid, (size_t)n, 0) != n) {
			/* A full disk: the lock holds all the same; only the pid in
			 * a second instance's message is missing. */
		}
	} else {
		if ((rc = open_lock(dir, "writers.lock", &l->writers_fd, why, whylen)) != SP_OK)
			goto out;
		rc = try_lock(l->writers_fd, kind == SP_LOCK_ADMIN ? LOCK_EX : LOCK_SH);
		if (rc == SP_EBUSY)
			snprintf(why, whylen, kind == SP_LOCK_ADMIN ? "another seinpost command is writing %s; try again"
			                                             : "an administrative command holds %s; try again", dir);
		else if (rc != SP_OK)
			snprintf(why, whylen, "cannot lock %s/writers.lock: %s", dir, strerror(errno));
		if (rc != SP_OK)
			goto out;
	}
	*out = l;
	l = NULL;
	rc = SP_OK;
out:
	sp_statedir_unlock(&l);
	return rc;
}

void sp_statedir_unlock(sp_lock **lp)
{
	if (!lp || !*lp)
		return;
	if ((*lp)->daemon_fd >= 0)
		close((*lp)->daemon_fd);
	if ((*lp)->writers_fd >= 0)
		close((*lp)->writers_fd);
	free(*lp);
	*lp = NULL;
}
