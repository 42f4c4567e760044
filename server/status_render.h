/* What the status page shows: its HTML page and the history document (JSON or msgpack),
 * rendered from tallyd's history and the served snapshot into a Buf.
 *
 * Apart from status_page.c, which decides when to render, keeps the gzip bodies and
 * answers requests: what a page says changes on its own, and these functions touch no
 * loop, lock or reference. Every string from a snapshot or history (view names, exit
 * reasons) is escaped for where it lands. */
#pragma once

#include "doc.h"
#include "heartbeat_svg.h"
#include "history.h"
#include "served.h"

typedef struct StatusShown {
        const History *history;
        const Served *served;  /* NULL before the first snapshot */
        uint64_t max_age_usec; /* shown against the snapshot's age */
} StatusShown;

/* The page for now, its heartbeat drawn over w. */
void status_render_html(Buf *b, const StatusShown *s, int64_t now, const HeartbeatWindow *w);
/* GET /v1/history's document for now in fmt, over the same window. */
void status_render_history(Buf *b, DocFormat fmt, const StatusShown *s, int64_t now,
                           const HeartbeatWindow *w);
