/* [nats]: the JetStream cluster snapshots travel through to many serving hosts. */
#include "config_parser.h"

#include <ctype.h>
#include <inttypes.h>

#include "strv.h"

#define NATS_DEFAULT_BUCKET   "tally"
#define NATS_DEFAULT_REPLICAS 3
#define NATS_MAX_URL          512

static bool valid_bucket(const char *s)
{
        if (!*s || strlen(s) > NATS_MAX_BUCKET_NAME)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
                        return false;
        return true;
}

/* nats://HOST:PORT or tls://HOST:PORT, optionally user:pass@; the port is required so a
 * typo never silently means 4222 on the wrong host. */
static bool valid_url(const char *u)
{
        const char *rest;
        if (strncmp(u, "nats://", 7) == 0)
                rest = u + 7;
        else if (strncmp(u, "tls://", 6) == 0)
                rest = u + 6;
        else
                return false;
        if (strlen(u) > NATS_MAX_URL)
                return false;
        const char *at = strrchr(rest, '@');
        if (at)
                rest = at + 1;
        const char *colon = strrchr(rest, ':');
        uint64_t port;
        if (!colon || colon == rest || parse_uint(colon + 1, 1, 65535, &port) < 0)
                return false;
        for (const char *c = rest; c < colon; c++)
                if (isspace((unsigned char)*c) || *c == '/' || *c == '\'' || *c == '"')
                        return false;
        return true;
}

static int parse_servers(ConfigParser *p, const ConfigEntry *e, void *object)
{
        NatsConfig *n = object;
        _cleanup_(strv_freep) char **items = NULL;
        int count = strv_split_quoted(e->value, ',', &items);
        if (count == -EINVAL)
                config_report_entry(p, e, "unbalanced quotes");
        if (count < 0)
                return count;
        if (count > NATS_MAX_SERVERS) {
                config_report_entry(p, e, "more than %d servers", NATS_MAX_SERVERS);
                return -EINVAL;
        }
        for (int i = 0; i < count; i++)
                if (!valid_url(items[i])) {
                        config_report_entry(p, e, "'%s' is not nats://HOST:PORT or tls://HOST:PORT",
                                            items[i]);
                        return -EINVAL;
                }
        strv_free(n->servers);
        n->servers = TAKE_PTR(items);
        n->n_servers = (size_t)count;
        return 0;
}

static int parse_bucket(ConfigParser *p, const ConfigEntry *e, void *object)
{
        NatsConfig *n = object;
        if (!valid_bucket(e->value)) {
                config_report_entry(
                    p, e, "'%s' is not a bucket name (letters, digits, '_' and '-', at most %d)",
                    e->value, NATS_MAX_BUCKET_NAME);
                return -EINVAL;
        }
        char *s = strdup(e->value);
        if (!s)
                return -ENOMEM;
        free(n->bucket);
        n->bucket = s;
        return 0;
}

static const ConfigKey nats_keys[] = {
    CONFIG_KEY_FUNC("servers", parse_servers),
    CONFIG_KEY_FUNC("bucket", parse_bucket),
    CONFIG_KEY("replicas", UINT, NatsConfig, replicas, .min = 1, .max = 5),
    CONFIG_KEY("credentials", STRING, NatsConfig, credentials),
    CONFIG_KEY("tls_ca", STRING, NatsConfig, tls_ca),
    CONFIG_KEY("tls_cert", STRING, NatsConfig, tls_cert),
    CONFIG_KEY("tls_key", STRING, NatsConfig, tls_key),
};

static void *nats_object(Config *c)
{
        return &c->nats;
}

static int nats_finish(ConfigParser *p, ConfigObject *o)
{
        NatsConfig *n = o->data;
        if (!n->replicas)
                n->replicas = NATS_DEFAULT_REPLICAS;
        if (!n->bucket && !(n->bucket = strdup(NATS_DEFAULT_BUCKET)))
                return -ENOMEM;
        if (o->line == 0)
                return 0; /* no [nats] section: off */
        if (!config_key_seen(o, "servers"))
                config_report(p, o->line, o->section, NULL, "no 'servers' given");
        if (!n->tls_cert != !n->tls_key)
                config_report(p, o->line, o->section, NULL, "tls_cert and tls_key go together");
        char **paths[] = {&n->credentials, &n->tls_ca, &n->tls_cert, &n->tls_key};
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                int r = config_resolve_relative(p, paths[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* What the typed string keys do not cover: the server list and the bucket. */
static void nats_done(void *object)
{
        NatsConfig *n = object;
        n->servers = strv_free(n->servers);
        n->n_servers = 0;
        free(n->bucket);
        n->bucket = NULL;
}

const ConfigSection config_nats_section = {
    .name = "nats",
    .keys = nats_keys,
    .n_keys = ELEMENTSOF(nats_keys),
    .object = nats_object,
    .finish = nats_finish,
    .done = nats_done,
};
