/* The where language: what parses (and what each mistake says), then what a parsed
 * clause means for a row. */
#include <math.h>

#include "test.h"
#include "where.h"

static const ColumnDef columns[] = {
    {(char *)"a", VALUE_INT},
    {(char *)"b", VALUE_STR},
    {(char *)"t", VALUE_TIME},
    {(char *)"x", VALUE_NUM},
};

typedef struct Parsed {
        Predicate *p;
        size_t n;
        char reason[256];
} Parsed;

static int parse(const char *text, Parsed *out)
{
        *out = (Parsed){};
        return where_parse(text, "e", columns, ELEMENTSOF(columns), &out->p, &out->n, out->reason,
                           sizeof(out->reason));
}

static void done(Parsed *p)
{
        p->p = where_free(p->p, p->n);
}

static void clauses_are_typed_by_their_column(void)
{
        Parsed w;
        CHECK_EQ_INT(
            parse("a >= 3 and b in ('x, y', z) and t < 2026-01-01T00:00:00Z and x != 1.5", &w), 0);
        CHECK_EQ_INT(w.n, 4);
        CHECK(w.p[0].column == 0 && w.p[0].op == CMP_GE && w.p[0].literals[0].i == 3);
        CHECK(w.p[1].column == 1 && w.p[1].op == CMP_IN && w.p[1].n_literals == 2);
        CHECK_STREQ(w.p[1].literals[0].s, "x, y");
        CHECK_EQ_INT(w.p[1].literals[0].len, 4);
        CHECK_STREQ(w.p[1].literals[1].s, "z");
        CHECK(w.p[2].op == CMP_LT && w.p[2].literals[0].type == VALUE_TIME &&
              w.p[2].literals[0].i == INT64_C(1767225600000000));
        CHECK(w.p[3].op == CMP_NE && w.p[3].literals[0].d == 1.5);
        done(&w);
}

static void every_operator_is_read(void)
{
        static const struct {
                const char *text;
                CmpOp op;
        } cases[] = {{"a = 1", CMP_EQ}, {"a == 1", CMP_EQ},  {"a != 1", CMP_NE},
                     {"a<1", CMP_LT},   {"a <= 1", CMP_LE},  {"a > 1", CMP_GT},
                     {"a>=1", CMP_GE},  {"a IN (1)", CMP_IN}};
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Parsed w;
                CHECK_EQ_INT(parse(cases[i].text, &w), 0);
                CHECK_EQ_INT(w.n, 1);
                CHECK_EQ_INT(w.p[0].op, cases[i].op);
                CHECK_EQ_INT(w.p[0].literals[0].i, 1);
                done(&w);
        }
}

static void and_inside_quotes_or_lists_does_not_split(void)
{
        Parsed w;
        CHECK_EQ_INT(parse("b = 'salt and pepper' AND b in ('x and y', z)", &w), 0);
        CHECK_EQ_INT(w.n, 2);
        CHECK_STREQ(w.p[0].literals[0].s, "salt and pepper");
        CHECK_STREQ(w.p[1].literals[0].s, "x and y");
        done(&w);
}

static void expect_error(const char *text, const char *needle)
{
        Parsed w;
        int r = parse(text, &w);
        if (r != -EINVAL || !strstr(w.reason, needle) || w.p) {
                fprintf(stderr, "# where '%s': expected '%s', got r=%d '%s'\n", text, needle, r,
                        w.reason);
                test_failures_in_case++;
        }
        done(&w);
}

static void mistakes_say_what_is_wrong(void)
{
        expect_error("nope = 1", "source 'e' has no column 'nope'");
        expect_error("a ~ 3", "expected an operator (=, !=, <, <=, >, >=, in) after 'a ~ 3'");
        expect_error("a =", "missing value after '='");
        expect_error("a = x", "'x' is not a valid int for column 'a'");
        expect_error("t > yesterday", "'yesterday' is not a valid time for column 't'");
        expect_error("x = 1e999", "'1e999' is not a valid num for column 'x'");
        expect_error("b < m", "'<' compares a str column: only =, != and in are allowed");
        expect_error("b in x", "'in' needs a parenthesised list");
        expect_error("b in ()", "empty or malformed 'in' list");
        expect_error("a in (1, 'q)", "unbalanced quotes or parentheses");
        expect_error("a = 1 and  and a = 2", "empty clause");
        expect_error("a in (1, x)", "'x' is not a valid int for column 'a'"); /* no leak */
        char many[2048] = "a = 1";
        for (int i = 0; i < WHERE_MAX_CLAUSES; i++)
                strcat(many, " and a = 1");
        expect_error(many, "too many clauses");
}

static Value str(const char *s)
{
        return (Value){.type = VALUE_STR, .len = (uint32_t)strlen(s), .s = s};
}

/* One row of the four columns. */
static bool match(const char *where, int64_t a, Value b, int64_t t, double x)
{
        Parsed w;
        if (parse(where, &w) < 0) {
                fprintf(stderr, "# cannot parse '%s': %s\n", where, w.reason);
                return false;
        }
        Value row[4] = {{.type = VALUE_INT, .i = a},
                        b,
                        {.type = VALUE_TIME, .i = t},
                        {.type = VALUE_NUM, .d = x}};
        bool r = where_match(w.p, w.n, row);
        done(&w);
        return r;
}

static void comparisons_order_ints_times_and_nums(void)
{
        CHECK(match("a < 3", 2, str(""), 0, 0) && !match("a < 3", 3, str(""), 0, 0));
        CHECK(match("a <= 3", 3, str(""), 0, 0) && !match("a <= 3", 4, str(""), 0, 0));
        CHECK(match("a > -1", 0, str(""), 0, 0) && !match("a >= 1", 0, str(""), 0, 0));
        CHECK(match("a = 9223372036854775807", INT64_MAX, str(""), 0, 0));
        CHECK(match("t >= 2026-01-01", 0, str(""), INT64_C(1767225600000000), 0));
        CHECK(!match("t > 2026-01-01", 0, str(""), INT64_C(1767225600000000), 0));
        CHECK(match("x > 1.25", 0, str(""), 0, 1.5) && !match("x > 1.5", 0, str(""), 0, 1.5));
        CHECK(match("x in (1, 2.5)", 0, str(""), 0, 2.5) &&
              !match("x in (1, 2.5)", 0, str(""), 0, 2));
        CHECK(match("a in (4, 5)", 5, str(""), 0, 0) && !match("a in (4, 5)", 6, str(""), 0, 0));
}

static void strings_compare_by_exact_bytes(void)
{
        CHECK(match("b = ok", 0, str("ok"), 0, 0));
        CHECK(!match("b = ok", 0, str("okay"), 0, 0) && !match("b = ok", 0, str("o"), 0, 0));
        CHECK(!match("b = ok", 0, str("OK"), 0, 0));
        CHECK(match("b != ok", 0, str("okay"), 0, 0) && !match("b != ok", 0, str("ok"), 0, 0));
        CHECK(match("b in (x, 'y z')", 0, str("y z"), 0, 0));
        CHECK(!match("b in (x, 'y z')", 0, str("y"), 0, 0));
        CHECK(match("b = ''", 0, str(""), 0, 0)); /* "" is an empty string, not missing */
}

static void missing_values_match_nothing_nan_only_not_equal(void)
{
        Value nil = {.type = VALUE_NIL};
        CHECK(!match("b = ok", 0, nil, 0, 0) && !match("b != ok", 0, nil, 0, 0));
        CHECK(!match("b in (ok)", 0, nil, 0, 0));
        CHECK(!match("x = 1", 0, str(""), 0, NAN) && !match("x < 1", 0, str(""), 0, NAN));
        CHECK(!match("x >= 1", 0, str(""), 0, NAN) && !match("x in (1)", 0, str(""), 0, NAN));
        CHECK(match("x != 1", 0, str(""), 0, NAN));
}

static void all_clauses_must_hold(void)
{
        CHECK(match("a = 1 and b = ok and x > 0", 1, str("ok"), 0, 1));
        CHECK(!match("a = 1 and b = ok and x > 0", 1, str("ok"), 0, -1));
        CHECK(!match("a = 1 and b = ok and x > 0", 2, str("ok"), 0, 1));
        CHECK(where_match(NULL, 0, NULL)); /* no where: every row */
}

/* A resolver of names like an aggregate's: index by position, every name an int. */
static int resolve_fn(void *userdata, const char *name, int *ret_index, ValueType *ret_type,
                      char *reason, size_t reason_size)
{
        const char *const *names = userdata;
        for (int i = 0; names[i]; i++)
                if (strcmp(names[i], name) == 0) {
                        *ret_index = i;
                        *ret_type = VALUE_INT;
                        return 0;
                }
        snprintf(reason, reason_size, "no '%s' here", name);
        return -EINVAL;
}

static void names_come_from_the_resolver_and_may_hold_parentheses(void)
{
        static const char *const names[] = {"count", "p95(x)", "sum( a )", NULL};
        Predicate *p;
        size_t n;
        char reason[128];
        CHECK_EQ_INT(where_parse_names("count >= 10 and p95(x)>50 and sum( a ) in (1, 2)",
                                       resolve_fn, (void *)names, &p, &n, reason, sizeof(reason)),
                     0);
        CHECK_EQ_INT(n, 3);
        CHECK(p[0].column == 0 && p[0].op == CMP_GE && p[0].literals[0].i == 10);
        CHECK(p[1].column == 1 && p[1].op == CMP_GT && p[1].literals[0].i == 50);
        CHECK(p[2].column == 2 && p[2].op == CMP_IN && p[2].n_literals == 2);
        Value row[] = {{.type = VALUE_INT, .i = 10},
                       {.type = VALUE_INT, .i = 51},
                       {.type = VALUE_INT, .i = 2}};
        CHECK(where_match(p, n, row));
        row[1] = (Value){.type = VALUE_NIL};
        CHECK(!where_match(p, n, row));
        where_free(p, n);
        CHECK_EQ_INT(where_parse_names("p99(x) > 1", resolve_fn, (void *)names, &p, &n, reason,
                                       sizeof(reason)),
                     -EINVAL);
        CHECK_STREQ(reason, "no 'p99(x)' here");
}

TEST_MAIN(TEST_CASE(clauses_are_typed_by_their_column), TEST_CASE(every_operator_is_read),
          TEST_CASE(and_inside_quotes_or_lists_does_not_split),
          TEST_CASE(mistakes_say_what_is_wrong), TEST_CASE(comparisons_order_ints_times_and_nums),
          TEST_CASE(strings_compare_by_exact_bytes),
          TEST_CASE(missing_values_match_nothing_nan_only_not_equal),
          TEST_CASE(all_clauses_must_hold),
          TEST_CASE(names_come_from_the_resolver_and_may_hold_parentheses))
