#include "snapshot_read.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/stat.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "coop.h"
#include "mp_cursor.h"
#include "mp_members.h"
#include "read_file.h"
#include "snapshot_bodies.h"

typedef struct Decoder {
        MpCursor c;
        Arena *arena;
        char *reason;
        size_t reason_size;
        unsigned version;
        unsigned flags;
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

/* The members of a map (mp_members.h), with the v1 reader's words for a bad key or value;
 * a member may repeat, each reader below says what a repeat means. */
static int members_begin(Decoder *d, MpMembers *m, const char *const *names, unsigned n_names)
{
        return mp_members_begin(m, &d->c, names, n_names, SNAPSHOT_MAX_DEPTH);
}

static int members_next(Decoder *d, MpMembers *m, unsigned *ret)
{
        int r = mp_members_next(m, ret);
        if (r == -EBADMSG)
                return fail(d, r, "%s",
                            m->fault == MP_MEMBERS_KEY_NOT_STR
                                ? "map key is not a string"
                                : "malformed or too deeply nested value");
        return r;
}

static int read_u64_field(Decoder *d, const char *what, uint64_t *ret)
{
        if (mp_read_u64(&d->c, ret) < 0)
                return fail(d, -EBADMSG, "%s: expected an unsigned integer", what);
        return 0;
}

static int skip_unknown(Decoder *d)
{
        if (mp_skip(&d->c, SNAPSHOT_MAX_DEPTH) < 0)
                return fail(d, -EBADMSG, "malformed or too deeply nested value");
        return 0;
}

static int decode_worker(Decoder *d, SnapshotStats *st)
{
        static const char *const names[] = {"rows_read",    "rows_rejected", "duration_ms", "host",
                                            "peak_rss_kib", "cpu_ms",        "wall_ms"};
        MpMembers m;
        unsigned f;
        int r;
        if (members_begin(d, &m, names, ELEMENTSOF(names)) < 0)
                return fail(d, -EBADMSG, "worker: expected a map");
        while ((r = members_next(d, &m, &f)) > 0) {
                switch (f) {
                case 0: r = read_u64_field(d, "worker.rows_read", &st->rows_read); break;
                case 1: r = read_u64_field(d, "worker.rows_rejected", &st->rows_rejected); break;
                case 2: r = read_u64_field(d, "worker.duration_ms", &st->duration_ms); break;
                case 3: r = read_name(d, "worker.host", &st->host); break;
                case 4:
                        /* the usage keys came later (2026-12): their presence says a
                         * snapshot carries them */
                        st->has_usage = true;
                        r = read_u64_field(d, "worker.peak_rss_kib", &st->peak_rss_kib);
                        break;
                case 5: r = read_u64_field(d, "worker.cpu_ms", &st->cpu_ms); break;
                default: r = read_u64_field(d, "worker.wall_ms", &st->wall_ms);
                }
                if (r < 0)
                        return r;
        }
        return r;
}

/* An array of at most max entries: room for them (zeroed, size bytes each) into *ret and
 * their count into *ret_n. A macro so each caller's array keeps its type. */
#define BEGIN_ARRAY(d, what, max, ret, ret_n)                                                      \
        ({                                                                                         \
                void *p_ = NULL;                                                                   \
                int r_ = begin_array(d, what, max, sizeof(**(ret)), _Alignof(__typeof__(**(ret))), \
                                     &p_, ret_n);                                                  \
                if (r_ >= 0)                                                                       \
                        *(ret) = p_;                                                               \
                r_;                                                                                \
        })
static int begin_array(Decoder *d, const char *what, uint32_t max, size_t size, size_t align,
                       void **ret, size_t *ret_n)
{
        uint32_t n;
        if (mp_read_array(&d->c, &n) < 0 || n > max)
                return fail(d, -EBADMSG, "%s: expected an array of at most %" PRIu32, what, max);
        void *p = arena_alloc0(d->arena, size * n, align);
        if (!p)
                return fail(d, -ENOMEM, "out of memory");
        *ret = p;
        *ret_n = n;
        return 0;
}

static int decode_sources(Decoder *d, Snapshot *s)
{
        static const char *const names[] = {"name", "type", "files", "rows_read", "rows_rejected"};
        int r = BEGIN_ARRAY(d, "sources", SNAPSHOT_MAX_SOURCES, &s->sources, &s->n_sources);
        if (r < 0)
                return r;
        for (uint32_t i = 0; i < s->n_sources; i++) {
                SnapshotSource *src = &s->sources[i];
                MpMembers m;
                unsigned f;
                if (members_begin(d, &m, names, ELEMENTSOF(names)) < 0)
                        return fail(d, -EBADMSG, "sources[%u]: expected a map", i);
                while ((r = members_next(d, &m, &f)) > 0) {
                        switch (f) {
                        case 0: r = read_name(d, "source.name", &src->name); break;
                        case 1: r = read_name(d, "source.type", &src->type); break;
                        case 2: r = read_u64_field(d, "source.files", &src->files); break;
                        case 3: r = read_u64_field(d, "source.rows_read", &src->rows_read); break;
                        default: r = read_u64_field(d, "source.rows_rejected", &src->rows_rejected);
                        }
                        if (r < 0)
                                return r;
                }
                if (r < 0)
                        return r;
                if (!src->name)
                        return fail(d, -EBADMSG, "sources[%u]: no name", i);
                if (!src->type)
                        src->type = "";
        }
        return 0;
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

/* The cells a writer packs (nil, ints, float64, short strings) in one step; false leaves
 * anything else, or a cell cut short, to mp_skip. */
static inline bool skip_scalar(MpCursor *c)
{
        if (c->p >= c->end)
                return false;
        uint8_t b = *c->p;
        size_t n;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0)
                n = 1;
        else if ((b & 0xe0) == 0xa0)
                n = 1 + (b & 0x1f);
        else if (b == 0xcb || b == 0xcf || b == 0xd3)
                n = 9;
        else if (b == 0xcc || b == 0xd0)
                n = 2;
        else if (b == 0xcd || b == 0xd1)
                n = 3;
        else if (b == 0xce || b == 0xd2 || b == 0xca)
                n = 5;
        else if (b == 0xd9 && mp_left(c) >= 2)
                n = 2 + c->p[1];
        else
                return false;
        if (n > mp_left(c))
                return false;
        c->p += n;
        return true;
}

static int decode_rows(Decoder *d, SnapshotView *v, uint64_t keys)
{
        uint32_t n;
        if (mp_read_array(&d->c, &n) < 0)
                return fail(d, -EBADMSG, "view %s: rows: expected an array", v->name);
        /* Each row is at least 1 + n_columns bytes: bound the allocation by that. */
        if ((uint64_t)n * (1 + v->n_columns) > mp_left(&d->c))
                return fail(d, -EBADMSG, "view %s: %u rows cannot fit in the file", v->name, n);
        v->n_rows = n;
        /* the bodies are what is served: the rows' shape is checked, their cells skipped */
        bool skip =
            d->version == SNAPSHOT_FORMAT_VERSION_BODIES && (d->flags & SNAPSHOT_READ_BODIES_ONLY);
        if (!skip) {
                v->cells = arena_alloc(d->arena, (size_t)n * v->n_columns * sizeof(Value),
                                       _Alignof(Value));
                if (!v->cells)
                        return fail(d, -ENOMEM, "out of memory");
        } else if (keys > 0 && keys <= v->n_columns) {
                /* the key cells alone: the slice index is built from them (slice.h) */
                v->key_cells =
                    arena_alloc(d->arena, (size_t)n * keys * sizeof(Value) + 1, _Alignof(Value));
                if (!v->key_cells)
                        return fail(d, -ENOMEM, "out of memory");
                v->n_key_cells = (size_t)keys;
        }
        for (uint32_t i = 0; i < n; i++) {
                uint32_t m;
                if (i % 1024 == 0)
                        coop_point();
                if (mp_read_array(&d->c, &m) < 0 || m != v->n_columns)
                        return fail(d, -EBADMSG, "view %s: row %u: expected %zu cells", v->name, i,
                                    v->n_columns);
                if (skip) {
                        for (size_t j = 0; j < v->n_key_cells; j++) {
                                int r = decode_cell(d, v, j,
                                                    &v->key_cells[(size_t)i * v->n_key_cells + j]);
                                if (r < 0)
                                        return r;
                        }
                        for (size_t j = v->n_key_cells; j < v->n_columns; j++)
                                if (!skip_scalar(&d->c) && mp_skip(&d->c, 1) < 0)
                                        return fail(d, -EBADMSG, "view %s: row %u: bad cell",
                                                    v->name, i);
                        continue;
                }
                Value *row = v->cells + (size_t)i * v->n_columns;
                for (size_t j = 0; j < v->n_columns; j++) {
                        int r = decode_cell(d, v, j, &row[j]);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int decode_view(Decoder *d, SnapshotView *v, uint32_t index)
{
        static const char *const names[] = {"name", "keys", "columns", "rows"};
        MpMembers m;
        unsigned f;
        uint64_t keys = 0;
        bool have_rows = false;
        int r;
        if (members_begin(d, &m, names, ELEMENTSOF(names)) < 0)
                return fail(d, -EBADMSG, "views[%u]: expected a map", index);
        while ((r = members_next(d, &m, &f)) > 0) {
                switch (f) {
                case 0: r = read_name(d, "view name", &v->name); break;
                case 1: r = read_u64_field(d, "view keys", &keys); break;
                case 2:
                        /* rows are decoded against the columns: they must come first */
                        if (!v->name || v->columns)
                                return fail(d, -EBADMSG, "views[%u]: name must precede columns",
                                            index);
                        r = decode_columns(d, v);
                        break;
                default:
                        if (!v->columns || have_rows)
                                return fail(d, -EBADMSG, "views[%u]: rows before columns", index);
                        r = decode_rows(d, v, keys);
                        have_rows = true;
                }
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        if (!v->name || !v->columns || !have_rows)
                return fail(d, -EBADMSG, "views[%u]: name, columns and rows are required", index);
        if (keys > v->n_columns)
                return fail(d, -EBADMSG, "view %s: %" PRIu64 " keys but %zu columns", v->name, keys,
                            v->n_columns);
        v->n_keys = (size_t)keys;
        return 0;
}

static int decode_views(Decoder *d, Snapshot *s)
{
        int r = BEGIN_ARRAY(d, "views", SNAPSHOT_MAX_VIEWS, &s->views, &s->n_views);
        if (r < 0)
                return r;
        for (uint32_t i = 0; i < s->n_views; i++) {
                r = decode_view(d, &s->views[i], i);
                if (r < 0)
                        return r;
                for (uint32_t j = 0; j < i; j++)
                        if (strcmp(s->views[j].name, s->views[i].name) == 0)
                                return fail(d, -EBADMSG, "view %s appears twice", s->views[i].name);
        }
        return 0;
}

static int decode_payload(Decoder *d, Snapshot *s)
{
        /* from sources on (names[3..]) a member counts once, and serve and bodies (5, 6)
         * only in v2: a repeat, or either of those in v1, is skipped as an unknown key is */
        static const char *const names[] = {"generation", "created_usec", "worker", "sources",
                                            "views",      "serve",        "bodies"};
        MpMembers m;
        unsigned f;
        bool have_gen = false, have_views = false;
        bool v2 = d->version == SNAPSHOT_FORMAT_VERSION_BODIES;
        MpCursor serve = {NULL, NULL};
        const void *bodies = NULL;
        uint32_t bodies_len = 0;
        int r;
        if (members_begin(d, &m, names, ELEMENTSOF(names)) < 0)
                return fail(d, -EBADMSG, "payload: expected a map");
        while ((r = members_next(d, &m, &f)) > 0) {
                if (f >= 3 && (m.repeat || (f >= 5 && !v2)))
                        r = skip_unknown(d);
                else
                        switch (f) {
                        case 0:
                                r = read_u64_field(d, "generation", &s->generation);
                                have_gen = true;
                                break;
                        case 1:
                                if (mp_read_i64(&d->c, &s->created_usec) < 0)
                                        r = fail(d, -EBADMSG, "created_usec: expected an integer");
                                break;
                        case 2: r = decode_worker(d, &s->stats); break;
                        case 3: r = decode_sources(d, s); break;
                        case 4:
                                r = decode_views(d, s);
                                have_views = true;
                                break;
                        case 5:
                                /* decoded once the views are known (its counts depend on them) */
                                serve = d->c;
                                r = skip_unknown(d);
                                serve.end = d->c.p;
                                break;
                        default:
                                if (mp_read_bin(&d->c, &bodies, &bodies_len) < 0)
                                        r = fail(d, -EBADMSG, "bodies: expected a bin");
                        }
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        if (!have_gen || s->generation == 0)
                return fail(d, -EBADMSG, "no generation");
        if (!have_views)
                return fail(d, -EBADMSG, "no views");
        if (mp_left(&d->c) != 0)
                return fail(d, -EBADMSG, "trailing bytes after the payload");
        if (!s->stats.host)
                s->stats.host = "";
        s->version = d->version;
        if (d->version == SNAPSHOT_FORMAT_VERSION_BODIES) {
                if (!serve.p || !bodies)
                        return fail(d, -EBADMSG, "version 2 without serve and bodies");
                SnapshotBodies *b;
                r = snapshot_bodies_parse(&serve, s, bodies, bodies_len, &b, d->reason,
                                          d->reason_size);
                if (r < 0)
                        return r;
                if (mp_left(&serve) != 0)
                        return fail(d, -EBADMSG, "bodies: trailing bytes in serve");
                s->bodies = b;
        }
        return 0;
}

/* XXH3 of the payload; streamed in chunks with a coop point between them for a thread
 * that cooperates (12 MB take 1.8 ms), the same hash either way. */
static uint64_t checksum(const void *p, size_t len)
{
        if (coop_chunk(len) == len)
                return XXH3_64bits(p, len);
        XXH3_state_t st;
        XXH3_INITSTATE(&st);
        XXH3_64bits_reset(&st);
        for (size_t at = 0; at < len;) {
                size_t n = coop_chunk(len - at);
                XXH3_64bits_update(&st, (const char *)p + at, n);
                at += n;
                coop_point();
        }
        return XXH3_64bits_digest(&st);
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
        if (version != SNAPSHOT_FORMAT_VERSION && version != SNAPSHOT_FORMAT_VERSION_BODIES)
                return fail(d, -EPROTONOSUPPORT, "format version %" PRIu64 " (supported: %d, %d)",
                            version, SNAPSHOT_FORMAT_VERSION, SNAPSHOT_FORMAT_VERSION_BODIES);
        d->version = (unsigned)version;
        if (mp_read_bin(&c, &payload, &payload_len) < 0)
                return fail(d, -EBADMSG, "truncated payload");
        if (mp_left(&c) != 9 || *c.p != 0xcf || mp_read_u64(&c, &sum) < 0)
                return fail(d, -EBADMSG, "truncated or malformed checksum");
        if (checksum(payload, payload_len) != sum)
                return fail(d, -EBADMSG, "checksum mismatch");
        mp_cursor_init(&d->c, payload, payload_len);
        return 0;
}

static int read_into_arena(Arena *a, const void *buf, size_t len, unsigned flags, Snapshot **ret,
                           char *reason, size_t reason_size)
{
        Snapshot *s = arena_new0(a, Snapshot, 1);
        if (!s)
                return -ENOMEM;
        s->arena = a;
        s->file_bytes = len;
        Decoder d = {.arena = a, .reason = reason, .reason_size = reason_size, .flags = flags};
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
        r = read_into_arena(a, copy, len, 0, ret, reason, reason_size);
        if (r < 0)
                return r;
        TAKE_PTR(a);
        return 0;
}

/* Opens dir/name as a snapshot may be: a regular file of at most max_bytes. */
static int open_file(Decoder *d, int dirfd, const char *name, uint64_t max_bytes, int *ret_fd,
                     size_t *ret_len)
{
        /* O_NONBLOCK: a FIFO with a snapshot's name must not block the loader;
         * O_NOFOLLOW: a symlink (say to /dev/zero) is refused outright. */
        _cleanup_close_ int fd =
            openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return fail(d, -errno, "cannot open: %s", strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0)
                return fail(d, -errno, "cannot stat: %s", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return fail(d, -EBADMSG, "not a regular file");
        if ((uint64_t)st.st_size > max_bytes)
                return fail(d, -EFBIG, "file is %lld bytes, limit %" PRIu64, (long long)st.st_size,
                            max_bytes);
        *ret_len = (size_t)st.st_size;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Reads exactly the size stat saw: a file still growing is judged on that prefix and
 * fails its checksum, it cannot keep us reading. */
static int read_exact(Decoder *d, int fd, char *buf, size_t len)
{
        int r = read_file_exact(fd, buf, len);
        if (r == READ_FILE_SHRANK)
                return fail(d, -EBADMSG, "file shrank while reading");
        if (r < 0)
                return fail(d, r, "read error: %s", strerror(-r));
        return 0;
}

int snapshot_read_file(int dirfd, const char *name, uint64_t max_bytes, Snapshot **ret,
                       char *reason, size_t reason_size)
{
        Decoder d = {.reason = reason, .reason_size = reason_size};
        _cleanup_close_ int fd = -1;
        size_t len;
        int r = open_file(&d, dirfd, name, max_bytes, &fd, &len);
        if (r < 0)
                return r;
        _cleanup_(arena_freep) Arena *a = NULL;
        r = arena_new(&a);
        if (r < 0)
                return r;
        char *buf = arena_alloc(a, len, 16);
        if (!buf)
                return fail(&d, -ENOMEM, "out of memory");
        r = read_exact(&d, fd, buf, len);
        if (r < 0)
                return r;
        r = read_into_arena(a, buf, len, 0, ret, reason, reason_size);
        if (r < 0)
                return r;
        TAKE_PTR(a);
        return 0;
}

/* An image of SIZE bytes, in transparent huge pages where it spans them: vmsplice()
 * pins a huge page's 4 KiB pieces with one page-table walk instead of one each, and the
 * whole view (4.8 MB) cost bench/body-send's splice mode 240-281 us of CPU per answer
 * against 285-314 us from 4 KiB pages (4 interleaved pairs at c50, loaded). The mapping
 * starts on a 2 MiB boundary (mapped larger, the ends cut off) so the most of it is huge;
 * the tail past the last boundary stays in small pages. */
#define HUGE_PAGE ((size_t)2 << 20)
static void *image_map(size_t size)
{
        int prot = PROT_READ | PROT_WRITE, flags = MAP_PRIVATE | MAP_ANONYMOUS;
        if (size < 2 * HUGE_PAGE) {
                void *p = mmap(NULL, size, prot, flags, -1, 0);
                return p == MAP_FAILED ? NULL : p;
        }
        size_t pg = (size_t)sysconf(_SC_PAGESIZE);
        size = (size + pg - 1) & ~(pg - 1);
        char *m = mmap(NULL, size + HUGE_PAGE, prot, flags, -1, 0);
        if (m == MAP_FAILED)
                return NULL;
        char *p = (char *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
        if (p > m)
                munmap(m, (size_t)(p - m));
        if (m + HUGE_PAGE > p)
                munmap(p + size, (size_t)(m + HUGE_PAGE - p));
        (void)madvise(p, size, MADV_HUGEPAGE); /* refused where THP is off: small pages */
        return p;
}

int snapshot_read_file_image(int dirfd, const char *name, uint64_t max_bytes, unsigned flags,
                             Snapshot **ret, void **ret_image, size_t *ret_size, char *reason,
                             size_t reason_size)
{
        Decoder d = {.reason = reason, .reason_size = reason_size};
        _cleanup_close_ int fd = -1;
        size_t len;
        int r = open_file(&d, dirfd, name, max_bytes, &fd, &len);
        if (r < 0)
                return r;
        size_t size = MAX(len, (size_t)1);
        void *image = image_map(size);
        if (!image)
                return fail(&d, -ENOMEM, "out of memory");
        /* one call faults the pages in, instead of one fault per page inside read (5.14+);
         * in chunks for a cooperating thread (coop.h) */
        for (size_t at = 0; at < size;) {
                size_t n = coop_chunk(size - at);
                (void)madvise((char *)image + at, n, MADV_POPULATE_WRITE);
                at += n;
                coop_point();
        }
        _cleanup_(arena_freep) Arena *a = NULL;
        r = arena_new(&a);
        if (r >= 0)
                r = read_exact(&d, fd, image, len);
        if (r >= 0)
                r = read_into_arena(a, image, len, flags, ret, reason, reason_size);
        if (r < 0) {
                munmap(image, size);
                return r;
        }
        TAKE_PTR(a);
        *ret_image = image;
        *ret_size = size;
        return 0;
}

Snapshot *snapshot_free(Snapshot *s)
{
        if (s)
                arena_free(s->arena); /* s itself lives in the arena */
        return NULL;
}
