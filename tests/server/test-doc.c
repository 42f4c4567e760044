#include <math.h>
#include <sys/mman.h>

#include "doc.h"
#include "mp_cursor.h"
#include "test.h"

static char *json_of(void (*fn)(Doc *), Buf *b)
{
        *b = BUF_NULL;
        Doc d;
        doc_init(&d, b, DOC_JSON);
        fn(&d);
        buf_putc(b, 0);
        return b->data;
}

static void nested(Doc *d)
{
        doc_map(d, 3);
        doc_key(d, "a");
        doc_array(d, 3);
        doc_int(d, -5);
        doc_uint(d, 18446744073709551615ull);
        doc_nil(d);
        doc_end(d);
        doc_key(d, "b");
        doc_map(d, 0);
        doc_end(d);
        doc_key(d, "c");
        doc_bool(d, true);
        doc_end(d);
}

static void test_json_separators(void)
{
        Buf b;
        CHECK_STREQ(json_of(nested, &b),
                    "{\"a\":[-5,18446744073709551615,null],\"b\":{},\"c\":true}");
        buf_done(&b);
}

static void escapes(Doc *d)
{
        doc_array(d, 4);
        doc_cstr(d, "q\"b\\s\n\t\x01");
        doc_str(d, "\xff", 1);               /* invalid byte → U+FFFD */
        doc_cstr(d, "\xc3\xa9\xe2\x82\xac"); /* valid UTF-8 kept */
        doc_str(d, "\xe2\x82", 2);           /* truncated sequence */
        doc_end(d);
}

static void test_json_strings_are_escaped_and_valid_utf8(void)
{
        Buf b;
        CHECK_STREQ(json_of(escapes, &b), "[\"q\\\"b\\\\s\\n\\t\\u0001\",\"\xef\xbf\xbd\","
                                          "\"\xc3\xa9\xe2\x82\xac\",\"\xef\xbf\xbd\xef\xbf\xbd\"]");
        buf_done(&b);
}

static void nonfinite(Doc *d)
{
        doc_array(d, 3);
        doc_num(d, NAN);
        doc_num(d, INFINITY);
        doc_num(d, 0.1);
        doc_end(d);
}

static void test_nonfinite_numbers_are_null(void)
{
        Buf b;
        CHECK_STREQ(json_of(nonfinite, &b), "[null,null,0.1]");
        buf_done(&b);
}

static void test_shortest_doubles_round_trip(void)
{
        static const double fixed[] = {0,
                                       -0.0,
                                       1,
                                       12.5,
                                       587.63,
                                       -3.25,
                                       1e-7,
                                       1e300,
                                       0.1 + 0.2,
                                       1.0 / 3,
                                       123456789012345.0,
                                       2e15,
                                       5e-324,
                                       20876.349999999995,
                                       1e-8,
                                       99.98};
        char buf[32];
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
                size_t n = format_double_shortest(buf, fixed[i]);
                buf[n] = 0;
                CHECK(strtod(buf, NULL) == fixed[i]);
        }
        CHECK_EQ_INT(format_double_shortest(buf, 587.63), 6);
        CHECK_EQ_INT(format_double_shortest(buf, 12.5), 4);
        uint64_t x = 88172645463325252ull;
        for (int i = 0; i < 200000; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                double v;
                if (i % 2) {
                        memcpy(&v, &x, sizeof(v));
                        if (!isfinite(v))
                                continue;
                } else
                        v = (double)(int64_t)(x % 10000000) / 100.0; /* two decimals */
                size_t n = format_double_shortest(buf, v);
                buf[n] = 0;
                if (strtod(buf, NULL) != v)
                        fprintf(stderr, "# %.17g printed as %s\n", v, buf);
                CHECK(strtod(buf, NULL) == v);
        }
}

static void test_msgpack_reads_back(void)
{
        Buf b = BUF_NULL;
        Doc d;
        doc_init(&d, &b, DOC_MSGPACK);
        doc_map(&d, 2);
        doc_key(&d, "n");
        doc_array(&d, 6);
        doc_int(&d, -1);
        doc_int(&d, -200);
        doc_int(&d, INT64_MIN);
        doc_uint(&d, 70000);
        doc_num(&d, 2.5);
        doc_nil(&d);
        doc_end(&d);
        doc_key(&d, "s");
        char big[300];
        memset(big, 'x', sizeof(big));
        doc_str(&d, big, sizeof(big));
        doc_end(&d);
        CHECK(buf_ok(&b));
        MpCursor c;
        mp_cursor_init(&c, b.data, b.len);
        uint32_t n, len;
        const char *s;
        int64_t i;
        uint64_t u;
        double f;
        CHECK(mp_read_map(&c, &n) == 0 && n == 2);
        CHECK(mp_read_str(&c, &s, &len) == 0 && len == 1 && s[0] == 'n');
        CHECK(mp_read_array(&c, &n) == 0 && n == 6);
        CHECK(mp_read_i64(&c, &i) == 0 && i == -1);
        CHECK(mp_read_i64(&c, &i) == 0 && i == -200);
        CHECK(mp_read_i64(&c, &i) == 0 && i == INT64_MIN);
        CHECK(mp_read_u64(&c, &u) == 0 && u == 70000);
        CHECK(mp_read_double(&c, &f) == 0 && f == 2.5);
        CHECK(mp_read_nil(&c) == 0);
        CHECK(mp_read_str(&c, &s, &len) == 0 && len == 1 && s[0] == 's');
        CHECK(mp_read_str(&c, &s, &len) == 0 && len == 300);
        CHECK(mp_left(&c) == 0);
        buf_done(&b);
}

static void test_mapped_buffer_hands_over_its_pages(void)
{
        Buf b;
        buf_init_mapped(&b);
        for (int i = 0; i < 100000; i++)
                buf_puts(&b, "0123456789");
        CHECK(buf_ok(&b));
        CHECK_EQ_INT(b.len, 1000000);
        void *p;
        size_t size;
        CHECK_EQ_INT(buf_take_mapping(&b, &p, &size), 0);
        CHECK(size >= 1000000 && size < 1000000 + 4096 * 2);
        CHECK(memcmp((char *)p + 999990, "0123456789", 10) == 0);
        CHECK(b.data == NULL);
        munmap(p, size);
}

TEST_MAIN(TEST_CASE(test_json_separators), TEST_CASE(test_json_strings_are_escaped_and_valid_utf8),
          TEST_CASE(test_nonfinite_numbers_are_null), TEST_CASE(test_shortest_doubles_round_trip),
          TEST_CASE(test_msgpack_reads_back), TEST_CASE(test_mapped_buffer_hands_over_its_pages))
