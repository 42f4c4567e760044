/* The status page's rings: bounded, oldest first, deduplicated runs, gaps detected. */
#include "history.h"
#include "test.h"

static void empty_history_has_nothing(void)
{
        _cleanup_(history_freep) History *h = NULL;
        CHECK(history_new(4, 2, USEC_PER_SEC, &h) == 0);
        CHECK_EQ_INT(h->rss_n, 0);
        CHECK_EQ_INT(h->runs_n, 0);
        CHECK(!history_rss_gap_before(h, 0));
        CHECK(!history_rss_gap_before(h, 1));
        CHECK(history_new(0, 2, 0, &h) == -EINVAL);
}

static void one_point_is_oldest_and_newest(void)
{
        _cleanup_(history_freep) History *h = NULL;
        CHECK(history_new(4, 2, USEC_PER_SEC, &h) == 0);
        history_add_rss(h, 1000, 11800);
        CHECK_EQ_INT(h->rss_n, 1);
        CHECK_EQ_INT(history_rss_at(h, 0).t_usec, 1000);
        CHECK_EQ_INT(history_rss_at(h, 0).rss_kib, 11800);
        CHECK(!history_rss_gap_before(h, 0));
}

/* A sample is kept in one word: the time to the millisecond, the RSS up to 4 GiB. */
static void samples_keep_milliseconds_and_saturate(void)
{
        _cleanup_(history_freep) History *h = NULL;
        CHECK(history_new(4, 2, USEC_PER_MSEC, &h) == 0);
        int64_t now = INT64_C(1764590400123456); /* 2025-12-01, µs */
        history_add_rss(h, now, 12148);
        history_add_rss(h, now + 1999, UINT64_C(1) << 40); /* 1 PiB */
        history_add_rss(h, -5, 1);                         /* before 1970 */
        CHECK_EQ_INT(history_rss_at(h, 0).t_usec, INT64_C(1764590400123000));
        CHECK_EQ_INT(history_rss_at(h, 0).rss_kib, 12148);
        CHECK_EQ_INT(history_rss_at(h, 1).t_usec, INT64_C(1764590400125000));
        CHECK_EQ_INT(history_rss_at(h, 1).rss_kib, (UINT64_C(1) << HISTORY_KIB_BITS) - 1);
        CHECK_EQ_INT(history_rss_at(h, 2).t_usec, 0);
        CHECK(history_rss_gap_before(h, 2)); /* backwards */
}

static void rss_ring_wraps_around_keeping_the_newest(void)
{
        _cleanup_(history_freep) History *h = NULL;
        CHECK(history_new(4, 2, USEC_PER_SEC, &h) == 0);
        for (int i = 0; i < 10; i++)
                history_add_rss(h, (int64_t)i * (int64_t)USEC_PER_SEC, 100 + (uint64_t)i);
        CHECK_EQ_INT(h->rss_n, 4);
        CHECK_EQ_INT(h->rss_total, 10);
        for (size_t i = 0; i < 4; i++) {
                CHECK_EQ_INT(history_rss_at(h, i).rss_kib, 106 + i);
                CHECK(!history_rss_gap_before(h, i));
        }
}

static void a_pause_longer_than_three_intervals_is_a_gap(void)
{
        _cleanup_(history_freep) History *h = NULL;
        CHECK(history_new(8, 2, USEC_PER_SEC, &h) == 0);
        history_add_rss(h, 0, 1);
        history_add_rss(h, 1 * (int64_t)USEC_PER_SEC, 1);
        history_add_rss(h, 3 * (int64_t)USEC_PER_SEC, 1); /* late but not a gap: 2 intervals */
        history_add_rss(h, 9 * (int64_t)USEC_PER_SEC, 1); /* stopped for 6 s */
        history_add_rss(h, 2 * (int64_t)USEC_PER_SEC, 1); /* the clock stepped back */
        CHECK(!history_rss_gap_before(h, 1));
        CHECK(!history_rss_gap_before(h, 2));
        CHECK(history_rss_gap_before(h, 3));
        CHECK(history_rss_gap_before(h, 4));
        CHECK(!history_rss_gap_before(h, 5)); /* past the end */
}

static void at_short_intervals_a_late_tick_is_not_a_gap(void)
{
        _cleanup_(history_freep) History *h = NULL;
        CHECK(history_new(8, 2, USEC_PER_MSEC, &h) == 0);
        history_add_rss(h, 0, 1);
        history_add_rss(h, 30 * (int64_t)USEC_PER_MSEC, 1);   /* 30 intervals late */
        history_add_rss(h, 1100 * (int64_t)USEC_PER_MSEC, 1); /* over a second: a gap */
        CHECK(!history_rss_gap_before(h, 1));
        CHECK(history_rss_gap_before(h, 2));
}

static void runs_wrap_and_dedupe_by_generation(void)
{
        _cleanup_(history_freep) History *h = NULL;
        CHECK(history_new(4, 3, USEC_PER_SEC, &h) == 0);
        for (uint64_t g = 1; g <= 5; g++)
                CHECK_EQ_INT(
                    history_add_run(h, &(RunRecord){.when_usec = (int64_t)g, .generation = g}), 1);
        CHECK_EQ_INT(h->runs_n, 3);
        CHECK_EQ_INT(history_run_at(h, 0)->generation, 3);
        CHECK_EQ_INT(history_run_at(h, 2)->generation, 5);
        CHECK_EQ_INT(history_add_run(h, &(RunRecord){.generation = 4}), 0);
        CHECK_EQ_INT(h->runs_n, 3);
        CHECK_EQ_INT(h->runs_total, 5);
        /* failed runs have no generation: each one counts */
        RunRecord failed = {.when_usec = 9, .outcome = RUN_FAILED, .exit_status = 65};
        CHECK_EQ_INT(history_add_run(h, &failed), 1);
        CHECK_EQ_INT(history_add_run(h, &failed), 1);
        CHECK_EQ_INT(history_run_at(h, 2)->outcome, RUN_FAILED);
        CHECK_EQ_INT(history_run_at(h, 0)->generation, 5);
}

TEST_MAIN(TEST_CASE(empty_history_has_nothing), TEST_CASE(one_point_is_oldest_and_newest),
          TEST_CASE(samples_keep_milliseconds_and_saturate),
          TEST_CASE(rss_ring_wraps_around_keeping_the_newest),
          TEST_CASE(a_pause_longer_than_three_intervals_is_a_gap),
          TEST_CASE(at_short_intervals_a_late_tick_is_not_a_gap),
          TEST_CASE(runs_wrap_and_dedupe_by_generation))
