/* The snapshot contract: what the writer encodes, the reader returns unchanged; anything
 * else a file may contain is rejected with a reason and without a large allocation. */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <msgpack.h>
#include <sys/stat.h>

#include "mp_cursor.h"
#include "snapshot_dir.h"
#include "snapshot_read.h"
#include "snapshot_write.h"
#include "test.h"

static const SnapshotColumn all_types[] = {
    {"name", VALUE_STR}, {"n", VALUE_INT}, {"x", VALUE_NUM}, {"ts", VALUE_TIME}};

/* A small snapshot with every column type, a nil, non-ASCII text and an empty view. Returns
 * the first failure of an add (0 when all succeeded). */
static int fill_sample(SnapshotWriter *w)
{
        int first = 0, r;
#define TRY(call)                        \
        do {                             \
                r = (call);              \
                if (r < 0 && first == 0) \
                        first = r;       \
        } while (0)
        snapshot_writer_set_stats(
            w,
            &(SnapshotStats){.rows_read = 10, .rows_rejected = 1, .duration_ms = 5, .host = "h1"});
        TRY(snapshot_writer_add_source(
            w,
            &(SnapshotSource){
                .name = "events", .type = "csv", .files = 2, .rows_read = 10, .rows_rejected = 1}));
        TRY(snapshot_writer_begin_view(w, "sales", 1, 4, all_types, 3));
        TRY(snapshot_writer_put_str(w, "eu-west", 7));
        TRY(snapshot_writer_put_int(w, -42));
        TRY(snapshot_writer_put_num(w, 0.1));
        TRY(snapshot_writer_put_time(w, INT64_C(1767225600123456)));
        TRY(snapshot_writer_put_str(w, "Zürich – 東京", strlen("Zürich – 東京")));
        TRY(snapshot_writer_put_int(w, INT64_MAX));
        TRY(snapshot_writer_put_num(w, -1e300));
        TRY(snapshot_writer_put_nil(w));
        TRY(snapshot_writer_put_str(w, "", 0));
        TRY(snapshot_writer_put_int(w, INT64_MIN));
        TRY(snapshot_writer_put_nil(w));
        TRY(snapshot_writer_put_time(w, -1));
        TRY(snapshot_writer_end_view(w));
        TRY(snapshot_writer_begin_view(w, "empty", 0, 1, all_types + 1, 0));
        TRY(snapshot_writer_end_view(w));
        return first;
#undef TRY
}

static SnapshotWriter *sample_writer(void)
{
        SnapshotWriter *w = NULL;
        if (snapshot_writer_new(&w) < 0)
                return NULL;
        fill_sample(w);
        return w;
}

static int encode_sample(void **buf, size_t *len)
{
        _cleanup_(snapshot_writer_freep) SnapshotWriter *w = sample_writer();
        if (!w)
                return -ENOMEM;
        return snapshot_writer_encode(w, 7, 1000, buf, len);
}

static void round_trip_keeps_every_type_and_value(void)
{
        _cleanup_free_ void *buf = NULL;
        size_t len;
        CHECK(encode_sample(&buf, &len) == 0);
        _cleanup_(snapshot_freep) Snapshot *s = NULL;
        char reason[256] = "";
        CHECK_EQ_INT(snapshot_read_buffer(buf, len, &s, reason, sizeof(reason)), 0);
        CHECK_EQ_INT(s->generation, 7);
        CHECK_EQ_INT(s->created_usec, 1000);
        CHECK_EQ_INT(s->stats.rows_read, 10);
        CHECK_STREQ(s->stats.host, "h1");
        CHECK_EQ_INT(s->n_sources, 1);
        CHECK_STREQ(s->sources[0].name, "events");
        CHECK_EQ_INT(s->sources[0].files, 2);
        CHECK_EQ_INT(s->n_views, 2);
        const SnapshotView *v = snapshot_find_view(s, "sales");
        CHECK(v);
        CHECK_EQ_INT(v->n_keys, 1);
        CHECK_EQ_INT(v->n_columns, 4);
        CHECK_EQ_INT(v->n_rows, 3);
        for (size_t i = 0; i < 4; i++) {
                CHECK_STREQ(v->columns[i].name, all_types[i].name);
                CHECK_EQ_INT(v->columns[i].type, all_types[i].type);
        }
        const Value *r0 = snapshot_view_row(v, 0), *r1 = snapshot_view_row(v, 1),
                    *r2 = snapshot_view_row(v, 2);
        CHECK(r0[0].type == VALUE_STR && r0[0].len == 7 && memcmp(r0[0].s, "eu-west", 7) == 0);
        CHECK(r0[1].type == VALUE_INT && r0[1].i == -42);
        CHECK(r0[2].type == VALUE_NUM && r0[2].d == 0.1);
        CHECK(r0[3].type == VALUE_TIME && r0[3].i == INT64_C(1767225600123456));
        CHECK(r1[0].len == strlen("Zürich – 東京") &&
              memcmp(r1[0].s, "Zürich – 東京", r1[0].len) == 0);
        CHECK(r1[1].i == INT64_MAX && r1[2].d == -1e300 && r1[3].type == VALUE_NIL);
        CHECK(r2[0].type == VALUE_STR && r2[0].len == 0);
        CHECK(r2[1].i == INT64_MIN && r2[2].type == VALUE_NIL && r2[3].i == -1);
        const SnapshotView *e = snapshot_find_view(s, "empty");
        CHECK(e && e->n_rows == 0 && e->n_keys == 0);
        CHECK(snapshot_find_view(s, "missing") == NULL);
}

static void worker_usage_round_trips(void)
{
        _cleanup_(snapshot_writer_freep) SnapshotWriter *w = NULL;
        CHECK(snapshot_writer_new(&w) == 0);
        snapshot_writer_set_stats(w, &(SnapshotStats){.rows_read = 3,
                                                      .duration_ms = 9,
                                                      .host = "h2",
                                                      .has_usage = true,
                                                      .peak_rss_kib = 245760,
                                                      .cpu_ms = 1234,
                                                      .wall_ms = 1630});
        _cleanup_free_ void *buf = NULL;
        size_t len;
        CHECK(snapshot_writer_encode(w, 8, 2000, &buf, &len) == 0);
        _cleanup_(snapshot_freep) Snapshot *s = NULL;
        char reason[256] = "";
        CHECK_EQ_INT(snapshot_read_buffer(buf, len, &s, reason, sizeof(reason)), 0);
        CHECK(s->stats.has_usage);
        CHECK_EQ_INT(s->stats.peak_rss_kib, 245760);
        CHECK_EQ_INT(s->stats.cpu_ms, 1234);
        CHECK_EQ_INT(s->stats.wall_ms, 1630);
        CHECK_EQ_INT(s->stats.duration_ms, 9);
        CHECK_STREQ(s->stats.host, "h2");
}

/* A writer without usage encodes the worker map exactly as before the usage keys
 * existed (four keys): such older snapshots load, with has_usage false. */
static void snapshot_without_usage_keys_still_loads(void)
{
        _cleanup_free_ void *buf = NULL;
        size_t len;
        CHECK(encode_sample(&buf, &len) == 0);
        CHECK(memmem(buf, len, "peak_rss_kib", 12) == NULL);
        _cleanup_(snapshot_freep) Snapshot *s = NULL;
        char reason[256] = "";
        CHECK_EQ_INT(snapshot_read_buffer(buf, len, &s, reason, sizeof(reason)), 0);
        CHECK(!s->stats.has_usage);
        CHECK_EQ_INT(s->stats.peak_rss_kib, 0);
        CHECK_EQ_INT(s->stats.cpu_ms, 0);
        CHECK_EQ_INT(s->stats.wall_ms, 0);
        CHECK_EQ_INT(s->stats.duration_ms, 5);
}

static void writer_refuses_wrong_cell_types_and_counts(void)
{
        _cleanup_(snapshot_writer_freep) SnapshotWriter *w = NULL;
        CHECK(snapshot_writer_new(&w) == 0);
        CHECK(snapshot_writer_begin_view(w, "v", 0, 1, all_types, 1) == 0);
        CHECK(snapshot_writer_put_int(w, 1) == -EINVAL); /* column 0 is str */
        CHECK(snapshot_writer_end_view(w) == -EINVAL);   /* one cell still owed */
        CHECK(snapshot_writer_put_str(w, "a", 1) == 0);
        CHECK(snapshot_writer_put_str(w, "b", 1) == -EINVAL); /* more cells than rows */
        CHECK(snapshot_writer_end_view(w) == 0);
        CHECK(snapshot_writer_begin_view(w, "k", 2, 1, all_types, 0) == -EINVAL);
}

static void every_truncation_is_rejected(void)
{
        _cleanup_free_ void *buf = NULL;
        size_t len;
        CHECK(encode_sample(&buf, &len) == 0);
        for (size_t cut = 0; cut < len; cut++) {
                Snapshot *s = NULL;
                char reason[256] = "";
                int r = snapshot_read_buffer(buf, cut, &s, reason, sizeof(reason));
                if (r == 0)
                        snapshot_free(s);
                CHECK(r < 0);
                CHECK(reason[0] != 0);
        }
}

static void every_single_bit_flip_is_rejected(void)
{
        _cleanup_free_ void *buf = NULL;
        size_t len;
        CHECK(encode_sample(&buf, &len) == 0);
        unsigned char *b = buf;
        for (size_t i = 0; i < len; i++)
                for (int bit = 0; bit < 8; bit++) {
                        b[i] ^= (unsigned char)(1u << bit);
                        Snapshot *s = NULL;
                        char reason[256] = "";
                        int r = snapshot_read_buffer(buf, len, &s, reason, sizeof(reason));
                        if (r == 0)
                                snapshot_free(s);
                        b[i] ^= (unsigned char)(1u << bit);
                        if (r == 0)
                                fprintf(stderr, "# flip at byte %zu bit %d accepted\n", i, bit);
                        CHECK(r < 0);
                }
}

/* Wraps payload in a valid envelope (correct checksum), so only the count checks stand
 * between a hostile header and the allocator. */
#include <xxhash.h>
static size_t envelope(unsigned char *out, const unsigned char *payload, size_t plen)
{
        size_t n = 0;
        out[n++] = 0x94;
        out[n++] = 0xa0 | 14;
        memcpy(out + n, "tally.snapshot", 14);
        n += 14;
        out[n++] = 0x01;
        out[n++] = 0xc6;
        for (int i = 3; i >= 0; i--)
                out[n++] = (unsigned char)(plen >> (8 * i));
        memcpy(out + n, payload, plen);
        n += plen;
        uint64_t sum = XXH3_64bits(payload, plen);
        out[n++] = 0xcf;
        for (int i = 7; i >= 0; i--)
                out[n++] = (unsigned char)(sum >> (8 * i));
        return n;
}

static void hostile_element_count_is_rejected_without_allocating(void)
{
        /* {generation: 1, views: [{name: "v", columns: [["c","int"]], rows: array32(2^32-1)}]} */
        static const unsigned char payload[] = {
            0x82, 0xaa, 'g',  'e', 'n', 'e',  'r',  'a',  't',  'i',  'o',  'n',  0x01, 0xa5,
            'v',  'i',  'e',  'w', 's', 0x91, 0x83, 0xa4, 'n',  'a',  'm',  'e',  0xa1, 'v',
            0xa7, 'c',  'o',  'l', 'u', 'm',  'n',  's',  0x91, 0x92, 0xa1, 'c',  0xa3, 'i',
            'n',  't',  0xa4, 'r', 'o', 'w',  's',  0xdd, 0xff, 0xff, 0xff, 0xff,
        };
        unsigned char file[256];
        size_t len = envelope(file, payload, sizeof(payload));
        size_t before = arena_peak_mapped();
        Snapshot *s = NULL;
        char reason[256] = "";
        CHECK(snapshot_read_buffer(file, len, &s, reason, sizeof(reason)) < 0);
        CHECK(strstr(reason, "rows") != NULL);
        /* the arena for the copy is 256 KiB; a counted allocation would be ~64 GiB */
        CHECK(arena_peak_mapped() - before <= 1024 * 1024);

        /* and the same count on a map at the top level */
        static const unsigned char map32[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
        len = envelope(file, map32, sizeof(map32));
        CHECK(snapshot_read_buffer(file, len, &s, reason, sizeof(reason)) < 0);
}

static void cursor_checks_counts_against_bytes_left(void)
{
        static const unsigned char arr32[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
        MpCursor c;
        uint32_t n;
        mp_cursor_init(&c, arr32, sizeof(arr32));
        CHECK(mp_read_array(&c, &n) == -EBADMSG);
        static const unsigned char str32[] = {0xdb, 0x7f, 0xff, 0xff, 0xff, 'a'};
        const char *s;
        mp_cursor_init(&c, str32, sizeof(str32));
        CHECK(mp_read_str(&c, &s, &n) == -EBADMSG);
        /* nesting beyond the limit is refused while skipping */
        unsigned char deep[64];
        memset(deep, 0x91, sizeof(deep));
        deep[63] = 0xc0;
        mp_cursor_init(&c, deep, sizeof(deep));
        CHECK(mp_skip(&c, 16) == -ELOOP);
}

static void wrong_version_is_rejected_with_reason(void)
{
        _cleanup_free_ void *buf = NULL;
        size_t len;
        CHECK(encode_sample(&buf, &len) == 0);
        unsigned char *b = buf;
        CHECK(b[16] == SNAPSHOT_FORMAT_VERSION); /* 0x94, fixstr(14) + 14 bytes, version */
        b[16] = 3;
        Snapshot *s = NULL;
        char reason[256] = "";
        CHECK(snapshot_read_buffer(buf, len, &s, reason, sizeof(reason)) == -EPROTONOSUPPORT);
        CHECK(strstr(reason, "version 3") != NULL);
        /* version 2 is read, but a v1 payload labelled 2 lacks its bodies */
        b[16] = SNAPSHOT_FORMAT_VERSION_BODIES;
        CHECK(snapshot_read_buffer(buf, len, &s, reason, sizeof(reason)) == -EBADMSG);
        CHECK(strstr(reason, "without serve and bodies") != NULL);
}

static int make_dir(char *tmpl)
{
        return mkdtemp(tmpl) ? 0 : -errno;
}

static size_t count_entries(const char *dir, const char *prefix)
{
        DIR *d = opendir(dir);
        size_t n = 0;
        struct dirent *de;
        while (d && (de = readdir(d)))
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
                        n++;
        if (d)
                closedir(d);
        return n;
}

static void publish_increments_generation_and_keeps_newest(void)
{
        char dir[] = "/tmp/tally-test-snap-XXXXXX";
        CHECK(make_dir(dir) == 0);
        uint64_t gen = 0;
        for (uint64_t i = 1; i <= 5; i++) {
                _cleanup_(snapshot_writer_freep) SnapshotWriter *w = sample_writer();
                CHECK(w);
                CHECK_EQ_INT(snapshot_writer_publish(w, dir, 3, 0, &gen, NULL), 0);
                CHECK_EQ_INT(gen, i);
        }
        CHECK_EQ_INT(count_entries(dir, SNAPSHOT_NAME_PREFIX), 3);
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        uint64_t newest;
        CHECK(snapshot_dir_newest(dfd, &newest) == 0);
        CHECK_EQ_INT(newest, 5);
        char name[SNAPSHOT_NAME_MAX];
        snapshot_name(name, sizeof(name), 5);
        _cleanup_(snapshot_freep) Snapshot *s = NULL;
        char reason[256];
        CHECK(snapshot_read_file(dfd, name, SNAPSHOT_MAX_FILE_BYTES, &s, reason, sizeof(reason)) ==
              0);
        CHECK_EQ_INT(s->generation, 5);
        for (uint64_t g = 3; g <= 5; g++) {
                snapshot_name(name, sizeof(name), g);
                unlinkat(dfd, name, 0);
        }
        rmdir(dir);
}

static void publish_removes_stale_temp_files(void)
{
        char dir[] = "/tmp/tally-test-snap-XXXXXX";
        CHECK(make_dir(dir) == 0);
        char stale[128];
        snprintf(stale, sizeof(stale), "%s/" SNAPSHOT_TMP_PREFIX "00000000000000000001-1", dir);
        int fd = open(stale, O_CREAT | O_WRONLY, 0600);
        CHECK(fd >= 0);
        close(fd);
        _cleanup_(snapshot_writer_freep) SnapshotWriter *w = sample_writer();
        uint64_t gen;
        CHECK(snapshot_writer_publish(w, dir, 1, 0, &gen, NULL) == 0);
        CHECK_EQ_INT(count_entries(dir, SNAPSHOT_TMP_PREFIX), 0);
        CHECK_EQ_INT(count_entries(dir, SNAPSHOT_NAME_PREFIX), 1);
        char name[SNAPSHOT_NAME_MAX + 64];
        snprintf(name, sizeof(name), "%s/", dir);
        snapshot_name(name + strlen(name), sizeof(name) - strlen(name), gen);
        unlink(name);
        rmdir(dir);
}

/* A file claiming the largest generation leaves no next one: publishing fails loudly
 * instead of wrapping to generation 0, which no reader would ever pick up. */
static void publish_refuses_to_wrap_the_generation(void)
{
        char dir[] = "/tmp/tally-test-snap-XXXXXX";
        CHECK(make_dir(dir) == 0);
        char top[128];
        snprintf(top, sizeof(top), "%s/", dir);
        snapshot_name(top + strlen(top), sizeof(top) - strlen(top), UINT64_MAX);
        int fd = open(top, O_CREAT | O_WRONLY, 0600);
        CHECK(fd >= 0);
        close(fd);
        _cleanup_(snapshot_writer_freep) SnapshotWriter *w = sample_writer();
        uint64_t gen = 0;
        int r = snapshot_writer_publish(w, dir, 3, 0, &gen, NULL);
        size_t snapshots = count_entries(dir, SNAPSHOT_NAME_PREFIX);
        size_t temps = count_entries(dir, SNAPSHOT_TMP_PREFIX);
        unlink(top);
        rmdir(dir);
        CHECK_EQ_INT(r, -EOVERFLOW);
        CHECK_EQ_INT(snapshots, 1);
        CHECK_EQ_INT(temps, 0);
}

static void publish_past_deadline_leaves_nothing(void)
{
        char dir[] = "/tmp/tally-test-snap-XXXXXX";
        CHECK(make_dir(dir) == 0);
        _cleanup_(snapshot_writer_freep) SnapshotWriter *w = sample_writer();
        uint64_t gen;
        CHECK(snapshot_writer_publish(w, dir, 1, 1 /* long past */, &gen, NULL) == -ETIME);
        CHECK_EQ_INT(count_entries(dir, "."), 2); /* only . and .. */
        CHECK_EQ_INT(count_entries(dir, "s"), 0);
        rmdir(dir);
}

/* Fails the fail_at'th buffer write, as a failed realloc inside msgpack would. */
static size_t writes, fail_at;
static int failing_write(void *sbuffer, const char *buf, size_t len)
{
        if (++writes == fail_at)
                return -1;
        return msgpack_sbuffer_write(sbuffer, buf, len);
}

/* Once a payload could have a hole with a valid checksum: every pack result is checked,
 * so whichever write fails, publishing fails and leaves the directory as it was. */
static void failed_write_anywhere_publishes_nothing(void)
{
        char dir[] = "/tmp/tally-test-snap-XXXXXX";
        CHECK(make_dir(dir) == 0);
        size_t total = 0;
        for (fail_at = 1;; fail_at++) {
                _cleanup_(snapshot_writer_freep) SnapshotWriter *w = NULL;
                CHECK(snapshot_writer_new(&w) == 0);
                snapshot_writer_set_buffer_write(w, failing_write);
                writes = 0;
                int added = fill_sample(w);
                uint64_t gen = 0;
                int r = snapshot_writer_publish(w, dir, 3, 0, &gen, NULL);
                if (writes < fail_at) { /* no write failed: the run is complete */
                        CHECK_EQ_INT(added, 0);
                        CHECK_EQ_INT(r, 0);
                        total = writes;
                        break;
                }
                if (added != 0 && added != -ENOMEM) {
                        fprintf(stderr, "# write %zu: an add returned %d\n", fail_at, added);
                        test_failures_in_case++;
                }
                size_t snapshots = count_entries(dir, SNAPSHOT_NAME_PREFIX);
                size_t temps = count_entries(dir, SNAPSHOT_TMP_PREFIX);
                if (r != -ENOMEM || snapshots != 0 || temps != 0) {
                        fprintf(stderr, "# write %zu failed: publish %d, %zu snapshots, %zu temp\n",
                                fail_at, r, snapshots, temps);
                        test_failures_in_case++;
                        break;
                }
        }
        CHECK(total > 40); /* every key, cell, and the file's framing was a point of failure */
        char name[SNAPSHOT_NAME_MAX + 64];
        snprintf(name, sizeof(name), "%s/", dir);
        snapshot_name(name + strlen(name), sizeof(name) - strlen(name), 1);
        CHECK(unlink(name) == 0); /* the complete run published generation 1 */
        CHECK(rmdir(dir) == 0);
}

static void reader_refuses_non_regular_files(void)
{
        char dir[] = "/tmp/tally-test-snap-XXXXXX";
        CHECK(make_dir(dir) == 0);
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        char name[SNAPSHOT_NAME_MAX], reason[256];
        Snapshot *s = NULL;
        snapshot_name(name, sizeof(name), 1);
        CHECK(mkfifoat(dfd, name, 0600) == 0);
        CHECK(snapshot_read_file(dfd, name, SNAPSHOT_MAX_FILE_BYTES, &s, reason, sizeof(reason)) <
              0);
        unlinkat(dfd, name, 0);
        CHECK(symlinkat("/dev/zero", dfd, name) == 0);
        CHECK(snapshot_read_file(dfd, name, SNAPSHOT_MAX_FILE_BYTES, &s, reason, sizeof(reason)) <
              0);
        unlinkat(dfd, name, 0);
        CHECK(mkdirat(dfd, name, 0700) == 0);
        CHECK(snapshot_read_file(dfd, name, SNAPSHOT_MAX_FILE_BYTES, &s, reason, sizeof(reason)) <
              0);
        unlinkat(dfd, name, AT_REMOVEDIR);
        int fd = openat(dfd, name, O_CREAT | O_WRONLY, 0600);
        close(fd);
        CHECK(snapshot_read_file(dfd, name, SNAPSHOT_MAX_FILE_BYTES, &s, reason, sizeof(reason)) <
              0);
        CHECK(strstr(reason, "empty") != NULL);
        unlinkat(dfd, name, 0);
        rmdir(dir);
}

static void names_sort_by_generation(void)
{
        char a[SNAPSHOT_NAME_MAX], b[SNAPSHOT_NAME_MAX];
        snapshot_name(a, sizeof(a), 9);
        snapshot_name(b, sizeof(b), 10);
        CHECK(strcmp(a, b) < 0);
        uint64_t g;
        CHECK(snapshot_name_parse(b, &g) && g == 10);
        CHECK(!snapshot_name_parse("snapshot-1.msgpack", &g));
        CHECK(!snapshot_name_parse(".tmp-snapshot-00000000000000000001-5", &g));
        CHECK(!snapshot_name_parse("snapshot-00000000000000000000.msgpack", &g));
}

static void snapshot_age_is_zero_for_a_clock_ahead(void)
{
        CHECK_EQ_INT(snapshot_age_usec(1000, 4000), 3000);
        CHECK_EQ_INT(snapshot_age_usec(5000, 4000), 0);
}

TEST_MAIN(TEST_CASE(round_trip_keeps_every_type_and_value), TEST_CASE(worker_usage_round_trips),
          TEST_CASE(snapshot_without_usage_keys_still_loads),
          TEST_CASE(writer_refuses_wrong_cell_types_and_counts),
          TEST_CASE(every_truncation_is_rejected), TEST_CASE(every_single_bit_flip_is_rejected),
          TEST_CASE(hostile_element_count_is_rejected_without_allocating),
          TEST_CASE(cursor_checks_counts_against_bytes_left),
          TEST_CASE(wrong_version_is_rejected_with_reason),
          TEST_CASE(publish_increments_generation_and_keeps_newest),
          TEST_CASE(publish_removes_stale_temp_files),
          TEST_CASE(publish_refuses_to_wrap_the_generation),
          TEST_CASE(publish_past_deadline_leaves_nothing),
          TEST_CASE(failed_write_anywhere_publishes_nothing),
          TEST_CASE(reader_refuses_non_regular_files), TEST_CASE(names_sort_by_generation),
          TEST_CASE(snapshot_age_is_zero_for_a_clock_ahead))
