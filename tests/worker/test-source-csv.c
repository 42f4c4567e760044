/* The CSV source through the source interface, as the engine drives it: open checks the
 * header, read fills shards with every row counted, malformed rows come back with their
 * file and line, and failures carry a message naming what failed. */
#include <fcntl.h>
#include <zlib.h>

#include "config.h"
#include "plan.h"
#include "source.h"
#include "test.h"

static char dir[] = "/tmp/test-source-csv-XXXXXX";
static volatile sig_atomic_t no_stop;

static void write_file(const char *name, const char *text)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        fputs(text, f);
        fclose(f);
}

static void write_gz(const char *name, const char *text)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        gzFile z = gzopen(path, "wb");
        gzputs(z, text);
        gzclose(z);
}

/* Everything a read needs, from a config whose source reads PATTERN under dir. */
typedef struct Fixture {
        Config *cfg;
        Plan *plan;
        Source *src;
        ShardSet *set;
} Fixture;

static void fixture_done(Fixture *f)
{
        f->set = shard_set_free(f->set);
        f->src = source_free(f->src);
        f->plan = plan_free(f->plan);
        f->cfg = config_free(f->cfg);
}

static int setup(Fixture *f, const char *pattern)
{
        char text[1024];
        snprintf(text, sizeof(text),
                 "[tally]\nsnapshot_dir = %s\n"
                 "[source.ev]\ntype = csv\npath = %s/%s\n"
                 "columns = region:str, n:int\nmax_bad_ratio = 100%%\n"
                 "[view.v]\nsource = ev\ngroup_by = region\naggregates = count, sum(n)\n",
                 dir, dir, pattern);
        *f = (Fixture){};
        _cleanup_(config_errors_freep) ConfigErrors *errors = NULL;
        int r = config_parse("test.conf", text, &f->cfg, &errors);
        if (r != 0)
                return r < 0 ? r : -EINVAL;
        if ((r = plan_build(f->cfg, 0, &f->plan)) < 0)
                return r;
        if ((r = source_new(&f->plan->sources[0], &f->src)) < 0)
                return r;
        return shard_set_new(&f->plan->sources[0], &f->set);
}

static const SourceContext ctx = {.stop = &no_stop, .threads = 2};

static uint64_t rows_read(const ShardSet *set)
{
        uint64_t n = 0;
        for (size_t i = 0; i < set->n; i++)
                n += set->shards[i].rows_read;
        return n;
}

static void test_source_csv_reads_every_row_of_every_matching_file(void)
{
        write_file("a-1.csv", "n,region,extra\n1,eu,x\n2,us,y\n");
        write_file("a-2.csv", "region,n\neu,3\n");
        write_gz("a-3.csv.gz", "region,n\nap,4\nap,5\n");
        Fixture f;
        CHECK(setup(&f, "a-*") == 0);
        CHECK_EQ_INT(f.src->ops->open(f.src, &ctx), SOURCE_OK);
        CHECK_EQ_INT(f.src->ops->read(f.src, f.set, &ctx), SOURCE_OK);
        CHECK_EQ_INT(rows_read(f.set), 5);
        CHECK_EQ_INT(f.src->ops->files(f.src), 3);
        CHECK_STREQ(f.src->ops->type, "csv");
        CHECK_EQ_INT(f.src->bad.n, 0);
        fixture_done(&f);
}

static void test_source_csv_missing_column_is_bad_config_naming_column_and_file(void)
{
        write_file("b.csv", "region,count\neu,1\n");
        Fixture f;
        CHECK(setup(&f, "b.csv") == 0);
        CHECK_EQ_INT(f.src->ops->open(f.src, &ctx), SOURCE_BAD_CONFIG);
        CHECK(strstr(f.src->error, "b.csv: column 'n' declared in [source.ev]"));
        fixture_done(&f);
}

static void test_source_csv_missing_column_in_gzip_header_is_found_by_read(void)
{
        write_gz("c.csv.gz", "region\neu\n");
        Fixture f;
        CHECK(setup(&f, "c.csv.gz") == 0);
        CHECK_EQ_INT(f.src->ops->open(f.src, &ctx), SOURCE_OK);
        CHECK_EQ_INT(f.src->ops->read(f.src, f.set, &ctx), SOURCE_BAD_CONFIG);
        CHECK(strstr(f.src->error, "column 'n'"));
        fixture_done(&f);
}

static void test_source_csv_bad_rows_come_back_with_file_and_line(void)
{
        write_file("d.csv", "region,n\neu,1\neu,x\n\"bad\"q,2\neu,3,4\n");
        Fixture f;
        CHECK(setup(&f, "d.csv") == 0);
        CHECK_EQ_INT(f.src->ops->open(f.src, &ctx), SOURCE_OK);
        CHECK_EQ_INT(f.src->ops->read(f.src, f.set, &ctx), SOURCE_OK);
        CHECK_EQ_INT(rows_read(f.set), 4);
        CHECK_EQ_INT(f.src->bad.n, 3);
        const BadSample *b = f.src->bad.v;
        CHECK(b[0].position == POSITION_FILE_LINE && strstr(b[0].input, "d.csv"));
        CHECK(b[0].n == 3 && b[0].reason == BAD_INT && b[0].column == 1);
        CHECK(b[1].n == 4 && b[1].reason == BAD_QUOTING && b[1].column == -1);
        CHECK(b[2].n == 5 && b[2].reason == BAD_FIELD_COUNT);
        fixture_done(&f);
}

static void test_source_csv_quoted_line_break_across_a_split_still_reads_every_row(void)
{
        char text[4096] = "region,n\n\"";
        for (int i = 0; i < 200; i++) /* one region of 200 lines: every seam falls in it */
                strcat(text, "x\n");
        strcat(text, "\",1\n");
        for (int i = 0; i < 39; i++)
                strcat(text, "eu,1\n");
        write_file("f.csv", text);
        setenv("TALLY_WORKER_TASK_BYTES", "16", 1); /* 8 pieces for 2 threads */
        Fixture f;
        CHECK(setup(&f, "f.csv") == 0);
        CHECK_EQ_INT(f.src->ops->open(f.src, &ctx), SOURCE_OK);
        CHECK_EQ_INT(f.src->ops->read(f.src, f.set, &ctx), SOURCE_OK);
        unsetenv("TALLY_WORKER_TASK_BYTES");
        CHECK_EQ_INT(rows_read(f.set), 40);
        uint64_t bad = 0;
        for (size_t i = 0; i < f.set->n; i++)
                bad += shard_rows_rejected(&f.set->shards[i]);
        CHECK_EQ_INT(bad, 0);
        fixture_done(&f);
}

static void test_source_csv_unmatched_glob_fails_naming_the_pattern(void)
{
        Fixture f;
        CHECK(setup(&f, "none-*.csv") == 0);
        CHECK_EQ_INT(f.src->ops->open(f.src, &ctx), -ENOENT);
        CHECK(strstr(f.src->error, "no input file matches"));
        fixture_done(&f);
}

static void test_source_csv_read_past_the_deadline_is_etime(void)
{
        write_file("e.csv", "region,n\neu,1\n");
        Fixture f;
        CHECK(setup(&f, "e.csv") == 0);
        SourceContext late = ctx;
        late.deadline = 1; /* long past */
        CHECK_EQ_INT(f.src->ops->open(f.src, &late), SOURCE_OK);
        CHECK_EQ_INT(f.src->ops->read(f.src, f.set, &late), -ETIME);
        fixture_done(&f);
}

static void test_source_new_refuses_a_type_it_cannot_read(void)
{
        Fixture f;
        CHECK(setup(&f, "e.csv") == 0);
        SourcePlan sp = f.plan->sources[0];
        SourceConfig sc = *sp.cfg;
        sc.type = SOURCE_POSTGRES;
        sp.cfg = &sc;
        Source *s = NULL;
        CHECK_EQ_INT(source_new(&sp, &s), -EPROTONOSUPPORT);
        CHECK(!s);
        fixture_done(&f);
}

static void cleanup_dir(void)
{
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        (void)!system(cmd);
}

__attribute__((constructor)) static void setup_dir(void)
{
        if (!mkdtemp(dir))
                abort();
        atexit(cleanup_dir);
}

TEST_MAIN(TEST_CASE(test_source_csv_reads_every_row_of_every_matching_file),
          TEST_CASE(test_source_csv_missing_column_is_bad_config_naming_column_and_file),
          TEST_CASE(test_source_csv_missing_column_in_gzip_header_is_found_by_read),
          TEST_CASE(test_source_csv_bad_rows_come_back_with_file_and_line),
          TEST_CASE(test_source_csv_quoted_line_break_across_a_split_still_reads_every_row),
          TEST_CASE(test_source_csv_unmatched_glob_fails_naming_the_pattern),
          TEST_CASE(test_source_csv_read_past_the_deadline_is_etime),
          TEST_CASE(test_source_new_refuses_a_type_it_cannot_read))
