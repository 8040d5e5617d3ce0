/* sp_preflight.c — the start-up checks, shared by --check-config (sp_preflight.h). */
#include "sp_preflight.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp_keys.h"
#include "sp_policy.h"
#include "sp_pseudo.h"
#include "sp_roster.h"
#include "sp_util.h"

static int fail(char *why, size_t whylen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(char *why, size_t whylen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return rc;
}

/* A secret file: present (unless optional), a regular file, no group or
 * other permission bits. 1 when absent and optional. */
static int secret_file(const char *path, int optional, char *why, size_t whylen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT && optional)
			return 1;
		return fail(why, whylen, errno == ENOENT ? SP_EKEY : SP_EIO, "%s: %s", path,
		            errno == ENOENT ? "missing" : strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return fail(why, whylen, SP_EKEY, "%s: not a regular file", path);
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return fail(why, whylen, SP_EPERM,
		            "%s: mode %04o; a secret key must be 0600 or stricter (chmod 600 %s)", path,
		            (unsigned)(st.st_mode & 07777), path);
	return SP_OK;
}

static int key_files(const sp_config *cfg, char *why, size_t whylen)
{
	static const char *const names[] = { "curve.key", "sign.key", "box.key" };
	char path[PATH_MAX];
	int rc;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		int is_box = i == 2;
		if (sp_path_join(cfg->keys_dir, names[i], path, sizeof path) != SP_OK)
			return fail(why, whylen, SP_ESIZE, "%s: path too long", cfg->keys_dir);
		rc = secret_file(path, is_box, why, whylen);
		if (rc == 1 && cfg->role == SP_RUN_NODE)
			return fail(why, whylen, SP_EKEY, "%s: missing; a node needs its box key", path);
		if (rc == SP_OK && is_box && cfg->role == SP_RUN_BROKER)
			return fail(why, whylen, SP_ECONFIG, "%s exists; the broker must never hold a content key", path);
		if (rc < 0)
			return rc;
	}
	return SP_OK;
}

static int state_dir(const sp_config *cfg, char *why, size_t whylen)
{
	struct stat st;
	char parent[PATH_MAX];
	if (stat(cfg->state_dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return fail(why, whylen, SP_ECONFIG, "state %s: not a directory", cfg->state_dir);
		if (access(cfg->state_dir, R_OK | W_OK | X_OK) != 0)
			return fail(why, whylen, SP_EPERM, "state %s: %s (run as the directory's owner)",
			            cfg->state_dir, strerror(errno));
		return SP_OK;
	}
	if (errno != ENOENT)
		return fail(why, whylen, SP_EIO, "state %s: %s", cfg->state_dir, strerror(errno));
	/* Created at start: the nearest existing parent must let us. */
	snprintf(parent, sizeof parent, "%s", cfg->state_dir);
	for (;;) {
		char *slash = strrchr(parent, '/');
		if (!slash || slash == parent) {
			snprintf(parent, sizeof parent, "%s", slash == parent ? "/" : ".");
			break;
		}
		*slash = '\0';
		if (stat(parent, &st) == 0)
			break;
	}
	if (access(parent, W_OK | X_OK) != 0)
		return fail(why, whylen, SP_EPERM, "state %s does not exist and cannot be created in %s: %s",
		            cfg->state_dir, parent, strerror(errno));
	return SP_OK;
}

int sp_preflight(const sp_config *cfg, char *why, size_t whylen)
{
	sp_keyset *keys = NULL;
	sp_roster *roster = NULL;
	sp_policy *policy = NULL;
	sp_pseudo_keyring *kr = NULL;
	char err[512];
	int rc;

	why[0] = '\0';
	if ((rc = key_files(cfg, why, whylen)) != SP_OK)
		goto out;
	if ((rc = sp_keys_load(cfg->keys_dir, &keys)) != SP_OK) {
		fail(why, whylen, rc, "keys in %s: %s", cfg->keys_dir, sp_strerror(rc));
		goto out;
	}
	if (cfg->role == SP_RUN_NODE) {
		if ((rc = secret_file(cfg->pseudo_key_path, 0, why, whylen)) != SP_OK)
			goto out;
		if ((rc = sp_pseudo_keyring_load(cfg->pseudo_key_path, &kr)) != SP_OK) {
			fail(why, whylen, rc, "pseudonymisation key %s: %s", cfg->pseudo_key_path, sp_strerror(rc));
			goto out;
		}
	}
	if ((rc = sp_roster_load(cfg->roster_path, cfg->operator_pk, &roster)) != SP_OK) {
		fail(why, whylen, rc, "roster %s: %s", cfg->roster_path, sp_strerror(rc));
		goto out;
	}
	if (cfg->role == SP_RUN_BROKER) {
		if (memcmp(sp_roster_broker_curve(roster), keys->curve_pk, 32) != 0) {
			rc = fail(why, whylen, SP_EKEY, "keys in %s: our CURVE key is not the broker key in the roster %s",
			          cfg->keys_dir, cfg->roster_path);
			goto out;
		}
	} else {
		const sp_org *me = sp_roster_find(roster, cfg->org);
		if (!me || memcmp(me->curve_pk, keys->curve_pk, 32) != 0 || memcmp(me->sign_pk, keys->sign_pk, 32) != 0) {
			rc = fail(why, whylen, SP_EORG, "organisation '%s' is not on the roster %s with the keys in %s",
			          cfg->org, cfg->roster_path, cfg->keys_dir);
			goto out;
		}
	}
	if (sp_policy_load(cfg->policy_path, &policy, err, sizeof err) != SP_OK) {
		rc = fail(why, whylen, SP_ECONFIG, "policy: %s", err);
		goto out;
	}
	rc = state_dir(cfg, why, whylen);
out:
	sp_pseudo_keyring_free(&kr);
	sp_policy_free(&policy);
	sp_roster_free(&roster);
	sp_keys_free(&keys);
	return rc;
}
