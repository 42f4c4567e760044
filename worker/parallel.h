/* The worker's one way to use its threads: run n parts of a job at once and wait for all.
 * Scanning (parts take tasks from a shared counter), applying held-back rows and finishing
 * a view's groups (parts take a share each) all go through here, so there is one place
 * that starts, falls back and joins threads. */
#pragma once

#include "util.h"

#define PARALLEL_MAX 256

/* Part k of n; returns 0 or a result the caller wants back. */
typedef int (*ParallelFn)(size_t k, size_t n, void *userdata);

/* Runs fn(k, n, userdata) for every k < n (n <= PARALLEL_MAX) at once: part 0 on the
 * calling thread, the others on threads of their own; a part whose thread cannot be
 * started runs on the calling thread instead. Returns after every part, with the first
 * non-zero result in order of k (0 if none). */
int parallel_run(size_t n, ParallelFn fn, void *userdata);
