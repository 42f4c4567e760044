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
        };
        snprintf(m.subject, sizeof(m.subject), "tally.tally.chunks.42.00ff00ff00ff00ff");
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

TEST_MAIN(TEST_CASE(round_trips), TEST_CASE(inconsistent_manifests_are_refused),
          TEST_CASE(garbage_is_refused))
