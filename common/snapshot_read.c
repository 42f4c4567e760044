#include "snapshot_read.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <xxhash.h>

#include "mp_cursor.h"
#include "read_file.h"

typedef struct Decoder {
        MpCursor c;
        Arena *arena;
        char *reason;
        size_t reason_size;
} Decoder;

static int fail(Decoder *d, int err, const char *fmt, ...) _printf_(3, 4);
static int fail(Decoder *d, int err, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        if (d->reason && d->reason_size)
                vsnprintf(d->reason, d->reason_size, fmt, ap);
        va_end(ap);
        return err;
}

static int read_name(Decoder *d, const char *what, const char **ret)
{
        const char *s;
        uint32_t len;
        if (mp_read_str(&d->c, &s, &len) < 0)
                return fail(d, -EBADMSG, "%s: expected a string", what);
        if (len > SNAPSHOT_MAX_NAME_BYTES || memchr(s, 0, len))
                return fail(d, -EBADMSG, "%s: bad name", what);
        *ret = arena_strndup(d->arena, s, len);
        return *ret ? 0 : fail(d, -ENOMEM, "out of memory");
}

static int read_key(Decoder *d, const char **ret, uint32_t *ret_len)
{
        if (mp_read_str(&d->c, ret, ret_len) < 0)
                return fail(d, -EBADMSG, "map key is not a string");
        return 0;
}

static int read_u64_field(Decoder *d, const char *what, uint64_t *ret)
{
        if (mp_read_u64(&d->c, ret) < 0)
                return fail(d, -EBADMSG, "%s: expected an unsigned integer", what);
        return 0;
}

/* An array header of at most max elements, and zeroed room for them in the arena. */
static int read_array(Decoder *d, const char *what, uint32_t max, size_t size, size_t align,
                      void **ret, size_t *ret_n)
{
        uint32_t n;
        if (mp_read_array(&d->c, &n) < 0 || n > max)
                return fail(d, -EBADMSG, "%s: expected an array of at most %" PRIu32, what, max);
        *ret = arena_alloc0(d->arena, (size_t)n * size, align);
        if (!*ret)
                return fail(d, -ENOMEM, "out of memory");
        *ret_n = n;
        return 0;
}

static int skip_unknown(Decoder *d)
{
        if (mp_skip(&d->c, SNAPSHOT_MAX_DEPTH) < 0)
                return fail(d, -EBADMSG, "malformed or too deeply nested value");
        return 0;
}

/* A map of plain fields (counts and names) read into a struct: the worker's stats, a
 * source. Unknown keys are skipped; a known one must have its type. */
typedef struct PlainField {
        const char *key;
        const char *what; /* in messages */
        bool is_name;     /* a name (const char *) or an unsigned count (uint64_t) */
        size_t offset;
} PlainField;

/* Calls on_key for each key of a map, with the cursor on its value; on_key reads or skips
 * the value. */
typedef int (*KeyHandler)(Decoder *d, const char *key, uint32_t len, void *state);

static int decode_map(Decoder *d, const char *what, KeyHandler on_key, void *state)
{
        uint32_t n;
        if (mp_read_map(&d->c, &n) < 0)
                return fail(d, -EBADMSG, "%s: expected a map", what);
        for (uint32_t i = 0; i < n; i++) {
                const char *k;
                uint32_t kl;
                int r = read_key(d, &k, &kl);
                if (r == 0)
                        r = on_key(d, k, kl, state);
                if (r < 0)
                        return r;
        }
        return 0;
}

typedef struct PlainMap {
        const PlainField *fields;
        size_t n_fields;
        void *out;
} PlainMap;

static int plain_key(Decoder *d, const char *k, uint32_t kl, void *state)
{
        const PlainMap *m = state;
        for (size_t j = 0; j < m->n_fields; j++) {
                const PlainField *f = &m->fields[j];
                if (!mp_str_eq(f->key, k, kl))
                        continue;
                void *field = (char *)m->out + f->offset;
                return f->is_name ? read_name(d, f->what, field)
                                  : read_u64_field(d, f->what, field);
        }
        return skip_unknown(d);
}

static int decode_plain_map(Decoder *d, const char *what, const PlainField *fields, size_t n_fields,
                            void *out)
{
        return decode_map(d, what, plain_key, &(PlainMap){fields, n_fields, out});
}

#define COUNT(type, key, what)                         \
        {                                              \
#key, what, false, offsetof(type, key) \
        }
#define NAME(type, key, what)                         \
        {                                             \
#key, what, true, offsetof(type, key) \
        }

static const PlainField worker_fields[] = {
    COUNT(SnapshotStats, rows_read, "worker.rows_read"),
    COUNT(SnapshotStats, rows_rejected, "worker.rows_rejected"),
    COUNT(SnapshotStats, duration_ms, "worker.duration_ms"),
    NAME(SnapshotStats, host, "worker.host"),
    COUNT(SnapshotStats, peak_rss_kib, "worker.peak_rss_kib"),
    COUNT(SnapshotStats, cpu_ms, "worker.cpu_ms"),
    COUNT(SnapshotStats, wall_ms, "worker.wall_ms"),
};

static const PlainField source_fields[] = {
    NAME(SnapshotSource, name, "source.name"),
    NAME(SnapshotSource, type, "source.type"),
    COUNT(SnapshotSource, files, "source.files"),
    COUNT(SnapshotSource, rows_read, "source.rows_read"),
    COUNT(SnapshotSource, rows_rejected, "source.rows_rejected"),
};

/* The usage keys came later (2026-12): their presence, not their value, says a snapshot
 * carries them. */
static int worker_key(Decoder *d, const char *k, uint32_t kl, void *state)
{
        SnapshotStats *st = ((const PlainMap *)state)->out;
        if (mp_str_eq("peak_rss_kib", k, kl))
                st->has_usage = true;
        return plain_key(d, k, kl, state);
}

static int decode_worker(Decoder *d, SnapshotStats *st)
{
        return decode_map(d, "worker", worker_key,
                          &(PlainMap){worker_fields, ELEMENTSOF(worker_fields), st});
}

static int decode_sources(Decoder *d, Snapshot *s)
{
        int r = read_array(d, "sources", SNAPSHOT_MAX_SOURCES, sizeof(SnapshotSource),
                           _Alignof(SnapshotSource), (void **)&s->sources, &s->n_sources);
        for (size_t i = 0; r >= 0 && i < s->n_sources; i++) {
                SnapshotSource *src = &s->sources[i];
                char what[32];
                snprintf(what, sizeof(what), "sources[%zu]", i);
                r = decode_plain_map(d, what, source_fields, ELEMENTSOF(source_fields), src);
                if (r < 0)
                        return r;
                if (!src->name)
                        return fail(d, -EBADMSG, "sources[%zu]: no name", i);
                if (!src->type)
                        src->type = "";
        }
        return r;
}

static int decode_columns(Decoder *d, SnapshotView *v)
{
        uint32_t n;
        if (mp_read_array(&d->c, &n) < 0 || n == 0 || n > SNAPSHOT_MAX_COLUMNS)
                return fail(d, -EBADMSG, "view %s: columns: expected 1..%d columns", v->name,
                            SNAPSHOT_MAX_COLUMNS);
        v->columns = arena_new0(d->arena, SnapshotColumn, n);
        if (!v->columns)
                return fail(d, -ENOMEM, "out of memory");
        v->n_columns = n;
        for (uint32_t i = 0; i < n; i++) {
                uint32_t pair;
                const char *t;
                uint32_t tl;
                if (mp_read_array(&d->c, &pair) < 0 || pair != 2)
                        return fail(d, -EBADMSG, "view %s: column %u: expected [name, type]",
                                    v->name, i);
                int r = read_name(d, "column name", &v->columns[i].name);
                if (r < 0)
                        return r;
                if (mp_read_str(&d->c, &t, &tl) < 0)
                        return fail(d, -EBADMSG, "view %s: column %u: bad type", v->name, i);
                char tname[8] = "";
                if (tl < sizeof(tname))
                        memcpy(tname, t, tl);
                ValueType vt;
                if (tl >= sizeof(tname) || value_type_from_string(tname, &vt) < 0)
                        return fail(d, -EBADMSG, "view %s: column %s: unknown type", v->name,
                                    v->columns[i].name);
                v->columns[i].type = vt;
        }
        return 0;
}

static int decode_cell(Decoder *d, const SnapshotView *v, size_t col, Value *out)
{
        ValueType t = v->columns[col].type;
        if (d->c.p < d->c.end && *d->c.p == 0xc0) {
                d->c.p++;
                out->type = VALUE_NIL;
                return 0;
        }
        int r = -EBADMSG;
        switch (t) {
        case VALUE_STR: {
                const char *s;
                uint32_t len;
                r = mp_read_str(&d->c, &s, &len);
                out->s = s; /* points into the arena copy of the file */
                out->len = len;
                break;
        }
        case VALUE_INT:
        case VALUE_TIME: r = mp_read_i64(&d->c, &out->i); break;
        case VALUE_NUM: r = mp_read_double(&d->c, &out->d); break;
        default: break;
        }
        if (r < 0)
                return fail(d, -EBADMSG, "view %s: column %s: cell is not a %s", v->name,
                            v->columns[col].name, value_type_to_string(t));
        out->type = (uint8_t)t;
        return 0;
}

static int decode_rows(Decoder *d, SnapshotView *v)
{
        uint32_t n;
        if (mp_read_array(&d->c, &n) < 0)
                return fail(d, -EBADMSG, "view %s: rows: expected an array", v->name);
        /* Each row is at least 1 + n_columns bytes: bound the allocation by that. */
        if ((uint64_t)n * (1 + v->n_columns) > mp_left(&d->c))
                return fail(d, -EBADMSG, "view %s: %u rows cannot fit in the file", v->name, n);
        v->cells = arena_alloc(d->arena, (size_t)n * v->n_columns * sizeof(Value), _Alignof(Value));
        if (!v->cells)
                return fail(d, -ENOMEM, "out of memory");
        v->n_rows = n;
        for (uint32_t i = 0; i < n; i++) {
                uint32_t m;
                if (mp_read_array(&d->c, &m) < 0 || m != v->n_columns)
                        return fail(d, -EBADMSG, "view %s: row %u: expected %zu cells", v->name, i,
                                    v->n_columns);
                Value *row = v->cells + (size_t)i * v->n_columns;
                for (size_t j = 0; j < v->n_columns; j++) {
                        int r = decode_cell(d, v, j, &row[j]);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

typedef struct ViewState {
        SnapshotView *v;
        uint32_t index;
        uint64_t keys;
        bool have_rows;
} ViewState;

static int view_key(Decoder *d, const char *k, uint32_t kl, void *state)
{
        ViewState *st = state;
        SnapshotView *v = st->v;
        if (mp_str_eq("name", k, kl))
                return read_name(d, "view name", &v->name);
        if (mp_str_eq("keys", k, kl))
                return read_u64_field(d, "view keys", &st->keys);
        if (mp_str_eq("columns", k, kl)) {
                /* rows are decoded against the columns: they must come first */
                if (!v->name || v->columns)
                        return fail(d, -EBADMSG, "views[%u]: name must precede columns", st->index);
                return decode_columns(d, v);
        }
        if (mp_str_eq("rows", k, kl)) {
                if (!v->columns || st->have_rows)
                        return fail(d, -EBADMSG, "views[%u]: rows before columns", st->index);
                st->have_rows = true;
                return decode_rows(d, v);
        }
        return skip_unknown(d);
}

static int decode_view(Decoder *d, SnapshotView *v, uint32_t index)
{
        ViewState st = {.v = v, .index = index};
        char what[32];
        snprintf(what, sizeof(what), "views[%" PRIu32 "]", index);
        int r = decode_map(d, what, view_key, &st);
        if (r < 0)
                return r;
        if (!v->name || !v->columns || !st.have_rows)
                return fail(d, -EBADMSG, "views[%u]: name, columns and rows are required", index);
        if (st.keys > v->n_columns)
                return fail(d, -EBADMSG, "view %s: %" PRIu64 " keys but %zu columns", v->name,
                            st.keys, v->n_columns);
        v->n_keys = (size_t)st.keys;
        return 0;
}

static int decode_views(Decoder *d, Snapshot *s)
{
        int r = read_array(d, "views", SNAPSHOT_MAX_VIEWS, sizeof(SnapshotView),
                           _Alignof(SnapshotView), (void **)&s->views, &s->n_views);
        for (uint32_t i = 0; r >= 0 && i < s->n_views; i++) {
                r = decode_view(d, &s->views[i], i);
                if (r < 0)
                        return r;
                for (uint32_t j = 0; j < i; j++)
                        if (strcmp(s->views[j].name, s->views[i].name) == 0)
                                return fail(d, -EBADMSG, "view %s appears twice", s->views[i].name);
        }
        return r;
}

typedef struct PayloadState {
        Snapshot *s;
        bool have_gen, have_views;
} PayloadState;

static int payload_key(Decoder *d, const char *k, uint32_t kl, void *state)
{
        PayloadState *st = state;
        Snapshot *s = st->s;
        if (mp_str_eq("generation", k, kl)) {
                st->have_gen = true;
                return read_u64_field(d, "generation", &s->generation);
        }
        if (mp_str_eq("created_usec", k, kl))
                return mp_read_i64(&d->c, &s->created_usec) < 0
                           ? fail(d, -EBADMSG, "created_usec: expected an integer")
                           : 0;
        if (mp_str_eq("worker", k, kl))
                return decode_worker(d, &s->stats);
        if (mp_str_eq("sources", k, kl) && !s->sources)
                return decode_sources(d, s);
        if (mp_str_eq("views", k, kl) && !st->have_views) {
                st->have_views = true;
                return decode_views(d, s);
        }
        return skip_unknown(d);
}

static int decode_payload(Decoder *d, Snapshot *s)
{
        PayloadState st = {.s = s};
        int r = decode_map(d, "payload", payload_key, &st);
        if (r < 0)
                return r;
        bool have_gen = st.have_gen, have_views = st.have_views;
        if (!have_gen || s->generation == 0)
                return fail(d, -EBADMSG, "no generation");
        if (!have_views)
                return fail(d, -EBADMSG, "no views");
        if (mp_left(&d->c) != 0)
                return fail(d, -EBADMSG, "trailing bytes after the payload");
        if (!s->stats.host)
                s->stats.host = "";
        return 0;
}

/* Checks the envelope and leaves d->c on the verified payload. */
static int open_envelope(Decoder *d, const void *file, size_t len)
{
        MpCursor c;
        mp_cursor_init(&c, file, len);
        uint32_t n, name_len, payload_len;
        const char *name;
        const void *payload;
        uint64_t version, sum;
        if (len == 0)
                return fail(d, -EBADMSG, "empty file");
        if (mp_read_array(&c, &n) < 0 || n != 4 || mp_read_str(&c, &name, &name_len) < 0 ||
            !mp_str_eq(SNAPSHOT_FORMAT_NAME, name, name_len))
                return fail(d, -EBADMSG, "not a tally snapshot");
        if (mp_read_u64(&c, &version) < 0)
                return fail(d, -EBADMSG, "bad format version");
        if (version != SNAPSHOT_FORMAT_VERSION)
                return fail(d, -EPROTONOSUPPORT, "format version %" PRIu64 " (supported: %d)",
                            version, SNAPSHOT_FORMAT_VERSION);
        if (mp_read_bin(&c, &payload, &payload_len) < 0)
                return fail(d, -EBADMSG, "truncated payload");
        if (mp_left(&c) != 9 || *c.p != 0xcf || mp_read_u64(&c, &sum) < 0)
                return fail(d, -EBADMSG, "truncated or malformed checksum");
        if (XXH3_64bits(payload, payload_len) != sum)
                return fail(d, -EBADMSG, "checksum mismatch");
        mp_cursor_init(&d->c, payload, payload_len);
        return 0;
}

static int read_into_arena(Arena *a, const void *buf, size_t len, Snapshot **ret, char *reason,
                           size_t reason_size)
{
        Snapshot *s = arena_new0(a, Snapshot, 1);
        if (!s)
                return -ENOMEM;
        s->arena = a;
        s->file_bytes = len;
        Decoder d = {.arena = a, .reason = reason, .reason_size = reason_size};
        int r = open_envelope(&d, buf, len);
        if (r < 0)
                return r;
        r = decode_payload(&d, s);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

int snapshot_read_buffer(const void *buf, size_t len, Snapshot **ret, char *reason,
                         size_t reason_size)
{
        _cleanup_(arena_freep) Arena *a = NULL;
        int r = arena_new(&a);
        if (r < 0)
                return r;
        void *copy = arena_alloc(a, len, 16);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, buf, len);
        r = read_into_arena(a, copy, len, ret, reason, reason_size);
        if (r < 0)
                return r;
        TAKE_PTR(a);
        return 0;
}

static void *alloc_in_arena(void *arena, size_t size)
{
        return arena_alloc(arena, size, 16);
}

int snapshot_read_file(int dirfd, const char *name, uint64_t max_bytes, Snapshot **ret,
                       char *reason, size_t reason_size)
{
        Decoder d = {.reason = reason, .reason_size = reason_size};
        /* O_NONBLOCK: a FIFO with a snapshot's name must not block the loader;
         * O_NOFOLLOW: a symlink (say to /dev/zero) is refused outright. */
        _cleanup_close_ int fd =
            openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return fail(&d, -errno, "cannot open: %s", strerror(errno));
        _cleanup_(arena_freep) Arena *a = NULL;
        int r = arena_new(&a);
        if (r < 0)
                return r;
        void *buf;
        size_t len = 0;
        r = read_file_bounded(fd, max_bytes, alloc_in_arena, a, &buf, &len);
        if (r == -ENOMEM)
                return fail(&d, r, "out of memory");
        if (r < 0)
                return fail(&d, r, "read error: %s", strerror(-r));
        if (r == READ_FILE_NOT_REGULAR)
                return fail(&d, -EBADMSG, "not a regular file");
        if (r == READ_FILE_TOO_LARGE)
                return fail(&d, -EFBIG, "file is %zu bytes, limit %" PRIu64, len, max_bytes);
        if (r == READ_FILE_SHRANK)
                return fail(&d, -EBADMSG, "file shrank while reading");
        r = read_into_arena(a, buf, len, ret, reason, reason_size);
        if (r < 0)
                return r;
        TAKE_PTR(a);
        return 0;
}

Snapshot *snapshot_free(Snapshot *s)
{
        if (s)
                arena_free(s->arena); /* s itself lives in the arena */
        return NULL;
}
