#include "test.h"

int test_run(const TestCase *cases, size_t n)
{
        int failed = 0;
        printf("1..%zu\n", n);
        for (size_t i = 0; i < n; i++) {
                test_failures_in_case = 0;
                cases[i].fn();
                if (test_failures_in_case)
                        failed++;
                printf("%s %zu - %s\n", test_failures_in_case ? "not ok" : "ok", i + 1,
                       cases[i].name);
                fflush(stdout);
        }
        return failed ? 1 : 0;
}
