/* tallyd as a whole: the listening socket, N event loops, the snapshot watch and loader,
 * signals, systemd notification and the optional worker spawner, wired together. */
#pragma once

#include "config.h"

typedef struct ServerOptions {
        const Config *config;
        const char *config_path;
        bool spawn_worker;
        uint64_t spawn_interval_usec;
        const char *worker_path;
} ServerOptions;

/* Runs until SIGTERM/SIGINT. 0 on a clean stop, negative errno on a startup failure. */
int server_run(const ServerOptions *o);
