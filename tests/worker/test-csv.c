/* The tokenizer: RFC 4180 quoting, line endings, blank lines, resynchronising after bad
 * quoting, and streams that stop mid-record. */
#include "csv.h"
#include "test.h"

typedef struct Collected {
        int status[16];
        char fields[16][8][32];
        size_t n_fields[16];
        uint64_t line[16];
        size_t n;
} Collected;

static int collect(int status, const CsvField *f, size_t n, uint64_t line, void *userdata)
{
        Collected *c = userdata;
        if (c->n == 16)
                return 1;
        c->status[c->n] = status;
        c->n_fields[c->n] = n;
        c->line[c->n] = line;
        for (size_t i = 0; i < n && i < 8; i++)
                snprintf(c->fields[c->n][i], 32, "%.*s", (int)f[i].len, f[i].p);
        c->n++;
        return 0;
}

static Collected parse(const char *text)
{
        Collected c = {};
        csv_parse_buffer(text, strlen(text), collect, &c);
        return c;
}

static void test_plain_fields_and_final_line_without_newline(void)
{
        Collected c = parse("a,b,c\n1,,3");
        CHECK_EQ_INT(c.n, 2);
        CHECK_EQ_INT(c.n_fields[1], 3);
        CHECK_STREQ(c.fields[1][0], "1");
        CHECK_STREQ(c.fields[1][1], "");
        CHECK_STREQ(c.fields[1][2], "3");
}

static void test_crlf_is_stripped_only_at_record_end(void)
{
        Collected c = parse("a,b\r\nx\r,y\r\n");
        CHECK_EQ_INT(c.n, 2);
        CHECK_STREQ(c.fields[0][1], "b");
        CHECK_STREQ(c.fields[1][0], "x\r");
        CHECK_STREQ(c.fields[1][1], "y");
}

static void test_quoted_fields_hold_commas_quotes_and_newlines(void)
{
        Collected c = parse("\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\nnext,1\n");
        CHECK_EQ_INT(c.n, 2);
        CHECK_EQ_INT(c.status[0], CSV_RECORD);
        CHECK_STREQ(c.fields[0][0], "a,b");
        CHECK_STREQ(c.fields[0][1], "say \"hi\"");
        CHECK_STREQ(c.fields[0][2], "two\nlines");
        CHECK_EQ_INT(c.line[1], 3); /* the quoted line break counts */
}

static void test_quote_inside_unquoted_field_is_literal(void)
{
        Collected c = parse("ab\"c,d\n");
        CHECK_EQ_INT(c.n, 1);
        CHECK_EQ_INT(c.status[0], CSV_RECORD);
        CHECK_STREQ(c.fields[0][0], "ab\"c");
}

static void test_junk_after_closing_quote_is_bad_and_skipped(void)
{
        Collected c = parse("x,\"eu-we\"st,z\nok,1,2\n");
        CHECK_EQ_INT(c.n, 2);
        CHECK_EQ_INT(c.status[0], CSV_BAD_QUOTE);
        CHECK_EQ_INT(c.status[1], CSV_RECORD);
        CHECK_STREQ(c.fields[1][0], "ok");
        CHECK_EQ_INT(c.line[1], 2);
}

static void test_unterminated_quote_consumes_the_rest(void)
{
        Collected c = parse("a,b\n\"open,1\n2,3\n");
        CHECK_EQ_INT(c.n, 2);
        CHECK_EQ_INT(c.status[1], CSV_BAD_QUOTE);
}

static void test_blank_lines_are_skipped(void)
{
        Collected c = parse("\n\r\na\n\n\nb\n");
        CHECK_EQ_INT(c.n, 2);
        CHECK_STREQ(c.fields[0][0], "a");
        CHECK_EQ_INT(c.line[0], 3);
        CHECK_EQ_INT(c.line[1], 6);
}

static void test_long_records_take_the_vector_path_and_agree(void)
{
        /* longer than 16 bytes: the SSE2 path; compare with the same record quoted */
        Collected a = parse("2026-01-01T00:00:00Z,eu-west,p00001,17,12.50,3.0,ok\n");
        Collected b = parse("\"2026-01-01T00:00:00Z\",eu-west,p00001,17,12.50,3.0,ok\n");
        CHECK_EQ_INT(a.n_fields[0], 7);
        CHECK_EQ_INT(b.n_fields[0], 7);
        for (int i = 0; i < 7; i++)
                CHECK_STREQ(a.fields[0][i], b.fields[0][i]);
}

static void test_stream_reports_need_more_without_moving(void)
{
        const char *text = "a,\"b\nc";
        CsvCursor c;
        CsvField f[4];
        size_t n;
        csv_cursor_init(&c, text, strlen(text), false);
        CHECK_EQ_INT(csv_next(&c, f, 4, &n), CSV_NEED_MORE);
        CHECK_EQ_INT(c.pos, 0);
        csv_cursor_reset(&c, "a,\"b\nc\"\n", 8, true);
        CHECK_EQ_INT(csv_next(&c, f, 4, &n), CSV_RECORD);
        CHECK_EQ_INT(n, 2);
        CHECK_EQ_INT(f[1].len, 3);
        csv_cursor_done(&c);
}

static void test_extra_fields_are_counted_not_stored(void)
{
        CsvCursor c;
        CsvField f[2];
        size_t n;
        csv_cursor_init(&c, "1,2,3,4\n", 8, true);
        CHECK_EQ_INT(csv_next(&c, f, 2, &n), CSV_RECORD);
        CHECK_EQ_INT(n, 4);
        csv_cursor_done(&c);
}

TEST_MAIN(TEST_CASE(test_plain_fields_and_final_line_without_newline),
          TEST_CASE(test_crlf_is_stripped_only_at_record_end),
          TEST_CASE(test_quoted_fields_hold_commas_quotes_and_newlines),
          TEST_CASE(test_quote_inside_unquoted_field_is_literal),
          TEST_CASE(test_junk_after_closing_quote_is_bad_and_skipped),
          TEST_CASE(test_unterminated_quote_consumes_the_rest),
          TEST_CASE(test_blank_lines_are_skipped),
          TEST_CASE(test_long_records_take_the_vector_path_and_agree),
          TEST_CASE(test_stream_reports_need_more_without_moving),
          TEST_CASE(test_extra_fields_are_counted_not_stored))
