#include <math.h>

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

/* The printf loop format_double_shortest falls back to (and replaced with exact integer
 * arithmetic for most values): what the output was before, the oracle here. */
static size_t printf_shortest(char *buf, double v)
{
        for (int prec = 15;; prec++) {
                int n = snprintf(buf, 32, "%.*g", prec, v);
                if (prec == 17 || strtod(buf, NULL) == v)
                        return (size_t)n;
        }
}

/* Whether the few-decimals path (r with k <= 8 decimals) prints v, not the printf loop. */
static bool has_few_decimals(double v)
{
        static const double pow10[] = {1, 10, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
        double a = fabs(v);
        if (!(a < 1e15) || (a != 0 && a < 1e-8))
                return false;
        for (unsigned k = 0; k < ELEMENTSOF(pow10); k++) {
                double scaled = a * pow10[k];
                if (scaled >= 9007199254740992.0)
                        return false;
                if ((double)(int64_t)(scaled + 0.5) / pow10[k] == a)
                        return true;
        }
        return false;
}

static void check_like_printf(double v, unsigned *compared)
{
        if (!isfinite(v) || has_few_decimals(v))
                return;
        char got[32], want[32];
        size_t n = format_double_shortest(got, v), w = printf_shortest(want, v);
        got[n] = want[w] = 0;
        if (strcmp(got, want) != 0)
                fprintf(stderr, "# %a: %s, printf %s\n", v, got, want);
        CHECK_STREQ(got, want);
        (*compared)++;
}

static void test_shortest_doubles_match_printf(void)
{
        unsigned compared = 0;
        /* exact ties at the 17th digit (half to even), powers of two, tiny and huge values */
        static const double fixed[] = {123456789012345.125,
                                       123456789012345.375,
                                       -98765432109876.0625,
                                       1125899906842624.25,
                                       4503599627370495.5,
                                       0.1 + 0.2,
                                       1.0 / 3,
                                       2.0 / 3,
                                       1e-5 / 3,
                                       1e-300 / 7,
                                       1e300 / 7,
                                       0x1p-20,
                                       0x1p-60,
                                       0x1.fffffffffffffp+52,
                                       0x1.0000000000001p-30,
                                       20876.349999999995,
                                       47589.159999999996,
                                       580.35560975609746};
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
                check_like_printf(fixed[i], &compared);
                check_like_printf(-fixed[i], &compared);
        }
        uint64_t x = 88172645463325252ull;
        for (int i = 0; i < 600000; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                double v;
                switch (i % 6) {
                case 0: memcpy(&v, &x, sizeof(v)); break; /* any double */
                case 1:                                   /* log-uniform over 1e-9 .. 1e17 */
                        v = pow(10, -9 + 26 * ((double)(x >> 11) / 9007199254740992.0));
                        break;
                case 2: { /* a sum of two-decimal amounts, as sum() makes them */
                        double sum = 0;
                        for (int k = 0; k < 1 + (int)(x % 97); k++)
                                sum += (double)((x >> (k % 40)) % 100000) / 100.0;
                        v = sum;
                        break;
                }
                case 3: /* an average */
                        v = (double)(x % 100000000) / 100.0 / (double)(1 + (x >> 40) % 1000);
                        break;
                case 4: /* n + a binary fraction: ties at some digit */
                        v = (double)(x % 9007199254740992ull >> (x >> 58)) +
                            (double)((x >> 20) % 16) / 16.0;
                        break;
                default: /* neighbours of a short decimal */
                        v = nextafter((double)(x % 10000000) / 1000.0, (x & 1) ? INFINITY : 0);
                        break;
                }
                check_like_printf(v, &compared);
        }
        CHECK(compared > 400000);
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

static void test_msgpack_uses_the_smallest_encoding(void)
{
        /* The bytes clients and the tests of other modules rely on, by the spec's table. */
        Buf b = BUF_NULL;
        Doc d;
        doc_init(&d, &b, DOC_MSGPACK);
        doc_array(&d, 17);
        doc_uint(&d, 127);
        doc_uint(&d, 128);
        doc_uint(&d, 65535);
        doc_uint(&d, 65536);
        doc_uint(&d, 4294967296ull);
        doc_int(&d, -32);
        doc_int(&d, -33);
        doc_int(&d, -129);
        doc_int(&d, -32769);
        doc_int(&d, -2147483649ll);
        doc_int(&d, 5);
        doc_num(&d, 1.0);
        doc_nil(&d);
        doc_bool(&d, false);
        doc_cstr(&d, "ab");
        char s32[32];
        memset(s32, 'x', sizeof(s32));
        doc_str(&d, s32, sizeof(s32));
        doc_map(&d, 16);
        doc_end(&d);
        doc_end(&d);
        CHECK(buf_ok(&b));
        static const unsigned char want_head[] = {
            0xdc, 0x00, 0x11,                                     /* array16 of 17 */
            0x7f,                                                 /* fixint */
            0xcc, 0x80,                                           /* uint8 */
            0xcd, 0xff, 0xff,                                     /* uint16 */
            0xce, 0x00, 0x01, 0x00, 0x00,                         /* uint32 */
            0xcf, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* uint64 */
            0xe0,                                                 /* negative fixint */
            0xd0, 0xdf,                                           /* int8 */
            0xd1, 0xff, 0x7f,                                     /* int16 */
            0xd2, 0xff, 0xff, 0x7f, 0xff,                         /* int32 */
            0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, /* int64 */
            0x05,                                                 /* a positive int */
            0xcb, 0x3f, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* float64 */
            0xc0, 0xc2,                                           /* nil, false */
            0xa2, 'a',  'b',                                      /* fixstr */
            0xd9, 0x20,                                           /* str8 of 32 */
        };
        CHECK_EQ_INT(b.len, sizeof(want_head) + 32 + 3);
        CHECK(memcmp(b.data, want_head, sizeof(want_head)) == 0);
        CHECK(memcmp(b.data + sizeof(want_head), s32, 32) == 0);
        CHECK(memcmp(b.data + sizeof(want_head) + 32, "\xde\x00\x10", 3) == 0); /* map16 */
        buf_done(&b);
}

static void test_resumed_map_continues_after_a_head(void)
{
        Buf head = BUF_NULL, tail = BUF_NULL;
        Doc d;
        doc_init(&d, &head, DOC_JSON);
        doc_map(&d, 2);
        doc_key(&d, "a");
        doc_uint(&d, 1);
        buf_putc(&head, ','); /* a JSON head carries the separator after its last member */
        doc_resume_map(&d, &tail, DOC_JSON);
        doc_key(&d, "b");
        doc_array(&d, 1);
        doc_uint(&d, 2);
        doc_end(&d);
        doc_end(&d);
        buf_putc(&tail, 0);
        CHECK(buf_ok(&head) && buf_ok(&tail));
        CHECK(head.len == 7 && memcmp(head.data, "{\"a\":1,", 7) == 0);
        CHECK_STREQ(tail.data, "\"b\":[2]}");
        buf_done(&head);
        buf_done(&tail);
}

TEST_MAIN(TEST_CASE(test_json_separators), TEST_CASE(test_json_strings_are_escaped_and_valid_utf8),
          TEST_CASE(test_nonfinite_numbers_are_null), TEST_CASE(test_shortest_doubles_round_trip),
          TEST_CASE(test_shortest_doubles_match_printf), TEST_CASE(test_msgpack_reads_back),
          TEST_CASE(test_msgpack_uses_the_smallest_encoding),
          TEST_CASE(test_resumed_map_continues_after_a_head))
