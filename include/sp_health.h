/*
 * sp_health.h — what a running daemon knows about its own health, kept in
 * memory and answered over its local socket (`seinpost status`), so that a
 * full disk can be reported without writing a file on it.
 *
 * Also the one way faults are logged: a fault that repeats (every commit
 * refused while the disk is full) is an *episode*: one line when it starts,
 * one line when it ends, with its length and count ("storage failing for
 * 42 s, 2716 commits refused; resumed"). Nothing per signal in between. An
 * episode ends only after SP_EPISODE_SETTLE_MS without a failure and with at
 * least one success, so a store that succeeds with small commits and fails
 * with large ones does not flap.
 */
#ifndef SP_HEALTH_H
#define SP_HEALTH_H

#include <stdint.h>
#include "sp_store.h"

#define SP_EPISODE_SETTLE_MS 5000
#define SP_READER_CHECK_MS 10000

typedef struct sp_episode {
	const char *comp;       /* log component, static */
	const char *what;       /* "storage failing", static */
	const char *unit;       /* what count counts: "commits refused", static */
	uint64_t since_ms;      /* wall clock at the start; 0 = not active */
	uint64_t start_mono, last_bad_mono;
	int ok_since_bad;       /* a success after the last failure */
	uint64_t count;         /* failures in this episode */
	uint64_t episodes;      /* since the daemon started */
	char reason[192];       /* of the first failure */
} sp_episode;

/* A failure: counted; the first of an episode is logged (LOG_CRIT) with
 * reason, which must hold no personal data. mono/wall: now (0 = read the
 * clocks; tests pass their own). */
void sp_episode_fail(sp_episode *e, uint64_t mono, uint64_t wall, const char *reason);
/* A success. */
void sp_episode_ok(sp_episode *e);
/* Ends a settled episode (logs the summary). Returns 1 when it ended now. */
int sp_episode_tick(sp_episode *e, uint64_t mono);

typedef struct sp_health {
	uint64_t started_ms;            /* wall */
	sp_episode storage;
	/* node */
	uint64_t broker_contact_ms;     /* wall, last frame from the broker */
	const char *link_state;         /* static string */
	char link_hint[512];
	uint64_t handshake_failures;
	/* both */
	uint64_t signals_in, signals_out, signals_rejected, quarantined;
	uint64_t readers_cleared;
	uint64_t last_reader_check;     /* mono */
	char audit_alarm[256];
} sp_health;

void sp_health_init(sp_health *h, const char *comp);
/* Once per loop: stale LMDB readers every SP_READER_CHECK_MS (logged with
 * their count when some were cleared), and the storage episode's end. */
void sp_health_tick(sp_health *h, sp_store *s);

/* The report for `seinpost status`: fills r (initialised by the caller);
 * strings borrowed from h. */
struct Seinpost__HealthReport;
void sp_health_report(const sp_health *h, sp_store *s, struct Seinpost__HealthReport *r);

#endif
