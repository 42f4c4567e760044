#include "util.h"

#include <inttypes.h>
#include <math.h>
#include <time.h>

static uint64_t now_usec(int clock_id)
{
        struct timespec ts;
        clock_gettime(clock_id, &ts);
        return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / NSEC_PER_USEC;
}

uint64_t now_realtime_usec(void)
{
        return now_usec(CLOCK_REALTIME);
}

uint64_t now_monotonic_usec(void)
{
        return now_usec(CLOCK_MONOTONIC);
}

int strcpy_checked(char *dst, size_t n, const char *src)
{
        if (n == 0)
                return -ENAMETOOLONG;
        size_t len = strlen(src);
        if (len >= n) {
                memcpy(dst, src, n - 1);
                dst[n - 1] = 0;
                return -ENAMETOOLONG;
        }
        memcpy(dst, src, len + 1);
        return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                p += k;
                len -= (size_t)k;
        }
        return 0;
}

/* The digits at the start of s; *ret_end is after them. A sign or a blank first is refused
 * (strtoull would take "-1" as a huge number and skip leading blanks). */
static int parse_leading_u64(const char *s, uint64_t *ret, char **ret_end)
{
        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(s, ret_end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        *ret = v;
        return 0;
}

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
        uint64_t v;
        char *end;
        int r = parse_leading_u64(s, &v, &end);
        if (r < 0)
                return r;
        if (*end != 0)
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int parse_double(const char *s, double *ret)
{
        if (!s || !*s)
                return -EINVAL;
        errno = 0;
        char *end;
        double v = strtod(s, &end);
        if (errno == ERANGE || *end != 0 || !isfinite(v))
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_duration_usec(const char *s, uint64_t *ret)
{
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
            {"ms", USEC_PER_MSEC},      {"s", USEC_PER_SEC},        {"", USEC_PER_SEC},
            {"m", 60 * USEC_PER_SEC},   {"h", 3600 * USEC_PER_SEC}, {"d", 86400 * USEC_PER_SEC},
            {"min", 60 * USEC_PER_SEC}, {"sec", USEC_PER_SEC},
        };
        uint64_t v;
        char *end;
        int r = parse_leading_u64(s, &v, &end);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                if (strcmp(end, units[i].suffix) != 0)
                        continue;
                if (v > UINT64_MAX / units[i].usec)
                        return -ERANGE;
                *ret = v * units[i].usec;
                return 0;
        }
        return -EINVAL;
}

char *strdup_trim(const char *s, size_t len)
{
        while (len > 0 && (*s == ' ' || *s == '\t')) {
                s++;
                len--;
        }
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
                len--;
        return strndup(s, len);
}
