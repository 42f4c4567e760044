/* Group keys: a row's group-by values as one byte string, so the group table hashes and
 * compares a key with memcmp, and the view output sorts and decodes it without the row.
 *
 * Per group-by column: one type byte (VALUE_NIL for a missing value), then 8 bytes of
 * value, or for a string a 4-byte length and the bytes. Numbers are stored with -0 folded
 * into 0, so the two are one group. A time bucket item (bucket(ts, 5m), month(ts)) is
 * stored as the bucket's start, computed here while the key is encoded, so a bucketed view
 * costs no pass of its own. */
#pragma once

#include "config.h"

/* The most bytes key_encode writes for a row whose strings total str_bytes. */
#define KEY_MAX_BYTES(str_bytes) ((str_bytes) + 16 * CONFIG_MAX_COLUMNS)

/* The start of the width-µs bucket t falls in, buckets aligned to the Unix epoch (floor
 * division: -1 µs is in the bucket before 0). BUCKET_MONTH: the first instant of t's
 * calendar month, UTC. Times too far out to have a representable start give INT64_MIN. */
int64_t key_bucket_start(int64_t t, uint64_t width);
/* Encodes the group-by columns of row into buf; returns the key's length. */
size_t key_encode(char *buf, const ViewConfig *v, const Value *row);
/* Orders two keys of one view column by column: missing first, then by value (strings
 * bytewise, shorter first on a common prefix). Returns <0, 0 or >0. */
int key_cmp(const char *a, size_t alen, const char *b, size_t blen);
/* The bytes the first k values of key take: two keys share their first k values exactly
 * when these prefixes are the same bytes. */
size_t key_prefix_len(const char *key, size_t k);
/* Decodes the n_keys values of a key; strings point into key. */
void key_decode(const char *key, size_t n_keys, Value *out);
