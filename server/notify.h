/* The systemd side of the process: readiness, status, watchdog, socket activation.
 * Every call is a no-op when built without systemd or not started by it. */
#pragma once

#include "util.h"

void notify_ready(void);
void notify_stopping(void);
void notify_status(const char *fmt, ...) _printf_(1, 2);
void notify_watchdog(void);
/* The watchdog interval systemd expects pings within (0: none). */
uint64_t notify_watchdog_usec(void);
/* Sockets passed by socket activation: count (0 if none) starting at fd 3. */
int notify_listen_fds(void);
