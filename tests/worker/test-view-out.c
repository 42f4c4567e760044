/* A view's rows as written: having keeps the groups whose aggregates match, top keeps the
 * best N per partition (ties by key order, nil last), rows stay in key order with their
 * rank as the last column, and bucket items are named as written. */
#include <math.h>

#include "config.h"
#include "plan.h"
#include "snapshot_read.h"
#include "test.h"
#include "view_out.h"

typedef struct Out {
        Config *cfg;
        Plan *plan;
        ShardSet *set;
        Snapshot *snap;
        const SnapshotView *view;
} Out;

static void out_done(Out *o)
{
        o->snap = snapshot_free(o->snap);
        o->set = shard_set_free(o->set);
        o->plan = plan_free(o->plan);
        o->cfg = config_free(o->cfg);
}

#define ROW(g, k, x)                                             \
        {                                                        \
                STRV(g), STRV(k), {.type = VALUE_INT, .i = (x)}, \
                {                                                \
                        .type = VALUE_TIME, .i = 0               \
                }                                                \
        }
#define STRV(lit)                                                     \
        {                                                             \
                .type = VALUE_STR, .s = (lit), .len = sizeof(lit) - 1 \
        }

/* Runs the one view described by keys over rows (columns g:str, k:str, x:int, ts:time). */
static int run(Out *o, const char *keys, const Value (*rows)[4], size_t n)
{
        char text[1024];
        snprintf(text, sizeof(text),
                 "[tally]\nsnapshot_dir = /nonexistent\n"
                 "[source.s]\ntype = csv\npath = x\ncolumns = g:str, k:str, x:int, ts:time\n"
                 "[view.v]\nsource = s\n%s\n",
                 keys);
        *o = (Out){};
        _cleanup_(config_errors_freep) ConfigErrors *errors = NULL;
        int r = config_parse("test.conf", text, &o->cfg, &errors);
        if (r != 0) {
                char buf[512];
                for (size_t i = 0; errors && i < errors->n; i++)
                        fprintf(stderr, "# %s\n", config_error_format(&errors->items[i], buf, 512));
                return r < 0 ? r : -EINVAL;
        }
        if ((r = plan_build(o->cfg, 0, &o->plan)) < 0 ||
            (r = shard_set_new(&o->plan->sources[0], &o->set)) < 0 ||
            (r = shard_set_reset(o->set, 1)) < 0 ||
            (r = shard_add_rows(&o->set->shards[0], *rows, n)) < 0)
                return r;
        _cleanup_(snapshot_writer_freep) SnapshotWriter *w = NULL;
        size_t n_rows;
        _cleanup_free_ void *buf = NULL;
        size_t len;
        char reason[256];
        if ((r = snapshot_writer_new(&w)) < 0 || (r = view_out_write(w, o->set, 0, &n_rows)) < 0 ||
            (r = snapshot_writer_encode(w, 1, 0, &buf, &len)) < 0 ||
            (r = snapshot_read_buffer(buf, len, &o->snap, reason, sizeof(reason))) < 0)
                return r;
        o->view = snapshot_find_view(o->snap, "v");
        return o->view && o->view->n_rows == n_rows ? 0 : -EIO;
}

static const Value *cell(const Out *o, size_t row, size_t col)
{
        return &snapshot_view_row(o->view, row)[col];
}

static bool str_is(const Value *v, const char *s)
{
        return v->type == VALUE_STR && v->len == strlen(s) && memcmp(v->s, s, v->len) == 0;
}

static const Value rows[][4] = {
    ROW("a", "p", 5), ROW("a", "q", 7), ROW("a", "r", 7), ROW("a", "s", 1),
    ROW("a", "s", 1), ROW("b", "p", 2), ROW("b", "q", 9), ROW("c", "z", 3),
};

static void having_keeps_groups_whose_aggregates_match(void)
{
        Out o;
        CHECK_EQ_INT(run(&o,
                         "group_by = g, k\naggregates = count, sum(x)\n"
                         "having = count >= 1 and sum(x) > 2 and sum(x) != 9",
                         rows, ELEMENTSOF(rows)),
                     0);
        /* a/p 5, a/q 7, a/r 7, b/q 9 (dropped by !=), a/s 2 and b/p 2 (dropped), c/z 3 */
        CHECK_EQ_INT(o.view->n_rows, 4);
        CHECK(str_is(cell(&o, 0, 1), "p") && str_is(cell(&o, 3, 0), "c"));
        CHECK_EQ_INT(o.view->n_columns, 4);
        out_done(&o);
}

static void top_per_partition_keeps_key_order_and_breaks_ties_by_key(void)
{
        Out o;
        CHECK_EQ_INT(run(&o, "group_by = g, k\naggregates = sum(x)\ntop = 2 by sum(x) per g", rows,
                         ELEMENTSOF(rows)),
                     0);
        /* a: q and r tie at 7 (q first by key), p (5) is third; b: q 9, p 2; c: z */
        CHECK_EQ_INT(o.view->n_rows, 5);
        CHECK_EQ_INT(o.view->n_columns, 4);
        CHECK_STREQ(o.view->columns[3].name, "rank");
        static const char *const want[][2] = {
            {"a", "q"}, {"a", "r"}, {"b", "p"}, {"b", "q"}, {"c", "z"}};
        static const int64_t ranks[] = {1, 2, 2, 1, 1};
        for (size_t i = 0; i < 5; i++) {
                CHECK(str_is(cell(&o, i, 0), want[i][0]) && str_is(cell(&o, i, 1), want[i][1]));
                CHECK_EQ_INT(cell(&o, i, 3)->i, ranks[i]);
        }
        out_done(&o);
}

static void top_overall_ascending_after_having(void)
{
        Out o;
        CHECK_EQ_INT(run(&o,
                         "group_by = g, k\naggregates = sum(x), count\n"
                         "having = count = 1\ntop = 2 by sum(x) asc",
                         rows, ELEMENTSOF(rows)),
                     0);
        /* count = 1 leaves a/p 5, a/q 7, a/r 7, b/p 2, b/q 9, c/z 3: the two smallest */
        CHECK_EQ_INT(o.view->n_rows, 2);
        CHECK(str_is(cell(&o, 0, 0), "b") && cell(&o, 0, 4)->i == 1);
        CHECK(str_is(cell(&o, 1, 0), "c") && cell(&o, 1, 4)->i == 2);
        out_done(&o);
}

static void bucket_columns_are_named_as_written_and_hold_the_start(void)
{
        const Value trows[][4] = {
            {STRV("a"), STRV("p"), {.type = VALUE_INT, .i = 1}, {.type = VALUE_TIME, .i = -1}},
            {STRV("a"), STRV("p"), {.type = VALUE_INT, .i = 1}, {.type = VALUE_TIME, .i = 0}},
            {STRV("a"),
             STRV("p"),
             {.type = VALUE_INT, .i = 1},
             {.type = VALUE_TIME, .i = 299999999}},
        };
        Out o;
        CHECK_EQ_INT(run(&o, "group_by = bucket(ts,  5m)\naggregates = count", trows, 3), 0);
        CHECK_STREQ(o.view->columns[0].name, "bucket(ts,  5m)");
        CHECK_EQ_INT(o.view->columns[0].type, VALUE_TIME);
        CHECK_EQ_INT(o.view->n_rows, 2);
        CHECK(cell(&o, 0, 0)->i == -300000000 && cell(&o, 0, 1)->i == 1);
        CHECK(cell(&o, 1, 0)->i == 0 && cell(&o, 1, 1)->i == 2);
        out_done(&o);
}

static void rank_puts_nil_last_both_ways_and_nan_above_numbers(void)
{
        Value v[] = {{.type = VALUE_NUM, .d = 1},
                     {.type = VALUE_NIL},
                     {.type = VALUE_NUM, .d = NAN},
                     {.type = VALUE_NUM, .d = 3},
                     {.type = VALUE_NUM, .d = 1}};
        RankEntry scratch[5];
        uint32_t rank[5];
        view_out_rank(v, 5, 1, 5, false, scratch, rank);
        CHECK(rank[2] == 1 && rank[3] == 2 && rank[0] == 3 && rank[4] == 4 && rank[1] == 5);
        view_out_rank(v, 5, 1, 5, true, scratch, rank);
        CHECK(rank[0] == 1 && rank[4] == 2 && rank[3] == 3 && rank[2] == 4 && rank[1] == 5);
        view_out_rank(v, 5, 1, 2, true, scratch, rank);
        CHECK(rank[0] == 1 && rank[4] == 2 && rank[1] == 0 && rank[2] == 0 && rank[3] == 0);
}

TEST_MAIN(TEST_CASE(having_keeps_groups_whose_aggregates_match),
          TEST_CASE(top_per_partition_keeps_key_order_and_breaks_ties_by_key),
          TEST_CASE(top_overall_ascending_after_having),
          TEST_CASE(bucket_columns_are_named_as_written_and_hold_the_start),
          TEST_CASE(rank_puts_nil_last_both_ways_and_nan_above_numbers))
