/* Configuration text parsed for the config tests, with every error formatted as a program
 * prints it (FILE:LINE: [section] key: reason), so a test checks what the operator reads. */
#pragma once

#include <stdio.h>

#include "config.h"

/* Parses text as if read from file; out gets every error, one per line ("" when none). */
static inline int configfix_parse(const char *file, const char *text, Config **ret, char *out,
                                  size_t n)
{
        _cleanup_(config_errors_freep) ConfigErrors *errors = NULL;
        int r = config_parse(file, text, ret, &errors);
        size_t len = 0;
        out[0] = 0;
        for (size_t i = 0; errors && i < errors->n && len < n; i++) {
                char line[1024];
                len += (size_t)snprintf(out + len, n - len, "%s\n",
                                        config_error_format(&errors->items[i], line, sizeof(line)));
        }
        return r;
}
