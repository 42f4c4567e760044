#include "parallel.h"

#include <assert.h>
#include <pthread.h>

typedef struct Part {
        ParallelFn fn;
        void *userdata;
        size_t k, n;
        int r;
} Part;

static void *part_main(void *userdata)
{
        Part *p = userdata;
        p->r = p->fn(p->k, p->n, p->userdata);
        return NULL;
}

int parallel_run(size_t n, ParallelFn fn, void *userdata)
{
        assert(n <= PARALLEL_MAX);
        Part parts[PARALLEL_MAX];
        pthread_t tids[PARALLEL_MAX];
        bool started[PARALLEL_MAX] = {};
        for (size_t k = 0; k < n; k++)
                parts[k] = (Part){fn, userdata, k, n, 0};
        for (size_t k = 1; k < n; k++)
                started[k] = pthread_create(&tids[k], NULL, part_main, &parts[k]) == 0;
        if (n > 0)
                part_main(&parts[0]);
        for (size_t k = 1; k < n; k++)
                if (!started[k])
                        part_main(&parts[k]); /* no thread: do its share here */
        for (size_t k = 1; k < n; k++)
                if (started[k])
                        pthread_join(tids[k], NULL);
        for (size_t k = 0; k < n; k++)
                if (parts[k].r != 0)
                        return parts[k].r;
        return 0;
}
