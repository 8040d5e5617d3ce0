/*
 * sp_policy_values.h — value syntaxes of the sharing policy (internal to
 * the policy reader: sp_policy.c, sp_policy_values.c). 0 on success, -1
 * when the text is not of the form (the caller words the error).
 */
#ifndef SP_POLICY_VALUES_H
#define SP_POLICY_VALUES_H

/* "1-3", "2,3", "3", "1, 3": bit w set for weight w. */
int sp_policy_parse_weights(const char *v, unsigned *mask);
/* "730 days", "12 hours", "30 seconds" -> seconds, at most max_days. */
int sp_policy_parse_duration(const char *v, long max_days, unsigned *out);
/* Decimal digits only. */
int sp_policy_parse_long(const char *v, long *out);
/* "none", "person", "business", "location" -> the wire's SubjectKind, -1. */
int sp_policy_kind_parse(const char *w);

/* The first word of a profiling list (ethnicity, nationality, religion)
 * found in text, or NULL (a guard rail, not a proof; docs/decisions.md). */
const char *sp_policy_profiling_word(const char *text);

#endif
