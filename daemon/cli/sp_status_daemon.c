/* sp_status_daemon.c — status lines from the running daemon's own answer
 * (LocalReply.health over submit.sock or control.sock): is it running, is
 * its storage failing, its link to the broker (node), the organisations
 * connected to it (broker), counters. No personal data: counts, ids, times. */
#include <stdio.h>
#include <string.h>

#include "seinpost.pb-c.h"
#include "sp_status.h"
#include "sp_util.h"

static uint64_t ago(uint64_t now, uint64_t then)
{
	return then && now > then ? now - then : 0;
}

static int node_link(const sp_status_src *src, const Seinpost__HealthReport *h, sp_status *st)
{
	uint64_t now = h->now ? h->now : src->opts->now_ms;
	/* Never heard: count from the start, so a node that never reached its
	 * broker turns BAD after the limit too. */
	uint64_t silent = ago(now, h->broker_contact ? h->broker_contact : h->started);
	uint64_t limit = src->opts->broker_limit_s * 1000;
	char age[32], when[32];
	int connected = strcmp(h->link_state, "connected") == 0;
	sp_status_str(st, "broker", "state", h->link_state);
	sp_status_time(st, "broker", "last_contact_at", h->broker_contact);
	sp_status_num(st, "broker", "contact_age_s", (double)(silent / 1000));
	sp_status_num(st, "broker", "limit_s", (double)src->opts->broker_limit_s);
	if (h->link_hint[0])
		sp_status_str(st, "broker", "hint", h->link_hint);
	if (h->broker_contact)
		snprintf(when, sizeof when, "%s ago", sp_status_age(silent, age, sizeof age));
	else
		snprintf(when, sizeof when, "never (up %s)", sp_status_age(silent, age, sizeof age));
	if (silent > limit)
		return sp_status_add(st, "broker", "link", SP_STATUS_BAD, "%s, last contact %s (limit %llu s): %s",
		                     h->link_state, when, (unsigned long long)src->opts->broker_limit_s,
		                     h->link_hint[0] ? h->link_hint : "no answer from the broker");
	if (!connected && h->link_hint[0])
		return sp_status_add(st, "broker", "link", SP_STATUS_WARN, "%s, last contact %s: %s", h->link_state,
		                     when, h->link_hint);
	return sp_status_add(st, "broker", "link", SP_STATUS_OK, "%s, last contact %s", h->link_state, when);
}

static int broker_orgs(const sp_status_src *src, const Seinpost__HealthReport *h, sp_status *st)
{
	uint64_t now = h->now ? h->now : src->opts->now_ms;
	size_t connected = 0;
	char age[32];
	int rc = SP_OK;
	for (size_t i = 0; i < h->n_orgs && rc == SP_OK; i++) {
		const Seinpost__OrgSeen *o = h->orgs[i];
		connected += o->connected;
		sp_status_org_bool(st, o->org, "connected", o->connected);
		sp_status_org_time(st, o->org, "last_seen_at", o->last_seen);
		if (o->last_seen)
			sp_status_org_num(st, o->org, "last_seen_age_s", (double)(ago(now, o->last_seen) / 1000));
		if (!o->last_seen)
			rc = sp_status_add(st, "org", o->org, SP_STATUS_OK, "never seen since the broker started");
		else
			rc = sp_status_add(st, "org", o->org, SP_STATUS_OK, "%s, last seen %s ago",
			                   o->connected ? "connected" : "not connected",
			                   sp_status_age(ago(now, o->last_seen), age, sizeof age));
	}
	sp_status_num(st, "daemon", "orgs_connected", (double)connected);
	if (rc == SP_OK)
		rc = sp_status_add(st, "daemon", "connected", SP_STATUS_OK, "%zu of %zu organisations", connected,
		                   h->n_orgs);
	return rc;
}

int sp_status_daemon(const sp_status_src *src, sp_status *st)
{
	const Seinpost__HealthReport *h = src->opts->health;
	char age[32], when[32];
	int rc;

	sp_status_bool(st, "daemon", "reachable", h != NULL);
	if (!h)
		return sp_status_add(st, "daemon", "state", SP_STATUS_BAD, "cannot reach the daemon: %s",
		                     src->opts->daemon_error ? src->opts->daemon_error : "no answer");
	uint64_t now = h->now ? h->now : src->opts->now_ms;
	sp_status_num(st, "daemon", "pid", h->pid);
	sp_status_time(st, "daemon", "started_at", h->started);
	sp_status_num(st, "daemon", "uptime_s", (double)(ago(now, h->started) / 1000));
	sp_status_num(st, "daemon", "signals_in", (double)h->signals_in);
	sp_status_num(st, "daemon", "signals_out", (double)h->signals_out);
	sp_status_num(st, "daemon", "signals_rejected", (double)h->signals_rejected);
	sp_status_num(st, "daemon", "commits", (double)h->commits);
	sp_status_num(st, "daemon", "commit_sum_s", (double)h->commit_us_sum / 1e6);
	sp_status_num(st, "daemon", "commit_avg_ms", h->commits ? (double)h->commit_us_sum / 1e3 / (double)h->commits : 0);
	sp_status_num(st, "daemon", "commit_max_ms", (double)h->commit_us_max / 1e3);
	sp_status_num(st, "daemon", "readers_cleared", (double)h->readers_cleared);
	sp_status_num(st, "daemon", "handshake_failures", (double)h->handshake_failures);
	sp_status_num(st, "daemon", "quarantined", (double)h->quarantined);
	sp_status_bool(st, "daemon", "storage_failing", h->storage_failing);
	sp_status_num(st, "daemon", "storage_episodes", (double)h->storage_episodes);
	sp_status_time(st, "daemon", "storage_failing_since_at", h->storage_failing_since);
	sp_status_num(st, "daemon", "storage_failing_s", (double)(ago(now, h->storage_failing_since) / 1000));
	sp_status_num(st, "daemon", "storage_refused", (double)h->storage_refused);
	rc = sp_status_add(st, "daemon", "state", SP_STATUS_OK, "running, pid %u, up %s, started %s", h->pid,
	                   sp_status_age(ago(now, h->started), age, sizeof age),
	                   sp_iso_time(h->started, when, sizeof when));
	if (rc == SP_OK && h->storage_failing)
		rc = sp_status_add(st, "daemon", "storage", SP_STATUS_BAD,
		                   "FAILING for %s, %llu writes refused: %s",
		                   sp_status_age(ago(now, h->storage_failing_since), age, sizeof age),
		                   (unsigned long long)h->storage_refused, h->storage_reason);
	else if (rc == SP_OK)
		rc = sp_status_add(st, "daemon", "storage", SP_STATUS_OK, "writable (%llu failing episode(s) since start)",
		                   (unsigned long long)h->storage_episodes);
	if (rc == SP_OK && h->audit_alarm[0]) {
		sp_status_str(st, "daemon", "audit_alarm", h->audit_alarm);
		rc = sp_status_add(st, "audit", "tail", SP_STATUS_BAD, "ALARM: %s", h->audit_alarm);
	}
	if (rc == SP_OK && h->commits)
		rc = sp_status_add(st, "daemon", "commits", SP_STATUS_OK, "%llu, average %.1f ms, longest %.1f ms",
		                   (unsigned long long)h->commits, (double)h->commit_us_sum / 1e3 / (double)h->commits,
		                   (double)h->commit_us_max / 1e3);
	if (rc == SP_OK && src->cfg->role == SP_RUN_NODE)
		rc = node_link(src, h, st);
	if (rc == SP_OK && src->cfg->role == SP_RUN_BROKER)
		rc = broker_orgs(src, h, st);
	return rc;
}
