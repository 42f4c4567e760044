/* bench/ndjson: worker/ndjson.c against jansson and json-c on the same NDJSON lines, each
 * parsing every line and typing the seven event columns into Values as the worker would.
 * Built three times (-DIMPL=1 ours, 2 jansson, 3 json-c): the two libraries export
 * clashing names (json_object_get), so they cannot share a program.
 *
 *   ndjson-bench-IMPL [LINES] [RUNS]   defaults: 1000000 lines, 5 runs; prints MB/s (median)
 *
 * The lines are generated here (the columns of tools/tally-gen), one object per line with
 * the keys in a fixed order, two of every hundred strings with an escape. Times are CPU
 * time (the machines we share are loaded), so MB/s is per core. */
#if IMPL == 2
#include <jansson.h>
#elif IMPL == 3
#include <json-c/json.h>
#endif

#include <time.h>

#include "ndjson.h"
#include "numparse.h"
#include "timeparse.h"

static const NdjsonColumn cols[] = {
    {"ts", VALUE_TIME},     {"region", VALUE_STR}, {"product", VALUE_STR},
    {"user_id", VALUE_INT}, {"amount", VALUE_NUM}, {"latency_ms", VALUE_NUM},
    {"status", VALUE_STR},
};
#define NC ELEMENTSOF(cols)

static char *generate(size_t lines, size_t *ret_len)
{
        static const char *regions[] = {"eu-west", "eu-central", "us-east",
                                        "us-west", "ap-south",   "ap-northeast"};
        static const char *status[] = {"ok", "ok", "ok", "error", "timeout"};
        size_t cap = lines * 200, len = 0;
        char *buf = malloc(cap);
        uint64_t x = 88172645463325252ull;
        for (size_t i = 0; i < lines; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                char ts[40];
                format_time_rfc3339(ts, sizeof(ts),
                                    INT64_C(1767225600000000) + (int64_t)(x % 172800000000ull));
                len += (size_t)snprintf(
                    buf + len, cap - len,
                    "{\"ts\":\"%s\",\"region\":\"%s\",\"product\":\"%sp-%04u\",\"user_id\":%u,"
                    "\"amount\":%u.%02u,\"latency_ms\":%.3f,\"status\":\"%s\"}\n",
                    ts, regions[x % 6], x % 50 == 0 ? "\\u00e9" : "", (unsigned)(x >> 8) % 2000,
                    (unsigned)(x >> 20) % 100000, (unsigned)(x >> 40) % 10000,
                    (unsigned)(x >> 30) % 100, ((x >> 12) % 500000) / 1000.0,
                    status[(x >> 50) % 5]);
        }
        *ret_len = len;
        return buf;
}

typedef int (*LineFn)(const char *line, size_t len, Value *row);

static NdjsonParser *own;

_unused_ static int parse_own(const char *line, size_t len, Value *row)
{
        const char *why;
        return ndjson_parse_line(own, line, len, row, &why) == NDJSON_ROW ? 0 : -1;
}

#if IMPL == 2
static int jansson_value(json_t *v, ValueType t, Value *out)
{
        if (!v || json_is_null(v)) {
                out->type = VALUE_NIL;
                return 0;
        }
        switch (t) {
        case VALUE_STR:
                if (!json_is_string(v))
                        return -1;
                *out = (Value){.type = VALUE_STR,
                               .len = (uint32_t)json_string_length(v),
                               .s = json_string_value(v)};
                return 0;
        case VALUE_INT:
                if (!json_is_integer(v))
                        return -1;
                *out = (Value){.type = VALUE_INT, .i = json_integer_value(v)};
                return 0;
        case VALUE_NUM:
                if (!json_is_number(v))
                        return -1;
                *out = (Value){.type = VALUE_NUM, .d = json_number_value(v)};
                return 0;
        default:
                if (!json_is_string(v))
                        return -1;
                out->type = VALUE_TIME;
                return parse_time_usec(json_string_value(v), json_string_length(v), &out->i);
        }
}

static int parse_jansson(const char *line, size_t len, Value *row)
{
        json_error_t err;
        json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
        if (!o || !json_is_object(o)) {
                json_decref(o);
                return -1;
        }
        int r = 0;
        for (size_t i = 0; i < NC && r == 0; i++)
                r = jansson_value(json_object_get(o, cols[i].name), cols[i].type, &row[i]);
        json_decref(o);
        return r;
}

#endif

#if IMPL == 3
static json_tokener *tok;

static int jsonc_value(struct json_object *v, ValueType t, Value *out)
{
        if (!v) {
                out->type = VALUE_NIL;
                return 0;
        }
        switch (t) {
        case VALUE_STR:
                if (!json_object_is_type(v, json_type_string))
                        return -1;
                *out = (Value){.type = VALUE_STR,
                               .len = (uint32_t)json_object_get_string_len(v),
                               .s = json_object_get_string(v)};
                return 0;
        case VALUE_INT:
                if (!json_object_is_type(v, json_type_int))
                        return -1;
                *out = (Value){.type = VALUE_INT, .i = json_object_get_int64(v)};
                return 0;
        case VALUE_NUM:
                if (!json_object_is_type(v, json_type_double) &&
                    !json_object_is_type(v, json_type_int))
                        return -1;
                *out = (Value){.type = VALUE_NUM, .d = json_object_get_double(v)};
                return 0;
        default:
                if (!json_object_is_type(v, json_type_string))
                        return -1;
                out->type = VALUE_TIME;
                return parse_time_usec(json_object_get_string(v),
                                       (size_t)json_object_get_string_len(v), &out->i);
        }
}

static int parse_jsonc(const char *line, size_t len, Value *row)
{
        json_tokener_reset(tok);
        struct json_object *o = json_tokener_parse_ex(tok, line, (int)len);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return -1;
        }
        int r = 0;
        for (size_t i = 0; i < NC && r == 0; i++) {
                struct json_object *v = NULL;
                json_object_object_get_ex(o, cols[i].name, &v);
                r = jsonc_value(v, cols[i].type, &row[i]);
        }
        json_object_put(o);
        return r;
}

#endif

static double run(LineFn fn, const char *buf, size_t len, size_t *ret_rows, double *ret_sum)
{
        Value row[NC];
        size_t rows = 0;
        double sum = 0;
        uint64_t t0 = now_usec(CLOCK_PROCESS_CPUTIME_ID);
        for (const char *p = buf, *e = buf + len; p < e;) {
                const char *nl = memchr(p, '\n', (size_t)(e - p));
                size_t n = (size_t)((nl ? nl : e) - p);
                if (fn(p, n, row) == 0) {
                        rows++;
                        sum += row[4].d + (double)row[3].i + (double)row[1].len;
                }
                p += n + 1;
        }
        *ret_rows = rows;
        *ret_sum = sum;
        return (double)(now_usec(CLOCK_PROCESS_CPUTIME_ID) - t0) / 1e6;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        size_t lines = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
        int runs = argc > 2 ? atoi(argv[2]) : 5;
        size_t len;
        char *buf = generate(lines, &len);
        if (ndjson_parser_new(cols, NC, &own) < 0)
                return 1;
#if IMPL == 1
        const char *name = "tally ndjson.c";
        LineFn fn = parse_own;
#elif IMPL == 2
        const char *name = "jansson " JANSSON_VERSION;
        LineFn fn = parse_jansson;
#else
        tok = json_tokener_new();
        const char *name = "json-c " JSON_C_VERSION;
        LineFn fn = parse_jsonc;
#endif
        double t[32], sum = 0;
        size_t rows = 0;
        runs = MAX(1, MIN(runs, 32));
        for (int i = 0; i < runs; i++)
                t[i] = run(fn, buf, len, &rows, &sum);
        qsort(t, (size_t)runs, sizeof(double), cmp);
        double med = t[runs / 2];
        /* the checksum shows the three typed the same values */
        printf("%-16s %6.1f MB  %8.0f MB/s  %6.3f s  %zu rows  checksum %.17g\n", name,
               (double)len / 1e6, (double)len / 1e6 / med, med, rows, sum);
#if IMPL == 3
        json_tokener_free(tok);
#endif
        ndjson_parser_free(own);
        free(buf);
        return 0;
}
