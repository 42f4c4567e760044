/* The thread helper: every part runs once, part 0 on the caller, results come back. */
#include <pthread.h>
#include <stdatomic.h>

#include "parallel.h"
#include "test.h"

typedef struct Job {
        _Atomic unsigned runs[PARALLEL_MAX];
        pthread_t caller, part0;
        int fail_at; /* part returning -EIO, -1 for none */
        int also_fail_at;
} Job;

static int part(size_t k, size_t n, void *userdata)
{
        Job *j = userdata;
        atomic_fetch_add(&j->runs[k], 1);
        if (k == 0)
                j->part0 = pthread_self();
        if ((int)k == j->fail_at)
                return -EIO;
        if ((int)k == j->also_fail_at)
                return -ENOMEM;
        return n > 0 ? 0 : -EINVAL;
}

static void test_parallel_runs_every_part_once(void)
{
        static Job j = {.fail_at = -1, .also_fail_at = -1};
        CHECK_EQ_INT(parallel_run(16, part, &j), 0);
        for (size_t k = 0; k < 16; k++)
                CHECK_EQ_INT(j.runs[k], 1);
        CHECK_EQ_INT(j.runs[16], 0);
}

static void test_parallel_part_zero_runs_on_the_caller(void)
{
        static Job j = {.fail_at = -1, .also_fail_at = -1};
        CHECK_EQ_INT(parallel_run(3, part, &j), 0);
        CHECK(pthread_equal(j.part0, pthread_self()));
}

static void test_parallel_returns_the_first_failure_by_part(void)
{
        static Job j = {.fail_at = 5, .also_fail_at = 2};
        CHECK_EQ_INT(parallel_run(8, part, &j), -ENOMEM);
        for (size_t k = 0; k < 8; k++)
                CHECK_EQ_INT(j.runs[k], 1); /* a failure stops no other part */
}

static void test_parallel_zero_parts_is_a_no_op(void)
{
        static Job j = {.fail_at = -1, .also_fail_at = -1};
        CHECK_EQ_INT(parallel_run(0, part, &j), 0);
        CHECK_EQ_INT(j.runs[0], 0);
}

TEST_MAIN(TEST_CASE(test_parallel_runs_every_part_once),
          TEST_CASE(test_parallel_part_zero_runs_on_the_caller),
          TEST_CASE(test_parallel_returns_the_first_failure_by_part),
          TEST_CASE(test_parallel_zero_parts_is_a_no_op))
