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

static void help(void)
{
        printf("Usage: " NATS_PUBLISH_PROGRAM " [-c PATH] [--deadline-monotonic-usec N]\n"
               "Publishes the newest snapshot of snapshot_dir into the [nats]\n"
               "bucket; tally-worker runs it after each local publish.\n\n"
               "Exit status: 0 published (or already there), 75 not published\n"
               "(the log line says why), 64 usage, 78 configuration.\n");
}

int main(int argc, char **argv)
{
        enum { OPT_DEADLINE = 0x100 };
        static const struct option longopts[] = {
            CLI_LONG_OPTIONS,
            {"deadline-monotonic-usec", required_argument, NULL, OPT_DEADLINE},
            {},
        };
        const char *config_path = TALLY_DEFAULT_CONFIG;
        uint64_t deadline = 0;
        int c, r;

        /* Its lines belong to the worker's run: same identifier in the journal. */
        log_setup("tally-worker");
        while ((c = getopt_long(argc, argv, CLI_SHORT_OPTIONS, longopts, NULL)) >= 0) {
                switch (c) {
                case OPT_DEADLINE:
                        if (parse_uint(optarg, 0, UINT64_MAX, &deadline) < 0) {
                                log_error("--deadline-monotonic-usec: '%s' is not a number",
                                          optarg);
                                return EXIT_USAGE;
                        }
                        break;
                default:
                        r = cli_option(c, NATS_PUBLISH_PROGRAM, help, &config_path);
                        if (r != CLI_CONTINUE)
                                return r;
                }
        }
        r = cli_no_arguments(argc, argv);
        if (r != CLI_CONTINUE)
                return r;
        _cleanup_(config_freep) Config *cfg = NULL;
        r = cli_load_config(config_path, &cfg);
        if (r != 0) /* out of memory is a run to retry, like NATS being unreachable */
                return r == EXIT_CONFIG ? EXIT_CONFIG : EXIT_NATS_UNPUBLISHED;
        cli_on_stop_signals(on_signal, SA_RESTART);
        (void)signal(SIGPIPE, SIG_IGN);
        return nats_publish_step(cfg, deadline);
}
