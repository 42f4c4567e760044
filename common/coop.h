/* Cooperative yielding for a background thread that shares a core with an event loop.
 *
 * tallyd's loader validates and adopts a new snapshot (milliseconds of CPU) on the core
 * its event loop saturates. At nice 10 it gets a small share, but the kernel ends a
 * thread's turn only at a tick (4 ms at HZ=250) or when it blocks, and a long syscall (a
 * 12 MB read, populate or munmap) runs whole: `perf sched timehist` showed the loader
 * running 2-7 ms at a time during reloads, every request behind it waiting as long, and
 * the c50 p99 during reloads went to 1.9-4x the steady one. A thread that enables this
 * gives the core back (sched_yield()) whenever it has used its slice of CPU time since
 * it last did, at the points its long loops offer, and does long kernel work in chunks
 * (read_file_exact(), coop_munmap(), the populate and checksum of a snapshot read) with
 * such a point between them.
 *
 * Off by default: coop_point() is one thread-local load for every other thread (the
 * worker, tests, tallyctl), and the chunked calls behave as the plain ones. */
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* For the calling thread: yield after every slice_usec of CPU time (0: never). */
void coop_enable(uint64_t slice_usec);

void coop_yield_if_due(void);
extern _Thread_local uint64_t coop_slice_nsec;

/* How many times the calling thread has yielded at a point. */
uint64_t coop_yields(void);

/* A point where the calling thread may yield. */
static inline void coop_point(void)
{
        if (coop_slice_nsec)
                coop_yield_if_due();
}

/* How much of len one chunk of long kernel work (a read, a populate, an unmap) takes: all
 * of it in a thread that does not cooperate, else at most COOP_CHUNK bytes (256 KiB: a
 * read or a populate of that costs 30-60 us here). */
#define COOP_CHUNK ((size_t)256 * 1024)
static inline size_t coop_chunk(size_t len)
{
        return coop_slice_nsec && len > COOP_CHUNK ? COOP_CHUNK : len;
}

/* munmap(2) in chunks with a point between them. */
void coop_munmap(void *p, size_t size);

/* The other side: a thread that keeps the core busy (an event loop under load) hands it
 * over now and then while a cooperating thread has work. Yielding alone, the loader got a
 * turn about once per 4 ms tick under a saturating load: a 15 ms load then took up to
 * 1,030 ms from rename to served (bench/server, quiet). coop_busy_begin()/_end() bracket
 * the cooperating thread's work (they nest and may come from several threads);
 * coop_give_way() is called per unit of the busy thread's work with the monotonic clock
 * it already read, and yields at most once per COOP_GIVE_WAY_NSEC of that clock while
 * any work is in progress: one relaxed atomic load otherwise. */
#define COOP_GIVE_WAY_NSEC ((uint64_t)1000 * 1000)

void coop_busy_begin(void);
void coop_busy_end(void);
void coop_give_way_due(uint64_t now_nsec);
extern atomic_uint coop_busy_count;

static inline void coop_give_way(uint64_t now_nsec)
{
        if (atomic_load_explicit(&coop_busy_count, memory_order_relaxed))
                coop_give_way_due(now_nsec);
}

/* How many times the calling thread has given way. */
uint64_t coop_gave_way(void);
