/* tally-sync's fetch (sync/fetch.h) against a real nats-server it starts on loopback
 * (skipped without one). The case that crashed tally-sync in the cluster suite: a
 * deflate-chunks snapshot whose chunk 0 is refused while the replies for chunks 1..3 (the
 * size of a whole chunk each) are still arriving. libnats 3.4 crashes its read loop if the
 * subscription those replies are for is freed under it, so many such fetches in a row
 * must each be refused with the reason, and an honest fetch on the same connection
 * afterwards must still get exactly the file. */
#include <dirent.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>
#include <xxhash.h>

#include "config.h"
#include "deflatefix.h"
#include "fetch.h"
#include "nats_connect.h"
#include "nats_manifest.h"
#include "test.h"

#define CHUNKS          4
#define REFUSED_FETCHES 40

static char dir[512];
static pid_t server = -1;
static natsConnection *nc;
static jsCtx *js;
static kvStore *kv;
static FetchInbox *inbox;
static Config *config;
static char stream[128], prefix[128];
static size_t slice;       /* chunk_bytes: a whole max_payload less room for headers */
static char *raw;          /* the file: CHUNKS slices */
static char *lie, *honest; /* chunk 0 deflated from one byte short of its slice, and right */
static size_t lie_len, honest_len;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

static void stop_server(void)
{
        if (server > 0) {
                kill(server, SIGTERM);
                waitpid(server, NULL, 0);
        }
        if (dir[0])
                nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* nats-server on 127.0.0.1, a port of its choosing (read from its ports file), max_payload
 * 8 MB so each in-flight reply takes the read loop a while to copy. 0, or -1 if there is
 * no nats-server. */
static int start_server(char *url, size_t n)
{
        char path[1024], conf[2048];
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof(dir), "%s/tally-test-fetch.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir))
                return -1;
        snprintf(path, sizeof(path), "%s/nats.conf", dir);
        FILE *f = fopen(path, "w");
        if (!f)
                return -1;
        snprintf(conf, sizeof(conf),
                 "listen: 127.0.0.1:-1\nmax_payload: 8MB\nports_file_dir: \"%s\"\n"
                 "jetstream { store_dir: \"%s/js\", max_memory_store: 64MB, "
                 "max_file_store: 1GB }\n",
                 dir, dir);
        fputs(conf, f);
        fclose(f);
        server = fork();
        if (server == 0) {
                char log[1024];
                snprintf(log, sizeof(log), "%s/nats.log", dir);
                (void)!freopen(log, "w", stdout);
                dup2(fileno(stdout), 2);
                execlp("nats-server", "nats-server", "-c", path, (char *)NULL);
                _exit(127);
        }
        for (uint64_t end = now_monotonic_usec() + 20 * USEC_PER_SEC; now_monotonic_usec() < end;
             usleep(20000)) {
                int status;
                if (waitpid(server, &status, WNOHANG) == server) {
                        server = -1;
                        return -1;
                }
                DIR *d = opendir(dir);
                struct dirent *e;
                while (d && (e = readdir(d))) {
                        size_t l = strlen(e->d_name);
                        if (l < 6 || strcmp(e->d_name + l - 6, ".ports") != 0)
                                continue;
                        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                        FILE *p = fopen(path, "r");
                        char text[512] = "";
                        size_t got = p ? fread(text, 1, sizeof(text) - 1, p) : 0;
                        if (p)
                                fclose(p);
                        text[got] = 0;
                        char *u = strstr(text, "nats://"), *q = u ? strchr(u, '"') : NULL;
                        if (q) {
                                *q = 0;
                                snprintf(url, n, "%s", u);
                                closedir(d);
                                return 0;
                        }
                }
                if (d)
                        closedir(d);
        }
        return -1;
}

/* Publishes one chunk; its stream sequence in *seq. */
static natsStatus publish(const char *subject, uint64_t idx, const char *data, size_t len,
                          uint64_t *seq)
{
        natsMsg *msg = NULL;
        jsPubAck *ack = NULL;
        jsErrCode jerr = 0;
        char text[24];
        snprintf(text, sizeof(text), "%" PRIu64, idx);
        natsStatus s = natsMsg_Create(&msg, subject, NULL, data, (int)len);
        if (s == NATS_OK)
                s = natsMsgHeader_Set(msg, NATS_CHUNK_HEADER, text);
        if (s == NATS_OK)
                s = js_PublishMsg(&ack, js, msg, NULL, &jerr);
        if (s == NATS_OK)
                *seq = ack->Sequence;
        jsPubAck_Destroy(ack);
        natsMsg_Destroy(msg);
        return s;
}

/* The chunks of generation gen, chunk 0 as given, the others as is; the manifest in *m. */
static natsStatus publish_snapshot(uint64_t gen, const char *chunk0, size_t chunk0_len,
                                   NatsManifest *m)
{
        *m = (NatsManifest){.generation = gen,
                            .chunks = CHUNKS,
                            .chunk_bytes = slice,
                            .xxh3 = XXH3_64bits(raw, CHUNKS * slice),
                            .encoding = NATS_ENCODING_DEFLATE_CHUNKS,
                            .raw_bytes = CHUNKS * slice};
        snprintf(m->subject, sizeof(m->subject), "%s.%" PRIu64 ".00000000000000%02" PRIx64, prefix,
                 gen, gen);
        natsStatus s = publish(m->subject, 0, chunk0, chunk0_len, &m->first_seq);
        m->bytes = chunk0_len;
        for (uint64_t i = 1; s == NATS_OK && i < CHUNKS; i++) {
                s = publish(m->subject, i, raw + i * slice, slice, &m->last_seq);
                m->bytes += slice;
        }
        return s;
}

static void refused_chunk_0_leaves_the_connection_working(void)
{
        NatsManifest m;
        volatile int stop = 0;
        char reason[512] = "";
        CHECK_EQ_INT(publish_snapshot(1, lie, lie_len, &m), NATS_OK);
        for (int i = 0; i < REFUSED_FETCHES; i++) {
                void *buf = NULL;
                FetchTiming t = {};
                reason[0] = 0;
                CHECK_EQ_INT(
                    fetch_snapshot(inbox, js, stream, &m, &stop, &buf, &t, reason, sizeof(reason)),
                    FETCH_DAMAGED);
                CHECK(strstr(reason, "chunk 0 at sequence"));
                CHECK(strstr(reason, "the deflated bytes inflate to"));
                CHECK(buf == NULL);
        }
        /* the same connection and inbox, a fetch that must succeed */
        NatsManifest ok;
        CHECK_EQ_INT(publish_snapshot(2, honest, honest_len, &ok), NATS_OK);
        void *buf = NULL;
        FetchTiming t = {};
        CHECK_EQ_INT(
            fetch_snapshot(inbox, js, stream, &ok, &stop, &buf, &t, reason, sizeof(reason)),
            FETCH_OK);
        CHECK(memcmp(buf, raw, CHUNKS * slice) == 0);
        free(buf);
}

static void missing_manifest_chunks_are_counted(void)
{
        /* a manifest naming sequences past the stream's end: the window's status replies */
        NatsManifest m;
        volatile int stop = 0;
        char reason[512] = "";
        CHECK_EQ_INT(publish_snapshot(3, honest, honest_len, &m), NATS_OK);
        m.chunks = CHUNKS + 1;
        m.raw_bytes = (CHUNKS + 1) * slice;
        m.last_seq += 1;
        void *buf = NULL;
        FetchTiming t = {};
        CHECK_EQ_INT(fetch_snapshot(inbox, js, stream, &m, &stop, &buf, &t, reason, sizeof(reason)),
                     FETCH_DAMAGED);
        CHECK(strstr(reason, "only 4 of 5 chunks"));
}

int test_failures_in_case;

int main(void)
{
        static const TestCase cases[] = {TEST_CASE(refused_chunk_0_leaves_the_connection_working),
                                         TEST_CASE(missing_manifest_chunks_are_counted)};
        char url[256], text[512], reason[512];
        if (start_server(url, sizeof(url)) < 0) {
                stop_server();
                printf("1..0 # SKIP no nats-server could be started\n");
                return 0;
        }
        snprintf(text, sizeof(text), "[nats]\nservers = %s\nbucket = fetch\nreplicas = 1\n", url);
        _cleanup_(config_errors_freep) ConfigErrors *errors = NULL;
        int r = config_parse("test-fetch", text, &config, &errors);
        if (r == 0)
                r = nats_connect(&config->nats, false, 2000, NULL, &nc, reason, sizeof(reason));
        if (r == 0 && natsConnection_JetStream(&js, nc, NULL) != NATS_OK)
                r = -EIO;
        /* JetStream may answer a moment after the port is open */
        uint64_t end = now_monotonic_usec() + 20 * USEC_PER_SEC;
        while (r == 0 &&
               nats_open_bucket(&config->nats, js, true, &kv, reason, sizeof(reason)) < 0) {
                if (now_monotonic_usec() >= end)
                        r = -ETIMEDOUT;
                usleep(50000);
        }
        if (r == 0)
                r = fetch_inbox_new(nc, &inbox, reason, sizeof(reason));
        if (r != 0) {
                fprintf(stderr, "# setup: %d %s\n", r, reason);
                stop_server();
                return 1;
        }
        nats_stream_name(stream, sizeof(stream), config->nats.bucket);
        nats_chunk_subject_prefix(prefix, sizeof(prefix), config->nats.bucket);
        slice = (size_t)natsConnection_GetMaxPayload(nc) - 4096;
        raw = malloc(CHUNKS * slice);
        for (size_t i = 0; i < CHUNKS * slice; i++)
                raw[i] = "tally snapshot row "[i % 19] + (char)(i / 4099 % 7);
        lie = deflatefix_compress(raw, slice - 1, 1, &lie_len);
        honest = deflatefix_compress(raw, slice, 1, &honest_len);

        r = test_run(cases, ELEMENTSOF(cases));

        /* the inbox only after the connection is closed (fetch.h) */
        natsConnection_Close(nc);
        inbox = fetch_inbox_free(inbox);
        kvStore_Destroy(kv);
        jsCtx_Destroy(js);
        natsConnection_Destroy(nc);
        config = config_free(config);
        free(raw);
        free(lie);
        free(honest);
        nats_Close();
        stop_server();
        return r;
}
