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

static void emit(int prio, const char *component, const char *org, const char *sid,
                 const char *fmt, va_list ap)
{
	char msg[1024];
	if (prio == LOG_DEBUG && !log_verbose)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
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
