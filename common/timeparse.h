/* Parsing time values: RFC 3339 / ISO 8601 timestamps and Unix epoch numbers.
 * On the worker's per-row path, so it works on (pointer, length) without copying. */
#pragma once

#include "util.h"

/* Accepts "2024-05-01T12:00:00Z", "2024-05-01 12:00:00.123+02:00", "2024-05-01T12:00:00"
 * (UTC assumed), "2024-05-01", and integers: epoch seconds, or epoch milliseconds when
 * the absolute value is at least 1e11 (i.e. after 1973 in ms, beyond year 5138 in s).
 * Result in microseconds since the epoch. -EINVAL on anything else. */
int parse_time_usec(const char *s, size_t len, int64_t *ret);

/* Formats usec as RFC 3339 UTC with microseconds only when non-zero; returns the length. */
size_t format_time_rfc3339(char *buf, size_t n, int64_t usec);
