/* tallyd: serves the newest tally snapshot over HTTP from memory. */
#include <getopt.h>

#include "cli.h"
#include "log.h"
#include "server.h"
#include "tally-config.h"

static void help(void)
{
        printf("Usage: tallyd [OPTIONS]\n\n"
               "Serves the newest snapshot written by tally-worker over HTTP.\n\n"
               "  -c, --config PATH           configuration file (default %s)\n"
               "      --check-config          validate the configuration and exit\n"
               "      --spawn-worker[=INTERVAL]\n"
               "                              run tally-worker now and every INTERVAL\n"
               "                              (default [server] spawn_interval)\n"
               "      --worker-path PATH      tally-worker to spawn (default %s)\n"
               "  -h, --help                  show this help\n"
               "  -V, --version               show the version\n\n"
               "Exit status:\n"
               "   0  stopped by SIGTERM (--check-config: the configuration is valid)\n"
               "   1  cannot listen, or another failure while running\n"
               "  64  bad option or argument\n"
               "  78  bad configuration\n",
               TALLY_DEFAULT_CONFIG, TALLY_WORKER_PATH);
}

int main(int argc, char **argv)
{
        enum { OPT_CHECK = 0x100, OPT_SPAWN, OPT_WORKER_PATH };
        static const struct option options[] = {
            CLI_LONG_OPTIONS,
            {"check-config", no_argument, NULL, OPT_CHECK},
            {"spawn-worker", optional_argument, NULL, OPT_SPAWN},
            {"worker-path", required_argument, NULL, OPT_WORKER_PATH},
            {},
        };
        const char *config_path = TALLY_DEFAULT_CONFIG;
        const char *worker_path = TALLY_WORKER_PATH;
        const char *spawn_interval = NULL;
        bool check = false, spawn = false;
        int c, r;

        log_setup("tallyd");
        while ((c = getopt_long(argc, argv, CLI_SHORT_OPTIONS, options, NULL)) >= 0) {
                switch (c) {
                case OPT_CHECK: check = true; break;
                case OPT_SPAWN:
                        spawn = true;
                        spawn_interval = optarg;
                        break;
                case OPT_WORKER_PATH: worker_path = optarg; break;
                default:
                        r = cli_option(c, "tallyd", help, &config_path);
                        if (r != CLI_CONTINUE)
                                return r;
                }
        }
        r = cli_no_arguments(argc, argv);
        if (r != CLI_CONTINUE)
                return r;

        _cleanup_(config_freep) Config *config = NULL;
        r = cli_load_config(config_path, &config);
        if (r != 0)
                return r;
        uint64_t interval = config->server.spawn_interval_usec;
        if (spawn_interval &&
            (parse_duration_usec(spawn_interval, &interval) < 0 || interval < USEC_PER_SEC)) {
                log_error("--spawn-worker=%s: expected a duration of at least 1s", spawn_interval);
                return EXIT_USAGE;
        }
        if (check)
                return cli_config_ok(config_path, config);
        ServerOptions o = {
            .config = config,
            .config_path = config_path,
            .spawn_worker = spawn,
            .spawn_interval_usec = interval,
            .worker_path = worker_path,
        };
        r = server_run(&o);
        return r < 0 ? 1 : 0;
}
