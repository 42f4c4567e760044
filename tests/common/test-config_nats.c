/* [nats]: the documented keys parse, defaults apply, and each mistake is one error in the
 * list, FILE:LINE: [nats] key like every other section. */
#include "config.h"
#include "configfix.h"
#include "test.h"

#define BASE "[tally]\nsnapshot_dir = /tmp/s\n"
/* absolute: relative credential and TLS paths resolve against its directory */
#define CONF "/etc/tally/test.conf"

static void expect_error(const char *text, const char *needle)
{
        _cleanup_(config_freep) Config *c = NULL;
        char err[4096];
        CHECK_EQ_INT(configfix_parse(CONF, text, &c, err, sizeof(err)), CONFIG_INVALID);
        if (!strstr(err, needle)) {
                fprintf(stderr, "# expected '%s' in: %s\n", needle, err);
                test_failures_in_case++;
        }
}

static void documented_section_parses(void)
{
        _cleanup_(config_freep) Config *c = NULL;
        char err[4096];
        CHECK_EQ_INT(configfix_parse(CONF,
                                     BASE "[nats]\n"
                                          "servers = nats://10.0.0.1:4222, nats://10.0.0.2:4222,"
                                          "tls://u:p@nats.example:4443\n"
                                          "bucket = prod-tally\n"
                                          "replicas = 5\n"
                                          "credentials = nats.creds ; next to the config\n",
                                     &c, err, sizeof(err)),
                     0);
        CHECK(nats_config_enabled(&c->nats));
        CHECK_EQ_INT(c->nats.n_servers, 3);
        CHECK_STREQ(c->nats.servers[1], "nats://10.0.0.2:4222");
        CHECK_STREQ(c->nats.servers[2], "tls://u:p@nats.example:4443");
        CHECK(c->nats.servers[3] == NULL);
        CHECK_STREQ(c->nats.bucket, "prod-tally");
        CHECK_EQ_INT(c->nats.replicas, 5);
        CHECK_STREQ(c->nats.credentials, "/etc/tally/nats.creds");
}

static void defaults_and_off_without_section(void)
{
        _cleanup_(config_freep) Config *off = NULL, *on = NULL;
        char err[4096];
        CHECK_EQ_INT(configfix_parse(CONF, BASE, &off, err, sizeof(err)), 0);
        CHECK(!nats_config_enabled(&off->nats));
        CHECK_EQ_INT(
            configfix_parse(CONF, BASE "[nats]\nservers = nats://h:4222\n", &on, err, sizeof(err)),
            0);
        CHECK_STREQ(on->nats.bucket, "tally");
        CHECK_EQ_INT(on->nats.replicas, 3);
        CHECK(on->nats.credentials == NULL);
}

static void mistakes_name_file_line_and_key(void)
{
        expect_error(BASE "[nats]\nservers = http://h:4222\n",
                     "test.conf:4: [nats] servers: 'http://h:4222' is not nats://HOST:PORT");
        expect_error(BASE "[nats]\nservers = nats://h\n", "[nats] servers: 'nats://h'");
        expect_error(BASE "[nats]\nservers = nats://h:4222,,nats://g:4222\n",
                     "[nats] servers: '' is not");
        expect_error(BASE "[nats]\nservers = nats://h:4222\nreplicas = 7\n",
                     "test.conf:5: [nats] replicas: '7' is not a whole number in 1..5");
        expect_error(BASE "[nats]\nservers = nats://h:4222\nbucket = a.b\n",
                     "[nats] bucket: 'a.b' is not a bucket name");
        expect_error(BASE "[nats]\nservers = nats://h:4222\nspeed = 3\n",
                     "[nats] speed: unknown key");
        expect_error(BASE "[nats]\nbucket = x\n", "test.conf:3: [nats]: no 'servers' given");
        expect_error(BASE "[nats]\nservers = nats://h:4222\ntls_cert = c.pem\n",
                     "tls_cert and tls_key go together");
        expect_error(BASE "[nats]\nservers = nats://h:4222\ncredentials =\n",
                     "[nats] credentials: empty value");
}

static void too_many_servers_is_an_error(void)
{
        char text[4096] = BASE "[nats]\nservers = nats://h:1";
        for (int i = 0; i < NATS_MAX_SERVERS; i++)
                strcat(text, ", nats://h:1");
        strcat(text, "\n");
        expect_error(text, "more than 16 servers");
}

TEST_MAIN(TEST_CASE(documented_section_parses), TEST_CASE(defaults_and_off_without_section),
          TEST_CASE(mistakes_name_file_line_and_key), TEST_CASE(too_many_servers_is_an_error))
