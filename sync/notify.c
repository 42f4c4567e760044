#include "notify.h"

#include <stdarg.h>

#include "tally-config.h"
#if HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

void sync_notify_ready(void)
{
#if HAVE_SYSTEMD
        sd_notify(0, "READY=1");
#endif
}

void sync_notify_stopping(void)
{
#if HAVE_SYSTEMD
        sd_notify(0, "STOPPING=1");
#endif
}

void sync_notify_status(const char *fmt, ...)
{
#if HAVE_SYSTEMD
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        sd_notifyf(0, "STATUS=%s", msg);
#else
        (void)fmt;
#endif
}

void sync_notify_watchdog(void)
{
#if HAVE_SYSTEMD
        sd_notify(0, "WATCHDOG=1");
#endif
}
