/* sp_health.c — a daemon's own health in memory, fault episodes logged
 * once, stale LMDB readers cleared. See sp_health.h. */
#include "sp_health.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "seinpost.pb-c.h"
#include "sp_log.h"
#include "sp_util.h"

void sp_episode_fail(sp_episode *e, uint64_t mono, uint64_t wall, const char *reason)
{
	if (!mono)
		mono = sp_mono_ms();
	if (!wall)
		wall = sp_now_ms();
	e->count++;
	e->last_bad_mono = mono;
	e->ok_since_bad = 0;
	if (e->since_ms)
		return;
	e->since_ms = wall ? wall : 1;
	e->start_mono = mono;
	e->episodes++;
	snprintf(e->reason, sizeof e->reason, "%s", reason ? reason : "");
	sp_log(LOG_CRIT, e->comp, "%s: %s; nothing acknowledged is lost; logged once until it ends", e->what, e->reason);
}

void sp_episode_ok(sp_episode *e)
{
	e->ok_since_bad = 1;
}

int sp_episode_tick(sp_episode *e, uint64_t mono)
{
	if (!e->since_ms || !e->ok_since_bad)
		return 0;
	if (!mono)
		mono = sp_mono_ms();
	if (mono - e->last_bad_mono < SP_EPISODE_SETTLE_MS)
		return 0;
	sp_log(LOG_NOTICE, e->comp, "%s for %llu s, %llu %s, resumed", e->what,
	       (unsigned long long)((e->last_bad_mono - e->start_mono) / 1000 + 1), (unsigned long long)e->count,
	       e->unit);
	e->since_ms = 0;
	e->count = 0;
	e->reason[0] = '\0';
	return 1;
}

void sp_health_init(sp_health *h, const char *comp)
{
	memset(h, 0, sizeof *h);
	h->started_ms = sp_now_ms();
	h->storage.comp = comp;
	h->storage.what = "storage failing";
	h->storage.unit = "writes refused";
	h->link_state = "connecting";
	h->last_reader_check = sp_mono_ms();
}

void sp_health_tick(sp_health *h, sp_store *s)
{
	uint64_t now = sp_mono_ms();
	(void)sp_episode_tick(&h->storage, now);
	if (s && now - h->last_reader_check >= SP_READER_CHECK_MS) {
		int dead = 0;
		h->last_reader_check = now;
		if (sp_store_reader_check(s, &dead) == SP_OK && dead > 0) {
			h->readers_cleared += (uint64_t)dead;
			sp_log(LOG_NOTICE, "store", "cleared %d stale reader slot(s): a process died inside a read "
			       "transaction; its pages can be reused again", dead);
		}
	}
}

void sp_health_report(const sp_health *h, sp_store *s, Seinpost__HealthReport *r)
{
	r->pid = (uint32_t)getpid();
	r->started = h->started_ms;
	r->now = sp_now_ms();
	r->storage_failing = h->storage.since_ms != 0;
	r->storage_failing_since = h->storage.since_ms;
	r->storage_refused = h->storage.count;
	r->storage_reason = (char *)h->storage.reason;
	r->storage_episodes = h->storage.episodes;
	r->broker_contact = h->broker_contact_ms;
	r->link_state = (char *)(h->link_state ? h->link_state : "");
	r->link_hint = (char *)h->link_hint;
	r->handshake_failures = h->handshake_failures;
	r->signals_in = h->signals_in;
	r->signals_out = h->signals_out;
	r->signals_rejected = h->signals_rejected;
	r->quarantined = h->quarantined;
	r->audit_alarm = (char *)h->audit_alarm;
	r->readers_cleared = h->readers_cleared;
	sp_store_commit_stats(s, &r->commits, &r->commit_us_sum, &r->commit_us_max);
}
