/* tally-worker's hook for many serving hosts: with [nats] set, after the local publish it
 * runs tally-nats-publish (nats_publish.c in a program of its own) and returns its exit
 * status. The worker thereby stays a static PIE that links neither libnats nor OpenSSL
 * and pays nothing for NATS unless [nats] is configured (one exec, ~15 ms, when it is). */
#pragma once

#include "config.h"

/* The run's exit status after a local publish: 0 without [nats] or once published, else
 * EXIT_NATS_UNPUBLISHED (the helper's log line says why). deadline_usec is the run's
 * CLOCK_MONOTONIC deadline (0: the helper's default). */
int nats_spawn_publish(const Config *cfg, const char *config_path, uint64_t deadline_usec);
/* From a signal handler: passes SIGTERM on to a running helper. */
void nats_spawn_request_stop(void);
