/* sp_status_collect.c — `seinpost status`: the provider table and the
 * collection (the table names node and broker providers, so it belongs to
 * the CLI, which links both; common/sp_status.c has the lines and output). */
#include "sp_status.h"

#include <stdlib.h>
#include <string.h>

#include "seinpost.pb-c.h"
#include "sp_hook.h"
#include "sp_monitor.h"
#include "sp_oprf_alarms.h"
#include "sp_oprfsvc.h"
#include "sp_awaiting.h"
#include "sp_spool.h"
#include "sp_sth.h"
#include "sp_util.h"
#include "sp_verdict.h"
#include "sp_witness.h"

#define ROLE_ANY (SP_RUN_BROKER | SP_RUN_NODE | SP_RUN_PSEUDONYMISER)

/* A node's view of the broker's audit history (witnessing): an alarm means
 * the broker's log shrank or forked, and makes `status` exit non-zero. */
static int witness_line(const sp_status_src *src, sp_status *st)
{
	sp_witness_state w;
	char root[17];
	if (sp_witness_status(src->store, &w) != SP_OK)
		return SP_OK;
	sp_status_bool(st, "audit", "witness_alarm", w.alarm);
	if (w.have_head) {
		sp_status_num(st, "audit", "witnessed_records", (double)w.size);
		sp_status_time(st, "audit", "tree_head_at", w.time);
		sp_status_num(st, "audit", "tree_head_age_s",
		              src->opts->now_ms > w.time ? (double)((src->opts->now_ms - w.time) / 1000) : 0);
	}
	if (w.alarm)
		return sp_status_add(st, "audit", "witness", SP_STATUS_BAD, "ALARM: %s", w.reason);
	if (!w.have_head)
		return sp_status_add(st, "audit", "witness", SP_STATUS_OK, "no signed tree head seen yet");
	return sp_status_add(st, "audit", "witness", SP_STATUS_OK,
	                     "broker history consistent up to %llu records (root %s…, %llu heads checked)",
	                     (unsigned long long)w.size, sp_hex(w.root, 8, root), (unsigned long long)w.checked);
}

/* The broker's latest signed tree head: how old is it? */
static int head_line(const sp_status_src *src, sp_status *st)
{
	Seinpost__SignedTreeHead *h = NULL;
	char when[32], age[32];
	int rc;
	if (sp_sth_latest(src->txn, &h) != SP_OK)
		return sp_status_add(st, "audit", "tree head", SP_STATUS_OK, "none signed yet");
	uint64_t a = src->opts->now_ms > h->timestamp ? src->opts->now_ms - h->timestamp : 0;
	sp_status_num(st, "audit", "tree_size", (double)h->tree_size);
	sp_status_time(st, "audit", "tree_head_at", h->timestamp);
	sp_status_num(st, "audit", "tree_head_age_s", (double)(a / 1000));
	rc = sp_status_add(st, "audit", "tree head", SP_STATUS_OK, "%llu records, signed %s (%s ago)",
	                   (unsigned long long)h->tree_size, sp_iso_time(h->timestamp, when, sizeof when),
	                   sp_status_age(a, age, sizeof age));
	seinpost__signed_tree_head__free_unpacked(h, NULL);
	return rc;
}

/* One entry per concern. A feature adds its lines by adding a row here. */
static const struct {
	int roles;
	sp_status_provider_fn fn;
} providers[] = {
	{ SP_RUN_BROKER | SP_RUN_NODE, sp_status_daemon }, /* the pseudonymiser has no control socket yet */
	{ SP_RUN_BROKER, head_line },
	{ ROLE_ANY, sp_status_store },
	{ SP_RUN_BROKER, sp_status_broker_queues },
	{ SP_RUN_NODE, sp_status_node_outbox },
	{ SP_RUN_NODE, sp_verdict_status },
	{ SP_RUN_NODE, witness_line },
	{ SP_RUN_NODE, sp_status_monitor },
	{ SP_RUN_NODE, sp_oalarms_status },
	{ SP_RUN_NODE, sp_status_hook },
	{ SP_RUN_NODE, sp_spool_status },
	{ SP_RUN_NODE, sp_awaiting_status },
	{ SP_RUN_PSEUDONYMISER, sp_oprfsvc_status },
};

int sp_status_collect(const sp_config *c, const sp_status_opts *o, sp_status **out)
{
	sp_status *st = NULL;
	sp_store *s = NULL;
	sp_txn *t = NULL;
	sp_status_opts opts = *o;
	int rc;

	*out = NULL;
	if (!opts.now_ms)
		opts.now_ms = sp_now_ms();
	if (sp_status_new(c->role, c->org, opts.now_ms, &st) != SP_OK)
		return SP_ENOMEM;
	rc = sp_store_open(c->state_dir, c->map_size, SP_STORE_RDONLY, &s);
	if (rc == SP_OK)
		rc = sp_txn_begin(s, 0, &t);
	if (rc != SP_OK) {
		/* Still a report: the reason is the one BAD line. */
		rc = sp_status_add(st, "store", "state", SP_STATUS_BAD, "%s: %s (%s)", c->state_dir,
		                   sp_strerror(rc), sp_store_last_error());
		if (rc == SP_OK) {
			/* The daemon may still answer (a store it cannot show us). */
			sp_status_src src = { .cfg = c, .opts = &opts };
			rc = sp_status_daemon(&src, st);
		}
		goto out;
	}
	sp_status_src src = { .cfg = c, .opts = &opts, .store = s, .txn = t };
	for (size_t i = 0; i < sizeof providers / sizeof providers[0]; i++) {
		if (!(providers[i].roles & c->role))
			continue;
		rc = providers[i].fn(&src, st);
		if (rc != SP_OK) {
			rc = sp_status_add(st, "status", "error", SP_STATUS_BAD, "a status provider failed: %s",
			                   sp_strerror(rc));
			if (rc != SP_OK)
				goto out;
		}
	}
	rc = SP_OK;
out:
	sp_txn_abort(&t);
	sp_store_close(&s);
	if (rc != SP_OK) {
		sp_status_free(&st);
		return rc;
	}
	*out = st;
	return SP_OK;
}

