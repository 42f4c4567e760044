/* The manifest is what a consumer trusts before fetching a single chunk: it round-trips,
 * and anything inconsistent, unbounded or for another bucket is refused. */
#include "nats_manifest.h"
#include "test.h"

static NatsManifest sample(void)
{
        NatsManifest m = {
            .generation = 42,
            .bytes = 2500000,
            .chunks = 3,
            .chunk_bytes = 1044480,
            .xxh3 = UINT64_C(0x0123456789abcdef),
            .first_seq = 100,
            .last_seq = 102,
            .raw_bytes = 2500000,                      /* sent as is: the file */
            .wire_xxh3 = UINT64_C(0x0123456789abcdef), /* is the wire bytes */
        };
        snprintf(m.subject, sizeof(m.subject), "tally.tally.chunks.42.00ff00ff00ff00ff");
        return m;
}

/* The sample as a deflated file of 7,000,000 bytes sent as its 2,500,000 wire bytes. */
static NatsManifest deflated(void)
{
        NatsManifest m = sample();
        m.encoding = NATS_ENCODING_DEFLATE;
        m.raw_bytes = 7000000;
        m.wire_xxh3 = UINT64_C(0xfedcba9876543210);
        return m;
}

/* What tally-worker sends: a 7,000,000-byte file in 7 raw slices of 1,000,000, each
 * deflated on its own (or as is), 2,500,000 bytes on the wire in all. */
static NatsManifest chunked(void)
{
        NatsManifest m = sample();
        m.encoding = NATS_ENCODING_DEFLATE_CHUNKS;
        m.raw_bytes = 7000000;
        m.chunks = 7;
        m.chunk_bytes = 1000000;
        m.last_seq = 106;
        m.wire_xxh3 = 0;
        return m;
}

static int parse_text(const char *t, NatsManifest *m)
{
        char reason[256];
        return nats_manifest_parse(t, strlen(t), "tally", m, reason, sizeof(reason));
}

static void round_trips(void)
{
        NatsManifest m = sample(), back;
        char buf[NATS_MANIFEST_MAX_BYTES];
        size_t n = nats_manifest_format(&m, buf, sizeof(buf));
        char reason[256] = "";
        CHECK_EQ_INT(nats_manifest_parse(buf, n, "tally", &back, reason, sizeof(reason)), 0);
        CHECK(memcmp(&m, &back, sizeof(m)) == 0);
        CHECK_EQ_INT(nats_manifest_parse(buf, n, "other", &back, reason, sizeof(reason)), -EINVAL);
        CHECK(strstr(reason, "not under tally.other.chunks") != NULL);
}

/* A manifest without the encoding fields (as written before they existed, and still for
 * a file sent as is) reads as identity: the file is the wire bytes. */
/* Text appended to a formatted manifest, and what parsing it returns. */
typedef struct SuffixRow {
        const char *suffix;
        int r;
} SuffixRow;

static void check_suffix(const char *formatted, const SuffixRow *row)
{
        char text[2 * NATS_MANIFEST_MAX_BYTES];
        NatsManifest back;
        snprintf(text, sizeof(text), "%s%s", formatted, row->suffix);
        CHECK_EQ_INT(parse_text(text, &back), row->r);
}

static void identity_needs_no_encoding_fields(void)
{
        NatsManifest m = sample(), back;
        char buf[NATS_MANIFEST_MAX_BYTES];
        nats_manifest_format(&m, buf, sizeof(buf));
        CHECK(strstr(buf, "encoding") == NULL);
        CHECK_EQ_INT(parse_text(buf, &back), 0);
        CHECK_EQ_INT(back.encoding, NATS_ENCODING_IDENTITY);
        CHECK(back.raw_bytes == m.bytes);
        CHECK(back.wire_xxh3 == m.xxh3);
        /* explicit identity, consistent: accepted; inconsistent: refused */
        static const SuffixRow rows[] = {
            {"encoding identity\nraw_bytes 2500000\n", 0},
            {"raw_bytes 2500001\n", -EINVAL},
            {"wire_xxh3 0000000000000001\n", -EINVAL},
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                TEST_ROW(rows[i].suffix, check_suffix(buf, &rows[i]));
}

static void deflated_round_trips(void)
{
        NatsManifest m = deflated(), back;
        char buf[NATS_MANIFEST_MAX_BYTES];
        nats_manifest_format(&m, buf, sizeof(buf));
        CHECK(strstr(buf, "encoding deflate\nraw_bytes 7000000\nwire_xxh3 fedcba9876543210\n"));
        CHECK_EQ_INT(parse_text(buf, &back), 0);
        CHECK(memcmp(&m, &back, sizeof(m)) == 0);
}

/* A manifest formatted with its line for key replaced by line (or dropped: ""), and what
 * parsing it returns, and the reason's words when want is set. */
typedef struct LineRow {
        const char *key, *line;
        int r;
        const char *want;
} LineRow;

static const char *line_row_name(const LineRow *row, char *buf, size_t n)
{
        if (*row->line)
                return row->line;
        snprintf(buf, n, "no %s", row->key);
        return buf;
}

static void check_line(NatsManifest m, const LineRow *row)
{
        char buf[NATS_MANIFEST_MAX_BYTES], out[2 * NATS_MANIFEST_MAX_BYTES] = "", reason[256] = "";
        nats_manifest_format(&m, buf, sizeof(buf));
        char *save = NULL;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                bool match =
                    strncmp(l, row->key, strlen(row->key)) == 0 && l[strlen(row->key)] == ' ';
                strcat(out, match ? row->line : l);
                if (*(match ? row->line : l))
                        strcat(out, "\n");
        }
        CHECK_EQ_INT(nats_manifest_parse(out, strlen(out), "tally", &m, reason, sizeof(reason)),
                     row->r);
        if (row->want)
                CHECK(strstr(reason, row->want));
}

static void check_lines(NatsManifest m, const LineRow *rows, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                char name[64];
                TEST_ROW(line_row_name(&rows[i], name, sizeof(name)), check_line(m, &rows[i]));
        }
}

/* Sizes are what tally-sync allocates by, before a byte is fetched: a manifest lying about
 * them is refused, naming the lie. */
static void lying_sizes_are_refused(void)
{
        static const LineRow rows[] = {
            {"encoding", "encoding zstd", -EINVAL, "unknown encoding 'zstd'"},
            {"raw_bytes", "", -EINVAL, "needs raw_bytes and wire_xxh3"},
            {"wire_xxh3", "", -EINVAL, NULL},
            {"wire_xxh3", "wire_xxh3 xyz", -EINVAL, NULL},
            /* deflated but not smaller */
            {"raw_bytes", "raw_bytes 2500000", -EINVAL,
             "2500000 deflated bytes for a file of 2500000"},
            /* more than deflate can expand: 2.5 MB cannot be 3 GB */
            {"raw_bytes", "raw_bytes 3000000000", -EINVAL, "cannot inflate to 3000000000"},
            /* the largest expansion deflate allows is accepted (the inflate bound does the
             * rest) */
            {"raw_bytes", "raw_bytes 2580000000", 0, NULL},
            {"raw_bytes", "raw_bytes 9999999999999", -EINVAL, NULL}, /* over the 1 TiB bound */
            {"raw_bytes", "raw_bytes 0", -EINVAL, NULL},
            {"raw_bytes", "raw_bytes -5", -EINVAL, NULL},
            {"encoding", "encoding deflate\nencoding deflate", -EINVAL, NULL},
            /* the chunk arithmetic counts wire bytes: 3 chunks cannot hold 7 MB raw, but do
             * hold the 2.5 MB sent */
            {"chunks", "chunks 7", -EINVAL, NULL},
        };
        check_lines(deflated(), rows, ELEMENTSOF(rows));
}

static void inconsistent_manifests_are_refused(void)
{
        static const LineRow rows[] = {
            {"chunks", "chunks 4", -EINVAL, NULL},
            {"bytes", "bytes 0", -EINVAL, NULL},
            {"chunk_bytes", "chunk_bytes 1", -EINVAL, NULL},
            {"last_seq", "last_seq 101", -EINVAL, NULL},     /* 2 seqs, 3 chunks */
            {"last_seq", "last_seq 9999999", -EINVAL, NULL}, /* unbounded scan */
            {"xxh3", "xxh3 0123", -EINVAL, NULL},
            {"subject", "subject tally.tally.chunks.41.00ff", -EINVAL, NULL},
            {"subject", "subject tally.tally.chunks.42.>", -EINVAL, NULL},
            {"generation", "", -EINVAL, NULL}, /* missing */
            {"generation", "generation 42\ngeneration 42", -EINVAL, NULL},
            {"generation", "colour blue", -EINVAL, NULL},
            {"bytes", "bytes 99999999999999999999", -EINVAL, NULL},
        };
        check_lines(sample(), rows, ELEMENTSOF(rows));
}

static void garbage_is_refused(void)
{
        NatsManifest m;
        char reason[256];
        CHECK_EQ_INT(parse_text("", &m), -EINVAL);
        CHECK_EQ_INT(parse_text("tally-manifest 2\n", &m), -EINVAL);
        CHECK_EQ_INT(
            nats_manifest_parse("tally-manifest 1\n\0x", 19, "tally", &m, reason, sizeof(reason)),
            -EINVAL);
        char big[NATS_MANIFEST_MAX_BYTES + 2];
        memset(big, 'a', sizeof(big));
        CHECK_EQ_INT(nats_manifest_parse(big, sizeof(big), "tally", &m, reason, sizeof(reason)),
                     -EINVAL);
}

static void chunked_round_trips(void)
{
        NatsManifest m = chunked(), back;
        char buf[NATS_MANIFEST_MAX_BYTES];
        (void)nats_manifest_format(&m, buf, sizeof(buf));
        CHECK(strstr(buf, "encoding deflate-chunks\nraw_bytes 7000000\n") != NULL);
        CHECK(strstr(buf, "wire_xxh3") == NULL);
        CHECK_EQ_INT(parse_text(buf, &back), 0);
        CHECK(memcmp(&m, &back, sizeof(m)) == 0);
}

/* The chunked sample with these fields changed (0: as in the sample), and the reason's
 * words when refused ("": accepted). */
typedef struct ChunkedRow {
        const char *name;
        uint64_t chunks, last_seq, bytes, raw_bytes, chunk_bytes;
        const char *want;
} ChunkedRow;

static void check_chunked(const ChunkedRow *row)
{
        NatsManifest m = chunked(), back;
        m.chunks = row->chunks ? row->chunks : m.chunks;
        m.last_seq = row->last_seq ? row->last_seq : m.last_seq;
        m.bytes = row->bytes ? row->bytes : m.bytes;
        m.raw_bytes = row->raw_bytes ? row->raw_bytes : m.raw_bytes;
        m.chunk_bytes = row->chunk_bytes ? row->chunk_bytes : m.chunk_bytes;
        char buf[NATS_MANIFEST_MAX_BYTES], reason[256] = "";
        size_t n = nats_manifest_format(&m, buf, sizeof(buf));
        int r = nats_manifest_parse(buf, n, "tally", &back, reason, sizeof(reason));
        if (!*row->want) {
                CHECK_EQ_INT(r, 0);
                CHECK_STREQ(reason, "");
        } else {
                CHECK_EQ_INT(r, -EINVAL);
                CHECK(strstr(reason, row->want));
        }
}

static void chunked_lies_are_refused(void)
{
        static const ChunkedRow rows[] = {
            {"the chunks cut the file, not the wire bytes: 7 slices, not 3", .chunks = 3,
             .last_seq = 102, .want = "3 chunks of 1000000 bytes cannot hold 7000000 bytes"},
            {"more on the wire than the file: no chunk is longer than its slice", .bytes = 7000001,
             .want = "7000001 bytes on the wire for a file of 7000000"},
            {"every chunk sent as is: bytes == raw_bytes is honest", .bytes = 7000000, .want = ""},
            {"fewer wire bytes than chunks: a chunk would be empty", .raw_bytes = 7000,
             .chunk_bytes = 1000, .bytes = 6, .want = "6 bytes on the wire cannot fill 7 chunks"},
            {"a ratio deflate cannot reach", .bytes = 7000000 / NATS_DEFLATE_MAX_RATIO - 1,
             .want = "cannot inflate to 7000000"},
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                TEST_ROW(rows[i].name, check_chunked(&rows[i]));
}

static void chunked_needs_raw_bytes_and_no_wire_xxh3(void)
{
        char reason[256], buf[NATS_MANIFEST_MAX_BYTES];
        NatsManifest m = chunked(), back;
        /* raw_bytes missing, wire_xxh3 given */
        size_t n = nats_manifest_format(&m, buf, sizeof(buf));
        char *rb = strstr(buf, "raw_bytes");
        CHECK(rb != NULL);
        *rb = 0;
        CHECK_EQ_INT(
            nats_manifest_parse(buf, (size_t)(rb - buf), "tally", &back, reason, sizeof(reason)),
            -EINVAL);
        CHECK(strstr(reason, "deflate-chunks needs raw_bytes"));
        n = nats_manifest_format(&m, buf, sizeof(buf));
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "wire_xxh3 0123456789abcdef\n");
        CHECK_EQ_INT(nats_manifest_parse(buf, n, "tally", &back, reason, sizeof(reason)), -EINVAL);
        CHECK(strstr(reason, "deflate-chunks has no wire_xxh3"));
}

TEST_MAIN(TEST_CASE(chunked_round_trips), TEST_CASE(chunked_lies_are_refused),
          TEST_CASE(chunked_needs_raw_bytes_and_no_wire_xxh3), TEST_CASE(round_trips),
          TEST_CASE(identity_needs_no_encoding_fields), TEST_CASE(deflated_round_trips),
          TEST_CASE(lying_sizes_are_refused), TEST_CASE(inconsistent_manifests_are_refused),
          TEST_CASE(garbage_is_refused))
