/* One-shot gzip of a rendered body into a buffer of its own.
 *
 * The status page compresses its pre-rendered bodies with the same libdeflate settings
 * as the snapshot bodies (served.c), once per render, never per request. */
#pragma once

#include "buf.h"

#define GZIP_LEVEL 2

/* Appends the gzip stream of in[0..len) to out; -ENOMEM if out cannot grow. */
int gzip_buf(const void *in, size_t len, Buf *out);
