/* cluster-tool: what the cluster suite needs from NATS that Debian 12 has no CLI for.
 *   cluster-tool SERVERS BUCKET leader STREAM    prints the stream's leader (server name)
 *   cluster-tool SERVERS BUCKET manifest         prints the current manifest
 *   cluster-tool SERVERS BUCKET damage MODE FILE GEN
 *                                      puts a damaged snapshot into the bucket as GEN
 * MODE: garbage (random bytes, honest xxh3), xxh3 (FILE's bytes, wrong xxh3), flip (FILE
 * with one payload byte flipped, honest xxh3: only the snapshot's own checksum catches it),
 * missing (a manifest naming a chunk never published); deflated ones: truncated (FILE
 * deflated, the stream's last KiB cut off), raw-over (FILE deflated, raw_bytes announcing
 * 4 KiB more than it inflates to), bomb (64 MiB of zeros deflated, announced as FILE's
 * size), bomb-big (300 MiB of zeros, announced honestly: over max_snapshot_bytes), ratio
 * (FILE deflated, raw_bytes claiming more than deflate can expand); per chunk
 * (deflate-chunks): chunk-lie (FILE deflated chunk by chunk, chunk 0 from one byte less
 * than its slice, so it inflates short: the sizes still add up); and one that is no
 * damage: whole (FILE honestly deflated as a whole, encoding deflate, as an older
 * tally-worker publishes it; it must be accepted). For truncated and
 * raw-over the manifest's xxh3 is FILE's with a bit flipped (another per mode), so tally-sync's
 * memory of refused (generation, xxh3) pairs does not take one for the other: both are refused
 * before that hash is compared.
 * It writes through the same wire contract as tally-worker (nats_manifest.h), with a
 * compare-and-swap on the revision it read, so the damage is exactly what a buggy or
 * hostile publisher could leave. */
#include <inttypes.h>
#include <libdeflate.h>
#include <sys/random.h>
#include <xxhash.h>

#include "config.h"
#include "nats_connect.h"
#include "nats_manifest.h"

static int die(const char *what, natsStatus s)
{
        fprintf(stderr, "cluster-tool: %s: %s %s\n", what, natsStatus_GetText(s),
                nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "");
        return 1;
}

static int read_file(const char *path, char **ret, size_t *len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return -errno;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        rewind(f);
        *ret = malloc((size_t)n);
        if (!*ret || fread(*ret, 1, (size_t)n, f) != (size_t)n) {
                fclose(f);
                return -EIO;
        }
        fclose(f);
        *len = (size_t)n;
        return 0;
}

int main(int argc, char **argv)
{
        if (argc < 4) {
                fprintf(stderr, "usage: cluster-tool SERVERS BUCKET leader STREAM | manifest | "
                                "damage MODE FILE GEN\n");
                return 64;
        }
        /* [nats] read the way the programs read it */
        char text[NATS_MANIFEST_MAX_BYTES + 4096], reason[512];
        snprintf(text, sizeof(text), "[nats]\nservers = %s\nbucket = %s\n", argv[1], argv[2]);
        Config *config = NULL;
        _cleanup_(config_errors_freep) ConfigErrors *errors = NULL;
        if (config_parse("cluster-tool", text, &config, &errors) != 0) {
                for (size_t i = 0; errors && i < errors->n; i++)
                        fprintf(stderr, "cluster-tool: %s\n",
                                config_error_format(&errors->items[i], reason, sizeof(reason)));
                return 64;
        }
        NatsConfig cfg = config->nats;
        natsConnection *nc = NULL;
        jsCtx *js = NULL;
        kvStore *kv = NULL;
        if (nats_connect(&cfg, false, 2000, NULL, &nc, reason, sizeof(reason)) < 0) {
                fprintf(stderr, "cluster-tool: %s\n", reason);
                return 1;
        }
        natsStatus s = natsConnection_JetStream(&js, nc, NULL);
        if (s != NATS_OK)
                return die("JetStream", s);
        const char *cmd = argv[3];
        if (strcmp(cmd, "leader") == 0 && argc == 5) {
                jsStreamInfo *si = NULL;
                jsErrCode jerr = 0;
                s = js_GetStreamInfo(&si, js, argv[4], NULL, &jerr);
                if (s != NATS_OK)
                        return die("stream info", s);
                printf("%s\n", si->Cluster && si->Cluster->Leader ? si->Cluster->Leader : "");
                jsStreamInfo_Destroy(si);
                jsCtx_Destroy(js);
                natsConnection_Destroy(nc);
                config_free(config);
                nats_Close();
                return 0;
        }
        if (nats_open_bucket(&cfg, js, false, &kv, reason, sizeof(reason)) < 0) {
                fprintf(stderr, "cluster-tool: %s\n", reason);
                return 1;
        }
        kvEntry *e = NULL;
        s = kvStore_Get(&e, kv, NATS_MANIFEST_KEY);
        if (s != NATS_OK)
                return die("manifest", s);
        if (strcmp(cmd, "manifest") == 0) {
                fwrite(kvEntry_Value(e), 1, (size_t)kvEntry_ValueLen(e), stdout);
                kvEntry_Destroy(e);
                kvStore_Destroy(kv);
                jsCtx_Destroy(js);
                natsConnection_Destroy(nc);
                config_free(config);
                nats_Close();
                return 0;
        }
        if (strcmp(cmd, "damage") != 0 || argc != 7)
                return 64;
        const char *mode = argv[4];
        /* the current manifest may itself be one of ours that does not parse: only its
         * revision matters */
        uint64_t rev = kvEntry_Revision(e);
        char *buf = NULL;
        size_t len = 0;
        if (read_file(argv[5], &buf, &len) < 0)
                return 1;
        if (strcmp(mode, "garbage") == 0)
                (void)!getrandom(buf, len, 0);
        else if (strcmp(mode, "flip") == 0)
                buf[len / 2] ^= 0x20;
        NatsManifest d = {
            .generation = strtoull(argv[6], NULL, 10), .bytes = len, .xxh3 = XXH3_64bits(buf, len)};
        bool deflated = true;
        size_t wire_len[64] = {};
        if (strcmp(mode, "bomb") == 0 || strcmp(mode, "bomb-big") == 0) {
                size_t zeros = (size_t)(strcmp(mode, "bomb") == 0 ? 64 : 300) << 20;
                free(buf);
                buf = calloc(zeros, 1);
                if (!buf)
                        return 1;
                d.xxh3 = XXH3_64bits(buf, zeros);
                d.raw_bytes = strcmp(mode, "bomb") == 0 ? len : zeros;
                len = zeros;
        } else if (strcmp(mode, "whole") == 0) {
                d.raw_bytes = len;
        } else if (strcmp(mode, "truncated") == 0 || strcmp(mode, "raw-over") == 0 ||
                   strcmp(mode, "ratio") == 0) {
                d.raw_bytes = len;
                d.xxh3 ^= strcmp(mode, "truncated") == 0  ? 2
                          : strcmp(mode, "raw-over") == 0 ? 4
                                                          : 8;
        } else if (strcmp(mode, "chunk-lie") == 0) {
                /* each slice deflated on its own, as tally-worker does */
                deflated = false;
                d.encoding = NATS_ENCODING_DEFLATE_CHUNKS;
                d.raw_bytes = len;
                d.xxh3 ^= 16;
                d.chunk_bytes = (uint64_t)natsConnection_GetMaxPayload(nc) - 4096;
                d.chunks = (len + d.chunk_bytes - 1) / d.chunk_bytes;
                struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
                char *out = malloc(len);
                size_t at = 0;
                for (uint64_t i = 0; out && i < d.chunks; i++) {
                        size_t off = (size_t)(i * d.chunk_bytes);
                        size_t n = MIN(d.chunk_bytes, len - off), in = i == 0 ? n - 1 : n;
                        size_t k = libdeflate_deflate_compress(c, buf + off, in, out + at, n - 1);
                        if (k == 0) { /* does not shrink: as is (chunk 0 must lie: give up) */
                                if (i == 0)
                                        return 1;
                                memcpy(out + at, buf + off, n);
                                k = n;
                        }
                        wire_len[i < 64 ? i : 63] = k; /* the first 64 are enough here */
                        at += k;
                }
                libdeflate_free_compressor(c);
                if (!out || d.chunks > 64)
                        return 1;
                free(buf);
                buf = out;
                len = at;
                d.bytes = at;
        } else if (strcmp(mode, "xxh3") == 0 || strcmp(mode, "missing") == 0 ||
                   strcmp(mode, "garbage") == 0 || strcmp(mode, "flip") == 0) {
                deflated = false;
                if (strcmp(mode, "xxh3") == 0)
                        d.xxh3 ^= 1;
        } else
                return 64;
        if (deflated) {
                /* the bombs' zeros shrink about 1000:1 */
                struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
                size_t cap = libdeflate_deflate_compress_bound(c, len);
                char *out = malloc(cap);
                size_t n = out ? libdeflate_deflate_compress(c, buf, len, out, cap) : 0;
                libdeflate_free_compressor(c);
                if (n == 0)
                        return 1;
                free(buf);
                buf = out;
                len = n;
                if (strcmp(mode, "truncated") == 0)
                        len -= MIN(len / 2, 1024);
                else if (strcmp(mode, "raw-over") == 0)
                        d.raw_bytes += 4096;
                else if (strcmp(mode, "ratio") == 0)
                        d.raw_bytes = (uint64_t)len * (NATS_DEFLATE_MAX_RATIO + 1);
                d.encoding = NATS_ENCODING_DEFLATE;
                d.bytes = len;
                d.wire_xxh3 = XXH3_64bits(buf, len);
        }
        if (d.encoding != NATS_ENCODING_DEFLATE_CHUNKS) {
                d.chunk_bytes = (uint64_t)natsConnection_GetMaxPayload(nc) - 4096;
                d.chunks = (len + d.chunk_bytes - 1) / d.chunk_bytes;
        }
        uint64_t nonce;
        (void)!getrandom(&nonce, sizeof(nonce), 0);
        char prefix[128], stream[128];
        nats_chunk_subject_prefix(prefix, sizeof(prefix), cfg.bucket);
        nats_stream_name(stream, sizeof(stream), cfg.bucket);
        snprintf(d.subject, sizeof(d.subject), "%s.%" PRIu64 ".%016" PRIx64, prefix, d.generation,
                 nonce);
        uint64_t publish = strcmp(mode, "missing") == 0 ? d.chunks - 1 : d.chunks;
        if (publish == 0) { /* one chunk only: publish it under another index */
                publish = 1;
        }
        for (uint64_t i = 0, at = 0; i < publish; i++) {
                size_t off = (size_t)(i * d.chunk_bytes);
                size_t n = MIN(d.chunk_bytes, len - off);
                if (d.encoding == NATS_ENCODING_DEFLATE_CHUNKS) { /* variable sizes */
                        off = at;
                        n = wire_len[i];
                        at += n;
                }
                natsMsg *msg = NULL;
                char idx[24];
                snprintf(idx, sizeof(idx), "%" PRIu64,
                         strcmp(mode, "missing") == 0 && d.chunks == 1 ? 0 : i);
                jsPubAck *ack = NULL;
                jsErrCode jerr = 0;
                s = natsMsg_Create(&msg, d.subject, NULL, buf + off,
                                   strcmp(mode, "missing") == 0 && d.chunks == 1 ? (int)n - 1
                                                                                 : (int)n);
                if (s == NATS_OK)
                        s = natsMsgHeader_Set(msg, NATS_CHUNK_HEADER, idx);
                if (s == NATS_OK)
                        s = js_PublishMsg(&ack, js, msg, NULL, &jerr);
                if (s != NATS_OK)
                        return die("publish", s);
                if (i == 0)
                        d.first_seq = ack->Sequence;
                d.last_seq = ack->Sequence;
                jsPubAck_Destroy(ack);
                natsMsg_Destroy(msg);
        }
        if (d.last_seq - d.first_seq + 1 < d.chunks)
                d.last_seq = d.first_seq + d.chunks - 1; /* claim the missing one */
        size_t tl = nats_manifest_format(&d, text, sizeof(text));
        uint64_t newrev;
        s = kvStore_Update(&newrev, kv, NATS_MANIFEST_KEY, text, (int)tl, rev);
        if (s != NATS_OK)
                return die("manifest update", s);
        printf("%" PRIu64 "\n", d.generation);
        kvEntry_Destroy(e);
        kvStore_Destroy(kv);
        jsCtx_Destroy(js);
        natsConnection_Destroy(nc);
        config_free(config);
        free(buf);
        nats_Close();
        return 0;
}
