#include "follow.h"

#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdatomic.h>

#include "fetch.h"
#include "install.h"
#include "log.h"
#include "nats_connect.h"
#include "nats_manifest.h"
#include "notify.h"
#include "snapshot_dir.h"

#define REFUSED_MEMORY 16

typedef struct Refused {
        uint64_t generation;
        uint64_t xxh3;
} Refused;

typedef struct Follower {
        const Config *cfg;
        volatile const int *stop;
        char stream[128];
        natsConnection *nc;
        jsCtx *js;
        kvStore *kv;
        kvWatcher *watch;
        FetchInbox *inbox;
        uint64_t last_revision; /* of the manifest last handled */
        bool retry;             /* a transient failure: handle the current manifest again */
        Refused refused[REFUSED_MEMORY];
        unsigned next_refused;
        uint64_t installed;
} Follower;

/* libnats reconnects by itself; the operator hears of it once each way. These run on
 * libnats' callback thread, possibly after the session (and follow_run's stack) that set
 * them up is gone, so they touch only this static state. */
static struct {
        atomic_bool closing; /* our own close: not an outage */
        char bucket[NATS_MAX_BUCKET_NAME + 1];
} hook_state;

static void disconnect(Follower *f)
{
        atomic_store(&hook_state.closing, true);
        /* The connection first: closing it joins libnats' read loop, which (libnats 3.4,
         * fetch.h) may still be using a subscription freed under it. */
        if (f->nc)
                natsConnection_Close(f->nc);
        kvWatcher_Destroy(f->watch);
        f->inbox = fetch_inbox_free(f->inbox);
        kvStore_Destroy(f->kv);
        jsCtx_Destroy(f->js);
        natsConnection_Destroy(f->nc);
        f->watch = NULL;
        f->kv = NULL;
        f->js = NULL;
        f->nc = NULL;
}

static void on_disconnected(natsConnection *nc, void *closure)
{
        if (atomic_load(&hook_state.closing))
                return;
        log_warning("disconnected from NATS (bucket %s); reconnecting in the background, the "
                    "snapshot directory keeps what it has",
                    hook_state.bucket);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
        char url[256] = "";
        (void)natsConnection_GetConnectedUrl(nc, url, sizeof(url));
        log_info("reconnected to NATS at %s (bucket %s)", url, hook_state.bucket);
}

static int connect_all(Follower *f, char *reason, size_t rs)
{
        const NatsConnectHooks hooks = {on_disconnected, on_reconnected, NULL};
        (void)strcpy_checked(hook_state.bucket, sizeof(hook_state.bucket), f->cfg->nats.bucket);
        atomic_store(&hook_state.closing, false);
        int r = nats_connect(&f->cfg->nats, true, 2000, &hooks, &f->nc, reason, rs);
        if (r < 0)
                return r;
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = 2000;
        natsStatus s = natsConnection_JetStream(&f->js, f->nc, &jo);
        if (s != NATS_OK)
                return nats_error(s, "JetStream", reason, rs);
        r = nats_open_bucket(&f->cfg->nats, f->js, false, &f->kv, reason, rs);
        if (r < 0)
                return r;
        r = fetch_inbox_new(f->nc, &f->inbox, reason, rs);
        if (r < 0)
                return r;
        s = kvStore_Watch(&f->watch, f->kv, NATS_MANIFEST_KEY, NULL);
        if (s != NATS_OK)
                return nats_error(s, "cannot watch the manifest", reason, rs);
        return 0;
}

static bool is_refused(const Follower *f, const NatsManifest *m)
{
        for (unsigned i = 0; i < REFUSED_MEMORY; i++)
                if (f->refused[i].generation == m->generation && f->refused[i].xxh3 == m->xxh3)
                        return true;
        return false;
}

static void refuse(Follower *f, uint64_t rev, const NatsManifest *m, const char *reason)
{
        log_warning("refused snapshot %" PRIu64 " (manifest revision %" PRIu64
                    ") from NATS bucket %s: %s; keeping the current one",
                    m ? m->generation : 0, rev, f->cfg->nats.bucket, reason);
        if (m) {
                f->refused[f->next_refused] = (Refused){m->generation, m->xxh3};
                f->next_refused = (f->next_refused + 1) % REFUSED_MEMORY;
        }
}

static int held_generation(const Follower *f, uint64_t *ret)
{
        _cleanup_close_ int dirfd = open(f->cfg->snapshot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        return snapshot_dir_newest(dirfd, ret);
}

/* The manifest's revision now, 0 if unknown. */
static uint64_t current_revision(Follower *f)
{
        kvEntry *e = NULL;
        if (kvStore_Get(&e, f->kv, NATS_MANIFEST_KEY) != NATS_OK)
                return 0;
        uint64_t rev = kvEntry_Revision(e);
        kvEntry_Destroy(e);
        return rev;
}

/* Handles one manifest value. Negative errno only for what stops the daemon. */
static int handle(Follower *f, uint64_t rev, const void *data, size_t len)
{
        char reason[512] = "";
        NatsManifest m;
        if (rev == f->last_revision)
                return 0; /* handled (installed, skipped or refused) */
        f->retry = false;
        if (nats_manifest_parse(data, len, f->cfg->nats.bucket, &m, reason, sizeof(reason)) < 0) {
                if (rev != f->last_revision)
                        refuse(f, rev, NULL, reason);
                f->last_revision = rev;
                return 0;
        }
        uint64_t held = 0;
        int r = held_generation(f, &held);
        if (r < 0)
                return log_error_errno(r, "cannot read snapshot_dir %s: %m", f->cfg->snapshot_dir);
        if (m.generation <= held || is_refused(f, &m)) {
                f->last_revision = rev;
                return 0;
        }
        if (m.raw_bytes > f->cfg->max_snapshot_bytes) {
                /* before allocating anything: raw_bytes bounds the wire bytes too */
                snprintf(reason, sizeof(reason),
                         "%" PRIu64 " bytes, max_snapshot_bytes is %" PRIu64, m.raw_bytes,
                         f->cfg->max_snapshot_bytes);
                refuse(f, rev, &m, reason);
                f->last_revision = rev;
                return 0;
        }
        uint64_t t0 = now_monotonic_usec(), seen = now_realtime_usec(), verified = 0;
        FetchTiming ft = {};
        _cleanup_free_ void *buf = NULL;
        r = fetch_snapshot(f->inbox, f->js, f->stream, &m, f->stop, &buf, &ft, reason,
                           sizeof(reason));
        if (r == -ECANCELED)
                return 0;
        if (r < 0) {
                log_info("cannot fetch snapshot %" PRIu64 " yet (%s); retrying", m.generation,
                         reason);
                f->retry = true;
                return 0;
        }
        f->last_revision = rev;
        if (r == FETCH_DAMAGED && current_revision(f) > rev) {
                /* Superseded while we fetched: the worker purged its chunks after
                 * publishing a newer one. Not damage; the newer manifest comes next. */
                log_debug("snapshot %" PRIu64 " superseded while fetching (%s)", m.generation,
                          reason);
                return 0;
        }
        if (r == FETCH_DAMAGED) {
                refuse(f, rev, &m, reason);
                return 0;
        }
        r = install_snapshot(f->cfg->snapshot_dir, f->cfg->keep, m.generation, buf, m.raw_bytes,
                             &verified, reason, sizeof(reason));
        if (r == INSTALL_REFUSED) {
                refuse(f, rev, &m, reason);
                return 0;
        }
        if (r == INSTALL_NOT_NEWER)
                return 0;
        if (r < 0) {
                /* A full disk may pass: try again later rather than give up. */
                log_error("cannot install snapshot %" PRIu64 ": %s", m.generation, reason);
                f->retry = true;
                return 0;
        }
        uint64_t installed = now_realtime_usec();
        f->installed++;
        /* Hand the snapshot's pages back now: a daemon that holds one snapshot at a time
         * should not keep the last one's worth of heap between updates. */
        free(TAKE_PTR(buf));
        malloc_trim(0);
        uint64_t ms = (now_monotonic_usec() - t0) / USEC_PER_MSEC;
        log_info("installed snapshot %" PRIu64 " from NATS bucket %s: %" PRIu64 " bytes (%" PRIu64
                 " %s) in %" PRIu64 " chunks, %" PRIu64 " ms",
                 m.generation, f->cfg->nats.bucket, m.raw_bytes, m.bytes,
                 m.encoding == NATS_ENCODING_IDENTITY  ? "sent as is"
                 : m.encoding == NATS_ENCODING_DEFLATE ? "deflated"
                                                       : "deflated per chunk",
                 m.chunks, ms);
        /* bench/cluster reads this line (realtime usec) */
        log_debug("sync timing: generation %" PRIu64 " seen %" PRIu64 " fetched %" PRIu64
                  " inflated %" PRIu64 " verified %" PRIu64 " installed %" PRIu64,
                  m.generation, seen, ft.fetched, ft.inflated, verified, installed);
        notify_status("serving generation %" PRIu64 " from NATS bucket %s", m.generation,
                      f->cfg->nats.bucket);
        return 0;
}

static int poll_key(Follower *f)
{
        kvEntry *e = NULL;
        natsStatus s = kvStore_Get(&e, f->kv, NATS_MANIFEST_KEY);
        if (s == NATS_NOT_FOUND)
                return 0;
        if (s != NATS_OK)
                return -EAGAIN;
        int r = handle(f, kvEntry_Revision(e), kvEntry_Value(e), (size_t)kvEntry_ValueLen(e));
        kvEntry_Destroy(e);
        return r;
}

/* The watch is a trigger: act on the newest manifest, not on each one queued while we
 * were away (a host that heals jumps). The entries already queued are drained, and the
 * key is read too in case the watch is behind; the highest revision wins. The entry the
 * watch delivered is kept when the read is older: a KV get may be answered by a replica
 * that has not applied the newest put yet (direct get), and trusting it alone left a new
 * manifest to the 2 s poll (bench/cluster: 1 run in 15 served 1.5 s late). */
static kvEntry *newest_entry(Follower *f, kvEntry *e)
{
        kvEntry *q = NULL;
        while (kvWatcher_Next(&q, f->watch, 1) == NATS_OK && q) {
                if (kvEntry_Revision(q) > kvEntry_Revision(e)) {
                        kvEntry_Destroy(e);
                        e = q;
                } else
                        kvEntry_Destroy(q);
                q = NULL;
        }
        if (kvStore_Get(&q, f->kv, NATS_MANIFEST_KEY) == NATS_OK && q) {
                if (kvEntry_Revision(q) > kvEntry_Revision(e)) {
                        kvEntry_Destroy(e);
                        e = q;
                } else
                        kvEntry_Destroy(q);
        }
        return e;
}

/* One connected session; returns to reconnect (0) or to stop the daemon (< 0). */
static int session(Follower *f)
{
        uint64_t next_poll = 0;
        unsigned failed_polls = 0;
        while (!*f->stop) {
                notify_watchdog();
                kvEntry *e = NULL;
                natsStatus s = kvWatcher_Next(&e, f->watch, FOLLOW_TICK_MSEC);
                int r = 0;
                if (s == NATS_OK && e) {
                        e = newest_entry(f, e);
                        if (kvEntry_Operation(e) == kvOp_Put)
                                r = handle(f, kvEntry_Revision(e), kvEntry_Value(e),
                                           (size_t)kvEntry_ValueLen(e));
                        kvEntry_Destroy(e);
                } else if (s != NATS_OK && s != NATS_TIMEOUT) {
                        log_info("watch on NATS bucket %s ended (%s); reconnecting",
                                 f->cfg->nats.bucket, natsStatus_GetText(s));
                        return 0;
                }
                if (r < 0)
                        return r;
                uint64_t now = now_monotonic_usec();
                if (now >= next_poll) {
                        r = poll_key(f);
                        /* after a transient failure, sooner than the regular poll */
                        next_poll = now + (f->retry ? FOLLOW_POLL_USEC / 4 : FOLLOW_POLL_USEC);
                        if (r == -EAGAIN) {
                                /* Disconnected polls are expected while libnats reconnects;
                                 * a connected session that cannot poll is rebuilt. */
                                if (natsConnection_Status(f->nc) == NATS_CONN_STATUS_CONNECTED &&
                                    ++failed_polls >= 5)
                                        return 0;
                        } else if (r < 0)
                                return r;
                        else
                                failed_polls = 0;
                }
        }
        return 0;
}

int follow_run(const Config *cfg, volatile const int *stop)
{
        Follower f = {.cfg = cfg, .stop = stop};
        nats_stream_name(f.stream, sizeof(f.stream), cfg->nats.bucket);
        uint64_t backoff = 250 * USEC_PER_MSEC, held = 0;
        int r = held_generation(&f, &held);
        if (r < 0)
                return log_error_errno(r, "cannot read snapshot_dir %s: %m", cfg->snapshot_dir);
        bool said_down = false;
        while (!*stop) {
                char reason[512] = "";
                r = connect_all(&f, reason, sizeof(reason));
                if (r >= 0) {
                        log_info("following NATS bucket %s (holding generation %" PRIu64 ")",
                                 cfg->nats.bucket, held);
                        said_down = false;
                        backoff = 250 * USEC_PER_MSEC;
                        r = session(&f);
                        disconnect(&f);
                        if (r < 0)
                                return r;
                        continue;
                }
                disconnect(&f);
                if (!said_down) /* once per outage, not once per attempt */
                        log_warning("NATS bucket %s not reachable (%s); retrying with backoff",
                                    cfg->nats.bucket, reason);
                said_down = true;
                notify_status("waiting for NATS: %s", reason);
                for (uint64_t end = now_monotonic_usec() + backoff;
                     !*stop && now_monotonic_usec() < end;) {
                        notify_watchdog();
                        usleep(FOLLOW_TICK_MSEC * 1000);
                }
                backoff = MIN(backoff * 2, FOLLOW_BACKOFF_MAX);
                (void)held_generation(&f, &held);
        }
        return 0;
}
