/* seinpostd — the seinpost daemon: broker, node or pseudonymiser, chosen by the config. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <unistd.h>
#include <sys/wait.h>

#include "sp_broker.h"
#include "sp_config.h"
#include "sp_keyholder.h"
#include "sp_log.h"
#include "sp_node.h"
#include "sp_preflight.h"
#include "sp_pseudonymiser.h"
#include "sp_statedir.h"
#include "sp_util.h"

static volatile sig_atomic_t stop_flag, reload_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	reload_flag = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: seinpostd --config FILE [--check-config] [--verbose]\n"
	        "\n"
	        "Runs a seinpost broker, node or pseudonymiser, as the configuration's [seinpost] role says.\n"
	        "\n"
	        "  -c, --config FILE    configuration file (see seinpost.conf(5))\n"
	        "      --check-config   validate the configuration and exit\n"
	        "  -v, --verbose        log debug messages too\n"
	        "  -h, --help           this help\n"
	        "      --version        print the version\n"
	        "\n"
	        "Signals: SIGTERM/SIGINT stop cleanly, SIGHUP reloads the sharing policy (broker) or retries a failing delivery hook now (node).\n"
	        "See seinpostd(8).\n");
}

/* Before start-up: the state directory (or, when it does not exist yet, the
 * nearest directory above it) must be writable by us. Under the shipped unit
 * /etc is read-only, so a relative "state = state" from `seinpost net init`
 * lands in /etc/seinpost/NAME/state: say so, instead of an LMDB error. */
static int state_dir_usable(const sp_config *c)
{
	char dir[PATH_MAX], up[PATH_MAX];
	const char *sd = getenv("STATE_DIRECTORY");
	int err;

	if (strlen(c->state_dir) >= sizeof dir)
		return -1;
	strcpy(dir, c->state_dir);
	while (access(dir, F_OK) != 0 && errno == ENOENT) {
		if (sp_path_dirname(dir, up, sizeof up) != SP_OK || strcmp(up, dir) == 0)
			break;
		strcpy(dir, up);
	}
	if (access(dir, W_OK | X_OK) == 0)
		return 0;
	err = errno;
	fprintf(stderr, "seinpostd: state directory %s is not writable: %s (at %s)\n", c->state_dir,
	        strerror(err), dir);
	if (sd && sd[0] == '/')
		fprintf(stderr, "seinpostd: under systemd the instance's state directory is %s "
		        "(StateDirectory=): set 'state = %.*s' in %s, or leave 'state' out\n",
		        sd, (int)strcspn(sd, ":"), sd, c->path);
	else if (err == EROFS)
		fprintf(stderr, "seinpostd: a relative 'state =' resolves next to the configuration; "
		        "under the shipped unit that is the read-only /etc: use 'state = %s/NAME' in %s\n",
		        SP_STATE_ROOT, c->path);
	return -1;
}

/* A node's preflight loads its secret keys to check them against the
 * public ones. It runs in a child that exits, so that none of it is left in
 * the memory the network process is forked from (docs/privsep.md). */
static int preflight(const sp_config *cfg, char *err, size_t errlen)
{
	int p[2], st = 0;
	pid_t pid;
	ssize_t n;

	if (cfg->role == SP_RUN_BROKER)
		return sp_preflight(cfg, err, errlen);
	if (pipe2(p, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		snprintf(err, errlen, "preflight: %s", strerror(errno));
		return SP_EIO;
	}
	if (pid == 0) {
		close(p[0]);
		int rc = sp_preflight(cfg, err, errlen);
		if (rc != SP_OK && write(p[1], err, strnlen(err, errlen)) < 0)
			_exit(2);
		_exit(rc == SP_OK ? 0 : 1);
	}
	close(p[1]);
	n = read(p[0], err, errlen - 1);
	err[n > 0 ? n : 0] = '\0';
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return SP_OK;
	if (!err[0])
		snprintf(err, errlen, "preflight failed");
	return SP_ECONFIG;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	int check_only = 0, verbose = 0, c, rc;
	sp_config cfg;
	sp_lock *lock = NULL;
	char err[1024];

	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'C': check_only = 1; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': puts("seinpostd 0.1.0"); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!config || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "seinpostd: libsodium failed to initialise\n");
		return 1;
	}
	if (sp_config_load(config, &cfg, err, sizeof err) != SP_OK) {
		fprintf(stderr, "seinpostd: %s\n", err);
		return 1;
	}
	/* The same checks for --check-config and for a start: what passes
	 * here does not make the daemon refuse later for a key, mode, roster,
	 * policy or state directory. */
	if (preflight(&cfg, err, sizeof err) != SP_OK) {
		fprintf(stderr, "seinpostd: %s\n", err);
		return 1;
	}
	if (check_only) {
		printf("configuration OK (%s %s)\n", sp_config_role_name(cfg.role), cfg.org);
		return 0;
	}
	/* An unwritable state directory (a relative 'state' inside the
	 * read-only /etc under the unit) is said plainly, with the fix. */
	if (state_dir_usable(&cfg) != 0)
		return 1;
	/* Before anything opens the store or binds a socket: a second
	 * instance must not take over submit.sock or remove it on exit. */
	if (sp_statedir_prepare(cfg.state_dir, err, sizeof err) != SP_OK ||
	    sp_statedir_lock(cfg.state_dir, SP_LOCK_DAEMON, &lock, err, sizeof err) != SP_OK) {
		fprintf(stderr, "seinpostd: %s\n", err);
		return 1;
	}
	sp_log_init("seinpostd", strcmp(cfg.log, "journal") == 0 ? 1 : strcmp(cfg.log, "stderr") == 0 ? 0 : -1,
	            verbose || cfg.verbose);
	if (sp_test_clock_active())
		sp_log(LOG_WARNING, "seinpostd", "SEINPOST_TEST_CLOCK_FILE is set: the wall clock is shifted "
		       "for a test; never set it in production");

	struct sigaction sa = { 0 };
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (cfg.role == SP_RUN_BROKER)
		rc = sp_broker_run(&cfg, &stop_flag, &reload_flag);
	else if (cfg.role == SP_RUN_PSEUDONYMISER)
		rc = sp_pseudonymiser_run(&cfg, &stop_flag, &reload_flag);
	else
		rc = sp_keyholder_run(&cfg, &stop_flag, &reload_flag); /* and the network process */
	sp_statedir_unlock(&lock);
	return rc == 0 ? 0 : 1;
}
