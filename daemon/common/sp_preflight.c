/* sp_preflight.c — the start-up checks, shared by --check-config (sp_preflight.h). */
#include "sp_preflight.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp_keys.h"
#include "sp_policy.h"
#include "sp_oprfsvc.h"
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
		/* Where the daemon will read it: a systemd credential or the file. */
		if (sp_keys_path(cfg->keys_dir, names[i], path, sizeof path) != SP_OK)
			return fail(why, whylen, SP_ESIZE, "%s: path too long", cfg->keys_dir);
		rc = secret_file(path, is_box, why, whylen);
		if (rc == 1 && cfg->role == SP_RUN_NODE)
			return fail(why, whylen, SP_EKEY, "%s: missing; a node needs its box key", path);
		if (rc == SP_OK && is_box && cfg->role == SP_RUN_BROKER)
			return fail(why, whylen, SP_ECONFIG, "%s exists; the broker must never hold a content key", path);
		if (rc == SP_OK && is_box && cfg->role == SP_RUN_PSEUDONYMISER)
			return fail(why, whylen, SP_ECONFIG,
			            "%s exists; the pseudonymiser must never hold a content key", path);
		if (rc < 0)
			return rc;
	}
	return SP_OK;
}

/* What to do about a state directory we cannot write. Under the shipped
 * unit /etc is read-only, so a relative "state = state" (as `net init`
 * writes) lands in /etc/seinpost/NAME/state: name the setting that works. */
static const char *state_hint(const sp_config *cfg, int err, char *buf, size_t len)
{
	const char *sd = getenv("STATE_DIRECTORY");
	if (sd && sd[0] == '/')
		snprintf(buf, len, "; under systemd the instance's state directory is %.*s "
		         "(StateDirectory=): set 'state = %.*s' in %s, or leave 'state' out",
		         (int)strcspn(sd, ":"), sd, (int)strcspn(sd, ":"), sd, cfg->path);
	else if (err == EROFS)
		snprintf(buf, len, "; a relative 'state =' resolves next to the configuration, and under "
		         "the shipped unit that is the read-only /etc: use 'state = %s/NAME' in %s",
		         SP_STATE_ROOT, cfg->path);
	else
		buf[0] = '\0';
	return buf;
}

static int state_dir(const sp_config *cfg, char *why, size_t whylen)
{
	char hint[PATH_MAX + 256];
	struct stat st;
	char parent[PATH_MAX];
	if (stat(cfg->state_dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return fail(why, whylen, SP_ECONFIG, "state %s: not a directory", cfg->state_dir);
		if (access(cfg->state_dir, R_OK | W_OK | X_OK) != 0)
			return fail(why, whylen, SP_EPERM, "state %s: %s (run as the directory's owner)%s",
			            cfg->state_dir, strerror(errno), state_hint(cfg, errno, hint, sizeof hint));
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
		return fail(why, whylen, SP_EPERM, "state %s does not exist and cannot be created in %s: %s%s",
		            cfg->state_dir, parent, strerror(errno), state_hint(cfg, errno, hint, sizeof hint));
	return SP_OK;
}

/* A node of a service network holds no pseudonymisation secret: with a
 * [pseudonymiser] section, a configured pseudonym_key or a pseudo.key beside
 * the configuration (left over from before the migration) refuses the start. */
static int no_pseudo_key(const sp_config *cfg, char *why, size_t whylen)
{
	char dir[PATH_MAX], path[PATH_MAX];
	const char *found = NULL, *what = "a pseudonymisation key is still present";
	if (cfg->role != SP_RUN_NODE || !cfg->oprf_service[0])
		return SP_OK;
	if (cfg->pseudo_key_path[0]) {
		found = cfg->pseudo_key_path;
		if (access(found, F_OK) != 0)
			what = "it still names a pseudonymisation key (pseudonym_key)";
	} else if (sp_path_dirname(cfg->path, dir, sizeof dir) == SP_OK &&
	           sp_path_join(dir, "pseudo.key", path, sizeof path) == SP_OK && access(path, F_OK) == 0) {
		found = path;
	}
	if (!found)
		return SP_OK;
	return fail(why, whylen, SP_ECONFIG,
	            "refusing to start: %s names the pseudonymisation service ([pseudonymiser]) but %s "
	            "(%s); a node of a service network holds no pseudonymisation secret. Remove the key and "
	            "the pseudonym_key line (`seinpost --config %s pseudonym migrate` does both; "
	            "docs/pseudonymiser.md, Migration)",
	            cfg->path, what, found, cfg->path);
}

int sp_preflight(const sp_config *cfg, char *why, size_t whylen)
{
	sp_keyset *keys = NULL;
	sp_roster *roster = NULL;
	sp_policy *policy = NULL;
	sp_pseudo_keyring *kr = NULL;
	sp_oprf_key *okey = NULL;
	char err[512];
	int rc;

	why[0] = '\0';
	if ((rc = no_pseudo_key(cfg, why, whylen)) != SP_OK)
		goto out;
	if ((rc = key_files(cfg, why, whylen)) != SP_OK)
		goto out;
	if ((rc = sp_keys_load(cfg->keys_dir, &keys)) != SP_OK) {
		fail(why, whylen, rc, "keys in %s: %s", cfg->keys_dir, sp_strerror(rc));
		goto out;
	}
	if (cfg->role == SP_RUN_NODE && cfg->pseudo_key_path[0]) { /* else the service (sp_node_oprf.h) */
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
		if (cfg->role == SP_RUN_PSEUDONYMISER) {
			char path[PATH_MAX];
			if (sp_path_join(cfg->keys_dir, "oprf.key", path, sizeof path) != SP_OK) {
				rc = fail(why, whylen, SP_ESIZE, "%s: path too long", cfg->keys_dir);
				goto out;
			}
			if ((rc = secret_file(path, 0, why, whylen)) != SP_OK)
				goto out;
			if ((rc = sp_oprf_key_load(cfg->keys_dir, &okey)) != SP_OK) {
				fail(why, whylen, rc, "OPRF key in %s: %s", cfg->keys_dir, sp_strerror(rc));
				goto out;
			}
			if (strcmp(me->role, "pseudonymiser") != 0 || !me->has_oprf ||
			    memcmp(me->oprf_pk, okey->pk, 32) != 0) {
				rc = fail(why, whylen, SP_EKEY, "the roster %s lists no pseudonymiser '%s' with the "
				          "OPRF key in %s", cfg->roster_path, cfg->org, cfg->keys_dir);
				goto out;
			}
		}
	}
	if (sp_policy_load(cfg->policy_path, &policy, err, sizeof err) != SP_OK) {
		rc = fail(why, whylen, SP_ECONFIG, "policy: %s", err);
		goto out;
	}
	rc = state_dir(cfg, why, whylen);
out:
	sp_oprf_key_free(&okey);
	sp_pseudo_keyring_free(&kr);
	sp_policy_free(&policy);
	sp_roster_free(&roster);
	sp_keys_free(&keys);
	return rc;
}
