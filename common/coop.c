#include "coop.h"

#include <sched.h>
#include <sys/mman.h>
#include <time.h>

_Thread_local uint64_t coop_slice_nsec;
static _Thread_local uint64_t coop_since_nsec; /* thread CPU time at the last yield */
static _Thread_local uint64_t coop_n_yields;

atomic_uint coop_busy_count;
static _Thread_local uint64_t coop_gave_nsec; /* the caller's clock at its last give-way */
static _Thread_local uint64_t coop_n_gave;

static uint64_t thread_cpu_nsec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void coop_enable(uint64_t slice_usec)
{
        coop_slice_nsec = slice_usec * 1000u;
        coop_since_nsec = thread_cpu_nsec();
}

/* CPU time, not wall time: a thread that was waiting for the core has used none of its
 * slice, and must make progress when it gets the core back. */
void coop_yield_if_due(void)
{
        uint64_t now = thread_cpu_nsec();
        if (now - coop_since_nsec < coop_slice_nsec)
                return;
        sched_yield();
        coop_since_nsec = now;
        coop_n_yields++;
}

uint64_t coop_yields(void)
{
        return coop_n_yields;
}

void coop_munmap(void *p, size_t size)
{
        char *q = p;
        while (size) {
                size_t n = coop_chunk(size);
                munmap(q, n);
                q += n;
                size -= n;
                coop_point();
        }
}

void coop_busy_begin(void)
{
        atomic_fetch_add_explicit(&coop_busy_count, 1, memory_order_relaxed);
}

void coop_busy_end(void)
{
        atomic_fetch_sub_explicit(&coop_busy_count, 1, memory_order_relaxed);
}

void coop_give_way_due(uint64_t now_nsec)
{
        if (now_nsec - coop_gave_nsec < COOP_GIVE_WAY_NSEC)
                return;
        coop_gave_nsec = now_nsec;
        sched_yield();
        coop_n_gave++;
}

uint64_t coop_gave_way(void)
{
        return coop_n_gave;
}
