/*
 * sp_policy_tables.h — the tables a referral moves between (op- en
 * afschalen, issue 16): [table ID] sections of the sharing policy.
 *
 *   [table ID]
 *   name            = display name ("Overleg jonge aanwas")
 *   kind            = person | location | business (a comma list)
 *   members         = role:tier, role:tier ...   (the highest tier each may see)
 *   next            = ID of the table a scale-up goes to (optional)
 *   requires_reason = facts   (optional: a move here records "concrete feiten")
 *
 * An [escalation] names its entry table (`table = ID`). A table's member
 * sees, of each signal in the referral, the grants sealed for its role at
 * submit (on-escalation, or given at once) up to its tier; nothing else: a
 * move can only release what was sealed, conditionally, when the signal was
 * submitted. So the checker refuses a member tier that no rule seals for
 * that role on escalation, for each subject kind of the table.
 *
 * Parsing is sp_policy.c's table-driven reader (a row in its `kinds`); this
 * module parses the member list at the end of a section and checks the
 * tables against each other, the rules and the escalations once the whole
 * file is read.
 */
#ifndef SP_POLICY_TABLES_H
#define SP_POLICY_TABLES_H

#include <stddef.h>
#include "sp_policy.h"

#define SP_TABLE_MEMBERS_MAX 16

typedef struct sp_policy_member {
	char role[32];
	int tier;                    /* enum sp_tier: the highest tier it may see */
} sp_policy_member;

typedef struct sp_policy_table {
	const char *id;
	const char *name;            /* display name */
	unsigned kind_mask;          /* SP_POLICY_KIND_BIT of each subject kind */
	const char *members_text;    /* as written */
	const char *next;            /* scale-up goes here; NULL = top of its ladder */
	const char *requires_reason; /* "facts" or NULL */
	sp_policy_member members[SP_TABLE_MEMBERS_MAX];
	size_t nmembers;
	int line;
} sp_policy_table;

/* The policy's tables (owned by the policy; sp_policy.c grows the array). */
typedef struct sp_policy_tables {
	sp_policy_table *v;
	size_t n, cap;
} sp_policy_tables;

const sp_policy_tables *sp_policy_tables_of(const sp_policy *p);
size_t sp_policy_table_count(const sp_policy *p);
const sp_policy_table *sp_policy_table_at(const sp_policy *p, size_t i);
const sp_policy_table *sp_policy_table_find(const sp_policy *p, const char *id);

/* The tier the role may see at table t, or -1 when it is no member. */
int sp_policy_table_tier(const sp_policy_table *t, const char *role);
/* Position on its ladder: 1 when to is reached from from by `next` (a
 * scale-up), -1 when from is reached from to (a scale-down), 0 otherwise
 * (another ladder, or the same table). */
int sp_policy_table_direction(const sp_policy *p, const sp_policy_table *from, const sp_policy_table *to);
/* The table whose `next` is t (one below it), or NULL. */
const sp_policy_table *sp_policy_table_below(const sp_policy *p, const sp_policy_table *t);

/* For sp_policy.c's reader: the section-end check of one [table] (parses
 * members_text into members); a static message or NULL. */
const char *sp_policy_table_check(const void *obj);
/* After the whole file: next and escalation references, loops, kinds, the
 * coordinator's membership and the sealed-tier rule. 0, or -1 with *line
 * and msg set. */
int sp_policy_tables_validate(const sp_policy *p, int *line, char *msg, size_t msglen);

/* For `policy check`: the tables and their ladders. */
void sp_policy_tables_print(const sp_policy *p, FILE *out);

#endif
