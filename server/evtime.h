/* Microseconds as the struct timeval libevent's timers take. */
#pragma once

#include <sys/time.h>

#include "util.h"

static inline struct timeval timeval_of_usec(uint64_t usec)
{
        return (struct timeval){.tv_sec = (time_t)(usec / USEC_PER_SEC),
                                .tv_usec = (suseconds_t)(usec % USEC_PER_SEC)};
}
