/*
 * sp_bsn.c — subject identifiers: BSN (elfproef), KvK number, BAG id, dates.
 *
 * These are the only gate between what a case system types and the
 * identifier that gets pseudonymised, so they are strict: digits only
 * (plus the separators people actually type), exact lengths, no guessing.
 */
#include "sp_bsn.h"

#include <string.h>
#include <time.h>

/* Copy the digits of in into out (at most max digits), skipping the
 * separators in `skip`. Returns the digit count, or -1 on any other
 * character or too many digits. */
static int collect_digits(const char *in, const char *skip, char *out, size_t max)
{
	size_t n = 0;
	if (!in)
		return -1;
	for (const char *p = in; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			if (n >= max)
				return -1;
			out[n++] = *p;
		} else if (!strchr(skip, *p)) {
			return -1;
		}
	}
	out[n] = '\0';
	return (int)n;
}

int sp_bsn_normalise(const char *in, char out[SP_BSN_LEN + 1])
{
	char d[SP_BSN_LEN + 1];
	int n, rc = SP_EBSN, sum = 0, nonzero = 0;

	n = collect_digits(in, " .", d, SP_BSN_LEN);
	if (n == SP_BSN_LEN - 1) {
		/* Old BSNs/sofinummers are often written without the leading zero. */
		memmove(d + 1, d, SP_BSN_LEN);
		d[0] = '0';
		n = SP_BSN_LEN;
	}
	if (n != SP_BSN_LEN)
		goto out;
	for (int i = 0; i < SP_BSN_LEN; i++) {
		int v = d[i] - '0';
		nonzero |= v;
		sum += (i == SP_BSN_LEN - 1) ? -v : v * (SP_BSN_LEN - i);
	}
	if (!nonzero || sum % 11 != 0)
		goto out;
	memcpy(out, d, SP_BSN_LEN + 1);
	rc = SP_OK;
out:
	if (rc != SP_OK)
		memset(out, 0, SP_BSN_LEN + 1);
	memset(d, 0, sizeof d);
	return rc;
}

static int fixed_digits(const char *in, char *out, size_t len)
{
	char d[32];
	int n = collect_digits(in, " ", d, len);
	if (n != (int)len) {
		memset(out, 0, len + 1);
		return SP_EINVAL;
	}
	memcpy(out, d, len + 1);
	return SP_OK;
}

int sp_kvk_normalise(const char *in, char out[9])
{
	return fixed_digits(in, out, 8);
}

int sp_bag_normalise(const char *in, char out[17])
{
	return fixed_digits(in, out, 16);
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int sp_date_check(const char *s)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y = 0, m = 0, d = 0;
	time_t now;
	struct tm tm;

	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return SP_EDATE;
	for (int i = 0; i < 10; i++) {
		if (i == 4 || i == 7)
			continue;
		if (s[i] < '0' || s[i] > '9')
			return SP_EDATE;
	}
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return SP_EDATE;
	if (d > mdays[m - 1] + (m == 2 && leap(y)))
		return SP_EDATE;
	/* Not in the future: local date, as the professional typing it sees it. */
	now = time(NULL);
	if (!localtime_r(&now, &tm))
		return SP_EDATE;
	if (y * 10000 + m * 100 + d > (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday)
		return SP_EDATE;
	return SP_OK;
}
