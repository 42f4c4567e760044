/* A small INI tokenizer that reports line numbers.
 *
 * Debian's libinih 55 truncates lines at 200 bytes and does not pass line numbers to its
 * handler, and tally's aggregate lists are long and its errors must name file and line, so
 * the format is read here: [section], key = value, full-line comments starting with ';' or
 * '#', and inline comments introduced by " ;" or " #". Lines may be of any length. */
#pragma once

#include "util.h"

/* Called per key (key != NULL) and per section header (key == NULL). A negative return
 * stops parsing and is passed back. */
typedef int (*IniHandler)(void *userdata, unsigned line, const char *section, const char *key,
                          const char *value);

/* Parses text; on a syntax error calls error(userdata, line, reason) and returns -EINVAL. */
int ini_parse_string(const char *text, IniHandler handler,
                     void (*error)(void *userdata, unsigned line, const char *reason),
                     void *userdata);
