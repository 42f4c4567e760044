/* One-shot gzip of a rendered body: every compressed copy tallyd serves (the snapshot's
 * bodies, render.c; the status page's, status_page.c) is made here, once per render,
 * never per request.
 *
 * libdeflate's whole-buffer compression at level 2 is about twice as fast as zlib's
 * level 4 and a little smaller on these bodies (4.8 MB of JSON: 25 ms, 829 kB against
 * 47 ms, 879 kB), which shortens every reload. */
#pragma once

#include "buf.h"

#define GZIP_LEVEL 2

/* Appends the gzip stream of in[0..len) to out; -ENOMEM if out cannot grow (out keeps
 * what it had). */
int gzip_buf(const void *in, size_t len, Buf *out);
