/* What tally-worker and its NATS helper agree on (no libnats needed to include it). */
#pragma once

#define NATS_PUBLISH_PROGRAM "tally-nats-publish"
/* Exit status of a run whose snapshot was written locally but could not be put into NATS
 * (unreachable past the deadline, or another worker published a newer generation). */
#define EXIT_NATS_UNPUBLISHED 75 /* EX_TEMPFAIL */
