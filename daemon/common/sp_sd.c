/* sp_sd.c — sd_notify wrappers (READY, STATUS, STOPPING, WATCHDOG). */
#include "sp_sd.h"

#include <stdarg.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

void sp_sd_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status ? status : "running");
}

void sp_sd_status(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", buf);
}

void sp_sd_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

uint64_t sp_sd_watchdog_interval_ms(void)
{
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec / 2000u; /* kick at half the timeout */
}

void sp_sd_watchdog_kick(void)
{
	sd_notify(0, "WATCHDOG=1");
}
