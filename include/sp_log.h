/*
 * sp_log.h — logging to stderr or the systemd journal, with structured fields.
 *
 * Four levels of failure (OpenBSD style): before start-up print and exit;
 * unrecoverable at run time sp_fatal() (systemd restarts us); recoverable
 * sp_log(LOG_WARNING...) and return an error; programmer error assert().
 *
 * NEVER pass personal data (BSN, name, birth date, address, free text) to
 * these functions. Signal ids, org ids, categories and error codes only.
 */
#ifndef SP_LOG_H
#define SP_LOG_H

#include <syslog.h>

/* ident: "seinpostd"; to_journal: 1 = sd_journal, 0 = stderr, -1 = auto
 * (journal when JOURNAL_STREAM is set); verbose: log LOG_DEBUG too. */
void sp_log_init(const char *ident, int to_journal, int verbose);

/* Every line names its component ("broker", "node", "store", ...). */
void sp_log(int prio, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same, with structured journal fields SP_ORG and SP_SIGNAL_ID (either NULL). */
void sp_log_event(int prio, const char *component, const char *org,
                  const char *signal_id_hex, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Hold the INFO and DEBUG lines of work that may still roll back (a batch
 * before its commit) and write them only when it committed:
 * sp_log_release(1); drop them with sp_log_release(0). Warnings and worse
 * are never held. Per thread, at most 1024 lines. */
void sp_log_hold(void);
void sp_log_release(int keep);

void sp_fatal(const char *component, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
