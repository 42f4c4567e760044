/* tally.conf: the documented format parses into typed structs, and every mistake is an
 * error that names the file, the line and the key. */
#include <fcntl.h>
#include <sys/stat.h>

#include "config.h"
#include "configfix.h"
#include "test.h"

static const char sample[] =
    "[tally]\n"
    "snapshot_dir = /var/lib/tally/snapshots\n"
    "keep = 5                      ; snapshots kept for rollback\n"
    "\n"
    "[server]\n"
    "listen = 127.0.0.1:8080\n"
    "max_age = 600s\n"
    "\n"
    "[source.events]\n"
    "type = csv\n"
    "path = /var/lib/tally/input/events-*.csv\n"
    "columns = ts:time, region:str, product:str, user_id:int, amount:num, latency_ms:num, "
    "status:str\n"
    "\n"
    "[view.sales]\n"
    "source = events\n"
    "group_by = region, product\n"
    "aggregates = count, sum(amount), avg(amount), min(amount), max(amount), "
    "p95(latency_ms), distinct(user_id)\n"
    "where = status = ok\n"
    "window = ts 24h\n";

static void documented_sample_parses(void)
{
        _cleanup_(config_freep) Config *c = NULL;
        char err[4096];
        CHECK_EQ_INT(configfix_parse("test.conf", sample, &c, err, sizeof(err)), 0);
        CHECK_STREQ(c->snapshot_dir, "/var/lib/tally/snapshots");
        CHECK_EQ_INT(c->keep, 5);
        CHECK_STREQ(c->server.listen, "127.0.0.1:8080");
        CHECK_EQ_INT(c->server.max_age_usec, 600 * USEC_PER_SEC);
        CHECK_EQ_INT(c->n_sources, 1);
        const SourceConfig *s = &c->sources[0];
        CHECK_STREQ(s->name, "events");
        CHECK_EQ_INT(s->n_columns, 7);
        CHECK_EQ_INT(s->columns[0].type, VALUE_TIME);
        CHECK_EQ_INT(s->columns[3].type, VALUE_INT);
        CHECK(s->max_bad_ratio == 0.01); /* inherited default */
        CHECK_EQ_INT(c->n_views, 1);
        const ViewConfig *v = &c->views[0];
        CHECK_EQ_INT(v->n_group_by, 2);
        CHECK_EQ_INT(v->group_by[0], 1);
        CHECK_EQ_INT(v->group_by[1], 2);
        CHECK_EQ_INT(v->n_aggregates, 7);
        CHECK_EQ_INT(v->aggregates[0].kind, AGG_COUNT);
        CHECK_EQ_INT(v->aggregates[5].kind, AGG_QUANTILE);
        CHECK(v->aggregates[5].q == 0.95);
        CHECK_STREQ(v->aggregates[5].label, "p95(latency_ms)");
        CHECK_EQ_INT(v->aggregates[6].kind, AGG_DISTINCT);
        CHECK_EQ_INT(v->aggregates[6].column, 3);
        CHECK_EQ_INT(v->n_where, 1);
        CHECK_EQ_INT(v->where[0].op, CMP_EQ);
        CHECK(v->where[0].literals[0].len == 2 && memcmp(v->where[0].literals[0].s, "ok", 2) == 0);
        CHECK_EQ_INT(v->window_column, 0);
        CHECK_EQ_INT(v->window_usec, 24 * 3600 * USEC_PER_SEC);
}

static void where_supports_in_and_typed_comparisons(void)
{
        char text[2048], err[4096];
        snprintf(text, sizeof(text),
                 "[source.e]\npath = x.csv\ncolumns = a:int, b:str, t:time, x:num\n"
                 "[view.v]\nsource = e\ngroup_by =\naggregates = count\n"
                 "where = a >= 3 and b in ('x, y', z) and t < 2026-01-01T00:00:00Z and x != 1.5\n");
        _cleanup_(config_freep) Config *c = NULL;
        CHECK_EQ_INT(configfix_parse("test.conf", text, &c, err, sizeof(err)), 0);
        const ViewConfig *v = &c->views[0];
        CHECK_EQ_INT(v->n_group_by, 0);
        CHECK_EQ_INT(v->n_where, 4);
        CHECK(v->where[0].op == CMP_GE && v->where[0].literals[0].i == 3);
        CHECK(v->where[1].op == CMP_IN && v->where[1].n_literals == 2);
        CHECK_STREQ(v->where[1].literals[0].s, "x, y");
        CHECK_STREQ(v->where[1].literals[1].s, "z");
        CHECK(v->where[2].op == CMP_LT && v->where[2].literals[0].i == INT64_C(1767225600000000));
        CHECK(v->where[3].op == CMP_NE && v->where[3].literals[0].d == 1.5);
}

static void long_lines_are_not_truncated(void)
{
        char text[8192], err[4096], aggs[4096] = "count";
        for (int i = 0; i < 60; i++)
                strcat(aggs, ", sum(amount)");
        snprintf(text, sizeof(text),
                 "[source.e]\npath = x.csv\ncolumns = amount:num\n[view.v]\nsource = e\n"
                 "aggregates = %s\n",
                 aggs);
        _cleanup_(config_freep) Config *c = NULL;
        CHECK_EQ_INT(configfix_parse("test.conf", text, &c, err, sizeof(err)), 0);
        CHECK_EQ_INT(c->views[0].n_aggregates, 61);
}

/* Each bad input must fail and the message must carry file:line and the key. */
static void expect_error(const char *text, const char *needle)
{
        Config *c = NULL;
        char err[4096];
        int r = configfix_parse("test.conf", text, &c, err, sizeof(err));
        config_free(c);
        if (r != CONFIG_INVALID || !strstr(err, needle) || c) {
                fprintf(stderr, "# for input:\n%s# expected error containing '%s', got r=%d: %s",
                        text, needle, r, err);
                test_failures_in_case++;
        }
}

#define SRC "[source.e]\npath = x.csv\ncolumns = ts:time, a:int, s:str\n"

static void mistakes_name_file_line_and_key(void)
{
        expect_error("[tally]\nbogus = 1\n", "test.conf:2: [tally] bogus: unknown key");
        expect_error("[nope]\n", "test.conf:1: [nope]: unknown section");
        expect_error("[tally]\nkeep = many\n", "test.conf:2: [tally] keep:");
        expect_error("[server]\nmax_age = 10 parsecs\n", "test.conf:2: [server] max_age:");
        expect_error("[server]\nlisten = localhost\n", "test.conf:2: [server] listen:");
        expect_error("[source.e]\npath = x\ncolumns = a:float\n",
                     "test.conf:3: [source.e] columns: column 'a': unknown type 'float'");
        expect_error(SRC "[view.v]\nsource = nope\naggregates = count\n",
                     "test.conf:5: [view.v] source: unknown source 'nope'");
        expect_error(SRC "[view.v]\nsource = e\ngroup_by = region\naggregates = count\n",
                     "test.conf:6: [view.v] group_by: source 'e' has no column 'region'");
        expect_error(SRC "[view.v]\nsource = e\naggregates = count, sum(s)\n",
                     "test.conf:6: [view.v] aggregates: sum() needs a numeric column");
        expect_error(SRC "[view.v]\nsource = e\naggregates = median(a)\n",
                     "unknown aggregate function 'median'");
        expect_error(SRC "[view.v]\nsource = e\naggregates = count\nwhere = a ~ 3\n",
                     "test.conf:7: [view.v] where:");
        expect_error(SRC "[view.v]\nsource = e\naggregates = count\nwhere = a = x\n",
                     "'x' is not a valid int for column 'a'");
        expect_error(SRC "[view.v]\nsource = e\naggregates = count\nwindow = a 1h\n",
                     "window column 'a' must be of type time");
        expect_error(SRC "[view.v]\nsource = e\n", "no 'aggregates' given");
        expect_error("[tally]\nkeep\n", "test.conf:2: expected 'key = value'");
        expect_error("keep = 1\n", "test.conf:1: key outside of any section");
        expect_error(SRC SRC, "defined twice");
}

/* The list itself: each part of an error in its own field, all errors, in line order. */
static void errors_are_a_list_in_line_order(void)
{
        _cleanup_(config_errors_freep) ConfigErrors *errors = NULL;
        Config *c = NULL;
        int r = config_parse("dir/t.conf",
                             SRC "[view.v]\nsource = e\naggregates = count\nwhere = a ~ 3\n"
                                 "[server]\nbogus = 1\n[tally]\nkeep = 0\n",
                             &c, &errors);
        CHECK_EQ_INT(r, CONFIG_INVALID);
        CHECK(!c && errors);
        CHECK_EQ_INT(errors->n, 3);
        const ConfigError *e = &errors->items[0];
        CHECK_STREQ(e->file, "dir/t.conf");
        CHECK_EQ_INT(e->line, 7);
        CHECK_STREQ(e->section, "view.v");
        CHECK_STREQ(e->key, "where");
        CHECK(strstr(e->reason, "expected an operator"));
        CHECK(errors->items[1].line == 9 && strcmp(errors->items[1].key, "bogus") == 0);
        CHECK_STREQ(errors->items[1].reason, "unknown key");
        CHECK(errors->items[2].line == 11 && strcmp(errors->items[2].section, "tally") == 0);
        char line[256];
        CHECK_STREQ(config_error_format(&errors->items[1], line, sizeof(line)),
                    "dir/t.conf:9: [server] bogus: unknown key");
}

static void keys_given_twice_and_repeated_sections(void)
{
        expect_error(SRC "[view.v]\nsource = e\naggregates = count\naggregates = count\n",
                     "test.conf:7: [view.v] aggregates: given twice");
        expect_error(SRC "[view.v]\nsource = e\naggregates = count\ngroup_by = a\ngroup_by = s\n",
                     "test.conf:8: [view.v] group_by: given twice");
        expect_error("[source.e]\npath = x\ncolumns = a:int\ncolumns = b:int\n",
                     "test.conf:4: [source.e] columns: given twice");
        /* a repeated [server] merges; the last value of a plain key wins */
        char err[1024];
        _cleanup_(config_freep) Config *c = NULL;
        CHECK_EQ_INT(configfix_parse("test.conf",
                                     "[server]\nworkers = 2\n[tally]\n[server]\nworkers = 3\n", &c,
                                     err, sizeof(err)),
                     0);
        CHECK_EQ_INT(c->server.workers, 3);
}

/* A quote left open in a list was once dropped without a word, leaving group_by empty. */
static void unbalanced_quotes_in_lists_are_mistakes(void)
{
        expect_error(SRC "[view.v]\nsource = e\ngroup_by = 's\naggregates = count\n",
                     "test.conf:6: [view.v] group_by: unbalanced quotes");
        expect_error("[source.e]\npath = x\ncolumns = 'a:int\n",
                     "test.conf:3: [source.e] columns: unbalanced quotes");
}

#define VIEW SRC "[view.v]\nsource = e\n"

static void group_by_takes_time_buckets_named_as_written(void)
{
        char err[4096];
        _cleanup_(config_freep) Config *c = NULL;
        CHECK_EQ_INT(configfix_parse("test.conf",
                                     VIEW "group_by = s, bucket(ts, 5m), month( ts ), ts\n"
                                          "aggregates = count\n",
                                     &c, err, sizeof(err)),
                     0);
        const ViewConfig *v = &c->views[0];
        CHECK_EQ_INT(v->n_group_by, 4);
        CHECK(v->group_by[1] == 0 && v->group_by[2] == 0 && v->group_by[3] == 0);
        CHECK(v->bucket_usec[0] == 0 && v->bucket_usec[1] == 300 * USEC_PER_SEC &&
              v->bucket_usec[2] == BUCKET_MONTH && v->bucket_usec[3] == 0);
        CHECK_STREQ(v->group_labels[1], "bucket(ts, 5m)");
        CHECK_STREQ(v->group_labels[2], "month( ts )");
        _cleanup_(config_freep) Config *plain = NULL;
        CHECK_EQ_INT(configfix_parse("test.conf", VIEW "group_by = s\naggregates = count\n", &plain,
                                     err, sizeof(err)),
                     0);
        CHECK(plain->views[0].bucket_usec == NULL);
}

static void bucket_mistakes_name_the_line(void)
{
        expect_error(VIEW "group_by = bucket(a, 5m)\naggregates = count\n",
                     "test.conf:6: [view.v] group_by: bucket() needs a time column, 'a' is int");
        expect_error(VIEW "group_by = bucket(ts, 500ms)\naggregates = count\n",
                     "bucket width '500ms' is not a duration from 1s to 7d");
        expect_error(VIEW "group_by = bucket(ts, 8d)\naggregates = count\n",
                     "bucket width '8d' is not a duration from 1s to 7d");
        expect_error(VIEW "group_by = bucket(ts, soon)\naggregates = count\n",
                     "bucket width 'soon'");
        expect_error(VIEW "group_by = bucket(ts)\naggregates = count\n",
                     "bucket() needs a column and a width");
        expect_error(VIEW "group_by = month(ts, 1d)\naggregates = count\n",
                     "month() takes one column");
        expect_error(VIEW "group_by = week(ts)\naggregates = count\n",
                     "unknown group_by function 'week'");
        expect_error(VIEW "group_by = bucket(ts, 5m\naggregates = count\n",
                     "test.conf:6: [view.v] group_by: unbalanced quotes or parentheses");
        expect_error(VIEW "group_by = bucket(nope, 5m)\naggregates = count\n",
                     "source 'e' has no column 'nope'");
        expect_error(VIEW "group_by = bucket(ts, 5m), bucket(ts,5m)\naggregates = count\n",
                     "'bucket(ts,5m)' listed twice");
        expect_error(VIEW "group_by = month(ts)x\naggregates = count\n", "is not a column");
}

static void having_names_aggregates_typed_by_their_output(void)
{
        char err[4096];
        _cleanup_(config_freep) Config *c = NULL;
        CHECK_EQ_INT(configfix_parse("test.conf",
                                     VIEW "having = count >= 10 and max(ts) < 2026-01-01T00:00:00Z "
                                          "and avg(a) in (1.5, 2)\n"
                                          "aggregates = count, avg(a), max(ts)\n",
                                     &c, err, sizeof(err)),
                     0);
        const ViewConfig *v = &c->views[0];
        CHECK_EQ_INT(v->n_having, 3);
        CHECK(v->having[0].column == 0 && v->having[0].op == CMP_GE &&
              v->having[0].literals[0].type == VALUE_INT && v->having[0].literals[0].i == 10);
        CHECK(v->having[1].column == 2 && v->having[1].literals[0].type == VALUE_TIME);
        CHECK(v->having[2].column == 1 && v->having[2].op == CMP_IN &&
              v->having[2].literals[1].type == VALUE_NUM && v->having[2].literals[1].d == 2);
}

static void having_mistakes_name_the_line(void)
{
        expect_error(VIEW "aggregates = count\nhaving = p95(a) > 50\n",
                     "test.conf:7: [view.v] having: 'p95(a)' is not one of the view's aggregates");
        expect_error(VIEW "aggregates = count\nhaving = count > many\n",
                     "test.conf:7: [view.v] having: 'many' is not a valid int for column 'count'");
        expect_error(VIEW "aggregates = count\nhaving = count ~ 3\n",
                     "test.conf:7: [view.v] having: expected an operator");
        expect_error(VIEW "aggregates = count\nhaving = count > 1 and\n", "having: ");
        expect_error(VIEW "aggregates = count\nhaving = count > 1\nhaving = count > 2\n",
                     "test.conf:8: [view.v] having: given twice");
}

static void top_reads_count_aggregate_direction_and_partition(void)
{
        char err[4096];
        _cleanup_(config_freep) Config *c = NULL;
        CHECK_EQ_INT(configfix_parse("test.conf",
                                     VIEW
                                     "top = 10 by sum(a) asc per s, bucket(ts, 1h)\n"
                                     "group_by = s, bucket(ts, 1h), a\naggregates = count, sum(a)\n"
                                     "[view.w]\nsource = e\ngroup_by = s\naggregates = count\n"
                                     "top = 3 by count\n",
                                     &c, err, sizeof(err)),
                     0);
        const ViewConfig *v = &c->views[0];
        CHECK(v->top_n == 10 && v->top_by == 1 && v->top_asc && v->top_per == 2);
        const ViewConfig *w = &c->views[1];
        CHECK(w->top_n == 3 && w->top_by == 0 && !w->top_asc && w->top_per == 0);
}

static void top_mistakes_name_the_line(void)
{
#define TOPV VIEW "group_by = s, a\naggregates = count, sum(a)\n"
        expect_error(TOPV "top = 0 by count\n",
                     "test.conf:8: [view.v] top: '0' is not a row count from 1 to 1000000");
        expect_error(TOPV "top = ten by count\n", "top: 'ten' is not a row count");
        expect_error(TOPV "top = 10 count\n", "top: expected 'N by AGGREGATE");
        expect_error(TOPV "top = 10 by\n", "top: expected 'N by AGGREGATE");
        expect_error(TOPV "top = 10 by p95(a) desc\n",
                     "top: 'p95(a)' is not one of the view's aggregates");
        expect_error(TOPV "top = 10 by count sideways\n",
                     "top: 'count sideways' is not one of the view's aggregates");
        expect_error(TOPV "top = 10 by count desc please\n", "top: unexpected 'please'");
        expect_error(TOPV "top = 10 by count per a\n",
                     "top: 'per' must name the leading group_by items in order; 'a' is not item 1");
        expect_error(TOPV "top = 10 by count per s, a\n", "top: 'per' names every group_by item");
        expect_error(TOPV "top = 10 by count per\n", "top: 'per' needs leading group_by items");
        expect_error(SRC "[source.r]\npath = x.csv\ncolumns = rank:int\n[view.v]\nsource = r\n"
                         "group_by = rank\naggregates = count\ntop = 1 by count\n",
                     "top: a top view adds a column 'rank'");
        /* a group_by mistake leaves fewer items than labels: top still reads safely */
        expect_error(VIEW "group_by = s, nope\naggregates = count\ntop = 1 by count per s, nope\n",
                     "source 'e' has no column 'nope'");
#undef TOPV
}

static int load(const char *path, char *out, size_t n)
{
        _cleanup_(config_errors_freep) ConfigErrors *errors = NULL;
        Config *c = NULL;
        int r = config_load(path, &c, &errors);
        config_free(c);
        out[0] = 0;
        if (errors && errors->n == 1)
                config_error_format(&errors->items[0], out, n);
        return r;
}

static void unreadable_files_are_one_error_without_a_line(void)
{
        char dir[] = "/tmp/test-config-XXXXXX", path[64], err[512];
        CHECK(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/none.conf", dir);
        CHECK_EQ_INT(load(path, err, sizeof(err)), CONFIG_INVALID);
        CHECK(strstr(err, "none.conf: cannot open configuration: No such file or directory"));
        CHECK_EQ_INT(load(dir, err, sizeof(err)), CONFIG_INVALID);
        CHECK(strstr(err, ": not a regular file"));

        snprintf(path, sizeof(path), "%s/nul.conf", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        CHECK(fd >= 0 && write(fd, "[tally]\n\0", 9) == 9);
        close(fd);
        CHECK_EQ_INT(load(path, err, sizeof(err)), CONFIG_INVALID);
        CHECK(strstr(err, "nul.conf: contains a NUL byte"));
        CHECK(truncate(path, (off_t)(1 << 20) + 1) == 0);
        CHECK_EQ_INT(load(path, err, sizeof(err)), CONFIG_INVALID);
        CHECK(strstr(err, "nul.conf: larger than 1048576 bytes"));
        unlink(path);

        snprintf(path, sizeof(path), "%s/ok.conf", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        CHECK(fd >= 0 && write(fd, "[tally]\nsnapshot_dir = snaps\n", 29) == 29);
        close(fd);
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(config_errors_freep) ConfigErrors *errors = NULL;
        CHECK_EQ_INT(config_load(path, &c, &errors), 0);
        CHECK(!errors);
        char want[96];
        snprintf(want, sizeof(want), "%s/snaps", dir); /* relative to the file */
        CHECK_STREQ(c->snapshot_dir, want);
        unlink(path);
        rmdir(dir);
}

/* Each source type takes its own keys, refuses the others', and names what it lacks. */
static void source_types_take_their_own_keys(void)
{
        char err[4096];
        _cleanup_(config_freep) Config *c = NULL;
        CHECK_EQ_INT(
            configfix_parse("test.conf",
                            "[source.p]\ntype = postgres\ndsn = dbname=shop\n"
                            "query = SELECT 1 AS n\ncolumns = n:int\n"
                            "[source.c]\ntype = command\ncommand = cat 'a b.csv'\n"
                            "format = ndjson\ncolumns = n:int\n"
                            "[source.j]\ntype = ndjson\npath = /x/*.ndjson\ncolumns = n:int\n"
                            "[view.v]\nsource = c\ngroup_by = n\nselect = n\n"
                            "min_rows = 3\nmax_shrink = 25%\n",
                            &c, err, sizeof(err)),
            0);
        CHECK_EQ_INT(c->sources[0].type, SOURCE_POSTGRES);
        CHECK_STREQ(c->sources[0].dsn, "dbname=shop");
        CHECK_STREQ(c->sources[0].query, "SELECT 1 AS n");
        CHECK_EQ_INT(c->sources[1].type, SOURCE_COMMAND);
        CHECK_STREQ(c->sources[1].command, "cat 'a b.csv'");
        CHECK_EQ_INT(c->sources[1].format, FORMAT_NDJSON);
        CHECK_EQ_INT(c->sources[2].type, SOURCE_NDJSON);
        CHECK_EQ_INT(c->views[0].n_select, 1);
        CHECK_EQ_INT(c->views[0].min_rows, 3);
        CHECK(c->views[0].guard_shrink && c->views[0].max_shrink == 0.25);

        expect_error("[source.p]\ntype = postgres\npath = x.csv\ncolumns = n:int\n",
                     "test.conf:3: [source.p] path: not a key of type = postgres sources");
        expect_error("[source.p]\ntype = postgres\nquery = SELECT 1\ncolumns = n:int\n",
                     "test.conf:1: [source.p]: no 'dsn' given (type = postgres)");
        expect_error("[source.c]\ntype = command\ncolumns = n:int\n",
                     "test.conf:1: [source.c]: no 'command' given (type = command)");
        expect_error("[source.c]\ntype = csv\npath = x\ncommand = ls\ncolumns = n:int\n",
                     "test.conf:4: [source.c] command: not a key of type = csv sources");
        expect_error("[source.c]\ntype = csv\npath = x\nformat = ndjson\ncolumns = n:int\n",
                     "test.conf:4: [source.c] format: not a key of type = csv sources");
        expect_error("[source.c]\ntype = command\ncommand = x\nformat = xml\ncolumns = n:int\n",
                     "test.conf:4: [source.c] format: unknown format 'xml'");
        expect_error("[source.c]\ntype = mysql\ncolumns = n:int\n",
                     "test.conf:2: [source.c] type: unknown source type 'mysql'");
        expect_error(SRC "[view.v]\nsource = e\naggregates = count\nmax_shrink = 2\n",
                     "test.conf:7: [view.v] max_shrink:");
        expect_error(SRC "[view.v]\nsource = e\naggregates = count\nmin_rows = -1\n",
                     "test.conf:7: [view.v] min_rows:");
        expect_error(SRC "[view.v]\nsource = e\nselect = a, a\n",
                     "test.conf:6: [view.v] select: column 'a' listed twice");
}

static void durations_parse_with_units(void)
{
        uint64_t u;
        CHECK(parse_duration_usec("90s", &u) == 0 && u == 90 * USEC_PER_SEC);
        CHECK(parse_duration_usec("2m", &u) == 0 && u == 120 * USEC_PER_SEC);
        CHECK(parse_duration_usec("24h", &u) == 0 && u == 86400 * USEC_PER_SEC);
        CHECK(parse_duration_usec("250ms", &u) == 0 && u == 250 * USEC_PER_MSEC);
        CHECK(parse_duration_usec("7", &u) == 0 && u == 7 * USEC_PER_SEC);
        CHECK(parse_duration_usec("-1s", &u) < 0);
        CHECK(parse_duration_usec("1y", &u) < 0);
        CHECK(parse_duration_usec("99999999999999999999h", &u) < 0);
}

TEST_MAIN(TEST_CASE(documented_sample_parses), TEST_CASE(where_supports_in_and_typed_comparisons),
          TEST_CASE(long_lines_are_not_truncated), TEST_CASE(mistakes_name_file_line_and_key),
          TEST_CASE(errors_are_a_list_in_line_order),
          TEST_CASE(keys_given_twice_and_repeated_sections),
          TEST_CASE(unbalanced_quotes_in_lists_are_mistakes),
          TEST_CASE(unreadable_files_are_one_error_without_a_line),
          TEST_CASE(source_types_take_their_own_keys), TEST_CASE(durations_parse_with_units),
          TEST_CASE(group_by_takes_time_buckets_named_as_written),
          TEST_CASE(bucket_mistakes_name_the_line),
          TEST_CASE(having_names_aggregates_typed_by_their_output),
          TEST_CASE(having_mistakes_name_the_line),
          TEST_CASE(top_reads_count_aggregate_direction_and_partition),
          TEST_CASE(top_mistakes_name_the_line))
