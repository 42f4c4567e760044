#include "history.h"

int history_new(size_t rss_cap, size_t runs_cap, uint64_t interval_usec, History **ret)
{
        if (rss_cap == 0 || runs_cap == 0)
                return -EINVAL;
        _cleanup_(history_freep) History *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->rss = calloc(rss_cap, sizeof(*h->rss));
        h->runs = calloc(runs_cap, sizeof(*h->runs));
        if (!h->rss || !h->runs)
                return -ENOMEM;
        h->rss_cap = rss_cap;
        h->runs_cap = runs_cap;
        h->interval_usec = interval_usec ? interval_usec : HISTORY_INTERVAL_USEC;
        *ret = h;
        h = NULL;
        return 0;
}

History *history_free(History *h)
{
        if (!h)
                return NULL;
        free(h->rss);
        free(h->runs);
        free(h);
        return NULL;
}

void history_add_rss(History *h, int64_t t_usec, uint64_t rss_kib)
{
        uint64_t ms = t_usec > 0 ? (uint64_t)t_usec / USEC_PER_MSEC : 0;
        ms = MIN(ms, (UINT64_C(1) << HISTORY_MS_BITS) - 1);
        rss_kib = MIN(rss_kib, (UINT64_C(1) << HISTORY_KIB_BITS) - 1);
        h->rss[h->rss_head] = ms << HISTORY_KIB_BITS | rss_kib;
        h->rss_head = (h->rss_head + 1) % h->rss_cap;
        if (h->rss_n < h->rss_cap)
                h->rss_n++;
        h->rss_total++;
}

int history_add_run(History *h, const RunRecord *run)
{
        if (run->generation != 0)
                for (size_t i = 0; i < h->runs_n; i++)
                        if (history_run_at(h, i)->generation == run->generation)
                                return 0;
        h->runs[h->runs_head] = *run;
        h->runs_head = (h->runs_head + 1) % h->runs_cap;
        if (h->runs_n < h->runs_cap)
                h->runs_n++;
        h->runs_total++;
        return 1;
}

bool history_rss_gap_before(const History *h, size_t i)
{
        if (i == 0 || i >= h->rss_n)
                return false;
        int64_t dt = history_rss_at(h, i).t_usec - history_rss_at(h, i - 1).t_usec;
        /* a late timer is not a gap: at short test intervals a busy loop is late every
         * tick, and a line per sample would multiply the page's size */
        return dt < 0 || (uint64_t)dt > MAX(3 * h->interval_usec, h->interval_usec + USEC_PER_SEC);
}
