#include "nats_publish.h"

#include <fcntl.h>
#include <inttypes.h>
#include <libdeflate.h>
#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "log.h"
#include "nats_connect.h"
#include "nats_manifest.h"
#include "read_file.h"
#include "snapshot.h"
#include "snapshot_dir.h"

#define PUBLISH_WINDOW 8 /* chunks in flight: 8 MB with the default max_payload */
/* libdeflate level 1: on the 24k-row v2 snapshot (12.1 MB, a third of it gzip bodies
 * that do not shrink again) 2.50:1 against 2.70:1 for level 4 and 2.81:1 for 6, at half
 * or less of their CPU (README "Many hosts"). Every serving host gains the bytes; the
 * worker pays the CPU once. */
#ifndef PUBLISH_DEFLATE_LEVEL /* -DPUBLISH_DEFLATE_LEVEL=0: sent as is (level 0 never shrinks) */
#define PUBLISH_DEFLATE_LEVEL 1
#endif
/* A chunk is deflated only if that saves at least 1/16 of it: below, inflating on every
 * host costs more than the bytes saved; it travels as is. */
#define PUBLISH_DEFLATE_MIN_SAVING 16
/* Threads deflating chunks ahead of the publishing loop (the worker host has 2 cores): the
 * loop itself only hands chunks to libnats and is mostly waiting for acks. */
#define PUBLISH_DEFLATERS 2

static volatile sig_atomic_t stop_requested;

void nats_publish_request_stop(void)
{
        stop_requested = 1;
}

typedef struct Publisher {
        const NatsConfig *cfg;
        uint64_t deadline;
        natsConnection *nc;
        jsCtx *js;
        kvStore *kv;
        char stream[128];
        /* the file */
        void *buf;
        size_t len;
        uint64_t generation;
        uint64_t xxh3;
        /* what travels (nats_manifest.h): deflate-chunks, or identity with level 0 */
        NatsEncoding encoding;
        /* progress, kept across attempts so a retry resumes */
        char subject[NATS_MAX_SUBJECT];
        uint64_t nonce;
        size_t chunk_bytes;
        uint64_t n_chunks;
        pthread_mutex_t lock; /* the fields below are written by on_ack and the deflaters */
        uint8_t *acked;       /* per chunk */
        uint64_t n_acked, first_seq, last_seq;
        natsStatus ack_error;
        /* chunk i's wire bytes, deflated ahead of the publishing loop by the deflaters */
        struct WireChunk {
                void *deflated; /* NULL: the slice as is */
                size_t len;
                bool ready;
        } * wire;
        pthread_cond_t ready_cond; /* a chunk became ready */
        uint64_t next_deflate, n_ready;
        bool deflate_cancel;
        uint64_t deflated_at; /* realtime usec the last chunk became ready */
        pthread_t deflaters[PUBLISH_DEFLATERS];
        unsigned n_deflaters;
} Publisher;

static int64_t remaining_ms(const Publisher *p)
{
        uint64_t now = now_monotonic_usec();
        return now >= p->deadline ? 0 : (int64_t)((p->deadline - now) / USEC_PER_MSEC);
}

/* drain: the last disconnect of the run (nats_drain_close). Between attempts a plain
 * close: the connection may be what failed, and libnats keeps running. */
static void publisher_disconnect(Publisher *p, bool drain)
{
        /* Close first, so libnats' read loop has stopped before the JetStream context (and
         * its async-ack subscription) is freed: libnats 3.4 can touch a subscription freed
         * while a message for it is being read (nats.c#637; tally-sync crashed on it). */
        if (p->nc && drain)
                nats_drain_close(p->nc, MIN(2000, MAX(remaining_ms(p), 1)));
        else if (p->nc)
                natsConnection_Close(p->nc);
        kvStore_Destroy(p->kv);
        jsCtx_Destroy(p->js);
        natsConnection_Destroy(p->nc);
        p->kv = NULL;
        p->js = NULL;
        p->nc = NULL;
}

static void *alloc_buf(void *userdata, size_t size)
{
        Publisher *p = userdata;
        p->buf = malloc(MAX(size, 1));
        return p->buf;
}

static int read_newest(const char *dir, uint64_t max_bytes, Publisher *p)
{
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        int r = snapshot_dir_newest(dirfd, &p->generation);
        if (r < 0)
                return r;
        if (p->generation == 0)
                return -ENOENT;
        char name[SNAPSHOT_NAME_MAX];
        snapshot_name(name, sizeof(name), p->generation);
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        void *buf;
        r = read_file_bounded(fd, max_bytes, alloc_buf, p, &buf, &p->len);
        if (r < 0)
                return r;
        if (r == READ_FILE_NOT_REGULAR)
                return -EINVAL;
        if (r == READ_FILE_TOO_LARGE)
                return -EFBIG;
        if (r == READ_FILE_SHRANK || p->len == 0)
                return -EIO; /* never publish a partial file */
        p->xxh3 = XXH3_64bits(p->buf, p->len);
        return 0;
}

/* Deflates the next chunk nobody has taken yet (or sends it as is when that saves too
 * little, or memory is short): false when none is left. Called with p->lock held; drops it
 * while deflating. */
static bool deflate_next(Publisher *p, struct libdeflate_compressor *c)
{
        uint64_t i = p->next_deflate;
        if (p->deflate_cancel || i >= p->n_chunks)
                return false;
        p->next_deflate++;
        pthread_mutex_unlock(&p->lock);
        size_t off = (size_t)i * p->chunk_bytes, n = MIN(p->chunk_bytes, p->len - off);
        /* strictly shorter than the slice: a chunk as long as its slice is the slice */
        size_t saving = MAX(n / PUBLISH_DEFLATE_MIN_SAVING, 1), avail = n > saving ? n - saving : 0;
        void *out =
            c && avail && p->encoding == NATS_ENCODING_DEFLATE_CHUNKS ? malloc(avail) : NULL;
        /* 0: it would not fit in avail, i.e. not worth it */
        size_t k =
            out ? libdeflate_deflate_compress(c, (const char *)p->buf + off, n, out, avail) : 0;
        if (k == 0) {
                free(out);
                out = NULL;
                k = n;
        } else {
                void *shrunk = realloc(out, k); /* held until the run ends: keep only k */
                if (shrunk)
                        out = shrunk;
        }
        pthread_mutex_lock(&p->lock);
        p->wire[i] = (struct WireChunk){out, k, true};
        if (++p->n_ready == p->n_chunks)
                p->deflated_at = now_realtime_usec();
        pthread_cond_broadcast(&p->ready_cond);
        return true;
}

static void *deflater(void *userdata)
{
        Publisher *p = userdata;
        struct libdeflate_compressor *c = libdeflate_alloc_compressor(PUBLISH_DEFLATE_LEVEL);
        pthread_mutex_lock(&p->lock);
        while (deflate_next(p, c))
                ;
        pthread_mutex_unlock(&p->lock);
        libdeflate_free_compressor(c);
        return NULL;
}

/* Once the chunk size is known: the deflaters start on chunk 0 while the loop waits. */
static int start_deflaters(Publisher *p)
{
        p->wire = calloc(p->n_chunks, sizeof(*p->wire));
        if (!p->wire)
                return -ENOMEM;
        for (unsigned i = 0; i < PUBLISH_DEFLATERS && i < p->n_chunks; i++)
                if (pthread_create(&p->deflaters[p->n_deflaters], NULL, deflater, p) == 0)
                        p->n_deflaters++;
        return 0;
}

static void stop_deflaters(Publisher *p)
{
        pthread_mutex_lock(&p->lock);
        p->deflate_cancel = true;
        pthread_mutex_unlock(&p->lock);
        for (unsigned i = 0; i < p->n_deflaters; i++)
                pthread_join(p->deflaters[i], NULL);
        for (uint64_t i = 0; p->wire && i < p->n_chunks; i++)
                free(p->wire[i].deflated);
        free(p->wire);
}

/* Waits for chunk i's wire bytes (deflating itself if no thread could start). 0, or
 * -ECANCELED / -ETIME. */
static int wait_chunk(Publisher *p, uint64_t i, const void **ret, size_t *ret_len)
{
        pthread_mutex_lock(&p->lock);
        while (!p->wire[i].ready) {
                if (stop_requested || remaining_ms(p) == 0) {
                        pthread_mutex_unlock(&p->lock);
                        return stop_requested ? -ECANCELED : -ETIME;
                }
                if (p->n_deflaters == 0) {
                        struct libdeflate_compressor *c =
                            libdeflate_alloc_compressor(PUBLISH_DEFLATE_LEVEL);
                        (void)deflate_next(p, c);
                        libdeflate_free_compressor(c);
                        continue;
                }
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 100 * 1000 * 1000;
                if (ts.tv_nsec >= 1000000000) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000;
                }
                (void)pthread_cond_timedwait(&p->ready_cond, &p->lock, &ts);
        }
        struct WireChunk w = p->wire[i];
        pthread_mutex_unlock(&p->lock);
        *ret = w.deflated ? w.deflated : (const char *)p->buf + (size_t)i * p->chunk_bytes;
        *ret_len = w.len;
        return 0;
}

static size_t wire_bytes(Publisher *p)
{
        size_t n = 0;
        pthread_mutex_lock(&p->lock);
        for (uint64_t i = 0; p->wire && i < p->n_chunks; i++)
                n += p->wire[i].len;
        pthread_mutex_unlock(&p->lock);
        return n;
}

static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure);

static int publisher_connect(Publisher *p, char *reason, size_t rs)
{
        if (p->kv)
                return 0;
        publisher_disconnect(p, false);
        /* a blackholed server must not hold the run past its deadline */
        int r = nats_connect(p->cfg, false, MIN(2000, MAX(remaining_ms(p), 1)), NULL, &p->nc,
                             reason, rs);
        if (r < 0)
                return r;
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = 2000;
        jo.PublishAsync.MaxPending = PUBLISH_WINDOW;
        jo.PublishAsync.AckHandler = on_ack;
        jo.PublishAsync.AckHandlerClosure = p;
        natsStatus s = natsConnection_JetStream(&p->js, p->nc, &jo);
        if (s != NATS_OK)
                return nats_error(s, "JetStream", reason, rs);
        r = nats_open_bucket(p->cfg, p->js, true, &p->kv, reason, rs);
        if (r < 0)
                return r;
        if (p->chunk_bytes == 0) {
                /* Headers count against max_payload; leave them room. */
                int64_t maxp = natsConnection_GetMaxPayload(p->nc);
                p->chunk_bytes = maxp > 16384 ? (size_t)(maxp - 4096) : (size_t)(maxp / 2);
                if (p->chunk_bytes == 0)
                        p->chunk_bytes = 512;
                p->n_chunks = (p->len + p->chunk_bytes - 1) / p->chunk_bytes;
                p->acked = calloc(p->n_chunks, 1);
                r = p->acked ? start_deflaters(p) : -ENOMEM;
                if (r < 0) { /* the next attempt sizes the chunks again */
                        free(p->acked);
                        p->acked = NULL;
                        p->chunk_bytes = 0;
                        return r;
                }
        }
        return 0;
}

/* Acks arrive on libnats' thread: a chunk counts once the stream stored it. */
static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
        Publisher *p = closure;
        const char *v = NULL;
        uint64_t idx;
        pthread_mutex_lock(&p->lock);
        if (pa && natsMsgHeader_Get(msg, NATS_CHUNK_HEADER, &v) == NATS_OK && v &&
            parse_uint(v, 0, p->n_chunks - 1, &idx) == 0 && !p->acked[idx]) {
                p->acked[idx] = 1;
                p->n_acked++;
                if (!p->first_seq || pa->Sequence < p->first_seq)
                        p->first_seq = pa->Sequence;
                p->last_seq = MAX(p->last_seq, pa->Sequence);
        } else if (pae)
                p->ack_error = pae->Err;
        pthread_mutex_unlock(&p->lock);
        natsMsg_Destroy(msg);
}

/* Publishes every chunk not yet stored, up to PUBLISH_WINDOW in flight (one at a time
 * would pay a replicated round trip per MB), each as soon as it is deflated (so deflating
 * chunk i+1 overlaps storing chunk i), and waits for their acks. A chunk sent again
 * after a failure carries the same Nats-Msg-Id: the stream keeps one copy. */
static int publish_chunks(Publisher *p, char *reason, size_t rs)
{
        natsStatus s = NATS_OK;
        for (uint64_t i = 0; i < p->n_chunks && s == NATS_OK; i++) {
                if (stop_requested)
                        return -ECANCELED;
                pthread_mutex_lock(&p->lock);
                bool done = p->acked[i];
                pthread_mutex_unlock(&p->lock);
                if (done)
                        continue;
                const void *data;
                size_t n;
                int r = wait_chunk(p, i, &data, &n);
                if (r < 0)
                        return r;
                char id[96], idx[24];
                snprintf(id, sizeof(id), "%" PRIu64 ".%016" PRIx64 ".%" PRIu64, p->generation,
                         p->nonce, i);
                snprintf(idx, sizeof(idx), "%" PRIu64, i);
                natsMsg *msg = NULL;
                s = natsMsg_Create(&msg, p->subject, NULL, data, (int)n);
                if (s == NATS_OK)
                        s = natsMsgHeader_Set(msg, NATS_CHUNK_HEADER, idx);
                jsPubOptions po;
                jsPubOptions_Init(&po);
                po.MsgId = id;
                po.ExpectStream = p->stream;
                po.MaxWait = MIN(5000, MAX(remaining_ms(p), 1));
                if (s == NATS_OK)
                        s = js_PublishMsgAsync(p->js, &msg, &po);
                natsMsg_Destroy(msg); /* no-op once libnats owns it */
        }
        if (s != NATS_OK)
                return nats_error(s, "cannot publish a chunk", reason, rs);
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = MIN(10000, MAX(remaining_ms(p), 1));
        s = js_PublishAsyncComplete(p->js, &po);
        if (s != NATS_OK)
                return nats_error(s, "waiting for chunk acks", reason, rs);
        pthread_mutex_lock(&p->lock);
        uint64_t acked = p->n_acked;
        natsStatus err = p->ack_error;
        pthread_mutex_unlock(&p->lock);
        if (acked != p->n_chunks) {
                snprintf(reason, rs, "%" PRIu64 " of %" PRIu64 " chunks stored (%s)", acked,
                         p->n_chunks, natsStatus_GetText(err));
                return -EIO;
        }
        return 0;
}

/* Reads the manifest now in the bucket: 0 and *ret_rev == 0 if none. */
static int read_manifest(Publisher *p, NatsManifest *m, uint64_t *ret_rev, char *reason, size_t rs)
{
        kvEntry *e = NULL;
        natsStatus s = kvStore_Get(&e, p->kv, NATS_MANIFEST_KEY);
        *ret_rev = 0;
        if (s == NATS_NOT_FOUND)
                return 0;
        if (s != NATS_OK)
                return nats_error(s, "cannot read the manifest", reason, rs);
        char why[256];
        int r = nats_manifest_parse(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), p->cfg->bucket,
                                    m, why, sizeof(why));
        *ret_rev = kvEntry_Revision(e);
        kvEntry_Destroy(e);
        if (r < 0) {
                /* A damaged manifest is replaced, never followed. */
                log_debug("manifest revision %" PRIu64 " is damaged (%s); replacing it", *ret_rev,
                          why);
                m->generation = 0;
                m->first_seq = 0;
        }
        return 0;
}

static void purge_before(Publisher *p, uint64_t seq)
{
        if (seq <= 1)
                return;
        jsOptions o;
        jsOptions_Init(&o);
        o.Stream.Purge.Sequence = seq;
        jsErrCode jerr = 0;
        natsStatus s = js_PurgeStream(p->js, p->stream, &o, &jerr);
        if (s != NATS_OK)
                log_debug("purging chunks before sequence %" PRIu64 " failed: %s", seq,
                          natsStatus_GetText(s));
}

/* One attempt: 0 / ALREADY / SUPERSEDED, or negative errno worth retrying. */
static int attempt(Publisher *p, NatsPublishResult *res)
{
        int r = publisher_connect(p, res->reason, sizeof(res->reason));
        if (r < 0)
                return r;
        if (!res->timing.connected)
                res->timing.connected = now_realtime_usec();
        for (;;) {
                NatsManifest prev = {};
                uint64_t rev;
                r = read_manifest(p, &prev, &rev, res->reason, sizeof(res->reason));
                if (r < 0)
                        return r;
                if (rev && prev.generation == p->generation && prev.xxh3 == p->xxh3) {
                        res->revision = rev;
                        return NATS_PUBLISH_ALREADY;
                }
                if (rev && prev.generation >= p->generation) {
                        res->bucket_generation = prev.generation;
                        snprintf(res->reason, sizeof(res->reason),
                                 "the bucket already names generation %" PRIu64
                                 " (another worker?), not replacing it with %" PRIu64,
                                 prev.generation, p->generation);
                        return NATS_PUBLISH_SUPERSEDED;
                }
                r = publish_chunks(p, res->reason, sizeof(res->reason));
                if (r < 0)
                        return r;
                res->timing.chunks_stored = now_realtime_usec();
                NatsManifest m = {
                    .generation = p->generation,
                    .bytes = wire_bytes(p),
                    .chunks = p->n_chunks,
                    .chunk_bytes = p->chunk_bytes,
                    .xxh3 = p->xxh3,
                    .first_seq = p->first_seq,
                    .last_seq = p->last_seq,
                    .encoding = p->encoding,
                    .raw_bytes = p->len,
                };
                strcpy_checked(m.subject, sizeof(m.subject), p->subject);
                char text[NATS_MANIFEST_MAX_BYTES];
                size_t tl = nats_manifest_format(&m, text, sizeof(text));
                uint64_t newrev = 0;
                natsStatus s =
                    rev ? kvStore_Update(&newrev, p->kv, NATS_MANIFEST_KEY, text, (int)tl, rev)
                        : kvStore_Create(&newrev, p->kv, NATS_MANIFEST_KEY, text, (int)tl);
                if (s == NATS_OK) {
                        res->timing.manifest_stored = now_realtime_usec();
                        res->revision = newrev;
                        purge_before(p, prev.first_seq);
                        return NATS_PUBLISHED;
                }
                /* Lost the compare-and-swap, or the answer: read again and decide (a
                 * manifest that is now ours means the first try did land). */
                int e =
                    nats_error(s, "manifest compare-and-swap", res->reason, sizeof(res->reason));
                if (e == -ETIMEDOUT || e == -ENOTCONN || e == -EAGAIN)
                        return e;
                if (remaining_ms(p) == 0 || stop_requested)
                        return -ETIME;
        }
}

int nats_publish_newest(const Config *cfg, uint64_t deadline_usec, NatsPublishResult *res)
{
        *res = (NatsPublishResult){.timing.start = now_realtime_usec()};
        _cleanup_(freep) void *owned = NULL;
        Publisher p = {
            .cfg = &cfg->nats,
            .lock = PTHREAD_MUTEX_INITIALIZER,
            .ready_cond = PTHREAD_COND_INITIALIZER,
            .encoding =
                PUBLISH_DEFLATE_LEVEL > 0 ? NATS_ENCODING_DEFLATE_CHUNKS : NATS_ENCODING_IDENTITY,
            .deadline =
                deadline_usec ? deadline_usec : now_monotonic_usec() + NATS_PUBLISH_DEFAULT_TIMEOUT,
        };
        nats_stream_name(p.stream, sizeof(p.stream), cfg->nats.bucket);
        int r = read_newest(cfg->snapshot_dir, cfg->max_snapshot_bytes, &p);
        owned = p.buf;
        if (r < 0) {
                snprintf(res->reason, sizeof(res->reason), "cannot read the newest snapshot: %s",
                         strerror(-r));
                return r;
        }
        res->generation = p.generation;
        res->bytes = p.len;
        res->timing.read = now_realtime_usec();
        if (getrandom(&p.nonce, sizeof(p.nonce), 0) != sizeof(p.nonce))
                p.nonce = now_realtime_usec() ^ ((uint64_t)getpid() << 32);
        char prefix[128]; /* bucket names are at most 64 bytes */
        nats_chunk_subject_prefix(prefix, sizeof(prefix), cfg->nats.bucket);
        snprintf(p.subject, sizeof(p.subject), "%s.%" PRIu64 ".%016" PRIx64, prefix, p.generation,
                 p.nonce);

        uint64_t backoff = 100 * USEC_PER_MSEC;
        for (;;) {
                res->attempts++;
                r = attempt(&p, res);
                if (r >= 0 || r == -ECANCELED)
                        break;
                log_debug("NATS publish attempt %u: %s", res->attempts, res->reason);
                /* A request that timed out may have left the connection unusable (a server
                 * died): start from a fresh one; published chunks are kept. */
                publisher_disconnect(&p, false);
                if (stop_requested) {
                        r = -ECANCELED;
                        break;
                }
                uint64_t now = now_monotonic_usec();
                if (now + backoff >= p.deadline) {
                        r = r == -ETIME ? r : -ETIMEDOUT;
                        break;
                }
                usleep((useconds_t)backoff);
                backoff = MIN(backoff * 2, USEC_PER_SEC);
        }
        res->chunks = p.n_chunks;
        res->wire_bytes = wire_bytes(&p);
        /* Drained: every ack callback has returned, and every reply libnats read has been
         * destroyed while its garbage collector still runs (nats_drain_close). */
        publisher_disconnect(&p, true);
        stop_deflaters(&p);
        /* deflating overlaps storing: this stamps when the last chunk was ready */
        res->timing.compressed = p.deflated_at ? p.deflated_at : res->timing.connected;
        free(p.acked);
        /* and libnats' own threads are done before the process exits, as tally-sync's
         * main does. This stops libnats' garbage collector first: a reply destroyed after
         * it was never freed (the 171-byte PubAck LeakSanitizer reported now and then in
         * sync-soak, its destroy at the end of libnats' async-ack callback racing this
         * exit), hence the drain above. */
        (void)nats_CloseAndWait(5000);
        return r;
}

int nats_publish_step(const Config *cfg, uint64_t deadline_usec)
{
        if (!nats_config_enabled(&cfg->nats))
                return 0;
        NatsPublishResult res;
        uint64_t t0 = now_monotonic_usec();
        int r = nats_publish_newest(cfg, deadline_usec, &res);
        uint64_t ms = (now_monotonic_usec() - t0) / USEC_PER_MSEC;
        if (r == NATS_PUBLISHED || r == NATS_PUBLISH_ALREADY) {
                log_info("snapshot %" PRIu64 " %s NATS bucket %s: %" PRIu64 " bytes (%" PRIu64
                         " on the wire) in %" PRIu64 " chunks, manifest revision %" PRIu64
                         ", %u attempt%s, %" PRIu64 " ms",
                         res.generation, r == NATS_PUBLISHED ? "published to" : "already in",
                         cfg->nats.bucket, res.bytes, res.wire_bytes, res.chunks, res.revision,
                         res.attempts, res.attempts == 1 ? "" : "s", ms);
                const NatsPublishTiming *t = &res.timing;
                /* bench/cluster reads this line (realtime usec) */
                log_debug("publish timing: generation %" PRIu64 " start %" PRIu64
                          " connected %" PRIu64 " read %" PRIu64 " compressed %" PRIu64
                          " chunks %" PRIu64 " manifest %" PRIu64,
                          res.generation, t->start, t->connected, t->read, t->compressed,
                          t->chunks_stored, t->manifest_stored);
                return 0;
        }
        log_error("snapshot %" PRIu64 " written locally but not published to NATS bucket %s "
                  "(exit %d): %s",
                  res.generation, cfg->nats.bucket, EXIT_NATS_UNPUBLISHED, res.reason);
        return EXIT_NATS_UNPUBLISHED;
}
