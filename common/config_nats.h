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
 * Kept apart from config.c so the section is one table entry there: config.c reports the
 * reason with FILE:LINE and the key; this module only knows what a valid value is. */
#pragma once

#include "util.h"

#define NATS_MAX_SERVERS     16
#define NATS_MAX_BUCKET_NAME 64

typedef struct NatsConfig {
        char **servers; /* NULL-terminated; n_servers == 0 means [nats] is off */
        size_t n_servers;
        char *bucket; /* NULL until finished: then "tally" unless set */
        unsigned replicas;
        char *credentials;
        char *tls_ca;
        char *tls_cert;
        char *tls_key;
        unsigned line; /* of the first [nats] key, for errors found at the end */
} NatsConfig;

static inline bool nats_config_enabled(const NatsConfig *n)
{
        return n->n_servers > 0;
}

/* Parses one key. 0, -EINVAL with a reason for the operator in reason, or -ENOMEM. */
int nats_config_parse_key(NatsConfig *n, unsigned line, const char *key, const char *value,
                          char *reason, size_t reason_size);
/* Defaults and checks that need the whole section (servers given, cert with key). */
int nats_config_finish(NatsConfig *n, char *reason, size_t reason_size);
/* Frees what n holds and zeroes it. */
void nats_config_done(NatsConfig *n);
