/* Snapshot reader: any bytes are either rejected with a reason or decode into a snapshot
 * whose every cell matches its column; a decoded snapshot re-encodes to the same content.
 *
 * The first byte picks how the rest is used. A checksum guards the payload, so random
 * mutations of a whole file almost never get past it; mode 1 therefore wraps the input
 * in a valid envelope (name, version, checksum) to reach the payload decoder, mode 2 in a
 * version 2 envelope, to reach the bodies' directory checks. A v2 snapshot that passes
 * has every piece and row slice read the way tallyd serves them, and every index probe
 * must end at an empty slot. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include "envelope.h"
#include "fuzz.h"
#include "log.h"
#include "snapshot_bodies.h"
#include "snapshot_read.h"
#include "snapshot_write.h"

/* tallyd's read (snapshot_read_file_image, cells of a v2 file skipped) goes through a
 * file in this directory and must agree with the whole decode on every input. */
static int scratch_dirfd = -1;
static char scratch_dir[] = "/tmp/tally-fuzz-snapshot-XXXXXX";

static void remove_scratch(void)
{
        unlinkat(scratch_dirfd, "in", 0);
        rmdir(scratch_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        log_set_max_level(LOG_EMERG);
        if (mkdtemp(scratch_dir)) {
                scratch_dirfd = open(scratch_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                atexit(remove_scratch);
        }
        return 0;
}

/* Reads every byte the snapshot points at, so ASan sees a dangling or short pointer. */
static uint64_t touch(const Snapshot *s)
{
        uint64_t h = strlen(s->stats.host);
        for (size_t i = 0; i < s->n_sources; i++)
                h += strlen(s->sources[i].name) + strlen(s->sources[i].type);
        for (size_t i = 0; i < s->n_views; i++) {
                const SnapshotView *v = &s->views[i];
                FUZZ_ASSERT(v->name && v->n_columns >= 1 && v->n_columns <= SNAPSHOT_MAX_COLUMNS);
                FUZZ_ASSERT(v->n_keys <= v->n_columns);
                FUZZ_ASSERT(snapshot_find_view(s, v->name) == v);
                for (size_t c = 0; c < v->n_columns; c++) {
                        FUZZ_ASSERT(v->columns[c].type > VALUE_NIL &&
                                    v->columns[c].type < _VALUE_TYPE_MAX);
                        h += strlen(v->columns[c].name);
                }
                for (size_t r = 0; r < v->n_rows; r++) {
                        const Value *row = snapshot_view_row(v, r);
                        for (size_t c = 0; c < v->n_columns; c++) {
                                FUZZ_ASSERT(row[c].type == VALUE_NIL ||
                                            row[c].type == v->columns[c].type);
                                if (row[c].type == VALUE_STR)
                                        for (uint32_t k = 0; k < row[c].len; k++)
                                                h = h * 31 + (uint8_t)row[c].s[k];
                        }
                }
        }
        return h;
}

static uint64_t touch_range(const SnapshotBodies *b, SnapshotRange r)
{
        uint64_t h = 0;
        FUZZ_ASSERT(r.off <= b->len && r.len <= b->len - r.off);
        for (uint64_t i = 0; i < r.len; i++)
                h = h * 31 + b->base[r.off + i];
        return h;
}

/* What tallyd does with a v2 file's bodies: whole documents, heads, every row's slice,
 * and index lookups, which probe from any slot to an empty one. */
static uint64_t touch_bodies(const Snapshot *s)
{
        const SnapshotBodies *b = s->bodies;
        uint64_t h = 0;
        FUZZ_ASSERT(b->n_views == s->n_views);
        for (size_t i = 0; i < b->n_views; i++) {
                const SnapshotBodyView *v = &b->views[i];
                size_t n = s->views[i].n_rows;
                const SnapshotBodyDoc *docs[2] = {&v->json, &v->mp};
                for (int j = 0; j < 2; j++) {
                        const SnapshotBodyDoc *d = docs[j];
                        uint64_t sep = j == 0;
                        h += touch_range(b, d->full) + touch_range(b, d->gzip) +
                             touch_range(b, d->row_prefix);
                        FUZZ_ASSERT(d->head_len <= d->rows && d->rows <= d->full.len);
                        const uint8_t *o = b->base + d->row_offsets;
                        for (size_t r = 0; r < n; r++) {
                                uint32_t a = snapshot_le32(o + 4 * r),
                                         e = snapshot_le32(o + 4 * r + 4);
                                FUZZ_ASSERT(e >= a + sep + 1);
                                h += touch_range(
                                    b, (SnapshotRange){d->full.off + d->rows + a, e - a - sep});
                        }
                }
                const uint8_t *slots = b->base + v->index.slots;
                const uint8_t *ko = b->base + v->index.key_offsets;
                uint64_t mask = v->index.n_slots - 1;
                for (uint64_t start = 0; start < v->index.n_slots; start++) {
                        uint64_t k = start, steps = 0;
                        for (uint32_t x; (x = snapshot_le32(slots + 4 * k)) != 0;
                             k = (k + 1) & mask) {
                                FUZZ_ASSERT(x <= n);
                                uint32_t a = snapshot_le32(ko + 4 * (x - 1)),
                                         e = snapshot_le32(ko + 4 * x);
                                FUZZ_ASSERT(a <= e && e <= v->index.keys.len);
                                FUZZ_ASSERT(++steps <= v->index.n_slots);
                        }
                        if (start > 64)
                                break; /* enough probes; the whole table is checked above */
                }
        }
        return h + touch_range(b, b->views_json) + touch_range(b, b->views_json_gzip) +
               touch_range(b, b->views_mp);
}

static void encode(const Snapshot *s, void **ret, size_t *ret_len)
{
        SnapshotWriter *w = NULL;
        FUZZ_ASSERT(snapshot_writer_new(&w) >= 0);
        snapshot_writer_set_stats(w, &s->stats);
        for (size_t i = 0; i < s->n_sources; i++)
                FUZZ_ASSERT(snapshot_writer_add_source(w, &s->sources[i]) >= 0);
        for (size_t i = 0; i < s->n_views; i++) {
                const SnapshotView *v = &s->views[i];
                FUZZ_ASSERT(snapshot_writer_begin_view(w, v->name, v->n_keys, v->n_columns,
                                                       v->columns, v->n_rows) >= 0);
                for (size_t k = 0; k < v->n_rows * v->n_columns; k++)
                        FUZZ_ASSERT(snapshot_writer_put_value(w, &v->cells[k]) >= 0);
                FUZZ_ASSERT(snapshot_writer_end_view(w) >= 0);
        }
        FUZZ_ASSERT(snapshot_writer_encode(w, s->generation, s->created_usec, ret, ret_len) >= 0);
        snapshot_writer_free(w);
}

static bool same_value(const Value *a, const Value *b)
{
        if (a->type != b->type)
                return false;
        switch (a->type) {
        case VALUE_STR: return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
        case VALUE_INT:
        case VALUE_TIME: return a->i == b->i;
        case VALUE_NUM: return memcmp(&a->d, &b->d, sizeof(double)) == 0 || a->d == b->d;
        default: return true;
        }
}

/* Decoding what we encoded must give back the same views and cells. */
static void check_round_trip(const Snapshot *s)
{
        void *buf = NULL;
        size_t len = 0;
        char reason[256] = "";
        encode(s, &buf, &len);
        Snapshot *t = NULL;
        int r = snapshot_read_buffer(buf, len, &t, reason, sizeof(reason));
        if (r < 0)
                fprintf(stderr, "re-encoded snapshot rejected: %s\n", reason);
        FUZZ_ASSERT(r >= 0);
        FUZZ_ASSERT(t->generation == s->generation && t->created_usec == s->created_usec);
        FUZZ_ASSERT(t->n_views == s->n_views && t->n_sources == s->n_sources);
        for (size_t i = 0; i < s->n_views; i++) {
                const SnapshotView *a = &s->views[i], *b = &t->views[i];
                FUZZ_ASSERT(strcmp(a->name, b->name) == 0 && a->n_keys == b->n_keys);
                FUZZ_ASSERT(a->n_columns == b->n_columns && a->n_rows == b->n_rows);
                for (size_t k = 0; k < a->n_rows * a->n_columns; k++)
                        FUZZ_ASSERT(same_value(&a->cells[k], &b->cells[k]));
        }
        snapshot_free(t);
        free(buf);
}

static uint64_t touch_bodies(const Snapshot *s);

/* 1 accepted, 0 rejected, -1 not tried */
static int read_as_tallyd(const uint8_t *data, size_t size)
{
        if (scratch_dirfd < 0)
                return -1;
        int fd = openat(scratch_dirfd, "in", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -1;
        bool ok = write(fd, data, size) == (ssize_t)size;
        close(fd);
        if (!ok)
                return -1;
        Snapshot *s = NULL;
        void *img = NULL;
        size_t img_size = 0;
        char reason[256] = "";
        int r = snapshot_read_file_image(scratch_dirfd, "in", SNAPSHOT_MAX_FILE_BYTES,
                                         SNAPSHOT_READ_BODIES_ONLY, &s, &img, &img_size, reason,
                                         sizeof(reason));
        if (r < 0) {
                FUZZ_ASSERT(reason[0] != 0 || r == -ENOMEM);
                return 0;
        }
        if (s->bodies)
                (void)touch_bodies(s);
        snapshot_free(s);
        munmap(img, img_size);
        return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        uint8_t mode = data[0];
        data++, size--;
        uint8_t *wrapped = NULL;
        if (mode & 3) {
                wrapped = wrap_payload(
                    data, size, mode & 2 ? SNAPSHOT_FORMAT_VERSION_BODIES : SNAPSHOT_FORMAT_VERSION,
                    &size);
                if (!wrapped)
                        return 0;
                data = wrapped;
        }
        Snapshot *s = NULL;
        char reason[256] = "";
        int r = snapshot_read_buffer(data, size, &s, reason, sizeof(reason));
        int t = read_as_tallyd(data, size);
        /* skipping cells may only accept what decoding them accepts... except cells of the
         * wrong type, which only a whole decode sees: the bodies are what tallyd serves */
        if (t == 1 && r < 0)
                FUZZ_ASSERT(strstr(reason, "cell is not a") != NULL);
        if (t == 0 && r >= 0)
                FUZZ_ASSERT(false); /* tallyd refusing what every other reader takes */
        if (r >= 0) {
                FUZZ_ASSERT(s && s->generation > 0);
                (void)touch(s);
                FUZZ_ASSERT((s->version == SNAPSHOT_FORMAT_VERSION_BODIES) == (s->bodies != NULL));
                if (s->bodies)
                        (void)touch_bodies(s);
                check_round_trip(s);
                if (fuzz_verbose())
                        fprintf(stderr, "accepted: generation %llu, %zu views\n",
                                (unsigned long long)s->generation, s->n_views);
                snapshot_free(s);
        } else {
                if (fuzz_verbose())
                        fprintf(stderr, "rejected: %s\n", reason);
                FUZZ_ASSERT(reason[0] != 0 || r == -ENOMEM);
        }
        free(wrapped);
        return 0;
}
