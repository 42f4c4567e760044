/* First slice of the engine: one thread, whole files mapped, count and sum per group. */
#include "engine.h"

#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "csv.h"
#include "log.h"
#include "numparse.h"
#include "snapshot_write.h"
#include "timeparse.h"

typedef struct Group {
        char *key; /* encoded */
        size_t key_len;
        uint64_t count;
        double *sums;
        int64_t *isums;
} Group;

typedef struct ViewState {
        const ViewConfig *view;
        Group *groups;
        size_t n_groups, cap;
} ViewState;

static void encode_key(const ViewConfig *v, const Value *row, char *buf, size_t *len)
{
        size_t n = 0;
        for (size_t i = 0; i < v->n_group_by; i++) {
                const Value *x = &row[v->group_by[i]];
                buf[n++] = (char)x->type;
                if (x->type == VALUE_STR) {
                        memcpy(buf + n, &x->len, 4);
                        n += 4;
                        memcpy(buf + n, x->s, x->len);
                        n += x->len;
                } else if (x->type != VALUE_NIL) {
                        memcpy(buf + n, &x->i, 8);
                        n += 8;
                }
        }
        *len = n;
}

static Group *find_group(ViewState *vs, const char *key, size_t len)
{
        for (size_t i = 0; i < vs->n_groups; i++)
                if (vs->groups[i].key_len == len && memcmp(vs->groups[i].key, key, len) == 0)
                        return &vs->groups[i];
        if (vs->n_groups == vs->cap) {
                size_t cap = vs->cap ? vs->cap * 2 : 16;
                Group *g = realloc(vs->groups, cap * sizeof(Group));
                if (!g)
                        return NULL;
                vs->groups = g;
                vs->cap = cap;
        }
        Group *g = &vs->groups[vs->n_groups];
        *g = (Group){.key = malloc(len + 1), .key_len = len};
        g->sums = calloc(vs->view->n_aggregates, sizeof(double));
        g->isums = calloc(vs->view->n_aggregates, sizeof(int64_t));
        if (!g->key || !g->sums || !g->isums)
                return NULL;
        memcpy(g->key, key, len);
        vs->n_groups++;
        return g;
}

static int parse_cell(ValueType t, const CsvField *f, Value *out)
{
        if (f->len == 0 && !f->quoted) {
                *out = (Value){.type = VALUE_NIL};
                return 0;
        }
        out->type = (uint8_t)t;
        switch (t) {
        case VALUE_STR:
                out->s = f->p;
                out->len = f->len;
                return 0;
        case VALUE_INT: return parse_int_field(f->p, f->len, &out->i);
        case VALUE_NUM: return parse_num_field(f->p, f->len, &out->d);
        case VALUE_TIME: return parse_time_usec(f->p, f->len, &out->i);
        default: return -EINVAL;
        }
}

static int run_source(const Config *cfg, size_t si, ViewState *views, SnapshotSource *stats)
{
        const SourceConfig *s = &cfg->sources[si];
        glob_t g = {};
        if (glob(s->path, GLOB_ERR, NULL, &g) != 0 || g.gl_pathc == 0) {
                globfree(&g);
                log_error("source %s: no input matches '%s'", s->name, s->path);
                return -ENOENT;
        }
        int r = 0;
        for (size_t fi = 0; fi < g.gl_pathc && r >= 0; fi++) {
                const char *path = g.gl_pathv[fi];
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0) {
                        r = log_error_errno(errno, "%s: cannot open: %m", path);
                        break;
                }
                stats->files++;
                if (st.st_size == 0)
                        continue;
                char *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
                if (map == MAP_FAILED) {
                        r = log_error_errno(errno, "%s: cannot map: %m", path);
                        break;
                }
                CsvCursor c;
                CsvField fields[CONFIG_MAX_COLUMNS * 2];
                int colmap[CONFIG_MAX_COLUMNS * 2];
                size_t n;
                csv_cursor_init(&c, map, (size_t)st.st_size, true);
                int k = csv_next(&c, fields, ELEMENTSOF(fields), &n);
                if (k != CSV_RECORD) {
                        munmap(map, (size_t)st.st_size);
                        continue;
                }
                size_t n_header = n;
                for (size_t i = 0; i < MIN(n, ELEMENTSOF(colmap)); i++) {
                        colmap[i] = -1;
                        for (size_t j = 0; j < s->n_columns; j++)
                                if (strlen(s->columns[j].name) == fields[i].len &&
                                    memcmp(s->columns[j].name, fields[i].p, fields[i].len) == 0)
                                        colmap[i] = (int)j;
                }
                for (size_t j = 0; j < s->n_columns; j++) {
                        bool found = false;
                        for (size_t i = 0; i < MIN(n, ELEMENTSOF(colmap)); i++)
                                found |= colmap[i] == (int)j;
                        if (!found) {
                                log_error("%s: column '%s' of source '%s' is missing from the "
                                          "header",
                                          path, s->columns[j].name, s->name);
                                r = ENGINE_BAD_CONFIG;
                        }
                }
                while (r == 0) {
                        k = csv_next(&c, fields, ELEMENTSOF(fields), &n);
                        if (k == CSV_END)
                                break;
                        if (k == -ENOMEM) {
                                r = -ENOMEM;
                                break;
                        }
                        stats->rows_read++;
                        if (k != CSV_RECORD || n != n_header) {
                                stats->rows_rejected++;
                                continue;
                        }
                        Value row[CONFIG_MAX_COLUMNS];
                        bool bad = false;
                        for (size_t i = 0; i < n && !bad; i++)
                                if (colmap[i] >= 0)
                                        bad = parse_cell(s->columns[colmap[i]].type, &fields[i],
                                                         &row[colmap[i]]) < 0;
                        if (bad) {
                                stats->rows_rejected++;
                                continue;
                        }
                        for (size_t vi = 0; vi < cfg->n_views; vi++) {
                                const ViewConfig *v = views[vi].view;
                                if (v->source != si)
                                        continue;
                                char key[8192];
                                size_t klen;
                                encode_key(v, row, key, &klen);
                                Group *gr = find_group(&views[vi], key, klen);
                                if (!gr) {
                                        r = -ENOMEM;
                                        break;
                                }
                                gr->count++;
                                for (size_t a = 0; a < v->n_aggregates; a++) {
                                        const AggregateDef *ad = &v->aggregates[a];
                                        if (ad->kind != AGG_SUM)
                                                continue;
                                        const Value *x = &row[ad->column];
                                        if (x->type == VALUE_INT)
                                                gr->isums[a] += x->i;
                                        else if (x->type == VALUE_NUM)
                                                gr->sums[a] += x->d;
                                }
                        }
                }
                csv_cursor_done(&c);
                munmap(map, (size_t)st.st_size);
        }
        globfree(&g);
        return r;
}

static const ViewConfig *sort_view;
static int cmp_group(const void *a, const void *b)
{
        const Group *x = a, *y = b;
        size_t n = MIN(x->key_len, y->key_len);
        int c = memcmp(x->key, y->key, n);
        (void)sort_view;
        return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static int write_view(SnapshotWriter *w, const Config *cfg, ViewState *vs)
{
        const ViewConfig *v = vs->view;
        const SourceConfig *s = &cfg->sources[v->source];
        SnapshotColumn cols[CONFIG_MAX_COLUMNS + 64];
        size_t nc = 0;
        for (size_t i = 0; i < v->n_group_by; i++)
                cols[nc++] = (SnapshotColumn){s->columns[v->group_by[i]].name,
                                              s->columns[v->group_by[i]].type};
        for (size_t a = 0; a < v->n_aggregates; a++) {
                const AggregateDef *ad = &v->aggregates[a];
                ValueType t = VALUE_NUM;
                if (ad->kind == AGG_COUNT || ad->kind == AGG_DISTINCT ||
                    ad->kind == AGG_APPROX_DISTINCT)
                        t = VALUE_INT;
                else if (ad->kind == AGG_SUM || ad->kind == AGG_MIN || ad->kind == AGG_MAX)
                        t = s->columns[ad->column].type;
                cols[nc++] = (SnapshotColumn){ad->label, t};
        }
        if (v->n_group_by == 0 && vs->n_groups == 0 && !find_group(vs, "", 0))
                return -ENOMEM;
        qsort(vs->groups, vs->n_groups, sizeof(Group), cmp_group);
        int r = snapshot_writer_begin_view(w, v->name, v->n_group_by, nc, cols, vs->n_groups);
        for (size_t gi = 0; gi < vs->n_groups && r >= 0; gi++) {
                Group *g = &vs->groups[gi];
                size_t off = 0;
                for (size_t i = 0; i < v->n_group_by; i++) {
                        uint8_t t = (uint8_t)g->key[off++];
                        if (t == VALUE_NIL)
                                r = snapshot_writer_put_nil(w);
                        else if (t == VALUE_STR) {
                                uint32_t len;
                                memcpy(&len, g->key + off, 4);
                                r = snapshot_writer_put_str(w, g->key + off + 4, len);
                                off += 4 + len;
                        } else {
                                Value x = {.type = t};
                                memcpy(&x.i, g->key + off, 8);
                                off += 8;
                                r = snapshot_writer_put_value(w, &x);
                        }
                }
                for (size_t a = 0; a < v->n_aggregates && r >= 0; a++) {
                        const AggregateDef *ad = &v->aggregates[a];
                        if (ad->kind == AGG_COUNT)
                                r = snapshot_writer_put_int(w, (int64_t)g->count);
                        else if (ad->kind == AGG_SUM && cols[v->n_group_by + a].type == VALUE_INT)
                                r = snapshot_writer_put_int(w, g->isums[a]);
                        else if (ad->kind == AGG_SUM)
                                r = snapshot_writer_put_num(w, g->sums[a]);
                        else
                                r = snapshot_writer_put_nil(w);
                }
        }
        if (r >= 0)
                r = snapshot_writer_end_view(w);
        return r;
}

int engine_run(const Config *cfg, uint64_t deadline_usec, EngineResult *ret)
{
        _cleanup_(snapshot_writer_freep) SnapshotWriter *w = NULL;
        int r = snapshot_writer_new(&w);
        if (r < 0)
                return r;
        ViewState *views = calloc(cfg->n_views + 1, sizeof(ViewState));
        if (!views)
                return -ENOMEM;
        for (size_t i = 0; i < cfg->n_views; i++)
                views[i].view = &cfg->views[i];
        for (size_t si = 0; si < cfg->n_sources && r == 0; si++) {
                SnapshotSource st = {.name = cfg->sources[si].name, .type = "csv"};
                r = run_source(cfg, si, views, &st);
                ret->rows_read += st.rows_read;
                ret->rows_rejected += st.rows_rejected;
                if (r == 0) {
                        r = snapshot_writer_add_source(w, &st);
                        if (st.rows_read > 0 && (double)st.rows_rejected / (double)st.rows_read >
                                                    cfg->sources[si].max_bad_ratio) {
                                log_struct(LOG_ERR, 0, MSGID_BAD_ROWS, LOG_NO_FIELDS,
                                           "source %s: %" PRIu64 " of %" PRIu64
                                           " rows malformed, above max_bad_ratio",
                                           st.name, st.rows_rejected, st.rows_read);
                                r = ENGINE_BAD_ROWS;
                        }
                }
        }
        for (size_t i = 0; i < cfg->n_views && r == 0; i++)
                r = write_view(w, cfg, &views[i]);
        if (r == 0) {
                SnapshotStats stats = {.rows_read = ret->rows_read,
                                       .rows_rejected = ret->rows_rejected};
                snapshot_writer_set_stats(w, &stats);
                r = snapshot_writer_publish(w, cfg->snapshot_dir, cfg->keep, deadline_usec,
                                            &ret->generation, &ret->bytes);
                if (r < 0)
                        log_error_errno(r, "cannot publish snapshot into %s: %m",
                                        cfg->snapshot_dir);
        }
        for (size_t i = 0; i < cfg->n_views; i++) {
                for (size_t g = 0; g < views[i].n_groups; g++) {
                        free(views[i].groups[g].key);
                        free(views[i].groups[g].sums);
                        free(views[i].groups[g].isums);
                }
                free(views[i].groups);
        }
        free(views);
        return r;
}
