/* One-shot gzip of a rendered body: every compressed copy tallyd serves (the snapshot's
 * bodies, render.c; the status page's, status_page.c) is made here, once per render,
 * never per request.
 *
 * Level 1 of libdeflate: on Q1's 24,000-row bodies at 2M rows (4.8 MB of JSON, 1.8 MB of
 * CSV) it takes 32 + 18 ms of CPU for 904 + 654 kB, against level 2's 51 + 37 ms for 842 +
 * 605 kB and level 6's 87 + 61 ms for 719 + 577 kB (one core, best of 7, loaded machine).
 * The worker compresses every snapshot's bodies and most clients never ask for gzip, while
 * a body 7-8% larger costs a gzip client little on a LAN; the CPU is the worker's, on every
 * run. */
#pragma once

#include "buf.h"

#define GZIP_LEVEL 1

/* Appends the gzip stream of in[0..len) to out; -ENOMEM if out cannot grow (out keeps
 * what it had). */
int gzip_buf(const void *in, size_t len, Buf *out);
