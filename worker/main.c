/* tally-worker: one run of every source and view in the configuration, one snapshot out.
 * A oneshot: it exits after publishing, so all its memory goes back to the kernel. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <sysexits.h>

#include "cli.h"
#include "engine.h"
#include "log.h"
#include "nats_spawn.h"
#include "tally-config.h"

#define EXIT_GUARD 66 /* a publish guard broke (guard.h) */

static void help(void)
{
        printf("Usage: tally-worker [OPTIONS]\n"
               "Reads every source of the configuration once, computes every view and\n"
               "publishes one snapshot into snapshot_dir.\n\n"
               "  -c, --config PATH        configuration file (default %s)\n"
               "      --check-config       validate the configuration and exit\n"
               "      --deadline DURATION  give up cleanly after DURATION (e.g. 90s); the\n"
               "                           shorter of this and [worker] max_runtime applies\n"
               "      --force              publish even if a view breaks its min_rows or\n"
               "                           max_shrink guard (this run only; logged)\n"
               "  -h, --help               show this help\n"
               "  -V, --version            show the version\n\n"
               "Exit status:\n"
               "   0  snapshot written (--check-config: the configuration is valid)\n"
               "   1  other failure: unreadable or missing input, a database or command\n"
               "      failure, write error, deadline passed (no snapshot written, no temp\n"
               "      file left)\n"
               "  64  bad option or argument\n"
               "  65  a source had more malformed rows than its max_bad_ratio, or a\n"
               "      select view had two rows with one group_by key or more rows than\n"
               "      max_snapshot_bytes (no snapshot written, the previous one stays)\n"
               "  66  a view broke a publish guard: fewer rows than min_rows, or shrunk\n"
               "      more than max_shrink against the newest snapshot (no snapshot\n"
               "      written, the previous one stays; --force overrides once)\n"
               "  75  with [nats]: snapshot written locally but not put into the NATS\n"
               "      bucket (unreachable until the deadline, or a newer generation is\n"
               "      there); the next run publishes its own, newer one\n"
               "  78  bad configuration, including a declared column missing from a\n"
               "      CSV header\n",
               TALLY_DEFAULT_CONFIG);
}

static void on_signal(int sig)
{
        engine_request_stop();
        nats_spawn_request_stop();
}

int main(int argc, char **argv)
{
        enum { OPT_CHECK = 256, OPT_DEADLINE, OPT_FORCE };
        static const struct option longopts[] = {
            CLI_LONG_OPTIONS,
            {"check-config", no_argument, NULL, OPT_CHECK},
            {"deadline", required_argument, NULL, OPT_DEADLINE},
            {"force", no_argument, NULL, OPT_FORCE},
            {},
        };
        const uint64_t start = now_monotonic_usec();
        const char *config_path = TALLY_DEFAULT_CONFIG;
        bool check_only = false, force = false;
        uint64_t deadline_arg = 0;
        int c, r;

        log_setup("tally-worker");
        while ((c = getopt_long(argc, argv, CLI_SHORT_OPTIONS, longopts, NULL)) >= 0) {
                switch (c) {
                case OPT_CHECK: check_only = true; break;
                case OPT_FORCE: force = true; break;
                case OPT_DEADLINE:
                        if (parse_duration_usec(optarg, &deadline_arg) < 0 || deadline_arg == 0) {
                                log_error("--deadline: '%s' is not a duration (e.g. 90s)", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                default:
                        r = cli_option(c, "tally-worker", help, &config_path);
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
        if (check_only)
                return cli_config_ok(config_path, cfg);

        uint64_t limit = cfg->worker.max_runtime_usec;
        if (deadline_arg && (!limit || deadline_arg < limit))
                limit = deadline_arg;
        uint64_t deadline = limit ? start + limit : 0;

        /* systemd stops a unit with SIGTERM: finish cleanly, publish nothing, leave no
         * temp file, rather than dying mid-write. */
        cli_on_stop_signals(on_signal, SA_RESTART);

        EngineResult res = {};
        r = engine_run(cfg, deadline, force, &res);
        uint64_t ms = (now_monotonic_usec() - start) / USEC_PER_MSEC;
        if (r == ENGINE_OK) {
                log_struct(LOG_INFO, 0, MSGID_SNAPSHOT_WRITTEN,
                           LOG_FIELDS(log_field("TALLY_GENERATION=%" PRIu64, res.generation),
                                      log_field("TALLY_ROWS_READ=%" PRIu64, res.rows_read),
                                      log_field("TALLY_ROWS_REJECTED=%" PRIu64, res.rows_rejected),
                                      log_field("TALLY_DURATION_MS=%" PRIu64, ms)),
                           "snapshot %" PRIu64 " written: %" PRIu64 " rows read, %" PRIu64
                           " rejected, %" PRIu64 " bytes, %" PRIu64 " ms",
                           res.generation, res.rows_read, res.rows_rejected, res.bytes, ms);
                return nats_spawn_publish(cfg, config_path, deadline); /* [nats]: many hosts */
        }
        int code = r == ENGINE_BAD_CONFIG                         ? EXIT_CONFIG
                   : r == ENGINE_BAD_ROWS || r == ENGINE_BAD_VIEW ? EX_DATAERR
                   : r == ENGINE_GUARD                            ? EXIT_GUARD
                                                                  : 1;
        log_struct(LOG_ERR, r < 0 ? r : 0, MSGID_WORKER_FAILED,
                   LOG_FIELDS(log_field("TALLY_ROWS_READ=%" PRIu64, res.rows_read),
                              log_field("TALLY_ROWS_REJECTED=%" PRIu64, res.rows_rejected),
                              log_field("TALLY_DURATION_MS=%" PRIu64, ms),
                              log_field("TALLY_EXIT_STATUS=%d", code)),
                   "run failed after %" PRIu64 " ms, no snapshot written (exit %d)%s%s", ms, code,
                   r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
        return code;
}
