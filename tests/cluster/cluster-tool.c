/* cluster-tool: what the cluster suite needs from NATS that Debian 12 has no CLI for.
 *   cluster-tool SERVERS BUCKET leader STREAM    prints the stream's leader (server name)
 *   cluster-tool SERVERS BUCKET manifest         prints the current manifest
 *   cluster-tool SERVERS BUCKET damage MODE FILE GEN
 *                                      puts a damaged snapshot into the bucket as GEN
 * MODE: garbage (random bytes, honest xxh3), xxh3 (FILE's bytes, wrong xxh3), flip (FILE
 * with one payload byte flipped, honest xxh3: only the snapshot's own checksum catches it),
 * missing (a manifest naming a chunk never published).
 * It writes through the same wire contract as tally-worker (nats_manifest.h), with a
 * compare-and-swap on the revision it read, so the damage is exactly what a buggy or
 * hostile publisher could leave. */
#include <inttypes.h>
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
        NatsManifest m;
        if (nats_manifest_parse(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e), cfg.bucket, &m,
                                reason, sizeof(reason)) < 0) {
                fprintf(stderr, "cluster-tool: current manifest: %s\n", reason);
                return 1;
        }
        uint64_t rev = kvEntry_Revision(e);
        char *buf = NULL;
        size_t len = 0;
        if (read_file(argv[5], &buf, &len) < 0)
                return 1;
        if (strcmp(mode, "garbage") == 0)
                (void)!getrandom(buf, len, 0);
        else if (strcmp(mode, "flip") == 0)
                buf[len / 2] ^= 0x20;
        else if (strcmp(mode, "xxh3") != 0 && strcmp(mode, "missing") != 0)
                return 64;

        NatsManifest d = {
            .generation = strtoull(argv[6], NULL, 10), .bytes = len, .xxh3 = XXH3_64bits(buf, len)};
        if (strcmp(mode, "xxh3") == 0)
                d.xxh3 ^= 1;
        d.chunk_bytes = (uint64_t)natsConnection_GetMaxPayload(nc) - 4096;
        d.chunks = (len + d.chunk_bytes - 1) / d.chunk_bytes;
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
        for (uint64_t i = 0; i < publish; i++) {
                size_t off = (size_t)(i * d.chunk_bytes);
                size_t n = MIN(d.chunk_bytes, len - off);
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
