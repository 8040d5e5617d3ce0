/*
 * sp_netinit.h — `seinpost net init`: a complete local test network.
 *
 * DIR/broker/ and DIR/<org-id>/ each hold keys/ (0700), seinpost.conf,
 * roster.bin (signed by the broker's operator key), policy.ini (copy of the
 * policy) and state/. Partner nodes also get pseudo.key (0600), the shared
 * pseudonymisation key; the broker never does.
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
} sp_netinit_opts;

/* The default organisations: police, school, youthcare, zvh, privacy-officer (fg-mh). */
extern const sp_netinit_org sp_netinit_default_orgs[];
extern const size_t sp_netinit_default_norgs;

int sp_netinit(const sp_netinit_opts *o, char *err, size_t errlen) SP_MUST_CHECK;

#endif
