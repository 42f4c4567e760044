/* One logging API for both programs.
 *
 * Under systemd (JOURNAL_STREAM names our stderr) entries go to journald over its native
 * protocol (journal.h) with structured fields; elsewhere one readable line per event goes to
 * stderr, with the fields appended as KEY=value. Every log_* call returns -abs(err) (or 0
 * when err is 0) so "return log_error_errno(r, ...)" logs and fails in one statement. */
#pragma once

#include <syslog.h>

#include "util.h"

/* Fixed MESSAGE_IDs, one per kind of event; systemd/tally.catalog explains each. */
#define MSGID_SNAPSHOT_WRITTEN  "6f0d4b3c2a1e4d5f8a9b0c1d2e3f4a51"
#define MSGID_SNAPSHOT_LOADED   "6f0d4b3c2a1e4d5f8a9b0c1d2e3f4a52"
#define MSGID_SNAPSHOT_REJECTED "6f0d4b3c2a1e4d5f8a9b0c1d2e3f4a53"
#define MSGID_WORKER_FAILED     "6f0d4b3c2a1e4d5f8a9b0c1d2e3f4a54"
#define MSGID_BAD_ROWS          "6f0d4b3c2a1e4d5f8a9b0c1d2e3f4a55"
#define MSGID_SERVER_STARTED    "6f0d4b3c2a1e4d5f8a9b0c1d2e3f4a56"

/* One structured field, preformatted as "KEY=value", as long as it is (a path is not cut
 * short). The log_struct call it is passed to frees it; NULL (out of memory) is skipped. */
typedef struct LogField {
        char *kv;
} LogField;

LogField log_field(const char *fmt, ...) _printf_(1, 2);

/* Builds the (count, array) argument pair of log_struct from log_field() values. */
#define LOG_FIELDS(...) \
        (sizeof((LogField[]){__VA_ARGS__}) / sizeof(LogField)), ((const LogField[]){__VA_ARGS__})
#define LOG_NO_FIELDS 0, NULL

void log_setup(const char *ident);
void log_set_max_level(int level);
/* True when entries go to journald rather than stderr. */
bool log_to_journal(void);

/* Logs one entry and frees the fields. The message is kept whole too: one that does not fit
 * the stack buffer is formatted again on the heap. */
int log_struct(int level, int err, const char *message_id, size_t n_fields, const LogField *fields,
               const char *fmt, ...) _printf_(6, 7);

#define log_full_errno(level, err, ...) log_struct(level, err, NULL, LOG_NO_FIELDS, __VA_ARGS__)
#define log_debug(...)                  log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)                   log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)                 log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...)                log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)                  log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(err, ...)       log_full_errno(LOG_DEBUG, err, __VA_ARGS__)
#define log_warning_errno(err, ...)     log_full_errno(LOG_WARNING, err, __VA_ARGS__)
#define log_error_errno(err, ...)       log_full_errno(LOG_ERR, err, __VA_ARGS__)
