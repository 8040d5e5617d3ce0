/* test_statedir.c — state directory: creation errors, remote filesystem
 * classifier, and the locks across real processes (fork). */
#include <errno.h>
#include <sys/wait.h>

#include "sp_test.h"
#include "sp_statedir.h"

static char dir[256];

static void setup(void)
{
	sp_test_subdir(dir, sizeof dir);
}

static void teardown(void)
{
	sp_test_rmdir(dir);
}

START_TEST(classifier)
{
	/* statfs f_type values as the kernel reports them */
	ck_assert_str_eq(sp_statedir_remote_fs(0x6969), "NFS");
	ck_assert_str_eq(sp_statedir_remote_fs(0xFF534D42), "CIFS/SMB");
	ck_assert_str_eq(sp_statedir_remote_fs(0xFE534D42), "SMB2/SMB3");
	ck_assert_str_eq(sp_statedir_remote_fs(0x517B), "SMB");
	ck_assert_str_eq(sp_statedir_remote_fs(0x65735546), "FUSE");
	/* f_type is a signed long on some ABIs: sign-extended values too */
	ck_assert_str_eq(sp_statedir_remote_fs((uint64_t)(int64_t)(int32_t)0xFF534D42), "CIFS/SMB");
	/* local filesystems: ext4, xfs, btrfs, tmpfs, overlayfs, zfs */
	ck_assert_ptr_null(sp_statedir_remote_fs(0xEF53));
	ck_assert_ptr_null(sp_statedir_remote_fs(0x58465342));
	ck_assert_ptr_null(sp_statedir_remote_fs(0x9123683E));
	ck_assert_ptr_null(sp_statedir_remote_fs(0x01021994));
	ck_assert_ptr_null(sp_statedir_remote_fs(0x794c7630));
	ck_assert_ptr_null(sp_statedir_remote_fs(0x2fc12fc1));
}
END_TEST

START_TEST(prepare_errors)
{
	char p[400], why[512];
	FILE *f;
	snprintf(p, sizeof p, "%s/a/b/state", dir);
	ck_assert_int_eq(sp_statedir_prepare(p, why, sizeof why), SP_OK);
	/* a file where a directory should be: the message has the errno text */
	snprintf(p, sizeof p, "%s/file", dir);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(p, sizeof p, "%s/file/state", dir);
	ck_assert_int_ne(sp_statedir_prepare(p, why, sizeof why), SP_OK);
	ck_assert_msg(strstr(why, "cannot create state directory") && strstr(why, strerror(ENOTDIR)), "%s", why);
}
END_TEST

/* Try a lock in a child process (a real second process: flock is per open
 * file, so a second open in this process would not show it). */
static int child_lock(enum sp_lock_kind kind, char *why, size_t whylen)
{
	int pfd[2];
	pid_t pid;
	int status;
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sp_lock *l = NULL;
		char w[512] = "";
		int rc = sp_statedir_lock(dir, kind, &l, w, sizeof w);
		if (write(pfd[1], w, strlen(w) + 1) < 0)
			_exit(9);
		_exit(rc == SP_OK ? 0 : rc == SP_EBUSY ? 1 : 2);
	}
	close(pfd[1]);
	ssize_t n = read(pfd[0], why, whylen - 1);
	why[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(locks)
{
	sp_lock *d = NULL, *w = NULL;
	char why[512], want[64];
	ck_assert_int_eq(sp_statedir_lock(dir, SP_LOCK_DAEMON, &d, why, sizeof why), SP_OK);
	/* a second daemon is refused and told who runs */
	ck_assert_int_eq(child_lock(SP_LOCK_DAEMON, why, sizeof why), 1);
	snprintf(want, sizeof want, "already running (pid %ld)", (long)getpid());
	ck_assert_msg(strstr(why, want), "%s", why);
	/* a writer works beside the daemon, an admin command does not */
	ck_assert_int_eq(child_lock(SP_LOCK_WRITER, why, sizeof why), 0);
	ck_assert_int_eq(child_lock(SP_LOCK_ADMIN, why, sizeof why), 1);
	ck_assert_msg(strstr(why, "stop it first"), "%s", why);
	sp_statedir_unlock(&d);
	ck_assert_ptr_null(d);
	/* the daemon gone: a writer keeps an admin command out, not a daemon */
	ck_assert_int_eq(sp_statedir_lock(dir, SP_LOCK_WRITER, &w, why, sizeof why), SP_OK);
	ck_assert_int_eq(child_lock(SP_LOCK_ADMIN, why, sizeof why), 1);
	ck_assert_int_eq(child_lock(SP_LOCK_DAEMON, why, sizeof why), 0);
	sp_statedir_unlock(&w);
	ck_assert_int_eq(child_lock(SP_LOCK_ADMIN, why, sizeof why), 0);
}
END_TEST

static Suite *statedir_suite(void)
{
	Suite *s = suite_create("statedir");
	TCase *tc = tcase_create("core");
	tcase_add_unchecked_fixture(tc, sp_test_base_setup, sp_test_base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, classifier);
	tcase_add_test(tc, prepare_errors);
	tcase_add_test(tc, locks);
	suite_add_tcase(s, tc);
	return s;
}

SP_TEST_MAIN(statedir_suite)
