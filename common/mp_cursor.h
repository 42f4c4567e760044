/* A zero-allocation, bounds-checked msgpack reader for untrusted bytes.
 *
 * msgpack-c's unpacker allocates for an array's claimed element count before reading the
 * elements (a 5-byte "dd ff ff ff ff" asks for ~96 GB), and its objects live in malloc'd
 * zones that fragment a long-running heap. This cursor instead reads in place: every
 * length is checked against the bytes left, containers report their count only after
 * checking that many elements could fit, and skipping is depth-bounded. Strings point into
 * the input buffer, which must outlive them. */
#pragma once

#include "util.h"

typedef struct MpCursor {
        const uint8_t *p;
        const uint8_t *end;
} MpCursor;

typedef enum MpType {
        MP_NIL,
        MP_BOOL,
        MP_UINT,
        MP_INT, /* negative */
        MP_FLOAT,
        MP_STR,
        MP_BIN,
        MP_ARRAY,
        MP_MAP,
        MP_EXT,
} MpType;

static inline void mp_cursor_init(MpCursor *c, const void *buf, size_t len)
{
        c->p = buf;
        c->end = c->p + len;
}

static inline size_t mp_left(const MpCursor *c)
{
        return (size_t)(c->end - c->p);
}

/* Type of the next value without consuming it; -EBADMSG at end or on a reserved byte. */
int mp_peek(const MpCursor *c, MpType *ret);

int mp_read_nil(MpCursor *c);
/* Accepts any integer that fits; -ERANGE otherwise, -EBADMSG on another type. */
int mp_read_u64(MpCursor *c, uint64_t *ret);
int mp_read_i64(MpCursor *c, int64_t *ret);
/* float32 or float64. */
int mp_read_double(MpCursor *c, double *ret);
int mp_read_str(MpCursor *c, const char **ret, uint32_t *ret_len);
int mp_read_bin(MpCursor *c, const void **ret, uint32_t *ret_len);
/* Container headers: the count is checked to be possible in the bytes left
 * (every element takes at least one byte, a map entry two). */
int mp_read_array(MpCursor *c, uint32_t *ret_count);
int mp_read_map(MpCursor *c, uint32_t *ret_count);
/* Skips one value of any type, nesting at most max_depth deep. */
int mp_skip(MpCursor *c, unsigned max_depth);
/* True if the len bytes at str spell the C string s. */
bool mp_str_eq(const char *s, const char *str, uint32_t len);
