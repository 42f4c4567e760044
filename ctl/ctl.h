/* tallyctl: the operator's view of a snapshot directory and of the tallyd serving it.
 *
 * main.c parses the command line and the configuration (the same tally.conf and
 * --config as the other programs) into a Ctl, then hands it to one subcommand; each
 * subcommand lives in its own file. What they share is here: the exit statuses
 * (documented in --help), how a GEN|FILE argument becomes a Snapshot validated exactly
 * as tallyd validates it, asking tallyd what it serves, and cell text. Subcommands write
 * results on stdout and each error once on stderr, and return an exit status. */
#pragma once

#include "config.h"
#include "snapshot.h"

enum {
        CTL_EXIT_OK = 0,
        CTL_EXIT_FAILURE = 1, /* also diff: the snapshots differ */
        CTL_EXIT_TROUBLE = 2, /* diff only: a snapshot could not be read */
        CTL_EXIT_USAGE = 64,
        CTL_EXIT_DATAERR = 65, /* verify: at least one file is invalid */
        CTL_EXIT_CONFIG = 78,
};

typedef enum CtlFormat {
        CTL_FORMAT_JSON,
        CTL_FORMAT_CSV,
} CtlFormat;

typedef struct Ctl {
        const char *config_path;
        const Config *config;
        int dirfd; /* snapshot_dir; -1 with dir_errno set when it cannot be opened */
        int dir_errno;
        uint64_t max_bytes; /* as tallyd: max_snapshot_bytes, capped by the format's limit */
        uint64_t now_usec;  /* realtime, once per invocation */
        bool json;
        const char *view;
        CtlFormat format;
        const char *worker_path;
        uint64_t query_timeout_usec;
} Ctl;

int ctl_list(const Ctl *c, int argc, char **argv);
int ctl_show(const Ctl *c, int argc, char **argv);
int ctl_dump(const Ctl *c, int argc, char **argv);
int ctl_verify(const Ctl *c, int argc, char **argv);
int ctl_diff(const Ctl *c, int argc, char **argv);
int ctl_pin(const Ctl *c, int argc, char **argv);
int ctl_unpin(const Ctl *c, int argc, char **argv);
int ctl_run(const Ctl *c, int argc, char **argv);

/* load.c: arg is a generation in snapshot_dir (all digits) or a file path. Reads and
 * validates it as tallyd does (regular file, size limit, format, checksum, bounds, and
 * a file named for a generation must hold that generation). 0 and *ret, or negative
 * with a one-line reason. label gets "generation N" or the path, for messages. */
int ctl_load(const Ctl *c, const char *arg, Snapshot **ret, char *label, size_t label_size,
             char *reason, size_t reason_size);
/* The snapshot directory, or a logged error (-errno). */
int ctl_dirfd(const Ctl *c);

/* query.c: asks tallyd (GET /v1/snapshot at [server] listen, bounded by
 * query_timeout_usec) what it serves. 1: serving *ret_generation; 0: up, nothing served
 * yet; negative: not reachable or not answering like tallyd (the caller says "unknown"). */
int ctl_query_served(const Ctl *c, uint64_t *ret_generation);

/* text.c: cell and size text for humans and CSV. */
/* The cell as tallyd's JSON spells its value, unquoted: "null" for nil and non-finite
 * numbers, time in RFC 3339 UTC, numbers as the shortest round-trip decimal. buf of at
 * least 64 bytes; strings are truncated to fit. Returns the length. */
size_t ctl_cell_text(char *buf, size_t n, const Value *v);
/* One CSV field (RFC 4180): quoted when needed; nil is an empty field and an empty
 * string is "" (as tally-worker reads them back). */
void ctl_csv_field(FILE *f, const Value *v);
void ctl_csv_name(FILE *f, const char *s);
const char *ctl_format_bytes(char *buf, size_t n, uint64_t bytes);
const char *ctl_format_age(char *buf, size_t n, uint64_t usec);
