/*
 * sp_report_entry.h — what sp_report.c (collecting the records, who-saw as
 * text and JSON) and sp_report_art15.c (the art. 15 page and its JSON)
 * share. Private to those two files.
 */
#ifndef SP_REPORT_ENTRY_H
#define SP_REPORT_ENTRY_H

#include <jansson.h>
#include <stdint.h>

#include "sp_report.h"
#include "sp_signal.h"
#include "sp_util.h"

struct entry {
	uint64_t seq, time;
	int event;
	char org[64], user[72], unix_user[40], to[64], rule[64], basis[256], category[64], signal[SP_ID_HEX];
	char reason[160];      /* released, referral status: the broker's words (no personal data) */
	uint32_t weight, tiers;
	int proven;
	int extra;             /* for the art. 15 report only, not a who-saw entry */
	char *record;          /* base64 of the stored record bytes (proof), or NULL */
	char *path;            /* inclusion path: hex hashes, comma-separated, or NULL */
};

#define MAX_WARNINGS 8

struct sp_report {
	struct entry *e;
	size_t n, cap;
	uint64_t head_size, head_time;
	uint8_t head_root[32];
	int head_verified;
	uint8_t head_sig[64];
	int have_sig;
	char pseudonym[65];
	struct earlier { /* after key rotations: the subject's earlier pseudonyms, proven */
		uint32_t epoch;
		char pseudonym[65], d[65], proof[129];
	} earlier[16];
	size_t nearlier;
	char warn[MAX_WARNINGS][320];
	size_t nwarn;
	const struct sp_policy *policy; /* art. 15 context (borrowed), may be NULL */
	const struct sp_roster *roster;
	int lang;
};

/* Sort by time and give reads the rule and basis of their disclosure
 * (idempotent; the report is logically const). */
void sp_report_finish(const sp_report *r);
/* Add the art. 15 items (disclosures, sources, events, art15, lang) to o. */
void sp_report_art15_json(const sp_report *r, json_t *o);

#endif
