#include "source.h"

#include <stdarg.h>

typedef int (*SourceNewFn)(const SourcePlan *plan, Source **ret);

static const SourceNewFn constructors[] = {
    [SOURCE_CSV] = source_csv_new,
};

int source_new(const SourcePlan *plan, Source **ret)
{
        unsigned t = plan->cfg->type;
        if (t >= ELEMENTSOF(constructors) || !constructors[t])
                return -EPROTONOSUPPORT;
        return constructors[t](plan, ret);
}

Source *source_free(Source *s)
{
        if (s)
                s->ops->close(s);
        return NULL;
}

int source_fail(Source *s, int r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int saved = errno;
        errno = r < 0 ? -r : r;
        vsnprintf(s->error, sizeof(s->error), fmt, ap);
        errno = saved;
        va_end(ap);
        return r;
}
