/*
 * sp_render.h — opening a received signal for a reader: verify, decrypt the
 * tiers granted to us, audit the read, describe it as JSON.
 *
 * One code path for every way content leaves the node's store: `seinpost
 * show` (a named user) and the delivery hooks (another system). Both open
 * with sp_render_open, record the read with sp_render_audit before anything
 * is shown or handed over, and describe it with sp_render_json.
 */
#ifndef SP_RENDER_H
#define SP_RENDER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "sp_error.h"
#include "sp_kh.h"
#include "sp_policy.h"
#include "sp_keys.h"
#include "sp_roster.h"
#include "sp_signal.h"
#include "sp_store.h"
#include "seinpost.pb-c.h"

typedef struct sp_render {
	Seinpost__InboxEntry *entry;  /* the decoded inbox entry */
	Seinpost__SignalHeader *h;    /* its header, signature verified */
	sp_opened op;                 /* the tiers granted to us, decrypted */
	unsigned tiers;               /* op.tiers | existence */
	/* Decrypted fields that are not acceptable text (sp_text_problem):
	 * removed from op, wiped, and named here ("summary,name"). The sender's
	 * node refuses such text, so this is a misbehaving sender; what it wrote
	 * never reaches a terminal or a hook. */
	char withheld[96];
	const char *withheld_why;     /* the first problem, a static phrase */
} sp_render;

/* Decode an inbox value, verify the sender's signature against the roster
 * and decrypt what `org` was granted (each grant opened through kh). SP_ECORRUPT (undecodable), SP_ESIG
 * (sender unknown or signature bad), SP_EEXPIRED (past the policy's
 * retention at now_s: the retention sweep may not have deleted it yet, but
 * storage limitation holds from the deadline on), SP_ECRYPTO; why gets a
 * message without personal data. sp_render_clear in every case. */
int sp_render_open(const void *v, size_t vl, const sp_roster *roster, const sp_policy *policy,
                   uint64_t now_s, const char *org, sp_kh *kh,
                   sp_render *out, char *why, size_t whylen) SP_MUST_CHECK;
void sp_render_clear(sp_render *r);

/* Record the read in write txn t: the local READ audit record and the signed
 * read receipt for the broker (sp_reads_queue), user naming who opened it. */
int sp_render_audit(sp_txn *t, const sp_render *r, const char *org, const char *user,
                    sp_kh *kh) SP_MUST_CHECK;

/* The opened signal as a new JSON object: id, from, category, weight,
 * created_at, received_at, tiers (an array of names), signature, rules, referral (when any), ref (our
 * own reference for the subject, when non-empty) and the decrypted fields;
 * "withheld": [field names] when any field was refused. NULL when out of
 * memory. */
json_t *sp_render_json(const sp_render *r, const char *ref);

/* An escalation referral as a new JSON object: id, rule, fired_at, signals
 * (the listed signal ids), hidden, orgs, weight_sum, basis — no pseudonym.
 * The "referral" of sp_render_json; `seinpost referrals --json` adds the
 * subject and replaces signals with what the node holds of each. NULL when
 * out of memory. */
json_t *sp_render_referral_json(const Seinpost__Referral *ref);

/* "contact,summary" for a tier mask. */
void sp_render_tiers(unsigned mask, char *out, size_t len);
/* ["contact", "summary"] for a tier mask: `tiers` in every JSON output
 * (docs/json.md). A new array, NULL when out of memory. */
json_t *sp_render_tiers_json(unsigned mask);

#endif
