/* One writer for the two wire formats tallyd speaks: JSON and msgpack.
 *
 * Every response document is built through these calls, so a shape is written once and
 * both formats agree by construction. msgpack needs container sizes up front, JSON needs
 * separators; callers give the count and the writer handles both. msgpack is encoded by
 * msgpack-c's packer (the same encoder the snapshot writer uses) appending to the Buf. JSON output
 * is always valid UTF-8: invalid bytes in snapshot strings become U+FFFD. Numbers use the shortest
 * decimal that round-trips; non-finite numbers become null. */
#pragma once

#include <msgpack.h>

#include "buf.h"
#include "value.h"

#define DOC_MAX_DEPTH 16

typedef enum DocFormat {
        DOC_JSON,
        DOC_MSGPACK,
} DocFormat;

typedef struct Doc {
        Buf *b;
        DocFormat fmt;
        msgpack_packer pk; /* writes into b */
        unsigned depth;
        bool first[DOC_MAX_DEPTH];
        bool is_map[DOC_MAX_DEPTH];
        bool after_key;
} Doc;

void doc_init(Doc *d, Buf *b, DocFormat fmt);
/* Continues, in b, a map whose opening and earlier members were written elsewhere (a
 * pre-rendered head sent as its own piece): the next doc_key() starts a member. In JSON
 * the head must end with the ',' after its last member. doc_end() closes the map. */
void doc_resume_map(Doc *d, Buf *b, DocFormat fmt);

void doc_map(Doc *d, uint32_t n);
void doc_array(Doc *d, uint32_t n);
void doc_end(Doc *d);
void doc_key(Doc *d, const char *k);
void doc_str(Doc *d, const char *s, size_t len);
void doc_cstr(Doc *d, const char *s);
void doc_int(Doc *d, int64_t v);
void doc_uint(Doc *d, uint64_t v);
void doc_num(Doc *d, double v);
void doc_nil(Doc *d);
void doc_bool(Doc *d, bool v);
/* A typed snapshot cell: time as an RFC 3339 string. */
void doc_value(Doc *d, const Value *v);

/* Shortest decimal for v that parses back to the same double; buf of 32 bytes.
 * Returns the length; v must be finite. */
size_t format_double_shortest(char *buf, double v);
/* The text of a cell as a URL path segment would spell it (the row index key). */
size_t format_value_text(char *buf, size_t n, const Value *v);
/* Length of the valid UTF-8 sequence at s[0..n), 0 if invalid: how JSON strings decide
 * which bytes become U+FFFD, for other text renderings (csv.c) to agree. */
size_t doc_utf8_sequence_length(const unsigned char *s, size_t n);
