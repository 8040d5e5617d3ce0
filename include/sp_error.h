/*
 * sp_error.h — one return rule for all of seinpost.
 *
 * A function that can fail returns int: 0 (SP_OK) on success, a negative
 * SP_E* code otherwise. sp_strerror() turns a code into a short, fixed,
 * English message that never contains personal data.
 */
#ifndef SP_ERROR_H
#define SP_ERROR_H

#define SP_MUST_CHECK __attribute__((warn_unused_result))

enum sp_err {
	SP_OK = 0,
	SP_ENOMEM = -1,      /* out of memory */
	SP_EIO = -2,         /* file or system I/O failed (see errno) */
	SP_EINVAL = -3,      /* invalid argument (programmer or user) */
	SP_EBSN = -4,        /* BSN fails the elfproef or has the wrong form */
	SP_ECATEGORY = -5,   /* category not in the sharing policy */
	SP_EWEIGHT = -6,     /* weight out of range 1..3 */
	SP_ESIZE = -7,       /* a field or frame is too large */
	SP_EORG = -8,        /* organisation not on the roster */
	SP_EKEY = -9,        /* key missing, malformed or unknown */
	SP_ESIG = -10,       /* signature does not verify */
	SP_EPOLICY = -11,    /* grants exceed what the policy allows */
	SP_EPOLICYVER = -12, /* policy version (hash) differs from the one loaded */
	SP_EREPLAY = -13,    /* already seen (replay) */
	SP_EEXPIRED = -14,   /* expired */
	SP_ECLOCK = -15,     /* timestamp too far in the future or past */
	SP_EMALFORMED = -16, /* frame or file cannot be decoded or misses fields */
	SP_EPERM = -17,      /* file permissions too open, or access denied */
	SP_EDB = -18,        /* LMDB error */
	SP_EMAPFULL = -19,   /* LMDB map full: grow map_size */
	SP_ENOTFOUND = -20,  /* no such record */
	SP_ECRYPTO = -21,    /* decryption or authentication failed */
	SP_ECONFIG = -22,    /* configuration invalid */
	SP_ESENDER = -23,    /* claimed sender differs from the proven CURVE identity */
	SP_EEXIST = -24,     /* already exists */
	SP_ENOGRANT = -25,   /* this organisation holds no grant for that tier */
	SP_ECORRUPT = -26,   /* stored data is corrupt (chain or checksum broken) */
	SP_ETIMEOUT = -27,   /* no answer in time */
	SP_EROLE = -28,      /* role not allowed to do this */
	SP_EDATE = -29,      /* date malformed or impossible */
	SP_EBUSY = -30,      /* in use by another process (already running) */
	SP_ESCHEMA = -31,    /* store layout version unknown to this binary */
	SP_ELIMIT = -32,     /* a policy [limits ROLE] ceiling or rate was reached */
	SP_EREVOKED = -33,   /* organisation removed from the roster */
	SP_ELAST = -34
};

/* Static string; never NULL. */
const char *sp_strerror(int err);

#endif
