/* One way for every tally program to reach the JetStream cluster of [nats]: all servers,
 * credentials and TLS through libnats, and the JetStream objects the wire contract
 * (nats_manifest.h) needs, created when missing. Built only with libnats (-Dnats). */
#pragma once

#include <nats/nats.h>

#include "config_nats.h"

/* What a daemon wants to hear about its connection (called on libnats' own thread). */
typedef struct NatsConnectHooks {
        natsConnectionHandler disconnected;
        natsConnectionHandler reconnected;
        void *closure;
} NatsConnectHooks;

/* Connects to n's servers, waiting at most timeout_ms per server. With reconnect_forever
 * the connection survives any outage in the background (daemons); otherwise libnats
 * gives up after a few attempts and the caller's deadline decides. hooks may be NULL.
 * 0 or negative errno with a reason. */
int nats_connect(const NatsConfig *n, bool reconnect_forever, int64_t timeout_ms,
                 const NatsConnectHooks *hooks, natsConnection **ret, char *reason,
                 size_t reason_size);
/* The bucket's KV store and its chunk stream; created with n's replicas when create is set
 * (the producer), only bound otherwise (-ENOENT if missing). */
int nats_open_bucket(const NatsConfig *n, jsCtx *js, bool create, kvStore **ret_kv, char *reason,
                     size_t reason_size);
/* Closes nc only once every message libnats read for it has been through its
 * subscription's callback and been destroyed (natsConnection_DrainTimeout), waiting at
 * most timeout_ms; a plain close when it cannot drain (already closed, reconnecting) or
 * the wait runs out. For the last close before nats_Close / nats_CloseAndWait: libnats 3.4
 * frees every message on its garbage-collector thread, which those stop first, so a
 * message a subscription's thread destroys after that (the tail of a reply callback still
 * running) is never freed, and LeakSanitizer reports it (libnats v3.4.1: js.c:720-732, the
 * ack callback's destroy after the count PublishAsyncComplete waits for; nats.c:903-933
 * natsGC_collect, 893-895 the collector's exit, 338 _freeLib forgetting its list). Costs
 * about 100 ms: libnats checks the drain every 100 ms (conn.c:3719). */
void nats_drain_close(natsConnection *nc, int64_t timeout_ms);
/* Maps a libnats status to a negative errno and writes its text (and the library's last
 * error) into reason. */
int nats_error(natsStatus s, const char *what, char *reason, size_t reason_size);
