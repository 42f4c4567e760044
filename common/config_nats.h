/* The [nats] section: where the JetStream cluster that carries snapshots to many serving
 * hosts is, and how to authenticate to it.
 *
 *   [nats]
 *   servers = nats://10.0.0.1:4222, nats://10.0.0.2:4222   ; required to enable
 *   bucket = tally            ; KV bucket (and chunk stream) name, created when missing
 *   replicas = 3              ; 1..5, for both when created
 *   credentials = PATH        ; optional .creds file (JWT + NKey seed)
 *   tls_ca = PATH             ; optional: verify the servers against this CA
 *   tls_cert = PATH, tls_key = PATH   ; optional client certificate, both or neither
 *
 * Its own room (config_nats.c: the key table and config_nats_section, one entry in
 * config.c's section table) so the JetStream programs share one reading of it and the
 * other sections never see it. Relative paths are next to the config file. */
#pragma once

#include "util.h"

#define NATS_MAX_SERVERS     16
#define NATS_MAX_BUCKET_NAME 64

typedef struct NatsConfig {
        char **servers; /* NULL-terminated; n_servers == 0 means [nats] is off */
        size_t n_servers;
        char *bucket; /* "tally" unless set */
        unsigned replicas;
        char *credentials;
        char *tls_ca;
        char *tls_cert;
        char *tls_key;
} NatsConfig;

static inline bool nats_config_enabled(const NatsConfig *n)
{
        return n->n_servers > 0;
}
