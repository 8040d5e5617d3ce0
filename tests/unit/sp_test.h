/*
 * sp_test.h — shared helpers for the Check unit tests.
 * Each tests/unit/test_<module>.c defines suite functions and uses
 * SP_TEST_MAIN(suite_fn, ...) to run them.
 */
#ifndef SP_TEST_H
#define SP_TEST_H

#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A fresh temporary directory per test; removed by sp_test_rmdir. */
static inline char *sp_test_tmpdir(char *buf, size_t len)
{
	const char *base = getenv("TMPDIR");
	snprintf(buf, len, "%s/sp-unit-XXXXXX", base ? base : "/tmp");
	return mkdtemp(buf);
}

static inline void sp_test_rmdir(const char *dir)
{
	char cmd[4200];
	if (!dir || strncmp(dir, "/tmp", 4) != 0)
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* A base temp dir owned by the runner process (an unchecked fixture): a
 * failed check ends the forked test with _exit(), skipping the checked
 * teardown, and must still leave nothing behind. Tests work in their own
 * subdirectory of it (sp_test_subdir). */
static inline char *sp_test_base(void)
{
	static char base[200];
	return base;
}

static inline void sp_test_base_setup(void)
{
	if (!sp_test_tmpdir(sp_test_base(), 200))
		abort();
}

static inline void sp_test_base_teardown(void)
{
	sp_test_rmdir(sp_test_base());
}

static inline void sp_test_subdir(char *out, size_t len)
{
	snprintf(out, len, "%s/t-XXXXXX", sp_test_base());
	ck_assert_ptr_nonnull(mkdtemp(out));
}

#define SP_TEST_MAIN(...)                                                      \
	int main(void)                                                         \
	{                                                                      \
		Suite *(*suites[])(void) = { __VA_ARGS__ };                    \
		SRunner *sr = srunner_create(NULL);                            \
		for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)  \
			srunner_add_suite(sr, suites[i]());                    \
		srunner_run_all(sr, CK_NORMAL);                                \
		int failed = srunner_ntests_failed(sr);                        \
		srunner_free(sr);                                              \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;                   \
	}

#endif
