/* tally-nats-publish: tally-worker's NATS step in a process of its own (nats_spawn.h), so
 * the worker stays static and free of libnats. Not meant to be run by hand, but it can
 * be: it publishes the newest snapshot of snapshot_dir into the [nats] bucket. */
#include <getopt.h>
#include <signal.h>

#include "cli.h"
#include "log.h"
#include "nats_publish.h"
#include "tally-config.h"

static void on_signal(int sig)
{
        nats_publish_request_stop();
}

int main(int argc, char **argv)
{
        enum { OPT_DEADLINE = 0x100 };
        static const struct option longopts[] = {
            {"config", required_argument, NULL, 'c'},
            {"deadline-monotonic-usec", required_argument, NULL, OPT_DEADLINE},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {},
        };
        const char *config_path = TALLY_DEFAULT_CONFIG;
        uint64_t deadline = 0;
        int c;

        /* Its lines belong to the worker's run: same identifier in the journal. */
        log_setup("tally-worker");
        while ((c = getopt_long(argc, argv, CLI_SHORT_OPTIONS, longopts, NULL)) >= 0) {
                switch (c) {
                case 'c': config_path = optarg; break;
                case OPT_DEADLINE:
                        if (parse_uint(optarg, 0, UINT64_MAX, &deadline) < 0) {
                                log_error("--deadline-monotonic-usec: '%s' is not a number",
                                          optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'h':
                        printf("Usage: " NATS_PUBLISH_PROGRAM " [-c PATH] "
                               "[--deadline-monotonic-usec N]\n"
                               "Publishes the newest snapshot of snapshot_dir into the [nats]\n"
                               "bucket; tally-worker runs it after each local publish.\n\n"
                               "Exit status: 0 published (or already there), 75 not published\n"
                               "(the log line says why), 64 usage, 78 configuration.\n");
                        return 0;
                case 'V': printf(NATS_PUBLISH_PROGRAM " %s\n", TALLY_VERSION); return 0;
                default: return EXIT_USAGE;
                }
        }
        if (optind < argc) {
                log_error("unexpected argument '%s'", argv[optind]);
                return EXIT_USAGE;
        }
        _cleanup_(config_freep) Config *cfg = NULL;
        int r = cli_load_config(config_path, &cfg);
        if (r != 0) /* out of memory is a run to retry, like NATS being unreachable */
                return r == EXIT_CONFIG ? EXIT_CONFIG : EXIT_NATS_UNPUBLISHED;
        struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
        sigemptyset(&sa.sa_mask);
        (void)sigaction(SIGTERM, &sa, NULL);
        (void)sigaction(SIGINT, &sa, NULL);
        (void)signal(SIGPIPE, SIG_IGN);
        return nats_publish_step(cfg, deadline);
}
