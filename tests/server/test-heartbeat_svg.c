/* The heartbeat plot: nice axes for any data, one line point per sample, one mark per run,
 * broken lines over gaps. */
#include <math.h>

#include "heartbeat_svg.h"
#include "test.h"

#define SEC ((int64_t)USEC_PER_SEC)
#define NOW (INT64_C(1764590400) * SEC) /* 2025-12-01 12:00:00 UTC */

static size_t count(const char *hay, const char *needle)
{
        size_t n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* points in every polyline of class rss: pairs are separated by single spaces */
static size_t rss_points(const char *svg)
{
        size_t n = 0;
        const char *tag = "class=\"rss\"";
        for (const char *p = svg; (p = strstr(p, tag)); p += strlen(tag)) {
                const char *pts = strstr(p, "points=\"");
                if (!pts)
                        break;
                pts += 8;
                const char *end = strchr(pts, '"');
                n += end > pts;
                for (const char *q = pts; q < end; q++)
                        n += *q == ' ';
        }
        return n;
}

static char *render(const History *h, HeartbeatWindow *w)
{
        Buf b = BUF_NULL;
        *w = heartbeat_window(h, NOW);
        heartbeat_svg_render(&b, h, w);
        buf_putc(&b, 0);
        return buf_ok(&b) ? b.data : NULL;
}

static void value_ticks_are_nice_and_cover_the_maximum(void)
{
        AxisTicks t = axis_value_ticks(11.8);
        CHECK(t.lo == 0 && t.step == 2 && t.hi == 12);
        t = axis_value_ticks(242);
        CHECK(t.step == 50 && t.hi == 250);
        t = axis_value_ticks(0.3);
        CHECK(fabs(t.step - 0.05) < 1e-12 && fabs(t.hi - 0.3) < 1e-12);
        t = axis_value_ticks(10); /* exactly on a tick: no extra empty step */
        CHECK(t.step == 2 && t.hi == 10);
}

static void empty_or_bad_range_gives_unit_axis(void)
{
        AxisTicks t = axis_value_ticks(0);
        CHECK(t.lo == 0 && t.hi == 1 && t.step > 0);
        t = axis_value_ticks(NAN);
        CHECK(t.hi == 1);
        t = axis_value_ticks(-5);
        CHECK(t.hi == 1);
}

static void time_step_gives_at_most_eight_ticks(void)
{
        CHECK_EQ_INT(axis_time_step(0, 24 * 3600 * SEC), 3 * 3600 * SEC);
        CHECK_EQ_INT(axis_time_step(0, 60 * SEC), 10 * SEC);
        CHECK_EQ_INT(axis_time_step(0, 8 * SEC), SEC);
        CHECK_EQ_INT(axis_time_step(0, SEC / 10), 20 * (int64_t)USEC_PER_MSEC);
        CHECK(axis_time_step(5, 5) > 0); /* empty range: any positive step */
}

static void empty_history_draws_axes_and_says_so(void)
{
        _cleanup_(history_freep) History *h = NULL;
        CHECK(history_new(8640, 500, 10 * USEC_PER_SEC, &h) == 0);
        HeartbeatWindow w;
        _cleanup_free_ char *svg = render(h, &w);
        CHECK(svg);
        CHECK_EQ_INT(w.n_samples, 0);
        CHECK_EQ_INT(w.n_runs, 0);
        CHECK(strstr(svg, "no samples yet"));
        CHECK_EQ_INT(rss_points(svg), 0);
        CHECK_EQ_INT(count(svg, "class=\"run "), 0);
        CHECK(strstr(svg, "RSS (MiB)") && strstr(svg, "time of day (UTC)"));
        CHECK(strncmp(svg, "<svg ", 5) == 0 && strstr(svg, "</svg>"));
}

static void one_point_is_drawn_with_room_around_it(void)
{
        _cleanup_(history_freep) History *h = NULL;
        CHECK(history_new(8640, 500, 10 * USEC_PER_SEC, &h) == 0);
        history_add_rss(h, NOW, 12083);
        HeartbeatWindow w;
        _cleanup_free_ char *svg = render(h, &w);
        CHECK(svg);
        CHECK_EQ_INT(w.n_samples, 1);
        CHECK(w.to_usec - w.from_usec >= 10 * SEC);
        CHECK_EQ_INT(rss_points(svg), 1);
        CHECK_EQ_INT(count(svg, "class=\"rss-now\""), 1);
        CHECK(!strstr(svg, "nan") && !strstr(svg, "inf"));
        CHECK(!strstr(svg, "no samples yet"));
}

static void all_equal_values_sit_inside_the_plot(void)
{
        _cleanup_(history_freep) History *h = NULL;
        CHECK(history_new(100, 10, SEC, &h) == 0);
        for (int i = 0; i < 50; i++)
                history_add_rss(h, NOW - (50 - i) * SEC, 11776); /* 11.5 MiB */
        HeartbeatWindow w;
        _cleanup_free_ char *svg = render(h, &w);
        CHECK(svg);
        CHECK_EQ_INT(rss_points(svg), 50);
        /* the axis goes to 12 (a nice value above 11.5): the line is not at the top edge */
        CHECK(strstr(svg, ">12</text>"));
        CHECK(!strstr(svg, ">14</text>"));
        CHECK(!strstr(svg, "nan"));
}

static void a_gap_breaks_the_line_but_keeps_every_point(void)
{
        _cleanup_(history_freep) History *h = NULL;
        CHECK(history_new(100, 10, SEC, &h) == 0);
        for (int i = 0; i < 10; i++)
                history_add_rss(h, NOW - 60 * SEC + i * SEC, 12000);
        for (int i = 0; i < 5; i++) /* 45 s later */
                history_add_rss(h, NOW - 5 * SEC + i * SEC, 12100);
        HeartbeatWindow w;
        _cleanup_free_ char *svg = render(h, &w);
        CHECK(svg);
        CHECK_EQ_INT(count(svg, "<polyline class=\"rss\""), 2);
        CHECK_EQ_INT(rss_points(svg), 15);
        CHECK_EQ_INT(w.n_samples, 15);
}

static void every_run_in_the_window_gets_one_mark(void)
{
        _cleanup_(history_freep) History *h = NULL;
        CHECK(history_new(100, 10, SEC, &h) == 0);
        for (int i = 0; i < 100; i++) /* the ring holds 100 s */
                history_add_rss(h, NOW - (100 - i) * SEC, 12000);
        history_add_run(h, &(RunRecord){.when_usec = NOW - 500 * SEC, .generation = 1}); /* old */
        history_add_run(h, &(RunRecord){.when_usec = NOW - 50 * SEC,
                                        .generation = 2,
                                        .has_usage = true,
                                        .peak_rss_kib = 250 * 1024});
        history_add_run(h, &(RunRecord){.when_usec = NOW - 40 * SEC, .generation = 3});
        history_add_run(
            h, &(RunRecord){.when_usec = NOW - 30 * SEC, .outcome = RUN_FAILED, .exit_status = 65});
        HeartbeatWindow w;
        _cleanup_free_ char *svg = render(h, &w);
        CHECK(svg);
        CHECK_EQ_INT(w.n_runs, 3);
        CHECK_EQ_INT(count(svg, "class=\"run "), 3);
        CHECK_EQ_INT(count(svg, "class=\"run failed\""), 1);
        CHECK(strstr(svg, "peak 250.0 MiB"));
        CHECK(strstr(svg, ">250</text>")); /* the axis reaches the spike */
        CHECK(strstr(svg, "exit status 65"));
}

TEST_MAIN(TEST_CASE(value_ticks_are_nice_and_cover_the_maximum),
          TEST_CASE(empty_or_bad_range_gives_unit_axis),
          TEST_CASE(time_step_gives_at_most_eight_ticks),
          TEST_CASE(empty_history_draws_axes_and_says_so),
          TEST_CASE(one_point_is_drawn_with_room_around_it),
          TEST_CASE(all_equal_values_sit_inside_the_plot),
          TEST_CASE(a_gap_breaks_the_line_but_keeps_every_point),
          TEST_CASE(every_run_in_the_window_gets_one_mark))
