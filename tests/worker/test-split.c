/* Splitting a mapped file: pieces end after a LF, cover the range exactly, get smaller
 * towards the end, and a line longer than a share swallows the shares it spans. */
#include "split.h"
#include "test.h"

static void test_split_pieces_one_until_the_minimum_then_bounded_per_thread(void)
{
        CHECK_EQ_INT(split_pieces(100, 8, 100), 1);
        CHECK_EQ_INT(split_pieces(250, 8, 100), 3);
        CHECK_EQ_INT(split_pieces(1 << 20, 2, 100), 8);
}

static void test_split_pieces_end_after_a_line_feed_and_cover_the_range(void)
{
        char buf[1000];
        for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = i % 10 == 9 ? '\n' : 'x';
        size_t bounds[5];
        size_t n = split_at_lines(buf, 0, sizeof(buf), 4, bounds);
        CHECK_EQ_INT(n, 4);
        CHECK_EQ_INT(bounds[0], 0);
        CHECK_EQ_INT(bounds[n], sizeof(buf));
        for (size_t k = 1; k < n; k++) {
                CHECK(bounds[k] > bounds[k - 1]);
                CHECK(buf[bounds[k] - 1] == '\n');
        }
        /* shares of 4, 3, 2 and 1 tenths, each to the LF after it: the last pieces, which
         * decide how far apart the threads end, are the smallest */
        CHECK_EQ_INT(bounds[1], 410); /* the LF at 409 */
        CHECK_EQ_INT(bounds[2], 710);
        CHECK_EQ_INT(bounds[3], 910);
}

static void test_split_long_line_swallows_the_shares_it_spans(void)
{
        char buf[400];
        memset(buf, 'x', sizeof(buf));
        buf[10] = '\n';
        buf[350] = '\n'; /* lines: 0..10, 11..350, 351..399 */
        size_t bounds[5];
        size_t n = split_at_lines(buf, 0, sizeof(buf), 4, bounds);
        CHECK_EQ_INT(n, 2);
        CHECK_EQ_INT(bounds[1], 351);
        CHECK_EQ_INT(bounds[2], 400);
}

static void test_split_empty_range_has_no_pieces(void)
{
        size_t bounds[3];
        CHECK_EQ_INT(split_at_lines("abc\n", 4, 4, 2, bounds), 0);
}

TEST_MAIN(TEST_CASE(test_split_pieces_one_until_the_minimum_then_bounded_per_thread),
          TEST_CASE(test_split_pieces_end_after_a_line_feed_and_cover_the_range),
          TEST_CASE(test_split_long_line_swallows_the_shares_it_spans),
          TEST_CASE(test_split_empty_range_has_no_pieces))
