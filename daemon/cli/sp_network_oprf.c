/*
 * sp_network_oprf.c — the pseudonymisation service in the enrolment steps
 * (docs/pseudonymiser.md, docs/enrolment.md):
 *
 *   keygen DIR --org ID --role pseudonymiser   CURVE + sign keys (no box
 *       key), an OPRF key (oprf.key 0600, oprf.pub) and enrol.json carrying
 *       the OPRF public key;
 *   network create / net init --pseudonymisers N [--threshold T]
 *       N = 1: one service "pseudo-mh" with its own key; N > 1: instances
 *       pseudo-mh-1..N whose shares come from a DKG run in this process (a
 *       local network only: this process saw every share), the Feldman
 *       commitments on the roster. Each instance enrols like any other
 *       organisation (enrol.json with its share's public key and index);
 *   node config   a [pseudonymiser] section pinning the service's key (the
 *       group key C_0 when t-of-n), taken from the roster.
 */
#include "sp_network.h"

#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sp_enrol.h"
#include "sp_oprfsvc.h"
#include "sp_roster.h"
#include "sp_toprf.h"
#include "sp_util.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)
#define FAIL(code, ...) (ERR(__VA_ARGS__), (code))

void sp_network_pseudonymiser_id(unsigned n, unsigned i, char *out, size_t len)
{
	if (n == 1)
		snprintf(out, len, SP_PSEUDONYMISER_ID);
	else
		snprintf(out, len, SP_PSEUDONYMISER_ID "-%u", i + 1);
}

int sp_network_keygen_pseudonymiser(const char *dir, const char *org, int force, const uint8_t *share,
                                    uint32_t index, char *err, size_t errlen)
{
	sp_keyset *k = NULL;
	sp_oprf_key *ok = NULL;
	sp_enrol e;
	char p[PATH_MAX];
	int rc;

	err[0] = '\0';
	if (sp_keys_exist(dir) && !force)
		return FAIL(SP_EEXIST, "%s already holds keys; refusing to overwrite them (--force destroys them)", dir);
	if ((rc = sp_keys_generate(0, &k)) != SP_OK || (rc = sp_oprf_key_generate(&ok)) != SP_OK)
		goto out;
	if (share) {
		/* t-of-n: the instance keeps its share s_i as its OPRF key */
		memcpy(ok->sk, share, 32);
		if (crypto_scalarmult_ristretto255_base(ok->pk, ok->sk) != 0) {
			rc = SP_ECRYPTO;
			goto out;
		}
	}
	if ((rc = sp_keys_save(k, dir)) != SP_OK || (rc = sp_oprf_key_save(ok, dir)) != SP_OK)
		goto out;
	if ((rc = sp_enrol_make_pseudonymiser(k, org, ok->pk, share ? index : 0, &e)) != SP_OK ||
	    (rc = sp_path_join(dir, "enrol.json", p, sizeof p)) != SP_OK || (rc = sp_enrol_write(&e, p)) != SP_OK)
		goto out;
out:
	if (rc != SP_OK && !err[0])
		ERR("%s: %s", dir, sp_strerror(rc));
	sp_keys_free(&k);
	sp_oprf_key_free(&ok);
	return rc;
}

/* The service's configuration: its own copy of the policy (its limits);
 * the roster is the network's (../roster.bin), like the broker's. */
static int write_service_config(const char *dir, const char *id, const char *host, unsigned port,
                                const char *opk_hex, const char *policy_src, int test)
{
	char path[PATH_MAX], text[2048], state[PATH_MAX];
	uint8_t *buf = NULL;
	size_t len;
	int n, rc;
	snprintf(state, sizeof state, "%s", test ? "state" : SP_NETWORK_STATE_BASE);
	if (!test && (rc = sp_path_join(SP_NETWORK_STATE_BASE, id, state, sizeof state)) != SP_OK)
		return rc;
	n = snprintf(text, sizeof text,
	             "; seinpost pseudonymiser configuration, made by `seinpost network create`.\n"
	             "; The oblivious pseudonymisation service: run by a party other than the\n"
	             "; broker's operator. See seinpost.conf(5) and docs/pseudonymiser.md.\n"
	             "[seinpost]\n"
	             "role = pseudonymiser\n"
	             "org = %s\n"
	             "keys = keys\n"
	             "state = %s\n"
	             "roster = ../roster.bin\n"
	             "operator_key = %s\n"
	             "policy = policy.ini\n"
	             "log = %s\n"
	             "\n"
	             "[pseudonymiser]\n"
	             "listen = tcp://%s:%u\n"
	             "\n"
	             "[limits]\n"
	             "map_size_mb = 256\n"
	             "max_frame_kb = 256\n",
	             id, state, opk_hex, test ? "stderr" : "auto",
	             host, port);
	if (n < 0 || (size_t)n >= sizeof text)
		return SP_ESIZE;
	if ((rc = sp_path_join(dir, "seinpost.conf", path, sizeof path)) != SP_OK ||
	    (rc = sp_file_write(path, text, (size_t)n, 0644)) != SP_OK)
		return rc;
	if (test && ((rc = sp_path_join(dir, "state", path, sizeof path)) != SP_OK || (rc = sp_mkdir_p(path, 0700)) != SP_OK))
		return rc;
	if ((rc = sp_file_read(policy_src, 4u << 20, &buf, &len)) == SP_OK &&
	    (rc = sp_path_join(dir, "policy.ini", path, sizeof path)) == SP_OK)
		rc = sp_file_write(path, buf, len, 0644);
	free(buf);
	return rc;
}

int sp_network_pseudonymisers(const char *netdir, unsigned n, unsigned t, const char *host, unsigned port, int test,
                              char *err, size_t errlen)
{
	uint8_t *shares = NULL, commits[SP_TOPRF_MAX_N * 32];
	char roster[PATH_MAX], opdir[PATH_MAX], dir[PATH_MAX], keys[PATH_MAX], p[PATH_MAX], id[SP_ID_MAX];
	char msg[512], opk[65], pol[PATH_MAX];
	sp_keyset *op = NULL;
	sp_roster *r = NULL;
	int rc;

	err[0] = '\0';
	if (n == 0)
		return SP_OK;
	if (n > SP_TOPRF_MAX_N || (n == 1 && t > 1) || (n > 1 && (t < 2 || t > n)))
		return FAIL(SP_EINVAL, "--pseudonymisers N --threshold T: 1 instance, or 2 <= T <= N <= %d", SP_TOPRF_MAX_N);
	if (port == 0 || port + n - 1 > 65535)
		return FAIL(SP_EINVAL, "the pseudonymisers' ports must lie in 1..65535");
	if ((rc = sp_path_join(netdir, "roster.bin", roster, sizeof roster)) != SP_OK ||
	    (rc = sp_path_join(netdir, "policy.ini", pol, sizeof pol)) != SP_OK ||
	    (rc = sp_network_opdir(roster, opdir, sizeof opdir)) != SP_OK)
		return rc;
	if ((rc = sp_keys_load_sign(opdir, &op)) != SP_OK || (rc = sp_roster_load(roster, op->sign_pk, &r)) != SP_OK) {
		ERR("%s: %s", roster, sp_strerror(rc));
		goto out;
	}
	sp_hex(op->sign_pk, 32, opk);
	if (n > 1) {
		/* the commitments go on the roster before any instance */
		if (!(shares = sodium_malloc(32 * (size_t)n))) {
			rc = SP_ENOMEM;
			goto out;
		}
		if ((rc = sp_toprf_dkg_local(t, n, shares, commits)) != SP_OK ||
		    (rc = sp_roster_set_oprf_commitments(r, commits, t)) != SP_OK)
			goto out;
		sp_roster_touch(r);
		if ((rc = sp_roster_save(r, roster, op->sign_sk)) != SP_OK)
			goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		sp_network_pseudonymiser_id(n, i, id, sizeof id);
		if ((rc = sp_path_join(netdir, id, dir, sizeof dir)) != SP_OK ||
		    (rc = sp_path_join(dir, "keys", keys, sizeof keys)) != SP_OK ||
		    (rc = sp_path_join(keys, "enrol.json", p, sizeof p)) != SP_OK)
			goto out;
		if ((rc = sp_mkdir_p(dir, 0755)) != SP_OK)
			goto out;
		if ((rc = sp_network_keygen_pseudonymiser(keys, id, 0, n > 1 ? shares + 32 * i : NULL, i + 1, err,
		                                          errlen)) != SP_OK)
			goto out;
		if ((rc = sp_network_roster_add(roster, opdir, p, msg, sizeof msg)) != SP_OK) {
			ERR("%s", msg);
			goto out;
		}
		if ((rc = write_service_config(dir, id, host, port + i, opk, pol, test)) != SP_OK) {
			ERR("writing %s: %s", dir, sp_strerror(rc));
			goto out;
		}
	}
out:
	if (rc != SP_OK && !err[0])
		ERR("pseudonymisers: %s", sp_strerror(rc));
	sodium_free(shares);
	sp_roster_free(&r);
	sp_keys_free(&op);
	return rc;
}

int sp_network_oprf_section(const char *roster, const uint8_t operator_pk[32], const char *endpoints, char *out,
                            size_t outlen, char *err, size_t errlen)
{
	sp_roster *r = NULL;
	const sp_org *svc[SP_TOPRF_MAX_N];
	char ids[SP_TOPRF_MAX_N * SP_ID_MAX + 1] = "", hex[65];
	const uint8_t *pin = NULL;
	uint32_t t;
	size_t ns = 0, il = 0, neps = 0;
	int rc, n;

	out[0] = err[0] = '\0';
	if ((rc = sp_roster_load(roster, operator_pk, &r)) != SP_OK)
		return ERR("%s: %s", roster, sp_strerror(rc)), rc;
	for (size_t i = 0; i < sp_roster_count(r); i++) {
		const sp_org *o = sp_roster_at(r, i);
		if (!o->has_oprf)
			continue;
		if (ns == SP_TOPRF_MAX_N) {
			rc = FAIL(SP_ESIZE, "more than %d pseudonymisers on the roster", SP_TOPRF_MAX_N);
			goto out;
		}
		svc[ns++] = o;
	}
	if (ns == 0) {
		if (endpoints)
			rc = FAIL(SP_ENOTFOUND, "--pseudonymiser given, but the roster lists no pseudonymiser");
		goto out;
	}
	if (!endpoints)
		goto out; /* the node does without the service (no section) */
	/* t-of-n: in index order; the pin is the group key C_0 */
	for (size_t a = 1; a < ns; a++)
		for (size_t b = a; b > 0 && svc[b - 1]->oprf_index > svc[b]->oprf_index; b--) {
			const sp_org *x = svc[b];
			svc[b] = svc[b - 1];
			svc[b - 1] = x;
		}
	pin = sp_roster_oprf_commitments(r, &t);
	if (!pin) {
		if (ns != 1) {
			rc = FAIL(SP_EMALFORMED, "the roster lists %zu pseudonymisers but no commitments", ns);
			goto out;
		}
		pin = svc[0]->oprf_pk;
	}
	for (size_t i = 0; i < ns; i++)
		il += (size_t)snprintf(ids + il, sizeof ids - il, "%s%s", i ? " " : "", svc[i]->id);
	for (const char *c = endpoints; *c;) {
		while (*c == ' ')
			c++;
		if (!*c)
			break;
		neps++;
		while (*c && *c != ' ')
			c++;
	}
	if (neps != ns) {
		rc = FAIL(SP_EINVAL, "the roster lists %zu pseudonymiser%s; give one endpoint each (got %zu)", ns, ns == 1 ? "" : "s",
		         neps);
		goto out;
	}
	n = snprintf(out, outlen, "\n[pseudonymiser]\nendpoint = %s\nservice = %s\nkey = %s\n", endpoints, ids,
	             sp_hex(pin, 32, hex));
	if (n < 0 || (size_t)n >= outlen)
		rc = SP_ESIZE;
out:
	sp_roster_free(&r);
	return rc;
}
