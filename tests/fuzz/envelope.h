/* The envelope the snapshot fuzz inputs of modes 1 and 2 are wrapped in (fuzz-snapshot.c,
 * and outcomes.c, which must judge an input exactly as the target reads it): a valid one,
 * so that mutations of the payload get past the checksum to the decoder. */
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "snapshot.h"

/* The envelope as the writer lays it out: fixarray(4), fixstr name, version, bin32
 * payload, uint64 checksum. */
static inline uint8_t *wrap_payload(const uint8_t *payload, size_t len, uint8_t version,
                                    size_t *ret_len)
{
        const size_t name_len = strlen(SNAPSHOT_FORMAT_NAME);
        size_t n = 1 + 1 + name_len + 1 + 5 + len + 9;
        uint8_t *buf = malloc(n), *p = buf;
        if (!buf)
                return NULL;
        *p++ = 0x94;
        *p++ = (uint8_t)(0xa0 | name_len);
        memcpy(p, SNAPSHOT_FORMAT_NAME, name_len);
        p += name_len;
        *p++ = version;
        *p++ = 0xc6;
        for (int i = 3; i >= 0; i--)
                *p++ = (uint8_t)(len >> (8 * i));
        memcpy(p, payload, len);
        p += len;
        uint64_t sum = XXH3_64bits(payload, len);
        *p++ = 0xcf;
        for (int i = 7; i >= 0; i--)
                *p++ = (uint8_t)(sum >> (8 * i));
        *ret_len = n;
        return buf;
}
