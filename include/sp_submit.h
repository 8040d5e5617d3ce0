/*
 * sp_submit.h — node side: turn a submit request into a sealed, signed signal.
 *
 * Validation happens here, before anything is stored: subject id (BSN
 * elfproef / KvK / BAG), category known to the policy, weight 1..3 (0 = the
 * category's default), field sizes and dates. Messages written to `why` name
 * the field, never its content.
 */
#ifndef SP_SUBMIT_H
#define SP_SUBMIT_H

#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_kh.h"
#include "sp_policy.h"
#include "sp_roster.h"
#include "seinpost.pb-c.h"

typedef struct sp_submit_ctx {
	const char *org;                 /* our roster id */
	sp_kh *kh;                       /* signs and pseudonymises (the key holder) */
	const sp_roster *roster;
	const sp_policy *policy;
	uint64_t now_s;
	const uint8_t *id;               /* 16 bytes: the id given when it was held (sp_awaiting.h); NULL: new */
} sp_submit_ctx;

/* *out: serialised Signal (malloc'd). */
int sp_submit_build(const sp_submit_ctx *c, const Seinpost__SubmitRequest *req,
                    uint8_t **out, size_t *outlen, uint8_t id[16],
                    char *why, size_t whylen) SP_MUST_CHECK;

/* Normalise and pseudonymise a subject id of kind (0 = person) with the
 * current epoch. Used by submit and by involvement. */
int sp_submit_pseudonym(sp_kh *kh, int kind, const char *subject_id,
                        uint8_t out[32], uint32_t *epoch, char *why, size_t whylen) SP_MUST_CHECK;
/* The same, naming the purpose the pseudonymisation service audits
 * (OprfPurpose: 2 submit, 3 involve) when the node uses it. */
int sp_submit_pseudonym_for(sp_kh *kh, int purpose, int kind, const char *subject_id, uint8_t out[32],
                            uint32_t *epoch, char *why, size_t whylen) SP_MUST_CHECK;

#endif
