#include "nats_manifest.h"

#include <inttypes.h>

void nats_stream_name(char *buf, size_t n, const char *bucket)
{
        snprintf(buf, n, NATS_STREAM_PREFIX "%s", bucket);
}

void nats_chunk_subject_prefix(char *buf, size_t n, const char *bucket)
{
        snprintf(buf, n, "tally.%s.chunks", bucket);
}

size_t nats_manifest_format(const NatsManifest *m, char *buf, size_t n)
{
        int k = snprintf(buf, n,
                         "tally-manifest 1\n"
                         "generation %" PRIu64 "\n"
                         "bytes %" PRIu64 "\n"
                         "chunks %" PRIu64 "\n"
                         "chunk_bytes %" PRIu64 "\n"
                         "xxh3 %016" PRIx64 "\n"
                         "subject %s\n"
                         "first_seq %" PRIu64 "\n"
                         "last_seq %" PRIu64 "\n",
                         m->generation, m->bytes, m->chunks, m->chunk_bytes, m->xxh3, m->subject,
                         m->first_seq, m->last_seq);
        if (k >= 0 && (size_t)k < n && m->encoding == NATS_ENCODING_DEFLATE)
                k += snprintf(buf + k, n - (size_t)k,
                              "encoding deflate\n"
                              "raw_bytes %" PRIu64 "\n"
                              "wire_xxh3 %016" PRIx64 "\n",
                              m->raw_bytes, m->wire_xxh3);
        else if (k >= 0 && (size_t)k < n && m->encoding == NATS_ENCODING_DEFLATE_CHUNKS)
                k += snprintf(buf + k, n - (size_t)k,
                              "encoding deflate-chunks\n"
                              "raw_bytes %" PRIu64 "\n",
                              m->raw_bytes);
        return k < 0 ? 0 : MIN((size_t)k, n - 1);
}

static int parse_hex64(const char *s, uint64_t *ret)
{
        uint64_t v = 0;
        if (strlen(s) != 16)
                return -EINVAL;
        for (; *s; s++) {
                int d = *s >= '0' && *s <= '9'   ? *s - '0'
                        : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
                                                 : -1;
                if (d < 0)
                        return -EINVAL;
                v = v << 4 | (uint64_t)d;
        }
        *ret = v;
        return 0;
}

static bool is_hex_token(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

#define FAIL(...)                                           \
        do {                                                \
                snprintf(reason, reason_size, __VA_ARGS__); \
                return -EINVAL;                             \
        } while (0)

int nats_manifest_parse(const void *data, size_t len, const char *bucket, NatsManifest *ret,
                        char *reason, size_t reason_size)
{
        static const char *const keys[] = {"generation", "bytes",     "chunks",    "chunk_bytes",
                                           "xxh3",       "subject",   "first_seq", "last_seq",
                                           "encoding",   "raw_bytes", "wire_xxh3"};
        enum {
                REQUIRED = (1u << 8) - 1,
                ENCODING = 1u << 8,
                RAW_BYTES = 1u << 9,
                WIRE_XXH3 = 1u << 10
        };
        char text[NATS_MANIFEST_MAX_BYTES + 1];
        NatsManifest m = {};
        unsigned seen = 0;

        if (len == 0 || len > NATS_MANIFEST_MAX_BYTES)
                FAIL("manifest of %zu bytes (1..%d)", len, NATS_MANIFEST_MAX_BYTES);
        memcpy(text, data, len);
        text[len] = 0;
        if (strlen(text) != len)
                FAIL("manifest contains a NUL byte");
        char *save = NULL, *line = strtok_r(text, "\n", &save);
        if (!line || strcmp(line, "tally-manifest 1") != 0)
                FAIL("not a tally-manifest version 1");
        while ((line = strtok_r(NULL, "\n", &save))) {
                char *sp = strchr(line, ' ');
                if (!sp)
                        FAIL("line '%.40s' is not 'key value'", line);
                *sp = 0;
                const char *key = line, *val = sp + 1;
                size_t k = 0;
                while (k < ELEMENTSOF(keys) && strcmp(keys[k], key) != 0)
                        k++;
                if (k == ELEMENTSOF(keys))
                        FAIL("unknown field '%.40s'", key);
                if (seen & (1u << k))
                        FAIL("field '%s' given twice", key);
                seen |= 1u << k;
                int r = 0;
                switch (k) {
                case 0: r = parse_uint(val, 1, UINT64_MAX - 1, &m.generation); break;
                case 1: r = parse_uint(val, 1, UINT64_C(1) << 40, &m.bytes); break;
                case 2: r = parse_uint(val, 1, NATS_MAX_CHUNKS, &m.chunks); break;
                case 3: r = parse_uint(val, 1, UINT64_C(64) << 20, &m.chunk_bytes); break;
                case 4: r = parse_hex64(val, &m.xxh3); break;
                case 5: r = strcpy_checked(m.subject, sizeof(m.subject), val); break;
                case 6: r = parse_uint(val, 1, UINT64_MAX / 2, &m.first_seq); break;
                case 7: r = parse_uint(val, 1, UINT64_MAX / 2, &m.last_seq); break;
                case 8:
                        if (strcmp(val, "deflate") == 0)
                                m.encoding = NATS_ENCODING_DEFLATE;
                        else if (strcmp(val, "deflate-chunks") == 0)
                                m.encoding = NATS_ENCODING_DEFLATE_CHUNKS;
                        else if (strcmp(val, "identity") != 0)
                                FAIL("unknown encoding '%.40s'", val);
                        break;
                case 9: r = parse_uint(val, 1, UINT64_C(1) << 40, &m.raw_bytes); break;
                case 10: r = parse_hex64(val, &m.wire_xxh3); break;
                }
                if (r < 0)
                        FAIL("field '%s': bad value '%.40s'", key, val);
        }
        if ((seen & REQUIRED) != REQUIRED)
                FAIL("a field is missing");
        if (m.encoding == NATS_ENCODING_IDENTITY) {
                if ((seen & RAW_BYTES) && m.raw_bytes != m.bytes)
                        FAIL("raw_bytes %" PRIu64 " but %" PRIu64 " bytes sent as is", m.raw_bytes,
                             m.bytes);
                if ((seen & WIRE_XXH3) && m.wire_xxh3 != m.xxh3)
                        FAIL("wire_xxh3 differs from xxh3 for a file sent as is");
                m.raw_bytes = m.bytes;
                m.wire_xxh3 = m.xxh3;
        } else if (m.encoding == NATS_ENCODING_DEFLATE) {
                if ((seen & (RAW_BYTES | WIRE_XXH3)) != (RAW_BYTES | WIRE_XXH3))
                        FAIL("encoding deflate needs raw_bytes and wire_xxh3");
                /* the publisher deflates only what it makes smaller */
                if (m.bytes >= m.raw_bytes)
                        FAIL("%" PRIu64 " deflated bytes for a file of %" PRIu64, m.bytes,
                             m.raw_bytes);
                if (m.raw_bytes / NATS_DEFLATE_MAX_RATIO > m.bytes)
                        FAIL("%" PRIu64 " deflated bytes cannot inflate to %" PRIu64, m.bytes,
                             m.raw_bytes);
        } else {
                if (!(seen & RAW_BYTES))
                        FAIL("encoding deflate-chunks needs raw_bytes");
                if (seen & WIRE_XXH3)
                        FAIL("encoding deflate-chunks has no wire_xxh3");
                /* each chunk is its slice or shorter, at least one byte, and at most
                 * 1032 times shorter */
                if (m.bytes > m.raw_bytes)
                        FAIL("%" PRIu64 " bytes on the wire for a file of %" PRIu64, m.bytes,
                             m.raw_bytes);
                if (m.raw_bytes / NATS_DEFLATE_MAX_RATIO > m.bytes)
                        FAIL("%" PRIu64 " deflated bytes cannot inflate to %" PRIu64, m.bytes,
                             m.raw_bytes);
        }
        /* the chunks cut the wire bytes, or (deflate-chunks) the file */
        uint64_t cut = m.encoding == NATS_ENCODING_DEFLATE_CHUNKS ? m.raw_bytes : m.bytes;
        if ((cut + m.chunk_bytes - 1) / m.chunk_bytes != m.chunks)
                FAIL("%" PRIu64 " chunks of %" PRIu64 " bytes cannot hold %" PRIu64 " bytes",
                     m.chunks, m.chunk_bytes, cut);
        if (m.bytes < m.chunks)
                FAIL("%" PRIu64 " bytes on the wire cannot fill %" PRIu64 " chunks", m.bytes,
                     m.chunks);
        if (m.last_seq < m.first_seq || m.last_seq - m.first_seq + 1 < m.chunks ||
            m.last_seq - m.first_seq + 1 > m.chunks * NATS_MAX_SCAN_FACTOR)
                FAIL("sequences %" PRIu64 "..%" PRIu64 " do not fit %" PRIu64 " chunks",
                     m.first_seq, m.last_seq, m.chunks);

        /* subject: tally.<bucket>.chunks.<generation>.<hex> */
        char prefix[NATS_MAX_SUBJECT], gen[32];
        nats_chunk_subject_prefix(prefix, sizeof(prefix), bucket);
        size_t pl = strlen(prefix);
        if (strncmp(m.subject, prefix, pl) != 0 || m.subject[pl] != '.')
                FAIL("subject '%s' is not under %s", m.subject, prefix);
        snprintf(gen, sizeof(gen), "%" PRIu64 ".", m.generation);
        const char *tail = m.subject + pl + 1;
        if (strncmp(tail, gen, strlen(gen)) != 0 || !is_hex_token(tail + strlen(gen)))
                FAIL("subject '%s' does not name generation %" PRIu64, m.subject, m.generation);
        *ret = m;
        return 0;
}
