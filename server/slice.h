/* Prefix and range lookups: which rows of a view match given leading key values and, on
 * the key column right after them, a time range [from, to).
 *
 * The worker writes rows in key order (worker/key.c: per column, a missing value first,
 * then strings bytewise with the shorter first on a common prefix, numbers, ints and
 * times numerically), so every such match is one contiguous run of rows and therefore
 * one contiguous slice of each pre-rendered body (served_rows()). A SliceIndex finds the
 * run by binary search, without touching the rows: per key depth d it keeps the runs of
 * rows whose first d+1 key values are equal (where each starts, and its value in column
 * d). Depths 0..n_keys-2 serve prefixes; the last depth is kept only when its column is a
 * time (ranges after a prefix of n_keys-1 values). For the 24,000-row Q1 view keyed by
 * (region, product) that is 12 runs; for (region, bucket) one run per row.
 *
 * Built once per snapshot on the loader thread, in the snapshot's arena, read-only after.
 * A view whose rows are not in key order (no worker writes one) gets no index. */
#pragma once

#include "arena.h"
#include "snapshot.h"

typedef struct SliceLevel {
        size_t n;        /* runs at this depth */
        uint32_t *start; /* run i is rows [start[i], start[i+1]); start[n] = n_rows */
        Value *val;      /* the run's value in this key column; strings in the arena */
} SliceLevel;

typedef struct SliceIndex {
        bool sorted; /* false: rows out of key order, no levels */
        size_t n_rows;
        size_t n_keys;
        size_t n_levels; /* n_keys - 1, or n_keys when the last key column is a time */
        SliceLevel *levels;
        ValueType *key_types;
} SliceIndex;

/* A query: the leading key values, and optional bounds on key column n_prefix. */
typedef struct SliceQuery {
        const Value *prefix;
        size_t n_prefix;
        bool has_from, has_to;
        int64_t from, to; /* microseconds UTC, half-open */
} SliceQuery;

/* The order of two cells of one key column, exactly as worker/key.c's key_cmp orders
 * them: <0, 0, >0. A NaN (which no worker key holds) sorts after every number. */
int slice_value_cmp(const Value *a, const Value *b);

/* Indexes v into *ret, allocating in a. A view out of key order is not an error: the
 * index says so (ret->sorted false) and slice_find() refuses it. */
int slice_index_build(Arena *a, const SnapshotView *v, SliceIndex *ret);

/* The rows matching q: [*ret_first, *ret_first + *ret_n). 0 on success (possibly no rows);
 * -EMEDIUMTYPE if the view is not in key order; -EINVAL if q asks for more prefix values
 * than the index serves or a range on a column that is not a time (callers check first). */
int slice_find(const SliceIndex *ix, const SliceQuery *q, size_t *ret_first, size_t *ret_n);

/* Parses a path segment as a value of a key column of type t: strings as they are, ints
 * and numbers as decimals, times as RFC 3339 or epoch seconds; "null" is a missing value
 * in every type. Strings point into p. -EINVAL if the text is not of the type. */
int slice_parse_key(ValueType t, const char *p, size_t len, Value *ret);
