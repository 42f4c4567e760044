/* Cell text shared by dump (CSV), diff and show: the spelling tallyd's JSON uses, from the
 * same formatters (server/doc.c for numbers, common/timeparse.c for time). */
#include <inttypes.h>
#include <math.h>

#include "ctl.h"
#include "doc.h"
#include "timeparse.h"

size_t ctl_cell_text(char *buf, size_t n, const Value *v)
{
        switch (v->type) {
        case VALUE_STR: {
                size_t l = MIN((size_t)v->len, n - 1);
                memcpy(buf, v->s, l);
                buf[l] = 0;
                return l;
        }
        case VALUE_INT: return (size_t)snprintf(buf, n, "%" PRId64, v->i);
        case VALUE_NUM:
                if (isfinite(v->d)) {
                        size_t l = format_double_shortest(buf, v->d);
                        buf[l] = 0;
                        return l;
                }
                break;
        case VALUE_TIME: return format_time_rfc3339(buf, n, v->i);
        default: break;
        }
        return (size_t)snprintf(buf, n, "null");
}

static void csv_bytes(FILE *f, const char *s, size_t len, bool quote_empty)
{
        bool quote = len == 0 ? quote_empty : false;
        for (size_t i = 0; i < len && !quote; i++)
                quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
        if (!quote) {
                fwrite(s, 1, len, f);
                return;
        }
        fputc('"', f);
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '"')
                        fputc('"', f);
                fputc(s[i], f);
        }
        fputc('"', f);
}

void ctl_csv_field(FILE *f, const Value *v)
{
        char t[64];
        switch (v->type) {
        case VALUE_STR: csv_bytes(f, v->s, v->len, true); return;
        case VALUE_NIL: return;
        case VALUE_NUM:
                if (!isfinite(v->d))
                        return; /* JSON says null: the same missing value */
                break;
        default: break;
        }
        size_t l = ctl_cell_text(t, sizeof(t), v);
        fwrite(t, 1, l, f);
}

void ctl_csv_name(FILE *f, const char *s)
{
        csv_bytes(f, s, strlen(s), true);
}

const char *ctl_format_bytes(char *buf, size_t n, uint64_t bytes)
{
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = (double)bytes;
        size_t u = 0;
        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, n, "%" PRIu64 " B", bytes);
        else
                snprintf(buf, n, "%.1f %s", v, units[u]);
        return buf;
}

const char *ctl_format_age(char *buf, size_t n, uint64_t usec)
{
        uint64_t s = usec / USEC_PER_SEC;
        if (s < 120)
                snprintf(buf, n, "%" PRIu64 "s", s);
        else if (s < 7200)
                snprintf(buf, n, "%" PRIu64 "m", s / 60);
        else if (s < 2 * 86400)
                snprintf(buf, n, "%" PRIu64 "h", s / 3600);
        else
                snprintf(buf, n, "%" PRIu64 "d", s / 86400);
        return buf;
}
