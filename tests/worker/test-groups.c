/* The group table and the value lists: lookups survive growth, lists join and rewrite. */
#include "groups.h"
#include "test.h"
#include "vlist.h"

static void test_groups_found_again_after_growth(void)
{
        Bump *b;
        GroupTable t;
        CHECK(bump_new(&b) == 0);
        CHECK(group_table_init(&t, b, 24, 24) == 0);
        char key[32];
        for (int pass = 0; pass < 2; pass++)
                for (int i = 0; i < 50000; i++) {
                        int len = snprintf(key, sizeof(key), "k%d", i);
                        bool fresh;
                        Group *g = group_table_get(&t, key, (uint32_t)len,
                                                   group_key_hash(key, (size_t)len), true, &fresh);
                        CHECK(g);
                        CHECK(fresh == (pass == 0));
                        (*(uint64_t *)g->state)++;
                }
        CHECK_EQ_INT(t.n, 50000);
        for (size_t i = 0; i < t.n; i++)
                CHECK_EQ_INT(*(uint64_t *)t.groups[i]->state, 2);
        group_table_done(&t);
        bump_free(b);
}

static void test_vlist_push_join_copy_rewrite(void)
{
        VPool p;
        VList a = {}, b = {};
        CHECK(vpool_init(&p) == 0);
        for (uint64_t i = 0; i < 3000; i++)
                CHECK(vlist_push(&p, i < 2000 ? &a : &b, i) == 0);
        vlist_join(&a, &b);
        CHECK_EQ_INT(vlist_len(&a), 3000);
        CHECK_EQ_INT(vlist_len(&b), 0);
        uint64_t *out = malloc(3000 * sizeof(uint64_t));
        vlist_copy(&a, out);
        bool in_order = true;
        for (uint64_t i = 0; i < 3000; i++)
                in_order &= out[i] == i;
        CHECK(in_order);
        vlist_rewrite(&p, &a, out, 10);
        CHECK(vlist_push(&p, &a, 99) == 0);
        vlist_copy(&a, out);
        CHECK_EQ_INT(vlist_len(&a), 11);
        CHECK_EQ_INT(out[9], 9);
        CHECK_EQ_INT(out[10], 99);
        free(out);
        vpool_done(&p);
}

/* Rows of 3 words, pushed as the engine does (the fast path while there is room), joined
 * across two lists: each column comes back in push order, and released chunks are reused. */
static void test_vlist_rows_columns_in_order(void)
{
        VPool p;
        VList a = {}, b = {};
        CHECK(vpool_init(&p) == 0);
        for (uint64_t i = 0; i < 5000; i++) {
                VList *l = i < 3001 ? &a : &b;
                uint64_t row[3] = {i, 10000 + i, 20000 + i};
                if (vlist_has_room(l)) {
                        memcpy(l->next, row, sizeof(row));
                        l->next += 3;
                } else
                        CHECK(vlist_push_row_slow(&p, l, row, 3) == 0);
        }
        vlist_join(&a, &b);
        CHECK_EQ_INT(vlist_len(&a), 15000);
        uint64_t *out = malloc(5000 * sizeof(uint64_t));
        for (unsigned c = 0; c < 3; c++) {
                CHECK(vlist_copy_column(&a, 3, c, out) == out + 5000);
                bool in_order = true;
                for (uint64_t i = 0; i < 5000; i++)
                        in_order &= out[i] == 10000 * c + i;
                CHECK(in_order);
        }
        const VChunk *chunks[64];
        size_t n_chunks = 0;
        for (const VChunk *k = a.head; k && n_chunks < 64; k = k->next)
                chunks[n_chunks++] = k;
        vlist_release(&p, &a);
        CHECK_EQ_INT(vlist_len(&a), 0);
        CHECK(!vlist_has_room(&a));
        /* a new list of the same rows starts in one of the released chunks */
        VList c = {};
        CHECK(vlist_push_row_slow(&p, &c, (uint64_t[3]){1, 2, 3}, 3) == 0);
        bool reused = false;
        for (size_t i = 0; i < n_chunks; i++)
                reused |= c.head == chunks[i];
        CHECK(reused);
        free(out);
        vpool_done(&p);
}

TEST_MAIN(TEST_CASE(test_groups_found_again_after_growth),
          TEST_CASE(test_vlist_push_join_copy_rewrite), TEST_CASE(test_vlist_rows_columns_in_order))
