#include "log.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "journal.h"

static const char *log_ident = "tally";
static int log_max_level = LOG_INFO;
static Journal log_journal = {.fd = -1};

LogField log_field(const char *fmt, ...)
{
        LogField f;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&f.kv, fmt, ap) < 0)
                f.kv = NULL;
        va_end(ap);
        return f;
}

static void fields_free(size_t n_fields, const LogField *fields)
{
        for (size_t i = 0; i < n_fields; i++)
                free(fields[i].kv);
}

/* systemd sets JOURNAL_STREAM=dev:ino for the stream it connected to stderr; matching it
 * against our stderr tells a unit's output apart from a terminal or a redirected file. */
static bool stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(const char *ident)
{
        log_ident = ident;
        if (log_journal.fd < 0 && stderr_is_journal()) {
                const char *path = getenv("TALLY_JOURNAL_SOCKET"); /* for tests */
                (void)journal_open(&log_journal, path ? path : JOURNAL_SOCKET_PATH);
        }
        const char *lvl = getenv("TALLY_LOG_LEVEL");
        if (lvl) {
                static const char *const names[] = {"emerg",   "alert",  "crit", "err",
                                                    "warning", "notice", "info", "debug"};
                for (int i = 0; i < (int)ELEMENTSOF(names); i++)
                        if (strcmp(lvl, names[i]) == 0)
                                log_max_level = i;
        }
}

void log_set_max_level(int level)
{
        log_max_level = level;
}

bool log_to_journal(void)
{
        return log_journal.fd >= 0;
}

/* The entry as journald fields: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, MESSAGE_ID, ERRNO,
 * then the caller's. */
static int send_journal(int level, int err, const char *message_id, size_t n_fields,
                        const LogField *fields, const char *msg)
{
        char priority[16], ident[64], msgid[64], errnostr[32];
        struct iovec iov[8 + 32];
        size_t n = 0;
        _cleanup_free_ char *message = NULL;
        if (asprintf(&message, "MESSAGE=%s", msg) < 0)
                return -ENOMEM;
        snprintf(priority, sizeof(priority), "PRIORITY=%d", level);
        snprintf(ident, sizeof(ident), "SYSLOG_IDENTIFIER=%s", log_ident);
        iov[n++] = (struct iovec){message, strlen(message)};
        iov[n++] = (struct iovec){priority, strlen(priority)};
        iov[n++] = (struct iovec){ident, strlen(ident)};
        if (message_id) {
                snprintf(msgid, sizeof(msgid), "MESSAGE_ID=%s", message_id);
                iov[n++] = (struct iovec){msgid, strlen(msgid)};
        }
        if (err != 0) {
                snprintf(errnostr, sizeof(errnostr), "ERRNO=%d", abs(err));
                iov[n++] = (struct iovec){errnostr, strlen(errnostr)};
        }
        for (size_t i = 0; i < n_fields && n < ELEMENTSOF(iov); i++)
                if (fields[i].kv)
                        iov[n++] = (struct iovec){fields[i].kv, strlen(fields[i].kv)};
        return journal_send(&log_journal, iov, n);
}

/* One line on stderr: "ident: message KEY=value ...", written in one writev so lines of
 * concurrent threads do not interleave. */
static void write_stderr(size_t n_fields, const LogField *fields, const char *msg)
{
        static char space = ' ', colon[] = ": ", newline = '\n';
        struct iovec iov[4 + 2 * 32];
        size_t n = 0;
        iov[n++] = (struct iovec){(void *)log_ident, strlen(log_ident)};
        iov[n++] = (struct iovec){colon, 2};
        iov[n++] = (struct iovec){(void *)msg, strlen(msg)};
        for (size_t i = 0; i < n_fields && n + 3 <= ELEMENTSOF(iov); i++)
                if (fields[i].kv) {
                        iov[n++] = (struct iovec){&space, 1};
                        iov[n++] = (struct iovec){fields[i].kv, strlen(fields[i].kv)};
                }
        iov[n++] = (struct iovec){&newline, 1};
        (void)!writev(STDERR_FILENO, iov, (int)n);
}

int log_struct(int level, int err, const char *message_id, size_t n_fields, const LogField *fields,
               const char *fmt, ...)
{
        int saved_errno = errno;
        int ret = err == 0 ? 0 : -abs(err);
        if (level > log_max_level) {
                fields_free(n_fields, fields);
                return ret;
        }

        char buf[1024];
        _cleanup_free_ char *heap = NULL;
        const char *msg = buf;
        va_list ap;
        va_start(ap, fmt);
        /* %m in our messages means the err argument, as in systemd. */
        errno = abs(err);
        int len = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (len >= (int)sizeof(buf)) {
                va_start(ap, fmt);
                errno = abs(err);
                if (vasprintf(&heap, fmt, ap) >= 0)
                        msg = heap;
                else
                        heap = NULL; /* keep the cut one rather than nothing */
                va_end(ap);
        }

        if (log_journal.fd < 0 || send_journal(level, err, message_id, n_fields, fields, msg) < 0)
                write_stderr(n_fields, fields, msg);
        fields_free(n_fields, fields);
        errno = saved_errno;
        return ret;
}
