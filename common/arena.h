/* A region allocator backed by its own anonymous mappings.
 *
 * A loaded snapshot lives in one Arena, so dropping it returns every byte to the kernel
 * with munmap instead of leaving glibc heaps fragmented: the server's memory graph stays
 * a heartbeat, not a staircase. Not thread-safe: one owner at a time. */
#pragma once

#include "util.h"

typedef struct Arena Arena;

int arena_new(Arena **ret);
Arena *arena_free(Arena *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(Arena *, arena_free);

/* Returns NULL when out of memory; size 0 yields a valid unique pointer. */
void *arena_alloc(Arena *a, size_t size, size_t align);
void *arena_alloc0(Arena *a, size_t size, size_t align);
char *arena_strndup(Arena *a, const char *s, size_t len);
/* Bytes mapped by this arena (what it costs the process). */
size_t arena_mapped(const Arena *a);

/* Bytes mapped by all arenas of the process right now, and the most ever at once:
 * lets tests prove a hostile file caused no large allocation, and /metrics report it. */
size_t arena_total_mapped(void);
size_t arena_peak_mapped(void);

#define arena_new0(a, type, n) ((type *)arena_alloc0((a), sizeof(type) * (n), _Alignof(type)))
