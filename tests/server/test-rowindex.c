#include "rowindex.h"
#include "snapfix.h"
#include "test.h"

typedef struct Indexed {
        Arena *arena;
        Snapshot *snapshot;
        RowIndex sales, by_id;
} Indexed;

static int indexed(Indexed *ix)
{
        ix->snapshot = snapfix_build(9, 100);
        if (!ix->snapshot || arena_new(&ix->arena) < 0)
                return -ENOMEM;
        int r = row_index_build(ix->arena, &ix->snapshot->views[0], &ix->sales);
        return r < 0 ? r : row_index_build(ix->arena, &ix->snapshot->views[1], &ix->by_id);
}

static void indexed_done(Indexed *ix)
{
        arena_free(ix->arena);
        snapshot_free(ix->snapshot);
}

static ssize_t find(const RowIndex *v, const char *k1, const char *k2)
{
        const char *keys[2] = {k1, k2};
        size_t lens[2] = {strlen(k1), k2 ? strlen(k2) : 0};
        return row_index_find(v, keys, lens, k2 ? 2 : 1);
}

static void test_rows_are_found_by_key_text(void)
{
        _cleanup_(indexed_done) Indexed ix = {0};
        CHECK(indexed(&ix) == 0);
        CHECK_EQ_INT(find(&ix.sales, "us-east", "p00000"), 0);
        CHECK_EQ_INT(find(&ix.sales, "eu-west", "p00099"), 99);
        CHECK_EQ_INT(find(&ix.sales, "a/b", "\xc3\xa9t\xc3\xa9"), 100);
        CHECK_EQ_INT(find(&ix.sales, "a", "b/c"), 101);
}

static void test_key_boundaries_are_not_blurred(void)
{
        _cleanup_(indexed_done) Indexed ix = {0};
        CHECK(indexed(&ix) == 0);
        /* "a/b" + "c" is not "a" + "b/c" */
        CHECK_EQ_INT(find(&ix.sales, "a/b", "c"), -ENOENT);
        CHECK_EQ_INT(find(&ix.sales, "us-east", "p00001"), -ENOENT);
}

static void test_wrong_arity_finds_nothing(void)
{
        _cleanup_(indexed_done) Indexed ix = {0};
        CHECK(indexed(&ix) == 0);
        CHECK_EQ_INT(find(&ix.sales, "us-east", NULL), -ENOENT);
        CHECK_EQ_INT(find(&ix.by_id, "42", "x"), -ENOENT);
}

static void test_numbers_are_keyed_by_their_shortest_text(void)
{
        _cleanup_(indexed_done) Indexed ix = {0};
        CHECK(indexed(&ix) == 0);
        CHECK_EQ_INT(find(&ix.by_id, "42", NULL), 0);
        CHECK_EQ_INT(find(&ix.by_id, "-7", NULL), 1);
        CHECK_EQ_INT(find(&ix.by_id, "042", NULL), -ENOENT);
}

/* The probe table is the slots, hashes and key offsets merged: with and without it,
 * every row's own key finds the row (the first of equal keys) and keys next to them find
 * nothing. */
static void test_probe_agrees_with_the_plain_probe(void)
{
        _cleanup_(indexed_done) Indexed ix = {0};
        CHECK(indexed(&ix) == 0);
        CHECK(ix.sales.probe != NULL);
        RowIndex plain = ix.sales;
        plain.probe = NULL;
        size_t used_slots = 0;
        for (size_t i = 0; i <= ix.sales.mask; i++) {
                const RowProbe *p = &ix.sales.probe[i];
                CHECK_EQ_INT(p->row1, ix.sales.slots[i]);
                if (!p->row1)
                        continue;
                CHECK_EQ_INT(p->key_off, ix.sales.key_off[p->row1 - 1]);
                CHECK_EQ_INT(p->key_len, ix.sales.key_off[p->row1] - p->key_off);
                used_slots++;
        }
        CHECK(used_slots > 0);
        const SnapshotView *v = &ix.snapshot->views[0];
        for (size_t r = 0; r < v->n_rows; r++) {
                const Value *row = snapshot_view_row(v, r);
                char other[64];
                snprintf(other, sizeof(other), "%.*sx", (int)row[1].len, row[1].s);
                const char *keys[2] = {row[0].s, row[1].s}, *miss[2] = {row[0].s, other};
                size_t lens[2] = {row[0].len, row[1].len}, mlens[2] = {row[0].len, strlen(other)};
                ssize_t a = row_index_find(&ix.sales, keys, lens, 2);
                CHECK(a >= 0 && (size_t)a <= r);
                CHECK_EQ_INT(a, row_index_find(&plain, keys, lens, 2));
                CHECK_EQ_INT(row_index_find(&ix.sales, miss, mlens, 2),
                             row_index_find(&plain, miss, mlens, 2));
        }
}

TEST_MAIN(TEST_CASE(test_rows_are_found_by_key_text),
          TEST_CASE(test_key_boundaries_are_not_blurred), TEST_CASE(test_wrong_arity_finds_nothing),
          TEST_CASE(test_numbers_are_keyed_by_their_shortest_text),
          TEST_CASE(test_probe_agrees_with_the_plain_probe))
