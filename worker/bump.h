/* The worker's allocator for per-group memory: bump allocation out of large mappings
 * that ask for transparent huge pages.
 *
 * Aggregation touches group state, keys and value chunks in random order, one group per
 * row. With 4 KiB pages nearly every such touch is a TLB miss, and under nested
 * virtualisation a TLB miss costs dozens of memory reads; 2 MiB pages make the same
 * working set fit the TLB (with shard.c's batched prefetching, Q1 over 10M rows went
 * from 12.4 to 4.9 CPU seconds). Freed only as a
 * whole, with the shard that owns it. */
#pragma once

#include "util.h"

typedef struct Bump Bump;

int bump_new(Bump **ret);
Bump *bump_free(Bump *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(Bump *, bump_free);
/* NULL when out of memory. Memory is zeroed (fresh anonymous pages). */
void *bump_alloc(Bump *b, size_t size, size_t align);
/* A large zeroed array in its own huge-page mapping (hash slots); free with bump_unmap. */
void *bump_map_array(size_t size);
void bump_unmap_array(void *p, size_t size);
