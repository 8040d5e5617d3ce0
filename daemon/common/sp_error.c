/* sp_error.c — fixed messages for SP_E* codes (never personal data). */
#include "sp_error.h"

static const char *const messages[] = {
	[0] = "ok",
	[1] = "out of memory",
	[2] = "I/O error",
	[3] = "invalid argument",
	[4] = "invalid BSN (fails the elfproef or is not 8-9 digits)",
	[5] = "unknown category (not in the sharing policy)",
	[6] = "weight out of range (must be 1, 2 or 3)",
	[7] = "too large",
	[8] = "unknown organisation (not on the roster)",
	[9] = "key missing, malformed or unknown",
	[10] = "signature does not verify",
	[11] = "grants exceed the sharing policy",
	[12] = "policy version differs from the one in force",
	[13] = "replay: already seen",
	[14] = "expired",
	[15] = "timestamp outside the allowed clock skew",
	[16] = "malformed input",
	[17] = "permission denied or file permissions too open",
	[18] = "database error",
	[19] = "database full (raise map_size_mb)",
	[20] = "not found",
	[21] = "decryption failed",
	[22] = "invalid configuration",
	[23] = "claimed sender differs from the authenticated organisation",
	[24] = "already exists",
	[25] = "no grant for this organisation",
	[26] = "stored data is corrupt",
	[27] = "timed out",
	[28] = "role not allowed",
	[29] = "invalid date (expected YYYY-MM-DD, a real past date)",
	[30] = "in use by another process",
	[31] = "store layout version unknown to this seinpost (see the log)",
	[32] = "limit reached (policy [limits])",
	[33] = "organisation revoked",
};

const char *sp_strerror(int err)
{
	int i = -err;
	if (i < 0 || i >= (int)(sizeof(messages) / sizeof(messages[0])) || !messages[i])
		return "unknown error";
	return messages[i];
}
