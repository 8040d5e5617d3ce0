/*
 * sp_network.h — enrolment steps behind the CLI (docs/enrolment.md):
 * `network create` (operator), `keygen --org --role` and `keys rotate`
 * (organisation), `roster add|remove` (operator), `node config`
 * (organisation). `net init` runs the same steps for a local test network.
 *
 * Operator directory (network create DIR):
 *   DIR/operator/sign.key|.pub  the operator's roster-signing key (0600; keep
 *                               it off the broker machine)
 *   DIR/operator.pub            its public half, for every node's operator_key
 *   DIR/roster.bin              the signed roster (starts empty)
 *   DIR/policy.ini              the sharing policy
 *   DIR/partners/pseudo.key     the partners' pseudonymisation key (never to
 *                               the broker)
 *   DIR/broker/keys/            broker CURVE + sign keys
 *   DIR/broker/seinpost.conf    broker configuration (roster, policy: ../)
 */
#ifndef SP_NETWORK_H
#define SP_NETWORK_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_keys.h"

#define SP_NETWORK_STATE_BASE "/var/lib/seinpost"
#define SP_OVERLAP_DEFAULT_S (7u * 86400) /* old keys admitted one week after a rotation */

typedef struct sp_network_opts {
	const char *dir;
	const char *name;        /* network name in the roster */
	const char *listen;      /* broker endpoint, default tcp://0.0.0.0:7700 */
	const char *policy_src;  /* policy file to copy */
	const char *state;       /* broker state dir; NULL = /var/lib/seinpost/broker */
	int test_limits;         /* net init: short heartbeats and tree-head intervals, log to stderr */
	unsigned pseudonymisers; /* 0; 1: "pseudo-mh"; n: "pseudo-mh-1".."-n" (t-of-n, local DKG) */
	unsigned threshold;      /* t for n > 1 */
	const char *oprf_host;   /* the instances listen on tcp://HOST:PORT+i (default 0.0.0.0) */
	unsigned oprf_port;      /* default 7701 */
} sp_network_opts;

int sp_network_create(const sp_network_opts *o, char *err, size_t errlen) SP_MUST_CHECK;

/* Keys for an organisation (org/role set: also DIR/enrol.json) or a broker.
 * SP_EEXIST without force when DIR already holds a secret key. *out (may be
 * NULL) gets the keys. */
int sp_network_keygen(const char *dir, const char *org, const char *role, int broker, int force,
                      sp_keyset **out, char *err, size_t errlen) SP_MUST_CHECK;

/* Rotate DIR's keys: old ones to DIR/old/<n>/, new ones in DIR, and a new
 * DIR/enrol.json signed by the new and the old sign key. */
int sp_network_rotate(const char *dir, uint64_t overlap_s, char *err, size_t errlen) SP_MUST_CHECK;

/* Add (or, for a rotation, replace the keys of) the organisation in
 * enrol_path; re-sign with the operator key in opdir. msg says what
 * happened. */
int sp_network_roster_add(const char *roster, const char *opdir, const char *enrol_path,
                          char *msg, size_t msglen) SP_MUST_CHECK;
int sp_network_roster_remove(const char *roster, const char *opdir, const char *id, const char *reason,
                             char *msg, size_t msglen) SP_MUST_CHECK;
/* The broker moves to the sign key in new_keys_dir (both keys sign the
 * transition record). */
int sp_network_broker_rotate(const char *roster, const char *opdir, const char *old_keys_dir,
                             const char *new_keys_dir, char *msg, size_t msglen) SP_MUST_CHECK;

typedef struct sp_node_config_opts {
	const char *dir;          /* writes DIR/seinpost.conf, roster.bin, policy.ini, pseudo.key */
	const char *roster;       /* the network's roster.bin */
	const char *broker;       /* tcp://HOST:PORT */
	const char *keys;         /* default DIR/keys */
	const char *state;        /* default /var/lib/seinpost/<org> */
	const char *policy;       /* default policy.ini next to the roster */
	const char *pseudo;       /* default partners/pseudo.key next to the roster */
	const char *operator_pub; /* default operator.pub next to the roster */
	const char *org;          /* default: from KEYS/enrol.json */
	int test_limits;
	const char *oprf_endpoints; /* space-separated, one per pseudonymiser on the roster (index order);
	                               NULL: no [pseudonymiser] section */
} sp_node_config_opts;

int sp_network_node_config(const sp_node_config_opts *o, char *err, size_t errlen) SP_MUST_CHECK;

/* The pseudonymisation service (sp_network_oprf.c, docs/pseudonymiser.md). */
#define SP_PSEUDONYMISER_ID "pseudo-mh"
#define SP_OPRF_PORT_DEFAULT 7701
void sp_network_pseudonymiser_id(unsigned n, unsigned i, char *out, size_t len);
/* keygen --role pseudonymiser: keys without a box key, oprf.key (share:
 * the instance's DKG share, index its Shamir index; NULL = a fresh key)
 * and enrol.json with the OPRF public key. */
int sp_network_keygen_pseudonymiser(const char *dir, const char *org, int force, const uint8_t *share,
                                    uint32_t index, char *err, size_t errlen) SP_MUST_CHECK;
/* In a network made by sp_network_create: n instances NETDIR/pseudo-mh[-i]
 * (keys, enrol.json, seinpost.conf, policy.ini), enrolled on the roster;
 * n > 1: a t-of-n DKG run here (a local network only), the commitments on
 * the roster. */
int sp_network_pseudonymisers(const char *netdir, unsigned n, unsigned t, const char *host, unsigned port, int test,
                              char *err, size_t errlen) SP_MUST_CHECK;
/* A node's [pseudonymiser] section from the roster (empty when endpoints is
 * NULL or the roster lists no pseudonymiser). */
int sp_network_oprf_section(const char *roster, const uint8_t operator_pk[32], const char *endpoints, char *out,
                            size_t outlen, char *err, size_t errlen) SP_MUST_CHECK;

/* Rotation of a local t-of-n network's pseudonymisation key by translation
 * (sp_oprf_rotate.c): new shares, the roster's rotation record, and the
 * broker's translation file, whose path goes to delta_path. */
int sp_network_oprf_rotate(const char *netdir, char *delta_path, size_t dplen, char *err,
                           size_t errlen) SP_MUST_CHECK;
/* The broker's translation file (PseudonymTranslation, 0600). */
int sp_network_translation_write(const char *path, uint32_t epoch, const uint8_t delta[32], const uint8_t d[32],
                                 const uint8_t new_key[32]) SP_MUST_CHECK;

/* Default operator directory for a roster path: <dir of roster>/operator. */
int sp_network_opdir(const char *roster, char *out, size_t outlen) SP_MUST_CHECK;

#endif
