/* The fast index in front of the group table: a key packs exactly when it may, a column
 * that meets strings of 9 to 16 bytes is widened, and after the rebuild every group whose
 * key packs is found at its own state, while longer strings stay the group table's. */
#include "fastkey.h"
#include "groups.h"
#include "key.h"
#include "test.h"

#define N_GROUPS 3000

/* row: region (column 0) and product (column 1), of lengths that vary with i */
static void make_row(int i, char *a, char *b, Value *row)
{
        static const char *const regions[] = {
            "eu", "us-west", "eu-central", "me-central-01", "a-region-of-seventeen", ""};
        const char *r = regions[i % 6];
        snprintf(a, 32, "%s", r);
        snprintf(b, 32, i % 7 == 0 ? "p%05d-long-name" : "p%05d", i);
        row[0] = i % 6 == 5 ? (Value){.type = VALUE_NIL}
                            : (Value){.type = VALUE_STR, .s = a, .len = (uint32_t)strlen(a)};
        row[1] = (Value){.type = VALUE_STR, .s = b, .len = (uint32_t)strlen(b)};
}

/* Mirrors view_add_rows: the fast index first, else the group table (then entered). */
static void lookup(FastIndex *f, GroupTable *t, const ViewConfig *v, const Value *row,
                   uint64_t **ret, bool *ret_fast)
{
        uint64_t w[FASTKEY_MAX_WORDS];
        bool packed = f->nw && fast_key_pack(f, v, row, w);
        uint64_t h = packed ? fast_key_hash(w, f->nw) : 0;
        void *st = packed ? fast_index_find(f, w, h) : NULL;
        *ret_fast = st != NULL;
        *ret = st;
        if (st)
                return;
        char key[256];
        size_t n = key_encode(key, v, row);
        bool fresh;
        Group *g = group_table_get(t, key, (uint32_t)n, group_key_hash(key, n), true, &fresh);
        CHECK(g);
        if (packed && f->nw)
                CHECK(fast_index_add(f, w, h, g->state) == 0);
        *ret = g->state;
}

static void test_widen_finds_every_group(void)
{
        Bump *b;
        GroupTable t;
        FastIndex f;
        int cols[] = {0, 1};
        ViewConfig v = {.group_by = cols, .n_group_by = 2};
        CHECK(bump_new(&b) == 0);
        CHECK(group_table_init(&t, b, 8, 8) == 0);
        CHECK(fast_index_init(&f, 2) == 0);
        CHECK_EQ_INT(f.nw, 3);
        char a[32], p[32];
        Value row[2];
        /* first pass: makes the groups; regions of 10 and 13 bytes ask for a wide column 0,
         * products of 15 bytes (i % 7 == 0) for a wide column 1 */
        for (int i = 0; i < N_GROUPS; i++) {
                if (i % 128 == 0)
                        CHECK(fast_index_widen(&f, &t) == 0); /* at a batch start */
                make_row(i, a, p, row);
                bool fast;
                uint64_t *st = NULL;
                lookup(&f, &t, &v, row, &st, &fast);
                CHECK(st);
                (*st)++;
        }
        CHECK(fast_index_widen(&f, &t) == 0);
        CHECK_EQ_INT(f.wide, 3);
        CHECK_EQ_INT(f.want, 0);
        CHECK_EQ_INT(f.nw, 5);
        CHECK_EQ_INT(t.n, N_GROUPS);
        /* second pass: the same rows find their groups, through the index unless a string
         * is longer than 16 bytes */
        int via_index = 0, expect_index = 0;
        for (int i = 0; i < N_GROUPS; i++) {
                make_row(i, a, p, row);
                bool fast;
                uint64_t *st = NULL;
                lookup(&f, &t, &v, row, &st, &fast);
                CHECK(st);
                CHECK_EQ_INT(*st, 1);
                (*st)++;
                via_index += fast;
                expect_index += i % 6 != 4;
        }
        CHECK_EQ_INT(t.n, N_GROUPS);
        CHECK_EQ_INT(via_index, expect_index);
        /* a string one byte past its column's 8 (narrow) or 16 (wide) does not pack */
        Value x = {.type = VALUE_STR, .s = "0123456789abcdefg", .len = 17};
        uint64_t w[FASTKEY_MAX_WORDS];
        Value r2[2] = {x, x};
        CHECK(!fast_key_pack(&f, &v, r2, w));
        r2[0].len = r2[1].len = 16;
        CHECK(fast_key_pack(&f, &v, r2, w));
        /* two strings that differ only in byte 15 pack to different words */
        uint64_t w2[FASTKEY_MAX_WORDS];
        Value r3[2] = {r2[0], {.type = VALUE_STR, .s = "0123456789abcdeX", .len = 16}};
        CHECK(fast_key_pack(&f, &v, r3, w2));
        CHECK(memcmp(w, w2, f.nw * sizeof(uint64_t)) != 0);
        fast_index_done(&f);
        group_table_done(&t);
        bump_free(b);
}

TEST_MAIN(TEST_CASE(test_widen_finds_every_group))
