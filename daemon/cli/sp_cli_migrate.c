/*
 * sp_cli_migrate.c — from keyed pseudonyms (every partner holds
 * pseudo.key) to the pseudonymisation service (docs/pseudonymiser.md,
 * Migration; docs/operations.md).
 *
 *   seinpost net migrate DIR --pseudonymisers N [--threshold T] [--oprf-port P]
 *       a local network made by `net init`, stopped: all steps here.
 *   seinpost --config NODE pseudonym migrate --network ROSTER --pseudonymiser EPS
 *       one node's part (its operator runs it): the roster with the
 *       service, the [pseudonymiser] section pinning its key, no
 *       pseudonym_key line, pseudo.key wiped and removed.
 *
 * The new key epoch is the service's (SP_PSEUDO_EPOCH_OPRF), apart from
 * every keyed epoch. Nothing already at the broker changes: signals and
 * involvements under the old epoch keep their pseudonyms and keep matching
 * each other until they expire (signals still in an outbox go out under
 * the old epoch too); new signals and new involvements carry the new one.
 * A node re-registers its involvements from its own records (`involve
 * --file`), since no node keeps an identifier.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sp_cli.h"
#include "sp_config.h"
#include "sp_kh.h"
#include "sp_keys.h"
#include "sp_network.h"
#include "sp_roster.h"
#include "sp_toprf.h"
#include "sp_util.h"

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* Overwrite a secret file with zeros, then remove it. SP_OK when absent. */
static int wipe(const char *path)
{
	struct stat st;
	uint8_t zero[4096] = { 0 };
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return access(path, F_OK) != 0 ? SP_OK : SP_EIO;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		for (off_t left = st.st_size; left > 0;) {
			ssize_t n = write(fd, zero, left < (off_t)sizeof zero ? (size_t)left : sizeof zero);
			if (n <= 0)
				break;
			left -= n;
		}
	(void)fsync(fd);
	close(fd);
	return unlink(path) == 0 ? SP_OK : SP_EIO;
}

/* 1 when the node's daemon answers on its submit socket. */
static int node_running(const sp_config *c)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char p[PATH_MAX];
	int fd, up;
	if (sp_config_submit_socket(c, p, sizeof p) != SP_OK || strlen(p) >= sizeof a.sun_path)
		return 0;
	memcpy(a.sun_path, p, strlen(p) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	up = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return up;
}

/* The configuration without its pseudonym_key line, with section added. */
static int rewrite_config(const char *path, const char *section, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len, o = 0, sl = strlen(section);
	char *out;
	int rc = sp_file_read(path, 1u << 20, &buf, &len);
	if (rc != SP_OK)
		return fail(err, errlen, rc, "%s: %s", path, sp_strerror(rc));
	if (!(out = malloc(len + sl + 2))) {
		free(buf);
		return SP_ENOMEM;
	}
	for (size_t i = 0; i < len;) {
		size_t e = i;
		while (e < len && buf[e] != '\n')
			e++;
		const char *l = (const char *)buf + i;
		size_t ws = strspn(l, " \t");
		int drop = e - i > ws + 13 && strncmp(l + ws, "pseudonym_key", 13) == 0 &&
		           strchr(" \t=", l[ws + 13]) != NULL;
		if (!drop) {
			memcpy(out + o, l, e - i);
			o += e - i;
			out[o++] = '\n';
		}
		i = e + 1;
	}
	memcpy(out + o, section, sl);
	o += sl;
	rc = sp_file_write(path, out, o, 0644);
	free(out);
	free(buf);
	return rc != SP_OK ? fail(err, errlen, rc, "writing %s: %s", path, sp_strerror(rc)) : rc;
}

/* One node's part. msg says what was done. */
static int migrate_node(const char *conf, const char *roster, const char *endpoints, char *err, size_t errlen)
{
	sp_config c;
	sp_roster *r = NULL;
	char section[2048], dir[PATH_MAX], beside[PATH_MAX], keyp[PATH_MAX] = "";
	int rc;

	err[0] = '\0';
	if ((rc = sp_config_load(conf, &c, err, errlen)) != SP_OK)
		return rc;
	if (c.role != SP_RUN_NODE)
		return fail(err, errlen, SP_EINVAL, "%s is not a node's configuration", conf);
	if (node_running(&c))
		return fail(err, errlen, SP_EBUSY, "the node of %s is running: stop it first (it holds the old key in memory)", conf);
	snprintf(keyp, sizeof keyp, "%s", c.pseudo_key_path);
	if ((rc = sp_path_dirname(conf, dir, sizeof dir)) != SP_OK ||
	    (rc = sp_path_join(dir, "pseudo.key", beside, sizeof beside)) != SP_OK)
		return rc;
	if (!c.oprf_service[0]) {
		/* the roster must verify against the operator key this node pins */
		if ((rc = sp_roster_load(roster, c.operator_pk, &r)) != SP_OK)
			return fail(err, errlen, rc, "%s does not verify against the operator key in %s: %s", roster, conf, sp_strerror(rc));
		sp_roster_free(&r);
		if ((rc = sp_network_oprf_section(roster, c.operator_pk, endpoints, section, sizeof section, err,
		                                  errlen)) != SP_OK)
			return rc;
		if (!section[0])
			return fail(err, errlen, SP_ENOTFOUND, "%s lists no pseudonymisation service", roster);
		if (strcmp(roster, c.roster_path) != 0) {
			uint8_t *buf = NULL;
			size_t len;
			if ((rc = sp_file_read(roster, 4u << 20, &buf, &len)) == SP_OK)
				rc = sp_file_write(c.roster_path, buf, len, 0644);
			free(buf);
			if (rc != SP_OK)
				return fail(err, errlen, rc, "copying the roster to %s: %s", c.roster_path, sp_strerror(rc));
		}
		/* first the configuration: from here on the node refuses to start
		 * until the key is gone (sp_preflight), so a crash in between is
		 * visible and this command, run again, finishes it */
		if ((rc = rewrite_config(conf, section, err, errlen)) != SP_OK)
			return rc;
	} else if (keyp[0] && (rc = rewrite_config(conf, "", err, errlen)) != SP_OK) {
		return rc; /* migrated before, but a pseudonym_key line came back */
	}
	if ((keyp[0] && (rc = wipe(keyp)) != SP_OK) || (rc = wipe(beside)) != SP_OK)
		return fail(err, errlen, rc, "removing the pseudonymisation key of %s: %s", conf, sp_strerror(rc));
	return SP_OK;
}

int sp_cli_pseudonym_migrate(const char *cfg_path, int argc, char **argv)
{
	const char *roster = NULL, *eps = NULL;
	char err[1024];
	int rc;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--network") == 0 && i + 1 < argc)
			roster = argv[++i];
		else if (strcmp(argv[i], "--pseudonymiser") == 0 && i + 1 < argc)
			eps = argv[++i];
		else
			roster = eps = NULL, i = argc;
	}
	if (argc < 2 || strcmp(argv[1], "migrate") != 0 || !roster || !eps) {
		fprintf(stderr, "usage: seinpost --config FILE pseudonym migrate --network ROSTER --pseudonymiser EPS\n");
		return SP_EXIT_USAGE;
	}
	if (!cfg_path) {
		fprintf(stderr, "seinpost: this command needs --config FILE\n");
		return SP_EXIT_USAGE;
	}
	if ((rc = migrate_node(cfg_path, roster, eps, err, sizeof err)) != SP_OK) {
		fprintf(stderr, "seinpost pseudonym migrate: %s\n", err[0] ? err : sp_strerror(rc));
		return SP_EXIT_BAD;
	}
	printf("%s: pseudonyms from the pseudonymisation service; no pseudonymisation key left.\n"
	       "Start the node, then re-register its involvements from your own records:\n"
	       "  seinpost --config %s involve --file RECORDS\n", cfg_path, cfg_path);
	return SP_EXIT_OK;
}

/* ---- net migrate: a local network, every step ----------------------------- */

static unsigned broker_port(const char *netdir)
{
	char p[PATH_MAX], err[512];
	const char *colon;
	sp_config c;
	if (sp_path_join(netdir, "broker/seinpost.conf", p, sizeof p) != SP_OK ||
	    sp_config_load(p, &c, err, sizeof err) != SP_OK || !(colon = strrchr(c.endpoint, ':')))
		return 0;
	return (unsigned)strtoul(colon + 1, NULL, 10);
}

struct nodes {
	char conf[64][PATH_MAX];
	char id[64][SP_ID_MAX];
	size_t n;
};

/* The nodes of the network: DIR/<id>/seinpost.conf with role node. */
static int find_nodes(const char *netdir, struct nodes *ns, char *err, size_t errlen)
{
	DIR *d = opendir(netdir);
	struct dirent *e;
	int rc = SP_OK;
	if (!d)
		return fail(err, errlen, SP_EIO, "%s: cannot read it", netdir);
	while ((e = readdir(d)) && rc == SP_OK) {
		char sub[PATH_MAX], p[PATH_MAX], cerr[512];
		sp_config c;
		if (e->d_name[0] == '.' || sp_path_join(netdir, e->d_name, sub, sizeof sub) != SP_OK ||
		    sp_path_join(sub, "seinpost.conf", p, sizeof p) != SP_OK || access(p, R_OK) != 0 ||
		    sp_config_load(p, &c, cerr, sizeof cerr) != SP_OK || c.role != SP_RUN_NODE)
			continue;
		if (ns->n == 64) {
			rc = fail(err, errlen, SP_ESIZE, "more than 64 nodes in %s: migrate them one by one (pseudonym migrate)", netdir);
			break;
		}
		if (node_running(&c)) {
			rc = fail(err, errlen, SP_EBUSY, "the node %s is running: stop the network first", e->d_name);
			break;
		}
		snprintf(ns->conf[ns->n], PATH_MAX, "%s", p);
		snprintf(ns->id[ns->n], SP_ID_MAX, "%s", c.org);
		ns->n++;
	}
	closedir(d);
	return rc;
}

int sp_cli_net_migrate(int argc, char **argv)
{
	static struct nodes ns;
	unsigned n = 0, t = 0, port = 0;
	const char *dir = NULL;
	char roster[PATH_MAX], pk[PATH_MAX], eps[1024] = "", err[1024] = "";
	sp_roster *r = NULL;
	sp_keyset *op = NULL;
	int rc;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if ((strcmp(a, "--pseudonymisers") == 0 || strcmp(a, "--threshold") == 0 || strcmp(a, "--oprf-port") == 0) &&
		    i + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 10);
			if (*end || v > 65535)
				goto usage;
			if (a[2] == 'p')
				n = (unsigned)v;
			else if (a[2] == 't')
				t = (unsigned)v;
			else
				port = (unsigned)v;
		} else if (a[0] != '-' && !dir) {
			dir = a;
		} else {
			goto usage;
		}
	}
	if (!dir || n == 0)
		goto usage;
	if ((rc = sp_path_join(dir, "roster.bin", roster, sizeof roster)) != SP_OK ||
	    (rc = sp_path_join(dir, "operator", pk, sizeof pk)) != SP_OK)
		return SP_EXIT_BAD;
	if ((rc = sp_keys_load_sign(pk, &op)) != SP_OK || (rc = sp_roster_load(roster, op->sign_pk, &r)) != SP_OK) {
		fprintf(stderr, "seinpost net migrate: %s is not a network made by net init (%s)\n", dir, sp_strerror(rc));
		sp_keys_free(&op);
		return SP_EXIT_BAD;
	}
	for (size_t i = 0; i < sp_roster_count(r); i++)
		if (sp_roster_at(r, i)->has_oprf) {
			fprintf(stderr, "seinpost net migrate: %s already has a pseudonymisation service (%s)\n", dir,
			        sp_roster_at(r, i)->id);
			rc = SP_EEXIST;
		}
	sp_roster_free(&r);
	sp_keys_free(&op);
	if (rc != SP_OK)
		return SP_EXIT_BAD;
	if (!port && (port = broker_port(dir)) != 0)
		port++;
	if (!port || port + n - 1 > 65535) {
		fprintf(stderr, "seinpost net migrate: give --oprf-port P (the broker's port is not known)\n");
		return SP_EXIT_USAGE;
	}
	if ((rc = find_nodes(dir, &ns, err, sizeof err)) != SP_OK) {
		fprintf(stderr, "seinpost net migrate: %s\n", err);
		return SP_EXIT_BAD;
	}
	/* 1. the service, enrolled on the roster (its key the new epoch's) */
	if ((rc = sp_network_pseudonymisers(dir, n, t, "127.0.0.1", port, 1, err, sizeof err)) != SP_OK) {
		fprintf(stderr, "seinpost net migrate: %s\n", err);
		return SP_EXIT_BAD;
	}
	for (unsigned i = 0, l = 0; i < n && l < sizeof eps; i++)
		l += (unsigned)snprintf(eps + l, sizeof eps - l, "%stcp://127.0.0.1:%u", i ? " " : "", port + i);
	/* 2. every node: roster, [pseudonymiser], no pseudo.key */
	for (size_t i = 0; i < ns.n; i++)
		if ((rc = migrate_node(ns.conf[i], roster, eps, err, sizeof err)) != SP_OK) {
			fprintf(stderr, "seinpost net migrate: %s\n", err);
			return SP_EXIT_BAD;
		}
	/* 3. the operator's copy of the partners' key */
	if ((rc = sp_path_join(dir, "partners/pseudo.key", pk, sizeof pk)) != SP_OK || (rc = wipe(pk)) != SP_OK) {
		fprintf(stderr, "seinpost net migrate: removing %s: %s\n", pk, sp_strerror(rc));
		return SP_EXIT_BAD;
	}
	if (sp_path_join(dir, "partners", pk, sizeof pk) == SP_OK)
		(void)rmdir(pk);
	printf("network %s migrated to the pseudonymisation service (%u instance%s%s), new key epoch 0x%08x;\n"
	       "no pseudo.key is left. Next:\n", dir, n, n == 1 ? "" : "s", n > 1 ? ", t-of-n" : "",
	       SP_PSEUDO_EPOCH_OPRF);
	for (unsigned i = 0; i < n; i++) {
		char id[SP_ID_MAX];
		sp_network_pseudonymiser_id(n, i, id, sizeof id);
		printf("  seinpostd --config %s/%s/seinpost.conf      (the service, port %u)\n", dir, id, port + i);
	}
	printf("  restart the broker and every node, then each node re-registers its involvements\n"
	       "  from its own records:\n");
	for (size_t i = 0; i < ns.n; i++)
		printf("  seinpost --config %s involve --file RECORDS   (%s)\n", ns.conf[i], ns.id[i]);
	return SP_EXIT_OK;
usage:
	fprintf(stderr, "usage: seinpost net migrate DIR --pseudonymisers N [--threshold T] [--oprf-port P]\n");
	return SP_EXIT_USAGE;
}
