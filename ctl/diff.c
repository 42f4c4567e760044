/* tallyctl diff A B: rows added, removed and changed per view, matched by key.
 *
 * Rows are matched on their key columns (the group-by), so a view's order does not
 * matter. A view without key columns is one global row when each side has at most one
 * row (its cells are compared), else its rows are matched on all their cells (only added
 * and removed then). Non-key columns are matched by name; a column present on one side
 * only is reported as such and its cells are not compared. Views whose key columns
 * differ are reported as not comparable (and as different). */
#include <inttypes.h>
#include <math.h>

#include "buf.h"
#include "ctl.h"
#include "doc.h"
#include "log.h"
#include "snapshot_read.h"

typedef struct Pair {
        size_t a, b;
} Pair;

typedef struct ViewDiff {
        const char *name;
        const SnapshotView *a, *b; /* either may be NULL: view only on one side */
        bool comparable;
        size_t n_key;    /* columns rows are matched on */
        size_t *col_map; /* a's column i -> b's column, or SIZE_MAX (not in b / type differs) */
        bool *b_matched; /* b's columns that some a column maps to */
        size_t n_cols_added, n_cols_removed;
        size_t *added, n_added;     /* rows of b */
        size_t *removed, n_removed; /* rows of a */
        Pair *changed;
        size_t n_changed;
} ViewDiff;

static void view_diff_done(ViewDiff *d)
{
        free(d->col_map);
        free(d->b_matched);
        free(d->added);
        free(d->removed);
        free(d->changed);
}

static int value_cmp(const Value *x, const Value *y)
{
        if (x->type != y->type)
                return x->type < y->type ? -1 : 1;
        switch (x->type) {
        case VALUE_STR: {
                int c = memcmp(x->s, y->s, MIN(x->len, y->len));
                return c ? c : x->len < y->len ? -1 : x->len > y->len;
        }
        case VALUE_INT:
        case VALUE_TIME: return x->i < y->i ? -1 : x->i > y->i;
        case VALUE_NUM:
                if (isnan(x->d) || isnan(y->d))
                        return isnan(x->d) - isnan(y->d);
                return x->d < y->d ? -1 : x->d > y->d;
        default: return 0;
        }
}

typedef struct SortCtx {
        const SnapshotView *v;
        size_t n_key;
} SortCtx;

static int key_cmp(const Value *x, const Value *y, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int c = value_cmp(&x[i], &y[i]);
                if (c)
                        return c;
        }
        return 0;
}

static int row_order(const void *p, const void *q, void *arg)
{
        const SortCtx *s = arg;
        size_t i = *(const size_t *)p, j = *(const size_t *)q;
        int c = key_cmp(snapshot_view_row(s->v, i), snapshot_view_row(s->v, j), s->n_key);
        return c ? c : i < j ? -1 : i > j; /* duplicates pair up in file order */
}

static size_t *sorted_rows(const SnapshotView *v, size_t n_key)
{
        size_t *o = malloc(MAX(v->n_rows, 1u) * sizeof(*o));
        if (!o)
                return NULL;
        for (size_t i = 0; i < v->n_rows; i++)
                o[i] = i;
        SortCtx ctx = {v, n_key};
        qsort_r(o, v->n_rows, sizeof(*o), row_order, &ctx);
        return o;
}

static bool same_columns(const SnapshotView *a, const SnapshotView *b, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(a->columns[i].name, b->columns[i].name) != 0 ||
                    a->columns[i].type != b->columns[i].type)
                        return false;
        return true;
}

static bool row_changed(const ViewDiff *d, size_t ra, size_t rb)
{
        const Value *x = snapshot_view_row(d->a, ra), *y = snapshot_view_row(d->b, rb);
        for (size_t i = d->n_key; i < d->a->n_columns; i++)
                if (d->col_map[i] != SIZE_MAX && value_cmp(&x[i], &y[d->col_map[i]]) != 0)
                        return true;
        return false;
}

static int compare_view(ViewDiff *d)
{
        const SnapshotView *a = d->a, *b = d->b;
        if (a->n_keys != b->n_keys || !same_columns(a, b, a->n_keys))
                return 0; /* not comparable */
        d->n_key = a->n_keys;
        if (d->n_key == 0 && (a->n_rows > 1 || b->n_rows > 1)) {
                if (a->n_columns != b->n_columns || !same_columns(a, b, a->n_columns))
                        return 0;
                d->n_key = a->n_columns;
        }
        d->comparable = true;
        d->col_map = malloc(MAX(a->n_columns, 1u) * sizeof(size_t));
        d->b_matched = calloc(MAX(b->n_columns, 1u), sizeof(bool));
        if (!d->col_map || !d->b_matched)
                return -ENOMEM;
        for (size_t i = 0; i < a->n_columns; i++) {
                d->col_map[i] = SIZE_MAX;
                for (size_t j = 0; j < b->n_columns; j++)
                        if (strcmp(a->columns[i].name, b->columns[j].name) == 0 &&
                            a->columns[i].type == b->columns[j].type) {
                                d->col_map[i] = j;
                                d->b_matched[j] = true;
                                break;
                        }
                d->n_cols_removed += d->col_map[i] == SIZE_MAX;
        }
        for (size_t j = 0; j < b->n_columns; j++)
                d->n_cols_added += !d->b_matched[j];

        _cleanup_free_ size_t *oa = sorted_rows(a, d->n_key), *ob = sorted_rows(b, d->n_key);
        d->added = malloc(MAX(b->n_rows, 1u) * sizeof(size_t));
        d->removed = malloc(MAX(a->n_rows, 1u) * sizeof(size_t));
        d->changed = malloc(MAX(MIN(a->n_rows, b->n_rows), 1u) * sizeof(Pair));
        if (!oa || !ob || !d->added || !d->removed || !d->changed)
                return -ENOMEM;
        size_t i = 0, j = 0;
        while (i < a->n_rows || j < b->n_rows) {
                int c = i == a->n_rows   ? 1
                        : j == b->n_rows ? -1
                                         : key_cmp(snapshot_view_row(a, oa[i]),
                                                   snapshot_view_row(b, ob[j]), d->n_key);
                if (c < 0)
                        d->removed[d->n_removed++] = oa[i++];
                else if (c > 0)
                        d->added[d->n_added++] = ob[j++];
                else {
                        if (row_changed(d, oa[i], ob[j]))
                                d->changed[d->n_changed++] = (Pair){oa[i], ob[j]};
                        i++;
                        j++;
                }
        }
        return 0;
}

static bool view_differs(const ViewDiff *d)
{
        return !d->a || !d->b || !d->comparable || d->n_added || d->n_removed || d->n_changed ||
               d->n_cols_added || d->n_cols_removed;
}

/* Text: "name=value" pairs; JSON spells the same cells as tallyd. */
static void print_cells(const SnapshotView *v, const Value *row, size_t from, size_t to)
{
        char t[256];
        for (size_t i = from; i < to; i++) {
                ctl_cell_text(t, sizeof(t), &row[i]);
                printf("%s%s=%s", i > from ? ", " : "", v->columns[i].name, t);
        }
}

static void print_text(const ViewDiff *d)
{
        if (!d->b) {
                printf("view %s: only in A (%zu rows)\n", d->name, d->a->n_rows);
                return;
        }
        if (!d->a) {
                printf("view %s: only in B (%zu rows)\n", d->name, d->b->n_rows);
                return;
        }
        if (!d->comparable) {
                printf("view %s: key columns differ, rows not compared\n", d->name);
                return;
        }
        if (!view_differs(d)) {
                printf("view %s: equal (%zu rows)\n", d->name, d->a->n_rows);
                return;
        }
        printf("view %s: %zu added, %zu removed, %zu changed\n", d->name, d->n_added, d->n_removed,
               d->n_changed);
        for (size_t i = 0; i < d->a->n_columns; i++)
                if (d->col_map[i] == SIZE_MAX)
                        printf("  column %s: only in A\n", d->a->columns[i].name);
        for (size_t j = 0; j < d->b->n_columns; j++)
                if (!d->b_matched[j])
                        printf("  column %s: only in B\n", d->b->columns[j].name);
        size_t key_show = d->n_key ? d->n_key : 0;
        for (size_t i = 0; i < d->n_removed; i++) {
                printf("  - ");
                print_cells(d->a, snapshot_view_row(d->a, d->removed[i]), 0, d->a->n_columns);
                putchar('\n');
        }
        for (size_t i = 0; i < d->n_added; i++) {
                printf("  + ");
                print_cells(d->b, snapshot_view_row(d->b, d->added[i]), 0, d->b->n_columns);
                putchar('\n');
        }
        for (size_t i = 0; i < d->n_changed; i++) {
                const Value *x = snapshot_view_row(d->a, d->changed[i].a),
                            *y = snapshot_view_row(d->b, d->changed[i].b);
                printf("  ~ ");
                if (key_show)
                        print_cells(d->a, x, 0, key_show);
                else
                        printf("(global row)");
                const char *sep = ": ";
                for (size_t c = d->n_key; c < d->a->n_columns; c++) {
                        size_t cb = d->col_map[c];
                        if (cb == SIZE_MAX || value_cmp(&x[c], &y[cb]) == 0)
                                continue;
                        char t1[256], t2[256];
                        ctl_cell_text(t1, sizeof(t1), &x[c]);
                        ctl_cell_text(t2, sizeof(t2), &y[cb]);
                        printf("%s%s %s -> %s", sep, d->a->columns[c].name, t1, t2);
                        sep = ", ";
                }
                putchar('\n');
        }
}

static void doc_row(Doc *doc, const SnapshotView *v, const Value *row, size_t n)
{
        doc_map(doc, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
                doc_key(doc, v->columns[i].name);
                doc_value(doc, &row[i]);
        }
        doc_end(doc);
}

static void doc_rows(Doc *doc, const char *key, const SnapshotView *v, const size_t *rows, size_t n)
{
        doc_key(doc, key);
        doc_array(doc, (uint32_t)n);
        for (size_t i = 0; i < n; i++)
                doc_row(doc, v, snapshot_view_row(v, rows[i]), v->n_columns);
        doc_end(doc);
}

/* JSON only: map sizes are not needed by the JSON writer and are given as 0. */
static void doc_view(Doc *doc, const ViewDiff *d)
{
        doc_map(doc, 0);
        doc_key(doc, "view");
        doc_cstr(doc, d->name);
        doc_key(doc, "status");
        doc_cstr(doc, !d->b             ? "only_in_a"
                      : !d->a           ? "only_in_b"
                      : !d->comparable  ? "not_comparable"
                      : view_differs(d) ? "different"
                                        : "equal");
        if (!d->a || !d->b || !d->comparable) {
                doc_end(doc);
                return;
        }
        doc_key(doc, "columns_only_in_a");
        doc_array(doc, (uint32_t)d->n_cols_removed);
        for (size_t i = 0; i < d->a->n_columns; i++)
                if (d->col_map[i] == SIZE_MAX)
                        doc_cstr(doc, d->a->columns[i].name);
        doc_end(doc);
        doc_key(doc, "columns_only_in_b");
        doc_array(doc, (uint32_t)d->n_cols_added);
        for (size_t j = 0; j < d->b->n_columns; j++)
                if (!d->b_matched[j])
                        doc_cstr(doc, d->b->columns[j].name);
        doc_end(doc);
        doc_rows(doc, "added", d->b, d->added, d->n_added);
        doc_rows(doc, "removed", d->a, d->removed, d->n_removed);
        doc_key(doc, "changed");
        doc_array(doc, (uint32_t)d->n_changed);
        for (size_t i = 0; i < d->n_changed; i++) {
                const Value *x = snapshot_view_row(d->a, d->changed[i].a),
                            *y = snapshot_view_row(d->b, d->changed[i].b);
                doc_map(doc, 2);
                doc_key(doc, "key");
                doc_row(doc, d->a, x, d->a->n_keys);
                doc_key(doc, "cells");
                doc_map(doc, 0);
                for (size_t c = d->n_key; c < d->a->n_columns; c++) {
                        size_t cb = d->col_map[c];
                        if (cb == SIZE_MAX || value_cmp(&x[c], &y[cb]) == 0)
                                continue;
                        doc_key(doc, d->a->columns[c].name);
                        doc_map(doc, 2);
                        doc_key(doc, "a");
                        doc_value(doc, &x[c]);
                        doc_key(doc, "b");
                        doc_value(doc, &y[cb]);
                        doc_end(doc);
                }
                doc_end(doc);
                doc_end(doc);
        }
        doc_end(doc);
        doc_end(doc);
}

static int add_view(ViewDiff **ds, size_t *n, const char *name, const SnapshotView *a,
                    const SnapshotView *b)
{
        ViewDiff *t = realloc(*ds, (*n + 1) * sizeof(**ds));
        if (!t)
                return -ENOMEM;
        *ds = t;
        t[*n] = (ViewDiff){.name = name, .a = a, .b = b};
        (*n)++;
        return a && b ? compare_view(&t[*n - 1]) : 0;
}

int ctl_diff(const Ctl *c, int argc, char **argv)
{
        _cleanup_(snapshot_freep) Snapshot *sa = NULL, *sb = NULL;
        char la[512], lb[512], reason[256];
        if (ctl_load(c, argv[0], &sa, la, sizeof(la), reason, sizeof(reason)) < 0) {
                log_error("A: %s: invalid: %s", la, reason);
                return CTL_EXIT_TROUBLE;
        }
        if (ctl_load(c, argv[1], &sb, lb, sizeof(lb), reason, sizeof(reason)) < 0) {
                log_error("B: %s: invalid: %s", lb, reason);
                return CTL_EXIT_TROUBLE;
        }
        ViewDiff *ds = NULL;
        size_t n = 0;
        int r = 0;
        for (size_t i = 0; i < sa->n_views && r >= 0; i++)
                if (!c->view || strcmp(c->view, sa->views[i].name) == 0)
                        r = add_view(&ds, &n, sa->views[i].name, &sa->views[i],
                                     snapshot_find_view(sb, sa->views[i].name));
        for (size_t i = 0; i < sb->n_views && r >= 0; i++)
                if ((!c->view || strcmp(c->view, sb->views[i].name) == 0) &&
                    !snapshot_find_view(sa, sb->views[i].name))
                        r = add_view(&ds, &n, sb->views[i].name, NULL, &sb->views[i]);
        if (r >= 0 && c->view && n == 0) {
                log_error("Neither snapshot has a view named '%s'", c->view);
                r = -ENOENT;
        }
        bool differ = false;
        for (size_t i = 0; i < n; i++)
                differ |= view_differs(&ds[i]);
        if (r >= 0 && c->json) {
                _cleanup_(buf_donep) Buf b = BUF_NULL;
                Doc doc;
                doc_init(&doc, &b, DOC_JSON);
                doc_map(&doc, 4);
                doc_key(&doc, "a");
                doc_uint(&doc, sa->generation);
                doc_key(&doc, "b");
                doc_uint(&doc, sb->generation);
                doc_key(&doc, "equal");
                doc_bool(&doc, !differ);
                doc_key(&doc, "views");
                doc_array(&doc, (uint32_t)n);
                for (size_t i = 0; i < n; i++)
                        doc_view(&doc, &ds[i]);
                doc_end(&doc);
                doc_end(&doc);
                buf_putc(&b, '\n');
                if (!buf_ok(&b))
                        r = log_error_errno(ENOMEM, "Cannot render the differences: %m");
                else
                        fwrite(b.data, 1, b.len, stdout);
        } else if (r >= 0) {
                const Snapshot *ss[] = {sa, sb};
                const char *ls[] = {la, lb};
                for (size_t i = 0; i < 2; i++) {
                        if (strncmp(ls[i], "generation ", 11) == 0)
                                printf("%c: %s\n", "AB"[i], ls[i]);
                        else
                                printf("%c: %s (generation %" PRIu64 ")\n", "AB"[i], ls[i],
                                       ss[i] -> generation);
                }
                for (size_t i = 0; i < n; i++)
                        print_text(&ds[i]);
                printf("%s\n", differ ? "different" : "equal");
        }
        if (r == -ENOMEM)
                log_error_errno(r, "Cannot compare: %m");
        for (size_t i = 0; i < n; i++)
                view_diff_done(&ds[i]);
        free(ds);
        if (r < 0)
                return CTL_EXIT_TROUBLE;
        return differ ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
}
