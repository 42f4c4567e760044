/* What tally-worker and tallyd share on their command lines, so both behave alike: the
 * exit statuses, and loading the configuration the way an operator reads it (every
 * mistake once, "FILE:LINE: [section] key: reason", then exit 78).
 *
 * This is program code: it logs. It sits in common/ because both programs use it; no
 * library module calls it. */
#pragma once

#include "config.h"

#define EXIT_USAGE 64 /* EX_USAGE: a bad option or argument */
/* EXIT_CONFIG (78) is in config.h */

/* The short options both programs take: -c/--config PATH, -h/--help, -V/--version. */
#define CLI_SHORT_OPTIONS "c:hV"

/* Loads path, logging every mistake or failure. 0 with *ret, or the status to exit with:
 * EXIT_CONFIG for a bad or unreadable file, 1 when memory ran out. */
int cli_load_config(const char *path, Config **ret);
/* --check-config on a valid file: "PATH: OK (N sources, M views)" on stdout; returns 0. */
int cli_config_ok(const char *path, const Config *c);
