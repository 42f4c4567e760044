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
static void identity_needs_no_encoding_fields(void)
{
        NatsManifest m = sample(), back;
        char buf[NATS_MANIFEST_MAX_BYTES];
        size_t n = nats_manifest_format(&m, buf, sizeof(buf));
        CHECK(strstr(buf, "encoding") == NULL);
        CHECK_EQ_INT(parse_text(buf, &back), 0);
        CHECK_EQ_INT(back.encoding, NATS_ENCODING_IDENTITY);
        CHECK(back.raw_bytes == m.bytes);
        CHECK(back.wire_xxh3 == m.xxh3);
        /* explicit identity, consistent: accepted; inconsistent: refused */
        char text[2 * NATS_MANIFEST_MAX_BYTES];
        snprintf(text, sizeof(text), "%.*sencoding identity\nraw_bytes 2500000\n", (int)n, buf);
        CHECK_EQ_INT(parse_text(text, &back), 0);
        snprintf(text, sizeof(text), "%.*sraw_bytes 2500001\n", (int)n, buf);
        CHECK_EQ_INT(parse_text(text, &back), -EINVAL);
        snprintf(text, sizeof(text), "%.*swire_xxh3 0000000000000001\n", (int)n, buf);
        CHECK_EQ_INT(parse_text(text, &back), -EINVAL);
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

/* Formats the deflated sample with its line for key replaced (or dropped: ""). */
static int parse_deflated_with(const char *key, const char *line, char *reason, size_t rs)
{
        NatsManifest m = deflated();
        char buf[NATS_MANIFEST_MAX_BYTES], out[2 * NATS_MANIFEST_MAX_BYTES] = "";
        nats_manifest_format(&m, buf, sizeof(buf));
        char *save = NULL;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                bool match = strncmp(l, key, strlen(key)) == 0 && l[strlen(key)] == ' ';
                strcat(out, match ? line : l);
                if (*(match ? line : l))
                        strcat(out, "\n");
        }
        return nats_manifest_parse(out, strlen(out), "tally", &m, reason, rs);
}

/* Sizes are what tally-sync allocates by, before a byte is fetched: a manifest lying about
 * them is refused, naming the lie. */
static void lying_sizes_are_refused(void)
{
        char reason[256] = "";
        CHECK_EQ_INT(parse_deflated_with("encoding", "encoding zstd", reason, sizeof(reason)),
                     -EINVAL);
        CHECK(strstr(reason, "unknown encoding 'zstd'"));
        CHECK_EQ_INT(parse_deflated_with("raw_bytes", "", reason, sizeof(reason)), -EINVAL);
        CHECK(strstr(reason, "needs raw_bytes and wire_xxh3"));
        CHECK_EQ_INT(parse_deflated_with("wire_xxh3", "", reason, sizeof(reason)), -EINVAL);
        CHECK_EQ_INT(parse_deflated_with("wire_xxh3", "wire_xxh3 xyz", reason, sizeof(reason)),
                     -EINVAL);
        /* deflated but not smaller */
        CHECK_EQ_INT(parse_deflated_with("raw_bytes", "raw_bytes 2500000", reason, sizeof(reason)),
                     -EINVAL);
        CHECK(strstr(reason, "2500000 deflated bytes for a file of 2500000"));
        /* more than deflate can expand: 2.5 MB cannot be 3 GB */
        CHECK_EQ_INT(
            parse_deflated_with("raw_bytes", "raw_bytes 3000000000", reason, sizeof(reason)),
            -EINVAL);
        CHECK(strstr(reason, "cannot inflate to 3000000000"));
        /* the largest expansion deflate allows is accepted (the inflate bound does the rest) */
        CHECK_EQ_INT(
            parse_deflated_with("raw_bytes", "raw_bytes 2580000000", reason, sizeof(reason)), 0);
        CHECK_EQ_INT(
            parse_deflated_with("raw_bytes", "raw_bytes 9999999999999", reason, sizeof(reason)),
            -EINVAL); /* over the 1 TiB bound */
        CHECK_EQ_INT(parse_deflated_with("raw_bytes", "raw_bytes 0", reason, sizeof(reason)),
                     -EINVAL);
        CHECK_EQ_INT(parse_deflated_with("raw_bytes", "raw_bytes -5", reason, sizeof(reason)),
                     -EINVAL);
        CHECK_EQ_INT(parse_deflated_with("encoding", "encoding deflate\nencoding deflate", reason,
                                         sizeof(reason)),
                     -EINVAL);
        /* the chunk arithmetic counts wire bytes: 3 chunks cannot hold 7 MB raw, but do hold
         * the 2.5 MB sent */
        CHECK_EQ_INT(parse_deflated_with("chunks", "chunks 7", reason, sizeof(reason)), -EINVAL);
}

/* Replaces the line starting with key in the formatted sample. */
static int parse_with(const char *key, const char *line)
{
        NatsManifest m = sample();
        char buf[NATS_MANIFEST_MAX_BYTES], out[2 * NATS_MANIFEST_MAX_BYTES] = "";
        nats_manifest_format(&m, buf, sizeof(buf));
        char *save = NULL;
        for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                bool match = strncmp(l, key, strlen(key)) == 0 && l[strlen(key)] == ' ';
                strcat(out, match ? line : l);
                if (*(match ? line : l))
                        strcat(out, "\n");
        }
        return parse_text(out, &m);
}

static void inconsistent_manifests_are_refused(void)
{
        CHECK_EQ_INT(parse_with("chunks", "chunks 4"), -EINVAL);
        CHECK_EQ_INT(parse_with("bytes", "bytes 0"), -EINVAL);
        CHECK_EQ_INT(parse_with("chunk_bytes", "chunk_bytes 1"), -EINVAL);
        CHECK_EQ_INT(parse_with("last_seq", "last_seq 101"), -EINVAL);     /* 2 seqs, 3 chunks */
        CHECK_EQ_INT(parse_with("last_seq", "last_seq 9999999"), -EINVAL); /* unbounded scan */
        CHECK_EQ_INT(parse_with("xxh3", "xxh3 0123"), -EINVAL);
        CHECK_EQ_INT(parse_with("subject", "subject tally.tally.chunks.41.00ff"), -EINVAL);
        CHECK_EQ_INT(parse_with("subject", "subject tally.tally.chunks.42.>"), -EINVAL);
        CHECK_EQ_INT(parse_with("generation", ""), -EINVAL); /* missing */
        CHECK_EQ_INT(parse_with("generation", "generation 42\ngeneration 42"), -EINVAL);
        CHECK_EQ_INT(parse_with("generation", "colour blue"), -EINVAL);
        CHECK_EQ_INT(parse_with("bytes", "bytes 99999999999999999999"), -EINVAL);
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

/* Formats m, then parses it: the reason, or "" when accepted. */
static const char *verdict(const NatsManifest *m, char *reason, size_t rs)
{
        char buf[NATS_MANIFEST_MAX_BYTES];
        NatsManifest back;
        size_t n = nats_manifest_format(m, buf, sizeof(buf));
        reason[0] = 0;
        (void)nats_manifest_parse(buf, n, "tally", &back, reason, rs);
        return reason;
}

static void chunked_lies_are_refused(void)
{
        char reason[256], buf[NATS_MANIFEST_MAX_BYTES];
        NatsManifest m = chunked(), back;
        /* the chunks cut the file, not the wire bytes: 7 slices, not 3 */
        m.chunks = 3;
        m.last_seq = 102;
        CHECK(strstr(verdict(&m, reason, sizeof(reason)),
                     "3 chunks of 1000000 bytes cannot hold 7000000 bytes"));
        /* more on the wire than the file: no chunk is longer than its slice */
        m = chunked();
        m.bytes = 7000001;
        CHECK(strstr(verdict(&m, reason, sizeof(reason)),
                     "7000001 bytes on the wire for a file of 7000000"));
        /* every chunk sent as is: bytes == raw_bytes is honest */
        m.bytes = 7000000;
        CHECK(strcmp(verdict(&m, reason, sizeof(reason)), "") == 0);
        /* fewer wire bytes than chunks: a chunk would be empty */
        m = chunked();
        m.raw_bytes = 7000;
        m.chunk_bytes = 1000;
        m.bytes = 6;
        CHECK(strstr(verdict(&m, reason, sizeof(reason)),
                     "6 bytes on the wire cannot fill 7 chunks"));
        /* a ratio deflate cannot reach */
        m = chunked();
        m.bytes = 7000000 / NATS_DEFLATE_MAX_RATIO - 1;
        CHECK(strstr(verdict(&m, reason, sizeof(reason)), "cannot inflate to 7000000"));
        /* raw_bytes missing, wire_xxh3 given */
        m = chunked();
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
          TEST_CASE(round_trips), TEST_CASE(identity_needs_no_encoding_fields),
          TEST_CASE(deflated_round_trips), TEST_CASE(lying_sizes_are_refused),
          TEST_CASE(inconsistent_manifests_are_refused), TEST_CASE(garbage_is_refused))
