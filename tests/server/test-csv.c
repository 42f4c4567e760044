#include <math.h>

#include "csv.h"
#include "snapfix.h"
#include "test.h"

static const char *field(const char *s, size_t n)
{
        static Buf b;
        buf_done(&b);
        csv_field(&b, s, n);
        buf_putc(&b, 0);
        return b.data;
}

static const char *cell(Value v)
{
        static Buf b;
        buf_done(&b);
        csv_value(&b, &v);
        buf_putc(&b, 0);
        return b.data;
}

static void test_fields_are_quoted_only_when_needed(void)
{
        CHECK_STREQ(field("eu-west", 7), "eu-west");
        CHECK_STREQ(field("sum(amount)", 11), "sum(amount)");
        CHECK_STREQ(field("a,b", 3), "\"a,b\"");
        CHECK_STREQ(field("say \"hi\"", 8), "\"say \"\"hi\"\"\"");
        CHECK_STREQ(field("a\r\nb", 4), "\"a\r\nb\"");
        CHECK_STREQ(field("a\nb", 3), "\"a\nb\"");
        CHECK_STREQ(field(" lead", 5), " lead");
}

static void test_empty_string_and_missing_value_differ(void)
{
        CHECK_STREQ(field("", 0), "\"\"");
        CHECK_STREQ(cell((Value){.type = VALUE_NIL}), "");
        CHECK_STREQ(cell((Value){.type = VALUE_STR, .len = 0, .s = ""}), "\"\"");
}

static void test_cells_read_as_in_json(void)
{
        CHECK_STREQ(cell((Value){.type = VALUE_INT, .i = -42}), "-42");
        CHECK_STREQ(cell((Value){.type = VALUE_NUM, .d = 0.1}), "0.1");
        CHECK_STREQ(cell((Value){.type = VALUE_NUM, .d = 1e300}), "1e+300");
        CHECK_STREQ(cell((Value){.type = VALUE_NUM, .d = NAN}), ""); /* JSON's null */
        CHECK_STREQ(cell((Value){.type = VALUE_NUM, .d = INFINITY}), "");
        CHECK_STREQ(cell((Value){.type = VALUE_TIME, .i = 1714564800000001}),
                    "2024-05-01T12:00:00.000001Z");
}

static void test_invalid_utf8_becomes_the_replacement_character(void)
{
        CHECK_STREQ(field("\xc3\xa9t\xc3\xa9", 5), "\xc3\xa9t\xc3\xa9");
        CHECK_STREQ(field("a\xff", 2), "a\xef\xbf\xbd");
        CHECK_STREQ(field("\xc3", 1), "\xef\xbf\xbd");
        CHECK_STREQ(field("\xc3,", 2), "\"\xef\xbf\xbd,\"");
}

static void test_view_body_is_header_then_one_record_per_row(void)
{
        Snapshot *s = snapfix_build(9, 600);
        CHECK(s);
        Served *sv = NULL;
        CHECK_EQ_INT(served_new(s, &sv), 0);
        snapshot_free(s);
        const ServedView *v = served_find_view(sv, "sales", 5);
        const ViewBodies *b = &v->csv;
        static const char header[] = "region,product,count,sum(amount),at\r\n";
        CHECK(b->head.len == strlen(header) && memcmp(b->head.p, header, b->head.len) == 0);
        CHECK(b->full.p == b->head.p && b->rows == b->full.p + b->head.len);
        Piece r0 = served_row(b, 0);
        static const char row0[] = "us-east,p00000,0,0.5,2024-05-01T12:00:00Z\r\n";
        CHECK(r0.len == strlen(row0) && memcmp(r0.p, row0, r0.len) == 0);
        Piece odd = served_row(b, 600); /* '/', non-ASCII, NaN and nil */
        static const char row600[] = "a/b,\xc3\xa9t\xc3\xa9,-1,,\r\n";
        CHECK(odd.len == strlen(row600) && memcmp(odd.p, row600, odd.len) == 0);
        Piece all = served_rows(b, 0, v->n_rows);
        CHECK_EQ_INT(b->head.len + all.len, b->full.len);
        size_t crlf = 0;
        for (size_t i = 0; i + 1 < b->full.len; i++)
                crlf += b->full.p[i] == '\r' && b->full.p[i + 1] == '\n';
        CHECK_EQ_INT(crlf, v->n_rows + 1);
        CHECK(b->full_gz.p && b->full_gz.len < b->full.len);
        served_unref(sv);
}

TEST_MAIN(TEST_CASE(test_fields_are_quoted_only_when_needed),
          TEST_CASE(test_empty_string_and_missing_value_differ),
          TEST_CASE(test_cells_read_as_in_json),
          TEST_CASE(test_invalid_utf8_becomes_the_replacement_character),
          TEST_CASE(test_view_body_is_header_then_one_record_per_row))
