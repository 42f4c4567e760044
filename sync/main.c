/* tally-sync: one per serving host. Follows the NATS JetStream bucket the worker host
 * publishes into and installs each new snapshot into the local snapshot_dir, where tallyd
 * picks it up by inotify as if a local worker had written it. tallyd itself keeps no
 * network and all its hardening; this small process is the only one that talks to NATS. */
#include <getopt.h>
#include <malloc.h>
#include <nats/nats.h>
#include <signal.h>

#include "cli.h"
#include "follow.h"
#include "log.h"
#include "notify.h"
#include "tally-config.h"

static volatile int stop_requested;

static void on_signal(int sig)
{
        stop_requested = 1;
}

static void help(void)
{
        printf("Usage: tally-sync [OPTIONS]\n"
               "Follows the [nats] bucket and installs every new snapshot into snapshot_dir\n"
               "(verified as tallyd verifies it, written atomically, never an older\n"
               "generation than the newest already there). Runs until SIGTERM.\n\n"
               "  -c, --config PATH   configuration file (default %s)\n"
               "      --check-config  validate the configuration and exit\n"
               "  -h, --help          show this help\n"
               "  -V, --version       show the version\n\n"
               "Exit status:\n"
               "   0  stopped by SIGTERM or SIGINT (--check-config: the configuration is\n"
               "      valid)\n"
               "   1  snapshot_dir cannot be read or written, or out of memory\n"
               "  64  bad option or argument\n"
               "  78  bad configuration, or no [nats] servers configured\n"
               "NATS being unreachable is not an exit: tally-sync retries forever with\n"
               "backoff while tallyd keeps serving what the directory holds.\n",
               TALLY_DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
        enum { OPT_CHECK = 0x100 };
        static const struct option longopts[] = {
            CLI_LONG_OPTIONS,
            {"check-config", no_argument, NULL, OPT_CHECK},
            {},
        };
        const char *config_path = TALLY_DEFAULT_CONFIG;
        bool check_only = false;
        int c, r;

        log_setup("tally-sync");
        while ((c = getopt_long(argc, argv, CLI_SHORT_OPTIONS, longopts, NULL)) >= 0) {
                switch (c) {
                case OPT_CHECK: check_only = true; break;
                default:
                        r = cli_option(c, "tally-sync", help, &config_path);
                        if (r != CLI_CONTINUE)
                                return r;
                }
        }
        r = cli_no_arguments(argc, argv);
        if (r != CLI_CONTINUE)
                return r;

        _cleanup_(config_freep) Config *cfg = NULL;
        r = cli_load_config(config_path, &cfg);
        if (r != 0)
                return r;
        if (!nats_config_enabled(&cfg->nats)) {
                log_error("%s: [nats] servers: not set; tally-sync has nothing to follow",
                          config_path);
                return EXIT_CONFIG;
        }
        if (check_only)
                return cli_config_ok(config_path, cfg);

        cli_on_stop_signals(on_signal, 0);
        (void)signal(SIGPIPE, SIG_IGN);
        /* libnats' threads would each get a malloc arena that keeps 1 MB chunks' worth of
         * freed heap; two arenas keep the daemon's memory flat across reconnects. */
        (void)mallopt(M_ARENA_MAX, 2);
        /* A fixed threshold (setting it stops glibc raising it to the largest block freed)
         * keeps every chunk message, deflated copy and file in mappings of their own, given
         * back to the kernel when freed, instead of heap that fragments between the three
         * sizes a deflated snapshot allocates. */
        (void)mallopt(M_MMAP_THRESHOLD, 256 * 1024);

        /* Ready once configured: catching up may wait for NATS indefinitely, and tallyd
         * serves what the directory holds meanwhile. */
        notify_ready();
        notify_status("connecting to NATS bucket %s", cfg->nats.bucket);
        r = follow_run(cfg, &stop_requested);
        notify_stopping();
        /* libnats' threads (and their callbacks) are done before cfg goes away */
        (void)nats_CloseAndWait(5000);
        if (r < 0)
                return 1;
        log_info("stopped");
        return 0;
}
