#include "usage.h"

#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Process start from /proc/self/stat (field 22, clock ticks since boot) against
 * CLOCK_BOOTTIME: covers configuration parsing and planning too, unlike duration_ms. */
static bool wall_since_start_ms(uint64_t *ret)
{
        char buf[1024];
        FILE *f = fopen("/proc/self/stat", "re");
        if (!f)
                return false;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        /* comm (field 2) may hold spaces and parentheses: fields restart after the last ')' */
        char *p = strrchr(buf, ')');
        if (!p)
                return false;
        unsigned long long start = 0;
        /* after ')' come field 3 (state) .. field 22 (starttime): skip 19 fields */
        p++;
        for (int field = 3; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return false;
        }
        if (sscanf(p, " %llu", &start) != 1)
                return false;
        long hz = sysconf(_SC_CLK_TCK);
        struct timespec ts;
        if (hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
                return false;
        uint64_t now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
        uint64_t start_ms = start * 1000 / (unsigned long long)hz;
        *ret = now_ms > start_ms ? now_ms - start_ms : 0;
        return true;
}

void usage_measure(SnapshotStats *st)
{
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0) {
                st->peak_rss_kib = (uint64_t)ru.ru_maxrss; /* Linux: KiB */
                st->cpu_ms = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000 +
                             ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) / 1000;
        }
        if (!wall_since_start_ms(&st->wall_ms))
                st->wall_ms = st->duration_ms;
        st->has_usage = true;
}
