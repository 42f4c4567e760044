#include "config_nats.h"

#include <ctype.h>
#include <inttypes.h>

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
                if (isspace((unsigned char)*c) || *c == '/')
                        return false;
        return true;
}

static void strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

static int parse_servers(NatsConfig *n, const char *value, char *reason, size_t rs)
{
        char **v = calloc(NATS_MAX_SERVERS + 1, sizeof(char *));
        size_t count = 0;
        if (!v)
                return -ENOMEM;
        for (const char *s = value;;) {
                const char *comma = strchr(s, ',');
                size_t len = comma ? (size_t)(comma - s) : strlen(s);
                char *item = strdup_trim(s, len);
                if (!item) {
                        strv_free(v);
                        return -ENOMEM;
                }
                if (!*item || !valid_url(item)) {
                        snprintf(reason, rs, "'%s' is not nats://HOST:PORT or tls://HOST:PORT",
                                 item);
                        free(item);
                        strv_free(v);
                        return -EINVAL;
                }
                if (count == NATS_MAX_SERVERS) {
                        snprintf(reason, rs, "more than %d servers", NATS_MAX_SERVERS);
                        free(item);
                        strv_free(v);
                        return -EINVAL;
                }
                v[count++] = item;
                if (!comma)
                        break;
                s = comma + 1;
        }
        strv_free(n->servers);
        n->servers = v;
        n->n_servers = count;
        return 0;
}

static int set_path(char **dst, const char *value, char *reason, size_t rs)
{
        if (!*value) {
                snprintf(reason, rs, "empty value");
                return -EINVAL;
        }
        char *s = strdup(value);
        if (!s)
                return -ENOMEM;
        free(*dst);
        *dst = s;
        return 0;
}

int nats_config_parse_key(NatsConfig *n, unsigned line, const char *key, const char *value,
                          char *reason, size_t rs)
{
        if (!n->line)
                n->line = line;
        if (strcmp(key, "servers") == 0)
                return parse_servers(n, value, reason, rs);
        if (strcmp(key, "bucket") == 0) {
                if (!valid_bucket(value)) {
                        snprintf(reason, rs,
                                 "'%s' is not a bucket name (letters, digits, '_' and '-', at "
                                 "most %d)",
                                 value, NATS_MAX_BUCKET_NAME);
                        return -EINVAL;
                }
                return set_path(&n->bucket, value, reason, rs);
        }
        if (strcmp(key, "replicas") == 0) {
                uint64_t v;
                if (parse_uint(value, 1, 5, &v) < 0) {
                        snprintf(reason, rs, "'%s' is not a whole number in 1..5", value);
                        return -EINVAL;
                }
                n->replicas = (unsigned)v;
                return 0;
        }
        if (strcmp(key, "credentials") == 0)
                return set_path(&n->credentials, value, reason, rs);
        if (strcmp(key, "tls_ca") == 0)
                return set_path(&n->tls_ca, value, reason, rs);
        if (strcmp(key, "tls_cert") == 0)
                return set_path(&n->tls_cert, value, reason, rs);
        if (strcmp(key, "tls_key") == 0)
                return set_path(&n->tls_key, value, reason, rs);
        snprintf(reason, rs,
                 "unknown key (servers, bucket, replicas, credentials, tls_ca, tls_cert, "
                 "tls_key)");
        return -EINVAL;
}

int nats_config_finish(NatsConfig *n, char *reason, size_t rs)
{
        if (!n->replicas)
                n->replicas = NATS_DEFAULT_REPLICAS;
        if (!n->bucket && !(n->bucket = strdup(NATS_DEFAULT_BUCKET)))
                return -ENOMEM;
        if (!n->line)
                return 0; /* no [nats] keys at all: off */
        if (n->n_servers == 0) {
                snprintf(reason, rs, "no 'servers' given");
                return -EINVAL;
        }
        if (!n->tls_cert != !n->tls_key) {
                snprintf(reason, rs, "tls_cert and tls_key go together");
                return -EINVAL;
        }
        return 0;
}

void nats_config_done(NatsConfig *n)
{
        strv_free(n->servers);
        free(n->bucket);
        free(n->credentials);
        free(n->tls_ca);
        free(n->tls_cert);
        free(n->tls_key);
        *n = (NatsConfig){};
}
