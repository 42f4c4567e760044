/* tally-nats-publish: tally-worker's NATS step in a process of its own (nats_spawn.h), so
 * the worker stays static and free of libnats. Not meant to be run by hand, but it can
 * be: it publishes the newest snapshot of snapshot_dir into the [nats] bucket. */
#include <getopt.h>
#include <signal.h>
#include <sysexits.h>

#include "config.h"
#include "log.h"
#include "nats_publish.h"
#include "tally-config.h"

static void on_signal(int sig)
{
        nats_publish_request_stop();
}

int main(int argc, char **argv)
{
        enum { OPT_CONFIG = 256, OPT_DEADLINE, OPT_VERSION };
        static const struct option longopts[] = {
            {"config", required_argument, NULL, OPT_CONFIG},
            {"deadline-monotonic-usec", required_argument, NULL, OPT_DEADLINE},
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, OPT_VERSION},
            {},
        };
        const char *config_path = TALLY_DEFAULT_CONFIG;
        uint64_t deadline = 0;
        int c;

        /* Its lines belong to the worker's run: same identifier in the journal. */
        log_setup("tally-worker");
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) >= 0) {
                switch (c) {
                case OPT_CONFIG: config_path = optarg; break;
                case OPT_DEADLINE:
                        if (parse_uint(optarg, 0, UINT64_MAX, &deadline) < 0) {
                                log_error("--deadline-monotonic-usec: '%s' is not a number",
                                          optarg);
                                return EX_USAGE;
                        }
                        break;
                case 'h':
                        printf("Usage: " NATS_PUBLISH_PROGRAM " [--config PATH] "
                               "[--deadline-monotonic-usec N]\n"
                               "Publishes the newest snapshot of snapshot_dir into the [nats]\n"
                               "bucket; tally-worker runs it after each local publish.\n\n"
                               "Exit status: 0 published (or already there), 75 not published\n"
                               "(the log line says why), 64 usage, 78 configuration.\n");
                        return 0;
                case OPT_VERSION: printf(NATS_PUBLISH_PROGRAM " %s\n", TALLY_VERSION); return 0;
                default: return EX_USAGE;
                }
        }
        if (optind < argc) {
                log_error("unexpected argument '%s'", argv[optind]);
                return EX_USAGE;
        }
        _cleanup_(config_freep) Config *cfg = NULL;
        int r = config_load(config_path, &cfg);
        if (r < 0)
                return r == -ENOMEM ? EXIT_NATS_UNPUBLISHED : EXIT_CONFIG;
        struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
        sigemptyset(&sa.sa_mask);
        (void)sigaction(SIGTERM, &sa, NULL);
        (void)sigaction(SIGINT, &sa, NULL);
        (void)signal(SIGPIPE, SIG_IGN);
        return nats_publish_step(cfg, deadline);
}
