/* A minimal test runner: each case is a function, run in order, reported as TAP so
 * `meson test` counts cases; a failed check prints file:line and the expression. A
 * table-driven case runs each row of its table through TEST_ROW, so every row is a TAP
 * line of its own that names it, and a failed check ends its row, not the case. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct TestCase {
        const char *name;
        void (*fn)(void);
} TestCase;

extern int test_failures_in_case;

#define CHECK(expr)                                                                                \
        do {                                                                                       \
                if (!(expr)) {                                                                     \
                        fprintf(stderr, "# %s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        test_failures_in_case++;                                                   \
                        return;                                                                    \
                }                                                                                  \
        } while (0)

#define CHECK_EQ_INT(a, b)                                                                      \
        do {                                                                                    \
                long long _a = (long long)(a), _b = (long long)(b);                             \
                if (_a != _b) {                                                                 \
                        fprintf(stderr, "# %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, \
                                __LINE__, #a, _a, #b, _b);                                      \
                        test_failures_in_case++;                                                \
                        return;                                                                 \
                }                                                                               \
        } while (0)

#define CHECK_STREQ(a, b)                                                                  \
        do {                                                                               \
                const char *_a = (a), *_b = (b);                                           \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                   \
                        fprintf(stderr, "# %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
                                _a ? _a : "(null)", _b ? _b : "(null)");                   \
                        test_failures_in_case++;                                           \
                        return;                                                            \
                }                                                                          \
        } while (0)

#define TEST_CASE(fn)   \
        {               \
#fn, fn \
        }

int test_run(const TestCase *cases, size_t n);

void test_row_begin(void);
void test_row_end(const char *row);

/* Runs call (a function checking one row: a failed CHECK returns from it) as the TAP line
 * "case: row"; the case's own line after its rows is "not ok" when any of them failed. */
#define TEST_ROW(row, call)        \
        do {                       \
                test_row_begin();  \
                call;              \
                test_row_end(row); \
        } while (0)

#define TEST_MAIN(...)                                                    \
        int test_failures_in_case;                                        \
        int main(void)                                                    \
        {                                                                 \
                static const TestCase cases[] = {__VA_ARGS__};            \
                return test_run(cases, sizeof(cases) / sizeof(cases[0])); \
        }
