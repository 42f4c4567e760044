#include "fetch.h"

#include <inttypes.h>
#include <libdeflate.h>
#include <xxhash.h>

#include "inflate.h"
#include "nats_connect.h"

/* How long one outstanding direct get may take before the fetch counts as failed (and is
 * retried): a replica that died mid-fetch never answers. */
#define FETCH_REPLY_TIMEOUT_MSEC 5000

typedef struct Assembly {
        const NatsManifest *m;
        char *buf; /* m->bytes; for deflate-chunks m->raw_bytes, each chunk inflated into place */
        uint8_t *have;
        uint64_t got;
        uint64_t wire;                     /* bytes received in placed chunks */
        struct libdeflate_decompressor *d; /* deflate-chunks only */
} Assembly;

/* Tally-Chunk: decimal index, nothing else. */
static int chunk_index(natsMsg *msg, uint64_t n_chunks, uint64_t *ret)
{
        const char *v = NULL;
        if (natsMsgHeader_Get(msg, NATS_CHUNK_HEADER, &v) != NATS_OK || !v)
                return -EINVAL;
        return parse_uint(v, 0, n_chunks - 1, ret);
}

/* A direct get is answered by any replica with the raw bytes (the stream allows it); the
 * API get goes to the leader and wraps them in base64 JSON, a third more on the wire. A
 * replica that has not caught up answers "not found": ask the leader then. */
static natsStatus get_chunk(jsCtx *js, const char *stream, uint64_t seq, natsMsg **ret)
{
        jsDirectGetMsgOptions o;
        jsDirectGetMsgOptions_Init(&o);
        o.Sequence = seq;
        natsStatus s = js_DirectGetMsg(ret, js, stream, NULL, &o);
        if (s == NATS_OK)
                return s;
        jsErrCode jerr = 0;
        return js_GetMsg(ret, js, stream, seq, NULL, &jerr);
}

/* The subject the chunk was published on: a direct get's reply carries it in a header. */
static const char *chunk_subject(natsMsg *msg)
{
        const char *v = NULL;
        if (natsMsgHeader_Get(msg, "Nats-Subject", &v) == NATS_OK && v)
                return v;
        return natsMsg_GetSubject(msg);
}

/* Places the message stored at seq (and destroys it): 0, or FETCH_DAMAGED. */
static int take_chunk(Assembly *a, uint64_t seq, natsMsg *msg, char *reason, size_t rs)
{
        const NatsManifest *m = a->m;
        uint64_t idx;
        const char *subj = chunk_subject(msg);
        if (!subj || strcmp(subj, m->subject) != 0) {
                natsMsg_Destroy(msg); /* another publish interleaved: not ours */
                return 0;
        }
        if (chunk_index(msg, m->chunks, &idx) < 0) {
                natsMsg_Destroy(msg);
                snprintf(reason, rs, "chunk at sequence %" PRIu64 " has no valid %s", seq,
                         NATS_CHUNK_HEADER);
                return FETCH_DAMAGED;
        }
        uint64_t off = idx * m->chunk_bytes;
        bool chunked = m->encoding == NATS_ENCODING_DEFLATE_CHUNKS;
        uint64_t want = MIN(m->chunk_bytes, (chunked ? m->raw_bytes : m->bytes) - off);
        int len = natsMsg_GetDataLength(msg);
        /* deflate-chunks: as is (== want) or deflated (shorter), never longer */
        bool size_ok = len >= 0 && (chunked ? (uint64_t)len <= want : (uint64_t)len == want);
        if (a->have[idx] || !size_ok || a->wire + (uint64_t)len > m->bytes) {
                snprintf(reason, rs,
                         "chunk %" PRIu64 " at sequence %" PRIu64
                         " is %d bytes, expected %s%" PRIu64 "%s",
                         idx, seq, len, chunked ? "at most " : "", want,
                         a->have[idx] ? " (and a duplicate)" : "");
                natsMsg_Destroy(msg);
                return FETCH_DAMAGED;
        }
        if (chunked) {
                char why[200];
                int r = inflate_chunk(a->d, natsMsg_GetData(msg), (size_t)len, a->buf + off,
                                      (size_t)want, why, sizeof(why));
                natsMsg_Destroy(msg);
                if (r != INFLATE_OK) {
                        snprintf(reason, rs, "chunk %" PRIu64 " at sequence %" PRIu64 ": %s", idx,
                                 seq, why);
                        return FETCH_DAMAGED;
                }
        } else {
                memcpy(a->buf + off, natsMsg_GetData(msg), want);
                natsMsg_Destroy(msg);
        }
        a->have[idx] = 1;
        a->got++;
        a->wire += (uint64_t)len;
        return 0;
}

/* How long a fetch refused early waits for the replies still on their way: collected
 * now, they do not sit in libnats until the next fetch drops them. */
#define FETCH_DRAIN_MSEC 1000

struct FetchInbox {
        natsConnection *nc;
        natsInbox *inbox;
        natsSubscription *sub; /* <inbox>.<fetch>.<seq> */
        uint64_t fetches;      /* the number of the newest fetch */
};

int fetch_inbox_new(natsConnection *nc, FetchInbox **ret, char *reason, size_t rs)
{
        _cleanup_(fetch_inbox_freep) FetchInbox *in = calloc(1, sizeof(*in));
        if (!in)
                return -ENOMEM;
        in->nc = nc;
        char wild[128];
        natsStatus s = natsInbox_Create(&in->inbox);
        if (s == NATS_OK) {
                snprintf(wild, sizeof(wild), "%s.*.*", (const char *)in->inbox);
                s = natsConnection_SubscribeSync(&in->sub, nc, wild);
        }
        if (s != NATS_OK)
                return nats_error(s, "cannot subscribe for chunks", reason, rs);
        *ret = TAKE_PTR(in);
        return 0;
}

FetchInbox *fetch_inbox_free(FetchInbox *in)
{
        if (in) {
                natsSubscription_Destroy(in->sub);
                natsInbox_Destroy(in->inbox);
                free(in);
        }
        return NULL;
}

/* The sequence a reply of this fetch (reply subject prefix<seq>) answers, or 0 for a
 * reply to an earlier fetch or anything else: our own reply subject, but still checked,
 * anyone may publish to it. */
static uint64_t reply_seq(natsMsg *msg, const char *prefix, size_t pl, const NatsManifest *m)
{
        const char *subj = natsMsg_GetSubject(msg);
        uint64_t seq = 0;
        if (!subj || strncmp(subj, prefix, pl) != 0 ||
            parse_uint(subj + pl, m->first_seq, m->last_seq, &seq) < 0)
                return 0;
        return seq;
}

/* Takes seq off the outstanding list: false if it was not on it. */
static bool settle(uint64_t *outstanding, unsigned *n_out, uint64_t seq)
{
        for (unsigned k = 0; k < *n_out; k++)
                if (outstanding[k] == seq) {
                        outstanding[k] = outstanding[--*n_out];
                        return true;
                }
        return false;
}

/* Fetches sequences first_seq..last_seq until every chunk is placed, FETCH_WINDOW
 * direct gets outstanding, each on its own reply subject <inbox>.<fetch>.<seq>. A reply
 * that is a status (not found on a lagging replica, no responders) is asked again the
 * slow way. */
static int fetch_window(FetchInbox *in, jsCtx *js, const char *stream, Assembly *a,
                        volatile const int *stop, char *reason, size_t rs)
{
        const NatsManifest *m = a->m;
        char prefix[96], get_subject[160], reply[160], body[48];
        uint64_t outstanding[FETCH_WINDOW];
        unsigned n_out = 0;
        int r = 0;

        int pl = snprintf(prefix, sizeof(prefix), "%s.%" PRIu64 ".", (const char *)in->inbox,
                          ++in->fetches);
        snprintf(get_subject, sizeof(get_subject), "$JS.API.DIRECT.GET.%s", stream);
        uint64_t next = m->first_seq;
        natsStatus s = NATS_OK;
        while (r == 0 && a->got < m->chunks && (next <= m->last_seq || n_out > 0)) {
                if (*stop) {
                        r = -ECANCELED;
                        break;
                }
                while (n_out < FETCH_WINDOW && next <= m->last_seq && s == NATS_OK) {
                        snprintf(reply, sizeof(reply), "%s%" PRIu64, prefix, next);
                        int bl = snprintf(body, sizeof(body), "{\"seq\":%" PRIu64 "}", next);
                        s = natsConnection_PublishRequest(in->nc, get_subject, reply, body, bl);
                        if (s == NATS_OK)
                                outstanding[n_out++] = next++;
                }
                natsMsg *msg = NULL;
                if (s == NATS_OK)
                        s = natsSubscription_NextMsg(&msg, in->sub, FETCH_REPLY_TIMEOUT_MSEC);
                if (s != NATS_OK) {
                        r = nats_error(s, "cannot fetch a chunk", reason, rs);
                        break;
                }
                uint64_t seq = reply_seq(msg, prefix, (size_t)pl, m);
                if (!seq || !settle(outstanding, &n_out, seq)) {
                        natsMsg_Destroy(msg);
                        continue;
                }
                const char *status = NULL;
                if (natsMsgHeader_Get(msg, "Status", &status) == NATS_OK && status) {
                        natsMsg_Destroy(msg);
                        msg = NULL;
                        s = get_chunk(js, stream, seq, &msg);
                        if (s == NATS_NOT_FOUND) {
                                s = NATS_OK;
                                continue; /* purged or deleted: counted as missing */
                        }
                        if (s != NATS_OK) {
                                r = nats_error(s, "cannot fetch a chunk", reason, rs);
                                break;
                        }
                }
                r = take_chunk(a, seq, msg, reason, rs);
        }
        /* A refused chunk leaves replies on their way; the subscription stays (fetch.h) */
        for (uint64_t end = now_monotonic_usec() + FETCH_DRAIN_MSEC * USEC_PER_MSEC;
             r == FETCH_DAMAGED && n_out > 0 && !*stop;) {
                uint64_t now = now_monotonic_usec();
                natsMsg *msg = NULL;
                if (now >= end ||
                    natsSubscription_NextMsg(&msg, in->sub,
                                             (int64_t)((end - now) / USEC_PER_MSEC) + 1) != NATS_OK)
                        break;
                uint64_t seq = reply_seq(msg, prefix, (size_t)pl, m);
                if (seq)
                        (void)settle(outstanding, &n_out, seq);
                natsMsg_Destroy(msg);
        }
        return r;
}

/* The xxh3 of [p, p+n) against the manifest's; false with the reason when they differ. */
static bool xxh3_matches(const void *p, uint64_t n, uint64_t want, const char *what, char *reason,
                         size_t rs)
{
        uint64_t sum = XXH3_64bits(p, n);
        if (sum == want)
                return true;
        snprintf(reason, rs, "xxh3 of the %s is %016" PRIx64 ", the manifest says %016" PRIx64,
                 what, sum, want);
        return false;
}

int fetch_snapshot(FetchInbox *in, jsCtx *js, const char *stream, const NatsManifest *m,
                   volatile const int *stop, void **ret_buf, FetchTiming *timing, char *reason,
                   size_t rs)
{
        bool chunked = m->encoding == NATS_ENCODING_DEFLATE_CHUNKS;
        _cleanup_free_ char *buf = malloc(MAX(chunked ? m->raw_bytes : m->bytes, 1));
        _cleanup_free_ uint8_t *have = calloc(m->chunks, 1);
        if (!buf || !have)
                return -ENOMEM;
        Assembly a = {.m = m, .buf = buf, .have = have};
        if (chunked && !(a.d = libdeflate_alloc_decompressor()))
                return -ENOMEM;
        int r = fetch_window(in, js, stream, &a, stop, reason, rs);
        libdeflate_free_decompressor(a.d);
        if (r != 0)
                return r;
        if (a.got != m->chunks) {
                snprintf(reason, rs, "only %" PRIu64 " of %" PRIu64 " chunks in the stream", a.got,
                         m->chunks);
                return FETCH_DAMAGED;
        }
        if (a.wire != m->bytes) {
                snprintf(reason, rs,
                         "the chunks hold %" PRIu64 " bytes, the manifest says %" PRIu64, a.wire,
                         m->bytes);
                return FETCH_DAMAGED;
        }
        timing->fetched = now_realtime_usec();
        if (!chunked) {
                if (!xxh3_matches(buf, m->bytes, m->wire_xxh3,
                                  m->encoding == NATS_ENCODING_DEFLATE
                                      ? "reassembled deflated bytes"
                                      : "reassembled file",
                                  reason, rs))
                        return FETCH_DAMAGED;
                if (m->encoding == NATS_ENCODING_DEFLATE) {
                        void *raw = NULL;
                        free(TAKE_PTR(have));
                        r = inflate_exact(buf, m->bytes, m->raw_bytes, &raw, reason, rs);
                        if (r < 0)
                                return r;
                        if (r == INFLATE_REFUSED)
                                return FETCH_DAMAGED;
                        free(buf);
                        buf = raw;
                }
        }
        /* deflate-chunks: every chunk is already in place, the inflate hid behind the fetch */
        if (m->encoding != NATS_ENCODING_IDENTITY &&
            !xxh3_matches(buf, m->raw_bytes, m->xxh3, "inflated file", reason, rs))
                return FETCH_DAMAGED;
        timing->inflated = now_realtime_usec();
        *ret_buf = TAKE_PTR(buf);
        return FETCH_OK;
}
