#include "source.h"

#include "tally-config.h"

typedef int (*SourceNewFn)(const SourcePlan *plan, Source **ret);

static const SourceNewFn constructors[] = {
    [SOURCE_CSV] = source_csv_new,
    [SOURCE_NDJSON] = source_ndjson_new,
    [SOURCE_COMMAND] = source_command_new,
#if HAVE_LIBPQ
    [SOURCE_POSTGRES] = source_postgres_new,
#endif
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

int source_failv(Source *s, int r, const char *fmt, va_list ap)
{
        int saved = errno;
        errno = r < 0 ? -r : r; /* for %m */
        vsnprintf(s->error, sizeof(s->error), fmt, ap);
        errno = saved;
        return r;
}

int source_fail(Source *s, int r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        source_failv(s, r, fmt, ap);
        va_end(ap);
        return r;
}
