/* libpq through dlopen; see pq_dl.h. */
#define PQ_DL_NO_MACROS
#include "pq_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "util.h"

#define PQ_DL_DEFINE(f) __typeof__(f) *sym_##f;
PQ_DL_FUNCTIONS(PQ_DL_DEFINE)
#undef PQ_DL_DEFINE

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *load_error;
static char load_error_buf[512];

static void load(void)
{
        void *h = dlopen(PQ_DL_LIBRARY, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                snprintf(load_error_buf, sizeof(load_error_buf),
                         "cannot load " PQ_DL_LIBRARY " (install libpq5): %s", dlerror());
                load_error = load_error_buf;
                return;
        }
#define PQ_DL_RESOLVE(f)                                                 \
        if (!load_error && !(sym_##f = (__typeof__(f) *)dlsym(h, #f))) { \
                snprintf(load_error_buf, sizeof(load_error_buf),         \
                         PQ_DL_LIBRARY " lacks %s: libpq too old", #f);  \
                load_error = load_error_buf;                             \
        }
        PQ_DL_FUNCTIONS(PQ_DL_RESOLVE)
#undef PQ_DL_RESOLVE
        if (load_error)
                dlclose(h); /* kept open otherwise, for the life of the process */
}

int pq_dl_load(const char **ret_error)
{
        (void)pthread_once(&once, load);
        if (load_error) {
                if (ret_error)
                        *ret_error = load_error;
                return -EOPNOTSUPP;
        }
        return 0;
}
