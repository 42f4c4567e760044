#include "fetch.h"

#include <inttypes.h>
#include <xxhash.h>

#include "nats_connect.h"

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

int fetch_snapshot(jsCtx *js, const char *stream, const NatsManifest *m, volatile const int *stop,
                   void **ret_buf, char *reason, size_t rs)
{
        _cleanup_free_ char *buf = malloc(m->bytes);
        _cleanup_free_ uint8_t *have = calloc(m->chunks, 1);
        uint64_t got = 0;
        if (!buf || !have)
                return -ENOMEM;
        for (uint64_t seq = m->first_seq; seq <= m->last_seq && got < m->chunks; seq++) {
                if (*stop)
                        return -ECANCELED;
                natsMsg *msg = NULL;
                natsStatus s = get_chunk(js, stream, seq, &msg);
                if (s == NATS_NOT_FOUND)
                        continue; /* purged or deleted: counted as missing below */
                if (s != NATS_OK)
                        return nats_error(s, "cannot fetch a chunk", reason, rs);
                uint64_t idx;
                const char *subj = chunk_subject(msg);
                if (!subj || strcmp(subj, m->subject) != 0) {
                        natsMsg_Destroy(msg); /* another publish interleaved: not ours */
                        continue;
                }
                if (chunk_index(msg, m->chunks, &idx) < 0) {
                        natsMsg_Destroy(msg);
                        snprintf(reason, rs, "chunk at sequence %" PRIu64 " has no valid %s", seq,
                                 NATS_CHUNK_HEADER);
                        return FETCH_DAMAGED;
                }
                uint64_t off = idx * m->chunk_bytes;
                uint64_t want = MIN(m->chunk_bytes, m->bytes - off);
                int len = natsMsg_GetDataLength(msg);
                if (have[idx] || len < 0 || (uint64_t)len != want) {
                        snprintf(reason, rs,
                                 "chunk %" PRIu64 " at sequence %" PRIu64
                                 " is %d bytes, expected %" PRIu64 "%s",
                                 idx, seq, len, want, have[idx] ? " (and a duplicate)" : "");
                        natsMsg_Destroy(msg);
                        return FETCH_DAMAGED;
                }
                memcpy(buf + off, natsMsg_GetData(msg), want);
                natsMsg_Destroy(msg);
                have[idx] = 1;
                got++;
        }
        if (got != m->chunks) {
                snprintf(reason, rs, "only %" PRIu64 " of %" PRIu64 " chunks in the stream", got,
                         m->chunks);
                return FETCH_DAMAGED;
        }
        uint64_t sum = XXH3_64bits(buf, m->bytes);
        if (sum != m->xxh3) {
                snprintf(reason, rs,
                         "xxh3 of the reassembled file is %016" PRIx64
                         ", the manifest says %016" PRIx64,
                         sum, m->xxh3);
                return FETCH_DAMAGED;
        }
        *ret_buf = TAKE_PTR(buf);
        return FETCH_OK;
}
