/*
 * sp_policy_values.c — the policy's value syntaxes (weights, durations,
 * numbers, subject kinds) and the profiling guard rail, for sp_policy.c's
 * table-driven reader.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sp_policy.h"
#include "sp_policy_values.h"

static const char *skipws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* "1-3", "2,3", "3", "1, 3": bit w set for weight w. */
int sp_policy_parse_weights(const char *v, unsigned *mask)
{
	unsigned m = 0;
	const char *s = v;
	for (;;) {
		int lo, hi;
		s = skipws(s);
		if (*s < '1' || *s > '3')
			return -1;
		lo = hi = *s++ - '0';
		s = skipws(s);
		if (*s == '-') {
			s = skipws(s + 1);
			if (*s < '1' || *s > '3')
				return -1;
			hi = *s++ - '0';
			if (hi <= lo)
				return -1;
			s = skipws(s);
		}
		for (int w = lo; w <= hi; w++) {
			if (m & (1u << w))
				return -1;
			m |= 1u << w;
		}
		if (*s == '\0')
			break;
		if (*s != ',')
			return -1;
		s++;
	}
	*mask = m;
	return 0;
}

/* Subject kinds by name, numbered as the wire's SubjectKind. */
int sp_policy_kind_parse(const char *w)
{
	static const char *const names[] = { "none", "person", "business", "location" };
	for (int k = 0; k < 4; k++)
		if (strcmp(w, names[k]) == 0)
			return k;
	return -1;
}

const char *sp_policy_kind_name(int kind)
{
	static const char *const names[] = { "none", "person", "business", "location" };
	return kind >= 0 && kind < 4 ? names[kind] : "unknown";
}

/* "730 days", "12 hours", "30 seconds": seconds; a privacy officer reads
 * the unit, so it is required. */
int sp_policy_parse_duration(const char *v, long max_days, unsigned *out)
{
	static const struct { const char *unit; unsigned long s; } units[] = {
		{ "day", 86400 }, { "days", 86400 }, { "hour", 3600 }, { "hours", 3600 },
		{ "minute", 60 }, { "minutes", 60 }, { "second", 1 }, { "seconds", 1 },
	};
	char *end;
	unsigned long n;
	if (!(*v >= '0' && *v <= '9'))
		return -1;
	n = strtoul(v, &end, 10);
	if (end == v || n == 0 || n > (unsigned long)max_days * 86400u)
		return -1;
	end = (char *)skipws(end);
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(end, units[i].unit) == 0) {
			if (n > (unsigned long)max_days * 86400u / units[i].s)
				return -1;
			*out = (unsigned)(n * units[i].s);
			return 0;
		}
	return -1;
}

int sp_policy_parse_long(const char *v, long *out)
{
	char *end;
	long x;
	if (!(*v >= '0' && *v <= '9'))
		return -1;
	x = strtol(v, &end, 10);
	if (*end != '\0')
		return -1;
	*out = x;
	return 0;
}

/* Data on ethnicity, nationality or religion has no place in a signal: the
 * seeds ask to prevent stigmatising and ethnic profiling ("voorkomen van
 * stigmatiseren en etnisch profileren"). A keyword list is a guard rail
 * against a category set up by mistake, not a proof (docs/decisions.md). */
const char *sp_policy_profiling_word(const char *text)
{
	static const char *const words[] = {
		"ethnic", "etnic", "etnisch", "afkomst", "herkomst", "migratieachtergrond",
		"migration background", "nationality", "nationaliteit", "religion", "religie",
		"religious", "religieus", "geloof", "race", "ras ", "skin colo", "huidskleur",
	};
	if (!text)
		return NULL;
	for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
		size_t n = strlen(words[w]);
		for (const char *s = text; *s; s++) {
			if (strncasecmp(s, words[w], n) != 0)
				continue;
			/* whole words only at the start: "race" is not "trace" */
			if (s > text && ((s[-1] >= 'a' && s[-1] <= 'z') || (s[-1] >= 'A' && s[-1] <= 'Z')))
				continue;
			if (strcmp(words[w], "race") == 0 && (s[4] >= 'a' && s[4] <= 'z'))
				continue;
			return words[w];
		}
	}
	return NULL;
}
