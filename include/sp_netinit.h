/*
 * sp_netinit.h — `seinpost net init`: a complete local test network.
 *
 * A thin wrapper over the enrolment steps (sp_network.h): `network create
 * DIR` (operator key in DIR/operator/, roster DIR/roster.bin, broker in
 * DIR/broker/), then for each organisation `keygen DIR/<id>/keys --org
 * --role`, `roster add`, and `node config DIR/<id>` with test settings:
 * state/ next to each configuration, 127.0.0.1, logs to stderr. Partner
 * nodes get pseudo.key (0600); the broker never does. With --pseudonymisers
 * N, network create also makes the service (sp_network_oprf.c: DIR/pseudo-mh,
 * or DIR/pseudo-mh-1..N from a local DKG) and every node pins its key.
 */
#ifndef SP_NETINIT_H
#define SP_NETINIT_H

#include <stddef.h>
#include "sp_error.h"
#include "sp_roster.h"

typedef struct sp_netinit_org {
	char role[SP_ROLE_MAX];
	char id[SP_ID_MAX];
} sp_netinit_org;

typedef struct sp_netinit_opts {
	const char *dir;
	const char *network;        /* roster network name */
	const char *policy_src;     /* policy file to copy */
	const sp_netinit_org *orgs; /* NULL = the defaults */
	size_t norgs;
	unsigned port;              /* broker port on 127.0.0.1 */
	unsigned pseudonymisers;    /* 0; 1: a service "pseudo-mh"; n: "pseudo-mh-1".."-n", t-of-n */
	unsigned threshold;         /* t for n > 1 (2..n), from a DKG run locally */
	unsigned oprf_port;         /* its port on 127.0.0.1 (0 = port + 1) */
} sp_netinit_opts;

/* The default organisations: police, school, youthcare, zvh, privacy-officer (fg-mh). */
extern const sp_netinit_org sp_netinit_default_orgs[];
extern const size_t sp_netinit_default_norgs;

int sp_netinit(const sp_netinit_opts *o, char *err, size_t errlen) SP_MUST_CHECK;

#endif
