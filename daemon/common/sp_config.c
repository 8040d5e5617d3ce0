/*
 * sp_config.c — seinpostd / seinpost configuration, parsed once, strictly.
 *
 * libinih reads the syntax; one table says, for every key, its section, type,
 * bounds, default and which role may set it. Everything not in the table is
 * an error with FILE:LINE, so a typo never silently falls back to a default.
 * Like sp_policy.c we feed inih through our own line reader so that handler
 * errors carry line numbers.
 *
 * Trust boundary: the broker must never hold the pseudonymisation key (it
 * could then reverse pseudonyms by dictionary over the BSN space), so a
 * broker configuration naming one is refused, not ignored.
 */
#include "sp_config.h"
#include "sp_ini.h"

#include <ini.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "sp_util.h"

#define CONFIG_MAX_FILE (256u * 1024)

enum ctype {
	C_ROLE,      /* broker | node */
	C_ID,        /* identifier (sp_ident_ok) */
	C_PATH,      /* resolved against the config file's directory */
	C_HEX32,     /* 64 hex characters -> 32 bytes */
	C_LOG,       /* auto | journal | stderr */
	C_ENDPOINT,  /* tcp://, ipc:// */
	C_ENDPOINTS, /* one or more endpoints, separated by spaces */
	C_IDS,       /* one or more identifiers, separated by spaces */
	C_U32,       /* whole number in [min, max] */
	C_MB,        /* megabytes in [min, max], stored as uint64 bytes */
	C_KB,        /* kilobytes in [min, max], stored as uint32 bytes */
	C_INT,       /* int in [min, max] */
};

enum { ROLE_ANY = 0, ROLE_BROKER = SP_RUN_BROKER, ROLE_NODE = SP_RUN_NODE,
       ROLE_PSEUDO = SP_RUN_PSEUDONYMISER };

struct ckey {
	const char *section;
	const char *key;
	enum ctype type;
	size_t off, size;
	long min, max, def;    /* numbers; def applied before parsing */
	int required_for;      /* ROLE_ANY (both), ROLE_BROKER, ROLE_NODE, or -1 (optional) */
	int allowed_for;       /* ROLE_ANY, or the only role that may set it */
	const char *why;       /* message when set by the wrong role */
};

#define K(sec, k, t, m, lo, hi, d, req, allow, why) \
	{ sec, k, t, offsetof(sp_config, m), sizeof(((sp_config *)0)->m), lo, hi, d, req, allow, why }

static const struct ckey ckeys[] = {
	K("seinpost", "role", C_ROLE, role, 0, 0, 0, ROLE_ANY, ROLE_ANY, NULL),
	K("seinpost", "org", C_ID, org, 0, 0, 0, ROLE_NODE, ROLE_ANY, NULL),
	K("seinpost", "keys", C_PATH, keys_dir, 0, 0, 0, ROLE_ANY, ROLE_ANY, NULL),
	K("seinpost", "state", C_PATH, state_dir, 0, 0, 0, ROLE_ANY, ROLE_ANY, NULL),
	K("seinpost", "roster", C_PATH, roster_path, 0, 0, 0, ROLE_ANY, ROLE_ANY, NULL),
	K("seinpost", "operator_key", C_HEX32, operator_pk, 0, 0, 0, ROLE_ANY, ROLE_ANY, NULL),
	K("seinpost", "policy", C_PATH, policy_path, 0, 0, 0, ROLE_ANY, ROLE_ANY, NULL),
	K("seinpost", "pseudonym_key", C_PATH, pseudo_key_path, 0, 0, 0, -1 /* or [pseudonymiser] */, ROLE_NODE,
	  "the broker must never hold the pseudonymisation key"),
	K("seinpost", "log", C_LOG, log, 0, 0, 0, -1, ROLE_ANY, NULL),
	K("seinpost", "verbose", C_INT, verbose, 0, 1, 0, -1, ROLE_ANY, NULL),
	K("broker", "listen", C_ENDPOINT, endpoint, 0, 0, 0, ROLE_BROKER, ROLE_BROKER,
	  "listen is the broker's own address; a node names the broker with endpoint"),
	K("broker", "endpoint", C_ENDPOINT, endpoint, 0, 0, 0, ROLE_NODE, ROLE_NODE,
	  "endpoint is where a node finds the broker; the broker uses listen"),
	K("limits", "map_size_mb", C_MB, map_size, 1, 1048576, 256, -1, ROLE_ANY, NULL),
	K("limits", "max_frame_kb", C_KB, max_frame, 16, 65536, 256, -1, ROLE_ANY, NULL),
	K("limits", "heartbeat_ms", C_U32, heartbeat_ms, 100, 600000, 2000, -1, ROLE_ANY, NULL),
	K("limits", "retry_ms", C_U32, retry_ms, 100, 3600000, 2000, -1, ROLE_ANY, NULL),
	K("limits", "max_refusals", C_U32, max_refusals, 1, 1000, 5, -1, ROLE_BROKER,
	  "only the broker quarantines deliveries their recipient keeps refusing"),
	K("limits", "max_clock_skew_s", C_U32, max_clock_skew_s, 1, 86400, 300, -1, ROLE_ANY, NULL),
	K("audit", "sth_every_records", C_U32, sth_every_records, 1, 1000000, 256, -1, ROLE_BROKER,
	  "only the broker signs tree heads"),
	K("audit", "sth_every_s", C_U32, sth_every_s, 1, 86400, 10, -1, ROLE_BROKER,
	  "only the broker signs tree heads"),
	K("limits", "handshake_s", C_U32, handshake_s, 1, 300, 10, -1, ROLE_BROKER,
	  "only the broker accepts connections"),
	K("limits", "max_age_s", C_U32, max_age_s, 60, 2592000, 604800, -1, ROLE_ANY, NULL),
	K("limits", "policy_grace_s", C_U32, policy_grace_s, 0, 2592000, 604800, -1, ROLE_BROKER,
	  "only the broker admits signals by policy version"),
	K("spool", "in", C_PATH, spool_in, 0, 0, 0, -1, ROLE_NODE, "the broker takes no signals from a spool"),
	K("hook", "command", C_PATH, hook_command, 0, 0, 0, -1, ROLE_NODE, "the broker opens nothing to hand on"),
	K("hook", "out", C_PATH, hook_out, 0, 0, 0, -1, ROLE_NODE, "the broker opens nothing to hand on"),
	K("hook", "timeout_s", C_U32, hook_timeout_s, 1, 3600, 30, -1, ROLE_NODE, "the broker runs no hooks"),
	K("hook", "retry_s", C_U32, hook_retry_s, 1, 3600, 5, -1, ROLE_NODE, "the broker runs no hooks"),
	K("pseudonymiser", "listen", C_ENDPOINT, oprf_endpoint, 0, 0, 0, ROLE_PSEUDO, ROLE_PSEUDO,
	  "listen is the pseudonymiser's own address; a node names it with endpoint"),
	K("pseudonymiser", "endpoint", C_ENDPOINTS, oprf_endpoint, 0, 0, 0, -1, ROLE_NODE,
	  "only a node asks the pseudonymisation service"),
	K("pseudonymiser", "service", C_IDS, oprf_service, 0, 0, 0, -1, ROLE_NODE,
	  "only a node asks the pseudonymisation service"),
	K("pseudonymiser", "key", C_HEX32, oprf_pin, 0, 0, 0, -1, ROLE_NODE,
	  "only a node pins the service's key"),
	K("pseudonymiser", "timeout_ms", C_U32, oprf_timeout_ms, 100, 600000, 5000, -1, ROLE_NODE,
	  "only a node asks the pseudonymisation service"),
};
#define NCKEYS (sizeof ckeys / sizeof ckeys[0])

struct cctx {
	sp_ini_reader rd;          /* line numbers, first error */
	sp_config *c;
	char dir[PATH_MAX];
	int seen[NCKEYS];          /* line of each key, 0 = not set */
};

static void fail(struct cctx *x, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct cctx *x, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sp_ini_vfail(&x->rd, line, fmt, ap);
	va_end(ap);
}

static int parse_ulong(const char *v, unsigned long *out)
{
	char *end;
	unsigned long u;
	if (!(*v >= '0' && *v <= '9') || strlen(v) > 12)
		return -1;
	u = strtoul(v, &end, 10);
	if (*end)
		return -1;
	*out = u;
	return 0;
}

static int endpoint_ok(const char *v)
{
	const char *rest;
	if (strncmp(v, "tcp://", 6) == 0)
		rest = v + 6;
	else if (strncmp(v, "ipc://", 6) == 0)
		rest = v + 6;
	else
		return 0;
	if (!*rest)
		return 0;
	for (; *rest; rest++)
		if (*rest <= 0x20 || *rest >= 0x7f)
			return 0;
	return 1;
}

static int set_value(struct cctx *x, const struct ckey *k, const char *v)
{
	char *slot = (char *)x->c + k->off;
	char pb[48];
	unsigned long u;
	int rc;

	if (!*v) {
		fail(x, x->rd.line, "empty value for '%s'", k->key);
		return -1;
	}
	switch (k->type) {
	case C_ROLE:
		if (strcmp(v, "broker") == 0)
			*(int *)slot = SP_RUN_BROKER;
		else if (strcmp(v, "node") == 0)
			*(int *)slot = SP_RUN_NODE;
		else if (strcmp(v, "pseudonymiser") == 0)
			*(int *)slot = SP_RUN_PSEUDONYMISER;
		else {
			fail(x, x->rd.line, "role must be broker, node or pseudonymiser");
			return -1;
		}
		return 0;
	case C_ID:
		if (!sp_ident_ok(v) || strlen(v) >= k->size) {
			fail(x, x->rd.line, "'%s' is not an identifier ([a-z0-9][a-z0-9.-]*)", k->key);
			return -1;
		}
		strcpy(slot, v);
		return 0;
	case C_PATH:
		if (!sp_text_ok(v, k->size - 1, 0)) {
			fail(x, x->rd.line, "'%s' is not a usable path", k->key);
			return -1;
		}
		rc = sp_path_resolve(x->dir, v, slot, k->size);
		if (rc != SP_OK) {
			fail(x, x->rd.line, "path '%s' too long", k->key);
			return -1;
		}
		return 0;
	case C_HEX32:
		if (sp_unhex(v, slot, 32) != SP_OK) {
			fail(x, x->rd.line, "'%s' must be 64 hex characters (an Ed25519 public key)", k->key);
			return -1;
		}
		return 0;
	case C_ENDPOINTS:
	case C_IDS: {
		char w[256];
		const char *p = v;
		int words = 0;
		if (strlen(v) >= k->size) {
			fail(x, x->rd.line, "'%s' is too long", k->key);
			return -1;
		}
		while (*p) {
			size_t l = strcspn(p, " ");
			if (l == 0 || l >= sizeof w) {
				fail(x, x->rd.line, "'%s': one space between items", k->key);
				return -1;
			}
			memcpy(w, p, l);
			w[l] = '\0';
			if (k->type == C_IDS ? !sp_ident_ok(w) : !endpoint_ok(w)) {
				fail(x, x->rd.line, "'%s': item %d is not %s", k->key, words + 1,
				     k->type == C_IDS ? "an identifier" : "a ZeroMQ endpoint");
				return -1;
			}
			words++;
			p += l;
			if (*p == ' ' && *++p == '\0') {
				fail(x, x->rd.line, "'%s': trailing space", k->key);
				return -1;
			}
		}
		strcpy(slot, v);
		return 0;
	}
	case C_LOG:
		if (strcmp(v, "auto") && strcmp(v, "journal") && strcmp(v, "stderr")) {
			fail(x, x->rd.line, "log must be auto, journal or stderr");
			return -1;
		}
		strcpy(slot, v);
		return 0;
	case C_ENDPOINT:
		if (strlen(v) >= k->size || !endpoint_ok(v)) {
			fail(x, x->rd.line, "'%s' must be a ZeroMQ endpoint such as tcp://127.0.0.1:7700 "
			     "(got '%s')", k->key, sp_ini_printable(v, pb, sizeof pb));
			return -1;
		}
		strcpy(slot, v);
		return 0;
	case C_U32:
	case C_MB:
	case C_KB:
	case C_INT:
		if (parse_ulong(v, &u) != 0 || u < (unsigned long)k->min || u > (unsigned long)k->max) {
			fail(x, x->rd.line, "'%s' must be a whole number from %ld to %ld", k->key,
			     k->min, k->max);
			return -1;
		}
		if (k->type == C_MB)
			*(uint64_t *)slot = (uint64_t)u << 20;
		else if (k->type == C_KB)
			*(uint32_t *)slot = (uint32_t)u << 10;
		else if (k->type == C_U32)
			*(uint32_t *)slot = (uint32_t)u;
		else
			*(int *)slot = (int)u;
		return 0;
	}
	return -1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct cctx *x = user;
	char pb[48], pb2[48];
	int sec_known = 0;
	size_t i;

	if (x->rd.err_line)
		return 0;
	if (!section[0] || x->rd.header_seq == 0) {
		fail(x, x->rd.line, "key outside a section");
		return 0;
	}
	x->rd.cur_seq = x->rd.header_seq;
	for (i = 0; i < NCKEYS; i++) {
		if (strcmp(ckeys[i].section, section) != 0)
			continue;
		sec_known = 1;
		if (strcmp(ckeys[i].key, name) == 0)
			break;
	}
	if (!sec_known) {
		fail(x, x->rd.header_line, "unknown section [%s]", sp_ini_printable(section, pb, sizeof pb));
		return 0;
	}
	if (i == NCKEYS) {
		fail(x, x->rd.line, "unknown key '%s' in [%s]", sp_ini_printable(name, pb, sizeof pb),
		     sp_ini_printable(section, pb2, sizeof pb2));
		return 0;
	}
	if (x->seen[i]) {
		fail(x, x->rd.line, "'%s' given twice (first at line %d)", ckeys[i].key, x->seen[i]);
		return 0;
	}
	if (set_value(x, &ckeys[i], value) != 0)
		return 0;
	x->seen[i] = x->rd.line;
	return 1;
}

/* No "state =": the state directory is the one the shipped unit gives the
 * instance (StateDirectory=seinpost/%i): $STATE_DIRECTORY when systemd set
 * it (it may list several, separated by ':'; the first is ours), otherwise
 * /var/lib/seinpost/NAME for a configuration in /etc/seinpost/NAME/, so that
 * the CLI finds the same store from a shell. */
static void state_default(struct cctx *x)
{
	const char *sd = getenv("STATE_DIRECTORY");
	const char *name;
	size_t i, n;
	int w;

	for (i = 0; i < NCKEYS; i++)
		if (ckeys[i].off == offsetof(sp_config, state_dir))
			break;
	if (i == NCKEYS || x->seen[i])
		return;
	if (sd && sd[0] == '/') {
		n = strcspn(sd, ":");
		if (n >= sizeof x->c->state_dir)
			return;
		memcpy(x->c->state_dir, sd, n);
		x->c->state_dir[n] = '\0';
	} else {
		name = strrchr(x->dir, '/');
		name = name ? name + 1 : x->dir;
		if (!sp_ident_ok(name))
			return; /* reported as missing */
		w = snprintf(x->c->state_dir, sizeof x->c->state_dir, "%s/%s", SP_STATE_ROOT, name);
		if (w < 0 || (size_t)w >= sizeof x->c->state_dir) {
			x->c->state_dir[0] = '\0';
			return;
		}
	}
	x->seen[i] = -1; /* set, but by no line of the file */
}

/* Role-dependent rules, after the whole file is read (role may come last). */
static void check_roles(struct cctx *x)
{
	sp_config *c = x->c;
	/* A missing key is reported at the role line: that is what requires it. */
	int role_line = x->seen[0] ? x->seen[0] : x->rd.line;
	state_default(x);
	for (size_t i = 0; i < NCKEYS && !x->rd.err_line; i++) {
		const struct ckey *k = &ckeys[i];
		if (strcmp(k->key, "role") == 0)
			continue;
		if (x->seen[i] && k->allowed_for != ROLE_ANY && k->allowed_for != c->role)
			fail(x, x->seen[i], "%s: %s", k->key, k->why);
	}
	for (size_t i = 0; i < NCKEYS && !x->rd.err_line; i++) {
		const struct ckey *k = &ckeys[i];
		if (!x->seen[i] && k->required_for >= 0 &&
		    (k->required_for == ROLE_ANY || k->required_for == c->role))
			fail(x, role_line, "missing '%s' in [%s] (required for a %s)", k->key,
			     k->section, sp_config_role_name(c->role));
	}
	if (!x->rd.err_line && c->role == SP_RUN_PSEUDONYMISER && !c->org[0])
		fail(x, role_line, "missing 'org' in [seinpost] (required for a pseudonymiser)");
	/* a node names the service completely or not at all */
	if (!x->rd.err_line && c->role == SP_RUN_NODE) {
		int e = c->oprf_endpoint[0] != 0, s = c->oprf_service[0] != 0,
		    k = !sodium_is_zero(c->oprf_pin, sizeof c->oprf_pin);
		if (e + s + k != 0 && e + s + k != 3)
			fail(x, role_line, "[pseudonymiser] needs endpoint, service and key together");
		else if (sp_config_words(c->oprf_endpoint) != sp_config_words(c->oprf_service))
			fail(x, role_line, "[pseudonymiser] needs one endpoint per service");
		/* pseudonyms come from pseudonym_key or from the service */
		else if (!s && !c->pseudo_key_path[0])
			fail(x, role_line, "missing 'pseudonym_key' in [seinpost] (required for a node without a "
			                   "[pseudonymiser] section)");
	}
}

size_t sp_config_words(const char *s)
{
	size_t n = 0;
	for (s += strspn(s, " "); *s; s += strspn(s, " ")) { /* a leading space is no word */
		n++;
		s += strcspn(s, " ");
	}
	return n;
}

int sp_config_word(const char *s, size_t i, char *w, size_t wlen)
{
	const char *p = s + strspn(s, " ");
	for (;;) {
		size_t l = strcspn(p, " ");
		if (!l)
			return SP_ENOTFOUND;
		if (i-- == 0) {
			if (l >= wlen)
				return SP_ESIZE;
			memcpy(w, p, l);
			w[l] = '\0';
			return SP_OK;
		}
		p += l;
		p += strspn(p, " ");
	}
}

const char *sp_config_role_name(int role)
{
	return role == SP_RUN_BROKER ? "broker" : role == SP_RUN_PSEUDONYMISER ? "pseudonymiser" : "node";
}

int sp_config_load(const char *path, sp_config *out, char *err, size_t errlen)
{
	int rc = SP_ECONFIG, r;
	uint8_t *buf = NULL;
	size_t len = 0;
	char real[PATH_MAX];
	struct cctx *x = NULL;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !out)
		return SP_EINVAL;
	memset(out, 0, sizeof *out);
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (err && errlen)
			snprintf(err, errlen, "%s: is a directory, not a configuration file (e.g. %s/seinpost.conf)",
			         path, path);
		rc = SP_ECONFIG;
		goto out;
	}
	if ((r = sp_file_read(path, CONFIG_MAX_FILE, &buf, &len)) != SP_OK) {
		if (err && errlen)
			snprintf(err, errlen, "%s:0: cannot read: %s", path, r == SP_ENOTFOUND ? "no such file" : sp_strerror(r));
		rc = r;
		goto out;
	}
	x = calloc(1, sizeof *x);
	if (!x) {
		rc = SP_ENOMEM;
		goto out;
	}
	x->c = out;
	x->rd.buf = buf;
	x->rd.len = len;
	/* Absolute, so resolved paths survive a later chdir("/"). */
	if (!realpath(path, real) || strlen(real) >= sizeof out->path ||
	    sp_path_dirname(real, x->dir, sizeof x->dir) != SP_OK) {
		fail(x, 1, "cannot resolve the configuration's directory");
		goto report;
	}
	strcpy(out->path, real);
	for (size_t i = 0; i < NCKEYS; i++) {
		char *slot = (char *)out + ckeys[i].off;
		if (ckeys[i].type == C_MB)
			*(uint64_t *)slot = (uint64_t)ckeys[i].def << 20;
		else if (ckeys[i].type == C_KB)
			*(uint32_t *)slot = (uint32_t)ckeys[i].def << 10;
		else if (ckeys[i].type == C_U32)
			*(uint32_t *)slot = (uint32_t)ckeys[i].def;
	}
	strcpy(out->log, "auto");

	r = ini_parse_stream(sp_ini_read_line, &x->rd, handler, x);
	if (r > 0 && (!x->rd.err_line || r < x->rd.err_line)) {
		x->rd.err_line = 0;
		fail(x, r, "syntax error: expected [section], key = value or a comment");
	} else if (!x->rd.err_line && r < 0) {
		fail(x, 1, "cannot parse (inih error %d)", r);
	}
	if (!x->rd.err_line && x->rd.header_seq && x->rd.cur_seq != x->rd.header_seq)
		fail(x, x->rd.header_line, "empty section");
	if (!x->rd.err_line && !out->role)
		fail(x, x->rd.line, "missing 'role' in [seinpost] (broker or node)");
	check_roles(x);
	if (!x->rd.err_line && out->role == SP_RUN_BROKER && !out->org[0])
		strcpy(out->org, "broker");
report:
	if (x->rd.err_line) {
		if (err && errlen)
			snprintf(err, errlen, "%s:%d: %s", path, x->rd.err_line, x->rd.err);
		goto out;
	}
	rc = SP_OK;
out:
	if (rc != SP_OK) {
		/* Leave nothing half-set behind, the operator key included. */
		memset(out, 0, sizeof *out);
	}
	free(x);
	free(buf);
	return rc;
}

int sp_config_submit_socket(const sp_config *c, char *out, size_t outlen)
{
	struct sockaddr_un sun;
	int rc;
	if (!c || !out || !c->state_dir[0])
		return SP_EINVAL;
	rc = sp_path_join(c->state_dir, "submit.sock", out, outlen);
	if (rc != SP_OK)
		return rc;
	/* bind() would truncate silently; say so now instead. */
	if (strlen(out) >= sizeof sun.sun_path)
		return SP_ESIZE;
	return SP_OK;
}
