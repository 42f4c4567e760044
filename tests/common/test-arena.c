/* The arena hands out aligned, independent memory and gives all of it back at once. */
#include "arena.h"
#include "test.h"

static void allocations_are_aligned_and_distinct(void)
{
        _cleanup_(arena_freep) Arena *a = NULL;
        CHECK(arena_new(&a) == 0);
        char *prev = NULL;
        for (int i = 0; i < 10000; i++) {
                char *p = arena_alloc(a, (size_t)(i % 97) + 1, 8);
                CHECK(p);
                CHECK(((uintptr_t)p & 7) == 0);
                CHECK(p != prev);
                memset(p, 0xab, (size_t)(i % 97) + 1);
                prev = p;
        }
}

static void large_allocations_get_their_own_chunk(void)
{
        _cleanup_(arena_freep) Arena *a = NULL;
        CHECK(arena_new(&a) == 0);
        char *small1 = arena_alloc(a, 16, 8);
        char *big = arena_alloc(a, 8u << 20, 64);
        char *small2 = arena_alloc(a, 16, 8);
        CHECK(small1 && big && small2);
        CHECK(((uintptr_t)big & 63) == 0);
        memset(big, 1, 8u << 20);
        CHECK(arena_mapped(a) >= (8u << 20));
        CHECK(arena_strndup(a, "hello world", 5) && strcmp(arena_strndup(a, "hi", 2), "hi") == 0);
}

static void freeing_returns_every_mapping(void)
{
        size_t before = arena_total_mapped();
        Arena *a = NULL;
        CHECK(arena_new(&a) == 0);
        for (int i = 0; i < 100; i++)
                CHECK(arena_alloc(a, 100000, 16));
        CHECK(arena_total_mapped() > before);
        arena_free(a);
        CHECK_EQ_INT(arena_total_mapped(), before);
}

static void refuses_impossible_requests(void)
{
        _cleanup_(arena_freep) Arena *a = NULL;
        CHECK(arena_new(&a) == 0);
        CHECK(arena_alloc(a, SIZE_MAX - 8, 8) == NULL);
        CHECK(arena_alloc(a, 8, 3) == NULL); /* alignment not a power of two */
}

TEST_MAIN(TEST_CASE(allocations_are_aligned_and_distinct),
          TEST_CASE(large_allocations_get_their_own_chunk),
          TEST_CASE(freeing_returns_every_mapping), TEST_CASE(refuses_impossible_requests))
