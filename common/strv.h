/* Lists of strings, as config values write them: "a, 'b, c', d".
 *
 * Config keys (columns, group_by, aggregates) and where clauses ("x in (a, b)") all split
 * a value on a separator, and a quoted item may hold the separator; one splitter keeps
 * them agreeing on what a quote means. */
#pragma once

#include "util.h"

/* Splits s on sep into trimmed, malloc'd items; an item quoted with ' or " may hold sep
 * (the quotes are kept: the caller decides what they mean). *ret is NULL-terminated.
 * Returns the number of items (an empty s is one empty item), -EINVAL on an unclosed
 * quote, -ENOMEM. */
int strv_split_quoted(const char *s, char sep, char ***ret);
char **strv_free(char **v);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);

/* Removes one level of matching quotes ('x' or "x") in place; returns the inner text. */
char *unquote(char *s);
