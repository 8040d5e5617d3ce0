/* sp_netinit.c — generate a local test network (keys, roster, configs). */
#include "sp_netinit.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sp_keys.h"
#include "sp_pseudo.h"
#include "sp_util.h"

const sp_netinit_org sp_netinit_default_orgs[] = {
	{ "police", "politie-limburg" },
	{ "school", "school-bonnefanten" },
	{ "youthcare", "jeugdzorg-mh" },
	{ "zvh", "zvh-mh" },
	/* The privacy officer (FG): pseudonymisation key, audit queries, no signals. */
	{ "privacy-officer", "fg-mh" },
};
const size_t sp_netinit_default_norgs = sizeof sp_netinit_default_orgs / sizeof sp_netinit_default_orgs[0];

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

static int write_config(const char *dir, const char *role, const char *org, unsigned port,
                        const uint8_t operator_pk[32], int with_pseudo)
{
	char path[PATH_MAX], text[2048], opk[65];
	int n;
	sp_hex(operator_pk, 32, opk);
	n = snprintf(text, sizeof text,
	             "; seinpost %s configuration, made by `seinpost net init`.\n"
	             "; Relative paths are relative to this file. See seinpost.conf(5).\n"
	             "[seinpost]\n"
	             "role = %s\n"
	             "org = %s\n"
	             "keys = keys\n"
	             "state = state\n"
	             "roster = roster.bin\n"
	             "operator_key = %s\n"
	             "policy = policy.ini\n"
	             "%s"
	             "log = stderr\n"
	             "\n"
	             "[broker]\n"
	             "%s = tcp://127.0.0.1:%u\n"
	             "\n"
	             "[limits]\n"
	             "map_size_mb = 256\n"
	             "max_frame_kb = 256\n"
	             "heartbeat_ms = 2000\n"
	             "retry_ms = 2000\n"
	             "%s",
	             role, role, org, opk, with_pseudo ? "pseudonym_key = pseudo.key\n" : "",
	             strcmp(role, "broker") == 0 ? "listen" : "endpoint", port,
	             strcmp(role, "broker") == 0 ? "\n[audit]\nsth_every_records = 64\nsth_every_s = 2\n" : "");
	if (n < 0 || (size_t)n >= sizeof text)
		return SP_ESIZE;
	if (sp_path_join(dir, "seinpost.conf", path, sizeof path) != SP_OK)
		return SP_ESIZE;
	return sp_file_write(path, text, (size_t)n, 0644);
}

static int copy_file(const char *from, const char *dir, const char *name, mode_t mode)
{
	uint8_t *buf = NULL;
	size_t len;
	char path[PATH_MAX];
	int rc = sp_file_read(from, 4u << 20, &buf, &len);
	if (rc == SP_OK)
		rc = sp_path_join(dir, name, path, sizeof path);
	if (rc == SP_OK)
		rc = sp_file_write(path, buf, len, mode);
	free(buf);
	return rc;
}

int sp_netinit(const sp_netinit_opts *o, char *err, size_t errlen)
{
	const sp_netinit_org *orgs = o->orgs ? o->orgs : sp_netinit_default_orgs;
	size_t norgs = o->orgs ? o->norgs : sp_netinit_default_norgs;
	sp_keyset *broker = NULL, **keys = NULL;
	sp_pseudo_keyring *pseudo = NULL;
	sp_roster *roster = NULL;
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	int rc;

	err[0] = '\0';
	if (sp_path_join(o->dir, "broker", dir, sizeof dir) != SP_OK)
		return SP_ESIZE;
	if (stat(dir, &st) == 0) {
		ERR("%s already holds a network (%s exists); choose another directory", o->dir, dir);
		return SP_EEXIST;
	}
	for (size_t i = 0; i < norgs; i++) {
		if (!sp_ident_ok(orgs[i].id) || strcmp(orgs[i].id, "broker") == 0) {
			ERR("organisation id '%s' is not valid (lower case letters, digits, '-' and '.')", orgs[i].id);
			return SP_EINVAL;
		}
		if (!sp_role_known(orgs[i].role)) {
			ERR("role '%s' is not known (police, school, youthcare, municipality, zvh, privacy-officer, healthcare, probation)",
			    orgs[i].role);
			return SP_EINVAL;
		}
	}
	keys = calloc(norgs ? norgs : 1, sizeof *keys);
	if (!keys)
		return SP_ENOMEM;
	rc = sp_keys_generate(0, &broker);
	if (rc == SP_OK)
		rc = sp_pseudo_keyring_generate(1, &pseudo);
	if (rc == SP_OK)
		rc = sp_roster_new(o->network ? o->network : "seinpost-local", broker->curve_pk,
		                   broker->sign_pk, &roster);
	for (size_t i = 0; rc == SP_OK && i < norgs; i++) {
		sp_org org = { 0 };
		rc = sp_keys_generate(1, &keys[i]);
		if (rc != SP_OK)
			break;
		/* same-sized fields, validated above */
		memcpy(org.id, orgs[i].id, sizeof org.id);
		memcpy(org.role, orgs[i].role, sizeof org.role);
		org.id[sizeof org.id - 1] = org.role[sizeof org.role - 1] = '\0';
		memcpy(org.curve_pk, keys[i]->curve_pk, 32);
		memcpy(org.sign_pk, keys[i]->sign_pk, 32);
		memcpy(org.box_pk, keys[i]->box_pk, 32);
		rc = sp_roster_add(roster, &org);
		if (rc == SP_EEXIST)
			ERR("organisation '%s' is listed twice", orgs[i].id);
	}
	if (rc != SP_OK) {
		if (!err[0])
			ERR("generating keys failed: %s", sp_strerror(rc));
		goto out;
	}
	for (size_t i = 0; i <= norgs; i++) {
		const char *id = i == norgs ? "broker" : orgs[i].id;
		const sp_keyset *k = i == norgs ? broker : keys[i];
		if (sp_path_join(o->dir, id, dir, sizeof dir) != SP_OK) {
			rc = SP_ESIZE;
			goto out;
		}
		rc = sp_mkdir_p(dir, 0755);
		if (rc == SP_OK && sp_path_join(dir, "keys", path, sizeof path) == SP_OK)
			rc = sp_keys_save(k, path);
		if (rc == SP_OK && sp_path_join(dir, "state", path, sizeof path) == SP_OK)
			rc = sp_mkdir_p(path, 0700);
		if (rc == SP_OK && sp_path_join(dir, "roster.bin", path, sizeof path) == SP_OK)
			rc = sp_roster_save(roster, path, broker->sign_sk);
		if (rc == SP_OK)
			rc = copy_file(o->policy_src, dir, "policy.ini", 0644);
		if (rc == SP_OK && i != norgs && sp_path_join(dir, "pseudo.key", path, sizeof path) == SP_OK)
			rc = sp_pseudo_keyring_save(pseudo, path);
		if (rc == SP_OK)
			rc = write_config(dir, i == norgs ? "broker" : "node", id, o->port, broker->sign_pk,
			                  i != norgs);
		if (rc != SP_OK) {
			ERR("writing %s failed: %s", dir, sp_strerror(rc));
			goto out;
		}
	}
out:
	for (size_t i = 0; i < norgs; i++)
		sp_keys_free(&keys[i]);
	free(keys);
	sp_keys_free(&broker);
	sp_pseudo_keyring_free(&pseudo);
	sp_roster_free(&roster);
	return rc;
}
