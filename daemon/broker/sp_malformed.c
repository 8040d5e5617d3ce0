/*
 * sp_malformed.c — answers and rate limits for malformed frames at the
 * broker (sp_malformed.h).
 */
#include "sp_malformed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_audit.h"
#include "sp_log.h"
#include "seinpost.pb-c.h"

#define C "broker"
#define PEERS_MAX 1024 /* authenticated peers only: the roster bounds it */

struct peer {
	char org[64];
	uint64_t window_start; /* mono ms */
	uint64_t count;        /* frames in this window */
	int code;              /* of the last one beyond the burst */
	char why[96];
};

struct sp_malformed {
	struct peer *p;
	size_t n, cap;
};

int sp_malformed_new(sp_malformed **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? SP_OK : SP_ENOMEM;
}

void sp_malformed_free(sp_malformed **m)
{
	if (!m || !*m)
		return;
	free((*m)->p);
	free(*m);
	*m = NULL;
}

int sp_malformed_signal_id(const uint8_t *body, size_t len, size_t max, const char *org, uint8_t id[16])
{
	Seinpost__Frame *f;
	Seinpost__SignalHeader *h = NULL;
	int rc = SP_ENOTFOUND;
	/* Only what protobuf-c can read without our checks: the header's id
	 * and sender. An answer goes to the authenticated peer only, and
	 * names a signal of its own. */
	if (!body || len > max || !(f = seinpost__frame__unpack(NULL, len, body)))
		return SP_ENOTFOUND;
	if (f->body_case == SEINPOST__FRAME__BODY_SUBMIT && f->submit && f->submit->header.len &&
	    (h = seinpost__signal_header__unpack(NULL, f->submit->header.len, f->submit->header.data)) &&
	    h->id.len == 16 && h->sender && strcmp(h->sender, org) == 0) {
		memcpy(id, h->id.data, 16);
		rc = SP_OK;
	}
	if (h)
		seinpost__signal_header__free_unpacked(h, NULL);
	seinpost__frame__free_unpacked(f, NULL);
	return rc;
}

static struct peer *peer(sp_malformed *m, const char *org)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->p[i].org, org) == 0)
			return &m->p[i];
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct peer *p;
		if (cap > PEERS_MAX || !(p = realloc(m->p, cap * sizeof *p)))
			return NULL;
		m->p = p;
		m->cap = cap;
	}
	memset(&m->p[m->n], 0, sizeof m->p[m->n]);
	snprintf(m->p[m->n].org, sizeof m->p[m->n].org, "%s", org);
	return &m->p[m->n++];
}

static int summary(sp_txn *t, struct peer *p)
{
	uint64_t beyond = p->count - SP_MALFORMED_BURST;
	char why[192];
	snprintf(why, sizeof why, "%llu malformed frames in %d s (%llu beyond the first %d), last: %s",
	         (unsigned long long)p->count, SP_MALFORMED_WINDOW_MS / 1000, (unsigned long long)beyond,
	         SP_MALFORMED_BURST, p->why);
	sp_log_event(LOG_WARNING, C, p->org, NULL, "%s", why);
	sp_audit_entry e = {
		.event = SEINPOST__AUDIT_EVENT__AUDIT_MALFORMED,
		.actor = p->org,
		.reason = why,
		.code = p->code,
	};
	return sp_audit_append(t, &e, NULL);
}

int sp_malformed_flush(sp_malformed *m, sp_txn *t, uint64_t now_ms, int *wrote)
{
	int rc = SP_OK;
	*wrote = 0;
	for (size_t i = 0; i < m->n && rc == SP_OK; i++) {
		struct peer *p = &m->p[i];
		if (!p->count || now_ms - p->window_start < SP_MALFORMED_WINDOW_MS)
			continue;
		if (p->count > SP_MALFORMED_BURST) {
			rc = summary(t, p);
			*wrote += rc == SP_OK;
		}
		p->count = 0;
	}
	return rc;
}

int sp_malformed_note(sp_malformed *m, sp_txn *t, const char *org, int code, const char *why, uint64_t now_ms)
{
	struct peer *p = peer(m, org);
	if (!p)
		return SP_ENOMEM;
	if (p->count && now_ms - p->window_start >= SP_MALFORMED_WINDOW_MS) {
		int rc = p->count > SP_MALFORMED_BURST ? summary(t, p) : SP_OK;
		p->count = 0;
		if (rc != SP_OK)
			return rc;
	}
	if (!p->count)
		p->window_start = now_ms;
	if (++p->count > SP_MALFORMED_BURST) {
		p->code = code;
		snprintf(p->why, sizeof p->why, "%s", why);
		return SP_OK;
	}
	sp_log_event(LOG_WARNING, C, org, NULL, "malformed frame: %s", why);
	sp_audit_entry e = {
		.event = SEINPOST__AUDIT_EVENT__AUDIT_REJECTED,
		.actor = org,
		.reason = why,
		.code = code,
	};
	return sp_audit_append(t, &e, NULL);
}
