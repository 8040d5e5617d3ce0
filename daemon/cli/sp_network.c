/*
 * sp_network.c — the enrolment steps (docs/enrolment.md), shared by the
 * commands that run them one by one (network create, keygen, roster add,
 * node config, keys rotate) and `net init`, which runs them all at once for
 * a local test network.
 *
 * Trust: the roster is signed by the operator's key, which only the
 * operator holds; an organisation's secret keys are generated on its own
 * machine and only enrol.json (public keys, self-signed) travels.
 */
#include "sp_network.h"

#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp_enrol.h"
#include "sp_policy.h"
#include "sp_pseudo.h"
#include "sp_roster.h"
#include "sp_util.h"

static int say(char *buf, size_t len, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int say(char *buf, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return rc;
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	uint8_t *buf = NULL;
	size_t len;
	int rc = sp_file_read(from, 4u << 20, &buf, &len);
	if (rc == SP_OK)
		rc = sp_file_write(to, buf, len, mode);
	free(buf);
	return rc;
}

static int join(const char *a, const char *b, char out[PATH_MAX])
{
	return sp_path_join(a, b, out, PATH_MAX);
}

int sp_network_opdir(const char *roster, char *out, size_t outlen)
{
	char d[PATH_MAX];
	int rc = sp_path_dirname(roster, d, sizeof d);
	return rc == SP_OK ? sp_path_join(d, "operator", out, outlen) : rc;
}

static const char *test_limits_text(int broker)
{
	if (broker)
		return "\n[limits]\nmap_size_mb = 256\nmax_frame_kb = 256\nheartbeat_ms = 2000\nretry_ms = 2000\n"
		       "\n[audit]\nsth_every_records = 64\nsth_every_s = 2\n";
	return "\n[limits]\nmap_size_mb = 256\nmax_frame_kb = 256\nheartbeat_ms = 2000\nretry_ms = 2000\n";
}

int sp_network_create(const sp_network_opts *o, char *err, size_t errlen)
{
	sp_keyset *op = NULL, *broker = NULL;
	sp_pseudo_keyring *pseudo = NULL;
	sp_roster *r = NULL;
	char p[PATH_MAX], q[PATH_MAX], hex[65], text[2048];
	sp_policy *pol = NULL;
	int rc, n;

	err[0] = '\0';
	if (!o->name || strlen(o->name) >= SP_ID_MAX || !sp_ident_ok(o->name))
		return say(err, errlen, SP_EINVAL, "network name must be a valid id (lower case letters, digits, '-' and '.')");
	if (sp_policy_load(o->policy_src, &pol, err, errlen) != SP_OK)
		return SP_ECONFIG; /* refuse to distribute a policy that does not load */
	sp_policy_free(&pol);
	if ((rc = join(o->dir, "roster.bin", p)) != SP_OK)
		return rc;
	if (access(p, F_OK) == 0)
		return say(err, errlen, SP_EEXIST, "%s already holds a network (%s exists); choose another directory",
		           o->dir, p);
	if ((rc = sp_mkdir_p(o->dir, 0755)) != SP_OK)
		return say(err, errlen, rc, "cannot create %s: %s", o->dir, sp_strerror(rc));
	if ((rc = sp_keys_generate(0, &op)) != SP_OK || (rc = sp_keys_generate(0, &broker)) != SP_OK ||
	    (rc = sp_pseudo_keyring_generate(1, &pseudo)) != SP_OK)
		goto out;
	/* The operator key: apart from the broker's, so a compromised broker
	 * host cannot enrol organisations or change the roster. */
	if ((rc = join(o->dir, "operator", q)) != SP_OK || (rc = sp_keys_save_sign(op, q)) != SP_OK)
		goto out;
	sp_hex(op->sign_pk, 32, hex);
	hex[64] = '\n';
	if ((rc = join(o->dir, "operator.pub", q)) != SP_OK || (rc = sp_file_write(q, hex, 65, 0644)) != SP_OK)
		goto out;
	hex[64] = '\0';
	if ((rc = join(o->dir, "broker", q)) != SP_OK || (rc = sp_mkdir_p(q, 0755)) != SP_OK ||
	    (rc = join(q, "keys", p)) != SP_OK || (rc = sp_keys_save(broker, p)) != SP_OK)
		goto out;
	if ((rc = join(o->dir, "policy.ini", p)) != SP_OK || (rc = copy_file(o->policy_src, p, 0644)) != SP_OK)
		goto out;
	/* With the pseudonymisation service no partner gets a pseudonymisation key. */
	if (!o->pseudonymisers &&
	    ((rc = join(o->dir, "partners", q)) != SP_OK || (rc = sp_mkdir_p(q, 0700)) != SP_OK ||
	     (rc = join(q, "pseudo.key", p)) != SP_OK || (rc = sp_pseudo_keyring_save(pseudo, p)) != SP_OK))
		goto out;
	{
		char state[PATH_MAX];
		snprintf(state, sizeof state, "%s", o->state ? o->state : SP_NETWORK_STATE_BASE "/broker");
		n = snprintf(text, sizeof text,
		             "; seinpost broker configuration, made by `seinpost network create`.\n"
		             "; Relative paths are relative to this file. See seinpost.conf(5).\n"
		             "[seinpost]\n"
		             "role = broker\n"
		             "keys = keys\n"
		             "state = %s\n"
		             "; `seinpost roster add|remove ../roster.bin ...`, then `systemctl reload`\n"
		             "roster = ../roster.bin\n"
		             "operator_key = %s\n"
		             "policy = ../policy.ini\n"
		             "log = %s\n"
		             "\n[broker]\nlisten = %s\n%s",
		             state, hex, o->test_limits ? "stderr" : "auto",
		             o->listen ? o->listen : "tcp://0.0.0.0:7700", o->test_limits ? test_limits_text(1) : "");
		if (n < 0 || (size_t)n >= sizeof text) {
			rc = SP_ESIZE;
			goto out;
		}
		if ((rc = join(o->dir, "broker/seinpost.conf", p)) != SP_OK ||
		    (rc = sp_file_write(p, text, (size_t)n, 0644)) != SP_OK)
			goto out;
	}
	if ((rc = sp_roster_new(o->name, broker->curve_pk, broker->sign_pk, &r)) != SP_OK)
		goto out;
	sp_roster_touch(r);
	if ((rc = join(o->dir, "roster.bin", p)) != SP_OK || (rc = sp_roster_save(r, p, op->sign_sk)) != SP_OK)
		goto out;
	if (o->pseudonymisers)
		rc = sp_network_pseudonymisers(o->dir, o->pseudonymisers, o->threshold, o->oprf_host ? o->oprf_host : "0.0.0.0",
		                               o->oprf_port ? o->oprf_port : SP_OPRF_PORT_DEFAULT, o->test_limits, err, errlen);
out:
	if (rc != SP_OK && !err[0])
		say(err, errlen, rc, "writing %s failed: %s", o->dir, sp_strerror(rc));
	sp_roster_free(&r);
	sp_pseudo_keyring_free(&pseudo);
	sp_keys_free(&op);
	sp_keys_free(&broker);
	return rc;
}

int sp_network_keygen(const char *dir, const char *org, const char *role, int broker, int force,
                      sp_keyset **out, char *err, size_t errlen)
{
	sp_keyset *k = NULL;
	sp_enrol e;
	char p[PATH_MAX];
	int rc;

	err[0] = '\0';
	if (out)
		*out = NULL;
	if (!broker && (!org || !role))
		return say(err, errlen, SP_EINVAL, "--org ID and --role ROLE are required (or --broker)");
	if (org && (strlen(org) >= SP_ID_MAX || !sp_ident_ok(org) || strcmp(org, "broker") == 0))
		return say(err, errlen, SP_EINVAL,
		           "organisation id '%s' is not valid (lower case letters, digits, '-' and '.')", org);
	if (role && !sp_role_known(role))
		return say(err, errlen, SP_EINVAL,
		           "role '%s' is not known (police, school, youthcare, municipality, zvh, privacy-officer, "
		           "healthcare, probation, pseudonymiser)", role);
	if (role && strcmp(role, "pseudonymiser") == 0) {
		if ((rc = sp_network_keygen_pseudonymiser(dir, org, force, NULL, 0, err, errlen)) != SP_OK)
			return rc;
		if (out && (rc = sp_keys_load(dir, out)) != SP_OK)
			return say(err, errlen, rc, "%s: %s", dir, sp_strerror(rc));
		return SP_OK;
	}
	/* Keys are an identity: new ones over old ones lose the ability to
	 * open what was sealed to the old box key. Only on request. */
	if (sp_keys_exist(dir) && !force)
		return say(err, errlen, SP_EEXIST,
		           "%s already holds keys; refusing to overwrite them (use `seinpost keys rotate` to replace "
		           "keys without loss, or --force to destroy them)", dir);
	if ((rc = sp_keys_generate(!broker, &k)) != SP_OK || (rc = sp_keys_save(k, dir)) != SP_OK)
		goto out;
	if (org && role) {
		if ((rc = sp_enrol_make(k, org, role, NULL, 0, &e)) != SP_OK || (rc = join(dir, "enrol.json", p)) != SP_OK ||
		    (rc = sp_enrol_write(&e, p)) != SP_OK)
			goto out;
	}
	if (out) {
		*out = k;
		k = NULL;
	}
out:
	if (rc != SP_OK && !err[0])
		say(err, errlen, rc, "%s: %s", dir, sp_strerror(rc));
	sp_keys_free(&k);
	return rc;
}

int sp_network_rotate(const char *dir, uint64_t overlap_s, char *err, size_t errlen)
{
	sp_keyset *old = NULL, *k = NULL;
	sp_enrol prev, e;
	char p[PATH_MAX];
	int rc;

	err[0] = '\0';
	if ((rc = join(dir, "enrol.json", p)) != SP_OK)
		return rc;
	if ((rc = sp_enrol_read(p, &prev, err, errlen)) != SP_OK)
		return rc;
	if ((rc = sp_keys_load(dir, &old)) != SP_OK)
		return say(err, errlen, rc, "keys in %s: %s", dir, sp_strerror(rc));
	if (memcmp(old->sign_pk, prev.sign_pk, 32) != 0 || !old->has_box) {
		rc = say(err, errlen, SP_EKEY, "%s/enrol.json does not describe the keys in %s", dir, dir);
		goto out;
	}
	if ((rc = sp_keys_generate(1, &k)) != SP_OK || (rc = sp_enrol_make(k, prev.org, prev.role, old, overlap_s, &e)) != SP_OK)
		goto out;
	/* Old keys first to old/<n>/ (a node keeps opening what was sealed
	 * to them), then the new ones, then the request. A crash between the
	 * steps leaves old/<n> complete and DIR without keys: run it again. */
	if ((rc = sp_keys_retire(dir)) != SP_OK || (rc = sp_keys_save(k, dir)) != SP_OK ||
	    (rc = sp_enrol_write(&e, p)) != SP_OK)
		goto out;
out:
	if (rc != SP_OK && !err[0])
		say(err, errlen, rc, "%s: %s", dir, sp_strerror(rc));
	sp_keys_free(&old);
	sp_keys_free(&k);
	return rc;
}

static int roster_open(const char *roster, const char *opdir, sp_keyset **op, sp_roster **r, char *msg,
                       size_t msglen)
{
	char d[PATH_MAX];
	int rc;
	if (!opdir) {
		if ((rc = sp_network_opdir(roster, d, sizeof d)) != SP_OK)
			return rc;
		opdir = d;
	}
	if ((rc = sp_keys_load_sign(opdir, op)) != SP_OK)
		return say(msg, msglen, rc, "operator key in %s: %s (pass --operator DIR)", opdir, sp_strerror(rc));
	if ((rc = sp_roster_load(roster, (*op)->sign_pk, r)) != SP_OK)
		return say(msg, msglen, rc, "%s: %s%s", roster, sp_strerror(rc),
		           rc == SP_ESIG ? " (not signed by this operator key)" : "");
	return SP_OK;
}

int sp_network_roster_add(const char *roster, const char *opdir, const char *enrol_path, char *msg, size_t msglen)
{
	sp_keyset *op = NULL;
	sp_roster *r = NULL;
	sp_enrol e;
	const sp_org *cur;
	int rc;

	msg[0] = '\0';
	if ((rc = sp_enrol_read(enrol_path, &e, msg, msglen)) != SP_OK)
		return rc;
	if ((rc = roster_open(roster, opdir, &op, &r, msg, msglen)) != SP_OK)
		goto out;
	cur = sp_roster_find(r, e.org);
	if (cur && !e.rotation) {
		rc = say(msg, msglen, SP_EEXIST,
		         "'%s' is already on the roster; new keys must come from `seinpost keys rotate` "
		         "(signed by its current sign key)", e.org);
		goto out;
	}
	if (cur) {
		/* A rotation: the organisation on the roster signed it with the
		 * key the roster holds, so nobody else can replace its keys. */
		if (memcmp(cur->sign_pk, e.prev_sign_pk, 32) != 0) {
			rc = say(msg, msglen, SP_ESIG,
			         "rotation for '%s' is not signed by its current sign key on the roster", e.org);
			goto out;
		}
		if (strcmp(cur->role, e.role) != 0) {
			rc = say(msg, msglen, SP_EROLE, "rotation for '%s' changes its role; remove and enrol it again",
			         e.org);
			goto out;
		}
		uint64_t now = sp_now_s();
		rc = sp_roster_rotate(r, e.org, e.curve_pk, e.sign_pk, e.box_pk, now, now + e.overlap_s);
		if (rc != SP_OK) {
			say(msg, msglen, rc, "rotation for '%s' refused: %s", e.org, sp_strerror(rc));
			goto out;
		}
		say(msg, msglen, SP_OK, "rotated the keys of %s (%s); old keys admitted for %llu s", e.org, e.role,
		    (unsigned long long)e.overlap_s);
	} else {
		sp_org o;
		if (e.rotation) {
			rc = say(msg, msglen, SP_ENOTFOUND, "'%s' is not on the roster: a rotation needs it enrolled", e.org);
			goto out;
		}
		memset(&o, 0, sizeof o);
		strcpy(o.id, e.org);
		strcpy(o.role, e.role);
		memcpy(o.curve_pk, e.curve_pk, 32);
		memcpy(o.sign_pk, e.sign_pk, 32);
		memcpy(o.box_pk, e.box_pk, 32);
		o.has_oprf = e.has_oprf;
		memcpy(o.oprf_pk, e.oprf_pk, 32);
		o.oprf_index = e.oprf_index;
		o.enrolled = sp_now_s();
		rc = sp_roster_add(r, &o);
		if (rc != SP_OK) {
			say(msg, msglen, rc, "adding '%s' refused: %s%s", e.org, sp_strerror(rc),
			    rc == SP_EEXIST ? " (a key is already used on the roster)" : "");
			goto out;
		}
		say(msg, msglen, SP_OK, "added %s (%s)", e.org, e.role);
	}
	sp_roster_touch(r);
	if ((rc = sp_roster_save(r, roster, op->sign_sk)) != SP_OK)
		say(msg, msglen, rc, "%s: %s", roster, sp_strerror(rc));
out:
	sp_roster_free(&r);
	sp_keys_free(&op);
	return rc;
}

int sp_network_roster_remove(const char *roster, const char *opdir, const char *id, const char *reason,
                             char *msg, size_t msglen)
{
	sp_keyset *op = NULL;
	sp_roster *r = NULL;
	int rc;

	msg[0] = '\0';
	if ((rc = roster_open(roster, opdir, &op, &r, msg, msglen)) != SP_OK)
		goto out;
	rc = sp_roster_remove(r, id, reason, sp_now_s());
	if (rc != SP_OK) {
		say(msg, msglen, rc, rc == SP_ENOTFOUND ? "'%s' is not on the roster" : "removing '%s': %s", id,
		    sp_strerror(rc));
		goto out;
	}
	sp_roster_touch(r);
	if ((rc = sp_roster_save(r, roster, op->sign_sk)) != SP_OK)
		say(msg, msglen, rc, "%s: %s", roster, sp_strerror(rc));
	else
		say(msg, msglen, SP_OK, "removed %s", id);
out:
	sp_roster_free(&r);
	sp_keys_free(&op);
	return rc;
}

int sp_network_broker_rotate(const char *roster, const char *opdir, const char *old_keys_dir,
                             const char *new_keys_dir, char *msg, size_t msglen)
{
	sp_keyset *op = NULL, *oldk = NULL, *newk = NULL;
	sp_roster *r = NULL;
	uint8_t m[SP_BROKER_TRANSITION_MSG], s1[64], s2[64];
	uint64_t t = sp_now_ms();
	int rc;

	msg[0] = '\0';
	if ((rc = roster_open(roster, opdir, &op, &r, msg, msglen)) != SP_OK)
		goto out;
	if ((rc = sp_keys_load(old_keys_dir, &oldk)) != SP_OK || (rc = sp_keys_load(new_keys_dir, &newk)) != SP_OK) {
		say(msg, msglen, rc, "broker keys: %s", sp_strerror(rc));
		goto out;
	}
	if (memcmp(oldk->sign_pk, sp_roster_broker_sign(r), 32) != 0 ||
	    memcmp(newk->curve_pk, sp_roster_broker_curve(r), 32) != 0) {
		rc = say(msg, msglen, SP_EKEY, "the old keys are not the broker's on the roster, or the new ones "
		                               "change its CURVE key (only the sign key rotates)");
		goto out;
	}
	sp_roster_broker_transition_msg(oldk->sign_pk, newk->sign_pk, t, m);
	crypto_sign_detached(s1, NULL, m, sizeof m, oldk->sign_sk);
	crypto_sign_detached(s2, NULL, m, sizeof m, newk->sign_sk);
	if ((rc = sp_roster_broker_rotate(r, newk->sign_pk, t, s1, s2)) != SP_OK) {
		say(msg, msglen, rc, "broker key transition refused: %s", sp_strerror(rc));
		goto out;
	}
	sp_roster_touch(r);
	if ((rc = sp_roster_save(r, roster, op->sign_sk)) != SP_OK)
		say(msg, msglen, rc, "%s: %s", roster, sp_strerror(rc));
	else
		say(msg, msglen, SP_OK, "broker sign key rotated; transition record signed by both keys");
out:
	sp_roster_free(&r);
	sp_keys_free(&op);
	sp_keys_free(&oldk);
	sp_keys_free(&newk);
	return rc;
}

/* Where a file named next to the roster would be. */
static int beside(const char *roster, const char *name, char out[PATH_MAX])
{
	char d[PATH_MAX];
	int rc = sp_path_dirname(roster, d, sizeof d);
	return rc == SP_OK ? join(d, name, out) : rc;
}

int sp_network_node_config(const sp_node_config_opts *o, char *err, size_t errlen)
{
	char keys[PATH_MAX], p[PATH_MAX], src[PATH_MAX], state[PATH_MAX], org[SP_ID_MAX], hex[65], text[4096];
	char oprf[2048];
	uint8_t op[32];
	sp_roster *r = NULL;
	sp_enrol e;
	int rc, n;

	err[0] = '\0';
	if (!o->broker || (strncmp(o->broker, "tcp://", 6) != 0 && strncmp(o->broker, "ipc://", 6) != 0))
		return say(err, errlen, SP_EINVAL, "--broker must be tcp://HOST:PORT");
	if (o->keys)
		snprintf(keys, sizeof keys, "%s", o->keys);
	else if ((rc = join(o->dir, "keys", keys)) != SP_OK)
		return rc;
	if (o->org) {
		snprintf(org, sizeof org, "%s", o->org);
	} else {
		if ((rc = join(keys, "enrol.json", p)) != SP_OK)
			return rc;
		if ((rc = sp_enrol_read(p, &e, err, errlen)) != SP_OK)
			return rc;
		snprintf(org, sizeof org, "%s", e.org);
	}
	if (!sp_ident_ok(org))
		return say(err, errlen, SP_EINVAL, "organisation id '%s' is not valid", org);
	if (o->operator_pub)
		snprintf(src, sizeof src, "%s", o->operator_pub);
	else if ((rc = beside(o->roster, "operator.pub", src)) != SP_OK)
		return rc;
	if ((rc = sp_keys_read_public(src, op)) != SP_OK)
		return say(err, errlen, rc, "operator key %s: %s (pass --operator-key FILE)", src, sp_strerror(rc));
	/* The roster must verify against the operator key we pin. */
	if ((rc = sp_roster_load(o->roster, op, &r)) != SP_OK)
		return say(err, errlen, rc, "%s: %s", o->roster, sp_strerror(rc));
	sp_roster_free(&r);
	if ((rc = sp_network_oprf_section(o->roster, op, o->oprf_endpoints, oprf, sizeof oprf, err, errlen)) != SP_OK)
		return rc;
	if ((rc = sp_mkdir_p(o->dir, 0755)) != SP_OK)
		return say(err, errlen, rc, "cannot create %s: %s", o->dir, sp_strerror(rc));
	if ((rc = join(o->dir, "roster.bin", p)) != SP_OK || (rc = copy_file(o->roster, p, 0644)) != SP_OK)
		return say(err, errlen, rc, "copying the roster: %s", sp_strerror(rc));
	if (o->policy)
		snprintf(src, sizeof src, "%s", o->policy);
	else if ((rc = beside(o->roster, "policy.ini", src)) != SP_OK)
		return rc;
	if ((rc = join(o->dir, "policy.ini", p)) != SP_OK || (rc = copy_file(src, p, 0644)) != SP_OK)
		return say(err, errlen, rc, "policy %s: %s (pass --policy FILE)", src, sp_strerror(rc));
	/* With the pseudonymisation service the node holds no pseudonymisation
	 * secret at all: no pseudo.key (sp_node_oprf.h). */
	if (oprf[0] && o->pseudo)
		return say(err, errlen, SP_EINVAL, "--pseudonym-key and --pseudonymiser exclude each other: a node of a "
		                                   "network with the service holds no pseudonymisation key");
	if (!oprf[0]) {
		if (o->pseudo)
			snprintf(src, sizeof src, "%s", o->pseudo);
		else if ((rc = beside(o->roster, "partners/pseudo.key", src)) != SP_OK)
			return rc;
		if ((rc = join(o->dir, "pseudo.key", p)) != SP_OK || (rc = copy_file(src, p, 0600)) != SP_OK)
			return say(err, errlen, rc, "pseudonymisation key %s: %s (pass --pseudonym-key FILE)", src,
			           sp_strerror(rc));
	}
	if (o->state)
		snprintf(state, sizeof state, "%s", o->state);
	else
		snprintf(state, sizeof state, SP_NETWORK_STATE_BASE "/%s", org);
	n = snprintf(text, sizeof text,
	             "; seinpost node configuration, made by `seinpost node config`.\n"
	             "; Relative paths are relative to this file. See seinpost.conf(5).\n"
	             "[seinpost]\n"
	             "role = node\n"
	             "org = %s\n"
	             "keys = %s\n"
	             "state = %s\n"
	             "; the first roster; newer ones come from the broker (kept in the state directory)\n"
	             "roster = roster.bin\n"
	             "operator_key = %s\n"
	             "policy = policy.ini\n"
	             "%s"
	             "log = %s\n"
	             "\n[broker]\nendpoint = %s\n%s%s",
	             org, o->keys ? keys : "keys", state, sp_hex(op, 32, hex), oprf[0] ? "" : "pseudonym_key = pseudo.key\n",
	             o->test_limits ? "stderr" : "auto",
	             o->broker, o->test_limits ? test_limits_text(0) : "", oprf);
	if (n < 0 || (size_t)n >= sizeof text)
		return SP_ESIZE;
	if ((rc = join(o->dir, "seinpost.conf", p)) != SP_OK || (rc = sp_file_write(p, text, (size_t)n, 0644)) != SP_OK)
		return say(err, errlen, rc, "writing %s: %s", p, sp_strerror(rc));
	return SP_OK;
}
