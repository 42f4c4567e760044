/* Typed fields out of CSV bytes, on the per-row path: (pointer, length), no copies, no locale.
 *
 *   int   [+-]digits, at most 19 of them, within int64
 *   num   [+-]digits[.digits][(e|E)[+-]digits], or [+-].digits; no inf, nan or hex
 * Both -EINVAL on anything else (an empty field is handled by the caller as missing). */
#pragma once

#include "util.h"

int parse_int_field(const char *s, size_t len, int64_t *ret);
int parse_num_field(const char *s, size_t len, double *ret);
