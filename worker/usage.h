/* What one worker run cost, for the snapshot header (and so for tallyd's status page).
 *
 * The worker is the process whose memory spikes: recording its own peak RSS and CPU in
 * the snapshot it publishes lets tallyd draw the heartbeat without watching processes it
 * may not own (under systemd the timer, not tallyd, starts the worker). */
#pragma once

#include "snapshot.h"

/* Fills st's usage fields (peak RSS, CPU time of all threads, wall time since the
 * process started) and sets has_usage; leaves the other fields alone. */
void usage_measure(SnapshotStats *st);
