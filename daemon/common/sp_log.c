/* sp_log.c — stderr or journal logging with structured fields. */
#include "sp_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static const char *log_ident = "seinpost";
static int log_journal;
static int log_verbose;

void sp_log_init(const char *ident, int to_journal, int verbose)
{
	log_ident = ident;
	if (to_journal < 0)
		to_journal = getenv("JOURNAL_STREAM") != NULL;
	log_verbose = verbose;
	/* sd_journal_sendv reports success when journald is not there at all
	 * (no socket): every line would vanish. Fall back to stderr, once said. */
	if (to_journal && access(JOURNAL_SOCKET, W_OK) != 0) {
		fprintf(stderr, "%s[warning] log: no journal (%s missing); logging to stderr\n", ident, JOURNAL_SOCKET);
		to_journal = 0;
	}
	log_journal = to_journal;
}

static const char *prio_name(int prio)
{
	switch (prio) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: return "crit";
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	case LOG_INFO: return "info";
	default: return "debug";
	}
}

/* Held lines (sp_log_hold): per thread, a bounded list. */
#define HOLD_MAX 1024
struct held {
	int prio;
	char component[24], org[72], sid[40], msg[232];
	int has_org, has_sid;
};
static _Thread_local struct held *hold_buf;
static _Thread_local size_t hold_n;
static _Thread_local int holding;

static void write_line(int prio, const char *component, const char *org, const char *sid, const char *msg);

void sp_log_hold(void)
{
	holding = 1;
	hold_n = 0;
}

void sp_log_release(int keep)
{
	holding = 0;
	for (size_t i = 0; keep && i < hold_n; i++) {
		const struct held *h = &hold_buf[i];
		write_line(h->prio, h->component, h->has_org ? h->org : NULL, h->has_sid ? h->sid : NULL, h->msg);
	}
	hold_n = 0;
}

static void emit(int prio, const char *component, const char *org, const char *sid,
                 const char *fmt, va_list ap)
{
	char msg[1024];
	if (prio == LOG_DEBUG && !log_verbose)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (holding && prio >= LOG_INFO) {
		if (!hold_buf)
			hold_buf = malloc(HOLD_MAX * sizeof *hold_buf);
		if (hold_buf && hold_n < HOLD_MAX) {
			struct held *h = &hold_buf[hold_n++];
			h->prio = prio;
			snprintf(h->component, sizeof h->component, "%.23s", component);
			snprintf(h->msg, sizeof h->msg, "%.231s", msg);
			h->has_org = org != NULL;
			h->has_sid = sid != NULL;
			snprintf(h->org, sizeof h->org, "%.71s", org ? org : "");
			snprintf(h->sid, sizeof h->sid, "%.39s", sid ? sid : "");
		}
		return;
	}
	write_line(prio, component, org, sid, msg);
}

static void write_line(int prio, const char *component, const char *org, const char *sid, const char *msg)
{
	if (log_journal) {
		/* sd_journal_sendv: optional fields without a NULL-terminated varargs list. */
		char f[6][1152];
		struct iovec iov[6];
		int n = 0;
		snprintf(f[n++], sizeof f[0], "MESSAGE=%s: %s", component, msg);
		snprintf(f[n++], sizeof f[0], "PRIORITY=%d", prio);
		snprintf(f[n++], sizeof f[0], "SYSLOG_IDENTIFIER=%s", log_ident);
		snprintf(f[n++], sizeof f[0], "SP_COMPONENT=%s", component);
		if (org)
			snprintf(f[n++], sizeof f[0], "SP_ORG=%s", org);
		if (sid)
			snprintf(f[n++], sizeof f[0], "SP_SIGNAL_ID=%s", sid);
		for (int i = 0; i < n; i++) {
			iov[i].iov_base = f[i];
			iov[i].iov_len = strlen(f[i]);
		}
		if (sd_journal_sendv(iov, n) >= 0)
			return;
		/* No journal to write to (log = journal outside systemd, or
		 * journald down): every line would be lost. Say so once and
		 * go on on stderr. */
		log_journal = 0;
		fprintf(stderr, "%s[warning] log: the journal cannot be reached; logging to stderr\n", log_ident);
	}
	struct timespec ts;
	struct tm tm;
	char when[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s[%s] %s: %s%s%s%s%s\n", when, ts.tv_nsec / 1000000L,
	        log_ident, prio_name(prio), component, msg,
	        org ? " org=" : "", org ? org : "", sid ? " signal=" : "", sid ? sid : "");
}

void sp_log(int prio, const char *component, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(prio, component, NULL, NULL, fmt, ap);
	va_end(ap);
}

void sp_log_event(int prio, const char *component, const char *org,
                  const char *signal_id_hex, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(prio, component, org, signal_id_hex, fmt, ap);
	va_end(ap);
}

void sp_fatal(const char *component, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(LOG_CRIT, component, NULL, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
