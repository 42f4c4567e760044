#include "cli.h"

#include "log.h"

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
