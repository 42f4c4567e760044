#include "test.h"

/* TAP lines so far: a case's rows are counted as they run, so the plan comes last. */
static size_t test_points;
static const char *test_case_name;
static int test_failures_before_row;

static void test_report(bool ok, const char *row)
{
        printf("%s %zu - %s", ok ? "ok" : "not ok", ++test_points, test_case_name);
        if (row) {
                /* a '#' would read as a TAP directive, a newline as the next TAP line */
                fputs(*row ? ": " : ": (empty)", stdout);
                for (const char *c = row; *c; c++) {
                        if (*c == '\n' || *c == '\r')
                                fputs(*c == '\n' ? "\\n" : "\\r", stdout);
                        else
                                putchar(*c == '#' ? '_' : *c);
                }
        }
        putchar('\n');
        fflush(stdout);
}

void test_row_begin(void)
{
        test_failures_before_row = test_failures_in_case;
}

void test_row_end(const char *row)
{
        test_report(test_failures_in_case == test_failures_before_row, row);
}

int test_run(const TestCase *cases, size_t n)
{
        int failed = 0;
        for (size_t i = 0; i < n; i++) {
                test_failures_in_case = 0;
                test_case_name = cases[i].name;
                cases[i].fn();
                if (test_failures_in_case)
                        failed++;
                test_report(!test_failures_in_case, NULL);
        }
        printf("1..%zu\n", test_points);
        return failed ? 1 : 0;
}
