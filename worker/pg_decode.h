/* The PostgreSQL column types tally reads, and COPY's rows of them into Values, in both of
 * COPY's forms (pg_copy.h says when each is used).
 *
 * Apart from pg_copy.c because decoding bytes is one concern and talking to the server
 * another: this side needs no connection and no libpq call, only the column types the
 * describe step found. Every field is untrusted: a length that overruns the message, a
 * wrong width, NaN, ±infinity, a date out of range is a bad row with a reason, never a
 * read past the buffer. */
#pragma once

#include <postgres_ext.h>

#include "util.h"
#include "value.h"

/* Whether a column of this type decodes to t (pg_copy.h lists the pairs). */
bool pg_type_gives(Oid oid, ValueType t);
/* The type's SQL name for a message, or "type oid N" written into buf. */
const char *pg_type_name(Oid oid, char *buf, size_t n);

/* Held by its PgCopy, which allocates oids and row and frees them and scratch. */
typedef struct PgDecoder {
        Oid *oids; /* per declared column, from the describe step */
        Value *row;
        size_t n_columns;
        char *scratch; /* text COPY: unescaped fields */
        size_t scratch_cap;
        bool header_seen; /* binary COPY: reset before each stream */
} PgDecoder;

/* Outcomes of one CopyData message; negative errno on failure. */
enum {
        PG_DECODE_SKIP = 0, /* not a row (binary header alone, trailer) */
        PG_DECODE_ROW = 1,  /* a row in d->row; strings point into the message or scratch */
        PG_DECODE_BAD = 2,  /* a bad row, *why says why */
};

/* Binary COPY. The server sends the header with the first row, the trailer alone; both
 * are accepted either way. */
int pg_decode_binary(PgDecoder *d, const uint8_t *p, size_t n, const char **why);

/* Text COPY: tab-separated fields, \N for NULL, backslash escapes. -ENOMEM when the
 * scratch cannot grow. */
int pg_decode_text(PgDecoder *d, const char *p, size_t n, const char **why);
