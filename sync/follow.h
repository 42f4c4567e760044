/* Following the bucket: one connection to the cluster (re-made forever with backoff), a
 * watch on the manifest key, and for each manifest newer than what snapshot_dir holds,
 * fetch, verify, install. A poll of the key backs the watch up, so a host that was cut off
 * catches up within FOLLOW_POLL_USEC of healing whatever happened to the watch.
 * A manifest or file that fails verification is refused once, logged, and remembered;
 * the host keeps serving what it has. Only one snapshot is in memory at a time. */
#pragma once

#include "config.h"

#define FOLLOW_TICK_MSEC   250                 /* how often stop and the watchdog are seen */
#define FOLLOW_POLL_USEC   (2 * USEC_PER_SEC)  /* the watch's backup */
#define FOLLOW_BACKOFF_MAX (10 * USEC_PER_SEC) /* between reconnect attempts */

/* Runs until *stop is set; 0 then, or negative errno if snapshot_dir cannot be used. */
int follow_run(const Config *cfg, volatile const int *stop);
