/* NDJSON lines: every type, escapes and UTF-8, missing values, and each kind of bad line
 * with its reason. */
#include "ndjson.h"
#include "test.h"

static const NdjsonColumn cols[] = {
    {"ts", VALUE_TIME},
    {"region", VALUE_STR},
    {"n", VALUE_INT},
    {"x", VALUE_NUM},
};

static NdjsonParser *parser(void)
{
        NdjsonParser *p = NULL;
        if (ndjson_parser_new(cols, ELEMENTSOF(cols), &p) < 0)
                abort();
        return p;
}

static Value row[4];
static const char *why;

static int parse(NdjsonParser *p, const char *line)
{
        why = NULL;
        return ndjson_parse_line(p, line, strlen(line), row, &why);
}

static bool str_is(const Value *v, const char *s, size_t len)
{
        return v->type == VALUE_STR && v->len == len && memcmp(v->s, s, len) == 0;
}

static void test_every_type(void)
{
        NdjsonParser *p = parser();
        const char *line = "{\"ts\": \"2024-05-01T12:00:00Z\", \"region\":\"eu\",\"n\":-42,"
                           "\"x\":1.5e2}";
        CHECK_EQ_INT(parse(p, line), NDJSON_ROW);
        CHECK_EQ_INT(row[0].type, VALUE_TIME);
        CHECK_EQ_INT(row[0].i, INT64_C(1714564800000000));
        CHECK(str_is(&row[1], "eu", 2));
        CHECK(row[1].s > line && row[1].s < line + strlen(line)); /* no copy without escapes */
        CHECK_EQ_INT(row[2].type, VALUE_INT);
        CHECK_EQ_INT(row[2].i, -42);
        CHECK_EQ_INT(row[3].type, VALUE_NUM);
        CHECK(row[3].d == 150.0);
        /* time from epoch seconds and milliseconds; an int is a valid num */
        CHECK_EQ_INT(parse(p, "{\"ts\":1714564800,\"x\":3}"), NDJSON_ROW);
        CHECK_EQ_INT(row[0].i, INT64_C(1714564800000000));
        CHECK(row[3].d == 3.0);
        CHECK_EQ_INT(parse(p, "{\"ts\":1714564800123}"), NDJSON_ROW);
        CHECK_EQ_INT(row[0].i, INT64_C(1714564800123000));
        CHECK_EQ_INT(parse(p, "{\"ts\":\"2024-05-01 14:00:00.5+02:00\",\"n\":-0}"), NDJSON_ROW);
        CHECK_EQ_INT(row[0].i, INT64_C(1714564800500000));
        CHECK_EQ_INT(row[2].i, 0);
        CHECK_EQ_INT(parse(p, "{\"n\":9223372036854775807,\"x\":-0.000123}"), NDJSON_ROW);
        CHECK_EQ_INT(row[2].i, INT64_MAX);
        CHECK(row[3].d == -0.000123);
        ndjson_parser_free(p);
}

static void test_escapes_and_utf8(void)
{
        NdjsonParser *p = parser();
        CHECK_EQ_INT(parse(p, "{\"region\":\"q\\\"b\\\\s\\/ \\b\\f\\n\\r\\t \\u00e9 \\u20ac "
                              "\\ud83d\\ude00 caf\xc3\xa9\"}"),
                     NDJSON_ROW);
        static const char want[] = "q\"b\\s/ \b\f\n\r\t \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 "
                                   "caf\xc3\xa9";
        CHECK(str_is(&row[1], want, sizeof(want) - 1));
        /* an escaped key matches too, and two escaped strings on a line both survive */
        static const NdjsonColumn two[] = {{"a", VALUE_STR}, {"b", VALUE_STR}};
        NdjsonParser *q = NULL;
        CHECK_EQ_INT(ndjson_parser_new(two, 2, &q), 0);
        Value r2[2];
        const char *line = "{\"\\u0061\":\"x\\ty\",\"b\":\"\\u0041\\u0042\"}";
        CHECK_EQ_INT(ndjson_parse_line(q, line, strlen(line), r2, &why), NDJSON_ROW);
        CHECK(str_is(&r2[0], "x\ty", 3));
        CHECK(str_is(&r2[1], "AB", 2));
        ndjson_parser_free(q);
        /* raw UTF-8 is checked */
        CHECK_EQ_INT(parse(p, "{\"region\":\"\xc3\x28\"}"), NDJSON_BAD);
        CHECK(strstr(why, "UTF-8"));
        CHECK_EQ_INT(parse(p, "{\"region\":\"\xed\xa0\x80\"}"), NDJSON_BAD); /* CESU surrogate */
        CHECK_EQ_INT(parse(p, "{\"region\":\"\xc0\xaf\"}"), NDJSON_BAD);     /* overlong */
        CHECK_EQ_INT(parse(p, "{\"region\":\"\\ud83d\"}"), NDJSON_BAD);
        CHECK(strstr(why, "surrogate"));
        CHECK_EQ_INT(parse(p, "{\"region\":\"\\ude00\\ud83d\"}"), NDJSON_BAD);
        CHECK_EQ_INT(parse(p, "{\"region\":\"\\u12g4\"}"), NDJSON_BAD);
        CHECK_EQ_INT(parse(p, "{\"region\":\"\\x41\"}"), NDJSON_BAD);
        CHECK_EQ_INT(parse(p, "{\"region\":\"tab\there\"}"), NDJSON_BAD);
        CHECK(strstr(why, "control"));
        ndjson_parser_free(p);
}

static void test_null_and_absent_are_missing(void)
{
        NdjsonParser *p = parser();
        CHECK_EQ_INT(parse(p, "{\"region\":null,\"n\":null}"), NDJSON_ROW);
        for (size_t i = 0; i < 4; i++)
                CHECK_EQ_INT(row[i].type, VALUE_NIL);
        CHECK_EQ_INT(parse(p, " { } \r"), NDJSON_ROW);
        for (size_t i = 0; i < 4; i++)
                CHECK_EQ_INT(row[i].type, VALUE_NIL);
        CHECK_EQ_INT(parse(p, ""), NDJSON_BLANK);
        CHECK_EQ_INT(parse(p, "  \t\r"), NDJSON_BLANK);
        ndjson_parser_free(p);
}

static void test_wrong_types_are_bad_rows_naming_the_column(void)
{
        NdjsonParser *p = parser();
        CHECK_EQ_INT(parse(p, "{\"n\":1.5}"), NDJSON_BAD);
        CHECK(strstr(why, "\"n\"") && strstr(why, "not an integer"));
        CHECK_EQ_INT(parse(p, "{\"n\":1e3}"), NDJSON_BAD);
        CHECK_EQ_INT(parse(p, "{\"n\":9223372036854775808}"), NDJSON_BAD);
        CHECK(strstr(why, "range"));
        CHECK_EQ_INT(parse(p, "{\"n\":\"12\"}"), NDJSON_BAD);
        CHECK_EQ_INT(parse(p, "{\"region\":12}"), NDJSON_BAD);
        CHECK(strstr(why, "\"region\""));
        CHECK_EQ_INT(parse(p, "{\"x\":1e400}"), NDJSON_BAD);
        CHECK_EQ_INT(parse(p, "{\"x\":true}"), NDJSON_BAD);
        CHECK(strstr(why, "true/false"));
        CHECK_EQ_INT(parse(p, "{\"ts\":\"yesterday\"}"), NDJSON_BAD);
        CHECK(strstr(why, "timestamp"));
        CHECK_EQ_INT(parse(p, "{\"ts\":1714564800.5}"), NDJSON_BAD);
        ndjson_parser_free(p);
}

static void test_not_an_object_of_scalars(void)
{
        NdjsonParser *p = parser();
        static const char *const lines[] = {
            "hello",
            "[1,2]",
            "\"just a string\"",
            "{",
            "{\"n\":1,}",
            "{\"n\" 1}",
            "{\"n\":}",
            "{n:1}",
            "{\"n\":1} x",
            "{\"n\":1}{\"n\":2}",
            "{\"n\":01}",
            "{\"n\":+1}",
            "{\"x\":.5}",
            "{\"x\":1.}",
            "{\"x\":-}",
            "{\"region\":\"unterminated}",
            "{\"other\":{\"a\":1}}",
            "{\"other\":[]}",
            "{\"region\":[\"eu\"]}",
            "{\"other\":nul}",
            "{\"other\":tru}",
            "{\"n\":1,\"n\":2}",
            "{'n':1}",
            "\xef\xbb\xbf{\"n\":1}",
        };
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                int r = parse(p, lines[i]);
                if (r != NDJSON_BAD)
                        fprintf(stderr, "# accepted: %s\n", lines[i]);
                CHECK_EQ_INT(r, NDJSON_BAD);
                CHECK(why && *why);
        }
        CHECK_EQ_INT(parse(p, "{\"n\":1,\"n\":2}"), NDJSON_BAD);
        CHECK(strstr(why, "twice"));
        CHECK_EQ_INT(parse(p, "{\"other\":{}}"), NDJSON_BAD);
        CHECK(strstr(why, "nested"));
        /* undeclared keys: skipped, may repeat, may be any scalar */
        CHECK_EQ_INT(parse(p, "{\"o\":1,\"o\":true,\"o\":false,\"o\":null,\"o\":\"s\\n\",\"n\":7}"),
                     NDJSON_ROW);
        CHECK_EQ_INT(row[2].i, 7);
        ndjson_parser_free(p);
}

static void test_limits_and_columns(void)
{
        NdjsonParser *p = NULL;
        static const NdjsonColumn dup[] = {{"a", VALUE_STR}, {"a", VALUE_INT}};
        CHECK_EQ_INT(ndjson_parser_new(dup, 2, &p), -EINVAL);
        CHECK_EQ_INT(ndjson_parser_new(dup, 0, &p), -EINVAL);
        static const NdjsonColumn nil[] = {{"a", VALUE_NIL}};
        CHECK_EQ_INT(ndjson_parser_new(nil, 1, &p), -EINVAL);
        p = parser();
        size_t n = NDJSON_MAX_LINE_BYTES + 16;
        char *big = malloc(n + 1);
        CHECK(big);
        memset(big, ' ', n);
        memcpy(big, "{\"region\":\"", 11);
        big[n - 2] = '"';
        big[n - 1] = '}';
        big[n] = 0;
        CHECK_EQ_INT(parse(p, big), NDJSON_BAD);
        CHECK(strstr(why, "1 MiB"));
        /* just under the limit, all escapes: the scratch grows to fit */
        n = NDJSON_MAX_LINE_BYTES - 16;
        memcpy(big, "{\"region\":\"", 11);
        size_t i = 11;
        for (; i + 2 < n - 2; i += 2)
                memcpy(big + i, "\\n", 2);
        big[i++] = '"';
        big[i++] = '}';
        CHECK_EQ_INT(ndjson_parse_line(p, big, i, row, &why), NDJSON_ROW);
        CHECK_EQ_INT(row[1].len, (i - 13) / 2);
        free(big);
        ndjson_parser_free(p);
}

TEST_MAIN(TEST_CASE(test_every_type), TEST_CASE(test_escapes_and_utf8),
          TEST_CASE(test_null_and_absent_are_missing),
          TEST_CASE(test_wrong_types_are_bad_rows_naming_the_column),
          TEST_CASE(test_not_an_object_of_scalars), TEST_CASE(test_limits_and_columns))
