#include "nats_connect.h"

#include <unistd.h>

#include "nats_manifest.h"
#include "util.h"

int nats_error(natsStatus s, const char *what, char *reason, size_t rs)
{
        const char *last = nats_GetLastError(NULL);
        snprintf(reason, rs, "%s: %s%s%s", what, natsStatus_GetText(s), last ? ": " : "",
                 last ? last : "");
        switch (s) {
        case NATS_OK: return 0;
        case NATS_TIMEOUT: return -ETIMEDOUT;
        case NATS_NO_SERVER: return -EHOSTUNREACH;
        case NATS_NOT_FOUND: return -ENOENT;
        case NATS_NO_MEMORY: return -ENOMEM;
        case NATS_CONNECTION_CLOSED:
        case NATS_CONNECTION_DISCONNECTED: return -ENOTCONN;
        case NATS_NO_RESPONDERS: return -EAGAIN;
        default: return -EIO;
        }
}

void nats_drain_close(natsConnection *nc, int64_t timeout_ms)
{
        if (!nc)
                return;
        timeout_ms = MAX(timeout_ms, 1);
        /* libnats closes the connection itself when the drain completes or times out;
         * the margin covers its last flush. */
        uint64_t deadline = now_monotonic_usec() + (uint64_t)(timeout_ms + 500) * USEC_PER_MSEC;
        if (natsConnection_DrainTimeout(nc, timeout_ms) == NATS_OK)
                while (!natsConnection_IsClosed(nc) && now_monotonic_usec() < deadline)
                        usleep(1000);
        natsConnection_Close(nc); /* a no-op once drained */
}

int nats_connect(const NatsConfig *n, bool reconnect_forever, int64_t timeout_ms,
                 const NatsConnectHooks *hooks, natsConnection **ret, char *reason, size_t rs)
{
        natsOptions *opts = NULL;
        natsConnection *nc = NULL;
        natsStatus s = natsOptions_Create(&opts);
        if (s == NATS_OK)
                s = natsOptions_SetServers(opts, (const char **)n->servers, (int)n->n_servers);
        if (s == NATS_OK)
                s = natsOptions_SetTimeout(opts, timeout_ms > 0 ? timeout_ms : 1);
        if (s == NATS_OK)
                s = natsOptions_SetMaxReconnect(opts, reconnect_forever ? -1 : 10);
        if (s == NATS_OK)
                s = natsOptions_SetReconnectWait(opts, 250);
        if (s == NATS_OK)
                s = natsOptions_SetReconnectJitter(opts, 100, 1000);
        /* Detect a dead server within seconds, not the default minutes. */
        if (s == NATS_OK)
                s = natsOptions_SetPingInterval(opts, 2000);
        if (s == NATS_OK)
                s = natsOptions_SetMaxPingsOut(opts, 2);
        /* What is written while disconnected is small requests that are retried anyway:
         * no need for libnats' default 8 MB of buffer per outage. */
        if (s == NATS_OK)
                s = natsOptions_SetReconnectBufSize(opts, 64 * 1024);
        if (s == NATS_OK && hooks && hooks->disconnected)
                s = natsOptions_SetDisconnectedCB(opts, hooks->disconnected, hooks->closure);
        if (s == NATS_OK && hooks && hooks->reconnected)
                s = natsOptions_SetReconnectedCB(opts, hooks->reconnected, hooks->closure);
        if (s == NATS_OK && n->credentials)
                s = natsOptions_SetUserCredentialsFromFiles(opts, n->credentials, NULL);
        if (s == NATS_OK && n->tls_ca)
                s = natsOptions_LoadCATrustedCertificates(opts, n->tls_ca);
        if (s == NATS_OK && n->tls_cert)
                s = natsOptions_LoadCertificatesChain(opts, n->tls_cert, n->tls_key);
        if (s == NATS_OK && (n->tls_ca || n->tls_cert))
                s = natsOptions_SetSecure(opts, true);
        if (s != NATS_OK) {
                natsOptions_Destroy(opts);
                return nats_error(s, "NATS options", reason, rs);
        }
        s = natsConnection_Connect(&nc, opts);
        natsOptions_Destroy(opts);
        if (s != NATS_OK)
                return nats_error(s, "cannot connect to NATS", reason, rs);
        *ret = nc;
        return 0;
}

static int ensure_stream(const NatsConfig *n, jsCtx *js, bool create, char *reason, size_t rs)
{
        char name[128], subjects[NATS_MAX_SUBJECT];
        jsErrCode jerr = 0;
        jsStreamInfo *si = NULL;
        nats_stream_name(name, sizeof(name), n->bucket);
        natsStatus s = js_GetStreamInfo(&si, js, name, NULL, &jerr);
        if (s == NATS_OK) {
                jsStreamInfo_Destroy(si);
                return 0;
        }
        if (s != NATS_NOT_FOUND || !create)
                return nats_error(s, "chunk stream", reason, rs);
        nats_chunk_subject_prefix(subjects, sizeof(subjects) - 2, n->bucket);
        strcat(subjects, ".>");
        const char *subj[] = {subjects};
        jsStreamConfig sc;
        jsStreamConfig_Init(&sc);
        sc.Name = name;
        sc.Subjects = subj;
        sc.SubjectsLen = 1;
        sc.Storage = js_FileStorage;
        sc.Replicas = n->replicas;
        sc.Duplicates = INT64_C(120) * 1000000000; /* a publisher's retries stay deduplicated */
        sc.AllowDirect = true;
        s = js_AddStream(&si, js, &sc, NULL, &jerr);
        if (s == NATS_OK) {
                jsStreamInfo_Destroy(si);
                return 0;
        }
        /* Another worker may have created it in between. */
        if (js_GetStreamInfo(&si, js, name, NULL, &jerr) == NATS_OK) {
                jsStreamInfo_Destroy(si);
                return 0;
        }
        return nats_error(s, "cannot create the chunk stream", reason, rs);
}

int nats_open_bucket(const NatsConfig *n, jsCtx *js, bool create, kvStore **ret_kv, char *reason,
                     size_t rs)
{
        kvStore *kv = NULL;
        natsStatus s = js_KeyValue(&kv, js, n->bucket);
        if (s == NATS_NOT_FOUND && create) {
                kvConfig kc;
                kvConfig_Init(&kc);
                kc.Bucket = n->bucket;
                kc.History = 5;
                kc.Replicas = (int)n->replicas;
                kc.StorageType = js_FileStorage;
                kc.MaxValueSize = NATS_MANIFEST_MAX_BYTES;
                s = js_CreateKeyValue(&kv, js, &kc);
                if (s != NATS_OK)
                        s = js_KeyValue(&kv, js, n->bucket);
        }
        if (s != NATS_OK)
                return nats_error(
                    s, create ? "cannot open or create the KV bucket" : "cannot open the KV bucket",
                    reason, rs);
        int r = ensure_stream(n, js, create, reason, rs);
        if (r < 0) {
                kvStore_Destroy(kv);
                return r;
        }
        *ret_kv = kv;
        return 0;
}
