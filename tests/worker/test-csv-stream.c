/* CSV from a byte stream: the same rows however the bytes arrive, the header checked
 * before the first row, an empty stream said to be empty. */
#include "config.h"
#include "csv_stream.h"
#include "plan.h"
#include "test.h"

static volatile sig_atomic_t no_stop;
static const SourceContext ctx = {.stop = &no_stop};

/* A stream of text handed out chunk bytes per fill. */
typedef struct Feed {
        const char *text;
        size_t pos, chunk;
        const SourceConfig *src;
        int header_calls;
        int refuse; /* what header returns */
} Feed;

static int feed_fill(void *userdata, char *buf, size_t *len, size_t cap, bool *eof)
{
        Feed *f = userdata;
        size_t left = strlen(f->text) - f->pos;
        size_t k = MIN(MIN(left, f->chunk), cap - *len);
        memcpy(buf + *len, f->text + f->pos, k);
        f->pos += k;
        *len += k;
        *eof = f->pos == strlen(f->text);
        return 0;
}

static int feed_header(void *userdata, int status, const CsvField *fields, size_t n,
                       FileSchema *schema)
{
        Feed *f = userdata;
        f->header_calls++;
        if (status != CSV_RECORD)
                return -EBADMSG;
        size_t missing;
        int r = file_schema_build(schema, f->src, fields, n, &missing);
        return f->refuse ? f->refuse : r;
}

typedef struct Fixture {
        Config *cfg;
        Plan *plan;
        Shard shard;
} Fixture;

static int setup(Fixture *x)
{
        static const char text[] = "[tally]\nsnapshot_dir = /nonexistent\n"
                                   "[source.s]\ntype = csv\npath = -\n"
                                   "columns = region:str, n:int\n"
                                   "[view.v]\nsource = s\ngroup_by = region\n"
                                   "aggregates = count\n";
        *x = (Fixture){};
        _cleanup_(config_errors_freep) ConfigErrors *errors = NULL;
        int r = config_parse("test.conf", text, &x->cfg, &errors);
        if (r >= 0)
                r = plan_build(x->cfg, 0, &x->plan);
        if (r >= 0)
                r = shard_init(&x->shard, &x->plan->sources[0]);
        return r;
}

static void fixture_done(Fixture *x)
{
        shard_done(&x->shard);
        plan_free(x->plan);
        config_free(x->cfg);
}

static const char rows[] = "n,region\n1,eu\n2,\"u\ns\"\n\nx,eu\n4,ap\n";

static uint64_t read_in_chunks(size_t chunk, uint64_t *ret_bad, uint64_t *ret_lines)
{
        Fixture x;
        if (setup(&x) < 0)
                return UINT64_MAX;
        Feed f = {.text = rows, .chunk = chunk, .src = x.cfg->sources};
        CsvStream st = {feed_fill, feed_header, &f, &ctx};
        ScanTask t = {};
        uint64_t header_lines = 0;
        bool empty = true;
        int r = csv_stream_read(&st, &x.shard, &t, &header_lines, &empty);
        uint64_t n = r == 0 && !empty && header_lines == 1 ? x.shard.rows_read : UINT64_MAX;
        *ret_bad = shard_rows_rejected(&x.shard);
        *ret_lines = t.lines;
        fixture_done(&x);
        return n;
}

static void test_csv_stream_same_rows_however_the_bytes_arrive(void)
{
        static const size_t chunks[] = {1, 2, 3, 7, 64, 4096};
        for (size_t i = 0; i < ELEMENTSOF(chunks); i++) {
                uint64_t bad, lines;
                CHECK_EQ_INT(read_in_chunks(chunks[i], &bad, &lines), 4);
                CHECK_EQ_INT(bad, 1); /* "x" is no int */
                CHECK_EQ_INT(lines, 6);
        }
}

static void test_csv_stream_header_refusal_stops_before_any_row(void)
{
        Fixture x;
        CHECK(setup(&x) == 0);
        Feed f = {.text = rows, .chunk = 5, .src = x.cfg->sources, .refuse = SOURCE_BAD_CONFIG};
        CsvStream st = {feed_fill, feed_header, &f, &ctx};
        ScanTask t = {};
        uint64_t header_lines = 0;
        bool empty;
        CHECK_EQ_INT(csv_stream_read(&st, &x.shard, &t, &header_lines, &empty), SOURCE_BAD_CONFIG);
        CHECK_EQ_INT(f.header_calls, 1);
        CHECK_EQ_INT(x.shard.rows_read, 0);
        fixture_done(&x);
}

static void test_csv_stream_without_a_header_is_empty(void)
{
        Fixture x;
        CHECK(setup(&x) == 0);
        Feed f = {.text = "\n\n", .chunk = 1, .src = x.cfg->sources};
        CsvStream st = {feed_fill, feed_header, &f, &ctx};
        ScanTask t = {};
        uint64_t header_lines = 0;
        bool empty = false;
        CHECK_EQ_INT(csv_stream_read(&st, &x.shard, &t, &header_lines, &empty), 0);
        CHECK(empty);
        CHECK_EQ_INT(f.header_calls, 0);
        fixture_done(&x);
}

static void test_csv_stream_stops_on_request(void)
{
        Fixture x;
        CHECK(setup(&x) == 0);
        static volatile sig_atomic_t stop = 1;
        const SourceContext stopped = {.stop = &stop};
        Feed f = {.text = rows, .chunk = 5, .src = x.cfg->sources};
        CsvStream st = {feed_fill, feed_header, &f, &stopped};
        ScanTask t = {};
        uint64_t header_lines = 0;
        bool empty;
        CHECK_EQ_INT(csv_stream_read(&st, &x.shard, &t, &header_lines, &empty), -ETIME);
        CHECK_EQ_INT(f.pos, 0);
        fixture_done(&x);
}

TEST_MAIN(TEST_CASE(test_csv_stream_same_rows_however_the_bytes_arrive),
          TEST_CASE(test_csv_stream_header_refusal_stops_before_any_row),
          TEST_CASE(test_csv_stream_without_a_header_is_empty),
          TEST_CASE(test_csv_stream_stops_on_request))
