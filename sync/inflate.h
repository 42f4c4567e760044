/* Undoing the wire encoding (nats_manifest.h) of one snapshot. The deflated bytes and the
 * size they claim to inflate to are both untrusted: the output buffer is exactly the
 * announced size (which the caller has bounded by max_snapshot_bytes), a stream that
 * would write more, ends short of it, leaves input over or is not deflate at all is
 * refused with a reason. A deflate bomb thus costs at most raw_len bytes of memory and
 * one pass of CPU. */
#pragma once

#include "util.h"

enum {
        INFLATE_OK = 0,
        INFLATE_REFUSED = 1, /* with a reason: do not retry this snapshot */
};

struct libdeflate_decompressor;

/* One chunk of a deflate-chunks snapshot (nats_manifest.h) into its place out[0..raw_len):
 * in_len == raw_len is the slice as is, a shorter chunk must inflate to exactly raw_len,
 * a longer or empty one is refused. No allocation: the caller's one snapshot buffer.
 * INFLATE_OK or INFLATE_REFUSED. */
int inflate_chunk(struct libdeflate_decompressor *d, const void *in, size_t in_len, void *out,
                  size_t raw_len, char *reason, size_t reason_size);

/* Inflates raw deflate in[0..in_len) into a malloc'd *ret of exactly raw_len bytes.
 * INFLATE_OK, INFLATE_REFUSED, or -ENOMEM. */
int inflate_exact(const void *in, size_t in_len, size_t raw_len, void **ret, char *reason,
                  size_t reason_size);
