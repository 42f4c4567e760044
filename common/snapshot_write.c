#include "snapshot_write.h"

#include <fcntl.h>
#include <inttypes.h>
#include <msgpack.h>
#include <xxhash.h>

#include "snapshot_dir.h"

struct SnapshotWriter {
        SnapshotStats stats;
        char *host;

        msgpack_sbuffer sources_buf;
        msgpack_packer sources_pk;
        size_t n_sources;

        msgpack_sbuffer views_buf;
        msgpack_packer views_pk;
        size_t n_views;

        /* the view being written */
        bool in_view;
        size_t n_columns;
        ValueType types[SNAPSHOT_MAX_COLUMNS];
        uint64_t cells_left;
        uint64_t cell_index;
        bool failed; /* an allocation inside msgpack failed; publishing is refused */
        SnapshotTransform transform;
        uint64_t transform_max_bytes;
        bool transform_skipped;
        SnapshotBufferWrite write;
};

int snapshot_writer_new(SnapshotWriter **ret)
{
        SnapshotWriter *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        snapshot_writer_set_buffer_write(w, NULL);
        *ret = w;
        return 0;
}

void snapshot_writer_set_buffer_write(SnapshotWriter *w, SnapshotBufferWrite write)
{
        w->write = write ? write : msgpack_sbuffer_write;
        msgpack_sbuffer_destroy(&w->sources_buf);
        msgpack_sbuffer_destroy(&w->views_buf);
        msgpack_sbuffer_init(&w->sources_buf);
        msgpack_packer_init(&w->sources_pk, &w->sources_buf, w->write);
        msgpack_sbuffer_init(&w->views_buf);
        msgpack_packer_init(&w->views_pk, &w->views_buf, w->write);
}

SnapshotWriter *snapshot_writer_free(SnapshotWriter *w)
{
        if (!w)
                return NULL;
        msgpack_sbuffer_destroy(&w->sources_buf);
        msgpack_sbuffer_destroy(&w->views_buf);
        free(w->host);
        free(w);
        return NULL;
}

/* msgpack_pack_* return 0 or -1 (the buffer could not grow); these return the same, so a
 * sequence of them is checked with one `r |= ...` each. */
static int pack_cstr(msgpack_packer *pk, const char *s)
{
        size_t len = s ? strlen(s) : 0;
        return msgpack_pack_str_with_body(pk, s ? s : "", len);
}

static int pack_key_u64(msgpack_packer *pk, const char *key, uint64_t v)
{
        return pack_cstr(pk, key) | msgpack_pack_uint64(pk, v);
}

static int pack_key_str(msgpack_packer *pk, const char *key, const char *v)
{
        return pack_cstr(pk, key) | pack_cstr(pk, v);
}

static int checked(SnapshotWriter *w, int r)
{
        if (r != 0)
                w->failed = true;
        return r != 0 ? -ENOMEM : 0;
}

void snapshot_writer_set_stats(SnapshotWriter *w, const SnapshotStats *stats)
{
        w->stats = *stats;
        free(w->host);
        w->host = stats->host ? strdup(stats->host) : NULL;
        if (stats->host && !w->host)
                w->failed = true; /* publishing says -ENOMEM rather than drop the host */
        w->stats.host = w->host;
}

int snapshot_writer_add_source(SnapshotWriter *w, const SnapshotSource *src)
{
        if (w->n_sources >= SNAPSHOT_MAX_SOURCES)
                return -E2BIG;
        msgpack_packer *pk = &w->sources_pk;
        int r = msgpack_pack_map(pk, 5);
        r |= pack_key_str(pk, "name", src->name);
        r |= pack_key_str(pk, "type", src->type);
        r |= pack_key_u64(pk, "files", src->files);
        r |= pack_key_u64(pk, "rows_read", src->rows_read);
        r |= pack_key_u64(pk, "rows_rejected", src->rows_rejected);
        w->n_sources++;
        return checked(w, r);
}

int snapshot_writer_begin_view(SnapshotWriter *w, const char *name, size_t n_keys, size_t n_columns,
                               const SnapshotColumn *columns, size_t n_rows)
{
        if (w->in_view || n_columns > SNAPSHOT_MAX_COLUMNS || n_keys > n_columns ||
            w->n_views >= SNAPSHOT_MAX_VIEWS || strlen(name) > SNAPSHOT_MAX_NAME_BYTES ||
            n_rows > UINT32_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n_columns; i++)
                if (columns[i].type <= VALUE_NIL || columns[i].type >= _VALUE_TYPE_MAX ||
                    strlen(columns[i].name) > SNAPSHOT_MAX_NAME_BYTES)
                        return -EINVAL;

        msgpack_packer *pk = &w->views_pk;
        int r = msgpack_pack_map(pk, 4);
        r |= pack_key_str(pk, "name", name);
        r |= pack_key_u64(pk, "keys", n_keys);
        r |= pack_cstr(pk, "columns");
        r |= msgpack_pack_array(pk, n_columns);
        for (size_t i = 0; i < n_columns; i++) {
                r |= msgpack_pack_array(pk, 2);
                r |= pack_cstr(pk, columns[i].name);
                r |= pack_cstr(pk, value_type_to_string(columns[i].type));
                w->types[i] = columns[i].type;
        }
        r |= pack_cstr(pk, "rows");
        r |= msgpack_pack_array(pk, n_rows);
        w->in_view = true;
        w->n_columns = n_columns;
        w->cells_left = (uint64_t)n_rows * n_columns;
        w->cell_index = 0;
        return checked(w, r);
}

/* Starts the next cell: opens a row array at each row boundary and checks the type. */
static int cell_begin(SnapshotWriter *w, ValueType t)
{
        if (!w->in_view || w->cells_left == 0 || w->n_columns == 0)
                return -EINVAL;
        size_t col = w->cell_index % w->n_columns;
        if (t != VALUE_NIL && t != w->types[col])
                return -EINVAL;
        if (col == 0 && msgpack_pack_array(&w->views_pk, w->n_columns) != 0)
                return checked(w, -1);
        w->cell_index++;
        w->cells_left--;
        return 0;
}

int snapshot_writer_put_nil(SnapshotWriter *w)
{
        int r = cell_begin(w, VALUE_NIL);
        return r < 0 ? r : checked(w, msgpack_pack_nil(&w->views_pk));
}

int snapshot_writer_put_str(SnapshotWriter *w, const char *s, size_t len)
{
        int r = cell_begin(w, VALUE_STR);
        return r < 0 ? r : checked(w, msgpack_pack_str_with_body(&w->views_pk, s, len));
}

int snapshot_writer_put_int(SnapshotWriter *w, int64_t v)
{
        int r = cell_begin(w, VALUE_INT);
        return r < 0 ? r : checked(w, msgpack_pack_int64(&w->views_pk, v));
}

int snapshot_writer_put_num(SnapshotWriter *w, double v)
{
        int r = cell_begin(w, VALUE_NUM);
        return r < 0 ? r : checked(w, msgpack_pack_double(&w->views_pk, v));
}

int snapshot_writer_put_time(SnapshotWriter *w, int64_t usec)
{
        int r = cell_begin(w, VALUE_TIME);
        return r < 0 ? r : checked(w, msgpack_pack_int64(&w->views_pk, usec));
}

int snapshot_writer_put_value(SnapshotWriter *w, const Value *v)
{
        switch (v->type) {
        case VALUE_STR: return snapshot_writer_put_str(w, v->s, v->len);
        case VALUE_INT: return snapshot_writer_put_int(w, v->i);
        case VALUE_NUM: return snapshot_writer_put_num(w, v->d);
        case VALUE_TIME: return snapshot_writer_put_time(w, v->i);
        default: return snapshot_writer_put_nil(w);
        }
}

int snapshot_writer_end_view(SnapshotWriter *w)
{
        if (!w->in_view || w->cells_left != 0)
                return -EINVAL;
        w->in_view = false;
        w->n_views++;
        return 0;
}

static int pack_payload(SnapshotWriter *w, msgpack_packer *pk, uint64_t generation,
                        int64_t created_usec)
{
        int r = msgpack_pack_map(pk, 5);
        r |= pack_key_u64(pk, "generation", generation);
        r |= pack_cstr(pk, "created_usec") | msgpack_pack_int64(pk, created_usec);
        r |= pack_cstr(pk, "worker") | msgpack_pack_map(pk, w->stats.has_usage ? 7 : 4);
        r |= pack_key_u64(pk, "rows_read", w->stats.rows_read);
        r |= pack_key_u64(pk, "rows_rejected", w->stats.rows_rejected);
        r |= pack_key_u64(pk, "duration_ms", w->stats.duration_ms);
        r |= pack_key_str(pk, "host", w->stats.host);
        if (w->stats.has_usage) {
                r |= pack_key_u64(pk, "peak_rss_kib", w->stats.peak_rss_kib);
                r |= pack_key_u64(pk, "cpu_ms", w->stats.cpu_ms);
                r |= pack_key_u64(pk, "wall_ms", w->stats.wall_ms);
        }
        r |= pack_cstr(pk, "sources") | msgpack_pack_array(pk, w->n_sources);
        r |= w->write(pk->data, w->sources_buf.data, w->sources_buf.size);
        r |= pack_cstr(pk, "views") | msgpack_pack_array(pk, w->n_views);
        r |= w->write(pk->data, w->views_buf.data, w->views_buf.size);
        return r;
}

/* The file: [format name, version, payload as bin, checksum of the payload]. */
static int pack_file(SnapshotWriter *w, msgpack_packer *pk, const msgpack_sbuffer *payload)
{
        int r = msgpack_pack_array(pk, 4);
        r |= pack_cstr(pk, SNAPSHOT_FORMAT_NAME);
        r |= msgpack_pack_uint64(pk, SNAPSHOT_FORMAT_VERSION);
        r |= msgpack_pack_bin_with_body(pk, payload->data, payload->size);
        /* A fixed-width uint64 keeps the file size independent of the checksum value. */
        unsigned char tail[9] = {0xcf};
        uint64_t sum = XXH3_64bits(payload->data ? payload->data : "", payload->size);
        for (int i = 0; i < 8; i++)
                tail[1 + i] = (unsigned char)(sum >> (56 - 8 * i));
        r |= w->write(pk->data, (const char *)tail, sizeof(tail));
        return r;
}

int snapshot_writer_encode(SnapshotWriter *w, uint64_t generation, int64_t created_usec,
                           void **ret_buf, size_t *ret_len)
{
        if (w->failed) /* first: a failed cell also leaves its view unfinished */
                return -ENOMEM;
        if (w->in_view)
                return -EINVAL;
        msgpack_sbuffer payload, file;
        msgpack_sbuffer_init(&payload);
        msgpack_sbuffer_init(&file);
        msgpack_packer ppk, fpk;
        msgpack_packer_init(&ppk, &payload, w->write);
        msgpack_packer_init(&fpk, &file, w->write);
        int r = pack_payload(w, &ppk, generation, created_usec);
        if (r == 0)
                r = pack_file(w, &fpk, &payload);
        msgpack_sbuffer_destroy(&payload);
        if (r != 0 || !file.data) {
                msgpack_sbuffer_destroy(&file);
                return -ENOMEM;
        }
        *ret_len = file.size;
        *ret_buf = msgpack_sbuffer_release(&file);
        return 0;
}

void snapshot_writer_set_transform(SnapshotWriter *w, SnapshotTransform transform,
                                   uint64_t max_bytes)
{
        w->transform = transform;
        w->transform_max_bytes = max_bytes;
}

bool snapshot_writer_transform_skipped(const SnapshotWriter *w)
{
        return w->transform_skipped;
}

static bool deadline_passed(uint64_t deadline_usec)
{
        return deadline_usec != 0 && now_monotonic_usec() >= deadline_usec;
}

/* What publishing and installing start with: dir opened and locked (the lock lasts while
 * *ret_dirfd is open), dead writers' temp files removed, and the newest generation in it. */
static int open_locked(const char *dir, int *ret_dirfd, uint64_t *ret_newest)
{
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        int r = snapshot_dir_lock(dirfd);
        if (r < 0)
                return r;
        /* With the lock held no other writer is mid-write: any temp file is a dead one's. */
        (void)snapshot_dir_remove_stale_tmp(dirfd);
        r = snapshot_dir_newest(dirfd, ret_newest);
        if (r < 0)
                return r;
        *ret_dirfd = TAKE_FD(dirfd);
        return 0;
}

/* temp file, fsync, rename onto the generation's name, fsync the directory, then prune to
 * the newest keep (0: no pruning). The caller holds the directory lock (open_locked). */
static int write_and_rename(int dirfd, uint64_t generation, const void *buf, size_t len,
                            uint64_t deadline_usec, unsigned keep)
{
        int r;
        char tmp[SNAPSHOT_NAME_MAX + 32], final[SNAPSHOT_NAME_MAX];
        snprintf(tmp, sizeof(tmp), SNAPSHOT_TMP_PREFIX "%020" PRIu64 "-%d", generation,
                 (int)getpid());
        snapshot_name(final, sizeof(final), generation);

        int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (fd < 0)
                return -errno;
        r = write_all(fd, buf, len);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r >= 0)
                r = -errno;
        if (r >= 0 && deadline_passed(deadline_usec))
                r = -ETIME;
        if (r >= 0 && renameat(dirfd, tmp, dirfd, final) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                return r;
        }
        /* Without this the rename may not survive a power cut. */
        if (fsync(dirfd) < 0)
                return -errno;
        if (keep > 0)
                (void)snapshot_dir_prune(dirfd, keep);
        return 0;
}

int snapshot_writer_publish(SnapshotWriter *w, const char *dir, unsigned keep,
                            uint64_t deadline_usec, uint64_t *ret_generation, uint64_t *ret_bytes)
{
        _cleanup_close_ int dirfd = -1;
        uint64_t newest;
        int r = open_locked(dir, &dirfd, &newest);
        if (r < 0)
                return r;
        /* A file named with the largest generation (damaged, or planted) leaves no next
         * one: wrapping to 0 would publish a name every reader ignores, run after run. */
        if (newest == UINT64_MAX)
                return -EOVERFLOW;
        uint64_t generation = newest + 1;

        _cleanup_free_ void *buf = NULL;
        size_t len = 0;
        r = snapshot_writer_encode(w, generation, (int64_t)now_realtime_usec(), &buf, &len);
        if (r < 0)
                return r;
        w->transform_skipped = false;
        if (w->transform) {
                void *out;
                size_t out_len;
                r = w->transform(buf, len, &out, &out_len);
                if (r < 0)
                        return r;
                if (w->transform_max_bytes && out_len > w->transform_max_bytes) {
                        free(out);
                        w->transform_skipped = true;
                } else {
                        free(buf);
                        buf = out;
                        len = out_len;
                }
        }

        r = write_and_rename(dirfd, generation, buf, len, deadline_usec, keep);
        if (r < 0)
                return r;
        if (ret_generation)
                *ret_generation = generation;
        if (ret_bytes)
                *ret_bytes = len;
        return 0;
}

int snapshot_install(const char *dir, uint64_t generation, const void *buf, size_t len,
                     unsigned keep)
{
        _cleanup_close_ int dirfd = -1;
        uint64_t newest;
        int r = open_locked(dir, &dirfd, &newest);
        if (r < 0)
                return r;
        if (newest >= generation)
                return SNAPSHOT_INSTALL_NOT_NEWER;
        return write_and_rename(dirfd, generation, buf, len, 0, keep);
}
