/* What tally's programs (tally-worker, tallyd, tallyctl, tally-sync, tally-nats-publish)
 * share on their command lines, so all of them behave alike: -c/-h/-V, the exit statuses,
 * refusing stray arguments, stopping on SIGTERM, and loading the configuration the way an
 * operator reads it (every mistake once, "FILE:LINE: [section] key: reason", then exit 78).
 *
 * This is program code: it logs and prints. It sits in common/ because every program uses
 * it; no library module calls it. */
#pragma once

#include <getopt.h>

#include "config.h"

#define EXIT_USAGE 64 /* EX_USAGE: a bad option or argument */
/* EXIT_CONFIG (78) is in config.h */

/* The short options every program takes, -c PATH, -h and -V, and their long forms for the
 * program's getopt_long table: CLI_LONG_OPTIONS, then its own entries, then {}. */
#define CLI_SHORT_OPTIONS "c:hV"
/* clang-format off */
#define CLI_LONG_OPTIONS                                  \
        {"config", required_argument, NULL, 'c'},         \
        {"help", no_argument, NULL, 'h'},                 \
        {"version", no_argument, NULL, 'V'}
/* clang-format on */

/* cli_option() and cli_no_arguments(): parsing goes on. */
#define CLI_CONTINUE (-1)

/* For the default: of a program's getopt_long switch. -c sets *config_path and returns
 * CLI_CONTINUE; -h runs help(), -V prints "PROGRAM VERSION", both returning 0 (exit
 * now); anything else is an option getopt already complained about: EXIT_USAGE. */
int cli_option(int opt, const char *program, void (*help)(void), const char **config_path);
/* After the options, for a program that takes no arguments: CLI_CONTINUE, or EXIT_USAGE
 * with the first one logged. */
int cli_no_arguments(int argc, char **argv);

/* SIGTERM (how systemd stops a unit) and SIGINT call on_stop, with sa_flags (SA_RESTART
 * or 0). */
void cli_on_stop_signals(void (*on_stop)(int), int sa_flags);

/* Loads path, logging every mistake or failure. 0 with *ret, or the status to exit with:
 * EXIT_CONFIG for a bad or unreadable file, 1 when memory ran out. */
int cli_load_config(const char *path, Config **ret);
/* --check-config on a valid file: "PATH: OK (N sources, M views)" on stdout; returns 0. */
int cli_config_ok(const char *path, const Config *c);
