/*
 * sp_policy.h — the sharing policy (AVG rules by the weight of a signal).
 *
 * An INI file a privacy officer can read and sign off (format: seinpost-policy(5),
 * example: deploy/policy.example), parsed with libinih, validated strictly
 * with line-numbered errors. Its version is the BLAKE2b-256 hash of the file
 * bytes; that hash travels in every signal and audit record.
 *
 *   [policy]            version, name, owner
 *   [category <id>]     description, default_weight, retention_days
 *   [rule <id>]         category, weights, role, tiers, when, basis, purpose
 *   [escalation <id>]   window_days, min_orgs, min_weight_sum, min_weight,
 *                       to_role, basis, purpose
 *   [match <id>]        window_days, basis, purpose
 *   [table <id>]        name, kind, members, next, requires_reason (sp_policy_tables.h)
 *   [limits <role>]     max_involvements, involvements_per_day, release_back_days
 *                       (sp_limits.h; the pseudonymisation service's rate
 *                       limits use the same section)
 *
 * Retention: a category's retention_days is the default; retention_w1..w3
 * (per weight) and retention_escalated (kept longer once part of a referral)
 * are optional durations ("730 days", "12 hours", "30 seconds").
 *
 * A rule says: for signals of <category> with weight in <weights>, an
 * organisation of <role> may receive <tiers> <when>. Every tier a role gets
 * is the union over matching rules; for each tier the least restrictive
 * `when` applies (immediately < if-involved < on-escalation).
 */
#ifndef SP_POLICY_H
#define SP_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "sp_error.h"
#include "sp_roster.h"

#define SP_POLICY_HASH_BYTES 32

typedef struct sp_policy sp_policy; /* opaque, immutable once loaded */

typedef struct sp_policy_category {
	const char *id;
	const char *description;
	int default_weight;          /* 1..3 */
	unsigned retention_days;     /* how long the broker keeps signals */
	unsigned retention_w[4];     /* seconds per weight 1..3; 0 = retention_days */
	unsigned retention_escalated;/* seconds once escalated; 0 = as by weight */
	int line;
} sp_policy_category;

/* An escalation rule: within window_days, per subject, when every condition
 * that is set (nonzero) holds, a referral goes to the orgs of to_role and
 * their on-escalation grants of the signals in the window are released. */
typedef struct sp_policy_escalation {
	const char *id;
	unsigned window_days;
	unsigned min_orgs;           /* distinct signalling orgs */
	unsigned min_weight_sum;     /* summed weight */
	int min_weight;              /* at least one signal of this weight */
	unsigned kind_mask;          /* subject kinds it fires for (default: persons) */
	const char *to_role;
	const char *table;           /* entry [table] of its referrals, NULL = none (sp_policy_tables.h) */
	const char *basis;
	const char *purpose;
	int line;
} sp_policy_escalation;

/* A match rule (Verwijsindex-like): an organisation that signalled about a
 * subject within window_days counts as involved with it, so if-involved
 * grants flow between the organisations that signal about the same subject. */
/* [limits ROLE]: what one organisation of ROLE may do (sp_limits.h).
 * 0 = no limit, except release_back_days, where SP_LIMITS_UNSET = none. */
typedef struct sp_policy_limits {
	const char *role;
	unsigned max_involvements;      /* active involvements per organisation */
	unsigned involvements_per_day;  /* new registrations per organisation per UTC day */
	unsigned release_back_days;     /* a new involvement releases signals at most this old */
	unsigned oprf_per_day;          /* pseudonymisation service: evaluations per organisation per
	                                 * UTC day, per instance (default SP_LIMIT_OPRF_PER_DAY_DEFAULT) */
	unsigned oprf_per_request;      /* ... elements in one request */
	int line;
} sp_policy_limits;
#define SP_LIMIT_OPRF_PER_DAY_DEFAULT 100000u
#define SP_LIMIT_OPRF_PER_REQUEST_DEFAULT 4096u

typedef struct sp_policy_match {
	const char *id;
	unsigned window_days;
	const char *basis;
	const char *purpose;
	int line;
} sp_policy_match;

/* Subject kinds a rule or escalation applies to: bit (1 << kind) with the
 * wire's SubjectKind numbers (0 none: an anonymous report, 1 person,
 * 2 business/KvK, 3 location/BAG). A rule without `kind` is for persons. */
#define SP_POLICY_KIND_BIT(k) ((unsigned)(k) < 4 ? 1u << (unsigned)(k) : 0u)
#define SP_POLICY_KIND_DEFAULT SP_POLICY_KIND_BIT(1)

typedef struct sp_policy_rule {
	const char *id;
	const char *category;
	unsigned kind_mask;          /* SP_POLICY_KIND_BIT of each subject kind */
	unsigned weight_mask;        /* bit w set = applies to weight w (1..3) */
	const char *role;
	unsigned tiers_mask;         /* bit (1 << sp_tier); existence = bit 0 */
	int when;                    /* enum sp_when */
	const char *basis;           /* legal basis, e.g. "AVG art. 6(1)(e); Jeugdwet art. 7.1.1.1" */
	const char *purpose;         /* purpose limitation text */
	int line;
} sp_policy_rule;

/* On failure *out is NULL and err holds "FILE:LINE: message". */
int sp_policy_load(const char *path, sp_policy **out, char *err, size_t errlen) SP_MUST_CHECK;
void sp_policy_free(sp_policy **p);

const uint8_t *sp_policy_hash(const sp_policy *p);     /* 32 bytes */
const char *sp_policy_version(const sp_policy *p);
const char *sp_policy_name(const sp_policy *p);
/* [limits ROLE] of that role, NULL when the policy sets none. */
const sp_policy_limits *sp_policy_limits_find(const sp_policy *p, const char *role);
size_t sp_policy_limits_count(const sp_policy *p);
const sp_policy_limits *sp_policy_limits_at(const sp_policy *p, size_t i);
const char *sp_policy_owner(const sp_policy *p);     /* the [policy] version string */
/* Events told back to the sender of a signal (terugkoppeling): [policy]
 * feedback = a comma list; every event when the key is absent. */
enum sp_feedback_event {
	SP_FEEDBACK_DELIVERED = 0, /* to a recipient of role R */
	SP_FEEDBACK_OPENED,        /* a user at an organisation of role R opened it */
	SP_FEEDBACK_MATCHED,       /* an organisation of role R signalled about the same subject */
	SP_FEEDBACK_ESCALATED,     /* it became part of a referral to role R */
	SP_FEEDBACK_REFERRAL,      /* the status of that referral changed */
	SP_FEEDBACK_TABLE,         /* that referral moved up or down to another table */
	SP_FEEDBACK_COUNT
};
int sp_policy_feedback_parse(const char *name);   /* -1 when unknown */
const char *sp_policy_feedback_name(int event);   /* static */
unsigned sp_policy_feedback_mask(const sp_policy *p); /* bit (1 << event) */
/* Intervention types a coordinator may record on a referral ([policy]
 * interventions = a comma list). */
int sp_policy_intervention_known(const sp_policy *p, const char *type);
const char *sp_policy_interventions(const sp_policy *p); /* the list as written, "" */
/* May an organisation of this role enter anonymous resident reports (Meld
 * Misdaad Anoniem, conversations with residents)? `[policy] resident_reports
 * = ROLE, ...`; default: the municipality only. */
int sp_policy_resident_reports_allowed(const sp_policy *p, const char *role);
/* k of the trend figures' small-cell suppression ([policy] stats_min_cell, default 5). */
unsigned sp_policy_stats_min_cell(const sp_policy *p);

const sp_policy_category *sp_policy_category_find(const sp_policy *p, const char *id);
size_t sp_policy_category_count(const sp_policy *p);
const sp_policy_category *sp_policy_category_at(const sp_policy *p, size_t i);
size_t sp_policy_rule_count(const sp_policy *p);
const sp_policy_rule *sp_policy_rule_at(const sp_policy *p, size_t i);

size_t sp_policy_escalation_count(const sp_policy *p);
const sp_policy_escalation *sp_policy_escalation_at(const sp_policy *p, size_t i);
size_t sp_policy_match_count(const sp_policy *p);
const sp_policy_match *sp_policy_match_at(const sp_policy *p, size_t i);
const sp_policy_rule *sp_policy_rule_find(const sp_policy *p, const char *id);

/* Seconds a signal of category/weight may be kept (escalated: once part of
 * a referral). 0 when the category is unknown. */
uint64_t sp_policy_retention_s(const sp_policy *p, const char *category, int weight,
                               int escalated);

/* What one role may get for a subject kind, category and weight: for each tier, the
 * least restrictive `when` and the rule that gives it (NULL = nothing). */
typedef struct sp_entitlement {
	int when[4];                        /* 0 = not entitled, else enum sp_when */
	const sp_policy_rule *rule[4];
} sp_entitlement;
void sp_policy_entitlement(const sp_policy *p, int kind, const char *category, int weight,
                           const char *role, sp_entitlement *out);

/* 0 when a grant of `tier` with `mode` to an org of `role` is within policy:
 * some rule gives that tier with a `when` equal to or less restrictive than
 * mode. SP_EPOLICY otherwise. *rule_out (may be NULL) = the rule. */
int sp_policy_allows(const sp_policy *p, int kind, const char *category, int weight,
                     const char *role, int tier, int mode,
                     const sp_policy_rule **rule_out) SP_MUST_CHECK;

/* The grants a sender must include: every roster org other than the sender
 * (and other than privacy-officer roles) with an entitlement, one spec per
 * (org, tier >= contact). Returns count in *n (specs borrow roster memory;
 * free *out with free()). */
struct sp_grant_spec;
int sp_policy_grants_for(const sp_policy *p, const sp_roster *r, const char *sender,
                         int kind, const char *category, int weight,
                         struct sp_grant_spec **out, size_t *n) SP_MUST_CHECK;

/* "none", "person", "business", "location" (static). */
const char *sp_policy_kind_name(int kind);

/* Human-readable who-may-see-what table (for `seinpost policy check`). */
void sp_policy_print(const sp_policy *p, FILE *out);

#endif
