/* tallyctl: list, inspect, compare, verify and pin tally snapshots; start a worker run. */
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>

#include "cli.h"
#include "ctl.h"
#include "log.h"
#include "tally-config.h"

static void help(void)
{
        printf("Usage: tallyctl [OPTIONS] COMMAND [ARGS]\n\n"
               "Inspects the snapshots in [tally] snapshot_dir and the tallyd serving them.\n"
               "GEN is a generation in snapshot_dir, FILE a path to a snapshot file.\n\n"
               "Commands:\n"
               "  list                   every snapshot: generation, created, age, size, rows\n"
               "                         per view, valid or why not, served by tallyd, pinned\n"
               "  show GEN|FILE          the header: worker stats, sources, views and columns\n"
               "  dump GEN|FILE          the rows (--view V, --format json|csv)\n"
               "  verify GEN|FILE...     validate each as tallyd does, with the reason\n"
               "  diff A B               rows added, removed and changed per view, by key\n"
               "  pin GEN                make tallyd serve GEN until unpinned (and keep it\n"
               "                         from pruning); refused if GEN is missing or invalid\n"
               "  unpin                  serve the newest valid snapshot again\n"
               "  run                    start a worker run now (tally-worker.service when\n"
               "                         systemd has it, else tally-worker directly)\n\n"
               "Options:\n"
               "  -c, --config PATH      configuration file (default %s)\n"
               "      --json             list, show, diff: JSON for scripts\n"
               "      --view V           dump, diff: only view V\n"
               "      --format FMT       dump: json (default) or csv (needs --view when the\n"
               "                         snapshot has more than one view)\n"
               "      --worker-path PATH run: tally-worker to run without systemd\n"
               "                         (default %s)\n"
               "      --timeout DURATION list: how long to wait for tallyd (default 500ms)\n"
               "  -h, --help             show this help\n"
               "  -V, --version          show the version\n\n"
               "Exit status:\n"
               "   0  success; diff: no difference\n"
               "   1  failure (the reason is printed); diff: the snapshots differ\n"
               "   2  diff: a snapshot could not be read or is invalid\n"
               "  64  usage error\n"
               "  65  verify: at least one file is invalid\n"
               "  78  bad configuration (FILE:LINE: [section] key: reason)\n",
               TALLY_DEFAULT_CONFIG, TALLY_WORKER_PATH);
}

typedef struct Command {
        const char *name;
        int (*run)(const Ctl *c, int argc, char **argv);
        int min_args, max_args; /* -1: unbounded */
        unsigned options;       /* which of the OPT_ bits it takes */
} Command;

enum { USE_JSON = 1, USE_VIEW = 2, USE_FORMAT = 4, USE_WORKER = 8, USE_TIMEOUT = 16 };

static const Command commands[] = {
    {"list", ctl_list, 0, 0, USE_JSON | USE_TIMEOUT},
    {"show", ctl_show, 1, 1, USE_JSON},
    {"dump", ctl_dump, 1, 1, USE_VIEW | USE_FORMAT},
    {"verify", ctl_verify, 1, -1, 0},
    {"diff", ctl_diff, 2, 2, USE_JSON | USE_VIEW},
    {"pin", ctl_pin, 1, 1, 0},
    {"unpin", ctl_unpin, 0, 0, 0},
    {"run", ctl_run, 0, 0, USE_WORKER},
};

static const Command *find_command(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

static int _printf_(1, 2) usage(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "tallyctl: ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\nTry 'tallyctl --help'.\n");
        va_end(ap);
        return CTL_EXIT_USAGE;
}

int main(int argc, char **argv)
{
        enum { OPT_JSON = 0x100, OPT_VIEW, OPT_FORMAT, OPT_WORKER_PATH, OPT_TIMEOUT };
        static const struct option options[] = {
            CLI_LONG_OPTIONS,
            {"json", no_argument, NULL, OPT_JSON},
            {"view", required_argument, NULL, OPT_VIEW},
            {"format", required_argument, NULL, OPT_FORMAT},
            {"worker-path", required_argument, NULL, OPT_WORKER_PATH},
            {"timeout", required_argument, NULL, OPT_TIMEOUT},
            {},
        };
        Ctl c = {
            .config_path = TALLY_DEFAULT_CONFIG,
            .dirfd = -1,
            .worker_path = TALLY_WORKER_PATH,
            .query_timeout_usec = 500 * USEC_PER_MSEC,
        };
        unsigned used = 0;
        int opt, r;

        log_setup("tallyctl");
        while ((opt = getopt_long(argc, argv, CLI_SHORT_OPTIONS, options, NULL)) >= 0) {
                switch (opt) {
                case OPT_JSON:
                        c.json = true;
                        used |= USE_JSON;
                        break;
                case OPT_VIEW:
                        c.view = optarg;
                        used |= USE_VIEW;
                        break;
                case OPT_FORMAT:
                        if (strcmp(optarg, "json") == 0)
                                c.format = CTL_FORMAT_JSON;
                        else if (strcmp(optarg, "csv") == 0)
                                c.format = CTL_FORMAT_CSV;
                        else
                                return usage("--format %s: expected json or csv", optarg);
                        used |= USE_FORMAT;
                        break;
                case OPT_WORKER_PATH:
                        c.worker_path = optarg;
                        used |= USE_WORKER;
                        break;
                case OPT_TIMEOUT:
                        if (parse_duration_usec(optarg, &c.query_timeout_usec) < 0 ||
                            c.query_timeout_usec == 0 || c.query_timeout_usec > 60 * USEC_PER_SEC)
                                return usage("--timeout %s: expected a duration up to 60s", optarg);
                        used |= USE_TIMEOUT;
                        break;
                default:
                        r = cli_option(opt, "tallyctl", help, &c.config_path);
                        if (r == EXIT_USAGE)
                                return usage("%s", "unknown option or missing argument");
                        if (r != CLI_CONTINUE)
                                return r;
                }
        }
        if (optind >= argc)
                return usage("%s", "a command is needed (list, show, dump, verify, diff, pin, "
                                   "unpin, run)");
        const Command *cmd = find_command(argv[optind]);
        if (!cmd)
                return usage("unknown command '%s'", argv[optind]);
        int nargs = argc - optind - 1;
        if (nargs < cmd->min_args || (cmd->max_args >= 0 && nargs > cmd->max_args))
                return usage("wrong number of arguments for '%s'", cmd->name);
        if (used & ~cmd->options)
                return usage("an option given does not apply to '%s'", cmd->name);

        _cleanup_(config_freep) Config *config = NULL;
        r = cli_load_config(c.config_path, &config);
        if (r != 0)
                return r;
        c.config = config;
        c.max_bytes = MIN(config->max_snapshot_bytes, SNAPSHOT_MAX_FILE_BYTES);
        c.now_usec = now_realtime_usec();
        c.dirfd = open(config->snapshot_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        c.dir_errno = c.dirfd < 0 ? errno : 0;

        r = cmd->run(&c, nargs, argv + optind + 1);
        if (c.dirfd >= 0)
                close(c.dirfd);
        if (fflush(stdout) != 0 && r == CTL_EXIT_OK)
                r = CTL_EXIT_FAILURE;
        return r;
}
