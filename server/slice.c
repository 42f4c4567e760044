#include "slice.h"

#include <math.h>

#include "coop.h"
#include "timeparse.h"

int slice_value_cmp(const Value *a, const Value *b)
{
        if (a->type != b->type) /* a missing value first (VALUE_NIL is 0), as the worker */
                return a->type < b->type ? -1 : 1;
        switch (a->type) {
        case VALUE_STR: {
                int c = memcmp(a->s, b->s, MIN(a->len, b->len));
                if (c || a->len == b->len)
                        return c < 0 ? -1 : c > 0;
                return a->len < b->len ? -1 : 1;
        }
        case VALUE_NUM:
                if (a->d == b->d) /* -0 equals 0, as the worker folds them */
                        return 0;
                if (a->d < b->d)
                        return -1;
                if (a->d > b->d)
                        return 1;
                return isnan(a->d) ? (isnan(b->d) ? 0 : 1) : -1;
        case VALUE_INT:
        case VALUE_TIME: return a->i == b->i ? 0 : a->i < b->i ? -1 : 1;
        default: return 0;
        }
}

/* The first key column where row b differs from row a (n_keys if none), and the sign. */
static size_t first_difference(const Value *a, const Value *b, size_t n_keys, int *ret_cmp)
{
        for (size_t k = 0; k < n_keys; k++) {
                int c = slice_value_cmp(&a[k], &b[k]);
                if (c) {
                        *ret_cmp = c;
                        return k;
                }
        }
        *ret_cmp = 0;
        return n_keys;
}

/* Row r's key cells: from the whole rows, or from the key cells a v2 read keeps. */
static const Value *key_row(const SnapshotView *v, size_t r)
{
        return v->cells ? snapshot_view_row(v, r) : v->key_cells + r * v->n_key_cells;
}

int slice_index_build(Arena *a, const SnapshotView *v, SliceIndex *out)
{
        *out = (SliceIndex){.n_rows = v->n_rows, .n_keys = v->n_keys};
        if (v->n_rows > UINT32_MAX - 1)
                return -EFBIG;
        if (!v->cells && v->n_rows > 0 && (!v->key_cells || v->n_key_cells != v->n_keys))
                return 0; /* no key cells to order by: no index, as out of order */
        size_t nl = 0;
        if (v->n_keys > 0)
                nl = v->n_keys - 1 + (v->columns[v->n_keys - 1].type == VALUE_TIME);
        out->key_types = arena_alloc(a, (v->n_keys + 1) * sizeof(ValueType), _Alignof(ValueType));
        size_t counts[SNAPSHOT_MAX_COLUMNS] = {0};
        if (!out->key_types)
                return -ENOMEM;
        for (size_t k = 0; k < v->n_keys; k++)
                out->key_types[k] = v->columns[k].type;
        /* pass 1: the order, and how many runs each depth has */
        for (size_t r = 0; r < v->n_rows; r++) {
                if (r % 1024 == 0)
                        coop_point();
                size_t d = 0;
                if (r > 0) {
                        int c;
                        d = first_difference(key_row(v, r - 1), key_row(v, r), v->n_keys, &c);
                        if (c > 0)
                                return 0; /* out of order: no index, out->sorted false */
                }
                for (size_t l = d; l < nl; l++)
                        counts[l]++;
        }
        out->levels = arena_new0(a, SliceLevel, nl + 1);
        if (!out->levels)
                return -ENOMEM;
        for (size_t l = 0; l < nl; l++) {
                SliceLevel *lv = &out->levels[l];
                lv->start = arena_alloc(a, (counts[l] + 1) * sizeof(uint32_t), _Alignof(uint32_t));
                lv->val = arena_alloc(a, (counts[l] + 1) * sizeof(Value), _Alignof(Value));
                if (!lv->start || !lv->val)
                        return -ENOMEM;
        }
        /* pass 2: fill them */
        for (size_t r = 0; r < v->n_rows; r++) {
                if (r % 1024 == 0)
                        coop_point();
                const Value *row = key_row(v, r);
                size_t d = 0;
                if (r > 0) {
                        int c;
                        d = first_difference(key_row(v, r - 1), row, v->n_keys, &c);
                }
                for (size_t l = d; l < nl; l++) {
                        SliceLevel *lv = &out->levels[l];
                        Value x = row[l];
                        if (x.type == VALUE_STR) {
                                char *s = arena_alloc(a, x.len ? x.len : 1, 1);
                                if (!s)
                                        return -ENOMEM;
                                memcpy(s, x.s, x.len);
                                x.s = s;
                        }
                        lv->start[lv->n] = (uint32_t)r;
                        lv->val[lv->n++] = x;
                }
        }
        for (size_t l = 0; l < nl; l++)
                out->levels[l].start[out->levels[l].n] = (uint32_t)v->n_rows;
        out->n_levels = nl;
        out->sorted = true;
        return 0;
}

/* First run in [lo, hi) of lv whose start is >= row. */
static size_t runs_from_row(const SliceLevel *lv, size_t lo, size_t hi, size_t row)
{
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (lv->start[mid] < row)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* First run in [lo, hi) whose value is not below key. */
static size_t runs_lower_bound(const SliceLevel *lv, size_t lo, size_t hi, const Value *key)
{
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (slice_value_cmp(&lv->val[mid], key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* First run in [lo, hi) that holds a time and not one before t (missing values first). */
static size_t runs_time_bound(const SliceLevel *lv, size_t lo, size_t hi, bool has_t, int64_t t)
{
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const Value *x = &lv->val[mid];
                if (x->type != VALUE_TIME || (has_t && x->i < t))
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

int slice_find(const SliceIndex *ix, const SliceQuery *q, size_t *ret_first, size_t *ret_n)
{
        if (!ix->sorted)
                return -EMEDIUMTYPE;
        bool range = q->has_from || q->has_to;
        if (q->n_prefix + range > ix->n_levels)
                return -EINVAL;
        if (range && ix->key_types[q->n_prefix] != VALUE_TIME)
                return -EINVAL;
        size_t first = 0, end = ix->n_rows; /* rows matching so far */
        for (size_t d = 0; d < q->n_prefix + range && first < end; d++) {
                const SliceLevel *lv = &ix->levels[d];
                /* the runs of this depth inside [first, end): nested, so contiguous */
                size_t a = runs_from_row(lv, 0, lv->n, first);
                size_t b = runs_from_row(lv, a, lv->n, end);
                if (d < q->n_prefix) {
                        size_t j = runs_lower_bound(lv, a, b, &q->prefix[d]);
                        if (j == b || slice_value_cmp(&lv->val[j], &q->prefix[d]) != 0) {
                                first = end = 0;
                                break;
                        }
                        first = lv->start[j];
                        end = lv->start[j + 1];
                } else {
                        size_t lo = runs_time_bound(lv, a, b, q->has_from, q->from);
                        size_t hi = q->has_to ? runs_time_bound(lv, lo, b, true, q->to) : b;
                        first = lv->start[lo];
                        end = lv->start[hi];
                }
        }
        if (end < first)
                end = first;
        *ret_first = first;
        *ret_n = end - first;
        return 0;
}

static int parse_int(const char *p, size_t len, int64_t *ret)
{
        size_t i = p[0] == '-';
        if (len == i || len - i > 19)
                return -EINVAL;
        uint64_t v = 0;
        for (; i < len; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t)(p[i] - '0');
        }
        if (p[0] == '-') {
                if (v > (uint64_t)INT64_MAX + 1)
                        return -EINVAL;
                *ret = (int64_t)(0 - v);
        } else {
                if (v > (uint64_t)INT64_MAX)
                        return -EINVAL;
                *ret = (int64_t)v;
        }
        return 0;
}

static int parse_num(const char *p, size_t len, double *ret)
{
        char t[64];
        if (len == 0 || len >= sizeof(t))
                return -EINVAL;
        /* plain decimals only: strtod would also take spaces, hex, inf and nan */
        for (size_t i = 0; i < len; i++)
                if (!strchr("0123456789+-.eE", p[i]) || p[i] == 0)
                        return -EINVAL;
        memcpy(t, p, len);
        t[len] = 0;
        char *end;
        errno = 0;
        double d = strtod(t, &end);
        if (end != t + len || !isfinite(d))
                return -EINVAL;
        *ret = d == 0 ? 0.0 : d;
        return 0;
}

int slice_parse_key(ValueType t, const char *p, size_t len, Value *ret)
{
        if (len == 4 && memcmp(p, "null", 4) == 0) {
                *ret = (Value){.type = VALUE_NIL};
                return 0;
        }
        Value x = {.type = (uint8_t)t};
        int r = 0;
        switch (t) {
        case VALUE_STR:
                if (len > UINT32_MAX)
                        return -EINVAL;
                x.s = p;
                x.len = (uint32_t)len;
                break;
        case VALUE_INT: r = len ? parse_int(p, len, &x.i) : -EINVAL; break;
        case VALUE_NUM: r = parse_num(p, len, &x.d); break;
        case VALUE_TIME: r = parse_time_usec(p, len, &x.i); break;
        default: return -EINVAL;
        }
        if (r < 0)
                return -EINVAL;
        *ret = x;
        return 0;
}
