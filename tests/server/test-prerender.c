/* Version 2 snapshots: what the worker pre-renders is what tallyd would have rendered,
 * and a v2 file that is cut, flipped or lies about its offsets is refused with a reason. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "mp_cursor.h"
#include "prerender.h"
#include "snapfix.h"
#include "snapshot_bodies.h"
#include "test.h"

typedef struct File {
        uint8_t *p;
        size_t len;
} File;

static void file_done(File *f)
{
        free(f->p);
        *f = (File){NULL, 0};
}

static File v1_file(size_t rows)
{
        File f = {NULL, 0};
        f.p = snapfix_encode(9, rows, &f.len);
        return f;
}

static File v2_file(size_t rows)
{
        File v1 = v1_file(rows), v2 = {NULL, 0};
        void *out;
        size_t len;
        if (v1.p && prerender_transform(v1.p, v1.len, &out, &len) == 0)
                v2 = (File){out, len};
        file_done(&v1);
        return v2;
}

static int load(const File *f, char *reason, size_t n)
{
        Snapshot *s = NULL;
        reason[0] = 0;
        int r = snapshot_read_buffer(f->p, f->len, &s, reason, n);
        snapshot_free(s);
        return r;
}

/* Served as tallyd prepares a v2 file: read from disk, bodies adopted, nothing rendered. */
static Served *adopt(const File *f, char *reason, size_t n)
{
        char dir[] = "/tmp/tally-prerender-XXXXXX";
        if (!mkdtemp(dir))
                return NULL;
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int fd = openat(dfd, "s", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        bool ok = fd >= 0 && write(fd, f->p, f->len) == (ssize_t)f->len;
        if (fd >= 0)
                close(fd);
        Snapshot *s = NULL;
        void *img = NULL;
        size_t size = 0;
        Served *sv = NULL;
        if (ok &&
            snapshot_read_file_image(dfd, "s", SNAPSHOT_MAX_FILE_BYTES, SNAPSHOT_READ_BODIES_ONLY,
                                     &s, &img, &size, reason, n) == 0) {
                if (s->bodies && !s->views[0].cells &&
                    served_new_prerendered(s, img, size, &sv) == 0)
                        img = NULL;
                if (img)
                        munmap(img, size);
        }
        snapshot_free(s);
        unlinkat(dfd, "s", 0);
        close(dfd);
        rmdir(dir);
        return sv;
}

/* The same file decoded whole (rows and all) and rendered the way v1 files are. */
static Served *render(const File *f)
{
        Snapshot *s = NULL;
        char reason[256];
        Served *sv = NULL;
        if (snapshot_read_buffer(f->p, f->len, &s, reason, sizeof(reason)) == 0)
                (void)served_new(s, &sv);
        snapshot_free(s);
        return sv;
}

static bool same(Piece a, Piece b)
{
        return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static bool same_bodies(const ViewBodies *a, const ViewBodies *b, size_t n_rows)
{
        if (!same(a->full, b->full) || !same(a->full_gz, b->full_gz) || !same(a->head, b->head) ||
            !same(a->head_cols, b->head_cols) || !same(a->row_prefix, b->row_prefix) ||
            a->sep != b->sep || a->rows - a->full.p != b->rows - b->full.p)
                return false;
        for (size_t r = 0; r < n_rows; r++)
                if (!same(served_row(a, r), served_row(b, r)))
                        return false;
        return same(served_rows(a, 0, n_rows), served_rows(b, 0, n_rows));
}

static void check_identical(size_t rows)
{
        File f = v2_file(rows);
        CHECK(f.p);
        char reason[256] = "";
        Served *got = adopt(&f, reason, sizeof(reason));
        if (!got)
                fprintf(stderr, "# %s\n", reason);
        Served *want = render(&f);
        file_done(&f);
        CHECK(got && want);
        CHECK_EQ_INT(got->n_views, want->n_views);
        for (size_t i = 0; i < want->n_views; i++) {
                const ServedView *g = &got->views[i], *w = &want->views[i];
                CHECK_STREQ(g->name, w->name);
                CHECK_EQ_INT(g->n_rows, w->n_rows);
                CHECK_STREQ(g->etag, w->etag);
                CHECK(same_bodies(&g->json, &w->json, w->n_rows));
                CHECK(same_bodies(&g->mp, &w->mp, w->n_rows));
                CHECK(same_bodies(&g->csv, &w->csv, w->n_rows));
                /* the slice index built from the key cells alone is the one from the rows */
                CHECK_EQ_INT(g->slices.sorted, w->slices.sorted);
                CHECK_EQ_INT(g->slices.n_levels, w->slices.n_levels);
                for (size_t l = 0; l < w->slices.n_levels && l < g->slices.n_levels; l++) {
                        const SliceLevel *gl = &g->slices.levels[l], *wl = &w->slices.levels[l];
                        CHECK_EQ_INT(gl->n, wl->n);
                        for (size_t j = 0; j < wl->n && j < gl->n; j++) {
                                CHECK_EQ_INT(gl->start[j], wl->start[j]);
                                CHECK_EQ_INT(slice_value_cmp(&gl->val[j], &wl->val[j]), 0);
                        }
                }
                CHECK_EQ_INT(g->n_columns, w->n_columns);
                /* every row is found under its key, as in the index tallyd builds */
                for (size_t r = 0; r < w->n_rows; r++) {
                        const char *k = w->index.keys + w->index.key_off[r];
                        const char *keys[8];
                        size_t lens[8], nk = 0, at = 0,
                                        len = w->index.key_off[r + 1] - w->index.key_off[r];
                        while (at < len && nk < 8) {
                                uint32_t l = snapshot_le32((const uint8_t *)k + at);
                                keys[nk] = k + at + 4;
                                lens[nk++] = l;
                                at += 4 + l;
                        }
                        CHECK_EQ_INT(row_index_find(&g->index, keys, lens, nk),
                                     row_index_find(&w->index, keys, lens, nk));
                }
                const char *missing[2] = {"nowhere", "nothing"};
                size_t ml[2] = {7, 7};
                CHECK_EQ_INT(row_index_find(&g->index, missing, ml, w->n_keys), -ENOENT);
        }
        CHECK(same(got->views_json, want->views_json));
        CHECK(same(got->views_json_gz, want->views_json_gz));
        CHECK(same(got->views_mp, want->views_mp));
        CHECK(same(got->snap_json_head, want->snap_json_head));
        CHECK(same(got->snap_json_tail, want->snap_json_tail));
        CHECK(same(got->snap_mp_head, want->snap_mp_head));
        CHECK(same(got->snap_mp_tail, want->snap_mp_tail));
        CHECK_STREQ(got->last_modified, want->last_modified);
        CHECK_STREQ(got->etag_views, want->etag_views);
        served_unref(got);
        served_unref(want);
}

static void test_v2_bodies_are_what_tallyd_renders(void)
{
        check_identical(20);
}

/* large enough for gzip'd bodies and an index of many slots */
static void test_v2_bodies_are_what_tallyd_renders_at_size(void)
{
        check_identical(3000);
}

static void test_v2_keeps_the_rows_for_every_reader(void)
{
        File f = v2_file(20);
        CHECK(f.p);
        Snapshot *s = NULL;
        char reason[256];
        CHECK_EQ_INT(snapshot_read_buffer(f.p, f.len, &s, reason, sizeof(reason)), 0);
        CHECK_EQ_INT(s->version, 2);
        CHECK(s->bodies);
        CHECK_EQ_INT(s->views[0].n_rows, 22);
        CHECK(s->views[0].cells);
        CHECK_STREQ(s->views[1].name, "by_id");
        CHECK_EQ_INT(s->views[1].cells[0].i, 42);
        /* the bodies start on a page boundary of the file */
        const uint8_t *at = memmem(f.p, f.len, s->bodies->base, 64);
        CHECK(at);
        CHECK_EQ_INT((at - f.p) % SNAPSHOT_BODIES_ALIGN, 0);
        snapshot_free(s);
        file_done(&f);
}

static void test_v1_still_renders(void)
{
        File f = v1_file(20);
        CHECK(f.p);
        char reason[256];
        CHECK_EQ_INT(load(&f, reason, sizeof(reason)), 0);
        Served *sv = render(&f);
        CHECK(sv);
        CHECK(sv->views[0].json.full.len > 0);
        served_unref(sv);
        file_done(&f);
}

static void test_every_truncation_is_refused(void)
{
        File f = v2_file(20);
        CHECK(f.p);
        char reason[256];
        for (size_t len = 0; len < f.len; len++) {
                File cut = {f.p, len};
                if (load(&cut, reason, sizeof(reason)) >= 0) {
                        fprintf(stderr, "# a %zu-byte prefix of %zu loaded\n", len, f.len);
                        CHECK(false);
                }
                CHECK(reason[0]);
        }
        file_done(&f);
}

static void test_every_bit_flip_is_refused(void)
{
        File f = v2_file(20);
        CHECK(f.p);
        char reason[256];
        for (size_t i = 0; i < f.len; i++)
                for (int bit = 0; bit < 8; bit++) {
                        f.p[i] ^= (uint8_t)(1u << bit);
                        int r = load(&f, reason, sizeof(reason));
                        f.p[i] ^= (uint8_t)(1u << bit);
                        if (r >= 0) {
                                fprintf(stderr, "# bit %d of byte %zu flipped loaded\n", bit, i);
                                CHECK(false);
                        }
                }
        file_done(&f);
}

/* ---- hostile directories: the checksum is right, the offsets lie ---- */

typedef struct Parts {
        File v1;
        SnapshotBodies dir;
        SnapshotBodyView views[2];
        uint8_t *bodies;
        size_t len;
} Parts;

static bool parts_new(Parts *p)
{
        *p = (Parts){0};
        p->v1 = v1_file(20);
        File v2 = v2_file(20);
        Snapshot *s = NULL;
        char reason[256];
        bool ok = p->v1.p && v2.p &&
                  snapshot_read_buffer(v2.p, v2.len, &s, reason, sizeof(reason)) == 0 &&
                  s->bodies->n_views == 2;
        if (ok) {
                p->dir = *s->bodies;
                memcpy(p->views, s->bodies->views, sizeof(p->views));
                p->dir.views = p->views;
                p->len = s->bodies->len;
                p->bodies = malloc(p->len);
                memcpy(p->bodies, s->bodies->base, p->len);
        }
        snapshot_free(s);
        file_done(&v2);
        return ok;
}

static void parts_done(Parts *p)
{
        file_done(&p->v1);
        free(p->bodies);
}

/* Encodes p (checksum and all) and expects a refusal whose reason contains want. */
static bool refused(const Parts *p, const char *want)
{
        void *out;
        size_t len;
        if (snapshot_bodies_encode(p->v1.p, p->v1.len, &p->dir, p->bodies, p->len, &out, &len) < 0)
                return false;
        File f = {out, len};
        char reason[256];
        int r = load(&f, reason, sizeof(reason));
        file_done(&f);
        if (r >= 0 || !strstr(reason, want)) {
                fprintf(stderr, "# r=%d reason \"%s\", wanted \"%s\"\n", r, reason, want);
                return false;
        }
        return true;
}

static void put_le32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t)v;
        p[1] = (uint8_t)(v >> 8);
        p[2] = (uint8_t)(v >> 16);
        p[3] = (uint8_t)(v >> 24);
}

static void test_untampered_parts_load(void)
{
        Parts p;
        CHECK(parts_new(&p));
        void *out;
        size_t len;
        CHECK_EQ_INT(snapshot_bodies_encode(p.v1.p, p.v1.len, &p.dir, p.bodies, p.len, &out, &len),
                     0);
        File f = {out, len};
        char reason[256];
        CHECK_EQ_INT(load(&f, reason, sizeof(reason)), 0);
        file_done(&f);
        parts_done(&p);
}

static void test_range_past_the_end_is_refused(void)
{
        Parts p;
        CHECK(parts_new(&p));
        p.views[0].json.full.len = p.len - p.views[0].json.full.off + 1;
        CHECK(refused(&p, "past the end"));
        p.views[0].json.full.len = UINT64_MAX; /* off + len wraps */
        CHECK(refused(&p, "past the end"));
        parts_done(&p);
}

static void test_row_offsets_past_the_end_are_refused(void)
{
        Parts p;
        CHECK(parts_new(&p));
        p.views[0].mp.row_offsets = p.len - 8;
        CHECK(refused(&p, "row_offsets"));
        p.views[0].mp.row_offsets = UINT64_MAX - 3;
        CHECK(refused(&p, "row_offsets"));
        parts_done(&p);
}

static void test_misaligned_row_offsets_are_refused(void)
{
        Parts p;
        CHECK(parts_new(&p));
        p.views[0].json.row_offsets += 1;
        CHECK(refused(&p, "aligned"));
        parts_done(&p);
}

static void test_overlapping_pieces_are_refused(void)
{
        Parts p;
        CHECK(parts_new(&p));
        p.views[1].json.row_prefix = p.views[0].json.row_prefix;
        CHECK(refused(&p, "overlap"));
        parts_done(&p);
}

static void test_non_monotonic_row_offsets_are_refused(void)
{
        Parts p;
        CHECK(parts_new(&p));
        uint8_t *o = p.bodies + p.views[0].json.row_offsets;
        uint32_t a = snapshot_le32(o + 4), b = snapshot_le32(o + 8);
        put_le32(o + 4, b);
        put_le32(o + 8, a);
        CHECK(refused(&p, "not increasing"));
        parts_done(&p);
}

static void test_rows_ending_past_the_document_are_refused(void)
{
        Parts p;
        CHECK(parts_new(&p));
        uint8_t *o = p.bodies + p.views[0].mp.row_offsets;
        put_le32(o + 4 * 22, (uint32_t)p.views[0].mp.full.len);
        CHECK(refused(&p, "past the document"));
        parts_done(&p);
}

static void test_head_outside_the_document_is_refused(void)
{
        Parts p;
        CHECK(parts_new(&p));
        p.views[0].json.head_len = p.views[0].json.full.len + 1;
        CHECK(refused(&p, "outside the document"));
        parts_done(&p);
}

static void test_head_cols_past_the_head_is_refused(void)
{
        Parts p;
        CHECK(parts_new(&p));
        p.views[0].json.head_cols_len = p.views[0].json.head_len + 1;
        CHECK(refused(&p, "head_cols"));
        parts_done(&p);
}

static void test_non_monotonic_csv_row_offsets_are_refused(void)
{
        Parts p;
        CHECK(parts_new(&p));
        uint8_t *o = p.bodies + p.views[0].csv.row_offsets;
        uint32_t a = snapshot_le32(o + 4), b = snapshot_le32(o + 8);
        put_le32(o + 4, b);
        put_le32(o + 8, a);
        CHECK(refused(&p, "csv: row offsets not increasing"));
        parts_done(&p);
}

static void test_slot_past_the_rows_is_refused(void)
{
        Parts p;
        CHECK(parts_new(&p));
        uint8_t *s = p.bodies + p.views[1].index.slots;
        for (uint64_t i = 0; i < p.views[1].index.n_slots; i++)
                if (snapshot_le32(s + 4 * i)) {
                        put_le32(s + 4 * i, 3); /* view by_id has 2 rows */
                        break;
                }
        CHECK(refused(&p, "names row 3 of 2"));
        parts_done(&p);
}

static void test_index_without_an_empty_slot_is_refused(void)
{
        Parts p;
        CHECK(parts_new(&p));
        uint8_t *s = p.bodies + p.views[1].index.slots;
        for (uint64_t i = 0; i < p.views[1].index.n_slots; i++)
                put_le32(s + 4 * i, 1);
        CHECK(refused(&p, "no empty slot"));
        parts_done(&p);
}

static void test_huge_or_odd_slot_counts_are_refused(void)
{
        Parts p;
        CHECK(parts_new(&p));
        p.views[0].index.n_slots = UINT64_C(1) << 32;
        CHECK(refused(&p, "slots for"));
        p.views[0].index.n_slots = 48;
        CHECK(refused(&p, "slots for"));
        p.views[0].index.n_slots = UINT64_C(1) << 30; /* a power of two past the end */
        CHECK(refused(&p, "past the end"));
        parts_done(&p);
}

static void test_decreasing_key_offsets_are_refused(void)
{
        Parts p;
        CHECK(parts_new(&p));
        uint8_t *o = p.bodies + p.views[0].index.key_offsets;
        put_le32(o + 8, snapshot_le32(o + 4) - 1);
        CHECK(refused(&p, "key offsets decrease"));
        parts_done(&p);
}

static void test_keys_past_their_range_are_refused(void)
{
        Parts p;
        CHECK(parts_new(&p));
        p.views[0].index.keys.len -= 1;
        CHECK(refused(&p, "keys end past"));
        parts_done(&p);
}

static void test_missing_directory_entries_are_refused(void)
{
        Parts p;
        CHECK(parts_new(&p));
        p.dir.n_views = 1;
        CHECK(refused(&p, "one entry per view"));
        parts_done(&p);
}

TEST_MAIN(TEST_CASE(test_v2_bodies_are_what_tallyd_renders),
          TEST_CASE(test_v2_bodies_are_what_tallyd_renders_at_size),
          TEST_CASE(test_v2_keeps_the_rows_for_every_reader), TEST_CASE(test_v1_still_renders),
          TEST_CASE(test_every_truncation_is_refused), TEST_CASE(test_every_bit_flip_is_refused),
          TEST_CASE(test_untampered_parts_load), TEST_CASE(test_range_past_the_end_is_refused),
          TEST_CASE(test_row_offsets_past_the_end_are_refused),
          TEST_CASE(test_misaligned_row_offsets_are_refused),
          TEST_CASE(test_overlapping_pieces_are_refused),
          TEST_CASE(test_non_monotonic_row_offsets_are_refused),
          TEST_CASE(test_rows_ending_past_the_document_are_refused),
          TEST_CASE(test_head_outside_the_document_is_refused),
          TEST_CASE(test_head_cols_past_the_head_is_refused),
          TEST_CASE(test_non_monotonic_csv_row_offsets_are_refused),
          TEST_CASE(test_slot_past_the_rows_is_refused),
          TEST_CASE(test_index_without_an_empty_slot_is_refused),
          TEST_CASE(test_huge_or_odd_slot_counts_are_refused),
          TEST_CASE(test_decreasing_key_offsets_are_refused),
          TEST_CASE(test_keys_past_their_range_are_refused),
          TEST_CASE(test_missing_directory_entries_are_refused))
