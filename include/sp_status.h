/*
 * sp_status.h — `seinpost --config FILE status`: health of a broker or node.
 *
 * A report is a list of lines (section, key, value, level). Providers add
 * lines; each concern owns one provider in the table in sp_status_collect.c, so a
 * feature adds its own lines by adding one entry there (and its function in
 * its own module). Providers read the store through a read-only
 * transaction: status works while the daemon runs and while it is down, and
 * never blocks the writer.
 *
 * Beside the text lines, providers set numbers (sp_status_num & co): they
 * make `status --json` (numbers with the unit in the key, instants in keys
 * ending _at; docs/json/status.schema.json) and `status --prometheus`.
 *
 * The daemon's own view (storage failing, broker link, organisations
 * connected, counters) comes from the daemon over its local socket
 * (opts.health); when it cannot be reached the report says so.
 *
 * Exit status of the command: 0 healthy, 1 unhealthy (some line BAD), 2 the
 * state could not be read at all, 3 the daemon could not be reached.
 */
#ifndef SP_STATUS_H
#define SP_STATUS_H

#include <stdint.h>
#include <stdio.h>
#include "sp_config.h"
#include "sp_error.h"
#include "sp_store.h"

enum sp_status_level { SP_STATUS_OK = 0, SP_STATUS_WARN = 1, SP_STATUS_BAD = 2 };

typedef struct sp_status sp_status;

struct Seinpost__HealthReport;

typedef struct sp_status_opts {
	uint64_t now_ms;          /* wall clock used for ages (0 = now) */
	uint64_t max_age_s;       /* oldest undelivered/pending older than this is BAD */
	unsigned map_bad_pct;     /* map use at or above this percentage is BAD */
	uint64_t broker_limit_s;  /* node: no contact with the broker for longer is BAD */
	const struct Seinpost__HealthReport *health; /* the daemon's answer, NULL: none */
	const char *daemon_error; /* why there is none (health == NULL) */
} sp_status_opts;

/* What a provider sees. All borrowed for the call. */
typedef struct sp_status_src {
	const sp_config *cfg;
	const sp_status_opts *opts;
	sp_store *store;
	sp_txn *txn;              /* read-only */
} sp_status_src;

typedef int (*sp_status_provider_fn)(const sp_status_src *src, sp_status *st);

/* Add a line; value is formatted (no personal data: counts, ids, times). */
int sp_status_add(sp_status *st, const char *section, const char *key, int level,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6))) SP_MUST_CHECK;

/* Numbers for --json and --prometheus, under section (an object) and key
 * (the unit in the key: _s, _ms, _bytes; instants in keys ending _at). */
void sp_status_num(sp_status *st, const char *section, const char *key, double v);
void sp_status_bool(sp_status *st, const char *section, const char *key, int v);
void sp_status_str(sp_status *st, const char *section, const char *key, const char *v);
/* An instant (unix ms; 0 = never: JSON null) as RFC 3339 UTC. */
void sp_status_time(sp_status *st, const char *section, const char *key_at, uint64_t ms);
/* The same for one organisation (broker: its queue, when last heard). */
void sp_status_org_num(sp_status *st, const char *org, const char *key, double v);
void sp_status_org_bool(sp_status *st, const char *org, const char *key, int v);
void sp_status_org_time(sp_status *st, const char *org, const char *key_at, uint64_t ms);

/* An empty report (for sp_status_collect). */
int sp_status_new(int role, const char *org, uint64_t now_ms, sp_status **out) SP_MUST_CHECK;
/* Open the state read-only and run every provider for the config's role
 * (cli/sp_status_collect.c). */
int sp_status_collect(const sp_config *c, const sp_status_opts *o, sp_status **out) SP_MUST_CHECK;
/* Worst level of any line. */
int sp_status_level(const sp_status *st);
void sp_status_print(const sp_status *st, FILE *out, int json);
/* Prometheus text format (node_exporter textfile collector): counts, ages,
 * org ids; never a pseudonym. Unix seconds for instants. */
void sp_status_prometheus(const sp_status *st, FILE *out);
void sp_status_free(sp_status **st);

/* "12 s", "3 min", "2.5 h", "4 d" */
const char *sp_status_age(uint64_t ms, char *buf, size_t len);

/* The daemon's own view, from opts.health (sp_status_daemon.c). */
int sp_status_daemon(const sp_status_src *src, sp_status *st);

/* Providers of the delivery feature (sp_status_delivery.c). */
int sp_status_store(const sp_status_src *src, sp_status *st);
int sp_status_broker_queues(const sp_status_src *src, sp_status *st);
int sp_status_node_outbox(const sp_status_src *src, sp_status *st);

#endif
