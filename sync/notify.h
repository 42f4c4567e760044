/* tally-sync's side of systemd: readiness, status line, watchdog. No-ops without
 * libsystemd or outside a unit. (Same calls as server/notify.h; tally-sync does not link
 * tallyd's library for four functions.) */
#pragma once

#include "util.h"

void sync_notify_ready(void);
void sync_notify_stopping(void);
void sync_notify_status(const char *fmt, ...) _printf_(1, 2);
void sync_notify_watchdog(void);
