/* Small helpers every module uses: cleanup attributes, time, safe string copies. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_       __attribute__((unused))
#define _likely_(x)    __builtin_expect(!!(x), 1)
#define _unlikely_(x)  __builtin_expect(!!(x), 0)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MAX(a, b)     ((a) > (b) ? (a) : (b))

#define USEC_PER_SEC  UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)
#define NSEC_PER_USEC UINT64_C(1000)

/* Declares name##p(type **) that frees through func, for _cleanup_(name##p). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
        static inline void func##p(type *p)     \
        {                                       \
                if (*p)                         \
                        func(*p);               \
        }

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hands ownership out of a _cleanup_ variable: returns its value and clears it. */
#define TAKE_PTR(p)                         \
        ({                                  \
                __typeof__(p) _taken = (p); \
                (p) = NULL;                 \
                _taken;                     \
        })
#define TAKE_FD(fd)                \
        ({                         \
                int _taken = (fd); \
                (fd) = -1;         \
                _taken;            \
        })

/* libevent takes its timeouts as struct timeval. */
static inline struct timeval timeval_from_usec(uint64_t usec)
{
        return (struct timeval){.tv_sec = (time_t)(usec / USEC_PER_SEC),
                                .tv_usec = (suseconds_t)(usec % USEC_PER_SEC)};
}

uint64_t now_realtime_usec(void);
uint64_t now_monotonic_usec(void);

/* Copies src into dst of size n; returns -ENAMETOOLONG (and still terminates) on truncation. */
int strcpy_checked(char *dst, size_t n, const char *src);

/* Writes all of buf, retrying on EINTR and short writes. 0 or negative errno. */
int write_all(int fd, const void *buf, size_t len);

/* Parses a duration: a number followed by ms, s, m, h or d (bare numbers are seconds). */
int parse_duration_usec(const char *s, uint64_t *ret);
/* Parses a non-negative integer in [min, max]. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
int parse_double(const char *s, double *ret);

/* strdup that aborts on ENOMEM is avoided on purpose: callers handle NULL. */
char *strdup_trim(const char *s, size_t len);
