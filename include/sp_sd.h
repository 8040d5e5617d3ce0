/*
 * sp_sd.h — systemd integration: readiness, status, watchdog.
 * All calls are no-ops when not run under systemd (no NOTIFY_SOCKET).
 */
#ifndef SP_SD_H
#define SP_SD_H

#include <stdint.h>

void sp_sd_ready(const char *status);
void sp_sd_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sp_sd_stopping(void);
/* Interval at which sp_sd_watchdog_kick must be called (half of
 * WatchdogSec), in ms; 0 when the watchdog is off. */
uint64_t sp_sd_watchdog_interval_ms(void);
void sp_sd_watchdog_kick(void);

#endif
