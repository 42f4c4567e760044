#include "cli.h"

#include <signal.h>

#include "log.h"
#include "tally-config.h"

int cli_load_config(const char *path, Config **ret)
{
        _cleanup_(config_errors_freep) ConfigErrors *errors = NULL;
        int r = config_load(path, ret, &errors);
        if (r < 0) {
                log_error_errno(r, "%s: cannot load the configuration: %m", path);
                return 1;
        }
        for (size_t i = 0; errors && i < errors->n; i++) {
                char line[1024];
                log_error("%s", config_error_format(&errors->items[i], line, sizeof(line)));
        }
        return r == 0 ? 0 : EXIT_CONFIG;
}

int cli_config_ok(const char *path, const Config *c)
{
        printf("%s: OK (%zu sources, %zu views)\n", path, c->n_sources, c->n_views);
        return 0;
}

int cli_option(int opt, const char *program, void (*help)(void), const char **config_path)
{
        switch (opt) {
        case 'c': *config_path = optarg; return CLI_CONTINUE;
        case 'h': help(); return 0;
        case 'V': printf("%s %s\n", program, TALLY_VERSION); return 0;
        default: return EXIT_USAGE;
        }
}

int cli_no_arguments(int argc, char **argv)
{
        if (optind >= argc)
                return CLI_CONTINUE;
        log_error("unexpected argument '%s'", argv[optind]);
        return EXIT_USAGE;
}

void cli_on_stop_signals(void (*on_stop)(int), int sa_flags)
{
        struct sigaction sa = {.sa_handler = on_stop, .sa_flags = sa_flags};
        sigemptyset(&sa.sa_mask);
        (void)sigaction(SIGTERM, &sa, NULL);
        (void)sigaction(SIGINT, &sa, NULL);
}
