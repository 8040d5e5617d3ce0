/*
 * sp_config.h — seinpostd / seinpost configuration (INI, libinih, table-driven).
 *
 * See seinpost.conf(5). Relative paths are resolved against the directory of
 * the configuration file. Unknown sections or keys are errors with file:line.
 * Without "state =", the state directory is $STATE_DIRECTORY (systemd's
 * StateDirectory=) or /var/lib/seinpost/NAME for a file in .../NAME/.
 *
 *   [seinpost]  role = broker|node|pseudonymiser, org, keys, state, roster, operator_key,
 *               policy, pseudonym_key (nodes only), log = auto|journal|stderr,
 *               verbose
 *   [broker]    listen          (broker) tcp://127.0.0.1:7700
 *               endpoint        (node)   where the broker is
 *   [limits]    map_size_mb, max_frame_kb, heartbeat_ms, retry_ms,
 *               max_clock_skew_s
 *   [audit]     sth_every_records, sth_every_s (broker: signed tree heads)
 *   [spool]     in (node): directory a partner system drops JSON files into
 *   [hook]      command, timeout_s, retry_s, out (node): hand each received
 *               signal or referral to the organisation's own systems
 *   [pseudonymiser] listen (pseudonymiser): its own address;
 *               endpoint, service, key, timeout_ms (node): where the
 *               oblivious pseudonymisation service is, its roster id and
 *               its OPRF public key, pinned at enrolment (sp_oprf_client.h)
 */
#ifndef SP_CONFIG_H
#define SP_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"

/* Where the shipped unit keeps each instance's state (StateDirectory=). */
#define SP_STATE_ROOT "/var/lib/seinpost"

enum sp_role_kind { SP_RUN_BROKER = 1, SP_RUN_NODE = 2, SP_RUN_PSEUDONYMISER = 4 }; /* bits: status masks them */

typedef struct sp_config {
	char path[PATH_MAX];          /* the config file */
	int role;                     /* enum sp_role_kind */
	char org[64];                 /* node: our roster id; broker: "broker" */
	char keys_dir[PATH_MAX];
	char state_dir[PATH_MAX];
	char roster_path[PATH_MAX];
	char policy_path[PATH_MAX];
	char pseudo_key_path[PATH_MAX]; /* empty on the broker (must be) */
	uint8_t operator_pk[32];      /* verifies the roster signature */
	char endpoint[256];           /* broker: bind address; node: connect address */
	char log[16];                 /* auto | journal | stderr */
	int verbose;
	uint64_t map_size;            /* bytes */
	uint32_t max_frame;           /* bytes, ZMQ_MAXMSGSIZE and validation */
	uint32_t heartbeat_ms;
	uint32_t handshake_s;         /* broker: ZMQ_HANDSHAKE_IVL, unauthenticated connections end */
	uint32_t retry_ms;            /* node: resend unacknowledged after this */
	uint32_t max_clock_skew_s;    /* broker: reject signals created further off */
	uint32_t max_refusals;        /* broker: quarantine a delivery refused this often */
	uint32_t sth_every_records;   /* broker: sign a tree head after this many records */
	uint32_t sth_every_s;         /* broker: ... or when this many seconds passed */
	uint32_t max_age_s;           /* broker: reject new signals created longer ago;
	                               * node: give up retrying a deferred signal then */
	uint32_t policy_grace_s;      /* broker: accept the previous policy version this
	                               * long after loading a new one */
	char spool_in[PATH_MAX];      /* node: spool directory, empty = none (docs/spool.md) */
	char hook_command[PATH_MAX];  /* node: executable run per received item, empty = none */
	char hook_out[PATH_MAX];      /* node: spool-out directory, empty = none */
	uint32_t hook_timeout_s;      /* node: a hook running longer is killed and retried */
	uint32_t hook_retry_s;        /* node: first retry delay after a failed hook (doubles) */
	char oprf_endpoint[1024];     /* pseudonymiser: bind address; node: where the service is
	                               * (t-of-n: one endpoint per instance, space-separated) */
	char oprf_service[256];       /* node: the service's roster id(s), empty = none configured */
	uint8_t oprf_pin[32];         /* node: the service's OPRF public key (t-of-n: the group key), pinned */
	uint32_t oprf_timeout_ms;     /* node: no answer from the service within this = unreachable */
} sp_config;

/* Number of space-separated items in a list value (oprf_service, oprf_endpoint). */
size_t sp_config_words(const char *s);
/* The i-th of them into w: SP_ENOTFOUND past the last, SP_ESIZE when it
 * does not fit in wlen. */
int sp_config_word(const char *s, size_t i, char *w, size_t wlen);

/* "broker", "node" or "pseudonymiser" (static). */
const char *sp_config_role_name(int role);

/* Parse and validate. err gets "FILE:LINE: message" on failure. */
int sp_config_load(const char *path, sp_config *out, char *err, size_t errlen) SP_MUST_CHECK;

/* Path of the node's local submit socket: <state>/submit.sock */
int sp_config_submit_socket(const sp_config *c, char *out, size_t outlen) SP_MUST_CHECK;

#endif
